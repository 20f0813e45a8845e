/* invest.c -- the case-indicator network, its drawing and the
 * investigators' exports (invest.h, docs/investigations.md). */
#include "invest.h"

#include <math.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "svg.h"

/* ------------------------------------------------------------ tokens */

int invest_case_key(sp_store *s, uint8_t key[32])
{
    static const char ctx[] = "spotlight/invest/case-key/v1";
    char *sec = NULL;
    int rc = store_meta_get(s, "secret", &sec);
    if (rc) return rc;
    if (!sec || !*sec) {
        free(sec);
        return SP_EUSAGE;
    }
    crypto_generichash_state st;
    crypto_generichash_init(&st, (const unsigned char *)sec, strlen(sec) > 64 ? 64 : strlen(sec), 32);
    crypto_generichash_update(&st, (const unsigned char *)ctx, sizeof ctx);
    crypto_generichash_final(&st, key, 32);
    sodium_memzero(sec, strlen(sec));
    free(sec);
    return SP_OK;
}

static void hex_of(const unsigned char *h, size_t n, char *out)
{
    static const char hx[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hx[h[i] >> 4];
        out[2 * i + 1] = hx[h[i] & 15];
    }
    out[2 * n] = '\0';
}

void invest_case_token(const uint8_t key[32], long long record_id, char out[INV_TOKEN_LEN + 1])
{
    char msg[64];
    int n = snprintf(msg, sizeof msg, "case\x1f%lld", record_id);
    unsigned char h[6];
    crypto_generichash(h, sizeof h, (const unsigned char *)msg, (size_t)n, key, 32);
    memcpy(out, "case-", 5);
    hex_of(h, sizeof h, out + 5);
}

int invest_type_ok(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > SP_INV_TYPE_MAX) return 0;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || s[i] == '_')) return 0;
    return 1;
}

int invest_hash_ok(const char *s)
{
    if (!s) return 0;
    size_t p = strncmp(s, "h1:", 3) == 0 ? 3 : strncmp(s, "h1x:", 4) == 0 ? 4 : 0;
    if (!p || strlen(s) != p + 64) return 0;
    for (size_t i = p; i < p + 64; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) return 0;
    return 1;
}

void invest_params_init(inv_params *p)
{
    memset(p, 0, sizeof *p);
    p->min_orgs = 2;
    p->min_cases = 1;
}

/* A whole number lo..hi written with digits only (no sign, no spaces). */
static int small_int(const char *v, int lo, int hi, int *out)
{
    long x = 0;
    size_t n = strlen(v);
    if (n == 0 || n > 6) return -1;
    for (size_t i = 0; i < n; i++) {
        if (v[i] < '0' || v[i] > '9') return -1;
        x = x * 10 + (v[i] - '0');
    }
    if (x < lo || x > hi) return -1;
    *out = (int)x;
    return 0;
}

int invest_param(inv_params *p, const char *key, const char *val, const char **why)
{
    if (!key || !val) {
        *why = "a parameter without a name or value";
        return SP_EUSAGE;
    }
    if (strcmp(key, "min_orgs") == 0 || strcmp(key, "min-orgs") == 0) {
        if (small_int(val, 1, 100, &p->min_orgs)) {
            *why = "min_orgs must be a whole number from 1 to 100";
            return SP_EUSAGE;
        }
        return SP_OK;
    }
    if (strcmp(key, "min_cases") == 0 || strcmp(key, "min-cases") == 0) {
        if (small_int(val, 1, 100000, &p->min_cases)) {
            *why = "min_cases must be a whole number from 1 to 100000";
            return SP_EUSAGE;
        }
        return SP_OK;
    }
    if (strcmp(key, "type") == 0) {
        if (val[0] && !invest_type_ok(val)) {
            *why = "type must be an indicator type such as crypto_wallet or phone";
            return SP_EUSAGE;
        }
        snprintf(p->type, sizeof p->type, "%s", val);
        return SP_OK;
    }
    *why = "unknown parameter (min_orgs, min_cases and type are known)";
    return SP_EUSAGE;
}

int invest_path_indicator(const char *rest, char type[SP_INV_TYPE_MAX + 1],
                          char hash[SP_INV_HASH_MAX + 1], const char **why)
{
    const char *sl = rest ? strchr(rest, '/') : NULL;
    if (!sl || (size_t)(sl - rest) > SP_INV_TYPE_MAX || strlen(sl + 1) > SP_INV_HASH_MAX) {
        *why = "an indicator's address ends in its type and match key: TYPE/HASH";
        return SP_EUSAGE;
    }
    memcpy(type, rest, (size_t)(sl - rest));
    type[sl - rest] = '\0';
    snprintf(hash, SP_INV_HASH_MAX + 1, "%s", sl + 1);
    if (!invest_type_ok(type)) {
        *why = "the indicator type is not a known form (lowercase letters and _)";
        return SP_EUSAGE;
    }
    if (!invest_hash_ok(hash)) {
        *why = "the hash is not a match key (h1: and 64 lowercase hex digits)";
        return SP_EUSAGE;
    }
    return SP_OK;
}

