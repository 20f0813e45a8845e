/* xlsx.c -- a streaming XLSX (Office Open XML spreadsheet) reader.
 *
 * The zip is opened from memory with libzip. Small parts (workbook, its
 * relationships, styles) and the shared-string table are parsed with expat
 * into compact tables; the chosen worksheet is then inflated 64 KiB at a
 * time and fed to expat incrementally. The parser is suspended at each
 * completed non-empty <row>, so memory stays constant whatever the number
 * of rows.
 *
 * What a caller sees (documented choices):
 *  - rows come in file order, empty rows skipped; sp_row.row is the sheet's
 *    own row number (the r attribute, or previous + 1 when missing);
 *  - cells are placed by their reference ("C7" -> third cell), gaps are
 *    empty strings, trailing empty cells are dropped;
 *  - booleans read as "TRUE" / "FALSE" (what the spreadsheet shows);
 *  - numbers: integers without decimals ("2016"), others with up to 15
 *    significant digits and no trailing zeros ("0.1");
 *  - numbers whose style is a date format read as "YYYY-MM-DD", with a time
 *    part as "YYYY-MM-DDTHH:MM:SS", a pure time (serial < 1, 1900 system)
 *    as "HH:MM:SS"; the 1900 leap-year bug and date1904 are honoured;
 *  - errors read as their text ("#N/A"); formula cells give their cached
 *    value; _xHHHH_ escapes in strings are decoded.
 *
 * Hostile files: every part's declared size is checked before it is read
 * and inflated bytes are counted; DOCTYPEs are refused (no entity tricks);
 * every buffer has a cap. */
#include "reader.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <expat.h>
#include <zip.h>

#define XLSX_CHUNK (64 * 1024)
#define XLSX_MAX_SHEET_BYTES (2ULL * 1024 * 1024 * 1024) /* 2 GiB */
#define XLSX_MAX_SMALL_PART (16L * 1024 * 1024)          /* workbook, rels, styles */
#define XLSX_MAX_RATIO 1100        /* deflate cannot do better than ~1032:1 */
#define XLSX_MAX_SST_COUNT (32L * 1024 * 1024)
#define XLSX_MAX_SHEETS 4096
#define XLSX_MAX_RELS 65536
#define XLSX_MAX_XF 65536
#define XLSX_MAX_NUMFMT 65536
#define XLSX_MAX_ATTR 4096          /* sheet names, ids, targets */
#define XLSX_MAX_ROWNUM 100000000L  /* far past Excel's 1,048,576 */

enum { CT_N, CT_S, CT_STR, CT_INLINE, CT_B, CT_E, CT_D };
enum { K_EMPTY = 0, K_BUF, K_SST };

typedef struct xlsx_state {
    char *name;
    zip_t *za;
    sp_err *err;            /* the caller's, during one call */
    int rc;                 /* error raised inside an expat callback */

    /* workbook */
    int date1904;
    char **sheet_names, **sheet_rids;
    size_t nsheets;
    char **rel_ids, **rel_types, **rel_targets;
    size_t nrels;

    /* shared strings: one arena of text, offsets into it */
    sp_buf sst;
    uint32_t *sst_off, *sst_len;
    size_t sst_n, sst_alloc;
    int in_si, in_t, in_rph;
    size_t si_start;

    /* styles */
    uint32_t *xf_fmt;
    unsigned char *xf_date;
    size_t xf_n;
    uint32_t *nf_id;
    unsigned char *nf_date;
    size_t nf_n;
    int in_cellxfs, in_numfmts;

    /* the worksheet stream */
    char *part;             /* the part being parsed, for messages */
    char *sheet_xml;        /* the worksheet entry name */
    zip_file_t *zf;
    XML_Parser p;
    char *chunk;
    uint64_t inflated, declared;
    int suspended, final_fed, done, failed;

    /* row assembly */
    int in_sheetdata, in_row, in_c, in_v, in_is, in_f;
    long rownum, last_row;
    long ccol, next_col;
    int ctype, cdate, chas_v;
    char ref[32];
    sp_buf *collect;        /* where character data goes, or NULL */
    sp_buf val;
    sp_buf rowbuf;
    size_t ncells, nonempty_end;
    unsigned char kind[SP_MAX_COLS];
    size_t off[SP_MAX_COLS];
    size_t lens[SP_MAX_COLS];
    const char *cellp[SP_MAX_COLS];
    int row_ready;
} xlsx_state;

/* ------------------------------------------------------------ helpers */

