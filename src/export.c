/* export.c -- see export.h. */
#include "export.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "embed.h"
#include "layout.h"
#include "xlsxw.h"

#define LINE_CAP (256u * 1024 * 1024)   /* one record's CSV line / JSON object */
#define CELL_CAP (16u * 1024 * 1024)

int export_format_parse(const char *s, export_format *out)
{
    if (!s) return SP_EUSAGE;
    if (sp_streq_nocase(s, "csv")) *out = EXPORT_CSV;
    else if (sp_streq_nocase(s, "json")) *out = EXPORT_JSON;
    else if (sp_streq_nocase(s, "xlsx")) *out = EXPORT_XLSX;
    else return SP_EUSAGE;
    return SP_OK;
}

/* "-" digits [ "." digits ]: a plain negative number, safe in a cell */
static int plain_negative(const char *s, size_t n)
{
    size_t i = 1, d = 0;
    if (n < 2 || s[0] != '-') return 0;
    while (i < n && s[i] >= '0' && s[i] <= '9') i++, d++;
    if (!d) return 0;
    if (i == n) return 1;
    if (s[i] != '.') return 0;
    i++;
    d = 0;
    while (i < n && s[i] >= '0' && s[i] <= '9') i++, d++;
    return d && i == n;
}

int export_needs_neutralising(const char *s, size_t n)
{
    if (!n) return 0;
    switch (s[0]) {
    case '=': case '+': case '@': case '\t': case '\r': return 1;
    case '-': return !plain_negative(s, n);
    default: return 0;
    }
}

/* Is s a JSON number as RFC 8259 writes it? (decimal text from "%.15g"
 * is, but "inf" or "nan" would not be) */
static int json_number(const char *s, size_t n)
{
    size_t i = 0;
    if (i < n && s[i] == '-') i++;
    if (i >= n) return 0;
    if (s[i] == '0') i++;
    else if (s[i] >= '1' && s[i] <= '9') while (i < n && s[i] >= '0' && s[i] <= '9') i++;
    else return 0;
    if (i < n && s[i] == '.') {
        size_t d = ++i;
        while (i < n && s[i] >= '0' && s[i] <= '9') i++;
        if (i == d) return 0;
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-')) i++;
        size_t d = i;
        while (i < n && s[i] >= '0' && s[i] <= '9') i++;
        if (i == d) return 0;
    }
    return i == n;
}

static int is_numeric_type(cb_type t)
{
    return t == CB_INTEGER || t == CB_YEAR || t == CB_DECIMAL;
}

/* ---- the state of one export */
enum { P_RECORD_ID, P_ORG, P_SUBMISSION, P_VERSION, P_SYNTHETIC, P_N };
static const char *const PROV[P_N] = {"record_id", "organisation", "submission_id",
                                      "codebook_version", "synthetic"};

typedef struct ex_ctx {
    const sp_codebook *cb;
    export_format fmt;
    int include_sensitive;
    sp_layout l;
    json_t *map;               /* mapping root or NULL */
    json_t **colvals;          /* per layout column: value map or NULL */
    FILE *f;                   /* CSV, JSON */
    xlsxw *w;                  /* XLSX */
    sp_buf line, cell;
    long long n;
    int rc;
    sp_err *err;
} ex_ctx;

/* The mapped name of a column/field/key, or the name itself without a
 * mapping, into b. */
static void mapped_name(const ex_ctx *x, const char *name, sp_buf *b)
{
    sp_buf_reset(b);
    if (!x->map) { sp_buf_adds(b, name); return; }
    json_t *v = json_object_get(json_object_get(x->map, "columns"), name);
    if (json_is_string(v)) sp_buf_adds(b, json_string_value(v));
    else sp_buf_printf(b, "spotlight_%s", name);
}

/* The export text of a code, through the value map vm when there is one. */
static const char *map_value(json_t *vm, const char *code)
{
    if (!vm) return code;
    json_t *v = json_object_get(vm, code);
    return json_is_string(v) ? json_string_value(v) : code;
}

static json_t *values_for(const ex_ctx *x, const cb_field *f)
{
    if (!x->map || f->type != CB_CODE) return NULL;
    json_t *vm = json_object_get(json_object_get(x->map, "values"), f->name);
    return json_is_object(vm) ? vm : NULL;
}

