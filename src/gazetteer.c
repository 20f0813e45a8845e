/* gazetteer.c -- see gazetteer.h.
 *
 * Countries, provinces and currencies are read once from Debian's
 * iso-codes JSON with jansson; every name and code is indexed in sp_maps
 * under a folded key (diacritics stripped, then sp_fold), so "Nghe An",
 * "NGHỆ AN" and "nghe-an" all find VN-22. The gazetteer owns every string
 * it hands out (one arena); callers borrow pointers for its lifetime. */
#include "gazetteer.h"
#include "embed.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#define GZ_KEY_MAX 256         /* folded keys longer than this are unknown */
#define GZ_AMBIGUOUS (-1)      /* a name shared by two subdivisions */

typedef struct gz_currency {
    char code[4];
    int numeric;
    const char *name;
} gz_currency;

struct sp_gazetteer {
    gz_country *countries;
    size_t ncountries;
    gz_province *provinces;
    size_t nprovinces;
    gz_currency *currencies;
    size_t ncurrencies;
    int country_by_num[1000];  /* numeric -> index + 1, 0 = none */
    int currency_by_num[1000];
    sp_map cmap;               /* folded code/name/synonym -> country index */
    sp_map pmap;               /* "vn44" (full code) and "vn:nghean" (name) */
    sp_map curmap;             /* folded alpha code or name -> currency */
    sp_arena arena;
};

static const char *const regions[] = { "Africa", "Americas", "Asia", "Europe", "Oceania" };

/* ------------------------------------------------------------ folding */

/* Base letters for U+00C0..U+00FF; '*' = two letters (see fold_special),
 * '_' = dropped (multiplication and division signs). */
static const char latin1[] =
    "aaaaaa*ceeeeiiiidnooooo_ouuuuy**"
    "aaaaaa*ceeeeiiiidnooooo_ouuuuy*y";
/* U+0100..U+017F (Latin Extended-A); '*' = Ĳ ĳ Œ œ. */
static const char latin_ext_a[] =
    "aaaaaaccccccccddddeeeeeeeeeegggggggghhhhiiiiiiiiii**jjkkk"
    "llllllllllnnnnnnnnnoooooo**rrrrrrssssssssttttttuuuuuuuuuuuuwwyyyzzzzzzs";
/* U+1E00..U+1EFF (Latin Extended Additional: Vietnamese and others). */
static const char latin_ext_add[] =
    "aabbbbbbccddddddddddeeeeeeeeeeffgghhhhhhhhhhiiiikkkkkkllllllll"
    "mmmmmmnnnnnnnnooooooooppppr" "rrrrrrrssssssssssttttttttuuuuuuuuuu"
    "vvvvwwwwwwwwwwxxxxyyzzzzzzhtwyasss*d"
    "aaaaaaaaaaaaaaaaaaaaaaaaeeeeeeeeeeeeeeeeiiii"
    "oooooooooooooooooooooooouuuuuuuuuuuuuuyyyyyyyyllvvyy";
_Static_assert(sizeof latin1 == 65, "latin1 table covers U+00C0..U+00FF");
_Static_assert(sizeof latin_ext_a == 129, "table covers U+0100..U+017F");
_Static_assert(sizeof latin_ext_add == 257, "table covers U+1E00..U+1EFF");

static const char *fold_special(unsigned cp)
{
    switch (cp) {
    case 0xC6: case 0xE6: return "ae";
    case 0xDE: case 0xFE: return "th";
    case 0xDF: case 0x1E9E: return "ss";
    case 0x132: case 0x133: return "ij";
    case 0x152: case 0x153: return "oe";
    default: return "";
    }
}

/* ASCII letters for a Latin code point: "" drops it (marks, punctuation,
 * spaces), NULL keeps its bytes as they are (other scripts). */
static const char *fold_cp(unsigned cp, char one[2])
{
    char c = 0;
    if (cp >= 0xC0 && cp <= 0xFF) c = latin1[cp - 0xC0];
    else if (cp >= 0x100 && cp <= 0x17F) c = latin_ext_a[cp - 0x100];
    else if (cp >= 0x1E00 && cp <= 0x1EFF) c = latin_ext_add[cp - 0x1E00];
    else if (cp == 0x1A0 || cp == 0x1A1) c = 'o';            /* Ơ ơ */
    else if (cp == 0x1AF || cp == 0x1B0) c = 'u';            /* Ư ư */
    else if (cp == 0x218 || cp == 0x219) c = 's';            /* Ș ș */
    else if (cp == 0x21A || cp == 0x21B) c = 't';            /* Ț ț */
    else if (cp >= 0x1CD && cp <= 0x1DC)                     /* pinyin tones */
        c = "aaiioouuuuuuuuuu"[cp - 0x1CD];
    else if (cp == 0x259 || cp == 0x18F) c = 'e';            /* ə Ə */
    else if ((cp >= 0x80 && cp <= 0xBF) || (cp >= 0x2B0 && cp <= 0x36F) ||
             (cp >= 0x2000 && cp <= 0x206F) || cp == 0xFEFF || cp == 0x3000)
        return "";             /* NBSP, modifier letters, combining marks,
                                  dashes, curly quotes, BOM */
    else return NULL;
    if (c == '_') return "";
    if (c == '*') return fold_special(cp);
    one[0] = c;
    one[1] = '\0';
    return one;
}

