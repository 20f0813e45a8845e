/* encode.c -- see encode.h.
 *
 * spotlight encode works on the cells as they are: every column it does
 * not know is copied as it came, indicator values are replaced in place by
 * their match keys, and the clear identifying columns are dropped and
 * replaced by three columns at the end. The output is built in memory and
 * written only when every row encoded, so a partner never sends half a
 * file (or a file with a clear name left in it). */
#include "encode.h"
#include "audit.h"
#include "ident.h"
#include "kobo.h"
#include "layout.h"
#include "mapping.h"
#include "person.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define ENCODE_MAX_BYTES ((size_t)4 << 30)   /* as import: 4 GiB per file */
#define ENCODE_MAX_OUT ((size_t)8 << 30)
#define DOMAIN "spotlight/indicator/v1"

static int hexval(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* ------------------------------------------------------------ the key */

int encode_key_new(const char *path, sp_err *err)
{
    uint8_t key[ENCODE_KEY_BYTES];
    char line[ENCODE_KEY_BYTES * 2 + 2];
    int rc = SP_OK, fd = -1;
    if (sodium_init() < 0)
        return sp_err_add(err, path, 0, NULL, NULL, 0, "sodium", "libsodium cannot start");
    /* O_EXCL: an existing key is never overwritten (records hashed with it
     * would stop matching) */
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0600);
    if (fd < 0) {
        if (errno == EEXIST) {
            sp_err_add(err, path, 0, NULL, NULL, 0, "key-file",
                       "the file exists; a key is never overwritten (choose another name)");
            return SP_EEXIST;
        }
        sp_err_add(err, path, 0, NULL, NULL, 0, "key-file", "cannot create the key file: %s",
                   strerror(errno));
        return SP_EIO;
    }
    randombytes_buf(key, sizeof key);
    sodium_bin2hex(line, sizeof line, key, sizeof key);
    line[ENCODE_KEY_BYTES * 2] = '\n';
    if (fchmod(fd, 0600) != 0 ||
        write(fd, line, ENCODE_KEY_BYTES * 2 + 1) != ENCODE_KEY_BYTES * 2 + 1 ||
        fsync(fd) != 0) {
        sp_err_add(err, path, 0, NULL, NULL, 0, "key-file", "cannot write the key file: %s",
                   strerror(errno));
        rc = SP_EIO;
    }
    if (close(fd) != 0 && rc == SP_OK) {
        sp_err_add(err, path, 0, NULL, NULL, 0, "key-file", "cannot write the key file: %s",
                   strerror(errno));
        rc = SP_EIO;
    }
    if (rc) unlink(path);
    sodium_memzero(key, sizeof key);
    sodium_memzero(line, sizeof line);
    return rc;
}

int encode_key_load(const char *path, uint8_t key[ENCODE_KEY_BYTES], sp_err *err)
{
    char buf[ENCODE_KEY_BYTES * 2 + 4];
    struct stat st;
    int rc = SP_OK;
    ssize_t n = 0;
    memset(key, 0, ENCODE_KEY_BYTES);
    int fd = open(path, O_RDONLY | O_NOFOLLOW);
    if (fd < 0) {
        if (errno == ENOENT) {
            sp_err_add(err, path, 0, NULL, NULL, 0, "key-file",
                       "no such key file (make one with: spotlight encode --new-key FILE, "
                       "or ask the organisation that holds it)");
            return SP_EUSAGE;
        }
        sp_err_add(err, path, 0, NULL, NULL, 0, "key-file", "cannot open the key file: %s",
                   strerror(errno));
        return SP_EIO;
    }
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        rc = sp_err_add(err, path, 0, NULL, NULL, 0, "key-file", "the key is not a regular file");
        goto done;
    }
    /* whoever can read the key can test guesses against every hash: refuse
     * a key others on the machine can read rather than warn and go on */
    if (st.st_mode & 077) {
        rc = sp_err_add(err, path, 0, NULL, NULL, 0, "key-file-mode",
                        "the key file can be read by other users (mode %03o); "
                        "run: chmod 600 %s", (unsigned)(st.st_mode & 0777), path);
        goto done;
    }
    n = read(fd, buf, sizeof buf);
    if (n < 0) {
        rc = sp_err_add(err, path, 0, NULL, NULL, 0, "key-file", "cannot read the key file: %s",
                        strerror(errno));
        goto done;
    }
    size_t len = (size_t)n;
    if (len == ENCODE_KEY_BYTES * 2 + 2 && buf[len - 2] == '\r' && buf[len - 1] == '\n')
        len--, buf[len - 1] = '\n';
    if (len != ENCODE_KEY_BYTES * 2 + 1 || buf[len - 1] != '\n') {
        rc = sp_err_add(err, path, 0, NULL, NULL, 0, "key-file-format",
                        "a key file is 64 lowercase hexadecimal characters and a newline");
        goto done;
    }
    for (size_t i = 0; i < ENCODE_KEY_BYTES; i++) {
        int hi = hexval(buf[2 * i]), lo = hexval(buf[2 * i + 1]);
        if (hi < 0 || lo < 0) {
            rc = sp_err_add(err, path, 0, NULL, NULL, 0, "key-file-format",
                            "a key file is 64 lowercase hexadecimal characters and a newline");
            goto done;
        }
        key[i] = (uint8_t)(hi << 4 | lo);
    }