/* The 8 hex after the scheme prefix of a hash. */
static void short_hash(const char *hash, char out[9])
{
    const char *c = strchr(hash, ':');
    const char *h = c ? c + 1 : hash;
    size_t n = strnlen(h, 8);
    memcpy(out, h, n);
    out[n] = '\0';
}

/* ------------------------------------------------------------ the graph */

typedef struct rid_ix {
    long long rid;
    size_t node;
} rid_ix;

static int cmp_rid(const void *a, const void *b)
{
    long long x = ((const rid_ix *)a)->rid, y = ((const rid_ix *)b)->rid;
    return (x > y) - (x < y);
}

static size_t uf_find(size_t *p, size_t i)
{
    while (p[i] != i) {
        p[i] = p[p[i]];
        i = p[i];
    }
    return i;
}

static int cmp_org_name(const void *a, const void *b)
{
    const inv_org *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    return c ? c : (x->id > y->id) - (x->id < y->id);
}

/* Size is the number of cases (what an investigator counts), then the
 * organisations, then the indicators; ties by the first node (stable). */
static int cmp_cluster_size(const void *a, const void *b)
{
    const inv_cluster *x = a, *y = b;
    if (x->ncases != y->ncases) return x->ncases < y->ncases ? 1 : -1;
    if (x->norgs != y->norgs) return x->norgs < y->norgs ? 1 : -1;
    if (x->nindicators != y->nindicators) return x->nindicators < y->nindicators ? 1 : -1;
    return (x->nodes[0] > y->nodes[0]) - (x->nodes[0] < y->nodes[0]);
}

typedef struct rank_ix {
    size_t norgs, ix;
} rank_ix;

/* By organisations, then by the size rank (clusters are sorted by size). */
static int cmp_rank_orgs(const void *a, const void *b)
{
    const rank_ix *x = a, *y = b;
    if (x->norgs != y->norgs) return x->norgs < y->norgs ? 1 : -1;
    return (x->ix > y->ix) - (x->ix < y->ix);
}

void invest_graph_free(inv_graph *g)
{
    if (!g) return;
    for (size_t i = 0; i < g->nclusters; i++) free(g->clusters[i].nodes);
    free(g->clusters);
    free(g->nodes);
    free(g->edges);
    free(g->orgs);
    memset(g, 0, sizeof *g);
}

static size_t org_index(const inv_graph *g, long long id)
{
    for (size_t i = 0; i < g->norgs; i++)
        if (g->orgs[i].id == id) return i;
    return 0;
}