/* Records an error in the caller's sp_err and remembers the code. */
static int fail(xlsx_state *st, int rc, long row, const char *rule,
                const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static int fail(xlsx_state *st, int rc, long row, const char *rule,
                const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (st->err)
        sp_err_add(st->err, st->name, row, NULL, NULL, 0, rule, "%s", msg);
    if (!st->rc) st->rc = rc;
    return rc;
}

/* Stops the parser from inside a callback with an error. */
static void cb_fail(xlsx_state *st)
{
    XML_StopParser(st->p, XML_FALSE);
}

/* Local name of a possibly prefixed XML name ("x:row" -> "row"). */
static const char *local(const char *n)
{
    const char *l = n;
    for (; *n; n++)
        if (*n == ':') l = n + 1;
    return l;
}

static const char *attr(const char **a, const char *name)
{
    for (; a[0]; a += 2)
        if (strcmp(local(a[0]), name) == 0) return a[1];
    return NULL;
}

/* Parses a non-negative decimal of at most 9 digits; -1 if it is not one. */
static long parse_small(const char *s)
{
    long v = 0;
    int n = 0;
    if (!s || !*s) return -1;
    for (; *s; s++, n++) {
        if (*s < '0' || *s > '9' || n >= 9) return -1;
        v = v * 10 + (*s - '0');
    }
    return v;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Decodes _xHHHH_ escapes in place (the result is never longer); returns
 * the new length. NUL and surrogates are dropped or left as written. */
static size_t decode_x(char *s, size_t n)
{
    if (!memchr(s, '_', n)) return n;
    size_t i = 0, o = 0;
    while (i < n) {
        if (s[i] == '_' && i + 6 < n && s[i + 1] == 'x' && s[i + 6] == '_') {
            int h0 = hexval(s[i + 2]), h1 = hexval(s[i + 3]),
                h2 = hexval(s[i + 4]), h3 = hexval(s[i + 5]);
            if (h0 >= 0 && h1 >= 0 && h2 >= 0 && h3 >= 0) {
                unsigned cp = (unsigned)(h0 << 12 | h1 << 8 | h2 << 4 | h3);
                if (cp >= 0xD800 && cp <= 0xDFFF) {
                    /* not a character: keep the text as written */
                } else {
                    i += 7;
                    if (cp == 0) continue;
                    if (cp < 0x80) {
                        s[o++] = (char)cp;
                    } else if (cp < 0x800) {
                        s[o++] = (char)(0xC0 | cp >> 6);
                        s[o++] = (char)(0x80 | (cp & 0x3F));
                    } else {
                        s[o++] = (char)(0xE0 | cp >> 12);
                        s[o++] = (char)(0x80 | ((cp >> 6) & 0x3F));
                        s[o++] = (char)(0x80 | (cp & 0x3F));
                    }
                    continue;
                }
            }
        }
        s[o++] = s[i++];
    }
    s[o] = '\0';
    return o;
}

/* Days since 1970-01-01 to a civil date (H. Hinnant's algorithm). */
static void civil(long z, int *y, int *m, int *d)
{
    z += 719468;
    long era = (z >= 0 ? z : z - 146096) / 146097;
    long doe = z - era * 146097;
    long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    long yy = yoe + era * 400;
    long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    long mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yy + (*m <= 2));
}

/* A serial date to text; 0 if out of range (the caller prints a number). */
static size_t fmt_date(double x, int d1904, char *out, size_t outsz)
{
    if (!(x >= 0 && x < 2958466.0)) return 0;     /* past 9999-12-31 */
    double dayf = floor(x);
    long secs = lround((x - dayf) * 86400.0);
    long day = (long)dayf;
    if (secs >= 86400) { day++; secs -= 86400; }
    int hh = (int)(secs / 3600), mi = (int)(secs / 60 % 60), ss = (int)(secs % 60);
    if (!d1904 && day == 0)
        return (size_t)snprintf(out, outsz, "%02d:%02d:%02d", hh, mi, ss);
    int y, m, d;
    if (d1904) civil(day - 24107, &y, &m, &d);
    else if (day == 60) { y = 1900; m = 2; d = 29; }   /* Lotus's 29 Feb 1900 */
    else civil(day < 60 ? day - 25568 : day - 25569, &y, &m, &d);
    if (secs == 0)
        return (size_t)snprintf(out, outsz, "%04d-%02d-%02d", y, m, d);
    return (size_t)snprintf(out, outsz, "%04d-%02d-%02dT%02d:%02d:%02d",
                            y, m, d, hh, mi, ss);
}

/* A number as a person reads it: integers plain, others %.15g. */
static size_t fmt_num(double x, char *out, size_t outsz)
{
    if (x == 0) x = 0;       /* no "-0" */
    if (x == floor(x) && fabs(x) < 1e15)
        return (size_t)snprintf(out, outsz, "%.0f", x);
    return (size_t)snprintf(out, outsz, "%.15g", x);
}

/* Does a custom number format show a date or time? d, m, y, h or s
 * outside quotes, brackets and escapes. */
static int fmt_is_date(const char *f)
{
    for (; *f; f++) {
        char c = *f;
        if (c == '"') {
            f++;
            while (*f && *f != '"') f++;
            if (!*f) return 0;
        } else if (c == '[') {
            while (*f && *f != ']') f++;
            if (!*f) return 0;
        } else if (c == '\\' || c == '_' || c == '*') {
            if (!f[1]) return 0;
            f++;
        } else {
            c = (char)(c | 0x20);
            if (c == 'd' || c == 'm' || c == 'y' || c == 'h' || c == 's') return 1;
        }
    }
    return 0;
}

static int builtin_date(long id)
{
    return (id >= 14 && id <= 22) || (id >= 45 && id <= 47);
}

/* Column letters of a reference to a 0-based index; -1 if malformed. */
static long ref_col(const char *r)
{
    long c = 0;
    int n = 0;
    for (; (*r >= 'A' && *r <= 'Z') || (*r >= 'a' && *r <= 'z'); r++) {
        if (++n > 3) return -1;
        c = c * 26 + ((*r | 0x20) - 'a' + 1);
    }
    if (n == 0) return -1;
    for (; *r; r++)
        if (*r < '0' || *r > '9') return -1;
    return c - 1;
}

static void col_ref(long col, long row, char *out, size_t outsz)
{
    char letters[8];
    int n = 0;
    col++;
    while (col > 0 && n < 7) {
        letters[n++] = (char)('A' + (col - 1) % 26);
        col = (col - 1) / 26;
    }
    char rev[8];
    for (int i = 0; i < n; i++) rev[i] = letters[n - 1 - i];
    rev[n] = '\0';
    snprintf(out, outsz, "%s%ld", rev, row);
}

/* ------------------------------------------------------------ parts */

/* Finds a part by name (case-insensitively, as Office does). */
static int locate(xlsx_state *st, const char *part, zip_int64_t *idx)
{
    zip_int64_t i = zip_name_locate(st->za, part, ZIP_FL_NOCASE | ZIP_FL_ENC_GUESS);
    if (i < 0) return SP_EOF;
    *idx = i;
    return SP_OK;
}

/* Opens a part for reading after checking its declared size against `max`
 * and against an absurd compression ratio. */
static int open_part(xlsx_state *st, zip_int64_t idx, const char *part,
                     uint64_t max, zip_file_t **zf, uint64_t *size)
{
    zip_stat_t sb;
    zip_stat_init(&sb);
    if (zip_stat_index(st->za, (zip_uint64_t)idx, 0, &sb) != 0 ||
        !(sb.valid & ZIP_STAT_SIZE))
        return fail(st, SP_EINPUT, 0, "xlsx-zip",
                    "cannot read the zip entry %s: %s", part, zip_strerror(st->za));
    if (sb.size > max)
        return fail(st, SP_ELIMIT, 0, "xlsx-too-large",
                    "the part %s would inflate to %llu bytes, more than the "
                    "limit of %llu", part, (unsigned long long)sb.size,
                    (unsigned long long)max);
    if ((sb.valid & ZIP_STAT_COMP_SIZE) && sb.size > 1024 * 1024 &&
        sb.size / (sb.comp_size ? sb.comp_size : 1) > XLSX_MAX_RATIO)
        return fail(st, SP_ELIMIT, 0, "xlsx-zip-bomb",
                    "the part %s claims a compression ratio over %d:1 "
                    "(%llu bytes from %llu); refusing it as a zip bomb", part,
                    XLSX_MAX_RATIO, (unsigned long long)sb.size,
                    (unsigned long long)sb.comp_size);
    *zf = zip_fopen_index(st->za, (zip_uint64_t)idx, 0);
    if (!*zf)
        return fail(st, SP_EINPUT, 0, "xlsx-zip", "cannot open the zip entry %s: %s",
                    part, zip_strerror(st->za));
    *size = sb.size;
    return SP_OK;
}

static void XMLCALL on_doctype(void *ud, const XML_Char *name, const XML_Char *sys,
                               const XML_Char *pub, int internal)
{
    xlsx_state *st = ud;
    (void)name; (void)sys; (void)pub; (void)internal;
    fail(st, SP_EINPUT, st->rownum, "xlsx-xml",
         "%s: a DOCTYPE declaration is not allowed in an XLSX part", st->part);
    cb_fail(st);
}

static XML_Parser new_parser(xlsx_state *st, XML_StartElementHandler s,
                             XML_EndElementHandler e, XML_CharacterDataHandler c)
{
    XML_Parser p = XML_ParserCreate(NULL);   /* UTF-8 or UTF-16, as declared */
    if (!p) return NULL;
    XML_SetUserData(p, st);
    XML_SetElementHandler(p, s, e);
    if (c) XML_SetCharacterDataHandler(p, c);
    XML_SetStartDoctypeDeclHandler(p, on_doctype);
    return p;
}

/* An expat failure as a sentence naming the part, line and column. */
static int xml_error(xlsx_state *st, XML_Parser p)
{
    if (st->rc) return st->rc;   /* a callback already said why */
    return fail(st, SP_EINPUT, st->rownum, "xlsx-xml",
                "%s: malformed XML at line %lu, column %lu: %s", st->part,
                (unsigned long)XML_GetCurrentLineNumber(p),
                (unsigned long)XML_GetCurrentColumnNumber(p),
                XML_ErrorString(XML_GetErrorCode(p)));
}

/* Reads one part from the zip, feeding it to `p` chunk by chunk. SP_EOF if
 * the part does not exist. */
static int parse_part(xlsx_state *st, const char *part, XML_Parser p, uint64_t max)
{
    zip_int64_t idx;
    zip_file_t *zf = NULL;
    uint64_t size = 0, total = 0;
    int rc = locate(st, part, &idx);
    if (rc != SP_OK) return rc;
    st->part = (char *)part;
    st->p = p;
    rc = open_part(st, idx, part, max, &zf, &size);
    if (rc != SP_OK) goto done;
    for (;;) {
        zip_int64_t n = zip_fread(zf, st->chunk, XLSX_CHUNK);
        if (n < 0) {
            rc = fail(st, SP_EINPUT, 0, "xlsx-zip", "cannot inflate %s: %s",
                      part, zip_file_strerror(zf));
            goto done;
        }
        total += (uint64_t)n;
        if (total > size || total > max) {
            rc = fail(st, SP_ELIMIT, 0, "xlsx-too-large",
                      "the part %s inflates past its declared size or the "
                      "limit of %llu bytes", part, (unsigned long long)max);
            goto done;
        }
        if (XML_Parse(p, st->chunk, (int)n, n == 0) == XML_STATUS_ERROR) {
            rc = xml_error(st, p);
            goto done;
        }
        if (st->rc) { rc = st->rc; goto done; }
        if (n == 0) break;
    }
    rc = SP_OK;
done:
    if (zf) zip_fclose(zf);
    st->p = NULL;
    st->part = NULL;
    return rc;
}

static char *dup_capped(xlsx_state *st, const char *s, const char *what)
{
    size_t n = strlen(s);
    if (n > XLSX_MAX_ATTR) {
        fail(st, SP_ELIMIT, 0, "xlsx-limit", "%s: %s is longer than %d bytes",
             st->part, what, XLSX_MAX_ATTR);
        cb_fail(st);
        return NULL;
    }
    return sp_xstrndup(s, n);
}

/* ---- workbook.xml: sheet names, relationship ids, date1904 */
static void XMLCALL wb_start(void *ud, const XML_Char *name, const XML_Char **a)
{
    xlsx_state *st = ud;
    const char *ln = local(name);
    if (st->rc) return;
    if (strcmp(ln, "workbookPr") == 0) {
        const char *v = attr(a, "date1904");
        st->date1904 = v && (strcmp(v, "1") == 0 || strcasecmp(v, "true") == 0);
    } else if (strcmp(ln, "sheet") == 0) {
        const char *nm = attr(a, "name"), *id = attr(a, "id");
        if (!nm || !id) return;
        if (st->nsheets >= XLSX_MAX_SHEETS) {
            fail(st, SP_ELIMIT, 0, "xlsx-limit", "the workbook lists more than %d sheets",
                 XLSX_MAX_SHEETS);
            cb_fail(st);
            return;
        }
        char *n1 = dup_capped(st, nm, "a sheet name");
        char *n2 = n1 ? dup_capped(st, id, "a sheet id") : NULL;
        if (!n2) { free(n1); return; }
        st->sheet_names = sp_xrealloc(st->sheet_names, (st->nsheets + 1) * sizeof(char *));
        st->sheet_rids = sp_xrealloc(st->sheet_rids, (st->nsheets + 1) * sizeof(char *));
        st->sheet_names[st->nsheets] = n1;
        st->sheet_rids[st->nsheets] = n2;
        st->nsheets++;
    }
}
static void XMLCALL no_end(void *ud, const XML_Char *name)
{
    (void)ud; (void)name;
}

/* ---- workbook.xml.rels */
static void XMLCALL rel_start(void *ud, const XML_Char *name, const XML_Char **a)
{
    xlsx_state *st = ud;
    if (st->rc || strcmp(local(name), "Relationship") != 0) return;
    const char *id = attr(a, "Id"), *ty = attr(a, "Type"), *tg = attr(a, "Target");
    if (!id || !ty || !tg) return;
    if (st->nrels >= XLSX_MAX_RELS) {
        fail(st, SP_ELIMIT, 0, "xlsx-limit", "%s lists more than %d relationships",
             st->part, XLSX_MAX_RELS);
        cb_fail(st);
        return;
    }
    const char *slash = strrchr(ty, '/');
    char *a1 = dup_capped(st, id, "a relationship id");
    char *a2 = a1 ? dup_capped(st, slash ? slash + 1 : ty, "a relationship type") : NULL;
    char *a3 = a2 ? dup_capped(st, tg, "a relationship target") : NULL;
    if (!a3) { free(a1); free(a2); return; }
    st->rel_ids = sp_xrealloc(st->rel_ids, (st->nrels + 1) * sizeof(char *));
    st->rel_types = sp_xrealloc(st->rel_types, (st->nrels + 1) * sizeof(char *));
    st->rel_targets = sp_xrealloc(st->rel_targets, (st->nrels + 1) * sizeof(char *));
    st->rel_ids[st->nrels] = a1;
    st->rel_types[st->nrels] = a2;
    st->rel_targets[st->nrels] = a3;
    st->nrels++;
}

/* A relationship target relative to xl/ as a zip entry name; NULL if it
 * climbs out of the package. Caller frees. */
static char *resolve_target(const char *tg)
{
    size_t n = strlen(tg);
    char *out = sp_xmalloc(n + 4);
    size_t o = 0;
    const char *p = tg;
    if (*p == '/') p++;
    else { memcpy(out, "xl/", 3); o = 3; }
    while (*p) {
        const char *e = strchr(p, '/');
        size_t sl = e ? (size_t)(e - p) : strlen(p);
        if (sl == 2 && p[0] == '.' && p[1] == '.') {
            if (o == 0) { free(out); return NULL; }
            o--;                                   /* drop the trailing '/' */
            while (o > 0 && out[o - 1] != '/') o--;
        } else if (!(sl == 1 && p[0] == '.') && sl > 0) {
            memcpy(out + o, p, sl);
            o += sl;
            if (e) out[o++] = '/';
        }
        p = e ? e + 1 : p + sl;
    }
    out[o] = '\0';
    return out;
}

static const char *rel_by_type(xlsx_state *st, const char *type)
{
    for (size_t i = 0; i < st->nrels; i++)
        if (strcmp(st->rel_types[i], type) == 0) return st->rel_targets[i];
    return NULL;
}

/* ---- sharedStrings.xml */
static void XMLCALL sst_start(void *ud, const XML_Char *name, const XML_Char **a)
{
    xlsx_state *st = ud;
    const char *ln = local(name);
    (void)a;
    if (st->rc) return;
    if (strcmp(ln, "si") == 0) {
        st->in_si = 1;
        st->si_start = st->sst.len;
    } else if (st->in_si && strcmp(ln, "rPh") == 0) {
        st->in_rph = 1;
    } else if (st->in_si && !st->in_rph && strcmp(ln, "t") == 0) {
        st->in_t = 1;
    }
}
static void XMLCALL sst_end(void *ud, const XML_Char *name)
{
    xlsx_state *st = ud;
    const char *ln = local(name);
    if (st->rc) return;
    if (strcmp(ln, "t") == 0) {
        st->in_t = 0;
    } else if (strcmp(ln, "rPh") == 0) {
        st->in_rph = 0;
    } else if (strcmp(ln, "si") == 0 && st->in_si) {
        st->in_si = 0;
        size_t n = decode_x(st->sst.data ? st->sst.data + st->si_start : (char *)"",
                            st->sst.len - st->si_start);
        st->sst.len = st->si_start + n;
        if (st->sst_n >= XLSX_MAX_SST_COUNT) {
            fail(st, SP_ELIMIT, 0, "xlsx-limit", "%s holds more than %ld strings",
                 st->part, XLSX_MAX_SST_COUNT);
            cb_fail(st);
            return;
        }
        if (st->sst_n == st->sst_alloc) {
            st->sst_alloc = st->sst_alloc ? st->sst_alloc * 2 : 1024;
            st->sst_off = sp_xrealloc(st->sst_off, st->sst_alloc * sizeof(uint32_t));
            st->sst_len = sp_xrealloc(st->sst_len, st->sst_alloc * sizeof(uint32_t));
        }
        st->sst_off[st->sst_n] = (uint32_t)st->si_start;
        st->sst_len[st->sst_n] = (uint32_t)n;
        st->sst_n++;
        /* a NUL after each string so a cell can point straight at it */
        if (sp_buf_addc(&st->sst, '\0') != SP_OK) {
            fail(st, SP_ELIMIT, 0, "xlsx-too-large",
                 "the shared strings are larger than %ld bytes", SP_MAX_XML_PART);
            cb_fail(st);
        }
    }
}
static void XMLCALL sst_chars(void *ud, const XML_Char *s, int len)
{
    xlsx_state *st = ud;
    if (st->rc || !st->in_t || !st->in_si || st->in_rph) return;
    if (sp_buf_add(&st->sst, s, (size_t)len) != SP_OK) {
        fail(st, SP_ELIMIT, 0, "xlsx-too-large",
             "the shared strings are larger than %ld bytes", SP_MAX_XML_PART);
        cb_fail(st);
    }
}

/* ---- styles.xml: which cell formats are dates */
static void XMLCALL sty_start(void *ud, const XML_Char *name, const XML_Char **a)
{
    xlsx_state *st = ud;
    const char *ln = local(name);
    if (st->rc) return;
    if (strcmp(ln, "cellXfs") == 0) {
        st->in_cellxfs = 1;
    } else if (strcmp(ln, "numFmts") == 0) {
        st->in_numfmts = 1;
    } else if (st->in_cellxfs && strcmp(ln, "xf") == 0) {
        if (st->xf_n >= XLSX_MAX_XF) {
            fail(st, SP_ELIMIT, 0, "xlsx-limit", "%s defines more than %d cell formats",
                 st->part, XLSX_MAX_XF);
            cb_fail(st);
            return;
        }
        long id = parse_small(attr(a, "numFmtId"));
        st->xf_fmt = sp_xrealloc(st->xf_fmt, (st->xf_n + 1) * sizeof(uint32_t));
        st->xf_fmt[st->xf_n++] = id < 0 ? 0 : (uint32_t)id;
    } else if (st->in_numfmts && strcmp(ln, "numFmt") == 0) {
        long id = parse_small(attr(a, "numFmtId"));
        const char *code = attr(a, "formatCode");
        if (id < 0 || !code) return;
        if (st->nf_n >= XLSX_MAX_NUMFMT) {
            fail(st, SP_ELIMIT, 0, "xlsx-limit", "%s defines more than %d number formats",
                 st->part, XLSX_MAX_NUMFMT);
            cb_fail(st);
            return;
        }
        st->nf_id = sp_xrealloc(st->nf_id, (st->nf_n + 1) * sizeof(uint32_t));
        st->nf_date = sp_xrealloc(st->nf_date, st->nf_n + 1);
        st->nf_id[st->nf_n] = (uint32_t)id;
        st->nf_date[st->nf_n] = (unsigned char)fmt_is_date(code);
        st->nf_n++;
    }
}
static void XMLCALL sty_end(void *ud, const XML_Char *name)
{
    xlsx_state *st = ud;
    const char *ln = local(name);
    if (strcmp(ln, "cellXfs") == 0) st->in_cellxfs = 0;
    else if (strcmp(ln, "numFmts") == 0) st->in_numfmts = 0;
}

static void resolve_styles(xlsx_state *st)
{
    st->xf_date = sp_xcalloc(st->xf_n ? st->xf_n : 1, 1);
    for (size_t i = 0; i < st->xf_n; i++) {
        uint32_t id = st->xf_fmt[i];
        int is = builtin_date(id);
        for (size_t j = 0; j < st->nf_n; j++)   /* a custom format overrides */
            if (st->nf_id[j] == id) { is = st->nf_date[j]; break; }
        st->xf_date[i] = (unsigned char)is;
    }
}

/* ------------------------------------------------------------ the sheet */

static int row_add(xlsx_state *st, long col, const char *s, size_t n)
{
    if (col >= SP_MAX_COLS) {
        if (n == 0) return SP_OK;           /* formatting beyond the data */
        fail(st, SP_ELIMIT, st->rownum, "xlsx-too-many-columns",
             "cell %s is beyond the limit of %d columns", st->ref, SP_MAX_COLS);
        return SP_ELIMIT;
    }
    size_t c = (size_t)col;
    while (st->ncells <= c) st->kind[st->ncells++] = K_EMPTY;
    if (n == 0) { st->kind[c] = K_EMPTY; return SP_OK; }
    st->kind[c] = K_BUF;
    st->off[c] = st->rowbuf.len;
    st->lens[c] = n;
    if (sp_buf_add(&st->rowbuf, s, n) != SP_OK || sp_buf_addc(&st->rowbuf, '\0') != SP_OK) {
        fail(st, SP_ELIMIT, st->rownum, "xlsx-row-too-large",
             "row %ld is too large to hold in memory", st->rownum);
        return SP_ELIMIT;
    }
    if (c + 1 > st->nonempty_end) st->nonempty_end = c + 1;
    return SP_OK;
}

/* Turns the collected <v> / <is> text of the finished cell into its shown
 * value and places it in the row. */
static int finish_cell(xlsx_state *st)
{
    char tmp[64];
    char *v = st->val.data ? st->val.data : (char *)"";
    size_t n = st->val.len;
    long col = st->ccol;

    switch (st->ctype) {
    case CT_S: {
        if (!st->chas_v || n == 0) return row_add(st, col, "", 0);
        long i = parse_small(v);
        if (i < 0 || (size_t)i >= st->sst_n) {
            fail(st, SP_EINPUT, st->rownum, "xlsx-bad-shared-string",
                 "cell %s refers to shared string '%.20s' but the workbook has "
                 "only %zu shared strings", st->ref, v, st->sst_n);
            return SP_EINPUT;
        }
        size_t len = st->sst_len[i];
        if (len > SP_MAX_CELL) {
            fail(st, SP_ELIMIT, st->rownum, "xlsx-cell-too-long",
                 "cell %s is longer than %d bytes", st->ref, SP_MAX_CELL);
            return SP_ELIMIT;
        }
        if (col >= SP_MAX_COLS || len == 0) return row_add(st, col, "", len);
        size_t c = (size_t)col;
        while (st->ncells <= c) st->kind[st->ncells++] = K_EMPTY;
        st->kind[c] = K_SST;
        st->off[c] = st->sst_off[i];
        st->lens[c] = len;
        if (c + 1 > st->nonempty_end) st->nonempty_end = c + 1;
        return SP_OK;
    }
    case CT_INLINE:
    case CT_STR:
        n = decode_x(v, n);
        return row_add(st, col, v, n);
    case CT_B:
        if (n == 1 && v[0] == '1') return row_add(st, col, "TRUE", 4);
        if (n == 1 && v[0] == '0') return row_add(st, col, "FALSE", 5);
        return row_add(st, col, v, n);
    case CT_E:
    case CT_D:
        return row_add(st, col, v, n);
    default: {
        if (n == 0) return row_add(st, col, "", 0);
        if (!st->cdate) {
            /* fast path: a plain integer is shown as written */
            size_t i = v[0] == '-' ? 1 : 0, k = i;
            while (k < n && v[k] >= '0' && v[k] <= '9') k++;
            if (k == n && k > i && k - i <= 15 && (v[i] != '0' || k - i == 1) &&
                !(i == 1 && k == 2 && v[1] == '0'))
                return row_add(st, col, v, n);
        }
        char *end;
        errno = 0;
        double x = strtod(v, &end);
        if (end != v + n || !isfinite(x))
            return row_add(st, col, v, n);    /* not a number: as written */
        size_t m = 0;
        if (st->cdate) m = fmt_date(x, st->date1904, tmp, sizeof tmp);
        if (m == 0) m = fmt_num(x, tmp, sizeof tmp);
        return row_add(st, col, tmp, m);
    }
    }
}

static void XMLCALL sh_start(void *ud, const XML_Char *name, const XML_Char **a)
{
    xlsx_state *st = ud;
    const char *ln = local(name);
    if (st->rc) return;
    switch (ln[0]) {
    case 'c':
        if (ln[1] == '\0' && st->in_row) {
            const char *r = NULL, *t = NULL, *s = NULL;
            for (; a[0]; a += 2) {
                const char *an = local(a[0]);
                if (an[0] == '\0' || an[1] != '\0') continue;
                if (an[0] == 'r') r = a[1];
                else if (an[0] == 't') t = a[1];
                else if (an[0] == 's') s = a[1];
            }
            if (r) {
                long col = ref_col(r);
                if (col < 0) {
                    snprintf(st->ref, sizeof st->ref, "%.20s", r);
                    fail(st, SP_EINPUT, st->rownum, "xlsx-bad-reference",
                         "%s: a cell in row %ld has the malformed reference '%.40s'",
                         st->part, st->rownum, r);
                    cb_fail(st);
                    return;
                }
                st->ccol = col;
                size_t k = 0;           /* ref_col checked it is short */
                while (r[k] && k < sizeof st->ref - 1) { st->ref[k] = r[k]; k++; }
                st->ref[k] = '\0';
            } else {
                st->ccol = st->next_col;
                col_ref(st->ccol, st->rownum, st->ref, sizeof st->ref);
            }
            st->next_col = st->ccol + 1;
            st->ctype = CT_N;
            if (t) {
                if (strcmp(t, "s") == 0) st->ctype = CT_S;
                else if (strcmp(t, "str") == 0) st->ctype = CT_STR;
                else if (strcmp(t, "inlineStr") == 0) st->ctype = CT_INLINE;
                else if (strcmp(t, "b") == 0) st->ctype = CT_B;
                else if (strcmp(t, "e") == 0) st->ctype = CT_E;
                else if (strcmp(t, "d") == 0) st->ctype = CT_D;
            }
            long si = s ? parse_small(s) : 0;
            st->cdate = si >= 0 && (size_t)si < st->xf_n && st->xf_date[si];
            st->in_c = 1;
            st->chas_v = 0;
            sp_buf_reset(&st->val);
        }
        break;
    case 'v':
        if (ln[1] == '\0' && st->in_c) {
            st->in_v = 1;
            st->chas_v = 1;
            sp_buf_reset(&st->val);   /* one value per cell */
            st->collect = &st->val;
        }
        break;
    case 'i':
        if (strcmp(ln, "is") == 0 && st->in_c) st->in_is = 1;
        break;
    case 't':
        if (ln[1] == '\0' && st->in_is && !st->in_f) {
            st->chas_v = 1;
            st->collect = &st->val;
        }
        break;
    case 'r':
        if (ln[1] == 'o' && strcmp(ln, "row") == 0 && st->in_sheetdata) {
            const char *r = attr(a, "r");
            long rn = r ? parse_small(r) : st->last_row + 1;
            if (rn <= 0 || rn > XLSX_MAX_ROWNUM) {
                fail(st, SP_EINPUT, st->last_row + 1, "xlsx-bad-row",
                     "%s: a row has the invalid number '%.40s' (after row %ld)",
                     st->part, r ? r : "", st->last_row);
                cb_fail(st);
                return;
            }
            st->rownum = rn;
            st->in_row = 1;
            st->next_col = 0;
            st->ncells = 0;
            st->nonempty_end = 0;
            sp_buf_reset(&st->rowbuf);
        } else if (strcmp(ln, "rPh") == 0) {
            st->in_f = 1;     /* phonetic runs are not cell text */
            st->collect = NULL;
        }
        break;
    case 's':
        if (strcmp(ln, "sheetData") == 0) st->in_sheetdata = 1;
        break;
    default:
        break;
    }
}

static void XMLCALL sh_end(void *ud, const XML_Char *name)
{
    xlsx_state *st = ud;
    const char *ln = local(name);
    if (st->rc) return;
    switch (ln[0]) {
    case 'v':
        if (ln[1] == '\0') { st->in_v = 0; st->collect = NULL; }
        break;
    case 't':
        if (ln[1] == '\0') st->collect = NULL;
        break;
    case 'i':
        if (strcmp(ln, "is") == 0) st->in_is = 0;
        break;
    case 'c':
        if (ln[1] == '\0' && st->in_c) {
            st->in_c = 0;
            st->in_is = 0;
            st->collect = NULL;
            if (finish_cell(st) != SP_OK) cb_fail(st);
        }
        break;
    case 'r':
        if (strcmp(ln, "row") == 0 && st->in_row) {
            st->in_row = 0;
            st->last_row = st->rownum;
            if (st->nonempty_end > 0) {
                st->row_ready = 1;
                XML_StopParser(st->p, XML_TRUE);
            }
        } else if (strcmp(ln, "rPh") == 0) {
            st->in_f = 0;
        }
        break;
    case 's':
        if (strcmp(ln, "sheetData") == 0) st->in_sheetdata = 0;
        break;
    default:
        break;
    }
}

static void XMLCALL sh_chars(void *ud, const XML_Char *s, int len)
{
    xlsx_state *st = ud;
    if (!st->collect || st->rc) return;
    if (sp_buf_add(st->collect, s, (size_t)len) != SP_OK) {
        fail(st, SP_ELIMIT, st->rownum, "xlsx-cell-too-long",
             "cell %s is longer than %d bytes", st->ref, SP_MAX_CELL);
        cb_fail(st);
    }
}

static void fill_row(xlsx_state *st, sp_row *row)
{
    size_t n = st->nonempty_end;
    for (size_t i = 0; i < n; i++) {
        switch (st->kind[i]) {
        case K_BUF: st->cellp[i] = st->rowbuf.data + st->off[i]; break;
        case K_SST: st->cellp[i] = st->sst.data + st->off[i]; break;
        default: st->cellp[i] = ""; st->lens[i] = 0; break;
        }
    }
    row->ncells = n;
    row->cell = st->cellp;
    row->len = st->lens;
    row->row = st->rownum;
}

static int x_next(void *vs, sp_row *row, sp_err *err)
{
    xlsx_state *st = vs;
    st->err = err;
    if (st->failed) {
        st->err = NULL;
        return SP_EUSAGE;
    }
    int rc = SP_EOF;
    while (!st->done) {
        enum XML_Status s;
        st->row_ready = 0;
        if (st->suspended) {
            st->suspended = 0;
            s = XML_ResumeParser(st->p);
        } else if (st->final_fed) {
            st->done = 1;
            break;
        } else {
            zip_int64_t n = zip_fread(st->zf, st->chunk, XLSX_CHUNK);
            if (n < 0) {
                rc = fail(st, SP_EINPUT, st->last_row, "xlsx-zip",
                          "cannot inflate %s: %s", st->part, zip_file_strerror(st->zf));
                goto failed;
            }
            st->inflated += (uint64_t)n;
            if (st->inflated > st->declared) {
                rc = fail(st, SP_ELIMIT, st->last_row, "xlsx-too-large",
                          "the part %s inflates past its declared size of %llu bytes",
                          st->part, (unsigned long long)st->declared);
                goto failed;
            }
            if (n == 0) st->final_fed = 1;
            s = XML_Parse(st->p, st->chunk, (int)n, n == 0);
        }
        if (s == XML_STATUS_ERROR) {
            rc = xml_error(st, st->p);
            goto failed;
        }
        if (st->rc) { rc = st->rc; goto failed; }
        if (s == XML_STATUS_SUSPENDED) st->suspended = 1;
        if (st->row_ready) {
            fill_row(st, row);
            st->err = NULL;
            return SP_OK;
        }
    }
    st->err = NULL;
    return SP_EOF;
failed:
    st->failed = 1;
    st->err = NULL;
    return rc;
}

static void x_progress(const void *vs, uint64_t *done, uint64_t *total)
{
    const xlsx_state *st = vs;
    *done = st->inflated;
    *total = st->declared;
}

static void free_list(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++) free(v[i]);
    free(v);
}