static int load_mapping(ex_ctx *x, const char *name)
{
    char path[96];
    size_t len = 0;
    size_t n = strlen(name);
    for (size_t i = 0; i < n; i++)
        if (!((name[i] >= 'a' && name[i] <= 'z') || (name[i] >= '0' && name[i] <= '9') ||
              name[i] == '_'))
            n = 0;
    if (!n || n > 40)
        return sp_err_add(x->err, NULL, 0, NULL, name, strlen(name), "unknown-mapping",
                          "an export mapping is a built-in name such as 'htcds'"), SP_EUSAGE;
    snprintf(path, sizeof path, "mappings/%s.json", name);
    const char *data = embed_get(path, &len);
    if (!data)
        return sp_err_add(x->err, NULL, 0, NULL, name, strlen(name), "unknown-mapping",
                          "there is no built-in mapping with this name"), SP_EUSAGE;
    json_error_t je;
    x->map = json_loadb(data, len, 0, &je);
    if (!x->map || !json_is_object(x->map)) {
        sp_err_add(x->err, path, je.line, NULL, NULL, 0, "bad-mapping",
                   "the built-in mapping is not valid JSON: %s", je.text);
        return SP_EINPUT;
    }
    json_t *dir = json_object_get(x->map, "direction");
    if (!json_is_string(dir) || strcmp(json_string_value(dir), "export") != 0)
        return sp_err_add(x->err, NULL, 0, NULL, name, strlen(name), "not-export-mapping",
                          "this mapping is for importing, not for exporting"), SP_EUSAGE;
    if (!json_is_object(json_object_get(x->map, "columns")))
        return sp_err_add(x->err, path, 0, NULL, NULL, 0, "bad-mapping",
                          "the mapping has no \"columns\" object");
    x->colvals = sp_xcalloc(x->l.ncols ? x->l.ncols : 1, sizeof *x->colvals);
    for (size_t c = 0; c < x->l.ncols; c++) {
        const sp_column *col = &x->l.cols[c];
        x->colvals[c] = values_for(x, col->sub ? col->sub : col->field);
    }
    return SP_OK;
}

/* ---- writing cells */
static int csv_cell(sp_buf *b, const char *s, size_t n, int neutral)
{
    int rc = 0, apos = neutral && export_needs_neutralising(s, n);
    int q = apos ? 0 : (n && (s[0] == ' ' || s[n - 1] == ' '));
    for (size_t i = 0; i < n && !q; i++)
        q = s[i] == ',' || s[i] == '"' || s[i] == '\n' || s[i] == '\r';
    if (apos) q = 1;   /* "'\r..." etc: quoting keeps it one cell */
    if (q) rc |= sp_buf_addc(b, '"');
    if (apos) rc |= sp_buf_addc(b, '\'');
    size_t start = 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] == '"') {
            rc |= sp_buf_add(b, s + start, i - start + 1);
            rc |= sp_buf_addc(b, '"');
            start = i + 1;
        }
    rc |= sp_buf_add(b, s + start, n - start);
    if (q) rc |= sp_buf_addc(b, '"');
    return rc ? SP_ELIMIT : SP_OK;
}

static int json_str(sp_buf *b, const char *s, size_t n)
{
    int rc = sp_buf_addc(b, '"');
    int valid = sp_utf8_valid(s, n);
    for (size_t i = 0; i < n && !rc; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch == '"' || ch == '\\') {
            char e[2] = {'\\', (char)ch};
            rc = sp_buf_add(b, e, 2);
        } else if (ch < 0x20 || ch == 0x7f) {
            rc = sp_buf_printf(b, "\\u%04x", ch);
        } else if (ch >= 0x80 && !valid) {
            rc = sp_buf_adds(b, "\\ufffd");   /* never pass on invalid UTF-8 */
        } else {
            rc = sp_buf_addc(b, (char)ch);
        }
    }
    if (!rc) rc = sp_buf_addc(b, '"');
    return rc ? SP_ELIMIT : SP_OK;
}

/* The text of layout column c, values mapped (multiple values deduplicated
 * after mapping, joined with "; "). */
static int column_text(ex_ctx *x, size_t c, const sp_record *r, sp_buf *out)
{
    json_t *vm = x->colvals ? x->colvals[c] : NULL;
    if (!vm) return layout_cell_text(&x->l, c, r, out);
    const sp_column *col = &x->l.cols[c];
    sp_buf_reset(out);
    if (col->sub) {
        const rec_group *g = &r->groups[col->field->index];
        if ((size_t)col->rep >= g->nrows) return SP_OK;
        const cb_cell *cell = &g->cells[(size_t)col->rep * col->field->nsub +
                                        (size_t)col->sub->index];
        return cell->text ? sp_buf_adds(out, map_value(vm, cell->text)) : SP_OK;
    }
    const rec_values *v = &r->vals[col->field->index];
    for (size_t i = 0; i < v->n; i++) {
        if (!v->v[i].text) continue;
        const char *m = map_value(vm, v->v[i].text);
        int dup = 0;
        for (size_t j = 0; j < i && !dup; j++)
            dup = v->v[j].text && strcmp(map_value(vm, v->v[j].text), m) == 0;
        if (dup) continue;
        if (out->len && sp_buf_add(out, "; ", 2)) return SP_ELIMIT;
        if (sp_buf_adds(out, m)) return SP_ELIMIT;
    }
    return SP_OK;
}

