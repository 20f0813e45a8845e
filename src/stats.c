/* stats.c -- see stats.h. Every number comes from store_count (SQL lives
 * in store.c); this module only groups, labels, bands and sorts. */
#include "stats.h"
#include "export.h"
#include "privacy.h"

#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ================================================================ tables */

static stats_table *tbl_new(const char *name, const char *title)
{
    stats_table *t = sp_xcalloc(1, sizeof *t);
    sp_arena_init(&t->arena);
    t->name = name;
    t->title = title;
    t->nlevels = 1;
    t->counts = "records";
    return t;
}

void stats_table_free(stats_table *t)
{
    if (!t) return;
    free(t->cols);
    free(t->cells);
    free(t->notes);
    sp_arena_free(&t->arena);
    free(t);
}

stats_cell *stats_cell_at(const stats_table *t, size_t r, size_t c)
{
    if (r >= t->nrows || c >= t->ncols) return NULL;
    return &t->cells[r * t->ncols + c];
}

int stats_col(const stats_table *t, int level, const char *name)
{
    for (size_t i = 0; i < t->ncols; i++)
        if (t->cols[i].level == level && strcmp(t->cols[i].name, name) == 0)
            return (int)i;
    return -1;
}

/* Adds a column (names and labels are static strings). Columns are all
 * added before the first row. */
static int tbl_col(stats_table *t, const char *name, const char *label,
                   stats_kind kind, int level)
{
    t->cols = sp_xrealloc(t->cols, (t->ncols + 1) * sizeof *t->cols);
    t->cols[t->ncols] = (stats_column){ name, label, kind, level };
    if (level + 1 > t->nlevels) t->nlevels = level + 1;
    return (int)t->ncols++;
}

/* Appends a row of missing cells; returns its index. */
static size_t tbl_row(stats_table *t)
{
    if (t->nrows == t->alloc_rows) {
        t->alloc_rows = t->alloc_rows ? t->alloc_rows * 2 : 16;
        t->cells = sp_xrealloc(t->cells, t->alloc_rows * t->ncols * sizeof *t->cells);
    }
    stats_cell *c = &t->cells[t->nrows * t->ncols];
    for (size_t i = 0; i < t->ncols; i++)
        c[i] = (stats_cell){ NULL, 0, 0.0, 1, 0 };
    return t->nrows++;
}

static void set_text(stats_table *t, size_t r, int c, const char *s)
{
    stats_cell *x = &t->cells[r * t->ncols + (size_t)c];
    x->s = s ? sp_arena_strdup(&t->arena, s) : NULL;
    x->missing = s == NULL;
}

static void set_num(stats_table *t, size_t r, int c, long long n)
{
    stats_cell *x = &t->cells[r * t->ncols + (size_t)c];
    x->n = n;
    x->missing = 0;
}

/* share = num / den; missing when den is 0 (no records, nothing to divide). */
static void set_share(stats_table *t, size_t r, int c, long long num, long long den)
{
    stats_cell *x = &t->cells[r * t->ncols + (size_t)c];
    if (den <= 0) { x->missing = 1; return; }
    x->share = (double)num / (double)den;
    x->missing = 0;
}

static void tbl_note(stats_table *t, const char *s)
{
    if (t->nnotes == t->alloc_notes) {
        t->alloc_notes = t->alloc_notes ? t->alloc_notes * 2 : 4;
        t->notes = sp_xrealloc(t->notes, t->alloc_notes * sizeof *t->notes);
    }
    t->notes[t->nnotes++] = sp_arena_strdup(&t->arena, s);
}

void stats_table_note(stats_table *t, const char *s)
{
    tbl_note(t, s);
}

/* ========================================================= aggregates */

/* The groups store_count returns, copied (its strings live only during
 * the callback). tot[k] is the sum of n over the rows that share v[0..k]. */
typedef struct agg_row {
    const char *v[4];
    long long n;
    long long tot[4];
    size_t nd;
} agg_row;

typedef struct agg {
    agg_row *rows;
    size_t n, alloc, nd;
    sp_arena *a;
    int over;
} agg;

static int agg_cb(const char *const *vals, long long count, void *ud)
{
    agg *g = ud;
    if (g->n >= STATS_MAX_ROWS) { g->over = 1; return 1; }
    if (g->n == g->alloc) {
        g->alloc = g->alloc ? g->alloc * 2 : 64;
        g->rows = sp_xrealloc(g->rows, g->alloc * sizeof *g->rows);
    }
    agg_row *r = &g->rows[g->n++];
    memset(r, 0, sizeof *r);
    r->nd = g->nd;
    for (size_t d = 0; d < g->nd; d++)
        r->v[d] = vals[d] ? sp_arena_strdup(g->a, vals[d]) : NULL;
    r->n = count;
    return 0;
}

/* Runs store_count into g (emptied first); errors say which grouping. */
static int agg_run(sp_store *s, const sp_filter *f, const char *const *dims,
                   size_t nd, agg *g, sp_err *err)
{
    g->n = 0;
    g->nd = nd;
    g->over = 0;
    int rc = store_count(s, f, dims, nd, agg_cb, g);
    if (g->over) {
        sp_err_add(err, NULL, 0, NULL, NULL, 0, "too-many-groups",
                   "the table has more than %d distinct groups (grouping by %s)",
                   STATS_MAX_ROWS, dims[nd - 1]);
        return SP_ELIMIT;
    }
    if (rc == SP_EUSAGE) {
        sp_err_add(err, NULL, 0, NULL, NULL, 0, "unknown-dimension",
                   "the store cannot count by %s%s%s%s%s%s%s: %s", dims[0],
                   nd > 1 ? ", " : "", nd > 1 ? dims[1] : "",
                   nd > 2 ? ", " : "", nd > 2 ? dims[2] : "",
                   nd > 3 ? ", " : "", nd > 3 ? dims[3] : "", store_errmsg(s));
        return SP_EUSAGE;
    }
    if (rc != SP_OK) {
        sp_err_add(err, NULL, 0, NULL, NULL, 0, "store",
                   "counting failed: %s", store_errmsg(s));
        return rc < 0 ? rc : SP_EDB;
    }
    return SP_OK;
}

static void agg_free(agg *g)
{
    free(g->rows);
    g->rows = NULL;
    g->n = g->alloc = 0;
}

/* NULL (missing) sorts after every value. */
static int cmp_val(const char *a, const char *b)
{
    if (!a || !b) return (a == NULL) - (b == NULL);
    return strcmp(a, b);
}

static int cmp_lex(const void *pa, const void *pb)
{
    const agg_row *a = pa, *b = pb;
    for (size_t d = 0; d < a->nd; d++) {
        int c = cmp_val(a->v[d], b->v[d]);
        if (c) return c;
    }
    return 0;
}

/* Tree order: at each level, missing last, then larger totals first, then
 * by value; so rows of one parent are adjacent, biggest parents first. */
static int cmp_tree(const void *pa, const void *pb)
{
    const agg_row *a = pa, *b = pb;
    for (size_t d = 0; d < a->nd; d++) {
        int am = a->v[d] == NULL, bm = b->v[d] == NULL;
        if (am != bm) return am - bm;
        if (a->tot[d] != b->tot[d]) return a->tot[d] > b->tot[d] ? -1 : 1;
        int c = cmp_val(a->v[d], b->v[d]);
        if (c) return c;
    }
    return 0;
}

/* Flat order: larger counts first, then by values (missing last). */
static int cmp_flat(const void *pa, const void *pb)
{
    const agg_row *a = pa, *b = pb;
    if (a->n != b->n) return a->n > b->n ? -1 : 1;
    return cmp_lex(pa, pb);
}

static int same_prefix(const agg_row *a, const agg_row *b, size_t k)
{
    for (size_t d = 0; d <= k; d++)
        if (cmp_val(a->v[d], b->v[d]) != 0) return 0;
    return 1;
}

