/* kobo.c -- see kobo.h.
 *
 * The repeat sheets are read first (they are small: a few rows per
 * submission) into chains keyed by group and _parent_index; then the first
 * sheet is streamed once and each row is written with its chains appended
 * as GROUP_N_SUB cells. Every string is in one arena; the joined CSV has a
 * cap (KOBO_MAX_JOINED). */
#include "kobo.h"
#include "reader.h"
#include "xlsform.h"

#include <stdlib.h>
#include <string.h>

typedef struct rep_entry {
    const char **cells;        /* nsub cells of the group, NULL = empty */
    int next;                  /* next entry of the same chain, -1 = end */
} rep_entry;

typedef struct chain {
    int head, tail, count, used;
    int group;                 /* index in cb->fields */
    const char *parent;        /* the _parent_index text */
    const char *sheet;
    long row;                  /* first row, for "no such parent" */
} chain;

typedef struct join_ctx {
    const sp_codebook *cb;
    const char *name;
    sp_err *err;
    sp_arena arena;
    rep_entry *e;
    size_t ne, ae;
    chain *ch;
    size_t nch, ach;
    sp_map chains;             /* "GROUP\x1fPARENT" -> chain index */
    int *has_group;            /* per top-level field: a repeat sheet seen */
} join_ctx;

static int fold_eq(const char *a, size_t na, const char *b)
{
    char x[512], y[512];
    size_t nx = sp_fold(a, na, x, sizeof x), ny = sp_fold(b, strlen(b), y, sizeof y);
    return nx == ny && memcmp(x, y, nx) == 0;
}

/* The codebook group a repeat sheet holds: by its name (Kobo names the
 * sheet after the repeat), else by a "GROUP/" prefix in its header. */
static int sheet_group(const sp_codebook *cb, const char *sheet, const sp_row *hdr)
{
    for (size_t i = 0; i < cb->nfields; i++)
        if (cb->fields[i].type == CB_GROUP && fold_eq(sheet, strlen(sheet), cb->fields[i].name))
            return (int)i;
    for (size_t c = 0; c < hdr->ncells; c++) {
        const char *slash = memchr(hdr->cell[c], '/', hdr->len[c]);
        if (!slash) continue;
        const char *last = slash;
        while ((slash = memchr(last + 1, '/', hdr->len[c] - (size_t)(last + 1 - hdr->cell[c]))))
            last = slash;
        /* the segment before the last '/' names the repeat */
        const char *seg = last;
        while (seg > hdr->cell[c] && seg[-1] != '/') seg--;
        for (size_t i = 0; i < cb->nfields; i++)
            if (cb->fields[i].type == CB_GROUP &&
                fold_eq(seg, (size_t)(last - seg), cb->fields[i].name))
                return (int)i;
    }
    return -1;
}

/* Sub-field index of a repeat sheet column ("exploitation/country",
 * "country", "indicators_type"), or -1. */
static int sub_of(const sp_codebook *cb, const cb_field *g, const char *h, size_t n)
{
    const char *seg = h + n;
    while (seg > h && seg[-1] != '/') seg--;
    size_t sn = (size_t)(h + n - seg);
    for (size_t s = 0; s < g->nsub; s++) {
        char form[160], full[200];
        if (g->sub[s].deprecated) continue;
        xlsform_sub_name(cb, g, &g->sub[s], form, sizeof form);
        snprintf(full, sizeof full, "%s_%s", g->name, g->sub[s].name);
        if (fold_eq(seg, sn, g->sub[s].name) || fold_eq(seg, sn, form) || fold_eq(seg, sn, full))
            return (int)s;
    }
    return -1;
}

static int find_col(const sp_row *hdr, const char *name)
{
    for (size_t c = 0; c < hdr->ncells; c++) {
        const char *h = hdr->cell[c];
        size_t n = sp_trim(&h, hdr->len[c]);
        if (n == strlen(name) && memcmp(h, name, n) == 0) return (int)c;
    }
    return -1;
}

/* Reads one repeat sheet into chains. *found is set when the sheet is a
 * repeat sheet at all (has _parent_index). */