/* Decodes one UTF-8 sequence at s (n bytes left); returns its length and
 * the code point, or 0 when the bytes are not valid UTF-8. */
static size_t utf8_next(const unsigned char *s, size_t n, unsigned *cp)
{
    if (s[0] < 0xC2 || s[0] > 0xF4) return 0;
    size_t len = s[0] < 0xE0 ? 2 : s[0] < 0xF0 ? 3 : 4;
    if (len > n) return 0;
    unsigned v = s[0] & (len == 2 ? 0x1F : len == 3 ? 0x0F : 0x07);
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80) return 0;
        v = (v << 6) | (s[i] & 0x3F);
    }
    if ((len == 3 && v < 0x800) || (len == 4 && (v < 0x10000 || v > 0x10FFFF)))
        return 0;
    *cp = v;
    return len;
}

/* Folds s like sp_fold after replacing Latin letters with diacritics by
 * their ASCII base ("Nghệ An" -> "nghean", "Đà Nẵng" -> "danang").
 * Writes at most outsz-1 bytes; returns the length, or (size_t)-1 if the
 * key does not fit (such a long value is never a known name). */
static size_t gz_fold(const char *s, size_t n, char *out, size_t outsz)
{
    size_t o = 0;
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        unsigned c = u[i];
        const char *rep;
        char one[2];
        size_t used = 1;
        if (c < 0x80) {
            if (c >= 'A' && c <= 'Z') { one[0] = (char)(c + 32); one[1] = 0; rep = one; }
            else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
                one[0] = (char)c; one[1] = 0; rep = one;
            } else rep = "";
        } else {
            unsigned cp = 0;
            used = utf8_next(u + i, n - i, &cp);
            if (!used) { used = 1; rep = NULL; }
            else rep = fold_cp(cp, one);
        }
        if (rep) {
            size_t k = strlen(rep);
            if (o + k + 1 > outsz) return (size_t)-1;
            memcpy(out + o, rep, k);
            o += k;
        } else {
            if (o + used + 1 > outsz) return (size_t)-1;
            memcpy(out + o, s + i, used);
            o += used;
        }
        i += used;
    }
    out[o] = '\0';
    return o;
}

/* ------------------------------------------------------------ synonyms */

