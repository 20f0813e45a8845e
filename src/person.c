/* person.c -- a person's name, birth date, sex and nationality turned into
 * a CLK encoding and a block key at the partner. See person.h and
 * docs/linkage.md ("Person encoding", "Accuracy").
 *
 * Every clear value is copied only into stack buffers that are wiped
 * before return (and the library's heap copies are wiped before free). */
#include "person.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unicase.h>
#include <unictype.h>
#include <uninorm.h>
#include <unistr.h>

/* The parameters chosen by the accuracy study (docs/linkage.md). */
const person_params person_default = {
    .k_given = 0, .k_family = 0, .k_name = 20,
    .k_date = 30, .k_daymonth = 30, .k_sex = 2, .k_nat = 2,
    .salt_yob = 1, .block = PERSON_BLOCK_YOB,
};

#define SMALL_CAP 64            /* sex and nationality, bytes */
#define MAX_WORDS (PERSON_MAX_FIELD + 1) /* words of given + family, at most */

static void wipe_free(uint8_t *p, size_t n)
{
    if (!p) return;
    sodium_memzero(p, n);
    free(p);
}

/* Letters that NFKD does not take apart but that people write without
 * their stroke: Vietnamese đ first of all. Returns the ASCII replacement
 * or NULL. */
static const char *stroke_letter(ucs4_t uc)
{
    switch (uc) {
    case 0x0110: case 0x0111: return "d";     /* Đ đ */
    case 0x0141: case 0x0142: return "l";     /* Ł ł */
    case 0x00D8: case 0x00F8: return "o";     /* Ø ø */
    case 0x0126: case 0x0127: return "h";     /* Ħ ħ */
    case 0x0131: return "i";                  /* dotless ı */
    case 0x00C6: case 0x00E6: return "ae";    /* Æ æ */
    case 0x0152: case 0x0153: return "oe";    /* Œ œ */
    case 0x00DE: case 0x00FE: return "th";    /* Þ þ */
    case 0x00D0: case 0x00F0: return "d";     /* Ð ð */
    default: return NULL;
    }
}

/* Marks are diacritics in alphabets (dropped) but vowels and tones in the
 * abugidas of the region (kept): decided by the script of the letter the
 * mark sits on. */
static int marks_are_diacritics(ucs4_t base)
{
    const uc_script_t *sc = uc_script(base);
    if (!sc || !sc->name) return 1;
    return strcmp(sc->name, "Latin") == 0 || strcmp(sc->name, "Greek") == 0 ||
           strcmp(sc->name, "Cyrillic") == 0 || strcmp(sc->name, "Common") == 0 ||
           strcmp(sc->name, "Inherited") == 0;
}

int person_norm_name(const char *s, const char *column, char out[PERSON_NORM_CAP],
                     sp_err *err)
{
    int rc = SP_OK;
    uint8_t *nfkd = NULL, *mid = NULL, *fold = NULL;
    size_t nl = 0, ml = 0, fl = 0;
    size_t n = s ? strnlen(s, PERSON_MAX_FIELD + 1) : 0;
    out[0] = '\0';
    if (n > PERSON_MAX_FIELD) {
        sp_err_add(err, NULL, 0, column, NULL, 0, "person-too-long",
                   "the name is longer than %d bytes", PERSON_MAX_FIELD);
        rc = SP_ELIMIT;
        goto done;
    }
    if (n == 0) goto done;
    if (u8_check((const uint8_t *)s, n)) {
        rc = sp_err_add(err, NULL, 0, column, NULL, 0, "person-utf8",
                        "the name is not valid UTF-8");
        goto done;
    }
    nfkd = u8_normalize(UNINORM_NFKD, (const uint8_t *)s, n, NULL, &nl);
    if (!nfkd) {
        rc = sp_err_add(err, NULL, 0, column, NULL, 0, "person-unicode",
                        "the name could not be normalised");
        goto done;
    }
    /* every replacement is no longer than what it replaces (đ: 2 bytes ->
     * 1, æ: 2 -> 2), a space replaces at least one byte */
    mid = sp_xmalloc(nl + 1);
    int keep_marks = 0, pending = 0;
    for (size_t i = 0; i < nl;) {
        ucs4_t uc;
        int l = u8_mbtouc(&uc, nfkd + i, nl - i);
        if (l <= 0) l = 1;
        const char *rep;
        if (uc_is_general_category(uc, UC_CATEGORY_M)) {
            if (keep_marks) { memcpy(mid + ml, nfkd + i, (size_t)l); ml += (size_t)l; }
        } else if ((rep = stroke_letter(uc)) != NULL) {
            if (pending) mid[ml++] = ' ';
            pending = 0;
            size_t rl = strlen(rep);
            memcpy(mid + ml, rep, rl);
            ml += rl;
            keep_marks = 0;
        } else if (uc_is_general_category(uc, UC_CATEGORY_L) ||
                   uc_is_general_category(uc, UC_CATEGORY_N)) {
            if (pending) mid[ml++] = ' ';
            pending = 0;
            memcpy(mid + ml, nfkd + i, (size_t)l);
            ml += (size_t)l;
            keep_marks = !marks_are_diacritics(uc);
        } else {
            pending = ml > 0;   /* separators: one space between words */
            keep_marks = 0;
        }
        i += (size_t)l;
    }
    if (ml == 0) goto done;
    fold = u8_casefold(mid, ml, NULL, UNINORM_NFKC, NULL, &fl);
    if (!fold) {
        rc = sp_err_add(err, NULL, 0, column, NULL, 0, "person-unicode",
                        "the name could not be case-folded");
        goto done;
    }
    if (fl > PPRL_MAX_VALUE) {
        sp_err_add(err, NULL, 0, column, NULL, 0, "person-too-long",
                   "the name is longer than %d bytes once normalised",
                   PPRL_MAX_VALUE);
        rc = SP_ELIMIT;
        goto done;
    }
    memcpy(out, fold, fl);
    out[fl] = '\0';
done:
    wipe_free(nfkd, nl);
    wipe_free(mid, ml);
    wipe_free(fold, fl);
    return rc;
}