done:
    close(fd);
    sodium_memzero(buf, sizeof buf);
    if (rc) sodium_memzero(key, ENCODE_KEY_BYTES);
    return rc;
}

/* ------------------------------------------------------------ match keys */

void encode_hash(const uint8_t key[ENCODE_KEY_BYTES], const char *type, const char *canon,
                 int valid, char out[ENCODE_HASH_CAP])
{
    crypto_generichash_state st;
    uint8_t h[32];
    static const uint8_t nul = 0;
    crypto_generichash_init(&st, key, ENCODE_KEY_BYTES, sizeof h);
    crypto_generichash_update(&st, (const uint8_t *)DOMAIN, strlen(DOMAIN));
    crypto_generichash_update(&st, &nul, 1);
    crypto_generichash_update(&st, (const uint8_t *)type, strlen(type));
    crypto_generichash_update(&st, &nul, 1);
    crypto_generichash_update(&st, (const uint8_t *)canon, strlen(canon));
    crypto_generichash_final(&st, h, sizeof h);
    size_t p = valid ? 3 : 4;
    memcpy(out, valid ? "h1:" : "h1x:", p);
    sodium_bin2hex(out + p, ENCODE_HASH_CAP - p, h, sizeof h);
}

int encode_is_hash(const char *s, size_t n, int *valid)
{
    size_t p;
    if (n >= 3 && memcmp(s, "h1:", 3) == 0) p = 3, *valid = 1;
    else if (n >= 4 && memcmp(s, "h1x:", 4) == 0) p = 4, *valid = 0;
    else return 0;
    if (n != p + 64) return -1;
    for (size_t i = p; i < n; i++)
        if (hexval(s[i]) < 0) return -1;
    return 1;
}

int encode_is_clk(const char *s, size_t n)
{
    unsigned char raw[PPRL_BITS / 8 + 4];
    size_t len = 0;
    const char *end = NULL;
    if (n != ENCODE_CLK_CHARS) return 0;
    if (sodium_base642bin(raw, sizeof raw, s, n, NULL, &len, &end,
                          sodium_base64_VARIANT_ORIGINAL) != 0 ||
        len != PPRL_BITS / 8 || end != s + n)
        return 0;
    /* only the one spelling the linker reads (link_decode_clk):
     * libsodium's decoder lets non-zero trailing bits through, so the
     * bytes must encode back to exactly the input */
    char back[ENCODE_CLK_CHARS + 8];
    sodium_bin2base64(back, sizeof back, raw, PPRL_BITS / 8, sodium_base64_VARIANT_ORIGINAL);
    return memcmp(back, s, n) == 0;
}

int encode_is_block(const char *s, size_t n)
{
    if (n != ENCODE_BLOCK_CHARS) return 0;
    for (size_t i = 0; i < n; i++)
        if (hexval(s[i]) < 0) return 0;
    return 1;
}

static const struct { const char *folded, *column; } clear_names[] = {
    {"givenname", "given_name"}, {"givennames", "given_name"}, {"firstname", "given_name"},
    {"forename", "given_name"}, {"fullname", "given_name"}, {"name", "given_name"},
    {"victimname", "given_name"},
    {"familyname", "family_name"}, {"lastname", "family_name"}, {"surname", "family_name"},
    {"birthdate", "birth_date"}, {"dateofbirth", "birth_date"}, {"dob", "birth_date"},
    {"birthday", "birth_date"},
    {"sex", "sex"},
    {"documentnumber", "document_number"}, {"documentno", "document_number"},
    {"passportnumber", "document_number"}, {"passportno", "document_number"},
    {"idnumber", "document_number"}, {"idcardnumber", "document_number"},
    {"nationalid", "document_number"}, {"nationalidnumber", "document_number"},
};