int invest_graph_build(const sp_inv_link *links, size_t n, int truncated, const uint8_t key[32],
                       inv_graph *g)
{
    rid_ix *rx = NULL;
    size_t *parent = NULL, *croot = NULL, *cmap = NULL;
    size_t nrx = 0;
    memset(g, 0, sizeof *g);
    g->truncated = truncated;
    g->nodes = sp_xmalloc((n ? n : 1) * 2 * sizeof *g->nodes);
    g->edges = sp_xmalloc((n ? n : 1) * sizeof *g->edges);
    rx = sp_xmalloc((n ? n : 1) * sizeof *rx);
    /* organisations, sorted by name so colours do not depend on link order */
    g->orgs = sp_xmalloc((n ? n : 1) * sizeof *g->orgs);
    for (size_t i = 0; i < n; i++) {
        size_t j = 0;
        while (j < g->norgs && g->orgs[j].id != links[i].org_id) j++;
        if (j == g->norgs) g->orgs[g->norgs++] = (inv_org){links[i].org_id, links[i].org_name};
    }
    qsort(g->orgs, g->norgs, sizeof *g->orgs, cmp_org_name);
    /* cases: one node per distinct record, in record order */
    for (size_t i = 0; i < n; i++) rx[i] = (rid_ix){links[i].record_id, i};
    qsort(rx, n, sizeof *rx, cmp_rid);
    for (size_t i = 0; i < n; i++) {
        if (nrx && rx[nrx - 1].rid == rx[i].rid) continue;
        rx[nrx++] = rx[i];
    }
    /* indicators first (links come sorted by type and hash), then cases;
     * stop at the node cap */
    size_t *ind_of = sp_xmalloc((n ? n : 1) * sizeof *ind_of);
    for (size_t i = 0; i < n; i++) {
        if (i && strcmp(links[i].type, links[i - 1].type) == 0 &&
            strcmp(links[i].hash, links[i - 1].hash) == 0) {
            ind_of[i] = ind_of[i - 1];
            continue;
        }
        if (g->nnodes >= INV_MAX_NODES / 2) {
            ind_of[i] = (size_t)-1;
            g->truncated = 1;
            continue;
        }
        inv_node *x = &g->nodes[g->nnodes];
        memset(x, 0, sizeof *x);
        memcpy(x->type, links[i].type, sizeof x->type);
        memcpy(x->hash, links[i].hash, sizeof x->hash);
        ind_of[i] = g->nnodes++;
    }
    for (size_t k = 0; k < nrx; k++) {
        const sp_inv_link *l = &links[rx[k].node];
        if (g->nnodes >= INV_MAX_NODES) {
            rx[k].node = (size_t)-1;
            g->truncated = 1;
            continue;
        }
        inv_node *x = &g->nodes[g->nnodes];
        memset(x, 0, sizeof *x);
        x->is_case = 1;
        x->record_id = l->record_id;
        x->org = org_index(g, l->org_id);
        x->year = l->year;
        x->case_ref = l->case_ref;
        invest_case_token(key, l->record_id, x->token);
        rx[k].node = g->nnodes++;
    }
    /* edges */
    parent = sp_xmalloc((g->nnodes ? g->nnodes : 1) * sizeof *parent);
    for (size_t i = 0; i < g->nnodes; i++) parent[i] = i;
    for (size_t i = 0; i < n; i++) {
        rid_ix want = {links[i].record_id, 0};
        const rid_ix *r = bsearch(&want, rx, nrx, sizeof *rx, cmp_rid);
        size_t a = ind_of[i], c = r ? r->node : (size_t)-1;
        if (a == (size_t)-1 || c == (size_t)-1) continue;
        if (g->nedges >= INV_MAX_EDGES) {
            g->truncated = 1;
            break;
        }
        g->edges[g->nedges][0] = a;
        g->edges[g->nedges][1] = c;
        g->nedges++;
        g->nodes[a].degree++;
        g->nodes[c].degree++;
        size_t ra = uf_find(parent, a), rc = uf_find(parent, c);
        if (ra != rc) parent[ra > rc ? ra : rc] = ra < rc ? ra : rc;
    }
    free(ind_of);
    /* a node without an edge left (cut by the caps) is its own cluster:
     * drop nothing, it is still a node the caller asked for */
    croot = sp_xmalloc((g->nnodes ? g->nnodes : 1) * sizeof *croot);
    cmap = sp_xmalloc((g->nnodes ? g->nnodes : 1) * sizeof *cmap);
    for (size_t i = 0; i < g->nnodes; i++) cmap[i] = (size_t)-1;
    g->clusters = sp_xmalloc((g->nnodes ? g->nnodes : 1) * sizeof *g->clusters);
    for (size_t i = 0; i < g->nnodes; i++) {
        size_t r = uf_find(parent, i);
        if (cmap[r] == (size_t)-1) {
            cmap[r] = g->nclusters;
            memset(&g->clusters[g->nclusters], 0, sizeof *g->clusters);
            croot[g->nclusters++] = r;
        }
        inv_cluster *c = &g->clusters[cmap[r]];
        c->nnodes++;
        if (g->nodes[i].is_case) c->ncases++;
        else c->nindicators++;
    }
    for (size_t k = 0; k < g->nclusters; k++) {
        g->clusters[k].nodes = sp_xmalloc(g->clusters[k].nnodes * sizeof(size_t));
        g->clusters[k].nnodes = 0;
    }
    unsigned char *seen = sp_xmalloc(g->norgs ? g->norgs : 1);
    for (size_t i = 0; i < g->nnodes; i++) {
        inv_cluster *c = &g->clusters[cmap[uf_find(parent, i)]];
        c->nodes[c->nnodes++] = i;    /* indicators come first: nodes are in that order */
    }
    for (size_t k = 0; k < g->nclusters; k++) {
        inv_cluster *c = &g->clusters[k];
        memset(seen, 0, g->norgs ? g->norgs : 1);
        for (size_t j = 0; j < c->nnodes; j++) {
            const inv_node *x = &g->nodes[c->nodes[j]];
            if (x->is_case && !seen[x->org]) {
                seen[x->org] = 1;
                c->norgs++;
            }
        }
    }
    free(seen);
    qsort(g->clusters, g->nclusters, sizeof *g->clusters, cmp_cluster_size);
    rank_ix *ri = sp_xmalloc((g->nclusters ? g->nclusters : 1) * sizeof *ri);
    for (size_t k = 0; k < g->nclusters; k++) {
        inv_cluster *c = &g->clusters[k];
        ri[k] = (rank_ix){c->norgs, k};
        for (size_t j = 0; j < c->nnodes; j++) g->nodes[c->nodes[j]].cluster = k;
    }
    qsort(ri, g->nclusters, sizeof *ri, cmp_rank_orgs);
    for (size_t k = 0; k < g->nclusters; k++) g->clusters[ri[k].ix].rank_orgs = k + 1;
    free(ri);
    free(rx);
    free(parent);
    free(croot);
    free(cmap);
    return SP_OK;
}

