/* csv.c -- RFC 4180 CSV over a memory buffer (usually a read-only mmap).
 *
 * This is on the hot path of a million-row import, so the inner loops are
 * table-driven byte scans with no function call per byte: one 256-entry class
 * table says which bytes end an unquoted run (the delimiter, '"', CR, LF,
 * NUL) and which need a UTF-8 check afterwards (>= 0x80). Cells are copied
 * once into a row buffer that is reused for every row (the input is
 * read-only, and cells must be NUL-terminated).
 *
 * Behaviour, decided once here:
 *  - a UTF-8 BOM is stripped; a UTF-16/32 BOM is refused with a hint;
 *  - the delimiter (, ; TAB) is the one occurring most outside quotes on the
 *    header line, ties going to , then ; then TAB, unless given;
 *  - CRLF, LF and lone CR all end a record; a final line ending does not
 *    start an empty record;
 *  - blank lines, and lines whose cells are all empty (",,,", as a
 *    spreadsheet exports its empty rows), are skipped but still counted, so
 *    `row` is the row number the spreadsheet shows; a newline inside quotes
 *    belongs to its record and does not advance the row number;
 *  - strict but helpful: a quote inside an unquoted cell, text after a
 *    closing quote, an unclosed quote, a NUL byte, invalid UTF-8, a cell over
 *    SP_MAX_CELL bytes and a row over SP_MAX_COLS cells are errors naming the
 *    row and column;
 *  - an empty file (or one with only blank lines) is an error, "the file is
 *    empty", so an import can never silently succeed with nothing.
 */
#include "reader.h"

#include <stdlib.h>
#include <string.h>

enum { C_TEXT = 0, C_DELIM, C_QUOTE, C_LF, C_CR, C_NUL, C_HIGH };

typedef struct csv {
    const unsigned char *p;
    size_t len, pos;
    char *name;
    char delim;
    long row;              /* spreadsheet row number of the next record */
    long nrec;             /* records returned so far */
    int failed;            /* rc of the error that stopped us, or 0 */
    unsigned char cls[256];   /* unquoted scanning */
    unsigned char qcls[256];  /* quoted scanning */
    /* the current row: cell bytes back to back, each NUL-terminated */
    char *buf;
    size_t buflen, bufalloc;
    size_t *off;           /* off[i]: start of cell i in buf */
    size_t *lens;
    const char **cells;
    size_t colalloc;
    /* header cells, copied, so errors can name the column */
    char **header;
    size_t nheader;
} csv;

/* Makes room for `n` more bytes in the row buffer. The row is bounded by
 * SP_MAX_COLS cells of SP_MAX_CELL bytes, checked by the callers, so this
 * never grows past ~64 MB. */
static void buf_need(csv *c, size_t n)
{
    if (c->buflen + n <= c->bufalloc) return;
    size_t na = c->bufalloc ? c->bufalloc : 4096;
    while (na < c->buflen + n) na *= 2;
    c->buf = sp_xrealloc(c->buf, na);
    c->bufalloc = na;
}

static void build_tables(csv *c)
{
    memset(c->cls, C_TEXT, sizeof c->cls);
    memset(c->qcls, C_TEXT, sizeof c->qcls);
    for (int b = 0x80; b < 256; b++) c->cls[b] = c->qcls[b] = C_HIGH;
    c->cls[(unsigned char)c->delim] = C_DELIM;
    c->cls['"'] = C_QUOTE;
    c->cls['\n'] = C_LF;
    c->cls['\r'] = C_CR;
    c->cls[0] = C_NUL;
    c->qcls['"'] = C_QUOTE;
    c->qcls[0] = C_NUL;
}

/* Column label for messages: "column 3 ('gender')" or "column 3". The
 * returned header name (or NULL) goes into the sp_err column field. */
static const char *col_name(const csv *c, size_t col)
{
    return col < c->nheader ? c->header[col] : NULL;
}