static void x_close(void *vs)
{
    xlsx_state *st = vs;
    if (!st) return;
    if (st->zf) zip_fclose(st->zf);
    if (st->za) zip_discard(st->za);
    if (st->p) XML_ParserFree(st->p);
    free_list(st->sheet_names, st->nsheets);
    free_list(st->sheet_rids, st->nsheets);
    free_list(st->rel_ids, st->nrels);
    free_list(st->rel_types, st->nrels);
    free_list(st->rel_targets, st->nrels);
    sp_buf_free(&st->sst);
    free(st->sst_off);
    free(st->sst_len);
    free(st->xf_fmt);
    free(st->xf_date);
    free(st->nf_id);
    free(st->nf_date);
    free(st->sheet_xml);
    free(st->chunk);
    sp_buf_free(&st->val);
    sp_buf_free(&st->rowbuf);
    free(st->name);
    free(st);
}

static const sp_reader_ops xlsx_ops = { x_next, x_progress, x_close };

/* Opens the zip and reads the workbook and its relationships: what both
 * xlsx_open_mem and xlsx_sheet_names need. */
static int open_workbook(xlsx_state *st, const void *data, size_t len)
{
    zip_error_t ze;
    zip_error_init(&ze);
    if (len < 22) {
        zip_error_fini(&ze);
        return fail(st, SP_EINPUT, 0, "xlsx-not-zip",
                    "this is not an XLSX file: it is too short to be a zip archive");
    }
    zip_source_t *src = zip_source_buffer_create(data, len, 0, &ze);
    if (!src) {
        zip_error_fini(&ze);
        return fail(st, SP_ENOMEM, 0, "xlsx-zip", "cannot read the zip from memory");
    }
    st->za = zip_open_from_source(src, ZIP_RDONLY, &ze);
    if (!st->za) {
        zip_source_free(src);
        int rc = fail(st, SP_EINPUT, 0, "xlsx-not-zip",
                      "this is not an XLSX file: it is not a valid zip archive (%s)",
                      zip_error_strerror(&ze));
        zip_error_fini(&ze);
        return rc;
    }
    zip_error_fini(&ze);

    XML_Parser p = new_parser(st, wb_start, no_end, NULL);
    if (!p) return fail(st, SP_ENOMEM, 0, "xlsx-xml", "cannot create an XML parser");
    int rc = parse_part(st, "xl/workbook.xml", p, XLSX_MAX_SMALL_PART);
    XML_ParserFree(p);
    if (rc == SP_EOF)
        return fail(st, SP_EINPUT, 0, "xlsx-no-workbook",
                    "this zip is not an XLSX workbook: it has no xl/workbook.xml");
    if (rc != SP_OK) return rc;
    if (st->nsheets == 0)
        return fail(st, SP_EINPUT, 0, "xlsx-no-sheet", "the workbook lists no sheets");

    p = new_parser(st, rel_start, no_end, NULL);
    if (!p) return fail(st, SP_ENOMEM, 0, "xlsx-xml", "cannot create an XML parser");
    rc = parse_part(st, "xl/_rels/workbook.xml.rels", p, XLSX_MAX_SMALL_PART);
    XML_ParserFree(p);
    if (rc == SP_EOF) rc = SP_OK;   /* sheets then default to worksheets/sheetN */
    return rc;
}