/* Names partners actually write that iso-codes does not carry. */
static const struct { const char *name, *a2; } country_synonyms[] = {
    {"Vietnam", "VN"}, {"Viet Nam", "VN"}, {"Socialist Republic of Vietnam", "VN"},
    {"Vietnamese", "VN"},
    {"Laos", "LA"}, {"Lao", "LA"}, {"Lao PDR", "LA"}, {"Lao P.D.R.", "LA"},
    {"Lao People's Democratic Republic", "LA"}, {"Laotian", "LA"},
    {"Burma", "MM"}, {"Myanmar (Burma)", "MM"}, {"Burmese", "MM"},
    {"Republic of the Union of Myanmar", "MM"},
    {"Cambodia", "KH"}, {"Kampuchea", "KH"}, {"Cambodian", "KH"}, {"Khmer", "KH"},
    {"Thai", "TH"}, {"Siam", "TH"},
    {"Filipino", "PH"}, {"The Philippines", "PH"}, {"Philippine", "PH"},
    {"Indonesian", "ID"}, {"Malaysian", "MY"}, {"Singaporean", "SG"},
    {"Brunei", "BN"}, {"East Timor", "TL"}, {"Timorese", "TL"},
    {"Chinese", "CN"}, {"PRC", "CN"}, {"Mainland China", "CN"},
    {"People's Republic of China", "CN"},
    {"Taiwan", "TW"}, {"Taiwanese", "TW"}, {"Republic of China", "TW"},
    {"Hong Kong SAR", "HK"}, {"Macau", "MO"}, {"Macao SAR", "MO"},
    {"South Korea", "KR"}, {"Korea, South", "KR"}, {"Republic of Korea", "KR"},
    {"Korea Republic", "KR"}, {"ROK", "KR"},
    {"North Korea", "KP"}, {"Korea, North", "KP"}, {"DPRK", "KP"},
    {"Japanese", "JP"}, {"Mongolian", "MN"},
    {"Indian", "IN"}, {"Nepali", "NP"}, {"Nepalese", "NP"}, {"Sri Lankan", "LK"},
    {"Bangladeshi", "BD"}, {"Pakistani", "PK"},
    {"Kenyan", "KE"}, {"Ugandan", "UG"}, {"Ethiopian", "ET"}, {"Nigerian", "NG"},
    {"Ghanaian", "GH"}, {"Tanzania", "TZ"}, {"Tanzanian", "TZ"},
    {"Russia", "RU"}, {"Russian", "RU"}, {"Iran", "IR"}, {"Syria", "SY"},
    {"Bolivia", "BO"}, {"Venezuela", "VE"}, {"Moldova", "MD"},
    {"Czech Republic", "CZ"}, {"Czech", "CZ"},
    {"Turkey", "TR"}, {"Türkiye", "TR"}, {"Turkiye", "TR"},
    {"Ivory Coast", "CI"}, {"Côte d'Ivoire", "CI"},
    {"UK", "GB"}, {"U.K.", "GB"}, {"Great Britain", "GB"}, {"Britain", "GB"},
    {"United Kingdom of Great Britain and Northern Ireland", "GB"},
    {"England", "GB"}, {"Scotland", "GB"}, {"Wales", "GB"}, {"British", "GB"},
    {"USA", "US"}, {"U.S.A.", "US"}, {"U.S.", "US"},
    {"United States of America", "US"}, {"America", "US"}, {"American", "US"},
    {"DR Congo", "CD"}, {"DRC", "CD"}, {"D.R. Congo", "CD"},
    {"Democratic Republic of Congo", "CD"}, {"Democratic Republic of the Congo", "CD"},
    {"Congo-Kinshasa", "CD"}, {"Congo, DR", "CD"},
    {"Congo-Brazzaville", "CG"}, {"Republic of Congo", "CG"},
    {"Palestine", "PS"}, {"Vatican", "VA"}, {"Vatican City", "VA"},
    {"Swaziland", "SZ"}, {"Macedonia", "MK"}, {"Cape Verde", "CV"},
    {"Kyrgyz Republic", "KG"}, {"Slovak Republic", "SK"},
    {"UAE", "AE"}, {"U.A.E.", "AE"}, {"Emirates", "AE"},
    {"Holland", "NL"}, {"The Netherlands", "NL"}, {"The Gambia", "GM"},
    {"The Bahamas", "BS"}, {"Micronesia", "FM"}, {"Saint Helena", "SH"},
    {"Falkland Islands", "FK"}, {"Reunion", "RE"}, {"Curacao", "CW"},
};

/* Folded keys that mean "not known": they give NULL, never a country. */
static const char *const unknown_markers[] = {
    "", "zz", "00", "000", "xx", "xxx", "99", "999", "unknown", "notknown",
    "unk", "none", "null", "nan", "unspecified",
};

/* Province names partners write that differ from iso-codes. */
static const struct { const char *name, *code; } province_synonyms[] = {
    {"Vientiane Capital", "LA-VT"}, {"Vientiane Prefecture", "LA-VT"},
    {"Vientiane City", "LA-VT"}, {"Vientiane Municipality", "LA-VT"},
    {"Nakhon Luang Vientiane", "LA-VT"}, {"Viangchan Prefecture", "LA-VT"},
    {"Vientiane Province", "LA-VI"}, {"Viangchan Province", "LA-VI"},
    {"Luang Prabang", "LA-LP"}, {"Luang Namtha", "LA-LM"}, {"Bokeo", "LA-BK"},
    {"Savannakhet", "LA-SV"}, {"Attapeu", "LA-AT"}, {"Oudomxay", "LA-OU"},
    {"Sayabouly", "LA-XA"}, {"Xayabouly", "LA-XA"}, {"Phongsaly", "LA-PH"},
    {"Metro Manila", "PH-00"}, {"NCR", "PH-00"}, {"Manila", "PH-00"},
    {"Hanoi", "VN-HN"}, {"Ho Chi Minh City", "VN-SG"}, {"HCMC", "VN-SG"},
    {"Saigon", "VN-SG"}, {"TP HCM", "VN-SG"}, {"Da Nang", "VN-DN"},
    {"Hai Phong", "VN-HP"}, {"Can Tho", "VN-CT"}, {"Hue", "VN-26"},
    {"Thua Thien Hue", "VN-26"}, {"Dak Lak", "VN-33"}, {"Daklak", "VN-33"},
    {"Ba Ria Vung Tau", "VN-43"},
    {"Bangkok", "TH-10"}, {"Krung Thep", "TH-10"},
    {"Phnom Penh", "KH-12"}, {"Banteay Meanchey", "KH-1"}, {"Battambang", "KH-2"},
    {"Siem Reap", "KH-17"}, {"Sihanoukville", "KH-18"}, {"Koh Kong", "KH-9"},
    {"Kampong Cham", "KH-3"}, {"Kandal", "KH-8"}, {"Prey Veng", "KH-14"},
    {"Svay Rieng", "KH-20"}, {"Takeo", "KH-21"}, {"Pursat", "KH-15"},
    {"Kratie", "KH-10"}, {"Oddar Meanchey", "KH-22"}, {"Kep", "KH-23"},
    {"Rangoon", "MM-06"}, {"Naypyidaw", "MM-18"}, {"Karen", "MM-13"},
    {"Karenni", "MM-12"}, {"Arakan", "MM-16"}, {"Irrawaddy", "MM-07"},
    {"Tenasserim", "MM-05"}, {"Pegu", "MM-02"}, {"Magwe", "MM-03"},
};

