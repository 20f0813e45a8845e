/* privacy.c -- see privacy.h and docs/privacy.md.
 *
 * The table is read as "logical cells": a count shown once per object of
 * its nesting level (a country's count repeats on each of its province
 * rows but is one number), plus the table's `records`. Groups tie cells to
 * a total (a country's provinces to the country, a year's industries to
 * the year's total, the top level to `records`, flows to the origin and
 * destination marginals other tables publish). Suppression marks cells;
 * only at the end are the marked cells blanked, so the rules can use the
 * exact numbers while they decide. */
#include "privacy.h"
#include "stats_extra.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

/* ============================================================ settings */

int privacy_k(sp_store *s, int *k)
{
    char *v = NULL;
    *k = PRIVACY_K_DEFAULT;
    int rc = store_meta_get(s, PRIVACY_META_KEY, &v);
    if (rc != SP_OK) return rc;
    if (!v) return SP_OK;
    long long n;
    if (sp_parse_int(v, strlen(v), &n) != 0 || n < PRIVACY_K_MIN || n > PRIVACY_K_MAX)
        rc = SP_EINPUT;          /* never fall back to a weaker k silently */
    else
        *k = (int)n;
    free(v);
    return rc;
}

int privacy_set_k(sp_store *s, int k)
{
    if (k < PRIVACY_K_MIN || k > PRIVACY_K_MAX) return SP_EUSAGE;
    char b[16];
    snprintf(b, sizeof b, "%d", k);
    return store_meta_set(s, PRIVACY_META_KEY, b);
}

/* ======================================================== the plan */

typedef struct lcell {
    long col;                  /* -1: the table's records */
    size_t r0, r1;             /* rows showing it */
    int level;
    long long v;               /* exact (apply) or published (check) */
    int sup;
} lcell;

typedef struct grp {
    size_t *m;                 /* member cells */
    size_t nm, am;
    long tcell;                /* total cell, or -1: total published elsewhere */
    long long ext;             /* that total (tcell -1); known iff >= k */
} grp;

typedef struct plan {
    stats_table *t;
    int k;
    lcell *c;
    size_t nc, ac;
    grp *g;
    size_t ng, ag;
    size_t *cell_of;           /* [col * nrows + row] -> cell index */
} plan;

static size_t plan_cell(plan *p, long col, size_t r0, size_t r1, int level, long long v, int sup)
{
    if (p->nc == p->ac) {
        p->ac = p->ac ? p->ac * 2 : 64;
        p->c = sp_xrealloc(p->c, p->ac * sizeof *p->c);
    }
    p->c[p->nc] = (lcell){ col, r0, r1, level, v, sup };
    return p->nc++;
}

static grp *plan_group(plan *p, long tcell, long long ext)
{
    if (p->ng == p->ag) {
        p->ag = p->ag ? p->ag * 2 : 16;
        p->g = sp_xrealloc(p->g, p->ag * sizeof *p->g);
    }
    grp *g = &p->g[p->ng++];
    memset(g, 0, sizeof *g);
    g->tcell = tcell;
    g->ext = ext;
    return g;
}

static void grp_add(grp *g, size_t cell)
{
    for (size_t i = 0; i < g->nm; i++)
        if (g->m[i] == cell) return;
    if (g->nm == g->am) {
        g->am = g->am ? g->am * 2 : 8;
        g->m = sp_xrealloc(g->m, g->am * sizeof *g->m);
    }
    g->m[g->nm++] = cell;
}

static void plan_free(plan *p)
{
    for (size_t i = 0; i < p->ng; i++) free(p->g[i].m);
    free(p->g);
    free(p->c);
    free(p->cell_of);
    memset(p, 0, sizeof *p);
}

static int s_eq(const char *a, const char *b)
{
    if (!a || !b) return a == b;
    return strcmp(a, b) == 0;
}

/* Do rows a and b show the same cells at every level <= level, counts
 * and shares left out (so the test holds before and after blanking)? */
static int same_prefix(const stats_table *t, size_t a, size_t b, int level)
{
    for (size_t c = 0; c < t->ncols; c++) {
        const stats_column *col = &t->cols[c];
        if (col->level > level || col->kind == STATS_COUNT || col->kind == STATS_SHARE) continue;
        const stats_cell *x = stats_cell_at(t, a, c), *y = stats_cell_at(t, b, c);
        if (x->missing != y->missing) return 0;
        if (x->missing) continue;
        if (col->kind == STATS_TEXT ? !s_eq(x->s, y->s) : x->n != y->n) return 0;
    }
    return 1;
}