static int days_in(int y, int m)
{
    static const int dm[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0)) return 29;
    return dm[m - 1];
}

/* Reads mind..maxd digits at *p; returns the value or -1. */
static int digits(const char **p, const char *end, int mind, int maxd)
{
    int v = 0, nd = 0;
    while (*p < end && **p >= '0' && **p <= '9' && nd < maxd) {
        v = v * 10 + (**p - '0');
        (*p)++;
        nd++;
    }
    return nd >= mind ? v : -1;
}

int person_parse_date(const char *s, int *y, int *m, int *d, sp_err *err)
{
    *y = *m = *d = 0;
    size_t n = s ? strnlen(s, 64) : 0;
    const char *t = s;
    n = n ? sp_trim(&t, n) : 0;
    if (n == 0) return SP_OK;
    const char *p = t, *end = t + n;
    int yy = digits(&p, end, 4, 4), mm = 0, dd = 0;
    if (yy >= 0 && p < end) {
        if (*p++ != '-' || (mm = digits(&p, end, 1, 2)) < 0) yy = -1;
        else if (p < end && (*p++ != '-' || (dd = digits(&p, end, 1, 2)) < 0)) yy = -1;
    }
    if (yy < 0 || p != end)
        return sp_err_add(err, NULL, 0, "birth_date", NULL, 0, "person-date",
                          "not a date: write yyyy-mm-dd, yyyy-mm or yyyy");
    if (yy < 1900 || yy > 2099)
        return sp_err_add(err, NULL, 0, "birth_date", NULL, 0, "person-date",
                          "the year %d is outside 1900-2099", yy);
    if (p - t > 4 && (mm < 1 || mm > 12))
        return sp_err_add(err, NULL, 0, "birth_date", NULL, 0, "person-date",
                          "there is no month %d", mm);
    if (p - t > 7 && (dd < 1 || dd > days_in(yy, mm)))
        return sp_err_add(err, NULL, 0, "birth_date", NULL, 0, "person-date",
                          "%04d-%02d has no day %d", yy, mm, dd);
    *y = yy;
    *m = mm;
    *d = dd;
    return SP_OK;
}