/* Words around a province name that iso-codes leaves out ("Shan State",
 * "Tinh Nghe An", "Yunnan Sheng" is kept but "Yunnan" finds it too). */
static const char *const prov_suffixes[] = {
    "province", "state", "region", "prefecture", "municipality", "city",
    "division", "district", "county", "sheng", "shi", "capital",
};
static const char *const prov_prefixes[] = {
    "provinceof", "stateof", "regionof", "tinh", "thanhpho", "changwat", "khet",
};

/* ------------------------------------------------------------ loading */

static json_t *load_json(const char *dir, const char *file, const char *key,
                         sp_err *err)
{
    char path[4096];
    json_error_t je;
    if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, file) >= sizeof path) {
        sp_err_add(err, NULL, 0, NULL, NULL, 0, "iso-codes",
                   "the iso-codes directory path is too long");
        return NULL;
    }
    json_t *root = json_load_file(path, 0, &je);
    if (!root) {
        sp_err_add(err, path, je.line > 0 ? je.line : 0, NULL, NULL, 0, "iso-codes",
                   "cannot read iso-codes file: %s (install the iso-codes package "
                   "or set SPOTLIGHT_ISO_CODES)", je.text);
        return NULL;
    }
    json_t *arr = json_object_get(root, key);
    if (!json_is_array(arr)) {
        sp_err_add(err, path, 0, NULL, NULL, 0, "iso-codes",
                   "iso-codes file has no \"%s\" list", key);
        json_decref(root);
        return NULL;
    }
    json_incref(arr);
    json_decref(root);
    return arr;
}

static const char *jstr(json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s;
}

/* Indexes `name` (folded) under prefix in m: returns nothing; a too long
 * key is skipped (it could never be matched either). */
static void put_key(sp_map *m, const char *prefix, const char *name, int val)
{
    char key[GZ_KEY_MAX + 8];
    size_t pl = strlen(prefix);
    memcpy(key, prefix, pl);
    size_t k = gz_fold(name, strlen(name), key + pl, sizeof key - pl);
    if (k == (size_t)-1 || k == 0) return;
    sp_map_put(m, key, pl + k, val);
}

static int load_countries(sp_gazetteer *g, const char *dir, sp_err *err)
{
    json_t *arr = load_json(dir, "iso_3166-1.json", "3166-1", err);
    if (!arr) return SP_EIO;
    int rc = SP_OK;
    size_t n = json_array_size(arr);
    g->countries = sp_arena_alloc(&g->arena, (n ? n : 1) * sizeof *g->countries);
    for (size_t i = 0; i < n; i++) {
        json_t *o = json_array_get(arr, i);
        const char *a2 = jstr(o, "alpha_2"), *a3 = jstr(o, "alpha_3");
        const char *num = jstr(o, "numeric"), *name = jstr(o, "name");
        long long nv = 0;
        if (!a2 || !a3 || !num || !name || strlen(a2) != 2 || strlen(a3) != 3 ||
            sp_parse_int(num, strlen(num), &nv) || nv < 0 || nv > 999) {
            rc = sp_err_add(err, "iso_3166-1.json", (long)i + 1, NULL, NULL, 0,
                            "iso-codes", "country entry %zu lacks alpha_2, alpha_3, "
                            "numeric or name", i + 1);
            goto done;
        }
        gz_country *c = &g->countries[g->ncountries];
        memset(c, 0, sizeof *c);
        memcpy(c->alpha2, a2, 3);
        memcpy(c->alpha3, a3, 4);
        c->numeric = (int)nv;
        c->name = sp_arena_strdup(&g->arena, name);
        const char *common = jstr(o, "common_name");
        c->common_name = common ? sp_arena_strdup(&g->arena, common) : c->name;
        c->region = "";
        c->subregion = "";
        c->index = (int)g->ncountries;
        g->country_by_num[nv] = c->index + 1;
        g->ncountries++;
    }
    /* names first, then synonyms, then codes: a code always wins */
    for (size_t i = 0; i < g->ncountries; i++) {
        json_t *o = json_array_get(arr, i);
        const char *official = jstr(o, "official_name");
        put_key(&g->cmap, "", g->countries[i].name, (int)i);
        put_key(&g->cmap, "", g->countries[i].common_name, (int)i);
        if (official) put_key(&g->cmap, "", official, (int)i);
    }
    for (size_t i = 0; i < sizeof country_synonyms / sizeof *country_synonyms; i++) {
        int idx = -1;
        for (size_t j = 0; j < g->ncountries; j++)
            if (strcmp(g->countries[j].alpha2, country_synonyms[i].a2) == 0) idx = (int)j;
        if (idx >= 0) put_key(&g->cmap, "", country_synonyms[i].name, idx);
    }
    for (size_t i = 0; i < g->ncountries; i++) {
        put_key(&g->cmap, "", g->countries[i].alpha2, (int)i);
        put_key(&g->cmap, "", g->countries[i].alpha3, (int)i);
    }
done:
    json_decref(arr);
    return rc;
}

