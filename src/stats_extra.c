/* stats_extra.c -- see stats_extra.h. Every number comes from store_count
 * or store_count_records; tables are built with the same memory layout as
 * stats.c's (cols, cells, notes malloc'd; strings in t->arena) so that
 * stats_table_free releases them. */
#include "stats_extra.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "codebook.h"
#include "gazetteer.h"

static const char *const extra_names[] = { "ransom", "coverage", "organisations" };
#define NEXTRA (sizeof extra_names / sizeof extra_names[0])

const char *const *stats_extra_names(size_t *n)
{
    if (n) *n = NEXTRA;
    return extra_names;
}

int stats_extra_known(const char *name)
{
    for (size_t i = 0; name && i < NEXTRA; i++)
        if (strcmp(extra_names[i], name) == 0) return 1;
    return 0;
}

/* ------------------------------------------------------------ building */

/* A new empty table with static column definitions copied in. */
static stats_table *tab_new(const char *name, const char *title, const stats_column *cols,
                            size_t ncols, const char *counts)
{
    stats_table *t = sp_xcalloc(1, sizeof *t);
    sp_arena_init(&t->arena);
    t->name = name;
    t->title = title;
    t->cols = sp_xmalloc(ncols * sizeof *cols);
    memcpy(t->cols, cols, ncols * sizeof *cols);
    t->ncols = ncols;
    t->nlevels = 1;
    t->counts = counts;
    return t;
}

/* Appends a row of empty cells; returns its first cell. Rows are capped. */
static stats_cell *tab_row(stats_table *t)
{
    if (t->nrows >= STATS_MAX_ROWS) return NULL;
    if (t->nrows == t->alloc_rows) {
        t->alloc_rows = t->alloc_rows ? t->alloc_rows * 2 : 16;
        t->cells = sp_xrealloc(t->cells, t->alloc_rows * t->ncols * sizeof *t->cells);
    }
    stats_cell *c = &t->cells[t->nrows * t->ncols];
    memset(c, 0, t->ncols * sizeof *c);
    t->nrows++;
    return c;
}

static void tab_note(stats_table *t, const char *s)
{
    if (t->nnotes == t->alloc_notes) {
        t->alloc_notes = t->alloc_notes ? t->alloc_notes * 2 : 4;
        t->notes = sp_xrealloc(t->notes, t->alloc_notes * sizeof *t->notes);
    }
    t->notes[t->nnotes++] = sp_arena_strdup(&t->arena, s);
}

static const char *tab_str(stats_table *t, const char *s)
{
    return s ? sp_arena_strdup(&t->arena, s) : NULL;
}

static void copy_filter(stats_table *t, const sp_filter *f)
{
    memset(&t->filter, 0, sizeof t->filter);
    if (!f) return;
    t->filter.year_from = f->year_from;
    t->filter.year_to = f->year_to;
    t->filter.org_id = f->org_id;
    t->filter.org_region = tab_str(t, f->org_region);
    size_t n = f->nwhere < SP_MAX_WHERE ? f->nwhere : SP_MAX_WHERE;
    for (size_t i = 0; i < n; i++) {
        t->filter.where[i].field = tab_str(t, f->where[i].field);
        t->filter.where[i].value = tab_str(t, f->where[i].value);
    }
    t->filter.nwhere = n;
}

/* ------------------------------------------------------------ counting */

/* The groups of one store_count, values copied into an arena. */
typedef struct grp {
    char *v[2];
    long long n;
} grp;
typedef struct grps {
    grp *rows;
    size_t n, alloc;
    size_t nd;
    sp_arena a;
    int over;                  /* more than STATS_MAX_ROWS groups */
} grps;

static int grps_cb(const char *const *vals, long long count, void *ud)
{
    grps *g = ud;
    if (g->n >= STATS_MAX_ROWS) { g->over = 1; return 1; }
    if (g->n == g->alloc) {
        g->alloc = g->alloc ? g->alloc * 2 : 64;
        g->rows = sp_xrealloc(g->rows, g->alloc * sizeof *g->rows);
    }
    grp *r = &g->rows[g->n++];
    for (size_t d = 0; d < 2; d++)
        r->v[d] = d < g->nd && vals[d] ? sp_arena_strdup(&g->a, vals[d]) : NULL;
    r->n = count;
    return 0;
}