/* ------------------------------------------------------------ the drawing */

#define CELL_W 320.0
#define CELL_H 340.0
#define COLS 3
#define LEGEND_H 56.0

typedef struct pos {
    double angle;
    size_t node;
} pos;

static int cmp_pos(const void *a, const void *b)
{
    const pos *x = a, *y = b;
    if (x->angle != y->angle) return x->angle < y->angle ? -1 : 1;
    return (x->node > y->node) - (x->node < y->node);
}

/* Positions of the drawn nodes of cluster c centred at (cx, cy): its
 * indicators evenly on an inner circle, its cases on an outer ring, each
 * case placed by the mean angle of its indicators (fewer crossings) and
 * then spread evenly in that order. xy[node] is set for drawn nodes. */
typedef struct by_deg {
    size_t key, node;
} by_deg;

static int cmp_by_deg(const void *a, const void *b)
{
    const by_deg *x = a, *y = b;
    if (x->key != y->key) return x->key < y->key ? 1 : -1;
    return (x->node > y->node) - (x->node < y->node);
}

/* The nodes of cluster ck to draw, into sel (room for INV_SVG_NODES):
 * all of them when they fit; else its most connected indicators (at most
 * a fifth of the room) and then the cases with the most edges to those.
 * Returns how many. cnt: scratch of g->nnodes. */
static size_t select_nodes(const inv_graph *g, size_t ck, size_t *sel, size_t *cnt)
{
    const inv_cluster *c = &g->clusters[ck];
    if (c->nnodes <= INV_SVG_NODES) {
        memcpy(sel, c->nodes, c->nnodes * sizeof *sel);
        return c->nnodes;
    }
    by_deg *v = sp_xmalloc(c->nnodes * sizeof *v);
    size_t nv = 0, n = 0, room = INV_SVG_NODES / 5;
    for (size_t j = 0; j < c->nnodes; j++)
        if (!g->nodes[c->nodes[j]].is_case) v[nv++] = (by_deg){g->nodes[c->nodes[j]].degree, c->nodes[j]};
    qsort(v, nv, sizeof *v, cmp_by_deg);
    for (size_t j = 0; j < nv && n < room; j++) sel[n++] = v[j].node;
    for (size_t j = 0; j < c->nnodes; j++) cnt[c->nodes[j]] = 0;
    for (size_t j = 0; j < n; j++) cnt[sel[j]] = 1;   /* marks the chosen indicators */
    for (size_t e = 0; e < g->nedges; e++) {
        size_t a = g->edges[e][0], w = g->edges[e][1];
        if (g->nodes[a].cluster == ck && cnt[a] == 1 && !g->nodes[a].is_case) cnt[w]++;
    }
    nv = 0;
    for (size_t j = 0; j < c->nnodes; j++) {
        size_t w = c->nodes[j];
        if (g->nodes[w].is_case && cnt[w] > 0) v[nv++] = (by_deg){cnt[w], w};
    }
    qsort(v, nv, sizeof *v, cmp_by_deg);
    for (size_t j = 0; j < nv && n < INV_SVG_NODES; j++) sel[n++] = v[j].node;
    free(v);
    return n;
}