/* Indexes a province name within its country; on a clash the top-level
 * subdivision wins over a child of the same name (Bangladesh's division
 * and district "Dhaka"), and two of the same level make the name
 * ambiguous (Laos's province and prefecture "Viangchan"). */
static void put_province_name(sp_gazetteer *g, const char *name, int idx,
                              const int *has_parent)
{
    char key[GZ_KEY_MAX + 8];
    const gz_province *p = &g->provinces[idx];
    key[0] = (char)(p->code[0] | 0x20);
    key[1] = (char)(p->code[1] | 0x20);
    key[2] = ':';
    size_t k = gz_fold(name, strlen(name), key + 3, sizeof key - 3);
    if (k == (size_t)-1 || k == 0) return;
    int old;
    if (sp_map_get(&g->pmap, key, k + 3, &old)) {
        if (old == idx) return;
        if (old == GZ_AMBIGUOUS) return;
        if (has_parent[old] && !has_parent[idx]) { sp_map_put(&g->pmap, key, k + 3, idx); return; }
        if (!has_parent[old] && has_parent[idx]) return;
        sp_map_put(&g->pmap, key, k + 3, GZ_AMBIGUOUS);
        return;
    }
    sp_map_put(&g->pmap, key, k + 3, idx);
}

static int load_provinces(sp_gazetteer *g, const char *dir, sp_err *err)
{
    json_t *arr = load_json(dir, "iso_3166-2.json", "3166-2", err);
    if (!arr) return SP_EIO;
    int rc = SP_OK;
    size_t n = json_array_size(arr);
    int *has_parent = sp_xcalloc(n ? n : 1, sizeof *has_parent);
    g->provinces = sp_arena_alloc(&g->arena, (n ? n : 1) * sizeof *g->provinces);
    for (size_t i = 0; i < n; i++) {
        json_t *o = json_array_get(arr, i);
        const char *code = jstr(o, "code"), *name = jstr(o, "name"), *type = jstr(o, "type");
        size_t cl = code ? strlen(code) : 0;
        if (!code || !name || cl < 4 || cl >= sizeof g->provinces[0].code || code[2] != '-') {
            rc = sp_err_add(err, "iso_3166-2.json", (long)i + 1, NULL, NULL, 0,
                            "iso-codes", "subdivision entry %zu lacks a code or name", i + 1);
            goto done;
        }
        char a2[3] = { code[0], code[1], 0 };
        const gz_country *c = gazetteer_alpha2(g, a2);
        if (!c) continue;      /* subdivision of a country iso-codes dropped */
        gz_province *p = &g->provinces[g->nprovinces];
        memcpy(p->code, code, cl + 1);
        p->name = sp_arena_strdup(&g->arena, name);
        p->type = sp_arena_strdup(&g->arena, type ? type : "");
        p->country = c;
        p->index = (int)g->nprovinces;
        has_parent[g->nprovinces] = json_object_get(o, "parent") != NULL;
        put_key(&g->pmap, "", code, p->index);
        g->nprovinces++;
    }
    for (size_t i = 0; i < g->nprovinces; i++) {
        const char *name = g->provinces[i].name;
        put_province_name(g, name, (int)i, has_parent);
        /* "Illes Balears [Islas Baleares]", "Guyane (française)": also
         * the part before the bracket and the part inside it */
        const char *br = strpbrk(name, "[(");
        if (br && br > name) {
            char tmp[GZ_KEY_MAX];
            size_t bl = (size_t)(br - name);
            if (bl < sizeof tmp) {
                memcpy(tmp, name, bl);
                tmp[bl] = '\0';
                put_province_name(g, tmp, (int)i, has_parent);
                const char *end = strpbrk(br + 1, "])");
                size_t il = end ? (size_t)(end - br - 1) : strlen(br + 1);
                if (il < sizeof tmp && br[0] == '[') {
                    memcpy(tmp, br + 1, il);
                    tmp[il] = '\0';
                    put_province_name(g, tmp, (int)i, has_parent);
                }
            }
        }
    }
    /* "Yunnan Sheng" is found as "Yunnan" too, unless a real name says
     * otherwise (second pass: real names first) */
    for (size_t i = 0; i < g->nprovinces; i++) {
        char key[GZ_KEY_MAX + 8];
        const gz_province *p = &g->provinces[i];
        key[0] = (char)(p->code[0] | 0x20);
        key[1] = (char)(p->code[1] | 0x20);
        key[2] = ':';
        size_t k = gz_fold(p->name, strlen(p->name), key + 3, sizeof key - 3);
        if (k == (size_t)-1) continue;
        for (size_t j = 0; j < sizeof prov_suffixes / sizeof *prov_suffixes; j++) {
            size_t sl = strlen(prov_suffixes[j]);
            int old;
            if (k > sl + 2 && memcmp(key + 3 + k - sl, prov_suffixes[j], sl) == 0 &&
                !sp_map_get(&g->pmap, key, k - sl + 3, &old))
                sp_map_put(&g->pmap, key, k - sl + 3, (int)i);
        }
    }
    for (size_t i = 0; i < sizeof province_synonyms / sizeof *province_synonyms; i++) {
        const gz_province *p = gazetteer_province(g, NULL, province_synonyms[i].code,
                                                  strlen(province_synonyms[i].code));
        if (!p) continue;      /* an older iso-codes without this code */
        char key[GZ_KEY_MAX + 8];
        key[0] = (char)(p->code[0] | 0x20);
        key[1] = (char)(p->code[1] | 0x20);
        key[2] = ':';
        size_t k = gz_fold(province_synonyms[i].name, strlen(province_synonyms[i].name),
                           key + 3, sizeof key - 3);
        if (k != (size_t)-1 && k) sp_map_put(&g->pmap, key, k + 3, p->index);
    }
done:
    free(has_parent);
    json_decref(arr);
    return rc;
}