/* Fills tot[] and sorts g in tree order. */
static void agg_tree_sort(agg *g)
{
    if (!g->n) return;
    qsort(g->rows, g->n, sizeof *g->rows, cmp_lex);
    for (size_t k = 0; k < g->nd; k++) {
        size_t i = 0;
        while (i < g->n) {
            size_t j = i;
            long long sum = 0;
            while (j < g->n && same_prefix(&g->rows[i], &g->rows[j], k)) sum += g->rows[j++].n;
            for (size_t x = i; x < j; x++) g->rows[x].tot[k] = sum;
            i = j;
        }
    }
    qsort(g->rows, g->n, sizeof *g->rows, cmp_tree);
}

/* ============================================================== labels */

static const char *country_name(const sp_codebook *cb, const char *code)
{
    if (!code) return NULL;
    const gz_country *c = cb->gaz ? gazetteer_alpha2(cb->gaz, code) : NULL;
    if (!c && cb->gaz) c = gazetteer_country(cb->gaz, code, strlen(code));
    if (!c) return code;
    return c->common_name && *c->common_name ? c->common_name : c->name;
}

static const char *province_name(const sp_codebook *cb, const char *code)
{
    if (!code) return NULL;
    const gz_province *p = cb->gaz ? gazetteer_province(cb->gaz, NULL, code, strlen(code)) : NULL;
    return p && p->name ? p->name : code;
}

/* Categories of a code field: every codebook value in codebook order, then
 * codes the store returned that the codebook does not know (label = code),
 * then missing. `keep` rows are shown even with a zero count. */
typedef struct cat {
    const char *code, *label;
    int keep;
} cat;

typedef struct cats {
    cat *c;
    size_t n, alloc;
    int unknown, missing;      /* indexes, or -1 */
    int merge_missing;         /* missing counts as the code "unknown" */
    const char *missing_label;
    sp_arena *a;
} cats;

static int cats_push(cats *cs, const char *code, const char *label, int keep)
{
    if (cs->n == cs->alloc) {
        cs->alloc = cs->alloc ? cs->alloc * 2 : 16;
        cs->c = sp_xrealloc(cs->c, cs->alloc * sizeof *cs->c);
    }
    cs->c[cs->n] = (cat){ code, label, keep };
    return (int)cs->n++;
}

static void cats_init(cats *cs, const cb_field *f, int merge_missing,
                      const char *missing_label, sp_arena *a)
{
    memset(cs, 0, sizeof *cs);
    cs->unknown = cs->missing = -1;
    cs->merge_missing = merge_missing;
    cs->missing_label = missing_label;
    cs->a = a;
    for (size_t i = 0; f && i < f->nvalues; i++) {
        int k = cats_push(cs, f->values[i].code, f->values[i].label, !f->values[i].deprecated);
        if (strcmp(f->values[i].code, "unknown") == 0) cs->unknown = k;
    }
}

/* Index of the category for a stored code (NULL: missing). */
static int cats_find(cats *cs, const char *code)
{
    if (!code) {
        if (cs->merge_missing) {
            if (cs->unknown < 0) cs->unknown = cats_push(cs, "unknown", "Unknown", 0);
            return cs->unknown;
        }
        if (cs->missing < 0) cs->missing = cats_push(cs, NULL, cs->missing_label, 0);
        return cs->missing;
    }
    for (size_t i = 0; i < cs->n; i++)
        if (cs->c[i].code && strcmp(cs->c[i].code, code) == 0) return (int)i;
    const char *dup = sp_arena_strdup(cs->a, code);
    int k = cats_push(cs, dup, dup, 0);
    if (strcmp(code, "unknown") == 0) cs->unknown = k;
    /* keep "missing" last */
    if (cs->missing >= 0 && cs->missing == k - 1) {
        cat m = cs->c[k - 1];
        cs->c[k - 1] = cs->c[k];
        cs->c[k] = m;
        if (cs->unknown == k) cs->unknown = k - 1;
        cs->missing = k;
        k = k - 1;
    }
    return k;
}

static void cats_free(cats *cs)
{
    free(cs->c);
    cs->c = NULL;
}

/* =============================================================== tables */

typedef struct ctx {
    sp_store *s;
    const sp_codebook *cb;
    const sp_filter *f;
    const stats_opts *o;
    stats_table *t;
    sp_err *err;
    sp_arena tmp;              /* strings of aggregates */
    agg g;
} ctx;

/* Rows (code, label, count, share) of one code field from a one-dimension
 * aggregate, starting at column c0. share = count / records. */
static void code_rows(ctx *x, const cb_field *f, int merge_missing,
                      const char *missing_label, int c0)
{
    cats cs;
    cats_init(&cs, f, merge_missing, missing_label, &x->tmp);
    for (size_t i = 0; i < x->g.n; i++) cats_find(&cs, x->g.rows[i].v[0]);
    long long *cnt = sp_xcalloc(cs.n ? cs.n : 1, sizeof *cnt);
    for (size_t i = 0; i < x->g.n; i++) cnt[cats_find(&cs, x->g.rows[i].v[0])] += x->g.rows[i].n;
    for (size_t i = 0; i < cs.n; i++) {
        if (!cs.c[i].keep && !cnt[i]) continue;
        size_t r = tbl_row(x->t);
        set_text(x->t, r, c0, cs.c[i].code);
        set_text(x->t, r, c0 + 1, cs.c[i].label);
        set_num(x->t, r, c0 + 2, cnt[i]);
        set_share(x->t, r, c0 + 3, cnt[i], x->t->records);
    }
    free(cnt);
    cats_free(&cs);
}

static const cb_field *need_field(ctx *x, const char *name)
{
    const cb_field *f = codebook_field(x->cb, name);
    if (!f)
        sp_err_add(x->err, NULL, 0, NULL, NULL, 0, "unknown-field",
                   "the codebook has no field '%s', which this table needs", name);
    return f;
}

static int t_industries(ctx *x)
{
    stats_table *t = x->t;
    const cb_field *fi = need_field(x, "industry");
    if (!fi) return SP_EINPUT;
    int cy = tbl_col(t, "year", "Year", STATS_INT, 0);
    int ct = tbl_col(t, "total", "Total", STATS_COUNT, 0);
    int cc = tbl_col(t, "code", "Industry code", STATS_TEXT, 1);
    int cl = tbl_col(t, "label", "Industry", STATS_TEXT, 1);
    int cn = tbl_col(t, "count", "Count", STATS_COUNT, 1);
    int cs_ = tbl_col(t, "share", "Share", STATS_SHARE, 1);
    t->nest[0] = "industries";
    const char *dims[] = { "year_identified", "industry" };
    int rc = agg_run(x->s, x->f, dims, 2, &x->g, x->err);
    if (rc) return rc;

    cats cs;
    cats_init(&cs, fi, 1, NULL, &x->tmp);
    for (size_t i = 0; i < x->g.n; i++) cats_find(&cs, x->g.rows[i].v[1]);
    /* years in order (missing year last): sort the rows by year */
    if (x->g.n) qsort(x->g.rows, x->g.n, sizeof *x->g.rows, cmp_lex);
    long long *cnt = sp_xcalloc(cs.n ? cs.n : 1, sizeof *cnt);
    size_t i = 0;
    while (i < x->g.n) {
        size_t j = i;
        long long total = 0;
        memset(cnt, 0, (cs.n ? cs.n : 1) * sizeof *cnt);
        while (j < x->g.n && cmp_val(x->g.rows[i].v[0], x->g.rows[j].v[0]) == 0) {
            cnt[cats_find(&cs, x->g.rows[j].v[1])] += x->g.rows[j].n;
            total += x->g.rows[j].n;
            j++;
        }
        long long year = 0;
        const char *ys = x->g.rows[i].v[0];
        int have_year = ys && sp_parse_int(ys, strlen(ys), &year) == 0;
        for (size_t k = 0; k < cs.n; k++) {
            if (!cs.c[k].keep && !cnt[k]) continue;
            size_t r = tbl_row(t);
            if (have_year) set_num(t, r, cy, year);
            set_num(t, r, ct, total);
            set_text(t, r, cc, cs.c[k].code);
            set_text(t, r, cl, cs.c[k].label);
            set_num(t, r, cn, cnt[k]);
            set_share(t, r, cs_, cnt[k], total);
        }
        i = j;
    }
    free(cnt);
    cats_free(&cs);
    tbl_note(t, "Shares are of each year's records and sum to 1 within a year.");
    tbl_note(t, "A missing industry is counted as \"unknown\".");
    tbl_note(t, "Every industry of the codebook is listed for every year, with 0 where none was recorded.");
    return SP_OK;
}