/* Sex to one short code: "f", "m", "" (unknown) or the folded text. */
static int norm_sex(const char *s, char out[SMALL_CAP + 1], sp_err *err)
{
    size_t n = s ? strnlen(s, SMALL_CAP + 1) : 0;
    out[0] = '\0';
    if (n > SMALL_CAP) {
        sp_err_add(err, NULL, 0, "sex", NULL, 0, "person-too-long",
                   "longer than %d bytes", SMALL_CAP);
        return SP_ELIMIT;
    }
    if (n && !sp_utf8_valid(s, n))
        return sp_err_add(err, NULL, 0, "sex", NULL, 0, "person-utf8",
                          "not valid UTF-8");
    sp_fold(s, n, out, SMALL_CAP + 1);
    static const char *const fem[] = {"f", "female", "w", "woman", "girl", "feminine"};
    static const char *const mal[] = {"m", "male", "man", "boy", "masculine"};
    static const char *const unk[] = {"u", "unknown", "notknown", "na", "missing"};
    for (size_t i = 0; i < sizeof fem / sizeof *fem; i++)
        if (strcmp(out, fem[i]) == 0) { strcpy(out, "f"); return SP_OK; }
    for (size_t i = 0; i < sizeof mal / sizeof *mal; i++)
        if (strcmp(out, mal[i]) == 0) { strcpy(out, "m"); return SP_OK; }
    for (size_t i = 0; i < sizeof unk / sizeof *unk; i++)
        if (strcmp(out, unk[i]) == 0) { out[0] = '\0'; return SP_OK; }
    return SP_OK;
}

static int norm_nat(const char *s, char out[SMALL_CAP + 1], sp_err *err)
{
    size_t n = s ? strnlen(s, SMALL_CAP + 1) : 0;
    out[0] = '\0';
    if (n > SMALL_CAP) {
        sp_err_add(err, NULL, 0, "nationality", NULL, 0, "person-too-long",
                   "longer than %d bytes", SMALL_CAP);
        return SP_ELIMIT;
    }
    if (n && !sp_utf8_valid(s, n))
        return sp_err_add(err, NULL, 0, "nationality", NULL, 0, "person-utf8",
                          "not valid UTF-8");
    sp_fold(s, n, out, SMALL_CAP + 1);
    return SP_OK;
}

/* The block key: a keyed hash of coarse attributes reduced to 16 bits, so
 * the hub sees which records share a block but not the year or sex, and a
 * block is a crowd (with 16 bits, two attribute values may share a block:
 * harmless, a few more comparisons). The top byte names the scheme. */
static uint64_t block_key(const uint8_t key[32], person_block_mode mode, int y,
                          const char *sex, const char *family, const char *given)
{
    if (mode == PERSON_BLOCK_FAMILY) {
        const char *nm = family[0] ? family : given;
        return pprl_block_key(key, PPRL_BLOCK_BIGRAM, 0, NULL, nm);
    }
    /* "spotlight/person-block/v1" NUL mode NUL year NUL sex */
    static const char dom[] = "spotlight/person-block/v1";
    char in[sizeof dom + 16 + SMALL_CAP];
    size_t l = sizeof dom;    /* with its NUL */
    memcpy(in, dom, sizeof dom);
    l += (size_t)snprintf(in + l, sizeof in - l, "%d", (int)mode) + 1;
    l += (size_t)snprintf(in + l, sizeof in - l, "%d", y) + 1;
    if (mode == PERSON_BLOCK_YOB_SEX) {
        size_t sl = strlen(sex);
        memcpy(in + l, sex, sl);
        l += sl;
    }
    uint8_t d[8];
    crypto_generichash(d, sizeof d, (const unsigned char *)in, l, key, 32);
    uint64_t b = (uint64_t)(3 + (int)mode) << 56 | (uint64_t)d[0] | (uint64_t)d[1] << 8;
    sodium_memzero(in, sizeof in);
    sodium_memzero(d, sizeof d);
    return b;
}

/* Splits a normalised name (words separated by one space) in place into
 * fields named "name", one per word. */
static size_t add_words(char *s, unsigned k, pprl_field *f, size_t nf, size_t cap)
{
    char *p = s;
    while (*p && nf < cap) {
        char *e = strchr(p, ' ');
        if (e) *e = '\0';
        f[nf++] = (pprl_field){"name", p, k, PPRL_TOK_NAME};
        if (!e) break;
        p = e + 1;
    }
    return nf;
}