/* Finds the sheet's zip entry name. Caller frees. */
static int sheet_part(xlsx_state *st, const char *sheet, char **out)
{
    size_t pick = 0;
    if (sheet) {
        size_t i;
        for (i = 0; i < st->nsheets; i++)
            if (strcmp(st->sheet_names[i], sheet) == 0) break;
        if (i == st->nsheets) {   /* forgiving: case and surrounding spaces */
            const char *a = sheet;
            size_t an = sp_trim(&a, strlen(sheet));
            for (i = 0; i < st->nsheets; i++) {
                const char *b = st->sheet_names[i];
                size_t bn = sp_trim(&b, strlen(b));
                if (an == bn && strncasecmp(a, b, an) == 0) break;
            }
        }
        if (i == st->nsheets) {
            sp_buf list;
            sp_buf_init(&list, 4096);
            for (size_t k = 0; k < st->nsheets; k++)
                if (sp_buf_printf(&list, "%s'%s'", k ? ", " : "", st->sheet_names[k]) != SP_OK)
                    break;
            int rc = fail(st, SP_EUSAGE, 0, "xlsx-no-such-sheet",
                          "the workbook has no sheet named '%.200s'; its sheets are: %s",
                          sheet, list.data ? list.data : "");
            sp_buf_free(&list);
            return rc;
        }
        pick = i;
    }
    for (size_t i = 0; i < st->nrels; i++) {
        if (strcmp(st->rel_ids[i], st->sheet_rids[pick]) == 0) {
            char *t = resolve_target(st->rel_targets[i]);
            if (!t)
                return fail(st, SP_EINPUT, 0, "xlsx-bad-relationship",
                            "the sheet '%s' points outside the package ('%.200s')",
                            st->sheet_names[pick], st->rel_targets[i]);
            *out = t;
            return SP_OK;
        }
    }
    if (st->nrels == 0) {      /* no relationships part: the usual name */
        char tmp[64];
        snprintf(tmp, sizeof tmp, "xl/worksheets/sheet%zu.xml", pick + 1);
        *out = sp_xstrdup(tmp);
        return SP_OK;
    }
    return fail(st, SP_EINPUT, 0, "xlsx-bad-relationship",
                "the sheet '%s' has relationship id '%s', which "
                "xl/_rels/workbook.xml.rels does not define",
                st->sheet_names[pick], st->sheet_rids[pick]);
}