/* Country/province tables from a tree-sorted aggregate. */
static int t_origins(ctx *x)
{
    stats_table *t = x->t;
    int c0 = tbl_col(t, "code", "Country code", STATS_TEXT, 0);
    int c1 = tbl_col(t, "name", "Country", STATS_TEXT, 0);
    int c2 = tbl_col(t, "count", "Country count", STATS_COUNT, 0);
    int p0 = tbl_col(t, "code", "Province code", STATS_TEXT, 1);
    int p1 = tbl_col(t, "name", "Province", STATS_TEXT, 1);
    int p2 = tbl_col(t, "count", "Count", STATS_COUNT, 1);
    t->nest[0] = "provinces";
    const char *dims[] = { "origin_country", "origin_province" };
    int rc = agg_run(x->s, x->f, dims, 2, &x->g, x->err);
    if (rc) return rc;
    agg_tree_sort(&x->g);
    for (size_t i = 0; i < x->g.n; i++) {
        const agg_row *a = &x->g.rows[i];
        size_t r = tbl_row(t);
        set_text(t, r, c0, a->v[0]);
        set_text(t, r, c1, a->v[0] ? country_name(x->cb, a->v[0]) : "(country not recorded)");
        set_num(t, r, c2, a->tot[0]);
        set_text(t, r, p0, a->v[1]);
        set_text(t, r, p1, a->v[1] ? province_name(x->cb, a->v[1]) : "(province not recorded)");
        set_num(t, r, p2, a->n);
    }
    tbl_note(t, "Country and province the person was recruited from; countries and provinces by count, largest first, missing last.");
    return SP_OK;
}

static int t_destinations(ctx *x)
{
    stats_table *t = x->t;
    int c0 = tbl_col(t, "code", "Country code", STATS_TEXT, 0);
    int c1 = tbl_col(t, "name", "Country", STATS_TEXT, 0);
    int c2 = tbl_col(t, "count", "Country count", STATS_COUNT, 0);
    int p0 = tbl_col(t, "code", "Province code", STATS_TEXT, 1);
    int p1 = tbl_col(t, "name", "Province", STATS_TEXT, 1);
    int p2 = tbl_col(t, "count", "Province count", STATS_COUNT, 1);
    int l0 = tbl_col(t, "locality", "Locality as recorded", STATS_TEXT, 2);
    int l1 = tbl_col(t, "name", "Locality", STATS_TEXT, 2);
    int l2 = tbl_col(t, "count", "Count", STATS_COUNT, 2);
    t->nest[0] = "provinces";
    t->nest[1] = "localities";
    const char *dims[] = { "exploitation.country", "exploitation.province",
                           "exploitation.locality" };
    int rc = agg_run(x->s, x->f, dims, 3, &x->g, x->err);
    if (rc) return rc;
    agg_tree_sort(&x->g);
    for (size_t i = 0; i < x->g.n; i++) {
        const agg_row *a = &x->g.rows[i];
        size_t r = tbl_row(t);
        set_text(t, r, c0, a->v[0]);
        set_text(t, r, c1, a->v[0] ? country_name(x->cb, a->v[0]) : "(country not recorded)");
        set_num(t, r, c2, a->tot[0]);
        set_text(t, r, p0, a->v[1]);
        set_text(t, r, p1, a->v[1] ? province_name(x->cb, a->v[1]) : "(province not recorded)");
        set_num(t, r, p2, a->tot[1]);
        set_text(t, r, l0, a->v[2]);
        set_text(t, r, l1, a->v[2] ? a->v[2] : "(locality not recorded)");
        set_num(t, r, l2, a->n);
    }
    tbl_note(t, "The final destination is the last place of exploitation recorded for each person.");
    tbl_note(t, "Localities are free text, counted as written.");
    return SP_OK;
}

static int t_flows(ctx *x)
{
    stats_table *t = x->t;
    int c[8];
    c[0] = tbl_col(t, "from_country", "From country code", STATS_TEXT, 0);
    c[1] = tbl_col(t, "from_country_name", "From country", STATS_TEXT, 0);
    c[2] = tbl_col(t, "from_province", "From province code", STATS_TEXT, 0);
    c[3] = tbl_col(t, "from_province_name", "From province", STATS_TEXT, 0);
    c[4] = tbl_col(t, "to_country", "To country code", STATS_TEXT, 0);
    c[5] = tbl_col(t, "to_country_name", "To country", STATS_TEXT, 0);
    c[6] = tbl_col(t, "to_province", "To province code", STATS_TEXT, 0);
    c[7] = tbl_col(t, "to_province_name", "To province", STATS_TEXT, 0);
    int cn = tbl_col(t, "count", "Count", STATS_COUNT, 0);
    int csh = tbl_col(t, "share", "Share", STATS_SHARE, 0);
    const char *dims[] = { "origin_country", "origin_province",
                           "exploitation.country", "exploitation.province" };
    int rc = agg_run(x->s, x->f, dims, 4, &x->g, x->err);
    if (rc) return rc;
    if (x->g.n) qsort(x->g.rows, x->g.n, sizeof *x->g.rows, cmp_flat);
    for (size_t i = 0; i < x->g.n; i++) {
        const agg_row *a = &x->g.rows[i];
        size_t r = tbl_row(t);
        for (int d = 0; d < 4; d++) {
            const char *v = a->v[d];
            set_text(t, r, c[2 * d], v);
            const char *nm = (d % 2 == 0)
                ? (v ? country_name(x->cb, v) : "(country not recorded)")
                : (v ? province_name(x->cb, v) : "(province not recorded)");
            set_text(t, r, c[2 * d + 1], nm);
        }
        set_num(t, r, cn, a->n);
        set_share(t, r, csh, a->n, t->records);
    }
    tbl_note(t, "From country and province of origin to the final destination (the last place of exploitation recorded); largest flows first.");
    return SP_OK;
}

static int t_nationality(ctx *x)
{
    stats_table *t = x->t;
    int c0 = tbl_col(t, "code", "Code", STATS_TEXT, 0);
    int c1 = tbl_col(t, "name", "Nationality", STATS_TEXT, 0);
    int c2 = tbl_col(t, "count", "Count", STATS_COUNT, 0);
    int c3 = tbl_col(t, "share", "Share", STATS_SHARE, 0);
    const char *dims[] = { "nationality" };
    int rc = agg_run(x->s, x->f, dims, 1, &x->g, x->err);
    if (rc) return rc;
    agg_tree_sort(&x->g);
    for (size_t i = 0; i < x->g.n; i++) {
        const agg_row *a = &x->g.rows[i];
        size_t r = tbl_row(t);
        set_text(t, r, c0, a->v[0]);
        set_text(t, r, c1, a->v[0] ? country_name(x->cb, a->v[0]) : "(not recorded)");
        set_num(t, r, c2, a->n);
        set_share(t, r, c3, a->n, t->records);
    }
    tbl_note(t, "Sorted by count, largest first; records without a nationality last.");
    return SP_OK;
}