static int count_by(sp_store *s, const sp_filter *f, const char *const *dims, size_t nd,
                    grps *g, sp_err *err)
{
    g->n = 0;
    g->nd = nd;
    g->over = 0;
    sp_arena_reset(&g->a);
    int rc = store_count(s, f, dims, nd, grps_cb, g);
    if (g->over)
        return sp_err_add(err, NULL, 0, NULL, dims[nd - 1], strlen(dims[nd - 1]), "too-many-groups",
                          "more than %d groups of %s", STATS_MAX_ROWS, dims[nd - 1]);
    if (rc != SP_OK) {
        sp_err_add(err, NULL, 0, NULL, dims[0], strlen(dims[0]), "store",
                   "counting by %s failed: %s", dims[0], store_errmsg(s));
        return rc < 0 ? rc : SP_EDB;
    }
    return SP_OK;
}

/* ------------------------------------------------------------- tables */

typedef struct amt { double v; long long n; } amt;

static int cmp_amt(const void *pa, const void *pb)
{
    const amt *a = pa, *b = pb;
    return (a->v > b->v) - (a->v < b->v);
}

static int cmp_str0(const char *a, const char *b)
{
    if (!a || !b) return (a == NULL) - (b == NULL);
    return strcmp(a, b);
}

static int cmp_grp_cur(const void *pa, const void *pb)
{
    const grp *a = pa, *b = pb;
    return cmp_str0(a->v[0], b->v[0]);
}

/* The weighted median of sorted amounts (mean of the two middle values
 * when the total is even). */
static double wmedian(const amt *v, size_t n, long long total)
{
    long long lo_rank = (total - 1) / 2, hi_rank = total / 2, seen = 0;
    double lo = 0, hi = 0;
    int have_lo = 0;
    for (size_t i = 0; i < n; i++) {
        if (!have_lo && seen + v[i].n > lo_rank) { lo = v[i].v; have_lo = 1; }
        if (seen + v[i].n > hi_rank) { hi = v[i].v; break; }
        seen += v[i].n;
    }
    return (lo + hi) / 2;
}

static int t_ransom(sp_store *s, const sp_codebook *cb, const sp_filter *f, stats_table *t,
                    grps *g, sp_err *err)
{
    (void)cb;
    const char *dims[] = { "ransom_demanded_currency", "ransom_demanded_amount" };
    int rc = count_by(s, f, dims, 2, g, err);
    if (rc) return rc;
    qsort(g->rows, g->n, sizeof *g->rows, cmp_grp_cur);
    amt *v = sp_xmalloc((g->n ? g->n : 1) * sizeof *v);
    /* one output row per currency, counted currencies largest first */
    size_t first = t->nrows;
    size_t i = 0;
    while (i < g->n) {
        size_t j = i, nv = 0;
        long long total = 0;
        while (j < g->n && cmp_str0(g->rows[j].v[0], g->rows[i].v[0]) == 0) {
            double d;
            const char *a = g->rows[j].v[1];
            if (a && sp_parse_double(a, strlen(a), &d) == 0 && isfinite(d)) {
                v[nv].v = d;
                v[nv].n = g->rows[j].n;
                total += g->rows[j].n;
                nv++;
            }
            j++;
        }
        if (total > 0) {
            qsort(v, nv, sizeof *v, cmp_amt);
            stats_cell *c = tab_row(t);
            if (!c) { free(v); return SP_ELIMIT; }
            const char *code = g->rows[i].v[0];
            c[0].s = tab_str(t, code);
            c[0].missing = code == NULL;
            c[1].s = tab_str(t, code ? code : "(currency not recorded)");
            c[2].n = total;
            if (total >= STATS_EXTRA_MIN_RANGE) {
                c[3].n = llround(wmedian(v, nv, total));
                c[4].n = llround(v[0].v);
                c[5].n = llround(v[nv - 1].v);
            } else {
                c[3].missing = c[4].missing = c[5].missing = 1;
            }
        }
        i = j;
    }
    free(v);
    /* largest first, missing currency last (stable by code otherwise) */
    size_t nr = t->nrows - first;
    for (size_t a = 1; a < nr; a++) {
        for (size_t b = a; b > 0; b--) {
            stats_cell *x = &t->cells[(first + b - 1) * t->ncols];
            stats_cell *y = &t->cells[(first + b) * t->ncols];
            int swap = (x[0].missing && !y[0].missing) ||
                       (x[0].missing == y[0].missing && y[2].n > x[2].n);
            if (!swap) break;
            stats_cell tmp[6];
            memcpy(tmp, x, sizeof tmp);
            memcpy(x, y, sizeof tmp);
            memcpy(y, tmp, sizeof tmp);
        }
    }
    tab_note(t, "Amounts are as recorded, in whole units of each currency; currencies are never converted.");
    tab_note(t, "Median and range are shown only for a currency with enough records to describe no single person.");
    return SP_OK;
}