static int read_repeat_sheet(join_ctx *j, const void *data, size_t len, const char *sheet,
                             int *found)
{
    sp_reader *rd = NULL;
    sp_reader_opts o = {SP_FMT_XLSX, sheet, 0};
    sp_row row;
    int rc = reader_open_mem(&rd, data, len, j->name, &o, j->err);
    int *colsub = NULL, pcol, g;
    const cb_field *gf;
    *found = 0;
    if (rc) goto done;
    rc = reader_next(rd, &row, j->err);
    if (rc == SP_EOF) { rc = SP_OK; goto done; }
    if (rc) goto done;
    if ((pcol = find_col(&row, "_parent_index")) < 0) goto done;
    *found = 1;
    if ((g = sheet_group(j->cb, sheet, &row)) < 0) {
        rc = sp_err_add(j->err, j->name, 1, NULL, sheet, strlen(sheet), "kobo-unknown-repeat",
                        "sheet '%s' is a repeat group (it has _parent_index) but no codebook "
                        "group has its name", sheet);
        goto done;
    }
    gf = &j->cb->fields[g];
    j->has_group[g] = 1;
    colsub = sp_xcalloc(row.ncells + 1, sizeof *colsub);
    for (size_t c = 0; c < row.ncells; c++) {
        const char *h = row.cell[c];
        size_t n = sp_trim(&h, row.len[c]);
        colsub[c] = -1;
        if (n == 0 || h[0] == '_') continue;   /* Kobo's own: _index, _submission__id ... */
        colsub[c] = sub_of(j->cb, gf, h, n);
        if (colsub[c] < 0)
            sp_err_warn(j->err, j->name, 1, h, NULL, 0, "unknown-column",
                        "sheet '%s': no field of '%s' has this name; the column is ignored",
                        sheet, gf->name);
    }
    size_t ncols = row.ncells;
    while ((rc = reader_next(rd, &row, j->err)) == SP_OK) {
        if ((size_t)pcol >= row.ncells) {
            sp_err_add(j->err, j->name, row.row, "_parent_index", NULL, 0, "kobo-no-parent",
                       "sheet '%s': this repeat row has no _parent_index", sheet);
            continue;
        }
        const char *p = row.cell[pcol];
        size_t pn = sp_trim(&p, row.len[pcol]);
        char key[600];
        int kn = snprintf(key, sizeof key, "%d\x1f%.*s", g, (int)(pn < 500 ? pn : 500), p);
        int ci;
        if (!sp_map_get(&j->chains, key, (size_t)kn, &ci)) {
            if (j->nch == j->ach) {
                j->ach = j->ach ? j->ach * 2 : 64;
                j->ch = sp_xrealloc(j->ch, j->ach * sizeof *j->ch);
            }
            ci = (int)j->nch++;
            j->ch[ci] = (chain){-1, -1, 0, 0, g, sp_arena_strndup(&j->arena, p, pn),
                                sp_arena_strdup(&j->arena, sheet), row.row};
            sp_map_put(&j->chains, key, (size_t)kn, ci);
        }
        chain *c = &j->ch[ci];
        if (++c->count > gf->max_repeat) {
            sp_err_add(j->err, j->name, row.row, "_parent_index", p, pn, "too-many-repeats",
                       "sheet '%s': submission %s has more than %d rows of '%s' (the codebook's "
                       "maximum)", sheet, c->parent, gf->max_repeat, gf->name);
            continue;
        }
        if (j->ne == j->ae) {
            j->ae = j->ae ? j->ae * 2 : 256;
            j->e = sp_xrealloc(j->e, j->ae * sizeof *j->e);
        }
        rep_entry *e = &j->e[j->ne];
        e->cells = sp_arena_alloc(&j->arena, (gf->nsub + 1) * sizeof *e->cells);
        memset(e->cells, 0, (gf->nsub + 1) * sizeof *e->cells);
        e->next = -1;
        for (size_t k = 0; k < row.ncells && k < ncols; k++)
            if (colsub[k] >= 0 && row.len[k])
                e->cells[colsub[k]] = sp_arena_strndup(&j->arena, row.cell[k], row.len[k]);
        if (c->tail >= 0) j->e[c->tail].next = (int)j->ne;
        else c->head = (int)j->ne;
        c->tail = (int)j->ne;
        j->ne++;
    }
    if (rc == SP_EOF) rc = SP_OK;
done:
    free(colsub);
    reader_close(rd);
    return rc;
}