const char *encode_clear_column(const char *header, size_t n)
{
    char f[64];
    size_t fn = sp_fold(header, n, f, sizeof f);
    if (fn == 0 || fn >= sizeof f - 1) return NULL;
    f[fn] = 0;
    for (size_t i = 0; i < sizeof clear_names / sizeof clear_names[0]; i++)
        if (strcmp(f, clear_names[i].folded) == 0) return clear_names[i].column;
    return NULL;
}

const char *encode_phone_country(const char *nationality, const char *origin)
{
    if (nationality && *nationality) return nationality;
    if (origin && *origin) return origin;
    return NULL;
}

void encode_indicator_canon(const char *type, const char *chain, const char *platform,
                            const char *country, const char *raw, size_t n, char *canon,
                            size_t cap, int *valid, const char **why)
{
    const char *cp = type && strcmp(type, "crypto_wallet") == 0 ? chain
                   : type && strcmp(type, "social_handle") == 0 ? platform : NULL;
    const char *w = NULL;
    n = sp_trim(&raw, n);
    int r = ident_normalise(type ? type : "", cp, country, raw, n, canon, cap, &w);
    if (r == IDENT_UNKNOWN_TYPE) {
        size_t k = n < cap - 1 ? n : cap - 1;
        memcpy(canon, raw, k);
        canon[k] = 0;
        *valid = 0;
        *why = type && *type ? "the indicator type cannot be checked"
                             : "the indicator has no type";
        return;
    }
    *valid = r == IDENT_VALID;
    *why = r == IDENT_VALID ? NULL : (w ? w : "invalid value");
}

/* ------------------------------------------------------------ a file */

enum { CL_GIVEN, CL_FAMILY, CL_BIRTH, CL_SEX, CL_DOC, CL_N };
static const char *const clear_col[CL_N] = {"given_name", "family_name", "birth_date", "sex",
                                             "document_number"};

typedef struct enc_ind {
    int type, value, chain, platform;   /* header indices, -1: none */
} enc_ind;

typedef struct enc_ctx {
    const sp_codebook *cb;
    const sp_mapping *map;
    const uint8_t *key;
    const char *name;
    sp_err *err;
    sp_layout layout;
    char **header;
    size_t nheader;
    char *drop;                 /* [nheader] clear columns, not written */
    char *known;                /* [nheader] columns the hub reads */
    int clear[CL_N];
    int nat, origin, gender;
    int have_person_cols;       /* the file already has person_* columns */
    enc_ind *ind;               /* [max_repeat] */
    int nind;
    const cb_field *f_ind, *f_type, *f_chain, *f_platform, *f_nat, *f_origin, *f_gender;
    sp_arena arena;             /* one row's strings */
} enc_ctx;

static int header_index(const enc_ctx *c, const char *name)
{
    char a[256], b[256];
    size_t na = sp_fold(name, strlen(name), a, sizeof a);
    for (size_t i = 0; i < c->nheader; i++) {
        size_t nb = sp_fold(c->header[i], strlen(c->header[i]), b, sizeof b);
        if (na == nb && memcmp(a, b, na) == 0) return (int)i;
    }
    return -1;
}

/* Records that header column h holds layout column `target` (or a clear
 * column). Problems are reported at row 1. */
static int assign(enc_ctx *c, const char *target, int h)
{
    for (int k = 0; k < CL_N; k++)
        if (strcmp(target, clear_col[k]) == 0) {
            if (c->clear[k] >= 0 && c->clear[k] != h)
                return sp_err_add(c->err, c->name, 1, c->header[h], NULL, 0, "duplicate-column",
                                  "this column and column '%s' both hold the %s",
                                  c->header[c->clear[k]], clear_col[k]);
            c->clear[k] = h;
            c->drop[h] = 1;
            return SP_OK;
        }
    int col = layout_find(&c->layout, target, strlen(target));
    if (col < 0) return SP_OK;
    c->known[h] = 1;
    const sp_column *sc = &c->layout.cols[col];
    if (sc->field->encoded) c->have_person_cols = 1;
    if (sc->field == c->f_nat && c->nat < 0) c->nat = h;
    if (sc->field == c->f_origin && c->origin < 0) c->origin = h;
    if (sc->field == c->f_gender && c->gender < 0) c->gender = h;
    if (sc->field == c->f_ind && sc->sub && sc->rep < c->nind) {
        enc_ind *e = &c->ind[sc->rep];
        int *slot = sc->sub == c->f_type ? &e->type
                  : strcmp(sc->sub->name, "value") == 0 ? &e->value
                  : sc->sub == c->f_chain ? &e->chain
                  : sc->sub == c->f_platform ? &e->platform : NULL;
        if (slot && *slot < 0) *slot = h;
    }
    return SP_OK;
}