static int fail(ex_ctx *x, int rc, long long id, const char *col, const char *why)
{
    if (!x->rc) {
        x->rc = rc;
        sp_err_add(x->err, NULL, 0, col, NULL, 0, rc == SP_EIO ? "write-failed" : "export",
                   "record %lld: %s", id, why);
    }
    return 1;
}

static int write_line(ex_ctx *x, long long id)
{
    if (fwrite(x->line.data, 1, x->line.len, x->f) != x->line.len)
        return fail(x, SP_EIO, id, NULL, strerror(errno));
    return 0;
}

/* ---- one record per format */
static int row_csv(ex_ctx *x, const sp_record *r, const sp_record_meta *m)
{
    sp_buf *b = &x->line;
    char num[32];
    int rc = 0;
    sp_buf_reset(b);
    snprintf(num, sizeof num, "%lld", m->id);
    rc |= csv_cell(b, num, strlen(num), 0);
    rc |= sp_buf_addc(b, ',');
    const char *org = m->org_name ? m->org_name : "";
    rc |= csv_cell(b, org, strlen(org), 1);
    snprintf(num, sizeof num, ",%lld,", m->submission_id);
    rc |= sp_buf_adds(b, num);
    const char *ver = m->codebook_version ? m->codebook_version : "";
    rc |= csv_cell(b, ver, strlen(ver), 1);
    rc |= sp_buf_adds(b, m->synthetic ? ",1" : ",0");
    for (size_t c = 0; c < x->l.ncols && !rc; c++) {
        rc |= sp_buf_addc(b, ',');
        if (column_text(x, c, r, &x->cell))
            return fail(x, SP_ELIMIT, m->id, x->l.cols[c].name, "cell too large to export");
        const cb_field *fd = x->l.cols[c].sub ? x->l.cols[c].sub : x->l.cols[c].field;
        rc |= csv_cell(b, x->cell.data, x->cell.len, !is_numeric_type(fd->type));
    }
    rc |= sp_buf_add(b, "\r\n", 2);
    if (rc) return fail(x, SP_ELIMIT, m->id, NULL, "record too large to export");
    return write_line(x, m->id);
}

static int row_xlsx(ex_ctx *x, const sp_record *r, const sp_record_meta *m)
{
    int rc = xlsxw_row_begin(x->w);
    const char *org = m->org_name ? m->org_name : "";
    const char *ver = m->codebook_version ? m->codebook_version : "";
    if (!rc) rc = xlsxw_cell_num(x->w, (double)m->id);
    if (!rc) {
        sp_buf_reset(&x->cell);
        if (export_needs_neutralising(org, strlen(org))) sp_buf_addc(&x->cell, '\'');
        if (sp_buf_adds(&x->cell, org)) rc = SP_ELIMIT;
        else rc = xlsxw_cell_str(x->w, x->cell.data, x->cell.len);
    }
    if (!rc) rc = xlsxw_cell_num(x->w, (double)m->submission_id);
    if (!rc) rc = xlsxw_cell_str(x->w, ver, strlen(ver));
    if (!rc) rc = xlsxw_cell_num(x->w, m->synthetic ? 1 : 0);
    for (size_t c = 0; c < x->l.ncols && !rc; c++) {
        sp_buf *t = &x->cell;
        const cb_field *fd = x->l.cols[c].sub ? x->l.cols[c].sub : x->l.cols[c].field;
        sp_buf_reset(&x->line);
        if (column_text(x, c, r, &x->line))
            return fail(x, SP_ELIMIT, m->id, x->l.cols[c].name, "cell too large to export");
        double d;
        if (!x->line.len) {
            rc = xlsxw_cell_empty(x->w);
        } else if (is_numeric_type(fd->type) &&
                   sp_parse_double(x->line.data, x->line.len, &d) == 0) {
            rc = xlsxw_cell_num(x->w, d);
        } else {
            sp_buf_reset(t);
            if (export_needs_neutralising(x->line.data, x->line.len)) sp_buf_addc(t, '\'');
            if (sp_buf_add(t, x->line.data, x->line.len)) rc = SP_ELIMIT;
            else rc = xlsxw_cell_str(x->w, t->data, t->len);
        }
    }
    if (!rc) rc = xlsxw_row_end(x->w);
    if (rc) return fail(x, rc, m->id, NULL, "the XLSX writer failed");
    return 0;
}