int person_encode_with(const person_params *p, const uint8_t key[32],
                       const person_in *in, uint64_t clk[PPRL_WORDS],
                       uint16_t *pc, uint64_t *block, sp_err *err)
{
    int rc = SP_OK;
    char given[PERSON_NORM_CAP], family[PERSON_NORM_CAP];
    char wg[PERSON_NORM_CAP], wf[PERSON_NORM_CAP];
    char sex[SMALL_CAP + 1], nat[SMALL_CAP + 1];
    char salt[8] = "", mtok[8], dtok[8], ytok[8], pair[8];
    pprl_field f[2 * MAX_WORDS + 8];
    size_t nf = 0;
    int y = 0, m = 0, d = 0;
    memset(clk, 0, PPRL_WORDS * sizeof *clk);
    *pc = 0;
    *block = 0;
    given[0] = family[0] = '\0';
    if (!p || !key || !in) {
        sp_err_add(err, NULL, 0, NULL, NULL, 0, "person-usage",
                   "person_encode needs parameters, a key and a person");
        rc = SP_EUSAGE;
        goto done;
    }
    if (sodium_init() < 0) {
        rc = sp_err_add(err, NULL, 0, NULL, NULL, 0, "person-sodium",
                        "libsodium could not be initialised");
        goto done;
    }
    /* every field is checked, so one pass reports every bad column */
    int r1 = person_norm_name(in->given, "given_name", given, err);
    int r2 = person_norm_name(in->family, "family_name", family, err);
    int r3 = person_parse_date(in->birth_date, &y, &m, &d, err);
    int r4 = norm_sex(in->sex, sex, err);
    int r5 = norm_nat(in->nationality, nat, err);
    int rs[] = {r1, r2, r3, r4, r5};
    for (size_t i = 0; i < 5; i++)
        if (rs[i] != SP_OK && (rc == SP_OK || rs[i] == SP_ELIMIT)) rc = rs[i];
    if (rc != SP_OK) goto done;
    /* without a name, sex, date and nationality alone would link strangers */
    if (!given[0] && !family[0]) goto done;

    if (p->salt_yob && y) snprintf(salt, sizeof salt, "%d", y);
    if (p->k_given && given[0]) f[nf++] = (pprl_field){"given", given, p->k_given, PPRL_TOK_NAME};
    if (p->k_family && family[0]) f[nf++] = (pprl_field){"family", family, p->k_family, PPRL_TOK_NAME};
    if (p->k_name) {
        memcpy(wg, given, sizeof wg);
        memcpy(wf, family, sizeof wf);
        nf = add_words(wg, p->k_name, f, nf, MAX_WORDS + 2);
        nf = add_words(wf, p->k_name, f, nf, 2 * MAX_WORDS + 2);
    }
    if (p->k_date && y && !p->salt_yob) {
        snprintf(ytok, sizeof ytok, "y%04d", y);
        f[nf++] = (pprl_field){"dob", ytok, p->k_date, PPRL_TOK_WHOLE};
    }
    if (p->k_date && m) {
        snprintf(mtok, sizeof mtok, "m%02d", m);
        f[nf++] = (pprl_field){"dob", mtok, p->k_date, PPRL_TOK_WHOLE};
    }
    if (p->k_date && d) {
        snprintf(dtok, sizeof dtok, "d%02d", d);
        f[nf++] = (pprl_field){"dob", dtok, p->k_date, PPRL_TOK_WHOLE};
    }
    if (p->k_daymonth && m && d) {
        snprintf(pair, sizeof pair, "%02d%02d", m < d ? m : d, m < d ? d : m);
        f[nf++] = (pprl_field){"daymonth", pair, p->k_daymonth, PPRL_TOK_WHOLE};
    }
    if (p->k_sex && sex[0]) f[nf++] = (pprl_field){"sex", sex, p->k_sex, PPRL_TOK_WHOLE};
    if (p->k_nat && nat[0]) f[nf++] = (pprl_field){"nationality", nat, p->k_nat, PPRL_TOK_WHOLE};
    rc = pprl_encode(key, f, nf, salt, clk, pc, err);
    if (rc != SP_OK) goto done;
    *block = block_key(key, p->block, y, sex, family, given);
done:
    if (rc != SP_OK) {
        memset(clk, 0, PPRL_WORDS * sizeof *clk);
        *pc = 0;
        *block = 0;
    }
    sodium_memzero(given, sizeof given);
    sodium_memzero(family, sizeof family);
    sodium_memzero(wg, sizeof wg);
    sodium_memzero(wf, sizeof wf);
    sodium_memzero(sex, sizeof sex);
    sodium_memzero(nat, sizeof nat);
    sodium_memzero(salt, sizeof salt);
    return rc;
}

int person_encode(const uint8_t key[32], const person_in *in,
                  uint64_t clk[PPRL_WORDS], uint16_t *pc, uint64_t *block,
                  sp_err *err)
{
    return person_encode_with(&person_default, key, in, clk, pc, block, err);
}