static int fail(csv *c, int rc)
{
    c->failed = rc;
    return rc;
}

/* Reports invalid UTF-8 in cell `col`, giving the byte offset of the first
 * bad sequence inside the cell so the user can find it. */
static int bad_utf8(csv *c, sp_err *err, long row, size_t col, const char *s,
                    size_t n)
{
    /* walk valid characters; sp_utf8_valid on 1..4 bytes tells a whole one */
    size_t good = 0;
    while (good < n) {
        size_t k = 1;
        while (k <= 4 && good + k <= n && !sp_utf8_valid(s + good, k)) k++;
        if (k > 4 || good + k > n) break;
        good += k;
    }
    sp_err_add(err, c->name, row, col_name(c, col), NULL, 0, "not-utf8",
               "column %zu: not UTF-8 (bad byte 0x%02X at byte %zu of the cell); "
               "save the file as UTF-8", col + 1,
               good < n ? (unsigned char)s[good] : 0u, good + 1);
    return fail(c, SP_EINPUT);
}

/* Picks the delimiter from the first record: the one of , ; TAB occurring
 * most outside quotes (ties: , then ; then TAB; none: ,). */
static char detect_delim(const csv *c)
{
    size_t n[3] = {0, 0, 0};
    int inq = 0;
    for (size_t i = c->pos; i < c->len; i++) {
        unsigned char b = c->p[i];
        if (b == '"') inq = !inq;
        else if (inq) continue;
        else if (b == '\n' || b == '\r') break;
        else if (b == ',') n[0]++;
        else if (b == ';') n[1]++;
        else if (b == '\t') n[2]++;
    }
    if (n[1] > n[0] && n[1] >= n[2]) return ';';
    if (n[2] > n[0] && n[2] > n[1]) return '\t';
    return ',';
}

/* Skips blank lines at c->pos, counting their rows. */
static void skip_blank(csv *c)
{
    while (c->pos < c->len) {
        unsigned char b = c->p[c->pos];
        if (b == '\n') { c->pos++; c->row++; }
        else if (b == '\r') {
            c->pos++;
            if (c->pos < c->len && c->p[c->pos] == '\n') c->pos++;
            c->row++;
        } else break;
    }
}

/* Parses one record at c->pos into the row buffer. Returns SP_OK (record in
 * c->buf/off/lens, *ncells set, *rec_row its row number), SP_EOF, or an
 * error. */