static void layout_cluster(const inv_graph *g, size_t ck, const size_t *sel, size_t ndraw,
                           double cx, double cy, double *xy, unsigned char *drawn, double *sum)
{
    size_t ni = 0, nc = 0;
    for (size_t j = 0; j < ndraw; j++) {
        if (g->nodes[sel[j]].is_case) nc++;
        else ni++;
    }
    double ri = ni <= 1 ? 0 : fmin(35.0 + 6.0 * (double)ni, 80.0);
    double ro = ni <= 1 ? fmin(40.0 + 5.0 * (double)nc, 115.0) : 115.0;
    size_t k = 0;
    for (size_t j = 0; j < ndraw; j++) {
        size_t v = sel[j];
        if (g->nodes[v].is_case) continue;
        double a = 2.0 * M_PI * (double)k / (double)(ni ? ni : 1) - M_PI / 2;
        xy[2 * v] = cx + ri * cos(a);
        xy[2 * v + 1] = cy + ri * sin(a);
        drawn[v] = 1;
        k++;
    }
    /* one pass over the edges: each case's sum of its indicators' offsets */
    for (size_t j = 0; j < ndraw; j++) sum[2 * sel[j]] = sum[2 * sel[j] + 1] = 0;
    for (size_t e = 0; e < g->nedges; e++) {
        size_t a = g->edges[e][0], v = g->edges[e][1];
        if (g->nodes[a].cluster != ck || !drawn[a]) continue;
        sum[2 * v] += xy[2 * a] - cx;
        sum[2 * v + 1] += xy[2 * a + 1] - cy;
    }
    pos *p = sp_xmalloc((nc ? nc : 1) * sizeof *p);
    size_t m = 0;
    for (size_t j = 0; j < ndraw; j++) {
        size_t v = sel[j];
        if (!g->nodes[v].is_case) continue;
        double sx = sum[2 * v], sy = sum[2 * v + 1];
        double ang = (fabs(sx) < 1e-9 && fabs(sy) < 1e-9) ? 0 : atan2(sy, sx);
        p[m++] = (pos){ang, v};
    }
    qsort(p, m, sizeof *p, cmp_pos);
    for (size_t j = 0; j < m; j++) {
        double a = 2.0 * M_PI * (double)j / (double)(m ? m : 1) + (m ? p[0].angle : 0);
        size_t v = p[j].node;
        xy[2 * v] = cx + ro * cos(a);
        xy[2 * v + 1] = cy + ro * sin(a);
        drawn[v] = 1;
    }
    free(p);
}

/* Width of an organisation's legend entry: about 7 units a character at
 * font size 12, names cut at 32 characters. */
static double legend_w(const char *name)
{
    size_t cp = svg_utf8_len(name, strlen(name));
    return 16 + 7.0 * (double)(cp > 32 ? 32 : cp) + 16;
}

/* The lines the organisations' legend takes in width w. */
static size_t legend_lines(const inv_graph *g, double w)
{
    double lx = 118;
    size_t lines = 1;
    for (size_t i = 0; i < g->norgs; i++) {
        double wi = legend_w(g->orgs[i].name);
        if (lx + wi > w - 8 && lx > 118) {
            lx = 118;
            lines++;
        }
        lx += wi;
    }
    return lines;
}