static int plan(enc_ctx *c, const sp_row *hdr)
{
    int rc = SP_OK;
    c->nheader = hdr->ncells;
    c->header = sp_xcalloc(hdr->ncells + 1, sizeof *c->header);
    c->drop = sp_xcalloc(hdr->ncells + 1, 1);
    c->known = sp_xcalloc(hdr->ncells + 1, 1);
    for (size_t i = 0; i < hdr->ncells; i++) {
        const char *h = hdr->cell[i];
        size_t n = sp_trim(&h, hdr->len[i]);
        c->header[i] = sp_xstrndup(h, n);
    }
    int named = 0;
    for (size_t i = 0; i < c->nheader; i++) named |= c->header[i][0] != 0;
    if (!named)
        return sp_err_add(c->err, c->name, 1, NULL, NULL, 0, "empty-header",
                          "the first row, the header, names no column");
    if (c->map) {
        for (size_t t = 0; t < c->map->ntargets; t++) {
            const char *target = c->map->targets[t].target;
            const char *cl = encode_clear_column(target, strlen(target));
            int first = 1;
            for (size_t k = 0; k < c->map->targets[t].nsources; k++) {
                int h = header_index(c, c->map->targets[t].sources[k]);
                if (h < 0) continue;
                if (first) {
                    /* the first source present is the one encoded */
                    if (assign(c, cl ? cl : target, h)) rc = SP_EINPUT;
                    first = 0;
                } else if (cl) {
                    c->drop[h] = 1;        /* a fallback clear column: dropped */
                } else {
                    c->known[h] = 1;       /* a fallback the hub reads */
                }
            }
        }
    }
    for (size_t i = 0; i < c->nheader; i++) {
        const char *cl = encode_clear_column(c->header[i], strlen(c->header[i]));
        if (assign(c, cl ? cl : c->header[i], (int)i)) rc = SP_EINPUT;
    }
    if (c->map) {
        /* what the mapping reads through flags is read by the hub too */
        for (size_t k = 0; k < c->map->nflags; k++) {
            int h = header_index(c, c->map->flags[k].column);
            if (h >= 0) c->known[h] = 1;
        }
    }
    /* A column the hub would not read is left out: nothing says it does
     * not hold a name ("Nom", "Họ tên") or a note about the person, and
     * the hub would ignore it anyway */
    for (size_t i = 0; i < c->nheader; i++) {
        if (c->drop[i] || c->known[i]) continue;
        c->drop[i] = 1;
        /* Kobo's one-column-per-choice copies of a multiple answer: the
         * answer's own column carries it (import skips them quietly too) */
        if (kobo_choice_column(c->cb, c->header[i])) continue;
        sp_err_warn(c->err, c->name, 1, c->header[i], NULL, 0, "column-left-out",
                    c->header[i][0] ? "no codebook field (or mapping) reads this column; it is "
                                      "left out of the encoded file"
                                    : "a column with no header is left out of the encoded file");
    }
    int any_clear = 0;
    size_t kept = 0;
    for (int k = 0; k < CL_N; k++) any_clear |= c->clear[k] >= 0;
    for (size_t i = 0; i < c->nheader; i++) kept += !c->drop[i];
    if (!kept && !any_clear)
        return sp_err_add(c->err, c->name, 1, NULL, NULL, 0, "nothing-to-encode",
                          "no column of this file is one the hub reads (see docs/codebook.md, "
                          "or use --mapping)");
    if (any_clear && c->have_person_cols)
        rc = sp_err_add(c->err, c->name, 1, NULL, NULL, 0, "already-encoded",
                        "the file has both clear identifying columns and person_clk, "
                        "person_block or person_doc columns; encode the clear file once");
    return rc;
}