/* The count column of a shallower level whose number is the sum of col's
 * numbers beneath it (-1 if none): the nearest count column above. */
static int parent_count_col(const stats_table *t, size_t col)
{
    int best = -1;
    for (size_t c = 0; c < t->ncols; c++)
        if (t->cols[c].kind == STATS_COUNT && t->cols[c].level < t->cols[col].level &&
            (best < 0 || t->cols[c].level > t->cols[best].level))
            best = (int)c;
    return best;
}

/* Tables whose counts add up: children to their parent, the top level to
 * records. Anything else (mentions, other modules' tables) gets primary
 * suppression and the complement rule only. */
static int additive(const stats_table *t)
{
    static const char *const names[] = { "industries-by-year", "origins", "destinations",
                                         "flows", "nationality", "gender", "age", NULL };
    if (!t->name || !t->counts || strcmp(t->counts, "records") != 0) return 0;
    for (size_t i = 0; names[i]; i++)
        if (strcmp(t->name, names[i]) == 0) return 1;
    return 0;
}

static int table_is(const stats_table *t, const char *name)
{
    return t->name && strcmp(t->name, name) == 0;
}

/* External marginal groups of the flows table: rows sharing the value of
 * the columns named (a, b) -- b may be NULL -- are one group whose total
 * other tables publish (origins, destinations). */
static void flows_marginals(plan *p, size_t cc, const char *a, const char *b)
{
    stats_table *t = p->t;
    int ca = stats_col(t, 0, a), cb = b ? stats_col(t, 0, b) : -1;
    if (ca < 0 || (b && cb < 0)) return;
    char *done = sp_xcalloc(t->nrows ? t->nrows : 1, 1);
    for (size_t r = 0; r < t->nrows; r++) {
        if (done[r]) continue;
        const char *va = stats_cell_at(t, r, (size_t)ca)->s;
        const char *vb = cb >= 0 ? stats_cell_at(t, r, (size_t)cb)->s : NULL;
        if (cb >= 0 && !vb) { done[r] = 1; continue; }  /* coarsened: no province marginal */
        grp *g = plan_group(p, -1, 0);
        for (size_t q = r; q < t->nrows; q++) {
            if (done[q]) continue;
            if (!s_eq(stats_cell_at(t, q, (size_t)ca)->s, va)) continue;
            if (cb >= 0 && !s_eq(stats_cell_at(t, q, (size_t)cb)->s, vb)) continue;
            done[q] = 1;
            size_t cell = p->cell_of[cc * t->nrows + q];
            grp_add(g, cell);
            g->ext += p->c[cell].v;
        }
    }
    free(done);
}

/* Builds cells and groups from t. published = 1: values as published
 * (suppressed cells unknown), for privacy_check; 0: exact values. */
static void plan_build(plan *p, stats_table *t, int k, int published)
{
    memset(p, 0, sizeof *p);
    p->t = t;
    p->k = k;
    p->cell_of = sp_xcalloc(t->ncols * t->nrows + 1, sizeof *p->cell_of);
    plan_cell(p, -1, 0, 0, -1, t->records, published && t->records_suppressed);
    for (size_t c = 0; c < t->ncols; c++) {
        if (t->cols[c].kind != STATS_COUNT) continue;
        int lv = t->cols[c].level;
        size_t r = 0;
        while (r < t->nrows) {
            size_t e = r + 1;
            if (lv < t->nlevels - 1)
                while (e < t->nrows && same_prefix(t, r, e, lv)) e++;
            const stats_cell *x = stats_cell_at(t, r, c);
            size_t id = plan_cell(p, (long)c, r, e, lv, x->missing ? 0 : x->n,
                                  published && x->suppressed);
            for (size_t q = r; q < e; q++) p->cell_of[c * t->nrows + q] = id;
            r = e;
        }
    }
    /* groups */
    int add = additive(t);
    for (size_t c = 0; c < t->ncols && add; c++) {
        if (t->cols[c].kind != STATS_COUNT) continue;
        int pc = parent_count_col(t, c);
        if (pc < 0) {
            grp *g = plan_group(p, 0, 0);
            for (size_t r = 0; r < t->nrows; r++) grp_add(g, p->cell_of[c * t->nrows + r]);
            continue;
        }
        size_t r = 0;
        while (r < t->nrows) {
            size_t parent = p->cell_of[(size_t)pc * t->nrows + r];
            grp *g = plan_group(p, (long)parent, 0);
            for (; r < p->c[parent].r1; r++) grp_add(g, p->cell_of[c * t->nrows + r]);
        }
    }
    /* recruitment: the blocks counted in records add up to records */
    if (table_is(t, "recruitment")) {
        int kc = stats_col(t, 0, "counts"), cc = stats_col(t, 1, "count");
        size_t r = 0;
        while (kc >= 0 && cc >= 0 && r < t->nrows) {
            size_t e = r + 1;
            while (e < t->nrows && same_prefix(t, r, e, 0)) e++;
            const stats_cell *x = stats_cell_at(t, r, (size_t)kc);
            if (!x->missing && s_eq(x->s, "records")) {
                grp *g = plan_group(p, 0, 0);
                for (size_t q = r; q < e; q++) grp_add(g, p->cell_of[(size_t)cc * t->nrows + q]);
            }
            r = e;
        }
    }
    /* flows: their sums by origin and destination are published by the
     * origins and destinations tables */
    if (table_is(t, "flows") && !published) {
        int cc = stats_col(t, 0, "count");
        if (cc >= 0) {
            flows_marginals(p, (size_t)cc, "from_country", NULL);
            flows_marginals(p, (size_t)cc, "to_country", NULL);
            flows_marginals(p, (size_t)cc, "from_country", "from_province");
            flows_marginals(p, (size_t)cc, "to_country", "to_province");
        }
    }
}