int invest_svg(const inv_graph *g, size_t max_clusters, sp_buf *b)
{
    svg_doc d;
    if (max_clusters == 0) max_clusters = INV_SVG_CLUSTERS;
    size_t nc = g->nclusters < max_clusters ? g->nclusters : max_clusters;
    size_t rows = (nc + COLS - 1) / COLS;
    double w = CELL_W * COLS;
    double top = LEGEND_H + 18.0 * (double)(legend_lines(g, w) - 1);
    double h = top + CELL_H * (double)(rows ? rows : 1) + 20;
    char desc[256];
    snprintf(desc, sizeof desc,
             "%zu clusters of cases connected through shared indicators; the %zu largest drawn%s",
             g->nclusters, nc, g->truncated ? "; the graph was cut at its caps" : "");
    svg_begin(&d, b, "net", w, h, "Network of cases and shared indicators", desc);
    /* the legend: one swatch per organisation, and the two marks */
    double lx = 8, ly = 18;
    svg_text(&d, lx, ly, &(svg_text_opts){.bold = 1}, "Organisations:");
    lx += 110;
    for (size_t i = 0; i < g->norgs; i++) {
        double wi = legend_w(g->orgs[i].name);
        if (lx + wi > w - 8 && lx > 118) {
            lx = 118;
            ly += 18;
        }
        svg_circle(&d, lx + 6, ly - 4, 6, svg_cat_color(i), "legend", NULL);
        svg_text(&d, lx + 16, ly, &(svg_text_opts){.max_cp = 32}, g->orgs[i].name);
        lx += wi;
    }
    ly += 20;
    svg_circle(&d, 14, ly - 4, 6, SVG_GREY_OTHER, "legend", NULL);
    svg_text(&d, 24, ly, NULL, "a case (coloured by organisation)");
    svg_rect(&d, 250, ly - 10, 11, 11, SVG_INK, "legend", NULL);
    svg_text(&d, 266, ly, NULL, "an indicator (type and first 8 hex of its keyed hash)");
    if (g->truncated)
        svg_text(&d, w - 8, ly, &(svg_text_opts){.anchor = SVG_END, .fill = "#D55E00", .bold = 1},
                 "truncated: not every link is shown");
    double *xy = sp_xmalloc((g->nnodes ? g->nnodes : 1) * 2 * sizeof *xy);
    double *sum = sp_xmalloc((g->nnodes ? g->nnodes : 1) * 2 * sizeof *sum);
    size_t *sel = sp_xmalloc(INV_SVG_NODES * sizeof *sel);
    size_t *cnt = sp_xmalloc((g->nnodes ? g->nnodes : 1) * sizeof *cnt);
    unsigned char *drawn = calloc(g->nnodes ? g->nnodes : 1, 1);
    if (!drawn) abort();
    for (size_t k = 0; k < nc; k++) {
        const inv_cluster *c = &g->clusters[k];
        double ox = CELL_W * (double)(k % COLS), oy = top + CELL_H * (double)(k / COLS);
        size_t ndraw = select_nodes(g, k, sel, cnt), ni = 0;
        for (size_t j = 0; j < ndraw; j++) ni += !g->nodes[sel[j]].is_case;
        char head[160], sub[160], tip[200];
        snprintf(head, sizeof head, "Cluster %zu", k + 1);
        snprintf(sub, sizeof sub, "%zu case%s, %zu indicator%s, %zu organisation%s", c->ncases,
                 c->ncases == 1 ? "" : "s", c->nindicators, c->nindicators == 1 ? "" : "s",
                 c->norgs, c->norgs == 1 ? "" : "s");
        snprintf(tip, sizeof tip, "cluster %zu by size, %zu by organisations involved", k + 1,
                 c->rank_orgs);
        svg_group_open(&d, "cluster", tip);
        svg_rect(&d, ox + 4, oy + 4, CELL_W - 8, CELL_H - 8, "#FAFAFA", "cell", NULL);
        svg_text(&d, ox + 12, oy + 22, &(svg_text_opts){.bold = 1, .size = 13}, head);
        svg_text(&d, ox + 12, oy + 38, &(svg_text_opts){.size = 11, .fill = SVG_INK_MUTED}, sub);
        if (ndraw < c->nnodes) {
            char more[96];
            snprintf(more, sizeof more, "%zu more nodes not drawn", c->nnodes - ndraw);
            svg_text(&d, ox + 12, oy + CELL_H - 14,
                     &(svg_text_opts){.fill = "#D55E00", .size = 11,
                                      .tooltip = "the most connected indicators and their cases are drawn"},
                     more);
        }
        double cx = ox + CELL_W / 2, cy = oy + 44 + (CELL_H - 58) / 2;
        layout_cluster(g, k, sel, ndraw, cx, cy, xy, drawn, sum);
        for (size_t e = 0; e < g->nedges; e++) {
            size_t a = g->edges[e][0], v = g->edges[e][1];
            if (g->nodes[a].cluster != k || !drawn[a] || !drawn[v]) continue;
            svg_line(&d, xy[2 * a], xy[2 * a + 1], xy[2 * v], xy[2 * v + 1], "#9A9A9A", 1, "edge");
        }
        for (size_t j = 0; j < ndraw; j++) {
            size_t v = sel[j];
            const inv_node *x = &g->nodes[v];
            char lab[SP_INV_TYPE_MAX + 16], sh[9], t2[256];
            if (x->is_case) {
                if (x->year) snprintf(t2, sizeof t2, "%s, %s, %d", x->token, g->orgs[x->org].name, x->year);
                else snprintf(t2, sizeof t2, "%s, %s", x->token, g->orgs[x->org].name);
                svg_circle(&d, xy[2 * v], xy[2 * v + 1], 6, svg_cat_color(x->org), "case", t2);
            } else {
                short_hash(x->hash, sh);
                snprintf(lab, sizeof lab, "%s %s", x->type, sh);
                snprintf(t2, sizeof t2, "%s %s, %zu case%s", x->type, x->hash, x->degree,
                         x->degree == 1 ? "" : "s");
                svg_rect(&d, xy[2 * v] - 5.5, xy[2 * v + 1] - 5.5, 11, 11, SVG_INK, "indicator", t2);
                if (ni <= 8)
                    svg_text(&d, xy[2 * v], xy[2 * v + 1] + 18,
                             &(svg_text_opts){.anchor = SVG_MIDDLE, .size = 10, .fill = SVG_INK_MUTED},
                             lab);
            }
        }
        svg_group_close(&d);
    }
    free(xy);
    free(sum);
    free(sel);
    free(cnt);
    free(drawn);
    return svg_end(&d);
}

/* ------------------------------------------------------------ exports */

static const inv_node *case_node(const inv_graph *g, long long rid)
{
    /* cases follow the indicators in record order: binary search */
    size_t lo = 0, hi = g->nnodes;
    while (lo < hi && !g->nodes[lo].is_case) lo++;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (g->nodes[mid].record_id < rid) lo = mid + 1;
        else hi = mid;
    }
    return lo < g->nnodes && g->nodes[lo].is_case && g->nodes[lo].record_id == rid ? &g->nodes[lo] : NULL;
}