/* Quoted when it holds a delimiter any reader might detect (, ; TAB), a
 * quote or a line break, so the output reads back as the same cells. */
static void csv_cell(sp_buf *out, const char *s, size_t n)
{
    if (n && (memchr(s, ',', n) || memchr(s, '"', n) || memchr(s, '\n', n) ||
              memchr(s, '\r', n) || memchr(s, ';', n) || memchr(s, '\t', n))) {
        sp_buf_addc(out, '"');
        for (size_t i = 0; i < n; i++) {
            if (s[i] == '"') sp_buf_addc(out, '"');
            sp_buf_addc(out, s[i]);
        }
        sp_buf_addc(out, '"');
    } else {
        sp_buf_add(out, s, n);
    }
}

/* The trimmed cell h of the row, "" when none. */
static const char *cell(const sp_row *row, int h, size_t *n)
{
    if (h < 0 || (size_t)h >= row->ncells) {
        *n = 0;
        return "";
    }
    const char *s = row->cell[h];
    *n = sp_trim(&s, row->len[h]);
    return s;
}

/* The code of a code field for a raw cell (mapping translation first), or
 * NULL. Allocated in the row arena. */
static const char *code_of(enc_ctx *c, const cb_field *f, const char *vfield, int h,
                           const sp_row *row)
{
    size_t n;
    const char *s = cell(row, h, &n);
    if (!f || n == 0) return NULL;
    if (c->map) {
        const char *t = mapping_translate(c->map, c->header[h], s, n);
        if (!t) t = mapping_translate(c->map, vfield, s, n);
        if (t) s = t, n = strlen(t);
    }
    if (f->type == CB_CODE) {
        const cb_value *v = codebook_value(f, s, n);
        return v ? v->code : NULL;
    }
    cb_cell out;
    const char *rule = NULL, *why = NULL;
    if (codebook_parse(c->cb, f, s, n, NULL, &out, &c->arena, &rule, &why) != 0) return NULL;
    return out.text;
}

/* A clear identifying cell as a NUL-terminated copy (row arena). */
static const char *clear_of(enc_ctx *c, const sp_row *row, int k)
{
    size_t n;
    const char *s = cell(row, c->clear[k], &n);
    return sp_arena_strndup(&c->arena, s, n);
}

/* The document number as it is hashed: ASCII letters upper-cased, only
 * letters and digits kept ("b 123-456" and "B123456" are one number). */
static void doc_canon(const char *s, char *out, size_t cap)
{
    size_t o = 0;
    for (; *s && o + 1 < cap; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch >= 'a' && ch <= 'z') out[o++] = (char)(ch - 32);
        else if ((ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch >= 0x80)
            out[o++] = (char)ch;
    }
    out[o] = 0;
}

/* Encodes one data row into out (one CSV line). Returns the number of
 * errors added. */