static int json_value(ex_ctx *x, sp_buf *b, const cb_field *f, json_t *vm, const char *text)
{
    size_t n = strlen(text);
    if (is_numeric_type(f->type) && json_number(text, n)) return sp_buf_add(b, text, n);
    const char *t = map_value(vm, text);
    (void)x;
    return json_str(b, t, strlen(t));
}

static int row_json(ex_ctx *x, const sp_record *r, const sp_record_meta *m)
{
    sp_buf *b = &x->line, *k = &x->cell;
    int rc = 0;
    sp_buf_reset(b);
    rc |= sp_buf_adds(b, x->n ? ",\n{" : "{");
    for (int p = 0; p < P_N; p++) {
        mapped_name(x, PROV[p], k);
        if (p) rc |= sp_buf_addc(b, ',');
        rc |= json_str(b, k->data, k->len);
        rc |= sp_buf_addc(b, ':');
        const char *s = p == P_ORG ? m->org_name : m->codebook_version;
        switch (p) {
        case P_RECORD_ID: rc |= sp_buf_printf(b, "%lld", m->id); break;
        case P_SUBMISSION: rc |= sp_buf_printf(b, "%lld", m->submission_id); break;
        case P_SYNTHETIC: rc |= sp_buf_adds(b, m->synthetic ? "true" : "false"); break;
        default: rc |= s ? json_str(b, s, strlen(s)) : sp_buf_adds(b, "null"); break;
        }
    }
    for (size_t i = 0; i < x->cb->nfields && !rc; i++) {
        const cb_field *f = &x->cb->fields[i];
        if (f->deprecated || (f->sensitive && !x->include_sensitive)) continue;
        mapped_name(x, f->name, k);
        rc |= sp_buf_addc(b, ',');
        rc |= json_str(b, k->data, k->len);
        rc |= sp_buf_addc(b, ':');
        if (f->type == CB_GROUP) {
            const rec_group *g = &r->groups[i];
            rc |= sp_buf_addc(b, '[');
            for (size_t row = 0; row < g->nrows; row++) {
                rc |= sp_buf_adds(b, row ? ",{" : "{");
                int first = 1;
                for (size_t s = 0; s < f->nsub; s++) {
                    const cb_field *sub = &f->sub[s];
                    if (sub->deprecated || (sub->sensitive && !x->include_sensitive)) continue;
                    const cb_cell *c = &g->cells[row * f->nsub + s];
                    if (!first) rc |= sp_buf_addc(b, ',');
                    first = 0;
                    rc |= json_str(b, sub->name, strlen(sub->name));
                    rc |= sp_buf_addc(b, ':');
                    if (c->text) rc |= json_value(x, b, sub, values_for(x, sub), c->text);
                    else rc |= sp_buf_adds(b, "null");
                }
                rc |= sp_buf_addc(b, '}');
            }
            rc |= sp_buf_addc(b, ']');
            continue;
        }
        const rec_values *v = &r->vals[i];
        json_t *vm = values_for(x, f);
        if (f->multiple) {
            rc |= sp_buf_addc(b, '[');
            size_t out = 0;
            for (size_t j = 0; j < v->n; j++) {
                if (!v->v[j].text) continue;
                int dup = 0;
                for (size_t q = 0; q < j && !dup; q++)
                    dup = v->v[q].text &&
                          !strcmp(map_value(vm, v->v[q].text), map_value(vm, v->v[j].text));
                if (dup) continue;
                if (out++) rc |= sp_buf_addc(b, ',');
                rc |= json_value(x, b, f, vm, v->v[j].text);
            }
            rc |= sp_buf_addc(b, ']');
        } else if (v->n && v->v[0].text) {
            rc |= json_value(x, b, f, vm, v->v[0].text);
        } else {
            rc |= sp_buf_adds(b, "null");
        }
    }
    rc |= sp_buf_addc(b, '}');
    if (rc) return fail(x, SP_ELIMIT, m->id, NULL, "record too large to export");
    return write_line(x, m->id);
}

static int on_record(const sp_record *r, const sp_record_meta *m, void *ud)
{
    ex_ctx *x = ud;
    int stop;
    switch (x->fmt) {
    case EXPORT_CSV: stop = row_csv(x, r, m); break;
    case EXPORT_JSON: stop = row_json(x, r, m); break;
    default: stop = row_xlsx(x, r, m); break;
    }
    if (!stop) x->n++;
    return stop;
}