static int csv_cell(sp_buf *b, const char *s, size_t n, int first)
{
    int rc = first ? SP_OK : sp_buf_addc(b, ',');
    if (!rc) rc = sp_buf_addc(b, '"');
    for (size_t i = 0; i < n && !rc; i++) {
        if (s[i] == '"') rc = sp_buf_addc(b, '"');
        if (!rc) rc = sp_buf_addc(b, s[i]);
    }
    if (!rc) rc = sp_buf_addc(b, '"');
    return rc;
}

/* Streams the first sheet into CSV with the chains appended. */
static int write_joined(join_ctx *j, const void *data, size_t len, const char *sheet,
                        sp_buf *out)
{
    sp_reader *rd = NULL;
    sp_reader_opts o = {SP_FMT_XLSX, sheet, 0};
    sp_row row;
    int rc = reader_open_mem(&rd, data, len, j->name, &o, j->err), icol;
    size_t nhdr;
    char name[300];
    if (rc) goto done;
    if ((rc = reader_next(rd, &row, j->err))) {
        if (rc == SP_EOF)
            rc = sp_err_add(j->err, j->name, 0, NULL, NULL, 0, "empty", "the first sheet is empty");
        goto done;
    }
    if ((icol = find_col(&row, "_index")) < 0) {
        rc = sp_err_add(j->err, j->name, 1, NULL, NULL, 0, "kobo-no-index",
                        "the workbook has repeat sheets but its first sheet '%s' has no _index "
                        "column to join them on", sheet);
        goto done;
    }
    nhdr = row.ncells;
    for (size_t c = 0; c < nhdr && !rc; c++) rc = csv_cell(out, row.cell[c], row.len[c], c == 0);
    for (size_t f = 0; f < j->cb->nfields && !rc; f++) {
        const cb_field *g = &j->cb->fields[f];
        if (!j->has_group[f]) continue;
        for (int r = 0; r < g->max_repeat && !rc; r++)
            for (size_t s = 0; s < g->nsub && !rc; s++) {
                if (g->sub[s].deprecated) continue;
                snprintf(name, sizeof name, "%s_%d_%s", g->name, r + 1, g->sub[s].name);
                rc = csv_cell(out, name, strlen(name), 0);
            }
    }
    if (!rc) rc = sp_buf_add(out, "\r\n", 2);
    while (!rc && (rc = reader_next(rd, &row, j->err)) == SP_OK) {
        for (size_t c = 0; c < nhdr && !rc; c++)
            rc = c < row.ncells ? csv_cell(out, row.cell[c], row.len[c], c == 0)
                                : csv_cell(out, "", 0, c == 0);
        for (size_t c = nhdr; c < row.ncells; c++) {
            const char *x = row.cell[c];
            if (sp_trim(&x, row.len[c]) == 0) continue;
            sp_err_add(j->err, j->name, row.row, NULL, row.cell[c], row.len[c], "extra-cell",
                       "cell %zu is beyond the last column of the header", c + 1);
            break;
        }
        const char *idx = (size_t)icol < row.ncells ? row.cell[icol] : "";
        size_t in = (size_t)icol < row.ncells ? row.len[icol] : 0;
        in = sp_trim(&idx, in);
        for (size_t f = 0; f < j->cb->nfields && !rc; f++) {
            const cb_field *g = &j->cb->fields[f];
            if (!j->has_group[f]) continue;
            char key[600];
            int kn = snprintf(key, sizeof key, "%zu\x1f%.*s", f, (int)(in < 500 ? in : 500), idx);
            int ci = -1, e = -1;
            if (in && sp_map_get(&j->chains, key, (size_t)kn, &ci)) {
                j->ch[ci].used = 1;
                e = j->ch[ci].head;
            }
            for (int r = 0; r < g->max_repeat && !rc; r++) {
                for (size_t s = 0; s < g->nsub && !rc; s++) {
                    if (g->sub[s].deprecated) continue;
                    const char *v = e >= 0 ? j->e[e].cells[s] : NULL;
                    rc = csv_cell(out, v ? v : "", v ? strlen(v) : 0, 0);
                }
                if (e >= 0) e = j->e[e].next;
            }
        }
        if (!rc) rc = sp_buf_add(out, "\r\n", 2);
    }
    if (rc == SP_EOF) rc = SP_OK;
    if (rc == SP_ELIMIT)
        sp_err_add(j->err, j->name, 0, NULL, NULL, 0, "too-large",
                   "the workbook joined with its repeat sheets is larger than %zu MiB",
                   KOBO_MAX_JOINED >> 20);
    for (size_t c = 0; c < j->nch && !rc; c++)
        if (!j->ch[c].used)
            sp_err_add(j->err, j->name, j->ch[c].row, "_parent_index", j->ch[c].parent,
                       strlen(j->ch[c].parent), "kobo-no-parent",
                       "sheet '%s': no row of the first sheet has _index %s", j->ch[c].sheet,
                       j->ch[c].parent);
done:
    reader_close(rd);
    return rc;
}