static size_t encode_row(enc_ctx *c, const sp_row *row, sp_buf *out, int person_cols)
{
    size_t before = c->err->count;
    const char **repl = sp_arena_alloc(&c->arena, (c->nheader + 1) * sizeof *repl);
    memset(repl, 0, (c->nheader + 1) * sizeof *repl);
    for (size_t i = c->nheader; i < row->ncells; i++) {
        const char *s = row->cell[i];
        if (sp_trim(&s, row->len[i]) > 0) {
            sp_err_add(c->err, c->name, row->row, NULL, NULL, 0, "extra-cell",
                       "cell %zu is beyond the last column of the header", i + 1);
            break;
        }
    }
    const char *nat = code_of(c, c->f_nat, "nationality", c->nat, row);
    const char *org = code_of(c, c->f_origin, "origin_country", c->origin, row);
    const char *country = encode_phone_country(nat, org);

    for (int r = 0; r < c->nind; r++) {
        const enc_ind *e = &c->ind[r];
        size_t n;
        const char *v = cell(row, e->value, &n);
        if (n == 0) continue;
        int valid = 0, is = encode_is_hash(v, n, &valid);
        if (is == 1) continue;    /* encoded already: copied as it is */
        if (is < 0) {
            sp_err_add(c->err, c->name, row->row, c->header[e->value], NULL, 0, "bad-match-key",
                       "the value starts like a match key but is not one "
                       "(h1: or h1x: and 64 lowercase hexadecimal characters)");
            continue;
        }
        const char *type = code_of(c, c->f_type, "indicators.type", e->type, row);
        if (!type) {
            sp_err_add(c->err, c->name, row->row, c->header[e->value], NULL, 0, "no-type",
                       "an indicator value needs a known type (%s) to be encoded",
                       e->type >= 0 ? "the type column's value is not one" : "no type column");
            continue;
        }
        const char *chain = code_of(c, c->f_chain, "indicators.chain", e->chain, row);
        const char *plat = code_of(c, c->f_platform, "indicators.platform", e->platform, row);
        char canon[IDENT_MAX_INPUT + 64];
        const char *why = NULL;
        encode_indicator_canon(type, chain, plat, country, v, n, canon, sizeof canon, &valid,
                               &why);
        char *h = sp_arena_alloc(&c->arena, ENCODE_HASH_CAP);
        encode_hash(c->key, type, canon, valid, h);
        sodium_memzero(canon, sizeof canon);
        repl[e->value] = h;
        if (!valid)
            sp_err_warn(c->err, c->name, row->row, c->header[e->value], NULL, 0,
                        "invalid-indicator", "%s; encoded flagged invalid (h1x:)",
                        why ? why : "invalid value");
    }

    char clk64[ENCODE_CLK_CHARS + 8] = "", block[24] = "", doc[ENCODE_HASH_CAP] = "";
    const char *given = clear_of(c, row, CL_GIVEN), *family = clear_of(c, row, CL_FAMILY);
    const char *birth = clear_of(c, row, CL_BIRTH);
    if (*given || *family || *birth) {
        const char *sex = clear_of(c, row, CL_SEX);
        if (!*sex && c->gender >= 0) {
            const char *g = code_of(c, c->f_gender, "gender", c->gender, row);
            if (g) sex = g;
        }
        person_in in = {given, family, birth, sex, nat ? nat : ""};
        uint64_t clk[PPRL_WORDS];
        uint16_t pc = 0;
        uint64_t blk = 0;
        sp_err pe;
        sp_err_init(&pe);
        if (person_encode(c->key, &in, clk, &pc, &blk, &pe) != SP_OK) {
            /* the messages name the column and why, in words of our own:
             * person.c's may quote part of the value, and a report is
             * pasted into e-mails */
            for (size_t i = 0; i < pe.n; i++) {
                const char *col = pe.items[i].column;
                int h = -1, date = col && strcmp(col, "birth_date") == 0;
                for (int k = 0; k < CL_N && col; k++)
                    if (strcmp(col, clear_col[k]) == 0) h = c->clear[k];
                sp_err_add(c->err, c->name, row->row, h >= 0 ? c->header[h] : col, NULL, 0,
                           pe.items[i].rule, "%s",
                           date ? "not a birth date that can be encoded: yyyy-mm-dd, yyyy-mm "
                                  "or yyyy, a real calendar day, year 1900-2099"
                                : "this value cannot be encoded (invalid UTF-8, or longer than "
                                  "256 bytes)");
            }
            if (pe.n == 0)
                sp_err_add(c->err, c->name, row->row, NULL, NULL, 0, "person",
                           "the person could not be encoded");
        } else if (pc == 0) {
            /* no name to encode (a birth date alone): nothing a link could
             * rest on, so no encoding, rather than an empty one */
        } else {
            uint8_t raw[PPRL_BITS / 8];
            for (int w = 0; w < PPRL_WORDS; w++)
                for (int k = 0; k < 8; k++) raw[w * 8 + k] = (uint8_t)(clk[w] >> (8 * k));
            sodium_bin2base64(clk64, sizeof clk64, raw, sizeof raw,
                              sodium_base64_VARIANT_ORIGINAL);
            snprintf(block, sizeof block, "%016llx", (unsigned long long)blk);
            sodium_memzero(raw, sizeof raw);
        }
        sodium_memzero(clk, sizeof clk);
        sp_err_free(&pe);
    }
    const char *dn = clear_of(c, row, CL_DOC);
    if (*dn) {
        char dc[PERSON_MAX_FIELD + 1];
        doc_canon(dn, dc, sizeof dc);
        if (!*dc || strlen(dn) > PERSON_MAX_FIELD)
            sp_err_add(c->err, c->name, row->row, c->header[c->clear[CL_DOC]], NULL, 0,
                       "bad-document", *dc ? "the document number is too long"
                                           : "the document number has no letter or digit");
        else
            encode_hash(c->key, "document", dc, 1, doc);
        sodium_memzero(dc, sizeof dc);
    }
    if (c->err->count != before) return c->err->count - before;

    int first = 1;
    size_t start = out->len;
    for (size_t i = 0; i < c->nheader; i++) {
        if (c->drop[i]) continue;
        if (!first) sp_buf_addc(out, ',');
        first = 0;
        if (repl[i]) sp_buf_adds(out, repl[i]);
        else if (i < row->ncells) {
            /* a cell of spaces alone is empty to import (sp_trim): written
             * empty, so a row of nothing else is skipped below, as import
             * skips it, and encoding the output again changes nothing */
            const char *t = row->cell[i];
            if (sp_trim(&t, row->len[i]) > 0) csv_cell(out, row->cell[i], row->len[i]);
        }
    }
    if (person_cols) {
        if (!first) sp_buf_addc(out, ',');
        sp_buf_printf(out, "%s,%s,%s", clk64, block, doc);
    }
    /* a row with nothing left (only a dropped column had a value, such as
     * sex alone) is no record: not written, as import would skip it */
    size_t k = start;
    while (k < out->len && out->data[k] == ',') k++;
    if (k == out->len) {
        out->len = start;
        out->data[start] = 0;
        return 0;
    }
    sp_buf_adds(out, "\r\n");
    return 0;
}