static int load_currencies(sp_gazetteer *g, const char *dir, sp_err *err)
{
    json_t *arr = load_json(dir, "iso_4217.json", "4217", err);
    if (!arr) return SP_EIO;
    size_t n = json_array_size(arr);
    g->currencies = sp_arena_alloc(&g->arena, (n ? n : 1) * sizeof *g->currencies);
    for (size_t i = 0; i < n; i++) {
        json_t *o = json_array_get(arr, i);
        const char *a3 = jstr(o, "alpha_3"), *num = jstr(o, "numeric"), *name = jstr(o, "name");
        long long nv = -1;
        if (!a3 || strlen(a3) != 3) continue;
        if (num && (sp_parse_int(num, strlen(num), &nv) || nv < 0 || nv > 999)) nv = -1;
        gz_currency *c = &g->currencies[g->ncurrencies];
        memcpy(c->code, a3, 4);
        c->numeric = (int)nv;
        c->name = sp_arena_strdup(&g->arena, name ? name : a3);
        if (nv >= 0) g->currency_by_num[nv] = (int)g->ncurrencies + 1;
        g->ncurrencies++;
    }
    for (size_t i = 0; i < g->ncurrencies; i++)
        put_key(&g->curmap, "", g->currencies[i].name, (int)i);
    /* stablecoins pegged to the US dollar are recorded as USD; RMB is
     * the everyday name of the yuan */
    static const struct { const char *s, *code; } cur_syn[] = {
        {"USDT", "USD"}, {"USDC", "USD"}, {"Tether", "USD"}, {"US$", "USD"},
        {"RMB", "CNY"}, {"Yuan", "CNY"}, {"Renminbi", "CNY"},
    };
    for (size_t j = 0; j < sizeof cur_syn / sizeof *cur_syn; j++)
        for (size_t i = 0; i < g->ncurrencies; i++)
            if (strcmp(g->currencies[i].code, cur_syn[j].code) == 0)
                put_key(&g->curmap, "", cur_syn[j].s, (int)i);
    for (size_t i = 0; i < g->ncurrencies; i++)
        put_key(&g->curmap, "", g->currencies[i].code, (int)i);
    json_decref(arr);
    return SP_OK;
}

/* Reads codebook/m49.tsv (embedded): alpha2 TAB region TAB subregion,
 * '#' lines are comments. */
static int load_regions(sp_gazetteer *g, sp_err *err)
{
    size_t len = 0;
    const char *p = embed_get("codebook/m49.tsv", &len);
    if (!p)
        return sp_err_add(err, "codebook/m49.tsv", 0, NULL, NULL, 0, "m49",
                          "the M49 region table is not embedded in this build");
    const char *end = p + len;
    long line = 0;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        line++;
        if (le > p && *p != '#') {
            const char *t1 = memchr(p, '\t', (size_t)(le - p));
            const char *t2 = t1 ? memchr(t1 + 1, '\t', (size_t)(le - t1 - 1)) : NULL;
            if (!t1 || !t2 || t1 - p != 2)
                return sp_err_add(err, "codebook/m49.tsv", line, NULL, p,
                                  (size_t)(le - p), "m49",
                                  "expected alpha2<TAB>region<TAB>subregion");
            char a2[3] = { p[0], p[1], 0 };
            gz_country *c = (gz_country *)gazetteer_alpha2(g, a2);
            const char *region = NULL;
            size_t rl = (size_t)(t2 - t1 - 1);
            for (size_t i = 0; i < sizeof regions / sizeof *regions; i++)
                if (strlen(regions[i]) == rl && memcmp(regions[i], t1 + 1, rl) == 0)
                    region = regions[i];
            if (rl && !region)
                return sp_err_add(err, "codebook/m49.tsv", line, NULL, t1 + 1, rl,
                                  "m49", "not an M49 region");
            if (c) {
                c->region = region ? region : "";
                size_t sl = (size_t)(le - t2 - 1);
                if (sl && t2[sl] == '\r') sl--;
                c->subregion = sp_arena_strndup(&g->arena, t2 + 1, sl);
            }
        }
        p = nl ? nl + 1 : end;
    }
    return SP_OK;
}