/* ============================================================ the rules */

static void primary(plan *p)
{
    for (size_t i = 0; i < p->nc; i++)
        if (p->c[i].v > 0 && p->c[i].v < p->k) p->c[i].sup = 1;
}

/* Hides the smallest non-zero published member of g; 0 if there is none. */
static int hide_smallest(plan *p, const grp *g)
{
    long best = -1;
    for (size_t i = 0; i < g->nm; i++) {
        const lcell *x = &p->c[g->m[i]];
        if (x->sup || x->v <= 0) continue;
        if (best < 0 || x->v < p->c[best].v) best = (long)g->m[i];
    }
    if (best < 0) return 0;
    p->c[best].sup = 1;
    return 1;
}

/* Secondary suppression to a fixed point. In every group: the hidden
 * members sum to 0 or at least k when the total is known, and never is
 * exactly one number of the group (members and total) unknown. Every
 * published count c also leaves records - c at 0 or at least k. Only ever
 * hides more, so it ends. */
static void secondary(plan *p)
{
    int changed = 1;
    while (changed) {
        changed = 0;
        for (size_t gi = 0; gi < p->ng; gi++) {
            grp *g = &p->g[gi];
            int known = g->tcell >= 0 ? !p->c[g->tcell].sup : g->ext >= p->k;
            size_t nsup = 0;
            long long sum = 0;
            for (size_t i = 0; i < g->nm; i++)
                if (p->c[g->m[i]].sup) { nsup++; sum += p->c[g->m[i]].v; }
            size_t unknown = nsup + (known ? 0 : 1);
            int need = unknown == 1 || (known && nsup > 0 && sum > 0 && sum < p->k);
            if (!need) continue;
            if (hide_smallest(p, g)) { changed = 1; continue; }
            if (g->tcell >= 0 && known) { p->c[g->tcell].sup = 1; changed = 1; }
            /* else: an unknown total and nothing left to hide, or a total
             * another table publishes: nothing more can be done here */
        }
        const lcell *rec = &p->c[0];
        for (size_t i = 1; i < p->nc && !rec->sup; i++) {
            lcell *x = &p->c[i];
            long long d = rec->v - x->v;
            if (!x->sup && d > 0 && d < p->k) { x->sup = 1; changed = 1; }
        }
    }
}

/* ============================================================== finish */

static void blank(stats_cell *x)
{
    x->n = 0;
    x->share = 0.0;
    x->missing = 1;
    x->suppressed = 1;
}

/* Writes the marks into t: hidden counts blanked, shares recomputed from
 * published counts (hidden when their count or denominator is hidden). */