static int t_gender(ctx *x)
{
    stats_table *t = x->t;
    const cb_field *f = need_field(x, "gender");
    if (!f) return SP_EINPUT;
    tbl_col(t, "code", "Code", STATS_TEXT, 0);
    tbl_col(t, "label", "Gender", STATS_TEXT, 0);
    tbl_col(t, "count", "Count", STATS_COUNT, 0);
    tbl_col(t, "share", "Share", STATS_SHARE, 0);
    const char *dims[] = { "gender" };
    int rc = agg_run(x->s, x->f, dims, 1, &x->g, x->err);
    if (rc) return rc;
    code_rows(x, f, 1, NULL, 0);
    tbl_note(t, "A missing gender is counted as \"unknown\".");
    return SP_OK;
}

typedef struct band { const char *label; int lo, hi; } band;
static const band default_bands[] = {
    { "<18", 0, 17 }, { "18-24", 18, 24 }, { "25-34", 25, 34 },
    { "35-44", 35, 44 }, { "45-54", 45, 54 }, { "55+", 55, INT_MAX },
};
static const band ctdc_bands[] = {
    { "0-8", 0, 8 }, { "9-17", 9, 17 }, { "18-20", 18, 20 },
    { "21-23", 21, 23 }, { "24-26", 24, 26 }, { "27-29", 27, 29 },
    { "30-38", 30, 38 }, { "39-47", 39, 47 }, { "48+", 48, INT_MAX },
};

/* Band of a recorded range [lo, hi] (hi missing: open-ended), or -1 when
 * unknown: missing, or straddling two bands. We never guess. */
static int band_of(const band *b, size_t nb, const char *slo, const char *shi)
{
    long long lo, hi;
    if (!slo || sp_parse_int(slo, strlen(slo), &lo) != 0 || lo < 0) return -1;
    if (!shi) hi = INT_MAX;
    else if (sp_parse_int(shi, strlen(shi), &hi) != 0 || hi < lo) return -1;
    for (size_t i = 0; i < nb; i++)
        if (lo >= b[i].lo && hi <= b[i].hi) return (int)i;
    return -1;
}

static int t_age(ctx *x)
{
    stats_table *t = x->t;
    int ctdc = x->o && x->o->bands == STATS_BANDS_CTDC;
    const band *b = ctdc ? ctdc_bands : default_bands;
    size_t nb = ctdc ? sizeof ctdc_bands / sizeof *b : sizeof default_bands / sizeof *b;
    t->bands = ctdc ? "ctdc" : "default";
    int c0 = tbl_col(t, "band", "Age band", STATS_TEXT, 0);
    int c1 = tbl_col(t, "lo", "From", STATS_INT, 0);
    int c2 = tbl_col(t, "hi", "To", STATS_INT, 0);
    int c3 = tbl_col(t, "count", "Count", STATS_COUNT, 0);
    int c4 = tbl_col(t, "share", "Share", STATS_SHARE, 0);
    const char *dims[] = { "age.lo", "age.hi" };
    int rc = agg_run(x->s, x->f, dims, 2, &x->g, x->err);
    if (rc) return rc;
    long long cnt[16] = { 0 }, unknown = 0;
    for (size_t i = 0; i < x->g.n; i++) {
        int k = band_of(b, nb, x->g.rows[i].v[0], x->g.rows[i].v[1]);
        if (k < 0) unknown += x->g.rows[i].n;
        else cnt[k] += x->g.rows[i].n;
    }
    for (size_t i = 0; i <= nb; i++) {
        size_t r = tbl_row(t);
        if (i == nb) {
            set_text(t, r, c0, "unknown");
            set_num(t, r, c3, unknown);
            set_share(t, r, c4, unknown, t->records);
            break;
        }
        set_text(t, r, c0, b[i].label);
        set_num(t, r, c1, b[i].lo);
        if (b[i].hi != INT_MAX) set_num(t, r, c2, b[i].hi);
        set_num(t, r, c3, cnt[i]);
        set_share(t, r, c4, cnt[i], t->records);
    }
    tbl_note(t, "Age when exploitation began. A recorded age range counts in a band only if it lies wholly inside it; "
                "a range that straddles two bands (for example 30-38 across 25-34 and 35-44) counts as unknown: we never guess.");
    return SP_OK;
}

/* recruitment: method (one per record) and platforms (mentions). */
static int t_recruitment(ctx *x)
{
    stats_table *t = x->t;
    const cb_field *fm = need_field(x, "recruitment_method");
    const cb_field *fp = fm ? need_field(x, "recruitment_platform") : NULL;
    if (!fm || !fp) return SP_EINPUT;
    t->counts = "mixed";
    int k0 = tbl_col(t, "field", "Field", STATS_TEXT, 0);
    int k1 = tbl_col(t, "label", "Question", STATS_TEXT, 0);
    int k2 = tbl_col(t, "counts", "Counts are", STATS_TEXT, 0);
    int c0 = tbl_col(t, "code", "Code", STATS_TEXT, 1);
    tbl_col(t, "label", "Label", STATS_TEXT, 1);
    tbl_col(t, "count", "Count", STATS_COUNT, 1);
    tbl_col(t, "share", "Share", STATS_SHARE, 1);
    t->nest[0] = "values";
    const cb_field *fs[2] = { fm, fp };
    for (int q = 0; q < 2; q++) {
        const char *dims[] = { fs[q]->name };
        int rc = agg_run(x->s, x->f, dims, 1, &x->g, x->err);
        if (rc) return rc;
        size_t r0 = t->nrows;
        if (fs[q]->multiple) code_rows(x, fs[q], 0, "(none recorded)", c0);
        else code_rows(x, fs[q], 1, NULL, c0);
        for (size_t r = r0; r < t->nrows; r++) {
            set_text(t, r, k0, fs[q]->name);
            set_text(t, r, k1, fs[q]->label);
            set_text(t, r, k2, fs[q]->multiple ? "mentions" : "records");
        }
    }
    tbl_note(t, "Recruitment method: one per record; a missing method is counted as \"unknown\".");
    tbl_note(t, "Recruitment platforms: counts are mentions. A record counts once per platform it names, "
                "so the counts can add up to more than the number of records; share is the fraction of records that name the platform.");
    return SP_OK;
}

static int t_control(ctx *x)
{
    stats_table *t = x->t;
    const cb_field *f = need_field(x, "control_means");
    if (!f) return SP_EINPUT;
    t->counts = "mentions";
    tbl_col(t, "code", "Code", STATS_TEXT, 0);
    tbl_col(t, "label", "Means of control", STATS_TEXT, 0);
    tbl_col(t, "count", "Count", STATS_COUNT, 0);
    tbl_col(t, "share", "Share", STATS_SHARE, 0);
    const char *dims[] = { f->name };
    int rc = agg_run(x->s, x->f, dims, 1, &x->g, x->err);
    if (rc) return rc;
    code_rows(x, f, 0, "(none recorded)", 0);
    tbl_note(t, "Counts are mentions. A record counts once per means of control it names, "
                "so the counts can add up to more than the number of records; share is the fraction of records that name it.");
    return SP_OK;
}

typedef struct table_def {
    const char *name, *title;
    int (*fn)(ctx *);
} table_def;

static const table_def tables[] = {
    { "industries-by-year", "Industries by year", t_industries },
    { "origins", "Origins: country and province", t_origins },
    { "destinations", "Final destinations: country, province and locality", t_destinations },
    { "flows", "Flows: origin to final destination", t_flows },
    { "nationality", "Nationality", t_nationality },
    { "gender", "Gender", t_gender },
    { "age", "Age when exploitation began", t_age },
    { "recruitment", "Recruitment method and platforms", t_recruitment },
    { "control", "Means of control", t_control },
};
#define NTABLES (sizeof tables / sizeof tables[0])

const char *const *stats_table_names(size_t *n)
{
    static const char *const names[NTABLES] = {
        "industries-by-year", "origins", "destinations", "flows", "nationality",
        "gender", "age", "recruitment", "control",
    };
    if (n) *n = NTABLES;
    return names;
}