int gazetteer_load(sp_gazetteer **out, const char *dir, sp_err *err)
{
    *out = NULL;
    if (!dir) {
        const char *env = getenv("SPOTLIGHT_ISO_CODES");
        dir = env && *env ? env : "/usr/share/iso-codes/json";
    }
    sp_gazetteer *g = sp_xcalloc(1, sizeof *g);
    sp_arena_init(&g->arena);
    sp_map_init(&g->cmap);
    sp_map_init(&g->pmap);
    sp_map_init(&g->curmap);
    int rc = load_countries(g, dir, err);
    if (rc == SP_OK) rc = load_provinces(g, dir, err);
    if (rc == SP_OK) rc = load_currencies(g, dir, err);
    if (rc == SP_OK) rc = load_regions(g, err);
    if (rc != SP_OK) {
        gazetteer_free(g);
        return rc;
    }
    *out = g;
    return SP_OK;
}

void gazetteer_free(sp_gazetteer *g)
{
    if (!g) return;
    sp_map_free(&g->cmap);
    sp_map_free(&g->pmap);
    sp_map_free(&g->curmap);
    sp_arena_free(&g->arena);
    free(g);
}

/* ------------------------------------------------------------ look-ups */

size_t gazetteer_ncountries(const sp_gazetteer *g) { return g->ncountries; }
size_t gazetteer_nprovinces(const sp_gazetteer *g) { return g->nprovinces; }

const gz_country *gazetteer_country_at(const sp_gazetteer *g, size_t i)
{
    return i < g->ncountries ? &g->countries[i] : NULL;
}

const gz_province *gazetteer_province_at(const sp_gazetteer *g, size_t i)
{
    return i < g->nprovinces ? &g->provinces[i] : NULL;
}

/* Is the whole (trimmed) value a number? Then it is an M49/ISO numeric
 * code: "704", "704.0", "4". */
static int as_numeric(const char *s, size_t n, long long *v)
{
    size_t t = sp_trim(&s, n);
    if (!t || !(s[0] >= '0' && s[0] <= '9')) return 0;
    return sp_parse_int(s, t, v) == 0;
}

int gazetteer_unknown_marker(const char *s, size_t n)
{
    char key[GZ_KEY_MAX];
    if (!s) return 1;
    if (n > GZ_KEY_MAX) return 0;
    size_t k = gz_fold(s, n, key, sizeof key);
    if (k == (size_t)-1) return 0;
    for (size_t i = 0; i < sizeof unknown_markers / sizeof *unknown_markers; i++)
        if (strcmp(key, unknown_markers[i]) == 0) return 1;
    return 0;
}

const gz_country *gazetteer_country(const sp_gazetteer *g, const char *s, size_t n)
{
    char key[GZ_KEY_MAX];
    long long v;
    if (!g || !s || n > GZ_KEY_MAX) return NULL;
    size_t k = gz_fold(s, n, key, sizeof key);
    if (k == (size_t)-1) return NULL;
    for (size_t i = 0; i < sizeof unknown_markers / sizeof *unknown_markers; i++)
        if (strcmp(key, unknown_markers[i]) == 0) return NULL;
    if (as_numeric(s, n, &v))
        return v > 0 && v < 1000 && g->country_by_num[v]
               ? &g->countries[g->country_by_num[v] - 1] : NULL;
    int idx;
    if (sp_map_get(&g->cmap, key, k, &idx)) return &g->countries[idx];
    /* "Republic of the Philippines" is official; "the Gambia" is not */
    if (k > 3 && memcmp(key, "the", 3) == 0 && sp_map_get(&g->cmap, key + 3, k - 3, &idx))
        return &g->countries[idx];
    return NULL;
}

const gz_country *gazetteer_alpha2(const sp_gazetteer *g, const char *a2)
{
    if (!g || !a2 || !a2[0] || !a2[1] || a2[2]) return NULL;
    char key[2] = { (char)(a2[0] | 0x20), (char)(a2[1] | 0x20) };
    int idx;
    if (!sp_map_get(&g->cmap, key, 2, &idx)) return NULL;
    const gz_country *c = &g->countries[idx];
    return (c->alpha2[0] == (a2[0] & ~0x20) && c->alpha2[1] == (a2[1] & ~0x20)) ? c : NULL;
}