static void finish(plan *p, int coarsened)
{
    stats_table *t = p->t;
    size_t n = 0;
    for (size_t i = 0; i < p->nc; i++) {
        const lcell *x = &p->c[i];
        if (!x->sup) continue;
        n++;
        if (x->col < 0) continue;
        for (size_t r = x->r0; r < x->r1; r++) blank(stats_cell_at(t, r, (size_t)x->col));
    }
    if (p->c[0].sup) {
        t->records = 0;
        t->records_suppressed = 1;
    }
    int year_shares = table_is(t, "industries-by-year");
    for (size_t c = 0; c < t->ncols; c++) {
        if (t->cols[c].kind != STATS_SHARE) continue;
        int cc = stats_col(t, t->cols[c].level, "count");
        for (size_t d = 0; cc < 0 && d < t->ncols; d++)
            if (t->cols[d].kind == STATS_COUNT && t->cols[d].level == t->cols[c].level) cc = (int)d;
        int pc = cc >= 0 && year_shares ? parent_count_col(t, (size_t)cc) : -1;
        for (size_t r = 0; r < t->nrows; r++) {
            stats_cell *s = stats_cell_at(t, r, c);
            if (cc < 0) { blank(s); continue; }   /* a share of nothing we know */
            const stats_cell *num = stats_cell_at(t, r, (size_t)cc);
            long long den = t->records;
            int den_hidden = t->records_suppressed;
            if (pc >= 0) {
                const stats_cell *dc = stats_cell_at(t, r, (size_t)pc);
                den = dc->n;
                den_hidden = dc->suppressed;
            }
            if (num->suppressed || den_hidden) { blank(s); continue; }
            if (num->missing || den <= 0) { s->missing = 1; s->suppressed = 0; continue; }
            s->share = (double)num->n / (double)den;
            s->missing = 0;
            s->suppressed = 0;
        }
    }
    t->suppress_k = p->k;
    t->nsuppressed = n;
    if (coarsened)
        stats_table_note(t, "Places with fewer records than the hub's threshold k are combined into "
                            "\"other or unrecorded\" rows, or shown at a higher level.");
    if (n)
        stats_table_note(t, "Suppression was applied: counts from 1 to k-1 are shown as \"<k\", and some "
                            "larger counts are hidden the same way so that the small ones cannot be worked "
                            "out from totals or other views. Shares use published counts only.");
}

/* ========================================================= geography */

#define OTHER_PROVINCES "(other or unrecorded provinces)"
#define OTHER_LOCALITIES "(other or unrecorded localities)"

/* A leaf row of a place table: up to 4 keys (codes or locality text;
 * NULL: missing or combined) with their display names. */
typedef struct leaf {
    const char *key[4], *name[4];
    long long n;
    long long tot[4];          /* tree tables: sum over the same key prefix */
    int hide_f, hide_t;        /* flows: province of origin / destination combined */
} leaf;

static int cmp_key(const char *a, const char *b)
{
    if (!a || !b) return (a == NULL) - (b == NULL);   /* missing last */
    return strcmp(a, b);
}

static int cmp_leaf_lex(const void *pa, const void *pb)
{
    const leaf *a = pa, *b = pb;
    for (int d = 0; d < 4; d++) {
        int c = cmp_key(a->key[d], b->key[d]);
        if (c) return c;
    }
    return 0;
}

/* Tree order (as stats.c): at each level missing last, larger totals
 * first, then by key. */
static int cmp_leaf_tree(const void *pa, const void *pb)
{
    const leaf *a = pa, *b = pb;
    for (int d = 0; d < 4; d++) {
        int am = a->key[d] == NULL, bm = b->key[d] == NULL;
        if (am != bm) return am - bm;
        if (a->tot[d] != b->tot[d]) return a->tot[d] > b->tot[d] ? -1 : 1;
        int c = cmp_key(a->key[d], b->key[d]);
        if (c) return c;
    }
    return 0;
}

static int cmp_leaf_flat(const void *pa, const void *pb)
{
    const leaf *a = pa, *b = pb;
    if (a->n != b->n) return a->n > b->n ? -1 : 1;
    return cmp_leaf_lex(pa, pb);
}

static int same_keys(const leaf *a, const leaf *b, int upto)
{
    for (int d = 0; d <= upto; d++)
        if (cmp_key(a->key[d], b->key[d]) != 0) return 0;
    return 1;
}

/* Sorts and adds up leaves with equal keys; returns the new count. */
static size_t leaves_merge(leaf *L, size_t n)
{
    if (!n) return 0;
    qsort(L, n, sizeof *L, cmp_leaf_lex);
    size_t w = 0;
    for (size_t i = 1; i < n; i++) {
        if (same_keys(&L[w], &L[i], 3)) L[w].n += L[i].n;
        else L[++w] = L[i];
    }
    return w + 1;
}

static const char *cell_s(const stats_table *t, size_t r, int c)
{
    const stats_cell *x = stats_cell_at(t, r, (size_t)c);
    return x->missing ? NULL : x->s;
}

static void put_s(stats_table *t, size_t r, int c, const char *s)
{
    stats_cell *x = stats_cell_at(t, r, (size_t)c);
    x->s = s;                  /* t's arena strings or static literals */
    x->missing = s == NULL;
}