int encode_buffer(const uint8_t key[ENCODE_KEY_BYTES], const sp_codebook *cb,
                  const void *data, size_t len, const char *name, const encode_opts *o,
                  sp_buf *out, sp_err *err)
{
    enc_ctx c;
    sp_reader *rd = NULL;
    sp_mapping *map = NULL;
    sp_row row;
    int rc = SP_OK, person_cols = 0;
    size_t errors_before = err->count;

    memset(&c, 0, sizeof c);
    c.cb = cb;
    c.key = key;
    c.name = name;
    c.err = err;
    c.nat = c.origin = c.gender = -1;
    for (int k = 0; k < CL_N; k++) c.clear[k] = -1;
    sp_arena_init(&c.arena);
    layout_build(&c.layout, cb, 1);
    sp_buf_reset(out);
    if (sodium_init() < 0) {
        rc = sp_err_add(err, name, 0, NULL, NULL, 0, "sodium", "libsodium cannot start");
        goto done;
    }
    c.f_ind = codebook_field(cb, "indicators");
    c.f_nat = codebook_field(cb, "nationality");
    c.f_origin = codebook_field(cb, "origin_country");
    c.f_gender = codebook_field(cb, "gender");
    if (c.f_ind && c.f_ind->type == CB_GROUP) {
        c.f_type = codebook_subfield(c.f_ind, "type");
        c.f_chain = codebook_subfield(c.f_ind, "chain");
        c.f_platform = codebook_subfield(c.f_ind, "platform");
        c.nind = c.f_ind->max_repeat;
        c.ind = sp_xcalloc((size_t)c.nind + 1, sizeof *c.ind);
        for (int r = 0; r < c.nind; r++)
            c.ind[r] = (enc_ind){-1, -1, -1, -1};
    }
    if (o && o->mapping) {
        if ((rc = mapping_load(&map, o->mapping, err))) goto done;
        c.map = map;
    }
    sp_reader_opts ro = {o ? o->format : SP_FMT_AUTO, o ? o->sheet : NULL, 0};
    if ((rc = reader_open_mem(&rd, data, len, name, &ro, err))) goto done;
    rc = reader_next(rd, &row, err);
    if (rc == SP_EOF) {
        rc = sp_err_add(err, name, 0, NULL, NULL, 0, "empty", "the file has no header row");
        goto done;
    }
    if (rc) goto done;
    if ((rc = plan(&c, &row))) goto done;
    for (int k = 0; k < CL_N; k++) person_cols |= c.clear[k] >= 0;

    int first = 1;
    for (size_t i = 0; i < c.nheader; i++) {
        if (c.drop[i]) continue;
        if (!first) sp_buf_addc(out, ',');
        first = 0;
        csv_cell(out, c.header[i], strlen(c.header[i]));
    }
    if (person_cols) sp_buf_adds(out, first ? "person_clk,person_block,person_doc"
                                            : ",person_clk,person_block,person_doc");
    sp_buf_adds(out, "\r\n");

    for (;;) {
        rc = reader_next(rd, &row, err);
        if (rc == SP_EOF) { rc = SP_OK; break; }
        if (rc) goto done;
        if (reader_row_blank(&row)) continue;
        encode_row(&c, &row, out, person_cols);
        sp_arena_reset(&c.arena);
        if (out->len + 1 >= out->cap) {
            rc = sp_err_add(err, name, row.row, NULL, NULL, 0, "too-large",
                            "the encoded file would be larger than %zu bytes", out->cap);
            rc = SP_ELIMIT;
            goto done;
        }
    }
    if (err->count != errors_before) rc = SP_EINPUT;
done:
    if (rc) {
        /* nothing half-done leaves: a failed encode writes nothing */
        sodium_memzero(out->data, out->len);
        sp_buf_reset(out);
    }
    reader_close(rd);
    mapping_free(map);
    layout_free(&c.layout);
    for (size_t i = 0; i < c.nheader; i++) free(c.header[i]);
    free(c.header);
    free(c.drop);
    free(c.known);
    free(c.ind);
    sp_arena_free(&c.arena);
    return rc;
}