static void csv_field(sp_buf *b, const char *s)
{
    if (!s) return;
    int q = strpbrk(s, ",\"\r\n") != NULL || s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@';
    if (!q) {
        sp_buf_adds(b, s);
        return;
    }
    sp_buf_addc(b, '"');
    /* a leading formula character is defused for spreadsheets */
    if (s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@') sp_buf_addc(b, '\'');
    for (const char *p = s; *p; p++) {
        if (*p == '"') sp_buf_addc(b, '"');
        sp_buf_addc(b, *p);
    }
    sp_buf_addc(b, '"');
}

int invest_csv(const inv_graph *g, const sp_inv_link *links, size_t n, sp_buf *out)
{
    sp_buf row, *b = &row;
    int rc = sp_buf_adds(out, "type,hash,role,org,year,case,cluster,case_ref\r\n");
    sp_buf_init(&row, 1u << 16);
    for (size_t i = 0; i < n && !rc; i++) {
        sp_buf_reset(&row);
        const sp_inv_link *l = &links[i];
        const inv_node *c = case_node(g, l->record_id);
        if (!c) continue;   /* cut by the caps */
        csv_field(b, l->type);
        sp_buf_addc(b, ',');
        csv_field(b, l->hash);
        sp_buf_addc(b, ',');
        csv_field(b, l->roles);
        sp_buf_addc(b, ',');
        csv_field(b, l->org_name);
        sp_buf_addc(b, ',');
        if (l->year) sp_buf_printf(b, "%d", l->year);
        sp_buf_printf(b, ",%s,%zu,", c->token, c->cluster + 1);
        csv_field(b, l->case_ref);
        rc = sp_buf_adds(b, "\r\n");
        if (!rc) rc = sp_buf_add(out, row.data, row.len);
    }
    sp_buf_free(&row);
    return rc ? SP_ELIMIT : SP_OK;
}

/* "sp-" + 32 hex of BLAKE2b("spotlight/ftm/v1" NUL kind NUL a NUL b). */
static void ftm_id(const char *kind, const char *a, const char *b2, char out[36])
{
    crypto_generichash_state st;
    unsigned char h[16];
    static const char ctx[] = "spotlight/ftm/v1";
    crypto_generichash_init(&st, NULL, 0, sizeof h);
    crypto_generichash_update(&st, (const unsigned char *)ctx, sizeof ctx);
    crypto_generichash_update(&st, (const unsigned char *)kind, strlen(kind) + 1);
    crypto_generichash_update(&st, (const unsigned char *)a, strlen(a) + 1);
    crypto_generichash_update(&st, (const unsigned char *)(b2 ? b2 : ""), strlen(b2 ? b2 : ""));
    crypto_generichash_final(&st, h, sizeof h);
    memcpy(out, "sp-", 3);
    hex_of(h, sizeof h, out + 3);
}

static void json_str(sp_buf *b, const char *s)
{
    sp_buf_addc(b, '"');
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
        if (*p == '"' || *p == '\\') {
            sp_buf_addc(b, '\\');
            sp_buf_addc(b, (char)*p);
        } else if (*p < 0x20) {
            sp_buf_printf(b, "\\u%04x", *p);
        } else {
            sp_buf_addc(b, (char)*p);
        }
    }
    sp_buf_addc(b, '"');
}

/* {"id":..,"schema":..,"properties":{"k":["v"],..}} and a newline; kv is
 * a NULL-terminated list of key, value pairs (NULL or "" values left out). */
static int ftm_entity(sp_buf *out, const char *id, const char *schema, const char *const *kv)
{
    sp_buf line, *b = &line;
    sp_buf_init(&line, 1u << 16);
    sp_buf_adds(b, "{\"id\":");
    json_str(b, id);
    sp_buf_adds(b, ",\"schema\":");
    json_str(b, schema);
    sp_buf_adds(b, ",\"properties\":{");
    int first = 1;
    for (size_t i = 0; kv[i]; i += 2) {
        if (!kv[i + 1] || !kv[i + 1][0]) continue;
        if (!first) sp_buf_addc(b, ',');
        first = 0;
        json_str(b, kv[i]);
        sp_buf_adds(b, ":[");
        json_str(b, kv[i + 1]);
        sp_buf_addc(b, ']');
    }
    int rc = sp_buf_adds(b, "}}\n");
    if (!rc) rc = sp_buf_add(out, line.data, line.len);
    sp_buf_free(&line);
    return rc ? SP_ELIMIT : SP_OK;
}