static void put_n(stats_table *t, size_t r, int c, long long n)
{
    stats_cell *x = stats_cell_at(t, r, (size_t)c);
    x->n = n;
    x->missing = 0;
}

/* origins (country > province) and destinations (country > province >
 * locality): a province with fewer than k records is combined, with the
 * unrecorded ones, into one row of its country; a locality likewise within
 * its province. Returns 1 if anything was combined. */
static int coarsen_tree(stats_table *t, int k)
{
    int L = t->nlevels;
    if (L < 2 || L > 3 || !t->nrows) return 0;
    int kc[3], nc[3], cc[3];
    for (int l = 0; l < L; l++) {
        kc[l] = stats_col(t, l, l == 2 ? "locality" : "code");
        nc[l] = stats_col(t, l, "name");
        cc[l] = stats_col(t, l, "count");
        if (kc[l] < 0 || nc[l] < 0 || cc[l] < 0) return 0;
    }
    size_t n = t->nrows;
    leaf *lv = sp_xcalloc(n, sizeof *lv);
    for (size_t r = 0; r < n; r++) {
        for (int l = 0; l < L; l++) {
            lv[r].key[l] = cell_s(t, r, kc[l]);
            lv[r].name[l] = cell_s(t, r, nc[l]);
        }
        lv[r].n = stats_cell_at(t, r, (size_t)cc[L - 1])->n;
    }
    int changed = 0;
    for (int l = 1; l < L; l++) {
        qsort(lv, n, sizeof *lv, cmp_leaf_lex);
        size_t i = 0;
        while (i < n) {                        /* one parent: keys 0..l-1 */
            size_t e = i;
            while (e < n && same_keys(&lv[i], &lv[e], l - 1)) e++;
            int small = 0;
            for (size_t a = i; a < e;) {       /* one child: keys 0..l */
                size_t b = a;
                long long tot = 0;
                while (b < e && same_keys(&lv[a], &lv[b], l)) tot += lv[b++].n;
                if (lv[a].key[l] && tot < k) small = 1;
                for (size_t q = a; q < b; q++) lv[q].tot[l] = tot;
                a = b;
            }
            for (size_t q = i; small && q < e; q++) {
                if (lv[q].key[l] && lv[q].tot[l] >= k) continue;
                lv[q].key[l] = NULL;
                lv[q].name[l] = l == 1 ? OTHER_PROVINCES : OTHER_LOCALITIES;
                changed = 1;
            }
            i = e;
        }
    }
    n = leaves_merge(lv, n);
    for (int l = 0; l < L; l++) {              /* totals for the tree order */
        size_t i = 0;
        while (i < n) {
            size_t e = i;
            long long tot = 0;
            while (e < n && same_keys(&lv[i], &lv[e], l)) tot += lv[e++].n;
            for (size_t q = i; q < e; q++) lv[q].tot[l] = tot;
            i = e;
        }
    }
    qsort(lv, n, sizeof *lv, cmp_leaf_tree);
    for (size_t r = 0; r < n; r++)
        for (int l = 0; l < L; l++) {
            put_s(t, r, kc[l], lv[r].key[l]);
            put_s(t, r, nc[l], lv[r].name[l]);
            put_n(t, r, cc[l], lv[r].tot[l]);
        }
    t->nrows = n;
    free(lv);
    return changed;
}

/* Flows by province of one side (0: origin, keys 0-1; 1: destination,
 * keys 2-3): sorts so that a side's provinces are runs. */
static int cmp_side0(const void *pa, const void *pb)
{
    const leaf *a = pa, *b = pb;
    int c = cmp_key(a->key[0], b->key[0]);
    return c ? c : cmp_key(a->key[1], b->key[1]);
}
static int cmp_side1(const void *pa, const void *pb)
{
    const leaf *a = pa, *b = pb;
    int c = cmp_key(a->key[2], b->key[2]);
    return c ? c : cmp_key(a->key[3], b->key[3]);
}

/* The keys a leaf shows now (a combined province is NULL). */
static void eff_keys(const leaf *x, const char *out[4])
{
    out[0] = x->key[0];
    out[1] = x->hide_f ? NULL : x->key[1];
    out[2] = x->key[2];
    out[3] = x->hide_t ? NULL : x->key[3];
}

static int cmp_eff(const void *pa, const void *pb)
{
    const char *a[4], *b[4];
    eff_keys(pa, a);
    eff_keys(pb, b);
    for (int d = 0; d < 4; d++) {
        int c = cmp_key(a[d], b[d]);
        if (c) return c;
    }
    return 0;
}