int encode_file(const uint8_t key[ENCODE_KEY_BYTES], const sp_codebook *cb, const char *path,
                const encode_opts *o, FILE *f, sp_err *err)
{
    sp_file in;
    sp_buf out;
    int rc = sp_file_open(&in, path, ENCODE_MAX_BYTES, err);
    if (rc) return rc;
    sp_buf_init(&out, ENCODE_MAX_OUT);
    rc = encode_buffer(key, cb, in.data, in.len,
                       strcmp(path, "-") == 0 ? "(standard input)" : path, o, &out, err);
    sp_file_close(&in);
    if (rc == SP_OK && (fwrite(out.data, 1, out.len, f) != out.len || fflush(f) != 0)) {
        sp_err_add(err, NULL, 0, NULL, NULL, 0, "write", "writing the encoded file failed: %s",
                   strerror(errno));
        rc = SP_EIO;
    }
    sp_buf_free(&out);
    return rc;
}

/* ------------------------------------------------------------ rehash */

int encode_rehash(sp_store *s, const uint8_t key[ENCODE_KEY_BYTES], long long *hashed,
                  sp_err *err)
{
    sp_ident_row *rows = NULL;
    size_t n = 0;
    int rc, in_tx = 0;
    char canon[IDENT_MAX_INPUT + 64], hash[ENCODE_HASH_CAP];
    *hashed = 0;
    if (sodium_init() < 0)
        return sp_err_add(err, NULL, 0, NULL, NULL, 0, "sodium", "libsodium cannot start");
    if (store_begin(s)) {
        sp_err_add(err, NULL, 0, NULL, NULL, 0, "store", "the hub is busy or cannot be written: %s",
                   store_errmsg(s));
        return SP_EDB;
    }
    in_tx = 1;
    if ((rc = store_ident_unhashed(s, &rows, &n))) goto dberr;
    for (size_t i = 0; i < n; i++) {
        const sp_ident_row *r = &rows[i];
        int valid = 0;
        const char *why = NULL;
        const char *v = r->value ? r->value : "";
        encode_indicator_canon(r->type, r->chain, r->platform,
                               encode_phone_country(r->nationality, r->origin), v, strlen(v),
                               canon, sizeof canon, &valid, &why);
        encode_hash(key, r->type ? r->type : "", canon, 1, hash);
        if ((rc = store_ident_add(s, r->record_id, r->seq, r->type ? r->type : "", hash, valid,
                                  why)))
            goto dberr;
        (*hashed)++;
    }
    sp_buf det;
    sp_buf_init(&det, 1024);
    audit_detail_int(&det, "hashed", *hashed);
    rc = audit_append(s, NULL, 0, "rehash", "indicator keys", NULL, audit_detail_end(&det));
    sp_buf_free(&det);
    if (rc) goto dberr;
    if ((rc = store_commit(s))) goto dberr;
    in_tx = 0;
    goto done;
dberr:
    sp_err_add(err, NULL, 0, NULL, NULL, 0, "store", "cannot store the match keys: %s",
               store_errmsg(s));
    rc = SP_EDB;
done:
    if (in_tx) {
        store_rollback(s);
        *hashed = 0;
    }
    sodium_memzero(canon, sizeof canon);
    store_ident_rows_free(rows, n);
    return rc;
}