int kobo_join(const sp_codebook *cb, const void *data, size_t len, const char *name,
              char **csv, size_t *csvlen, int *joined, sp_err *err)
{
    char **sheets = NULL;
    size_t nsheets = 0;
    join_ctx j;
    sp_buf out;
    int rc, any = 0;
    size_t before = err->count;
    *csv = NULL;
    *csvlen = 0;
    *joined = 0;
    rc = xlsx_sheet_names(data, len, &sheets, &nsheets, err);
    if (rc) return rc;
    memset(&j, 0, sizeof j);
    j.cb = cb;
    j.name = name;
    j.err = err;
    sp_arena_init(&j.arena);
    sp_map_init(&j.chains);
    j.has_group = sp_xcalloc(cb->nfields + 1, sizeof *j.has_group);
    sp_buf_init(&out, KOBO_MAX_JOINED);
    for (size_t i = 1; i < nsheets && rc == SP_OK; i++) {
        int found = 0;
        rc = read_repeat_sheet(&j, data, len, sheets[i], &found);
        any |= found;
    }
    if (rc == SP_OK && any) rc = write_joined(&j, data, len, sheets[0], &out);
    if (rc == SP_OK && err->count > before) rc = SP_EINPUT;
    if (rc == SP_OK && any) {
        *csvlen = out.len;
        *csv = sp_buf_steal(&out);
        *joined = 1;
    }
    sp_buf_free(&out);
    for (size_t i = 0; i < nsheets; i++) free(sheets[i]);
    free(sheets);
    free(j.e);
    free(j.ch);
    free(j.has_group);
    sp_map_free(&j.chains);
    sp_arena_free(&j.arena);
    return rc;
}

const cb_field *kobo_choice_column(const sp_codebook *cb, const char *header)
{
    const char *sep = strrchr(header, '/');
    if (!sep) sep = strrchr(header, '.');
    if (!sep || sep == header || !sep[1]) return NULL;
    char fname[160];
    size_t fn = (size_t)(sep - header);
    if (fn >= sizeof fname) return NULL;
    memcpy(fname, header, fn);
    fname[fn] = '\0';
    const cb_field *f = codebook_field(cb, fname);
    if (!f || !f->multiple) return NULL;
    const char *code = sep + 1;
    if (f->type == CB_CODE) {
        const cb_value *v = codebook_value(f, code, strlen(code));
        return v && strcmp(v->code, code) == 0 ? f : NULL;
    }
    if (f->type == CB_COUNTRY) {
        const gz_country *c = gazetteer_alpha2(cb->gaz, code);
        return c ? f : NULL;
    }
    return NULL;
}