static int parse_record(csv *c, size_t *ncells_out, long *rec_row, sp_err *err)
{
    const unsigned char *p = c->p;
    const size_t end = c->len;
    size_t i = c->pos;
    size_t ncells = 0;
    long row = c->row;

    c->buflen = 0;
    for (;;) {  /* one iteration per cell */
        if (ncells >= SP_MAX_COLS) {
            sp_err_add(err, c->name, row, NULL, NULL, 0, "too-many-columns",
                       "more than %d cells in this row", SP_MAX_COLS);
            return fail(c, SP_ELIMIT);
        }
        if (ncells >= c->colalloc) {
            size_t na = c->colalloc ? c->colalloc * 2 : 32;
            if (na > SP_MAX_COLS) na = SP_MAX_COLS;
            c->off = sp_xrealloc(c->off, na * sizeof *c->off);
            c->lens = sp_xrealloc(c->lens, na * sizeof *c->lens);
            c->cells = sp_xrealloc(c->cells, na * sizeof *c->cells);
            c->colalloc = na;
        }
        size_t start = c->buflen;
        int high = 0;
        unsigned char term;   /* class of what ended the cell */
        c->off[ncells] = start;

        if (i < end && p[i] == '"') {
            i++;
            for (;;) {
                size_t s = i;
                for (;;) {
                    while (i < end && !c->qcls[p[i]]) i++;
                    if (i < end && c->qcls[p[i]] == C_HIGH) { high = 1; i++; continue; }
                    break;
                }
                size_t n = i - s;
                if (c->buflen - start + n > SP_MAX_CELL) goto too_long;
                buf_need(c, n + 1);
                memcpy(c->buf + c->buflen, p + s, n);
                c->buflen += n;
                if (i >= end) {
                    sp_err_add(err, c->name, row, col_name(c, ncells), NULL, 0,
                               "unterminated-quote",
                               "column %zu: a quoted cell opened here is never "
                               "closed (a \" is missing)", ncells + 1);
                    return fail(c, SP_EINPUT);
                }
                if (c->qcls[p[i]] == C_NUL) goto nul;
                /* a quote: doubled is a literal quote, single closes */
                if (i + 1 < end && p[i + 1] == '"') {
                    if (c->buflen - start + 1 > SP_MAX_CELL) goto too_long;
                    buf_need(c, 2);
                    c->buf[c->buflen++] = '"';
                    i += 2;
                    continue;
                }
                i++;
                break;
            }
            if (i >= end) term = C_LF;   /* EOF ends the record */
            else {
                term = c->cls[p[i]];
                if (term != C_DELIM && term != C_LF && term != C_CR) {
                    sp_err_add(err, c->name, row, col_name(c, ncells), NULL, 0,
                               "text-after-quote",
                               "column %zu: text after the closing quote of a "
                               "quoted cell; a quote inside a quoted cell must "
                               "be doubled (\"\")", ncells + 1);
                    return fail(c, SP_EINPUT);
                }
            }
        } else {
            size_t s = i;
            for (;;) {
                while (i < end && !c->cls[p[i]]) i++;
                if (i < end && c->cls[p[i]] == C_HIGH) { high = 1; i++; continue; }
                break;
            }
            if (i >= end) term = C_LF;
            else {
                term = c->cls[p[i]];
                if (term == C_QUOTE) {
                    sp_err_add(err, c->name, row, col_name(c, ncells),
                               (const char *)p + s, i - s + 1, "stray-quote",
                               "column %zu: a quote (\") inside a cell that does "
                               "not start with one; put the whole cell in quotes "
                               "and double the inner quote (\"\")", ncells + 1);
                    return fail(c, SP_EINPUT);
                }
                if (term == C_NUL) goto nul;
            }
            size_t n = i - s;
            if (n > SP_MAX_CELL) goto too_long;
            buf_need(c, n + 1);
            memcpy(c->buf + c->buflen, p + s, n);
            c->buflen += n;
        }

        c->lens[ncells] = c->buflen - start;
        c->buf[c->buflen++] = '\0';   /* room reserved by buf_need(n + 1) */
        if (high && !sp_utf8_valid(c->buf + start, c->lens[ncells]))
            return bad_utf8(c, err, row, ncells, c->buf + start, c->lens[ncells]);
        ncells++;

        if (term == C_DELIM) { i++; continue; }
        /* end of record: CRLF, LF, CR or EOF */
        if (i < end) {
            if (p[i] == '\r' && i + 1 < end && p[i + 1] == '\n') i += 2;
            else i++;
        }
        break;
    }
    c->pos = i;
    c->row++;
    *ncells_out = ncells;
    *rec_row = row;
    return SP_OK;

too_long:
    sp_err_add(err, c->name, row, col_name(c, ncells), NULL, 0, "cell-too-long",
               "column %zu: a cell longer than %d bytes", ncells + 1, SP_MAX_CELL);
    return fail(c, SP_ELIMIT);
nul:
    sp_err_add(err, c->name, row, col_name(c, ncells), NULL, 0, "nul-byte",
               "column %zu: a NUL byte; this looks like a binary file, not a "
               "UTF-8 CSV file", ncells + 1);
    return fail(c, SP_EINPUT);
}