/* Records carrying a value of dimension dim: total minus the missing group. */
static int present(sp_store *s, const sp_filter *f, const char *dim, long long records,
                   grps *g, long long *out, sp_err *err)
{
    const char *dims[] = { dim };
    int rc = count_by(s, f, dims, 1, g, err);
    if (rc) return rc;
    long long missing = 0;
    for (size_t i = 0; i < g->n; i++)
        if (!g->rows[i].v[0]) missing += g->rows[i].n;
    *out = records - missing;
    if (*out < 0) *out = 0;
    return SP_OK;
}

static int cov_row(stats_table *t, const char *field, const char *label, long long n)
{
    stats_cell *c = tab_row(t);
    if (!c) return SP_ELIMIT;
    c[0].s = tab_str(t, field);
    c[1].s = tab_str(t, label);
    c[2].n = n;
    if (t->records > 0) c[3].share = round((double)n / (double)t->records * 10000.0) / 10000.0;
    else c[3].missing = 1;
    return SP_OK;
}

static int t_coverage(sp_store *s, const sp_codebook *cb, const sp_filter *f, stats_table *t,
                      grps *g, sp_err *err)
{
    char dim[256], label[512];
    for (size_t i = 0; i < cb->nfields; i++) {
        const cb_field *fd = &cb->fields[i];
        if (fd->sensitive || fd->deprecated) continue;
        long long n = 0;
        int rc;
        if (fd->type == CB_GROUP) {
            for (size_t k = 0; k < fd->nsub; k++) {
                const cb_field *sub = &fd->sub[k];
                if (sub->sensitive || sub->deprecated) continue;
                snprintf(dim, sizeof dim, "%s.%s", fd->name, sub->name);
                if (!store_dim_valid(s, dim)) continue;
                if ((rc = present(s, f, dim, t->records, g, &n, err))) return rc;
                snprintf(label, sizeof label, "%s: %s (last place)", fd->label, sub->label);
                if ((rc = cov_row(t, dim, label, n))) return rc;
            }
            continue;
        }
        if (fd->type == CB_AGE) snprintf(dim, sizeof dim, "%s.lo", fd->name);
        else snprintf(dim, sizeof dim, "%s", fd->name);
        if (!store_dim_valid(s, dim)) continue;
        if ((rc = present(s, f, dim, t->records, g, &n, err))) return rc;
        if ((rc = cov_row(t, fd->name, fd->label, n))) return rc;
    }
    tab_note(t, "A field counts as recorded when it holds any value, \"unknown\" included; for places of exploitation, the last place recorded is counted.");
    tab_note(t, "Sensitive fields are never published and are not listed.");
    return SP_OK;
}

static int cmp_grp_org(const void *pa, const void *pb)
{
    const grp *a = pa, *b = pb;
    if (a->n != b->n) return a->n > b->n ? -1 : 1;
    return cmp_str0(a->v[0], b->v[0]);
}