static xlsx_state *new_state(const char *name, sp_err *err)
{
    xlsx_state *st = sp_xcalloc(1, sizeof *st);
    st->name = sp_xstrdup(name ? name : "(xlsx)");
    st->err = err;
    st->chunk = sp_xmalloc(XLSX_CHUNK);
    sp_buf_init(&st->sst, (size_t)SP_MAX_XML_PART);
    sp_buf_init(&st->val, SP_MAX_CELL);
    sp_buf_init(&st->rowbuf, (size_t)SP_MAX_COLS * (SP_MAX_CELL + 1));
    return st;
}

int xlsx_open_mem(void **state, const sp_reader_ops **ops, const void *data,
                  size_t len, const char *name, const char *sheet, sp_err *err)
{
    xlsx_state *st = new_state(name, err);
    XML_Parser p = NULL;
    char *sst = NULL, *sty = NULL;
    zip_int64_t idx;
    int rc = open_workbook(st, data, len);
    if (rc != SP_OK) goto done;

    rc = sheet_part(st, sheet, &st->sheet_xml);
    if (rc != SP_OK) goto done;

    /* shared strings and styles: optional parts */
    const char *t = rel_by_type(st, "sharedStrings");
    sst = t ? resolve_target(t) : sp_xstrdup("xl/sharedStrings.xml");
    t = rel_by_type(st, "styles");
    sty = t ? resolve_target(t) : sp_xstrdup("xl/styles.xml");
    if (sst) {
        p = new_parser(st, sst_start, sst_end, sst_chars);
        if (!p) { rc = fail(st, SP_ENOMEM, 0, "xlsx-xml", "cannot create an XML parser"); }
        else {
            rc = parse_part(st, sst, p, (uint64_t)SP_MAX_XML_PART);
            XML_ParserFree(p);
            p = NULL;
            if (rc == SP_EOF) rc = SP_OK;
        }
    }
    if (rc == SP_OK && sty) {
        p = new_parser(st, sty_start, sty_end, NULL);
        if (!p) { rc = fail(st, SP_ENOMEM, 0, "xlsx-xml", "cannot create an XML parser"); }
        else {
            rc = parse_part(st, sty, p, XLSX_MAX_SMALL_PART);
            XML_ParserFree(p);
            p = NULL;
            if (rc == SP_EOF) rc = SP_OK;
        }
    }
    free(sst);
    free(sty);
    if (rc != SP_OK) goto done;
    resolve_styles(st);

    if (locate(st, st->sheet_xml, &idx) != SP_OK) {
        rc = fail(st, SP_EINPUT, 0, "xlsx-missing-part",
                  "the workbook names %s for its sheet, but the zip has no such entry",
                  st->sheet_xml);
        goto done;
    }
    st->part = st->sheet_xml;
    rc = open_part(st, idx, st->sheet_xml, XLSX_MAX_SHEET_BYTES, &st->zf, &st->declared);
    if (rc != SP_OK) goto done;
    st->p = new_parser(st, sh_start, sh_end, sh_chars);
    if (!st->p) { rc = fail(st, SP_ENOMEM, 0, "xlsx-xml", "cannot create an XML parser"); goto done; }
    rc = SP_OK;
done:
    if (rc != SP_OK) {
        st->err = NULL;
        x_close(st);
        return rc;
    }
    st->rc = 0;
    st->err = NULL;
    *state = st;
    *ops = &xlsx_ops;
    return SP_OK;
}

int xlsx_sheet_names(const void *data, size_t len, char ***names, size_t *n,
                     sp_err *err)
{
    xlsx_state *st = new_state(NULL, err);
    int rc = open_workbook(st, data, len);
    if (rc == SP_OK) {
        *names = st->sheet_names;
        *n = st->nsheets;
        st->sheet_names = sp_xcalloc(st->nsheets ? st->nsheets : 1, sizeof(char *));
    }
    st->err = NULL;
    x_close(st);
    return rc;
}