/* Looks up "xx:" + name, or with a known surrounding word removed. */
static const gz_province *province_by_name(const sp_gazetteer *g, const gz_country *c,
                                           const char *key, size_t k)
{
    char buf[GZ_KEY_MAX + 8];
    int idx;
    buf[0] = (char)(c->alpha2[0] | 0x20);
    buf[1] = (char)(c->alpha2[1] | 0x20);
    buf[2] = ':';
    memcpy(buf + 3, key, k);
    if (sp_map_get(&g->pmap, buf, k + 3, &idx))
        return idx >= 0 ? &g->provinces[idx] : NULL;
    for (size_t i = 0; i < sizeof prov_suffixes / sizeof *prov_suffixes; i++) {
        size_t sl = strlen(prov_suffixes[i]);
        if (k > sl && memcmp(key + k - sl, prov_suffixes[i], sl) == 0 &&
            sp_map_get(&g->pmap, buf, k - sl + 3, &idx))
            return idx >= 0 ? &g->provinces[idx] : NULL;
    }
    for (size_t i = 0; i < sizeof prov_prefixes / sizeof *prov_prefixes; i++) {
        size_t pl = strlen(prov_prefixes[i]);
        if (k > pl && memcmp(key, prov_prefixes[i], pl) == 0) {
            memcpy(buf + 3, key + pl, k - pl);
            if (sp_map_get(&g->pmap, buf, k - pl + 3, &idx))
                return idx >= 0 ? &g->provinces[idx] : NULL;
            memcpy(buf + 3, key, k);
        }
    }
    return NULL;
}

const gz_province *gazetteer_province(const sp_gazetteer *g, const gz_country *c,
                                      const char *s, size_t n)
{
    char key[GZ_KEY_MAX];
    int idx;
    if (!g || !s || n > GZ_KEY_MAX) return NULL;
    size_t k = gz_fold(s, n, key, sizeof key);
    if (k == (size_t)-1 || k == 0) return NULL;
    if (c) {
        /* the part after the dash: "44" for VN-44 */
        char buf[GZ_KEY_MAX + 2];
        buf[0] = (char)(c->alpha2[0] | 0x20);
        buf[1] = (char)(c->alpha2[1] | 0x20);
        if (k + 2 < sizeof buf) {
            memcpy(buf + 2, key, k);
            if (sp_map_get(&g->pmap, buf, k + 2, &idx) && idx >= 0 &&
                g->provinces[idx].country == c)
                return &g->provinces[idx];
        }
        const gz_province *p = province_by_name(g, c, key, k);
        if (p) return p;
    }
    /* a full code: "VN-44" (possibly of another country: the caller
     * checks that it belongs where it should) */
    const char *dash = memchr(s, '-', n);
    if (dash && sp_map_get(&g->pmap, key, k, &idx) && idx >= 0)
        return &g->provinces[idx];
    return NULL;
}

/* ------------------------------------------------------------ currencies */

const char *gazetteer_currency(const sp_gazetteer *g, const char *s, size_t n)
{
    char key[GZ_KEY_MAX];
    long long v;
    int idx;
    if (!g || !s || n > GZ_KEY_MAX) return NULL;
    size_t k = gz_fold(s, n, key, sizeof key);
    if (k == (size_t)-1 || k == 0) return NULL;
    if (as_numeric(s, n, &v))
        return v > 0 && v < 1000 && g->currency_by_num[v]
               ? g->currencies[g->currency_by_num[v] - 1].code : NULL;
    if (sp_map_get(&g->curmap, key, k, &idx)) return g->currencies[idx].code;
    return NULL;
}

size_t gazetteer_ncurrencies(const sp_gazetteer *g) { return g ? g->ncurrencies : 0; }

int gazetteer_currency_at(const sp_gazetteer *g, size_t i, const char **code, const char **name)
{
    if (!g || i >= g->ncurrencies) return SP_EOF;
    *code = g->currencies[i].code;
    *name = g->currencies[i].name;
    return SP_OK;
}

/* ------------------------------------------------------------ regions */

size_t gazetteer_nregions(void) { return sizeof regions / sizeof *regions; }

const char *gazetteer_region_at(size_t i)
{
    return i < gazetteer_nregions() ? regions[i] : NULL;
}

const char *gazetteer_region(const char *s)
{
    char a[64], b[64];
    if (!s) return NULL;
    size_t n = strlen(s);
    if (n >= sizeof a) return NULL;
    size_t k = sp_fold(s, n, a, sizeof a);
    if (!k) return NULL;
    for (size_t i = 0; i < gazetteer_nregions(); i++) {
        sp_fold(regions[i], strlen(regions[i]), b, sizeof b);
        if (strcmp(a, b) == 0) return regions[i];
    }
    return NULL;
}