int stats_bands_parse(const char *s, stats_bands *out)
{
    if (s && sp_streq_nocase(s, "default")) { *out = STATS_BANDS_DEFAULT; return SP_OK; }
    if (s && sp_streq_nocase(s, "ctdc")) { *out = STATS_BANDS_CTDC; return SP_OK; }
    return SP_EUSAGE;
}

/* Stops the scan at the first synthetic record. */
static int synth_cb(const sp_record *r, const sp_record_meta *m, void *ud)
{
    (void)r;
    if (m->synthetic) { *(int *)ud = 1; return 1; }
    return 0;
}

/* Are synthetic records among those matching f? With a "synthetic"
 * dimension in the store, one count; otherwise, when some submission is
 * synthetic, a scan that stops at the first synthetic record. */
static int find_synthetic(ctx *x, int *out)
{
    *out = 0;
    if (store_dim_valid(x->s, "synthetic")) {
        const char *dims[] = { "synthetic" };
        int rc = agg_run(x->s, x->f, dims, 1, &x->g, x->err);
        if (rc) return rc;
        for (size_t i = 0; i < x->g.n; i++)
            if (x->g.rows[i].v[0] && strcmp(x->g.rows[i].v[0], "0") != 0 && x->g.rows[i].n > 0)
                *out = 1;
        return SP_OK;
    }
    /* records take their submission's flag (import, demo): with no
     * synthetic submission in the hub there is nothing to look for */
    sp_submission *subs = NULL;
    size_t nsubs = 0;
    int any = 0;
    int rc = store_submission_list(x->s, 0, &subs, &nsubs);
    if (rc) {
        sp_err_add(x->err, NULL, 0, NULL, NULL, 0, "store",
                   "listing submissions failed: %s", store_errmsg(x->s));
        return rc < 0 ? rc : SP_EDB;
    }
    for (size_t i = 0; i < nsubs; i++) {
        any |= subs[i].synthetic != 0;
        store_submission_free(&subs[i]);
    }
    free(subs);
    if (!any) return SP_OK;
    int found = 0;
    rc = store_scan(x->s, x->f, synth_cb, &found);
    if (rc < 0) {
        sp_err_add(x->err, NULL, 0, NULL, NULL, 0, "store",
                   "reading records failed: %s", store_errmsg(x->s));
        return rc;
    }
    *out = found;
    return SP_OK;
}

static void copy_filter(stats_table *t, const sp_filter *f)
{
    memset(&t->filter, 0, sizeof t->filter);
    if (!f) return;
    t->filter.year_from = f->year_from;
    t->filter.year_to = f->year_to;
    t->filter.org_id = f->org_id;
    t->filter.org_region = f->org_region ? sp_arena_strdup(&t->arena, f->org_region) : NULL;
    size_t n = f->nwhere < SP_MAX_WHERE ? f->nwhere : SP_MAX_WHERE;
    for (size_t i = 0; i < n; i++) {
        t->filter.where[i].field = f->where[i].field ? sp_arena_strdup(&t->arena, f->where[i].field) : NULL;
        t->filter.where[i].value = f->where[i].value ? sp_arena_strdup(&t->arena, f->where[i].value) : NULL;
    }
    t->filter.nwhere = n;
}

int stats_compute(sp_store *s, const sp_codebook *cb, const char *table,
                  const sp_filter *f, const stats_opts *opts, stats_table **out,
                  sp_err *err)
{
    *out = NULL;
    const table_def *def = NULL;
    for (size_t i = 0; table && i < NTABLES; i++)
        if (strcmp(tables[i].name, table) == 0) def = &tables[i];
    if (!def) {
        sp_buf names;
        sp_buf_init(&names, 1024);
        for (size_t i = 0; i < NTABLES; i++)
            sp_buf_printf(&names, "%s%s", i ? ", " : "", tables[i].name);
        sp_err_add(err, NULL, 0, NULL, table ? table : "", table ? strlen(table) : 0,
                   "unknown-table", "unknown table '%s': the tables are %s",
                   table ? table : "", names.data ? names.data : "");
        sp_buf_free(&names);
        return SP_EUSAGE;
    }
    if (f && f->nwhere > SP_MAX_WHERE) {
        sp_err_add(err, NULL, 0, NULL, NULL, 0, "too-many-filters",
                   "at most %d --where filters", SP_MAX_WHERE);
        return SP_EUSAGE;
    }
    sp_filter none;
    memset(&none, 0, sizeof none);
    ctx x;
    memset(&x, 0, sizeof x);
    x.s = s;
    x.cb = cb;
    x.f = f ? f : &none;
    x.o = opts;
    x.err = err;
    sp_arena_init(&x.tmp);
    x.g.a = &x.tmp;
    x.t = tbl_new(def->name, def->title);
    copy_filter(x.t, f);

    int rc = store_count_records(s, x.f, &x.t->records);
    if (rc != SP_OK) {
        sp_err_add(err, NULL, 0, NULL, NULL, 0, "store",
                   "counting records failed: %s", store_errmsg(s));
        if (rc > 0) rc = SP_EDB;
        goto done;
    }
    rc = find_synthetic(&x, &x.t->synthetic);
    if (rc) goto done;
    rc = def->fn(&x);
    if (rc) goto done;
    if (x.t->records == 0) tbl_note(x.t, "No records match the filter.");
    if (x.t->synthetic)
        tbl_note(x.t, "Synthetic (made-up demonstration) records are included.");
done:
    agg_free(&x.g);
    sp_arena_free(&x.tmp);
    if (rc) stats_table_free(x.t);
    else *out = x.t;
    return rc;
}

/* ============================================================= filters */

void stats_filter_init(stats_filter *sf)
{
    memset(&sf->f, 0, sizeof sf->f);
    sp_arena_init(&sf->arena);
}

void stats_filter_free(stats_filter *sf)
{
    sp_arena_free(&sf->arena);
    memset(&sf->f, 0, sizeof sf->f);
}

enum { K_NONE, K_YEAR_FROM, K_YEAR_TO, K_ORG_REGION, K_WHERE };

/* The filter key of "year_from", "--year-from", "Year-From"; K_NONE if it
 * is not one. Only up to the first '='. */
static int filter_key(const char *k)
{
    char buf[16];
    size_t n = 0;
    while (*k == '-') k++;
    for (; *k && *k != '='; k++) {
        if (n + 1 >= sizeof buf) return K_NONE;
        char c = *k == '_' ? '-' : *k;
        if (c >= 'A' && c <= 'Z') c = (char)(c + 32);
        buf[n++] = c;
    }
    buf[n] = '\0';
    if (strcmp(buf, "year-from") == 0) return K_YEAR_FROM;
    if (strcmp(buf, "year-to") == 0) return K_YEAR_TO;
    if (strcmp(buf, "org-region") == 0) return K_ORG_REGION;
    if (strcmp(buf, "where") == 0) return K_WHERE;
    return K_NONE;
}

int stats_filter_is_option(const char *arg)
{
    if (!arg || strncmp(arg, "--", 2) != 0 || filter_key(arg) == K_NONE) return 0;
    return strchr(arg, '=') ? 1 : 2;
}

static int parse_year(const sp_codebook *cb, const char *opt, const char *v, int *out,
                      sp_err *err)
{
    long long y;
    long long lo = 1, hi = 9999;
    const cb_field *fy = codebook_field(cb, "year_identified");
    if (fy && fy->max > fy->min) { lo = fy->min; hi = fy->max; }
    size_t n = strlen(v);
    const char *p = v;
    n = sp_trim(&p, n);
    if (sp_parse_int(p, n, &y) != 0 || y < lo || y > hi)
        return sp_err_add(err, NULL, 0, opt, v, strlen(v), "bad-year",
                          "%s needs a year between %lld and %lld", opt, lo, hi);
    *out = (int)y;
    return SP_OK;
}