/* The FtM schema of an indicator type and the property holding its hash. */
static void ftm_schema_of(const char *type, const char **schema, const char **prop)
{
    if (strcmp(type, "crypto_wallet") == 0) {
        *schema = "CryptoWallet";
        *prop = "publicKey";
    } else if (strcmp(type, "bank_account") == 0 || strcmp(type, "iban") == 0) {
        *schema = "BankAccount";
        *prop = "accountNumber";
    } else if (strcmp(type, "company") == 0 || strcmp(type, "compound") == 0) {
        *schema = "Organization";
        *prop = "registrationNumber";
    } else {
        /* phone, email, social_handle, website: an account someone used */
        *schema = "UserAccount";
        *prop = "username";
    }
}

int invest_ftm(const inv_graph *g, const sp_inv_link *links, size_t n, sp_buf *b)
{
    char id[36], id2[36], name[SP_INV_TYPE_MAX + SP_INV_HASH_MAX + 8], yr[16];
    static const char pub[] = "spotlight hub";
    int rc = SP_OK;
    /* the reporting organisations */
    for (size_t i = 0; i < g->norgs; i++) {
        ftm_id("org", g->orgs[i].name, NULL, id);
        const char *kv[] = {"name", g->orgs[i].name, "sector", "civil society", NULL};
        rc = rc ? rc : ftm_entity(b, id, "Organization", kv);
    }
    /* indicators */
    for (size_t i = 0; i < g->nnodes; i++) {
        const inv_node *x = &g->nodes[i];
        if (x->is_case) continue;
        const char *schema, *prop;
        char sh[9];
        ftm_schema_of(x->type, &schema, &prop);
        short_hash(x->hash, sh);
        snprintf(name, sizeof name, "%s %s", x->type, sh);
        ftm_id("indicator", x->type, x->hash, id);
        const char *svc = strcmp(schema, "UserAccount") == 0 ? x->type : NULL;
        const char *kv[] = {"name", name, prop, x->hash, "service", svc,
                            "summary", "keyed hash of an indicator (spotlight h1); the value is not in the hub's exports",
                            "publisher", pub, NULL};
        rc = rc ? rc : ftm_entity(b, id, schema, kv);
    }
    /* cases, and who reported them */
    for (size_t i = 0; i < g->nnodes; i++) {
        const inv_node *x = &g->nodes[i];
        if (!x->is_case) continue;
        ftm_id("case", x->token, NULL, id);
        yr[0] = '\0';
        if (x->year) snprintf(yr, sizeof yr, "%d", x->year);
        const char *kv[] = {"name", x->token, "summary", "a case of trafficking into forced criminality",
                            "date", yr, "publisher", g->orgs[x->org].name,
                            "notes", x->case_ref, NULL};
        rc = rc ? rc : ftm_entity(b, id, "Event", kv);
        ftm_id("org", g->orgs[x->org].name, NULL, id2);
        char lid[36];
        ftm_id("reported", x->token, NULL, lid);
        const char *kl[] = {"subject", id2, "object", id, "role", "reported", NULL};
        rc = rc ? rc : ftm_entity(b, lid, "UnknownLink", kl);
    }
    /* case -> indicator */
    for (size_t i = 0; i < n; i++) {
        const sp_inv_link *l = &links[i];
        const inv_node *c = case_node(g, l->record_id);
        if (!c) continue;
        ftm_id("case", c->token, NULL, id);
        ftm_id("indicator", l->type, l->hash, id2);
        char lid[36];
        ftm_id("link", c->token, id2, lid);
        yr[0] = '\0';
        if (l->year) snprintf(yr, sizeof yr, "%d", l->year);
        const char *kl[] = {"subject", id, "object", id2, "role", l->roles ? l->roles : "indicator",
                            "date", yr, NULL};
        rc = rc ? rc : ftm_entity(b, lid, "UnknownLink", kl);
    }
    return rc;
}

/* ------------------------------------------------------------ loading */

int invest_view_load(sp_store *s, const inv_params *p, long long viewer_org, inv_view *v)
{
    uint8_t key[32];
    int trunc = 0, rc;
    memset(v, 0, sizeof *v);
    sp_inv_query q = {p->min_orgs, p->min_cases, p->type[0] ? p->type : NULL, viewer_org,
                      INV_MAX_EDGES};
    if ((rc = invest_case_key(s, key))) return rc;
    if ((rc = store_inv_links(s, &q, &v->links, &v->nlinks, &trunc))) goto done;
    rc = invest_graph_build(v->links, v->nlinks, trunc, key, &v->g);
done:
    sodium_memzero(key, sizeof key);
    if (rc) invest_view_free(v);
    return rc;
}

void invest_view_free(inv_view *v)
{
    if (!v) return;
    invest_graph_free(&v->g);
    store_inv_links_free(v->links, v->nlinks);
    memset(v, 0, sizeof *v);
}