static int csv_next(void *state, sp_row *out, sp_err *err)
{
    csv *c = state;
    if (c->failed) return c->failed;
    size_t ncells = 0;
    long row = 0;
    for (;;) {
        skip_blank(c);
        if (c->pos >= c->len) {
            if (c->nrec == 0) {
                sp_err_add(err, c->name, 0, NULL, NULL, 0, "empty-file",
                           "the file is empty (no header row)");
                return fail(c, SP_EINPUT);
            }
            return SP_EOF;
        }
        int rc = parse_record(c, &ncells, &row, err);
        if (rc != SP_OK) return rc;
        /* a row of only empty cells is a blank spreadsheet row: skip it */
        size_t k = 0;
        while (k < ncells && c->lens[k] == 0) k++;
        if (k < ncells) break;
    }
    for (size_t k = 0; k < ncells; k++) c->cells[k] = c->buf + c->off[k];
    if (c->nrec == 0) {
        c->header = sp_xcalloc(ncells, sizeof *c->header);
        for (size_t k = 0; k < ncells; k++)
            c->header[k] = sp_xstrndup(c->cells[k], c->lens[k]);
        c->nheader = ncells;
    }
    c->nrec++;
    out->ncells = ncells;
    out->cell = c->cells;
    out->len = c->lens;
    out->row = row;
    return SP_OK;
}

static void csv_progress(const void *state, uint64_t *done, uint64_t *total)
{
    const csv *c = state;
    *done = c->pos;
    *total = c->len;
}

static void csv_close(void *state)
{
    csv *c = state;
    if (!c) return;
    for (size_t k = 0; k < c->nheader; k++) free(c->header[k]);
    free(c->header);
    free(c->buf);
    free(c->off);
    free(c->lens);
    free(c->cells);
    free(c->name);
    free(c);
}

static const sp_reader_ops csv_ops = { csv_next, csv_progress, csv_close };

/* Opens a CSV reader on data[0..len) (borrowed; must outlive the state).
 * `delimiter` 0 detects among , ; TAB from the header line. Refuses a
 * UTF-16/32 byte-order mark with a hint. */
int csv_open_mem(void **state, const sp_reader_ops **ops, const char *data,
                 size_t len, const char *name, char delimiter, sp_err *err)
{
    *state = NULL;
    *ops = NULL;
    const char *nm = name ? name : "input";
    unsigned char d = (unsigned char)delimiter;
    if (d == '"' || d == '\n' || d == '\r' || d >= 0x80) {
        sp_err_add(err, nm, 0, NULL, NULL, 0, "bad-delimiter",
                   "the CSV delimiter cannot be a quote, a line break or a "
                   "non-ASCII byte");
        return SP_EUSAGE;
    }
    const unsigned char *u = (const unsigned char *)data;
    if (len >= 2 && ((u[0] == 0xFF && u[1] == 0xFE) || (u[0] == 0xFE && u[1] == 0xFF))) {
        sp_err_add(err, nm, 0, NULL, NULL, 0, "utf16",
                   "the file is UTF-16 (it starts with a UTF-16 byte-order "
                   "mark): save it as UTF-8 (in Excel: CSV UTF-8)");
        return SP_EINPUT;
    }
    if (len >= 4 && u[0] == 0 && u[1] == 0 && u[2] == 0xFE && u[3] == 0xFF) {
        sp_err_add(err, nm, 0, NULL, NULL, 0, "utf16",
                   "the file is UTF-32: save it as UTF-8");
        return SP_EINPUT;
    }
    csv *c = sp_xcalloc(1, sizeof *c);
    c->p = u;
    c->len = len;
    c->name = sp_xstrdup(nm);
    c->row = 1;
    if (len >= 3 && u[0] == 0xEF && u[1] == 0xBB && u[2] == 0xBF) c->pos = 3;
    if (d) c->delim = (char)d;
    else {
        skip_blank(c);   /* counts leading blank rows; next() would anyway */
        c->delim = detect_delim(c);
    }
    build_tables(c);
    *state = c;
    *ops = &csv_ops;
    return SP_OK;
}