/* One side's rules; returns 1 if it combined something. A province with
 * fewer than k flows in all is combined everywhere (first pass); a
 * province whose combined part is 1..k-1 combines its next smallest
 * flow, so "province total minus its published flows" is never small. */
static int flows_side(leaf *lv, size_t n, int side, int k, int first)
{
    qsort(lv, n, sizeof *lv, side ? cmp_side1 : cmp_side0);
    int kp = side ? 3 : 1, changed = 0;
    size_t i = 0;
    while (i < n) {
        size_t e = i;
        while (e < n && (side ? cmp_side1 : cmp_side0)(&lv[i], &lv[e]) == 0) e++;
        if (!lv[i].key[kp]) { i = e; continue; }
        long long tot = 0, kept = 0;
        for (size_t q = i; q < e; q++) {
            tot += lv[q].n;
            if (!(side ? lv[q].hide_t : lv[q].hide_f)) kept += lv[q].n;
        }
        if (first && tot < k) {
            for (size_t q = i; q < e; q++) {
                if (side) lv[q].hide_t = 1;
                else lv[q].hide_f = 1;
            }
            changed = 1;
        } else if (!first && kept > 0 && tot - kept > 0 && tot - kept < k) {
            long best = -1;
            for (size_t q = i; q < e; q++)
                if (!(side ? lv[q].hide_t : lv[q].hide_f) && (best < 0 || lv[q].n < lv[best].n))
                    best = (long)q;
            lv[best].hide_f = lv[best].hide_t = 1;
            changed = 1;
        }
        i = e;
    }
    return changed;
}

/* flows: a province with fewer than k flows is combined; a flow still
 * under k moves to country level (both provinces combined); repeated with
 * the remainder rule until nothing changes. Returns 1 if anything did. */
static int coarsen_flows(stats_table *t, int k)
{
    static const char *const kn[4] = { "from_country", "from_province", "to_country", "to_province" };
    static const char *const nn[4] = { "from_country_name", "from_province_name",
                                       "to_country_name", "to_province_name" };
    int kc[4], nc[4], cc = stats_col(t, 0, "count");
    for (int d = 0; d < 4; d++) {
        kc[d] = stats_col(t, 0, kn[d]);
        nc[d] = stats_col(t, 0, nn[d]);
        if (kc[d] < 0 || nc[d] < 0) return 0;
    }
    if (cc < 0 || !t->nrows) return 0;
    size_t n = t->nrows;
    leaf *lv = sp_xcalloc(n, sizeof *lv);
    for (size_t r = 0; r < n; r++) {
        for (int d = 0; d < 4; d++) {
            lv[r].key[d] = cell_s(t, r, kc[d]);
            lv[r].name[d] = cell_s(t, r, nc[d]);
        }
        lv[r].n = stats_cell_at(t, r, (size_t)cc)->n;
    }
    int changed = flows_side(lv, n, 0, k, 1);
    changed |= flows_side(lv, n, 1, k, 1);
    int again = 1;
    for (size_t guard = 0; again && guard < 4 * n + 8; guard++) {
        again = 0;
        qsort(lv, n, sizeof *lv, cmp_eff);
        size_t i = 0;
        while (i < n) {                        /* rows as shown now */
            size_t e = i;
            long long sum = 0;
            int specific = 0;
            while (e < n && cmp_eff(&lv[i], &lv[e]) == 0) {
                sum += lv[e].n;
                specific |= (lv[e].key[1] && !lv[e].hide_f) || (lv[e].key[3] && !lv[e].hide_t);
                e++;
            }
            if (sum < k && specific) {
                for (size_t q = i; q < e; q++) lv[q].hide_f = lv[q].hide_t = 1;
                again = 1;
            }
            i = e;
        }
        again |= flows_side(lv, n, 0, k, 0);
        again |= flows_side(lv, n, 1, k, 0);
        changed |= again;
    }
    for (size_t r = 0; r < n; r++) {
        if (lv[r].hide_f && lv[r].key[1]) { lv[r].key[1] = NULL; lv[r].name[1] = OTHER_PROVINCES; }
        if (lv[r].hide_t && lv[r].key[3]) { lv[r].key[3] = NULL; lv[r].name[3] = OTHER_PROVINCES; }
    }
    /* an unrecorded province shown beside combined ones of the same
     * country and flow is one row: name it as the combined one */
    qsort(lv, n, sizeof *lv, cmp_leaf_lex);
    for (size_t i = 0; i < n; i++)
        for (int d = 1; d < 4; d += 2) {
            if (lv[i].key[d] || s_eq(lv[i].name[d], OTHER_PROVINCES)) continue;
            for (size_t q = i; q < n && same_keys(&lv[i], &lv[q], 3); q++)
                if (s_eq(lv[q].name[d], OTHER_PROVINCES)) lv[i].name[d] = OTHER_PROVINCES;
            for (size_t q = i; q > 0 && same_keys(&lv[i], &lv[q - 1], 3); q--)
                if (s_eq(lv[q - 1].name[d], OTHER_PROVINCES)) lv[i].name[d] = OTHER_PROVINCES;
        }
    n = leaves_merge(lv, n);
    qsort(lv, n, sizeof *lv, cmp_leaf_flat);
    for (size_t r = 0; r < n; r++) {
        for (int d = 0; d < 4; d++) {
            put_s(t, r, kc[d], lv[r].key[d]);
            put_s(t, r, nc[d], lv[r].name[d]);
        }
        put_n(t, r, cc, lv[r].n);
    }
    t->nrows = n;
    free(lv);
    return changed;
}