/* "field" or "group.sub" -> the field; error naming it otherwise. */
static int where_field(const sp_codebook *cb, const char *name, size_t n,
                       const cb_field **out, sp_err *err)
{
    char fname[128];
    if (n == 0 || n >= sizeof fname)
        return sp_err_add(err, NULL, 0, "where", name, n, "unknown-field",
                          "--where needs FIELD=VALUE with a field name before '='");
    memcpy(fname, name, n);
    fname[n] = '\0';
    const cb_field *f;
    char *dot = strchr(fname, '.');
    if (dot) {
        *dot = '\0';
        const cb_field *g = codebook_field(cb, fname);
        if (!g || g->type != CB_GROUP)
            return sp_err_add(err, NULL, 0, "where", name, n, "unknown-field",
                              "unknown field '%.*s': '%s' is not a group of the codebook",
                              (int)n, name, fname);
        f = codebook_subfield(g, dot + 1);
        if (!f) {
            sp_buf subs;
            sp_buf_init(&subs, 1024);
            for (size_t i = 0; i < g->nsub; i++)
                sp_buf_printf(&subs, "%s%s.%s", i ? ", " : "", g->name, g->sub[i].name);
            sp_err_add(err, NULL, 0, "where", name, n, "unknown-field",
                       "unknown field '%.*s': the fields of %s are %s", (int)n, name,
                       g->name, subs.data ? subs.data : "");
            sp_buf_free(&subs);
            return SP_EINPUT;
        }
    } else {
        f = codebook_field(cb, fname);
        if (!f) f = codebook_match(cb, fname, n);
        if (!f) {
            sp_buf all;
            sp_buf_init(&all, 4096);
            for (size_t i = 0; i < cb->nfields; i++)
                if (!cb->fields[i].sensitive)
                    sp_buf_printf(&all, "%s%s", all.len ? ", " : "", cb->fields[i].name);
            sp_err_add(err, NULL, 0, "where", name, n, "unknown-field",
                       "unknown field '%s': fields are %s (group fields as group.sub)",
                       fname, all.data ? all.data : "");
            sp_buf_free(&all);
            return SP_EINPUT;
        }
        if (f->type == CB_GROUP)
            return sp_err_add(err, NULL, 0, "where", name, n, "group-field",
                              "'%s' is a group: name one of its fields, as %s.%s",
                              f->name, f->name, f->nsub ? f->sub[0].name : "field");
    }
    if (f->sensitive || (f->parent && f->parent->sensitive))
        return sp_err_add(err, NULL, 0, "where", name, n, "sensitive-field",
                          "'%.*s' is sensitive and cannot be used to filter statistics",
                          (int)n, name);
    /* an age filter matches the recorded range exactly ("age=18-24"); the
     * store has no such test for an age inside a group */
    if (f->type == CB_AGE && f->parent)
        return sp_err_add(err, NULL, 0, "where", name, n, "age-field",
                          "'%.*s' is an age range inside a group and cannot be used with --where",
                          (int)n, name);
    *out = f;
    return SP_OK;
}

static int set_where(stats_filter *sf, const sp_codebook *cb, const char *v, sp_err *err)
{
    const char *eq = strchr(v, '=');
    if (!eq)
        return sp_err_add(err, NULL, 0, "where", v, strlen(v), "bad-where",
                          "--where needs FIELD=VALUE (for example gender=female)");
    if (sf->f.nwhere >= SP_MAX_WHERE)
        return sp_err_add(err, NULL, 0, "where", v, strlen(v), "too-many-filters",
                          "at most %d --where filters", SP_MAX_WHERE);
    const char *name = v;
    size_t nn = sp_trim(&name, (size_t)(eq - v));
    const cb_field *f = NULL;
    int rc = where_field(cb, name, nn, &f, err);
    if (rc) return rc;
    const char *val = eq + 1;
    size_t vn = sp_trim(&val, strlen(val));
    char fullname[160];
    if (f->parent) snprintf(fullname, sizeof fullname, "%s.%s", f->parent->name, f->name);
    else snprintf(fullname, sizeof fullname, "%s", f->name);
    if (vn == 0)
        return sp_err_add(err, NULL, 0, fullname, "", 0, "empty-value",
                          "--where %s= needs a value", fullname);
    cb_cell cell;
    memset(&cell, 0, sizeof cell);
    const char *rule = NULL, *why = NULL;
    if (codebook_parse(cb, f, val, vn, NULL, &cell, &sf->arena, &rule, &why) != 0 || !cell.text)
        return sp_err_add(err, NULL, 0, fullname, val, vn, rule ? rule : "bad-value",
                          "bad value for %s: %s", fullname, why ? why : "not accepted");
    sp_where *w = &sf->f.where[sf->f.nwhere++];
    w->field = sp_arena_strdup(&sf->arena, fullname);
    w->value = cell.text;
    return SP_OK;
}

int stats_filter_set(stats_filter *sf, const sp_codebook *cb, const char *key,
                     const char *value, sp_err *err)
{
    if (!key) key = "";
    if (!value) value = "";
    int k = filter_key(key);
    int rc = SP_OK;
    switch (k) {
    case K_YEAR_FROM:
        rc = parse_year(cb, "--year-from", value, &sf->f.year_from, err);
        break;
    case K_YEAR_TO:
        rc = parse_year(cb, "--year-to", value, &sf->f.year_to, err);
        break;
    case K_ORG_REGION: {
        const char *r = gazetteer_region(value);
        if (!r) {
            sp_buf list;
            sp_buf_init(&list, 2048);
            for (size_t i = 0; i < gazetteer_nregions(); i++)
                sp_buf_printf(&list, "%s%s", i ? ", " : "", gazetteer_region_at(i));
            sp_err_add(err, NULL, 0, "org-region", value, strlen(value), "unknown-region",
                       "unknown region '%s': M49 regions are %s", value,
                       list.data ? list.data : "");
            sp_buf_free(&list);
            return SP_EINPUT;
        }
        sf->f.org_region = sp_arena_strdup(&sf->arena, r);
        break;
    }
    case K_WHERE:
        return set_where(sf, cb, value, err);
    default:
        return sp_err_add(err, NULL, 0, NULL, key, strlen(key), "unknown-filter",
                          "unknown filter '%s': filters are --year-from, --year-to, "
                          "--org-region and --where FIELD=VALUE", key);
    }
    if (rc) return rc;
    if (sf->f.year_from && sf->f.year_to && sf->f.year_from > sf->f.year_to)
        return sp_err_add(err, NULL, 0, NULL, NULL, 0, "bad-year-range",
                          "--year-from %d is after --year-to %d", sf->f.year_from,
                          sf->f.year_to);
    return SP_OK;
}

int stats_filter_parse(stats_filter *sf, const sp_codebook *cb, int argc,
                       char *const *argv, sp_err *err)
{
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        int kind = stats_filter_is_option(a);
        if (!kind)
            return sp_err_add(err, NULL, 0, NULL, a, strlen(a), "unknown-filter",
                              "unknown filter option '%s': filters are --year-from, "
                              "--year-to, --org-region and --where FIELD=VALUE", a);
        const char *v;
        if (kind == 1) v = strchr(a, '=') + 1;
        else if (i + 1 < argc) v = argv[++i];
        else
            return sp_err_add(err, NULL, 0, NULL, a, strlen(a), "missing-value",
                              "%s needs a value", a);
        int rc = stats_filter_set(sf, cb, a, v, err);
        if (rc) return rc;
    }
    return SP_OK;
}

/* =============================================================== JSON */

/* A JSON string; bytes of invalid UTF-8 become '?' (jansson refuses them). */
static json_t *jstr(const char *s)
{
    json_t *j = json_string(s);
    if (j) return j;
    char *c = sp_xstrdup(s);
    for (char *p = c; *p; p++)
        if ((unsigned char)*p >= 0x80) *p = '?';
    j = json_string(c);
    free(c);
    return j;
}