static int write_header(ex_ctx *x)
{
    sp_buf *k = &x->cell;
    int rc = 0;
    if (x->fmt == EXPORT_JSON) {
        if (fputs("[\n", x->f) == EOF) rc = SP_EIO;
        return rc;
    }
    sp_buf_reset(&x->line);
    if (x->fmt == EXPORT_CSV) rc |= sp_buf_adds(&x->line, "\xEF\xBB\xBF");
    else rc = xlsxw_row_begin(x->w);
    for (size_t c = 0; c < P_N + x->l.ncols && !rc; c++) {
        mapped_name(x, c < P_N ? PROV[c] : x->l.cols[c - P_N].name, k);
        if (x->fmt == EXPORT_CSV) {
            if (c) rc |= sp_buf_addc(&x->line, ',');
            rc |= csv_cell(&x->line, k->data, k->len, 1);
        } else {
            rc = xlsxw_cell_str(x->w, k->data, k->len);
        }
    }
    if (x->fmt == EXPORT_CSV) {
        rc |= sp_buf_add(&x->line, "\r\n", 2);
        if (!rc && fwrite(x->line.data, 1, x->line.len, x->f) != x->line.len) rc = SP_EIO;
    } else if (!rc) {
        rc = xlsxw_row_end(x->w);
    }
    return rc;
}

int export_records(sp_store *s, const sp_codebook *cb, const sp_filter *f,
                   export_format fmt, const char *mapping, int include_sensitive,
                   const char *out_path, sp_err *err)
{
    ex_ctx x;
    sp_filter all;
    int rc = SP_OK, to_stdout = out_path && strcmp(out_path, "-") == 0;
    memset(&x, 0, sizeof x);
    x.cb = cb;
    x.fmt = fmt;
    x.include_sensitive = include_sensitive;
    x.err = err;
    sp_buf_init(&x.line, LINE_CAP);
    sp_buf_init(&x.cell, CELL_CAP);
    layout_build(&x.l, cb, include_sensitive);
    if (!f) {
        memset(&all, 0, sizeof all);
        f = &all;
    }
    if (!out_path || !*out_path || (fmt != EXPORT_CSV && fmt != EXPORT_JSON && fmt != EXPORT_XLSX)) {
        rc = sp_err_add(err, NULL, 0, NULL, NULL, 0, "usage",
                        "export needs a format (csv, json, xlsx) and an output path");
        rc = SP_EUSAGE;
        goto done;
    }
    if (mapping && *mapping && (rc = load_mapping(&x, mapping)) != SP_OK) goto done;

    if (fmt == EXPORT_XLSX) {
        rc = xlsxw_open(&x.w, out_path, "Cases", err);
    } else {
        x.f = to_stdout ? stdout : fopen(out_path, "wb");
        if (!x.f) {
            rc = sp_err_add(err, out_path, 0, NULL, NULL, 0, "cannot-write",
                            "cannot open the output file: %s", strerror(errno));
            rc = SP_EIO;
        }
    }
    if (rc) goto done;
    rc = write_header(&x);
    if (rc) {
        sp_err_add(err, out_path, 0, NULL, NULL, 0, "write-failed", "cannot write the header");
        goto finish;
    }
    int src = store_scan(s, f, on_record, &x);
    if (x.rc) rc = x.rc;
    else if (src) {
        rc = src < 0 ? src : SP_EDB;
        sp_err_add(err, NULL, 0, NULL, NULL, 0, "store", "reading the records failed: %s",
                   store_errmsg(s));
    }
    if (!rc && fmt == EXPORT_JSON && fputs(x.n ? "\n]\n" : "]\n", x.f) == EOF) rc = SP_EIO;
finish:
    if (x.w) {
        int crc = xlsxw_close(x.w);     /* writes nothing after an error */
        x.w = NULL;
        if (!rc && crc) rc = crc;
    }
    if (x.f) {
        if (to_stdout) {
            if (fflush(x.f) != 0 && !rc) rc = SP_EIO;
        } else if (fclose(x.f) != 0 && !rc) {
            rc = SP_EIO;
        }
        if (rc == SP_EIO && !err->count)
            sp_err_add(err, out_path, 0, NULL, NULL, 0, "write-failed",
                       "cannot write the output: %s", strerror(errno));
        if (rc && !to_stdout) remove(out_path);
        x.f = NULL;
    }
done:
    json_decref(x.map);
    free(x.colvals);
    layout_free(&x.l);
    sp_buf_free(&x.line);
    sp_buf_free(&x.cell);
    return rc;
}