static int coarsen(stats_table *t, int k)
{
    if (table_is(t, "origins") || table_is(t, "destinations")) return coarsen_tree(t, k);
    if (table_is(t, "flows")) return coarsen_flows(t, k);
    return 0;
}

/* ======================================================== public calls */

static int check_args(stats_table *t, int k, sp_err *err)
{
    if (k < PRIVACY_K_MIN || k > PRIVACY_K_MAX)
        return sp_err_add(err, NULL, 0, NULL, NULL, 0, "bad-k",
                          "the suppression threshold k must be between %d and %d, not %d",
                          PRIVACY_K_MIN, PRIVACY_K_MAX, k), SP_EUSAGE;
    if (t->suppress_k)
        return sp_err_add(err, NULL, 0, NULL, NULL, 0, "already-suppressed",
                          "table %s has already been through suppression", t->name), SP_EUSAGE;
    return SP_OK;
}

int privacy_apply(stats_table *t, int k, sp_err *err)
{
    int rc = check_args(t, k, err);
    if (rc) return rc;
    int co = coarsen(t, k);
    plan p;
    plan_build(&p, t, k, 0);
    primary(&p);
    secondary(&p);
    finish(&p, co);
    plan_free(&p);
    return SP_OK;
}

/* The identity of a cell across views: the column and every text/integer
 * cell at its level and above ("records" for the table's records). */
static void cell_key(const stats_table *t, const lcell *x, sp_buf *b)
{
    sp_buf_reset(b);
    if (x->col < 0) { sp_buf_adds(b, "\x01records"); return; }
    sp_buf_printf(b, "%ld", x->col);
    /* A row is named by its text columns; a level with none (a year) is
     * named by its integers. Integers beside a text label are measures
     * (a ransom median, a band's bounds) that may differ between views of
     * the same row, so they must not make two views' cells look apart. */
    int has_text[STATS_MAX_LEVELS + 1] = {0};
    for (size_t c = 0; c < t->ncols; c++)
        if (t->cols[c].kind == STATS_TEXT && t->cols[c].level >= 0 &&
            t->cols[c].level <= STATS_MAX_LEVELS)
            has_text[t->cols[c].level] = 1;
    for (size_t c = 0; c < t->ncols; c++) {
        const stats_column *col = &t->cols[c];
        if (col->level > x->level || col->kind == STATS_COUNT || col->kind == STATS_SHARE) continue;
        if (col->kind == STATS_INT && col->level >= 0 && col->level <= STATS_MAX_LEVELS &&
            has_text[col->level])
            continue;
        const stats_cell *y = stats_cell_at(t, x->r0, c);
        if (y->missing) sp_buf_adds(b, "\x02-");
        else if (col->kind == STATS_TEXT) { sp_buf_addc(b, '\x02'); sp_buf_adds(b, y->s ? y->s : ""); }
        else sp_buf_printf(b, "\x02%lld", y->n);
    }
}

/* Hides every cell of p whose published twin in the view v differs by
 * 1..k-1 (v is the broader view: its counts are >= ours). */