static json_t *cell_json(const stats_column *c, const stats_cell *x)
{
    if (x->missing) return json_null();
    switch (c->kind) {
    case STATS_TEXT: return x->s ? jstr(x->s) : json_null();
    case STATS_INT:
    case STATS_COUNT: return json_integer(x->n);
    case STATS_SHARE: return json_real(round(x->share * 10000.0) / 10000.0);
    }
    return json_null();
}

static int cell_eq(const stats_column *c, const stats_cell *a, const stats_cell *b)
{
    if (a->missing != b->missing) return 0;
    if (a->missing) return 1;
    switch (c->kind) {
    case STATS_TEXT: return cmp_val(a->s, b->s) == 0;
    case STATS_INT:
    case STATS_COUNT: return a->n == b->n;
    case STATS_SHARE: return a->share == b->share;
    }
    return 0;
}

static int level_eq(const stats_table *t, int level, size_t r1, size_t r2)
{
    for (size_t c = 0; c < t->ncols; c++)
        if (t->cols[c].level == level &&
            !cell_eq(&t->cols[c], stats_cell_at(t, r1, c), stats_cell_at(t, r2, c)))
            return 0;
    return 1;
}

/* Rows [r0, r1) at `level` as an array of objects; rows with equal cells
 * at this level are one object whose nest[level] holds the next level. */
static json_t *rows_json(const stats_table *t, int level, size_t r0, size_t r1)
{
    json_t *arr = json_array();
    size_t i = r0;
    while (i < r1) {
        size_t j = i + 1;
        if (level < t->nlevels - 1)
            while (j < r1 && level_eq(t, level, i, j)) j++;
        json_t *o = json_object();
        for (size_t c = 0; c < t->ncols; c++)
            if (t->cols[c].level == level)
                json_object_set_new(o, t->cols[c].name, cell_json(&t->cols[c], stats_cell_at(t, i, c)));
        /* after the privacy pass, every object holding a count says whether
         * it is hidden, so a chart can draw "<k" without guessing from null */
        for (size_t c = 0; t->suppress_k > 0 && c < t->ncols; c++) {
            if (t->cols[c].level != level || t->cols[c].kind != STATS_COUNT) continue;
            char key[96];
            if (strcmp(t->cols[c].name, "count") == 0) snprintf(key, sizeof key, "suppressed");
            else snprintf(key, sizeof key, "%s_suppressed", t->cols[c].name);
            json_object_set_new(o, key, json_boolean(stats_cell_at(t, i, c)->suppressed));
        }
        if (level < t->nlevels - 1)
            json_object_set_new(o, t->nest[level] ? t->nest[level] : "rows",
                                rows_json(t, level + 1, i, j));
        json_array_append_new(arr, o);
        i = j;
    }
    return arr;
}

static const char *kind_name(stats_kind k)
{
    switch (k) {
    case STATS_TEXT: return "text";
    case STATS_INT: return "integer";
    case STATS_COUNT: return "count";
    case STATS_SHARE: return "share";
    }
    return "text";
}

void *stats_to_json(const stats_table *t)
{
    json_t *o = json_object();
    json_object_set_new(o, "table", json_string(t->name));
    json_object_set_new(o, "title", json_string(t->title));
    json_t *f = json_object();
    json_object_set_new(f, "year_from", t->filter.year_from ? json_integer(t->filter.year_from) : json_null());
    json_object_set_new(f, "year_to", t->filter.year_to ? json_integer(t->filter.year_to) : json_null());
    json_object_set_new(f, "org_region", t->filter.org_region ? jstr(t->filter.org_region) : json_null());
    if (t->filter.org_id) json_object_set_new(f, "org_id", json_integer(t->filter.org_id));
    json_t *w = json_array();
    for (size_t i = 0; i < t->filter.nwhere; i++) {
        json_t *e = json_object();
        json_object_set_new(e, "field", t->filter.where[i].field ? jstr(t->filter.where[i].field) : json_null());
        json_object_set_new(e, "value", t->filter.where[i].value ? jstr(t->filter.where[i].value) : json_null());
        json_array_append_new(w, e);
    }
    json_object_set_new(f, "where", w);
    json_object_set_new(o, "filter", f);
    json_object_set_new(o, "records", t->records_suppressed ? json_null() : json_integer(t->records));
    if (t->suppress_k > 0) {
        json_t *sup = json_object();
        json_object_set_new(sup, "k", json_integer(t->suppress_k));
        json_object_set_new(sup, "applied", json_boolean(t->nsuppressed > 0));
        json_object_set_new(sup, "cells", json_integer((json_int_t)t->nsuppressed));
        json_object_set_new(sup, "records_suppressed", json_boolean(t->records_suppressed));
        json_object_set_new(o, "suppression", sup);
    } else {
        json_object_set_new(o, "suppression", json_null());
    }
    json_object_set_new(o, "counts", json_string(t->counts));
    if (t->bands) json_object_set_new(o, "bands", json_string(t->bands));
    json_object_set_new(o, "synthetic", json_boolean(t->synthetic));
    json_t *cols = json_array();
    for (size_t c = 0; c < t->ncols; c++) {
        json_t *e = json_object();
        json_object_set_new(e, "name", json_string(t->cols[c].name));
        json_object_set_new(e, "label", json_string(t->cols[c].label));
        json_object_set_new(e, "type", json_string(kind_name(t->cols[c].kind)));
        json_object_set_new(e, "level", json_integer(t->cols[c].level));
        if (t->cols[c].level > 0 && t->nest[t->cols[c].level - 1])
            json_object_set_new(e, "in", json_string(t->nest[t->cols[c].level - 1]));
        json_array_append_new(cols, e);
    }
    json_object_set_new(o, "columns", cols);
    json_object_set_new(o, "rows", rows_json(t, 0, 0, t->nrows));
    json_t *notes = json_array();
    for (size_t i = 0; i < t->nnotes; i++) json_array_append_new(notes, jstr(t->notes[i]));
    json_object_set_new(o, "notes", notes);
    return o;
}

int stats_print_json(const stats_table *t, FILE *out)
{
    json_t *o = stats_to_json(t);
    int rc = json_dumpf(o, out, JSON_INDENT(1) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10));
    json_decref(o);
    if (rc != 0 || fputc('\n', out) == EOF) return SP_EIO;
    return SP_OK;
}

/* =============================================================== text */

#define TEXT_MAX_WIDTH 40      /* code points; longer cells end in "…" */

/* Number of code points in s (UTF-8: bytes that do not continue one). */
static size_t cp_len(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        if (((unsigned char)*s & 0xC0) != 0x80) n++;
    return n;
}

/* Byte length of the first `cps` code points of s. */
static size_t cp_bytes(const char *s, size_t cps)
{
    size_t i = 0, n = 0;
    while (s[i]) {
        if (((unsigned char)s[i] & 0xC0) != 0x80) {
            if (n == cps) break;
            n++;
        }
        i++;
    }
    return i;
}

/* Text of a cell into buf (or a pointer to the cell's string). */
static const char *cell_text(const stats_table *t, const stats_column *c,
                             const stats_cell *x, char *buf, size_t n)
{
    if (x->suppressed && c->kind == STATS_COUNT) {
        snprintf(buf, n, "<%d", t->suppress_k > 0 ? t->suppress_k : 10);
        return buf;
    }
    if (x->missing) return "-";
    switch (c->kind) {
    case STATS_TEXT: return x->s ? x->s : "-";
    case STATS_INT:
    case STATS_COUNT: snprintf(buf, n, "%lld", x->n); return buf;
    case STATS_SHARE: snprintf(buf, n, "%.1f%%", x->share * 100.0); return buf;
    }
    return "";
}