static int t_orgs(sp_store *s, const sp_codebook *cb, const sp_filter *f, stats_table *t,
                  grps *g, sp_err *err)
{
    (void)cb;
    const char *dims[] = { "org" };
    int rc = count_by(s, f, dims, 1, g, err);
    if (rc) return rc;
    qsort(g->rows, g->n, sizeof *g->rows, cmp_grp_org);
    for (size_t i = 0; i < g->n; i++) {
        if (g->rows[i].n <= 0) continue;
        stats_cell *c = tab_row(t);
        if (!c) return SP_ELIMIT;
        c[0].s = tab_str(t, g->rows[i].v[0] ? g->rows[i].v[0] : "(organisation not recorded)");
        c[1].n = g->rows[i].n;
        if (t->records > 0)
            c[2].share = round((double)g->rows[i].n / (double)t->records * 10000.0) / 10000.0;
        else c[2].missing = 1;
    }
    return SP_OK;
}

static const stats_column ransom_cols[] = {
    { "code", "Currency", STATS_TEXT, 0 },
    { "label", "Currency", STATS_TEXT, 0 },
    { "count", "Records", STATS_COUNT, 0 },
    { "median", "Median", STATS_INT, 0 },
    { "min", "Lowest", STATS_INT, 0 },
    { "max", "Highest", STATS_INT, 0 },
};
static const stats_column coverage_cols[] = {
    { "field", "Field", STATS_TEXT, 0 },
    { "label", "Field", STATS_TEXT, 0 },
    { "count", "Records with a value", STATS_COUNT, 0 },
    { "share", "Share", STATS_SHARE, 0 },
};
static const stats_column org_cols[] = {
    { "name", "Organisation", STATS_TEXT, 0 },
    { "count", "Records", STATS_COUNT, 0 },
    { "share", "Share", STATS_SHARE, 0 },
};

int stats_extra_compute(sp_store *s, const sp_codebook *cb, const char *table,
                        const sp_filter *f, stats_table **out, sp_err *err)
{
    *out = NULL;
    if (!stats_extra_known(table)) {
        sp_err_add(err, NULL, 0, NULL, table ? table : "", table ? strlen(table) : 0,
                   "unknown-table", "unknown table '%s': the extra tables are ransom, "
                   "coverage and organisations", table ? table : "");
        return SP_EUSAGE;
    }
    stats_table *t;
    if (strcmp(table, "ransom") == 0)
        t = tab_new("ransom", "Ransom demanded", ransom_cols,
                    sizeof ransom_cols / sizeof ransom_cols[0], "records");
    else if (strcmp(table, "coverage") == 0)
        t = tab_new("coverage", "What the records carry", coverage_cols,
                    sizeof coverage_cols / sizeof coverage_cols[0], "records");
    else
        t = tab_new("organisations", "Reporting organisations", org_cols,
                    sizeof org_cols / sizeof org_cols[0], "records");
    copy_filter(t, f);
    grps g;
    memset(&g, 0, sizeof g);
    sp_arena_init(&g.a);
    int rc = store_count_records(s, f, &t->records);
    if (rc != SP_OK) {
        sp_err_add(err, NULL, 0, NULL, NULL, 0, "store", "counting records failed: %s",
                   store_errmsg(s));
        if (rc > 0) rc = SP_EDB;
        goto done;
    }
    {
        const char *dims[] = { "synthetic" };
        if (store_dim_valid(s, "synthetic")) {
            if ((rc = count_by(s, f, dims, 1, &g, err))) goto done;
            for (size_t i = 0; i < g.n; i++)
                if (g.rows[i].v[0] && strcmp(g.rows[i].v[0], "0") != 0 && g.rows[i].n > 0)
                    t->synthetic = 1;
        }
    }
    if (strcmp(table, "ransom") == 0) rc = t_ransom(s, cb, f, t, &g, err);
    else if (strcmp(table, "coverage") == 0) rc = t_coverage(s, cb, f, t, &g, err);
    else rc = t_orgs(s, cb, f, t, &g, err);
    if (rc) goto done;
    if (t->records == 0) tab_note(t, "No records match the filter.");
    if (t->synthetic) tab_note(t, "Synthetic (made-up demonstration) records are included.");
done:
    free(g.rows);
    sp_arena_free(&g.a);
    if (rc) stats_table_free(t);
    else *out = t;
    return rc;
}