static void against_view(plan *p, stats_table *v)
{
    plan q;
    plan_build(&q, v, p->k, 1);
    sp_map m;
    sp_map_init(&m);
    sp_buf b;
    sp_buf_init(&b, 1 << 16);
    for (size_t i = 0; i < q.nc; i++) {
        if (q.c[i].sup) continue;
        cell_key(v, &q.c[i], &b);
        long long n = q.c[i].v;
        sp_map_put(&m, b.data, b.len, n > INT_MAX ? INT_MAX : (int)n);
    }
    for (size_t i = 0; i < p->nc; i++) {
        int pv;
        cell_key(p->t, &p->c[i], &b);
        if (!sp_map_get(&m, b.data, b.len, &pv)) continue;
        long long d = (long long)pv - p->c[i].v;
        if (d > 0 && d < p->k) p->c[i].sup = 1;
    }
    sp_buf_free(&b);
    sp_map_free(&m);
    plan_free(&q);
}

/* Computes t's table under filter f, exact, then suppressed. */
static int view_of(sp_store *s, const sp_codebook *cb, const stats_table *t, const sp_filter *f,
                   int k, stats_table **out, sp_err *err)
{
    *out = NULL;
    stats_opts o = { STATS_BANDS_DEFAULT };
    if (t->bands && strcmp(t->bands, "ctdc") == 0) o.bands = STATS_BANDS_CTDC;
    int rc = stats_extra_known(t->name) ? stats_extra_compute(s, cb, t->name, f, out, err)
                                        : stats_compute(s, cb, t->name, f, &o, out, err);
    if (rc) return rc;
    rc = privacy_apply(*out, k, err);
    if (rc) { stats_table_free(*out); *out = NULL; }
    return rc;
}

int privacy_apply_filtered(sp_store *s, const sp_codebook *cb, stats_table *t,
                           const sp_filter *f, int k, sp_err *err)
{
    int rc = check_args(t, k, err);
    if (rc) return rc;
    sp_filter base = f ? *f : t->filter;
    if (base.nwhere > SP_MAX_WHERE) base.nwhere = SP_MAX_WHERE;
    /* the views one setting broader: each clause dropped, the region
     * dropped, each year bound moved out by one and opened */
    sp_filter views[SP_MAX_WHERE + 5];
    size_t nv = 0;
    for (size_t i = 0; i < base.nwhere; i++) {
        sp_filter v = base;
        for (size_t j = i; j + 1 < base.nwhere; j++) v.where[j] = base.where[j + 1];
        v.nwhere--;
        views[nv++] = v;
    }
    if (base.org_region) { views[nv] = base; views[nv++].org_region = NULL; }
    if (base.year_from) {
        views[nv] = base; views[nv++].year_from = 0;
        if (base.year_from > 1) { views[nv] = base; views[nv++].year_from = base.year_from - 1; }
    }
    if (base.year_to) {
        views[nv] = base; views[nv++].year_to = 0;
        if (base.year_to < 9999) { views[nv] = base; views[nv++].year_to = base.year_to + 1; }
    }
    int co = coarsen(t, k);
    plan p;
    plan_build(&p, t, k, 0);
    primary(&p);
    for (size_t i = 0; i < nv && !rc; i++) {
        stats_table *v = NULL;
        rc = view_of(s, cb, t, &views[i], k, &v, err);
        if (!rc) against_view(&p, v);
        stats_table_free(v);
    }
    if (!rc) {
        secondary(&p);
        finish(&p, co);
    }
    plan_free(&p);
    return rc;
}

int privacy_check(const stats_table *t, int k)
{
    plan p;
    /* plan_build only reads the table when building a published plan */
    plan_build(&p, (stats_table *)t, k, 1);
    int bad = 0;
    for (size_t i = 0; i < p.nc; i++)
        if (!p.c[i].sup && p.c[i].v > 0 && p.c[i].v < k) bad++;
    for (size_t gi = 0; gi < p.ng; gi++) {
        const grp *g = &p.g[gi];
        if (g->tcell < 0) continue;            /* totals of other tables */
        int known = !p.c[g->tcell].sup;
        long long pub = 0;
        size_t nsup = 0;
        for (size_t i = 0; i < g->nm; i++) {
            if (p.c[g->m[i]].sup) nsup++;
            else pub += p.c[g->m[i]].v;
        }
        if (known) {
            long long hidden = p.c[g->tcell].v - pub;
            if (nsup == 1 || (hidden > 0 && hidden < k)) bad++;
        } else if (nsup == 0) {
            bad++;                             /* the hidden total is the sum */
        }
    }
    if (!p.c[0].sup)
        for (size_t i = 1; i < p.nc; i++) {
            long long d = p.c[0].v - p.c[i].v;
            if (!p.c[i].sup && d > 0 && d < k) bad++;
        }
    plan_free(&p);
    return bad;
}