static void put_cell(FILE *out, const char *s, size_t width, int right, int last)
{
    size_t len = cp_len(s), show = len;
    int cut = 0;
    if (len > width) { show = width - 1; cut = 1; }
    size_t pad = width - (cut ? width : len);
    if (right) for (size_t i = 0; i < pad; i++) fputc(' ', out);
    fwrite(s, 1, cut ? cp_bytes(s, show) : strlen(s), out);
    if (cut) fputs("\xe2\x80\xa6", out);
    if (!right && !last) for (size_t i = 0; i < pad; i++) fputc(' ', out);
}

/* First level whose cells differ from the previous row (rows before it in
 * the same group show their parent cells blank). */
static int first_new_level(const stats_table *t, size_t r)
{
    if (r == 0) return 0;
    for (int l = 0; l < t->nlevels - 1; l++)
        if (!level_eq(t, l, r - 1, r)) return l;
    return t->nlevels - 1;
}

static void print_filter(const stats_table *t, FILE *out)
{
    const sp_filter *f = &t->filter;
    int any = 0;
    fputs("Filter:", out);
    if (f->year_from) { fprintf(out, " year from %d", f->year_from); any = 1; }
    if (f->year_to) { fprintf(out, "%s year to %d", any ? ";" : "", f->year_to); any = 1; }
    if (f->org_region) { fprintf(out, "%s organisation region %s", any ? ";" : "", f->org_region); any = 1; }
    if (f->org_id) { fprintf(out, "%s organisation #%lld", any ? ";" : "", f->org_id); any = 1; }
    for (size_t i = 0; i < f->nwhere; i++) {
        fprintf(out, "%s %s = %s", any ? ";" : "", f->where[i].field ? f->where[i].field : "",
                f->where[i].value ? f->where[i].value : "");
        any = 1;
    }
    if (!any) fputs(" none (all records)", out);
    fputc('\n', out);
}

int stats_print_text(const stats_table *t, FILE *out)
{
    char buf[64];
    size_t *w = sp_xcalloc(t->ncols ? t->ncols : 1, sizeof *w);
    for (size_t c = 0; c < t->ncols; c++) {
        w[c] = cp_len(t->cols[c].label);
        for (size_t r = 0; r < t->nrows; r++) {
            size_t l = cp_len(cell_text(t, &t->cols[c], stats_cell_at(t, r, c), buf, sizeof buf));
            if (l > w[c]) w[c] = l;
        }
        if (w[c] > TEXT_MAX_WIDTH) w[c] = TEXT_MAX_WIDTH;
    }
    fprintf(out, "%s (%s)\n\n", t->title, t->name);
    for (size_t c = 0; c < t->ncols; c++) {
        int right = t->cols[c].kind != STATS_TEXT;
        if (c) fputs("  ", out);
        put_cell(out, t->cols[c].label, w[c], right, c + 1 == t->ncols);
    }
    fputc('\n', out);
    for (size_t c = 0; c < t->ncols; c++) {
        if (c) fputs("  ", out);
        for (size_t i = 0; i < w[c]; i++) fputc('-', out);
    }
    fputc('\n', out);
    for (size_t r = 0; r < t->nrows; r++) {
        int lnew = first_new_level(t, r);
        for (size_t c = 0; c < t->ncols; c++) {
            int right = t->cols[c].kind != STATS_TEXT;
            const char *s = t->cols[c].level < lnew ? ""
                : cell_text(t, &t->cols[c], stats_cell_at(t, r, c), buf, sizeof buf);
            if (c) fputs("  ", out);
            put_cell(out, s, w[c], right, c + 1 == t->ncols);
        }
        fputc('\n', out);
    }
    if (!t->nrows) fputs("(no rows)\n", out);
    free(w);
    fputc('\n', out);
    if (t->records_suppressed) fprintf(out, "Records: <%d\n", t->suppress_k);
    else fprintf(out, "Records: %lld\n", t->records);
    if (t->suppress_k > 0 && t->nsuppressed > 0)
        fprintf(out, "Suppression: %zu count%s hidden (counts from 1 to %d are shown as <%d; "
                "some larger counts are hidden the same way so the small ones cannot be worked out)\n",
                t->nsuppressed, t->nsuppressed == 1 ? "" : "s", t->suppress_k - 1, t->suppress_k);
    if (t->bands) fprintf(out, "Age bands: %s\n", t->bands);
    if (strcmp(t->counts, "records") != 0)
        fprintf(out, "Counts are %s.\n", strcmp(t->counts, "mentions") == 0
                ? "mentions (a record counts once per value it names)"
                : "records or mentions, as the \"Counts are\" column says");
    print_filter(t, out);
    for (size_t i = 0; i < t->nnotes; i++) fprintf(out, "Note: %s\n", t->notes[i]);
    return ferror(out) ? SP_EIO : SP_OK;
}

/* ------------------------------------------------------------ CSV */

/* A CSV cell: quoted when needed, formula-neutralised (export.h's rule). */
static int csv_cell(sp_buf *b, const char *s, size_t n)
{
    int apos = export_needs_neutralising(s, n);
    int q = apos || (n && (s[0] == ' ' || s[n - 1] == ' '));
    for (size_t i = 0; i < n && !q; i++)
        if (s[i] == ',' || s[i] == '"' || s[i] == '\r' || s[i] == '\n') q = 1;
    int rc = SP_OK;
    if (q) rc = sp_buf_addc(b, '"');
    if (!rc && apos) rc = sp_buf_addc(b, '\'');
    for (size_t i = 0; i < n && !rc; i++) {
        if (s[i] == '"') rc = sp_buf_addc(b, '"');
        if (!rc) rc = sp_buf_addc(b, s[i]);
    }
    if (!rc && q) rc = sp_buf_addc(b, '"');
    return rc;
}

/* The table flattened to CSV: one header line (nested columns named
 * "NEST.name"), one line per row, CRLF line ends, no BOM; a suppressed
 * count reads "<k", a hidden share is empty; text cells that a spreadsheet
 * would run as a formula are neutralised (export.h's rule). */
int stats_to_csv(const stats_table *t, sp_buf *b)
{
    int rc = SP_OK;
    char name[256];
    for (size_t c = 0; c < t->ncols && !rc; c++) {
        const stats_column *col = &t->cols[c];
        if (col->level > 0 && col->level <= STATS_MAX_LEVELS && t->nest[col->level - 1])
            snprintf(name, sizeof name, "%s.%s", t->nest[col->level - 1], col->name);
        else
            snprintf(name, sizeof name, "%s", col->name);
        if (c) rc = sp_buf_addc(b, ',');
        if (!rc) rc = csv_cell(b, name, strlen(name));
    }
    if (!rc) rc = sp_buf_adds(b, "\r\n");
    for (size_t r = 0; r < t->nrows && !rc; r++) {
        for (size_t c = 0; c < t->ncols && !rc; c++) {
            const stats_cell *x = stats_cell_at(t, r, c);
            if (c) rc = sp_buf_addc(b, ',');
            if (!rc && x->suppressed && t->cols[c].kind == STATS_COUNT)
                rc = sp_buf_printf(b, "<%d", t->suppress_k > 0 ? t->suppress_k : PRIVACY_K_DEFAULT);
            if (rc || x->missing) continue;   /* a hidden share is empty */
            switch (t->cols[c].kind) {
            case STATS_TEXT:
                if (x->s) rc = csv_cell(b, x->s, strlen(x->s));
                break;
            case STATS_INT:
            case STATS_COUNT: rc = sp_buf_printf(b, "%lld", x->n); break;
            case STATS_SHARE: /* rounded to 4 decimals, as in the JSON */
                rc = sp_buf_printf(b, "%.10g", round(x->share * 10000.0) / 10000.0);
                break;
            }
        }
        if (!rc) rc = sp_buf_adds(b, "\r\n");
    }
    return rc;
}
