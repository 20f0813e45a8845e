/* page.c -- see page.h.
 *
 * A page is written by one `pw` (page writer) with a sticky error: the
 * first failure (a cap hit, a stats error) is kept and every later append
 * is a no-op, so sections read straight through and page_render checks
 * once. Each stats table is computed at most once per page and shared by
 * the sections that need it (origins feeds the origins map and the route
 * maps; flows feeds routes and destination countries).
 *
 * Privacy: every table comes from table_compute_k, which passes it through
 * privacy_apply_filtered with the hub's k (and refuses to hand out a table
 * privacy_check finds fault with). Readers never see a hidden number: cn()
 * gives CHART_SUPPRESSED for a hidden count, which charts draw hatched as
 * "<k", maps as a hatched unit, and tables as "<k" with data-count="" and
 * data-suppressed="1". Nothing on the page is summed from counts. */
#include "page.h"

#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "chart.h"
#include "export.h"
#include "map.h"
#include "privacy.h"
#include "stats_extra.h"
#include "svg.h"

#define MAX_TABLE_ROWS 30      /* rows of a data table shown under a chart */
#define MAX_HOTSPOTS 60        /* places drawn on the hotspot map */
#define MAX_FEW_LISTED 40      /* countries named in an "under threshold" list */
#define MAX_FLOWS 40           /* flow lines drawn on one map (largest first) */
#define CHART_W 480            /* chart viewBox width: text stays legible on a
                                  360 px phone, the stylesheet caps it on desktop */


/* ============================================================ filters */

void page_filter_default(page_filter *pf)
{
    memset(pf, 0, sizeof *pf);
    snprintf(pf->region, sizeof pf->region, "%s", "Asia");
}

/* "year-from" -> "year_from" into out (cap 32); unknown keys stay as they are. */
static void key_norm(const char *k, char out[32])
{
    size_t i = 0;
    for (; k[i] && i < 31; i++) out[i] = k[i] == '-' ? '_' : k[i];
    out[i] = '\0';
}

/* Reads one field value through stats_filter_set (the codebook's parse),
 * keeping the canonical code it stores. */
static int where_canonical(const sp_codebook *cb, const char *field, const char *value,
                           char *out, size_t cap, sp_err *err)
{
    stats_filter sf;
    stats_filter_init(&sf);
    sp_buf w;
    sp_buf_init(&w, 1024);
    int rc = sp_buf_printf(&w, "%s=%s", field, value);
    if (rc) {
        rc = sp_err_add(err, NULL, 0, field, value, strlen(value), "too-long",
                        "the %s value is too long", field);
        goto done;
    }
    rc = stats_filter_set(&sf, cb, "where", w.data, err);
    if (rc) goto done;
    if (sf.f.nwhere != 1 || !sf.f.where[0].value || strlen(sf.f.where[0].value) >= cap) {
        rc = sp_err_add(err, NULL, 0, field, value, strlen(value), "bad-value",
                        "the %s value cannot be used as a filter", field);
        goto done;
    }
    snprintf(out, cap, "%s", sf.f.where[0].value);
done:
    sp_buf_free(&w);
    stats_filter_free(&sf);
    return rc;
}

int page_filter_set(page_filter *pf, const sp_codebook *cb, const char *key,
                    const char *value, sp_err *err)
{
    char k[32];
    key_norm(key, k);
    const char *v = value ? value : "";
    while (*v == ' ') v++;
    if (strcmp(k, "year_from") == 0 || strcmp(k, "year_to") == 0) {
        int *dst = k[5] == 'f' ? &pf->year_from : &pf->year_to;
        if (!*v) { *dst = 0; return SP_OK; }
        stats_filter sf;
        stats_filter_init(&sf);
        int rc = stats_filter_set(&sf, cb, k, v, err);
        if (!rc) *dst = k[5] == 'f' ? sf.f.year_from : sf.f.year_to;
        stats_filter_free(&sf);
        return rc;
    }
    if (strcmp(k, "org_region") == 0) {
        if (!*v || sp_streq_nocase(v, "all")) { pf->region[0] = '\0'; return SP_OK; }
        const char *r = gazetteer_region(v);
        if (!r || strlen(r) >= sizeof pf->region)
            return sp_err_add(err, NULL, 0, "org_region", v, strlen(v), "unknown-region",
                              "'%.60s' is not an M49 region (Africa, Americas, Asia, Europe, "
                              "Oceania) or \"all\"", v);
        snprintf(pf->region, sizeof pf->region, "%s", r);
        return SP_OK;
    }
    char *dst = NULL;
    size_t cap = 0;
    if (strcmp(k, "industry") == 0) { dst = pf->industry; cap = sizeof pf->industry; }
    else if (strcmp(k, "gender") == 0) { dst = pf->gender; cap = sizeof pf->gender; }
    else if (strcmp(k, "nationality") == 0) { dst = pf->nationality; cap = sizeof pf->nationality; }
    if (!dst)
        return sp_err_add(err, NULL, 0, key, NULL, 0, "unknown-parameter",
                          "unknown parameter '%.60s': the filters are year_from, year_to, "
                          "org_region, industry, gender and nationality", key);
    if (!*v) { dst[0] = '\0'; return SP_OK; }
    return where_canonical(cb, k, v, dst, cap, err);
}

int page_filter_stats(const page_filter *pf, const sp_codebook *cb, stats_filter *sf,
                      sp_err *err)
{
    char num[16], w[96];
    int rc = SP_OK;
    if (!rc && pf->year_from) {
        snprintf(num, sizeof num, "%d", pf->year_from);
        rc = stats_filter_set(sf, cb, "year_from", num, err);
    }
    if (!rc && pf->year_to) {
        snprintf(num, sizeof num, "%d", pf->year_to);
        rc = stats_filter_set(sf, cb, "year_to", num, err);
    }
    if (!rc && pf->region[0]) rc = stats_filter_set(sf, cb, "org_region", pf->region, err);
    const char *names[] = { "industry", "gender", "nationality" };
    const char *vals[] = { pf->industry, pf->gender, pf->nationality };
    for (size_t i = 0; i < 3 && !rc; i++) {
        if (!vals[i][0]) continue;
        snprintf(w, sizeof w, "%s=%s", names[i], vals[i]);
        rc = stats_filter_set(sf, cb, "where", w, err);
    }
    return rc;
}

/* Percent-encodes s (unreserved bytes kept) onto b. */
static int qs_enc(sp_buf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    int rc = SP_OK;
    for (const unsigned char *p = (const unsigned char *)s; *p && !rc; p++) {
        if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
            *p == '-' || *p == '_' || *p == '.' || *p == '~')
            rc = sp_buf_addc(b, (char)*p);
        else
            rc = sp_buf_printf(b, "%%%c%c", hex[*p >> 4], hex[*p & 15]);
    }
    return rc;
}

/* The query string of pf: the page's own parameters (api = 0; org_region
 * always written, "all" for all regions, so a shared link means the same
 * whatever the default), or the API's (api = 1: where=FIELD:VALUE). */
static int filter_qs(const page_filter *pf, int api, sp_buf *b)
{
    int rc = SP_OK;
    const char *sep = "";
    if (pf->year_from) { rc = sp_buf_printf(b, "year_from=%d", pf->year_from); sep = "&"; }
    if (!rc && pf->year_to) { rc = sp_buf_printf(b, "%syear_to=%d", sep, pf->year_to); sep = "&"; }
    if (!rc && (pf->region[0] || !api)) {
        rc = sp_buf_printf(b, "%sorg_region=", sep);
        if (!rc) rc = qs_enc(b, pf->region[0] ? pf->region : "all");
        sep = "&";
    }
    const char *names[] = { "industry", "gender", "nationality" };
    const char *vals[] = { pf->industry, pf->gender, pf->nationality };
    for (size_t i = 0; i < 3 && !rc; i++) {
        if (!vals[i][0]) continue;
        rc = api ? sp_buf_printf(b, "%swhere=%s%%3A", sep, names[i])
                 : sp_buf_printf(b, "%s%s=", sep, names[i]);
        if (!rc) rc = qs_enc(b, vals[i]);
        sep = "&";
    }
    return rc;
}

/* ============================================================ writer */

#define NSLOTS 16

typedef struct pw {
    const page_ctx *pc;
    sp_buf *b;
    sp_err *err;
    int rc;                    /* sticky */
    stats_filter sf;
    struct { const char *name; stats_table *t; } tabs[NSLOTS];
    const char *sunk[NSLOTS];  /* static mode: tables handed to the sink */
    size_t nsunk;
    long long records;         /* records matching the filter (exact: only
                                  tested against 0, never printed) */
    long long published;       /* records as published (CHART_SUPPRESSED
                                  when hidden) */
    int k;                     /* the hub's suppression threshold */
    int synthetic;
} pw;

static void out(pw *w, const char *s)
{
    if (!w->rc) w->rc = sp_buf_adds(w->b, s);
}

static void outf(pw *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void outf(pw *w, const char *fmt, ...)
{
    if (w->rc) return;
    char small[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) { w->rc = SP_EINPUT; return; }
    if ((size_t)n < sizeof small) { w->rc = sp_buf_add(w->b, small, (size_t)n); return; }
    char *big = sp_xmalloc((size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    w->rc = sp_buf_add(w->b, big, (size_t)n);
    free(big);
}

/* Escaped text. */
static void esc(pw *w, const char *s)
{
    if (!w->rc && s) w->rc = sp_buf_add_htmls(w->b, s);
}

/* A count as published: "<k" when hidden. */
static void num(pw *w, long long v)
{
    char t[32];
    if (v < 0) { outf(w, "&lt;%d", w->k); return; }
    svg_fmt_int(v, t);
    out(w, t);
}

static void pct(pw *w, double share)
{
    char t[16];
    svg_fmt_pct(share, t);
    out(w, t);
}

static int table_compute_k(sp_store *s, const sp_codebook *cb, const char *table,
                           const sp_filter *f, int k, stats_table **out, sp_err *err);

/* The table `name` under the page's filter, computed once. NULL on error
 * (w->rc set, err says why). */
static stats_table *tab(pw *w, const char *name)
{
    if (w->rc) return NULL;
    size_t i = 0;
    for (; i < NSLOTS && w->tabs[i].name; i++)
        if (strcmp(w->tabs[i].name, name) == 0) return w->tabs[i].t;
    if (i == NSLOTS) { w->rc = SP_ELIMIT; return NULL; }
    stats_table *t = NULL;
    int rc = table_compute_k(w->pc->store, w->pc->cb, name, &w->sf.f, w->k, &t, w->err);
    if (rc) { w->rc = rc; return NULL; }
    w->tabs[i].name = name;
    w->tabs[i].t = t;
    if (t->synthetic) w->synthetic = 1;
    return t;
}

/* Cell helpers over a row. */
static const char *cs(const stats_table *t, size_t r, int level, const char *col)
{
    int c = stats_col(t, level, col);
    if (c < 0) return NULL;
    const stats_cell *x = stats_cell_at(t, r, (size_t)c);
    return x && !x->missing ? x->s : NULL;
}
/* A count as published: CHART_SUPPRESSED when hidden, 0 when absent. */
static long long cn(const stats_table *t, size_t r, int level, const char *col)
{
    int c = stats_col(t, level, col);
    if (c < 0) return 0;
    const stats_cell *x = stats_cell_at(t, r, (size_t)c);
    if (x && x->suppressed) return CHART_SUPPRESSED;
    return x && !x->missing ? x->n : 0;
}
/* The records a table rests on, as published. */
static long long recs(const stats_table *t)
{
    return t->records_suppressed ? CHART_SUPPRESSED : t->records;
}
/* A published count as a map value: a hidden one is -k (map.c's rule). */
static long long mv(const pw *w, long long v)
{
    return v < 0 ? -(long long)w->k : v;
}
/* The table `name` if this page computed it. */
static const stats_table *tab_done(const pw *w, const char *name)
{
    for (size_t i = 0; i < NSLOTS && w->tabs[i].name; i++)
        if (strcmp(w->tabs[i].name, name) == 0) return w->tabs[i].t;
    return NULL;
}
static double csh(const stats_table *t, size_t r, int level, const char *col)
{
    int c = stats_col(t, level, col);
    if (c < 0) return -1;
    const stats_cell *x = stats_cell_at(t, r, (size_t)c);
    return x && !x->missing ? x->share : -1;
}
static int streq0(const char *a, const char *b)
{
    if (!a || !b) return a == b;
    return strcmp(a, b) == 0;
}

/* ============================================================ figures */

/* href of a table's data in `fmt` ("csv" or "json"). */
static void data_href(pw *w, const char *table, const char *fmt)
{
    if (w->pc->static_mode) {
        outf(w, "data/%s.%s", table, fmt);
        return;
    }
    sp_buf q;
    sp_buf_init(&q, 4096);
    int extra = stats_extra_known(table);
    int rc = filter_qs(&w->pc->filter, !extra, &q);
    if (rc) { w->rc = rc; sp_buf_free(&q); return; }
    if (extra) outf(w, "/data/%s.%s", table, fmt);
    else outf(w, "/api/v1/stats/%s%s", table, strcmp(fmt, "csv") == 0 ? ".csv" : "");
    if (q.len) {
        out(w, "?");
        esc(w, q.data);
    }
    sp_buf_free(&q);
}

/* Static mode: tells the sink about a table once. */
static void sink_table(pw *w, const char *table)
{
    if (!w->pc->static_mode || !w->pc->sink || !w->pc->sink->table || w->rc) return;
    for (size_t i = 0; i < w->nsunk; i++)
        if (strcmp(w->sunk[i], table) == 0) return;
    if (w->nsunk == NSLOTS) { w->rc = SP_ELIMIT; return; }
    w->sunk[w->nsunk++] = table;
    int rc = w->pc->sink->table(w->pc->sink->ud, table);
    if (rc) {
        w->rc = rc;
        sp_err_add(w->err, NULL, 0, NULL, table, strlen(table), "report",
                   "writing the data of table %s failed", table);
    }
}

/* Opens a figure: <figure id="fig-ID"> and the visible title. */
static void fig_open_cls(pw *w, const char *id, const char *title, const char *cls)
{
    outf(w, "<figure class=\"fig%s%s\" id=\"fig-%s\">\n<h3>", cls ? " " : "", cls ? cls : "", id);
    esc(w, title);
    out(w, "</h3>\n");
}

/* Appends a rendered SVG (from chart_* or map_*), and in static mode
 * hands it to the sink as svg/ID.svg. rc is the renderer's result. */
static void fig_open(pw *w, const char *id, const char *title)
{
    fig_open_cls(w, id, title, NULL);
}

/* A map's figure (the stylesheet caps its height). */
static void fig_open_map(pw *w, const char *id, const char *title)
{
    fig_open_cls(w, id, title, "map");
}

static void fig_svg(pw *w, const char *id, int rc, const sp_buf *svg)
{
    if (w->rc) return;
    if (rc) {
        w->rc = rc;
        sp_err_add(w->err, NULL, 0, NULL, id, strlen(id), "render",
                   "drawing %s failed: %s", id, sp_rc_str(rc));
        return;
    }
    if (svg->len) w->rc = sp_buf_add(w->b, svg->data, svg->len);
    out(w, "\n");
    if (w->pc->static_mode && w->pc->sink && w->pc->sink->svg && !w->rc) {
        char rel[96];
        snprintf(rel, sizeof rel, "svg/%s.svg", id);
        int r = w->pc->sink->svg(w->pc->sink->ud, rel, svg->data, svg->len);
        if (r) {
            w->rc = r;
            sp_err_add(w->err, NULL, 0, NULL, rel, strlen(rel), "report", "writing %s failed", rel);
        }
    }
}

/* The caption: records it rests on, what counts mean, download links. */
static void fig_caption(pw *w, const char *id, long long records, const char *what,
                        const char *table, int has_svg)
{
    out(w, "<figcaption>Based on <b class=\"n\">");
    num(w, records);
    outf(w, "</b> records%s%s. ", what ? "; " : "", what ? what : "");
    const stats_table *t = tab_done(w, table);
    if (t && (t->nsuppressed || t->records_suppressed))
        outf(w, "<span class=\"suppressed-note\" data-suppressed=\"%zu\">Some counts are hidden "
                "for privacy: counts from 1 to %d are shown as &#8220;&lt;%d&#8221;, and some larger "
                "counts are hidden the same way so the small ones cannot be worked out.</span> ",
             t->nsuppressed, w->k - 1, w->k);
    out(w, "<span class=\"dl\">Data: <a href=\"");
    data_href(w, table, "csv");
    out(w, "\" download>CSV</a> <a href=\"");
    data_href(w, table, "json");
    out(w, "\">JSON</a>");
    if (has_svg && w->pc->static_mode) outf(w, " <a href=\"svg/%s.svg\">SVG</a>", id);
    out(w, "</span></figcaption>\n");
    sink_table(w, table);
}

static void fig_close(pw *w)
{
    out(w, "</figure>\n");
}

/* Data table (the text alternative) helpers. Each row carries
 * data-table, data-key and data-count so tests and scrapers read numbers
 * back exactly. */
static void alt_open_sum(pw *w, const char *summary, const char *cols)
{
    out(w, "<details class=\"alt\"><summary>");
    esc(w, summary);
    out(w, "</summary>\n<div class=\"scroll\"><table><thead><tr>");
    out(w, cols);
    out(w, "</tr></thead><tbody>\n");
}
static void alt_open(pw *w, const char *cols)
{
    alt_open_sum(w, "Data table", cols);
}
/* data-count="N" for a published count; data-count="" data-suppressed="1"
 * for a hidden one (the number is not in the page). */
static void data_count(pw *w, long long count)
{
    if (count < 0) out(w, " data-count=\"\" data-suppressed=\"1\"");
    else outf(w, " data-count=\"%lld\"", count);
}
static void alt_row_open(pw *w, const char *table, const char *key, long long count)
{
    outf(w, "<tr data-table=\"%s\" data-key=\"", table);
    esc(w, key ? key : "");
    out(w, "\"");
    data_count(w, count);
    out(w, ">");
}
static void alt_close(pw *w, size_t shown, size_t total)
{
    out(w, "</tbody></table></div>");
    if (total > shown)
        outf(w, "<p class=\"more\">%zu of %zu rows shown; the CSV holds them all.</p>", shown, total);
    out(w, "</details>\n");
}
static void td(pw *w, const char *s)
{
    out(w, "<td>");
    esc(w, s);
    out(w, "</td>");
}
static void td_num(pw *w, long long v)
{
    out(w, "<td class=\"num\">");
    num(w, v);
    out(w, "</td>");
}
static void td_pct(pw *w, double s)
{
    out(w, "<td class=\"num\">");
    pct(w, s);
    out(w, "</td>");
}

static void section_open(pw *w, const char *id, const char *title)
{
    outf(w, "<section id=\"%s\" class=\"sec\">\n<h2>", id);
    esc(w, title);
    out(w, "</h2>\n");
}
static void section_close(pw *w)
{
    out(w, "</section>\n");
}

static void para(pw *w, const char *cls, const char *text)
{
    if (cls) outf(w, "<p class=\"%s\">", cls);
    else out(w, "<p>");
    esc(w, text);
    out(w, "</p>\n");
}

/* ============================================================ sections */

/* Items of a flat code table (gender, age, nationality, control). */
static chart_item *items_flat(const stats_table *t, const char *labelcol, size_t *n)
{
    chart_item *it = sp_xcalloc(t->nrows ? t->nrows : 1, sizeof *it);
    for (size_t r = 0; r < t->nrows; r++) {
        it[r].code = cs(t, r, 0, "code");
        if (!it[r].code) it[r].code = cs(t, r, 0, "band");   /* age: colour by band */
        it[r].label = cs(t, r, 0, labelcol);
        it[r].count = cn(t, r, 0, "count");
        it[r].share = csh(t, r, 0, "share");
    }
    *n = t->nrows;
    return it;
}

static void alt_flat(pw *w, const stats_table *t, const char *labelcol, const char *head,
                     size_t max)
{
    alt_open(w, head);
    size_t shown = 0;
    for (size_t r = 0; r < t->nrows && shown < max; r++, shown++) {
        const char *code = cs(t, r, 0, "code");
        if (!code) code = cs(t, r, 0, "band");
        long long c = cn(t, r, 0, "count");
        alt_row_open(w, t->name, code ? code : "", c);
        td(w, cs(t, r, 0, labelcol));
        td_num(w, c);
        td_pct(w, csh(t, r, 0, "share"));
        out(w, "</tr>\n");
    }
    alt_close(w, shown, t->nrows);
}

static void notes(pw *w, const stats_table *t)
{
    size_t k = 0;
    for (size_t i = 0; i < t->nnotes; i++) {
        /* the page says these once, at the top */
        if (strstr(t->notes[i], "Synthetic") || strstr(t->notes[i], "No records match")) continue;
        /* the caption says it, with the hub's k */
        if (strncmp(t->notes[i], "Suppression was applied", 23) == 0) continue;
        if (!k++) out(w, "<ul class=\"notes\">");
        out(w, "<li>");
        esc(w, t->notes[i]);
        out(w, "</li>");
    }
    if (k) out(w, "</ul>\n");
}

/* 1. Scope: industries per year, and online scams per year. */
static void sec_scope(pw *w)
{
    stats_table *t = tab(w, "industries-by-year");
    if (!t) return;
    section_open(w, "scope", "Scope: industries of exploitation per year");
    out(w, "<p>Each bar is one year (the year the person was identified) and shows how the "
           "records of that year split across industries of exploitation; the number under "
           "a bar is the records behind it.</p>\n");
    /* group the flat rows by year */
    chart_bar *bars = sp_xcalloc(t->nrows ? t->nrows : 1, sizeof *bars);
    chart_item *items = sp_xcalloc(t->nrows ? t->nrows : 1, sizeof *items);
    chart_item *scam = sp_xcalloc(t->nrows ? t->nrows : 1, sizeof *scam);
    char (*ylabel)[24] = sp_xcalloc(t->nrows ? t->nrows : 1, sizeof *ylabel);
    size_t nb = 0, nscam = 0;
    int ycol = stats_col(t, 0, "year");
    for (size_t r = 0; r < t->nrows;) {
        const stats_cell *y = stats_cell_at(t, r, (size_t)ycol);
        size_t e = r;
        while (e < t->nrows) {
            const stats_cell *y2 = stats_cell_at(t, e, (size_t)ycol);
            if (y2->missing != y->missing || (!y->missing && y2->n != y->n)) break;
            e++;
        }
        if (y->missing) snprintf(ylabel[nb], sizeof ylabel[nb], "%s", "(no year)");
        else snprintf(ylabel[nb], sizeof ylabel[nb], "%lld", y->n);
        bars[nb].label = ylabel[nb];
        bars[nb].total = cn(t, r, 0, "total");
        bars[nb].items = &items[r];
        bars[nb].nitems = e - r;
        for (size_t k = r; k < e; k++) {
            items[k].code = cs(t, k, 1, "code");
            items[k].label = cs(t, k, 1, "label");
            items[k].count = cn(t, k, 1, "count");
            items[k].share = csh(t, k, 1, "share");
            if (!y->missing && streq0(items[k].code, "online_scam")) {
                scam[nscam].label = ylabel[nb];
                scam[nscam].code = "online_scam";
                scam[nscam].count = items[k].count;
                scam[nscam].share = -1;
                nscam++;
            }
        }
        nb++;
        r = e;
    }
    sp_buf svg;
    sp_buf_init(&svg, PAGE_MAX_BYTES);
    chart_opts o = { .width = CHART_W, .suppress_k = w->k, .id = "scope", .title = "Industries of exploitation per year (100% of each year)",
                     .no_heading = 1 };
    fig_open(w, "scope", "Industries of exploitation per year");
    int rc = chart_stacked100(&svg, &o, bars, nb);
    fig_svg(w, "scope", rc, &svg);
    fig_caption(w, "scope", recs(t), NULL, t->name, 1);
    alt_open(w, "<th>Year</th><th>Industry</th><th>Records</th><th>Share of year</th>");
    size_t shown = 0, total = 0;
    for (size_t r = 0; r < t->nrows; r++) {
        long long c = cn(t, r, 1, "count");
        if (c == 0) continue;
        total++;
        if (shown >= MAX_TABLE_ROWS * 4) continue;
        char key[96];
        const stats_cell *y = stats_cell_at(t, r, (size_t)ycol);
        const char *code = cs(t, r, 1, "code");
        if (y->missing) snprintf(key, sizeof key, "/%s", code ? code : "");
        else snprintf(key, sizeof key, "%lld/%s", y->n, code ? code : "");
        alt_row_open(w, t->name, key, c);
        if (y->missing) td(w, "(no year)");
        else { out(w, "<td>"); outf(w, "%lld", y->n); out(w, "</td>"); }
        td(w, cs(t, r, 1, "label"));
        td_num(w, c);
        td_pct(w, csh(t, r, 1, "share"));
        out(w, "</tr>\n");
        shown++;
    }
    alt_close(w, shown, total);
    notes(w, t);
    fig_close(w);

    /* online scams per year (the same table) */
    sp_buf_reset(&svg);
    chart_opts o2 = { .width = CHART_W, .suppress_k = w->k, .id = "scams", .title = "Online scam cases per year", .no_heading = 1 };
    fig_open(w, "scams", "Online scam cases per year");
    rc = chart_years(&svg, &o2, scam, nscam);
    fig_svg(w, "scams", rc, &svg);
    fig_caption(w, "scams", recs(t), "records without a year are not shown", t->name, 1);
    alt_open(w, "<th>Year</th><th>Online scam records</th>");
    for (size_t i = 0; i < nscam; i++) {
        char key[64];
        snprintf(key, sizeof key, "%s/online_scam", scam[i].label);
        alt_row_open(w, "scams-by-year", key, scam[i].count);
        td(w, scam[i].label);
        td_num(w, scam[i].count);
        out(w, "</tr>\n");
    }
    alt_close(w, nscam, nscam);
    fig_close(w);
    sp_buf_free(&svg);
    free(bars);
    free(items);
    free(scam);
    free(ylabel);
    section_close(w);
}

static void no_maps(pw *w)
{
    para(w, "few", "Maps are not available: the boundary data could not be loaded.");
}

static const char *country_label(pw *w, const char *code)
{
    const gz_country *c = code && w->pc->gaz ? gazetteer_alpha2(w->pc->gaz, code) : NULL;
    if (!c) return code ? code : "(country not recorded)";
    return c->common_name && *c->common_name ? c->common_name : c->name;
}

static long long threshold(const pw *w)
{
    return w->pc->threshold > 0 ? w->pc->threshold : PAGE_THRESHOLD_DEFAULT;
}

/* 2. Origins: countries shaded, provinces where known. */
static void sec_origins(pw *w)
{
    stats_table *t = tab(w, "origins");
    if (!t) return;
    section_open(w, "origins", "Origins: where victims come from");
    out(w, "<p>Countries are shaded by the number of records naming them as the country of "
           "origin; provinces are shaded where the records name them.</p>\n");
    map_value *cv = sp_xcalloc(t->nrows + 1, sizeof *cv);
    map_value *pv = sp_xcalloc(t->nrows + 1, sizeof *pv);
    const char **pcs = sp_xcalloc(t->nrows + 6, sizeof *pcs);
    size_t nc = 0, np = 0, npc = 0;
    const char *prev = NULL;
    int first = 1;
    for (size_t r = 0; r < t->nrows; r++) {
        const char *cc = cs(t, r, 0, "code");
        if (first || !streq0(cc, prev)) {
            first = 0;
            prev = cc;
            if (cc) {
                cv[nc].code = cc;
                cv[nc].count = mv(w, cn(t, r, 0, "count"));
                nc++;
            }
        }
        const char *pc = cs(t, r, 1, "code");
        if (pc) {
            pv[np].code = pc;
            pv[np].count = mv(w, cn(t, r, 1, "count"));
            np++;
        }
    }
    /* A country is drawn by its provinces only when at least one of them has
     * a published count; otherwise (provinces unrecorded, or all combined
     * by suppression) the country itself is shaded, never left grey. */
    for (size_t c = 0; c < nc; c++) {
        const char *cc = cv[c].code;
        int any = 0;
        for (size_t k = 0; k < np && !any; k++)
            any = pv[k].count > 0 && strncmp(pv[k].code, cc, 2) == 0 && pv[k].code[2] == '-';
        if (any && w->pc->geo && geo_has_provinces(w->pc->geo, cc)) pcs[npc++] = cc;
    }
    fig_open_map(w, "origins", "Countries and provinces of origin");
    if (w->pc->geo) {
        sp_buf svg;
        sp_buf_init(&svg, PAGE_MAX_BYTES);
        map_opts mo = { .id = "origins", .title = "Countries and provinces of origin" };
        int rc = map_choropleth(&svg, w->pc->geo, &mo, cv, nc, pcs, npc, pv, np);
        fig_svg(w, "origins", rc, &svg);
        sp_buf_free(&svg);
    } else {
        no_maps(w);
    }
    fig_caption(w, "origins", recs(t), NULL, t->name, w->pc->geo != NULL);
    alt_open(w, "<th>Country</th><th>Province</th><th>Records</th>");
    size_t shown = 0;
    for (size_t r = 0; r < t->nrows && shown < MAX_TABLE_ROWS; r++, shown++) {
        char key[32];
        const char *cc = cs(t, r, 0, "code"), *pc = cs(t, r, 1, "code");
        snprintf(key, sizeof key, "%s/%s", cc ? cc : "", pc ? pc : "");
        long long c = cn(t, r, 1, "count");
        alt_row_open(w, "origins", key, c);
        td(w, cs(t, r, 0, "name"));
        td(w, cs(t, r, 1, "name"));
        td_num(w, c);
        out(w, "</tr>\n");
    }
    alt_close(w, shown, t->nrows);
    notes(w, t);
    fig_close(w);

    /* ranked countries */
    chart_item *it = sp_xcalloc(nc + 2, sizeof *it);
    size_t ni = 0;
    prev = NULL;
    first = 1;
    for (size_t r = 0; r < t->nrows; r++) {
        const char *cc = cs(t, r, 0, "code");
        if (!first && streq0(cc, prev)) continue;
        first = 0;
        prev = cc;
        it[ni].code = cc;
        it[ni].label = cs(t, r, 0, "name");
        it[ni].count = cn(t, r, 0, "count");
        it[ni].share = -1;
        ni++;
    }
    sp_buf svg;
    sp_buf_init(&svg, PAGE_MAX_BYTES);
    chart_opts o = { .width = CHART_W, .suppress_k = w->k, .id = "origin-countries", .title = "Countries of origin, ranked",
                     .no_heading = 1, .other_row = 1 };
    fig_open(w, "origin-countries", "Countries of origin, ranked");
    int rc = chart_hbar(&svg, &o, it, ni, recs(t));
    fig_svg(w, "origin-countries", rc, &svg);
    fig_caption(w, "origin-countries", recs(t), NULL, t->name, 1);
    fig_close(w);
    sp_buf_free(&svg);
    free(it);
    free(cv);
    free(pv);
    free(pcs);
    section_close(w);
}

/* Lists countries under the threshold, one sentence each. */
static void few_list(pw *w, const char *sec, const char *const *codes, const long long *counts,
                     size_t n, const char *what)
{
    if (!n) return;
    outf(w, "<p>Countries with fewer than %lld records %s get no map of their own: a map drawn "
            "from so few records would suggest patterns the data cannot show.</p>\n<ul class=\"few\">",
         threshold(w), what);
    size_t shown = 0;
    for (size_t i = 0; i < n && shown < MAX_FEW_LISTED; i++, shown++) {
        outf(w, "<li id=\"%s-", sec);
        esc(w, codes[i]);
        out(w, "\" data-country=\"");
        esc(w, codes[i]);
        out(w, "\"");
        data_count(w, counts[i]);
        out(w, ">");
        esc(w, country_label(w, codes[i]));
        out(w, ": ");
        num(w, counts[i]);
        outf(w, " record%s, too few for a map.</li>", counts[i] == 1 ? "" : "s");
    }
    out(w, "</ul>\n");
    if (n > shown) outf(w, "<p class=\"more\">and %zu more countries (see the CSV).</p>\n", n - shown);
}

/* Link to a country's page (routes and destination maps). */
static void country_href(pw *w, const char *cc)
{
    if (w->pc->static_mode) {
        out(w, "country-");
        esc(w, cc);
        out(w, ".html");
        return;
    }
    out(w, "/country/");
    esc(w, cc);
    sp_buf q;
    sp_buf_init(&q, 4096);
    if (filter_qs(&w->pc->filter, 0, &q) == SP_OK && q.len) {
        out(w, "?");
        esc(w, q.data);
    }
    sp_buf_free(&q);
}

/* Static mode: the report writes a page for each country linked. */
static void sink_country(pw *w, const char *cc)
{
    if (!w->pc->static_mode || !w->pc->sink || !w->pc->sink->country || w->rc) return;
    int rc = w->pc->sink->country(w->pc->sink->ud, cc);
    if (rc) w->rc = rc;
}

/* The flows of one map, largest first, capped at MAX_FLOWS: returns how
 * many of the matching flows there were. from/to select the side. */
static size_t pick_flows(const stats_table *fl, const char *cc, int to_side, map_flow *mf,
                         size_t *nf, size_t *rows)
{
    size_t all = 0;
    *nf = 0;
    for (size_t k = 0; k < fl->nrows; k++) {
        if (!streq0(cs(fl, k, 0, to_side ? "to_country" : "from_country"), cc)) continue;
        all++;
        if (*nf >= MAX_FLOWS) continue;   /* the table is sorted largest first */
        mf[*nf].from_country = cs(fl, k, 0, "from_country");
        mf[*nf].from_province = cs(fl, k, 0, "from_province");
        mf[*nf].to_country = cs(fl, k, 0, "to_country");
        mf[*nf].to_province = cs(fl, k, 0, "to_province");
        mf[*nf].count = cn(fl, k, 0, "count");
        rows[*nf] = k;
        (*nf)++;
    }
    return all;
}

/* Flow rows as a data table. */
static void alt_flows(pw *w, const char *summary, const stats_table *fl, const map_flow *mf,
                      const size_t *rows, size_t nf, size_t all)
{
    alt_open_sum(w, summary, "<th>From</th><th>To</th><th>Records</th>");
    size_t shown = 0;
    for (size_t k = 0; k < nf && shown < 15; k++, shown++) {
        char key[64];
        snprintf(key, sizeof key, "%s/%s>%s/%s", mf[k].from_country ? mf[k].from_country : "",
                 mf[k].from_province ? mf[k].from_province : "",
                 mf[k].to_country ? mf[k].to_country : "", mf[k].to_province ? mf[k].to_province : "");
        alt_row_open(w, "flows", key, mf[k].count);
        size_t r = rows[k];
        out(w, "<td>");
        esc(w, cs(fl, r, 0, "from_province_name"));
        out(w, ", ");
        esc(w, cs(fl, r, 0, "from_country_name"));
        out(w, "</td><td>");
        esc(w, cs(fl, r, 0, "to_province_name"));
        out(w, ", ");
        esc(w, cs(fl, r, 0, "to_country_name"));
        out(w, "</td>");
        td_num(w, mf[k].count);
        out(w, "</tr>\n");
    }
    alt_close(w, shown, all);
}

/* The provinces of origin of country cc, zoomed on the country: beside a
 * route map whose frame also holds far destinations (Viet Nam to Korea,
 * Laos to the Gulf), the provinces alone would be too small to read. */
static void fig_route_provinces(pw *w, const char *cc, const map_value *pv, size_t np,
                                const stats_table *o, long long count)
{
    char id[48], title[160];
    snprintf(id, sizeof id, "route-%s-provinces", cc);
    snprintf(title, sizeof title, "Provinces of origin in %s", country_label(w, cc));
    fig_open_map(w, id, title);
    sp_buf svg;
    sp_buf_init(&svg, PAGE_MAX_BYTES);
    /* a narrower viewBox: the text reads at the size of a half-width column */
    map_opts mo = { .id = id, .title = title, .width = 480, .max_aspect = 1.4 };
    const char *pcs[1] = { cc };
    int rc = map_choropleth(&svg, w->pc->geo, &mo, NULL, 0, pcs, 1, pv, np);
    fig_svg(w, id, rc, &svg);
    sp_buf_free(&svg);
    fig_caption(w, id, count, NULL, o->name, 1);
    alt_open_sum(w, "Data table: provinces of origin", "<th>Province</th><th>Records</th>");
    size_t shown = 0, total = 0;
    for (size_t r = 0; r < o->nrows; r++) {
        const char *pc = cs(o, r, 1, "code");
        if (!pc || !streq0(cs(o, r, 0, "code"), cc)) continue;
        total++;
        if (shown >= MAX_TABLE_ROWS) continue;
        char key[32];
        snprintf(key, sizeof key, "%s/%s", cc, pc);
        long long c = cn(o, r, 1, "count");
        alt_row_open(w, "origins", key, c);
        td(w, cs(o, r, 1, "name"));
        td_num(w, c);
        out(w, "</tr>\n");
        shown++;
    }
    alt_close(w, shown, total);
    fig_close(w);
}

/* The route map of origin country cc (count records), with its provinces
 * of origin beside it when the boundaries have them. */
static void fig_route(pw *w, const char *cc, long long count)
{
    stats_table *o = tab(w, "origins");
    stats_table *fl = tab(w, "flows");
    if (!o || !fl) return;
    map_value *pv = sp_xcalloc(o->nrows + 1, sizeof *pv);
    map_flow *mf = sp_xcalloc(MAX_FLOWS, sizeof *mf);
    size_t *rows = sp_xcalloc(MAX_FLOWS, sizeof *rows);
    size_t np = 0, nf = 0;
    for (size_t k = 0; k < o->nrows; k++) {
        const char *pc = cs(o, k, 1, "code");
        if (!pc || !streq0(cs(o, k, 0, "code"), cc)) continue;
        pv[np].code = pc;
        pv[np].count = mv(w, cn(o, k, 1, "count"));
        np++;
    }
    size_t all = pick_flows(fl, cc, 0, mf, &nf, rows);
    int pair = 0;
    for (size_t k = 0; k < np && !pair; k++) pair = pv[k].count != 0;
    pair = pair && w->pc->geo && geo_has_provinces(w->pc->geo, cc);
    if (pair) {
        out(w, "<div class=\"map-pair\">\n");
        fig_route_provinces(w, cc, pv, np, o, count);
    }
    char id[32], title[160];
    snprintf(id, sizeof id, "route-%s", cc);
    snprintf(title, sizeof title, "Routes from %s", country_label(w, cc));
    fig_open_map(w, id, title);
    if (w->pc->geo) {
        sp_buf svg;
        sp_buf_init(&svg, PAGE_MAX_BYTES);
        map_opts mo = { .id = id, .title = title };
        int rc = map_routes(&svg, w->pc->geo, &mo, cc, pv, np, mf, nf);
        fig_svg(w, id, rc, &svg);
        sp_buf_free(&svg);
    } else {
        no_maps(w);
    }
    char what[160];
    snprintf(what, sizeof what, "the %zu largest of %zu flows are drawn", nf, all);
    fig_caption(w, id, count, all > nf ? what : NULL, fl->name, w->pc->geo != NULL);
    alt_flows(w, "Data table: flows", fl, mf, rows, nf, all);
    fig_close(w);
    if (pair) out(w, "</div>\n");
    free(pv);
    free(mf);
    free(rows);
}

/* The map of cc as a destination (count records). */
static void fig_dest(pw *w, const char *cc, long long count)
{
    stats_table *d = tab(w, "destinations");
    stats_table *fl = tab(w, "flows");
    if (!d || !fl) return;
    map_value *pv = sp_xcalloc(d->nrows + 1, sizeof *pv);
    map_flow *mf = sp_xcalloc(MAX_FLOWS, sizeof *mf);
    size_t *rows = sp_xcalloc(MAX_FLOWS, sizeof *rows);
    size_t np = 0, nf = 0;
    const char *pprev = NULL;
    int pfirst = 1;
    for (size_t k = 0; k < d->nrows; k++) {
        if (!streq0(cs(d, k, 0, "code"), cc)) continue;
        const char *pc = cs(d, k, 1, "code");
        if (!pfirst && streq0(pc, pprev)) continue;   /* one row per locality */
        pfirst = 0;
        pprev = pc;
        if (!pc) continue;
        pv[np].code = pc;
        pv[np].count = cn(d, k, 1, "count");
        np++;
    }
    size_t all = pick_flows(fl, cc, 1, mf, &nf, rows);
    char id[32], title[160];
    snprintf(id, sizeof id, "dest-%s", cc);
    snprintf(title, sizeof title, "%s as a destination", country_label(w, cc));
    fig_open_map(w, id, title);
    if (w->pc->geo) {
        sp_buf svg;
        sp_buf_init(&svg, PAGE_MAX_BYTES);
        map_opts mo = { .id = id, .title = title };
        for (size_t k = 0; k < np; k++) pv[k].count = mv(w, pv[k].count);
        int rc = map_destination(&svg, w->pc->geo, &mo, cc, pv, np, mf, nf);
        for (size_t k = 0; k < np; k++) if (pv[k].count < 0) pv[k].count = CHART_SUPPRESSED;
        fig_svg(w, id, rc, &svg);
        sp_buf_free(&svg);
    } else {
        no_maps(w);
    }
    char what[160];
    snprintf(what, sizeof what, "the %zu largest of %zu flows are drawn", nf, all);
    fig_caption(w, id, count, all > nf ? what : NULL, d->name, w->pc->geo != NULL);
    sink_table(w, fl->name);
    alt_open_sum(w, "Data table: provinces of exploitation", "<th>Province</th><th>Records</th>");
    size_t shown = 0;
    for (size_t k = 0; k < np && shown < MAX_TABLE_ROWS; k++, shown++) {
        alt_row_open(w, "destinations", pv[k].code, pv[k].count);
        const gz_province *gp = w->pc->gaz ? gazetteer_province(w->pc->gaz, NULL, pv[k].code,
                                                                 strlen(pv[k].code)) : NULL;
        td(w, gp && gp->name ? gp->name : pv[k].code);
        td_num(w, pv[k].count);
        out(w, "</tr>\n");
    }
    alt_close(w, shown, np);
    alt_flows(w, "Data table: where they came from", fl, mf, rows, nf, all);
    fig_close(w);
    free(pv);
    free(mf);
    free(rows);
}

/* Level-0 countries of a tree table (origins, destinations), in order. */
static size_t countries_of(const stats_table *t, const char **codes, long long *counts)
{
    size_t n = 0;
    const char *prev = NULL;
    int first = 1;
    for (size_t r = 0; r < t->nrows; r++) {
        const char *cc = cs(t, r, 0, "code");
        if (!first && streq0(cc, prev)) continue;
        first = 0;
        prev = cc;
        if (!cc) continue;
        codes[n] = cc;
        counts[n++] = cn(t, r, 0, "count");
    }
    return n;
}

/* Sections 3 and 4 share this: the largest countries over the threshold
 * get their map inline, the others a link to their country page, the
 * small ones a sentence. */
static void country_maps(pw *w, const char *table, const char *sec, int dest)
{
    stats_table *t = tab(w, table);
    if (!t) return;
    const char **codes = sp_xcalloc(t->nrows + 1, sizeof *codes);
    long long *counts = sp_xcalloc(t->nrows + 1, sizeof *counts);
    const char **few = sp_xcalloc(t->nrows + 1, sizeof *few);
    long long *fewn = sp_xcalloc(t->nrows + 1, sizeof *fewn);
    size_t n = countries_of(t, codes, counts), nfew = 0, nbig = 0;
    for (size_t i = 0; i < n && !w->rc; i++) {
        if (counts[i] < threshold(w)) {
            few[nfew] = codes[i];
            fewn[nfew++] = counts[i];
            continue;
        }
        if (nbig++ < PAGE_INLINE_MAPS) {
            if (dest) fig_dest(w, codes[i], counts[i]);
            else fig_route(w, codes[i], counts[i]);
        }
    }
    if (nbig > PAGE_INLINE_MAPS) {
        outf(w, "<p>Maps of the other countries with at least %lld records, each on its own page "
                "to keep this page light:</p>\n<ul class=\"countries\">", threshold(w));
        size_t k = 0;
        for (size_t i = 0; i < n; i++) {
            if (counts[i] < threshold(w) || k++ < PAGE_INLINE_MAPS) continue;
            outf(w, "<li data-country=\"");
            esc(w, codes[i]);
            out(w, "\"");
            data_count(w, counts[i]);
            out(w, "><a href=\"");
            country_href(w, codes[i]);
            out(w, "\">");
            esc(w, country_label(w, codes[i]));
            out(w, "</a> (");
            num(w, counts[i]);
            out(w, ")</li>");
            sink_country(w, codes[i]);
        }
        out(w, "</ul>\n");
    }
    if (!n) para(w, "few", dest ? "No place of exploitation is recorded for these records."
                                : "No country of origin is recorded for these records.");
    few_list(w, sec, few, fewn, nfew, dest ? "as final destination" : "of origin");
    free(codes);
    free(counts);
    free(few);
    free(fewn);
}

/* 3. Routes per origin country. */
static void sec_routes(pw *w)
{
    section_open(w, "routes", "Routes: from each country of origin");
    outf(w, "<p>For each country of origin with at least %lld records: the provinces people "
            "come from, and lines to the final destination (country, or province where "
            "recorded). A line's width follows the number of records.</p>\n", threshold(w));
    country_maps(w, "origins", "routes", 0);
    section_close(w);
}

/* 4. Countries as destinations. */
static void sec_dest_countries(pw *w)
{
    section_open(w, "destination-countries", "Countries as destinations");
    outf(w, "<p>For each country of final destination with at least %lld records: where in it "
            "people were exploited (provinces shaded) and where they came from, from abroad "
            "and from its own provinces.</p>\n", threshold(w));
    country_maps(w, "destinations", "destination-countries", 1);
    section_close(w);
}

/* The page of one country: its route map and its destination map, or a
 * sentence for each side with too few records. */
static void sec_country(pw *w, const char *cc)
{
    stats_table *o = tab(w, "origins");
    stats_table *d = tab(w, "destinations");
    if (!o || !d) return;
    long long on = 0, dn = 0;
    for (size_t r = 0; r < o->nrows; r++)
        if (streq0(cs(o, r, 0, "code"), cc)) { on = cn(o, r, 0, "count"); break; }
    for (size_t r = 0; r < d->nrows; r++)
        if (streq0(cs(d, r, 0, "code"), cc)) { dn = cn(d, r, 0, "count"); break; }
    const char *name = country_label(w, cc);
    section_open(w, "routes", "As a country of origin");
    if (on >= threshold(w)) fig_route(w, cc, on);
    else {
        const char *codes[1] = { cc };
        few_list(w, "routes", codes, &on, 1, "of origin");
    }
    section_close(w);
    section_open(w, "destination-countries", "As a destination");
    if (dn >= threshold(w)) fig_dest(w, cc, dn);
    else {
        const char *codes[1] = { cc };
        few_list(w, "destination-countries", codes, &dn, 1, "as final destination");
    }
    section_close(w);
    out(w, "<p><a href=\"");
    if (w->pc->static_mode) out(w, "index.html");
    else {
        sp_buf q;
        sp_buf_init(&q, 4096);
        out(w, "/?");
        if (filter_qs(&w->pc->filter, 0, &q) == SP_OK) esc(w, q.data);
        sp_buf_free(&q);
    }
    out(w, "\">Back to the dashboard</a> (");
    esc(w, name);
    out(w, " and every other country).</p>\n");
}

/* 5. Final destinations: hotspots and a ranked table. */
static void sec_destinations(pw *w)
{
    stats_table *d = tab(w, "destinations");
    if (!d) return;
    section_open(w, "destinations", "Final destinations: countries and localities");
    out(w, "<p>The last place of exploitation recorded for each person. Circles sit on the "
           "province (or country) and grow with the number of records; named localities "
           "(special economic zones, compounds) are shown as recorded.</p>\n<div class=\"pair\">\n");
    /* locality rows are the leaves: one per row of the table */
    map_place *pl = sp_xcalloc(d->nrows + 1, sizeof *pl);
    size_t *order = sp_xcalloc(d->nrows + 1, sizeof *order);
    size_t np = 0;
    for (size_t r = 0; r < d->nrows; r++) {
        const char *cc = cs(d, r, 0, "code");
        if (!cc) continue;
        pl[np].country = cc;
        pl[np].province = cs(d, r, 1, "code");
        pl[np].locality = cs(d, r, 2, "locality");
        pl[np].count = cn(d, r, 2, "count");
        order[np] = r;
        np++;
    }
    /* largest first (stable) so the cap keeps the biggest places */
    for (size_t a = 1; a < np; a++)
        for (size_t b = a; b > 0 && pl[b].count > pl[b - 1].count; b--) {
            map_place tp = pl[b]; pl[b] = pl[b - 1]; pl[b - 1] = tp;
            size_t to = order[b]; order[b] = order[b - 1]; order[b - 1] = to;
        }
    size_t ndraw = np < MAX_HOTSPOTS ? np : MAX_HOTSPOTS;
    fig_open_map(w, "hotspots", "Final destinations");
    if (w->pc->geo) {
        sp_buf svg;
        sp_buf_init(&svg, PAGE_MAX_BYTES);
        map_opts mo = { .id = "hotspots", .title = "Final destinations" };
        int rc = map_hotspots(&svg, w->pc->geo, &mo, pl, ndraw);
        fig_svg(w, "hotspots", rc, &svg);
        sp_buf_free(&svg);
    } else {
        no_maps(w);
    }
    fig_caption(w, "hotspots", recs(d),
                np > ndraw ? "the map shows the largest places; the table and CSV list all" : NULL,
                d->name, w->pc->geo != NULL);
    notes(w, d);
    fig_close(w);
    out(w, "<div class=\"ranked\"><h3>Ranked places</h3>\n<table class=\"rank\"><thead><tr>"
           "<th>#</th><th>Place</th><th>Records</th></tr></thead><tbody>\n");
    size_t shown = 0;
    for (size_t i = 0; i < np && shown < 20; i++, shown++) {
        size_t r = order[i];
        char key[128];
        const char *loc = pl[i].locality;
        snprintf(key, sizeof key, "%s/%s/", pl[i].country, pl[i].province ? pl[i].province : "");
        sp_buf k2;
        sp_buf_init(&k2, 4096);
        if (sp_buf_adds(&k2, key) == SP_OK && loc) sp_buf_adds(&k2, loc);
        alt_row_open(w, "destinations", k2.data, pl[i].count);
        sp_buf_free(&k2);
        outf(w, "<td class=\"num\">%zu</td><td>", i + 1);
        const char *name = cs(d, r, 2, "name");
        if (loc) { out(w, "<b>"); esc(w, name); out(w, "</b>, "); }
        const char *pn = cs(d, r, 1, "name");
        if (pl[i].province && pn) { esc(w, pn); out(w, ", "); }
        esc(w, cs(d, r, 0, "name"));
        out(w, "</td>");
        td_num(w, pl[i].count);
        out(w, "</tr>\n");
    }
    out(w, "</tbody></table>\n");
    if (np > shown) outf(w, "<p class=\"more\">%zu of %zu places shown; the CSV holds them all.</p>", shown, np);
    out(w, "</div>\n</div>\n");
    free(pl);
    free(order);
    section_close(w);
}

static void flat_figure(pw *w, const char *table, const char *id, const char *title, int kind,
                        const char *labelcol, const char *head)
{
    stats_table *t = tab(w, table);
    if (!t) return;
    size_t n;
    chart_item *it = items_flat(t, labelcol, &n);
    sp_buf svg;
    sp_buf_init(&svg, PAGE_MAX_BYTES);
    chart_opts o = { .width = CHART_W, .suppress_k = w->k, .id = id, .title = title, .no_heading = 1, .other_row = 1 };
    const char *what = NULL;
    if (strcmp(t->counts, "mentions") == 0) {
        o.mentions = 1;
        o.what = "mentions";
        what = "a record counts once for each value it names, so shares add up to more than 100%";
    }
    int rc;
    if (kind == 0) rc = chart_hbar(&svg, &o, it, n, recs(t));
    else if (kind == 1) rc = chart_sharebar(&svg, &o, it, n, recs(t));
    else rc = chart_columns(&svg, &o, it, n, recs(t));
    fig_open(w, id, title);
    fig_svg(w, id, rc, &svg);
    fig_caption(w, id, recs(t), what, t->name, 1);
    alt_flat(w, t, labelcol, head, MAX_TABLE_ROWS);
    notes(w, t);
    fig_close(w);
    sp_buf_free(&svg);
    free(it);
}

/* 6. Demographics. */
static void sec_demographics(pw *w)
{
    section_open(w, "demographics", "Who: nationality, gender and age");
    out(w, "<div class=\"grid\">\n");
    flat_figure(w, "nationality", "nationality", "Nationality", 0, "name",
                "<th>Nationality</th><th>Records</th><th>Share</th>");
    flat_figure(w, "gender", "gender", "Gender", 1, "label",
                "<th>Gender</th><th>Records</th><th>Share</th>");
    flat_figure(w, "age", "age", "Age when exploitation began", 2, "band",
                "<th>Age band</th><th>Records</th><th>Share</th>");
    out(w, "</div>\n");
    section_close(w);
}

/* 7a. Recruitment: the two blocks of the recruitment table. */
static void sec_recruitment(pw *w)
{
    stats_table *t = tab(w, "recruitment");
    if (!t) return;
    section_open(w, "recruitment", "Recruitment: methods and platforms");
    out(w, "<div class=\"grid\">\n");
    for (size_t r = 0; r < t->nrows && !w->rc;) {
        const char *field = cs(t, r, 0, "field");
        size_t e = r;
        while (e < t->nrows && streq0(cs(t, e, 0, "field"), field)) e++;
        const char *label = cs(t, r, 0, "label");
        const char *counts = cs(t, r, 0, "counts");
        int mentions = streq0(counts, "mentions");
        chart_item *it = sp_xcalloc(e - r + 1, sizeof *it);
        for (size_t k = r; k < e; k++) {
            it[k - r].code = cs(t, k, 1, "code");
            it[k - r].label = cs(t, k, 1, "label");
            it[k - r].count = cn(t, k, 1, "count");
            it[k - r].share = csh(t, k, 1, "share");
        }
        char id[64];
        snprintf(id, sizeof id, "%s", field && strstr(field, "platform") ? "platform" : "method");
        sp_buf svg;
        sp_buf_init(&svg, PAGE_MAX_BYTES);
        chart_opts o = { .width = CHART_W, .suppress_k = w->k, .id = id, .title = label ? label : "Recruitment", .no_heading = 1,
                         .other_row = 1, .mentions = mentions,
                         .what = mentions ? "mentions" : NULL };
        int rc = chart_hbar(&svg, &o, it, e - r, recs(t));
        fig_open(w, id, label ? label : "Recruitment");
        fig_svg(w, id, rc, &svg);
        fig_caption(w, id, recs(t),
                    mentions ? "a record counts once for each platform it names" : NULL, t->name, 1);
        alt_open(w, "<th>Value</th><th>Records</th><th>Share of records</th>");
        for (size_t k = r; k < e; k++) {
            char key[160];
            const char *code = cs(t, k, 1, "code");
            snprintf(key, sizeof key, "%s/%s", field ? field : "", code ? code : "");
            alt_row_open(w, t->name, key, cn(t, k, 1, "count"));
            td(w, cs(t, k, 1, "label"));
            td_num(w, cn(t, k, 1, "count"));
            td_pct(w, csh(t, k, 1, "share"));
            out(w, "</tr>\n");
        }
        alt_close(w, e - r, e - r);
        fig_close(w);
        sp_buf_free(&svg);
        free(it);
        r = e;
    }
    out(w, "</div>\n");
    notes(w, t);
    section_close(w);
}

/* 7b. Control and ransom. */
static void sec_control(pw *w)
{
    section_open(w, "control", "Control: means of control and ransom");
    out(w, "<div class=\"grid\">\n");
    flat_figure(w, "control", "control", "Means of control", 0, "label",
                "<th>Means</th><th>Records</th><th>Share of records</th>");
    stats_table *t = tab(w, "ransom");
    if (t) {
        fig_open(w, "ransom", "Ransom demanded");
        /* records with a ransom: the sum of the currencies' published
         * counts, and only when none is hidden (a sum over hidden cells
         * would give them away); else a lower bound */
        long long with = 0;
        int hidden = 0;
        for (size_t r = 0; r < t->nrows; r++) {
            long long c = cn(t, r, 0, "count");
            if (c < 0) hidden = 1;
            else with += c;
        }
        out(w, "<p>");
        if (hidden && with == 0) {
            outf(w, "Some records state a ransom demanded; every currency has fewer than %d of "
                    "them or is hidden for privacy, so no number is shown", w->k);
        } else {
            if (hidden) out(w, "At least ");
            num(w, with);
            out(w, " of ");
            num(w, recs(t));
            out(w, " records state a ransom demanded");
            if (hidden) out(w, " (some currencies are hidden for privacy)");
        }
        out(w, ".</p>\n");
        if (t->nrows) {
            out(w, "<div class=\"scroll\"><table class=\"rank\"><thead><tr><th>Currency</th>"
                   "<th>Records</th><th>Median</th><th>Lowest</th><th>Highest</th></tr></thead><tbody>\n");
            for (size_t r = 0; r < t->nrows; r++) {
                const char *code = cs(t, r, 0, "code");
                alt_row_open(w, "ransom", code ? code : "", cn(t, r, 0, "count"));
                td(w, cs(t, r, 0, "label"));
                td_num(w, cn(t, r, 0, "count"));
                const char *cols[] = { "median", "min", "max" };
                for (int k = 0; k < 3; k++) {
                    int c = stats_col(t, 0, cols[k]);
                    const stats_cell *x = stats_cell_at(t, r, (size_t)c);
                    if (!x || x->missing || x->suppressed) out(w, "<td class=\"num\">too few</td>");
                    else td_num(w, x->n);
                }
                out(w, "</tr>\n");
            }
            out(w, "</tbody></table></div>\n");
        }
        fig_caption(w, "ransom", recs(t), NULL, t->name, 0);
        notes(w, t);
        fig_close(w);
    }
    out(w, "</div>\n");
    section_close(w);
}

/* 8. About the data, generated from the data. */
static void sec_about(pw *w)
{
    stats_table *orgs = tab(w, "organisations");
    stats_table *cov = tab(w, "coverage");
    stats_table *iby = tab(w, "industries-by-year");
    if (!orgs || !cov || !iby) return;
    section_open(w, "about", "About the data");
    long long ylo = 0, yhi = 0;
    int yc = stats_col(iby, 0, "year");
    for (size_t r = 0; r < iby->nrows; r++) {
        const stats_cell *y = stats_cell_at(iby, r, (size_t)yc);
        if (y->missing || cn(iby, r, 0, "total") <= 0) continue;
        if (!ylo || y->n < ylo) ylo = y->n;
        if (y->n > yhi) yhi = y->n;
    }
    out(w, "<p>These figures rest on <b>");
    num(w, w->published);
    outf(w, "</b> records submitted by <b>%zu</b> organisation%s", orgs->nrows,
         orgs->nrows == 1 ? "" : "s");
    if (ylo) outf(w, ", identified between <b>%lld</b> and <b>%lld</b>", ylo, yhi);
    out(w, ".</p>\n<ul class=\"caveats\">\n"
           "<li><b>Submissions, not prevalence.</b> The numbers count the cases organisations "
           "chose and were able to submit. They do not measure how many people are trafficked, "
           "and changes over time or between places may reflect who reports rather than what "
           "happens.</li>\n"
           "<li><b>One person may appear more than once</b> when several organisations assisted "
           "them and the hub could not link their records; records it linked are counted "
           "once.</li>\n"
           "<li><b>Missing is not zero.</b> Many records leave fields empty; the table below "
           "says how often each field is recorded.</li>\n");
    {
        size_t hidden = 0;
        for (size_t i = 0; i < NSLOTS && w->tabs[i].name; i++)
            hidden += w->tabs[i].t->nsuppressed + (w->tabs[i].t->records_suppressed ? 1 : 0);
        outf(w, "<li id=\"about-suppression\" data-k=\"%d\"><b>Small numbers are hidden.</b> To "
                "protect the people behind the records, no count from 1 to %d is published: it "
                "appears as &#8220;&lt;%d&#8221;, and some larger counts are hidden the same way so "
                "that small ones cannot be worked out from totals, shares or other filters. Places "
                "with few records are combined into &#8220;other or unrecorded&#8221; rows, maps "
                "hatch a place whose count is hidden, and ransom amounts are shown only for "
                "currencies with enough records. ", w->k, w->k - 1, w->k);
        if (hidden) out(w, "Suppression was applied to the figures on this page.");
        else out(w, "No count on this page needed hiding.");
        out(w, " Free-text answers and indicator values are never published.</li>\n");
    }
    if (w->synthetic)
        out(w, "<li><b>Synthetic data.</b> Some or all records are made-up demonstration data "
               "and describe no real person.</li>\n");
    out(w, "</ul>\n");
    fig_open(w, "organisations", "Reporting organisations");
    out(w, "<details class=\"alt\" open><summary>Records per organisation</summary>\n"
           "<div class=\"scroll\"><table><thead><tr><th>Organisation</th><th>Records</th>"
           "<th>Share</th></tr></thead><tbody>\n");
    size_t shown = 0;
    for (size_t r = 0; r < orgs->nrows && shown < MAX_TABLE_ROWS; r++, shown++) {
        const char *name = cs(orgs, r, 0, "name");
        alt_row_open(w, "organisations", name, cn(orgs, r, 0, "count"));
        td(w, name);
        td_num(w, cn(orgs, r, 0, "count"));
        td_pct(w, csh(orgs, r, 0, "share"));
        out(w, "</tr>\n");
    }
    alt_close(w, shown, orgs->nrows);
    fig_caption(w, "organisations", recs(orgs), NULL, orgs->name, 0);
    fig_close(w);
    fig_open(w, "coverage", "What share of records carries each field");
    out(w, "<div class=\"scroll\"><table class=\"rank\"><thead><tr><th>Field</th><th>Records with a value</th>"
           "<th>Share</th></tr></thead><tbody>\n");
    for (size_t r = 0; r < cov->nrows; r++) {
        alt_row_open(w, "coverage", cs(cov, r, 0, "field"), cn(cov, r, 0, "count"));
        td(w, cs(cov, r, 0, "label"));
        td_num(w, cn(cov, r, 0, "count"));
        td_pct(w, csh(cov, r, 0, "share"));
        out(w, "</tr>\n");
    }
    out(w, "</tbody></table></div>\n");
    fig_caption(w, "coverage", recs(cov), NULL, cov->name, 0);
    notes(w, cov);
    fig_close(w);
    section_close(w);
}

/* ============================================================ page frame */

/* How many records the hub counts once because the same person was
 * linked across organisations (docs/linkage.md). Hub-wide, whatever the
 * filter; a number from 1 to k-1 is published as "<k" like every count;
 * nothing is said while no record is merged. */
static void dedup_line(pw *w)
{
    long long n = 0;
    if (w->rc) return;
    if (store_dup_count(w->pc->store, &n) != SP_OK) {
        w->rc = SP_EDB;
        return;
    }
    if (n <= 0) return;
    long long shown = n < w->k ? -1 : n;
    out(w, "<p class=\"scope\" id=\"dedup\" data-merged=\"");
    if (shown >= 0) outf(w, "%lld", shown);
    out(w, "\"><b>");
    num(w, shown);
    outf(w, "</b> record%s reported by more than one organisation %s counted once: the hub "
            "links the same person across organisations without seeing names.</p>\n",
         shown == 1 ? "" : "s", shown == 1 ? "was" : "were");
}

static void describe_filter(pw *w)
{
    const page_filter *pf = &w->pc->filter;
    out(w, "<p class=\"scope\" id=\"filter-summary\">Showing <b>");
    num(w, w->published);
    out(w, "</b> records reported by organisations in <b>");
    esc(w, pf->region[0] ? pf->region : "all regions");
    out(w, "</b>");
    if (pf->year_from && pf->year_to) outf(w, ", identified %d&#8211;%d", pf->year_from, pf->year_to);
    else if (pf->year_from) outf(w, ", identified from %d", pf->year_from);
    else if (pf->year_to) outf(w, ", identified up to %d", pf->year_to);
    const char *names[] = { "industry", "gender", "nationality" };
    const char *vals[] = { pf->industry, pf->gender, pf->nationality };
    for (int i = 0; i < 3; i++) {
        if (!vals[i][0]) continue;
        outf(w, ", %s ", names[i]);
        const cb_field *f = codebook_field(w->pc->cb, names[i]);
        const cb_value *v = f && f->type == CB_CODE ? codebook_value(f, vals[i], strlen(vals[i])) : NULL;
        out(w, "<b>");
        if (i == 2) esc(w, country_label(w, vals[i]));
        else esc(w, v ? v->label : vals[i]);
        out(w, "</b>");
    }
    out(w, ".</p>\n");
    dedup_line(w);
}

static void select_code(pw *w, const char *name, const char *label, const char *cur)
{
    const cb_field *f = codebook_field(w->pc->cb, name);
    outf(w, "<label>%s <select name=\"%s\"><option value=\"\">All</option>", label, name);
    for (size_t i = 0; f && i < f->nvalues; i++) {
        if (f->values[i].deprecated) continue;
        out(w, "<option value=\"");
        esc(w, f->values[i].code);
        out(w, strcmp(cur, f->values[i].code) == 0 ? "\" selected>" : "\">");
        esc(w, f->values[i].label);
        out(w, "</option>");
    }
    out(w, "</select></label>\n");
}

static void filter_form(pw *w)
{
    const page_filter *pf = &w->pc->filter;
    const cb_field *yf = codebook_field(w->pc->cb, "year_identified");
    long long ymin = yf ? yf->min : 1990, ymax = yf ? yf->max : 2100;
    out(w, "<form class=\"filters\" method=\"get\" action=\"/\" autocomplete=\"off\">\n");
    outf(w, "<label>From year <input type=\"number\" name=\"year_from\" min=\"%lld\" max=\"%lld\" "
            "inputmode=\"numeric\" value=\"", ymin, ymax);
    if (pf->year_from) outf(w, "%d", pf->year_from);
    outf(w, "\"></label>\n<label>to <input type=\"number\" name=\"year_to\" min=\"%lld\" "
            "max=\"%lld\" inputmode=\"numeric\" value=\"", ymin, ymax);
    if (pf->year_to) outf(w, "%d", pf->year_to);
    out(w, "\"></label>\n<label>Reporting organisations in <select name=\"org_region\">");
    outf(w, "<option value=\"all\"%s>All regions</option>", pf->region[0] ? "" : " selected");
    for (size_t i = 0; i < gazetteer_nregions(); i++) {
        const char *r = gazetteer_region_at(i);
        out(w, "<option value=\"");
        esc(w, r);
        out(w, strcmp(r, pf->region) == 0 ? "\" selected>" : "\">");
        esc(w, r);
        out(w, "</option>");
    }
    out(w, "</select></label>\n");
    select_code(w, "industry", "Industry", pf->industry);
    select_code(w, "gender", "Gender", pf->gender);
    out(w, "<label>Nationality <select name=\"nationality\"><option value=\"\">All</option>");
    stats_table *nat = tab(w, "nationality");
    int have = pf->nationality[0] == '\0';
    for (size_t r = 0; nat && r < nat->nrows; r++) {
        const char *code = cs(nat, r, 0, "code");
        if (!code) continue;
        int sel = strcmp(code, pf->nationality) == 0;
        /* a nationality with a hidden count is not offered: its presence
         * alone says someone of it is in the data */
        if (!sel && cn(nat, r, 0, "count") <= 0) continue;
        have |= sel;
        out(w, "<option value=\"");
        esc(w, code);
        out(w, sel ? "\" selected>" : "\">");
        esc(w, cs(nat, r, 0, "name"));
        out(w, "</option>");
    }
    if (!have) {
        out(w, "<option value=\"");
        esc(w, pf->nationality);
        out(w, "\" selected>");
        esc(w, country_label(w, pf->nationality));
        out(w, "</option>");
    }
    out(w, "</select></label>\n<button type=\"submit\">Apply</button> "
           "<a class=\"reset\" href=\"/\">Reset</a>\n</form>\n");
}

static void head(pw *w, const char *title)
{
    out(w, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
           "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>");
    esc(w, title);
    out(w, "</title>\n");
    /* served pages name an empty icon so browsers don't ask the server for
     * /favicon.ico; a report opened from disk needs none (and has no link
     * that is not a file of its own) */
    if (!w->pc->static_mode) out(w, "<link rel=\"icon\" href=\"data:,\">\n");
    outf(w, "<link rel=\"stylesheet\" href=\"%s\">\n</head>\n<body>\n",
         w->pc->static_mode ? "app.css" : "/static/app.css");
}

static void nav(pw *w)
{
    out(w, "<nav class=\"toc\" aria-label=\"Sections\"><ul>"
           "<li><a href=\"#scope\">Scope</a></li><li><a href=\"#origins\">Origins</a></li>"
           "<li><a href=\"#routes\">Routes</a></li>"
           "<li><a href=\"#destination-countries\">Destination countries</a></li>"
           "<li><a href=\"#destinations\">Destinations</a></li>"
           "<li><a href=\"#demographics\">Who</a></li><li><a href=\"#recruitment\">Recruitment</a></li>"
           "<li><a href=\"#control\">Control</a></li><li><a href=\"#about\">About the data</a></li>"
           "</ul></nav>\n");
}

static void footer(pw *w)
{
    out(w, "<footer><p>Data spotlight on trafficking for forced criminality, from civil-society "
           "submissions. Counts are of records, never of people in general.");
    if (w->pc->static_mode) {
        out(w, " Static report");
        if (w->pc->generated) { out(w, " generated "); esc(w, w->pc->generated); }
        out(w, "; data files are in the data/ folder.");
    } else {
        out(w, " Every chart's numbers are in the <a href=\"/api/v1/meta\">API</a>.");
    }
    out(w, "</p></footer>\n</body>\n</html>\n");
}

static void synthetic_banner(pw *w)
{
    if (!w->synthetic) return;
    out(w, "<p class=\"banner\" id=\"synthetic\" role=\"note\"><b>Demonstration data.</b> "
           "Synthetic (made-up) records are included in these numbers: they describe no real "
           "person and must not be quoted as findings.</p>\n");
}

int page_render(const page_ctx *pc, sp_buf *b, sp_err *err)
{
    pw w;
    memset(&w, 0, sizeof w);
    w.pc = pc;
    w.b = b;
    w.err = err;
    stats_filter_init(&w.sf);
    w.rc = page_filter_stats(&pc->filter, pc->cb, &w.sf, err);
    if (!w.rc && privacy_k(pc->store, &w.k) != SP_OK) {
        w.rc = SP_EINPUT;
        sp_err_add(err, NULL, 0, NULL, NULL, 0, "bad-k",
                   "the hub's suppression threshold k is unreadable or out of range "
                   "(set it with: spotlight config set k N)");
    }
    w.published = CHART_SUPPRESSED;
    long long all = 0;
    if (!w.rc && store_count_records(pc->store, NULL, &all) != SP_OK) {
        w.rc = SP_EDB;
        sp_err_add(err, NULL, 0, NULL, NULL, 0, "store", "counting records failed: %s",
                   store_errmsg(pc->store));
    }
    if (!w.rc && all == 0) {
        head(&w, "Data spotlight: no records yet");
        out(&w, "<header><h1>Data spotlight</h1></header>\n<main id=\"empty\">\n<h2>No records yet</h2>\n"
                "<p>The hub holds no case records, so there is nothing to show. Charts and maps "
                "appear here as soon as organisations submit records.</p>\n</main>\n");
        footer(&w);
        goto done;
    }
    /* tables are computed only when something matches (and then the
     * first one tells whether synthetic records are among them) */
    if (!w.rc && store_count_records(pc->store, &w.sf.f, &w.records) != SP_OK) {
        w.rc = SP_EDB;
        sp_err_add(err, NULL, 0, NULL, NULL, 0, "store", "counting records failed: %s",
                   store_errmsg(pc->store));
    }
    if (w.records > 0) {
        /* the records count published is the suppressed one of a table */
        stats_table *iby = tab(&w, "industries-by-year");
        if (iby) w.published = recs(iby);
    } else {
        w.published = 0;        /* a zero is published */
    }
    if (pc->country) {
        char title[160];
        snprintf(title, sizeof title, "Data spotlight: %s", country_label(&w, pc->country));
        head(&w, title);
        out(&w, "<header>\n<h1>");
        esc(&w, title);
        out(&w, "</h1>\n");
        synthetic_banner(&w);
        describe_filter(&w);
        out(&w, "</header>\n<main>\n");
        if (w.records == 0)
            out(&w, "<section id=\"nomatch\" class=\"sec\"><h2>No records match these filters</h2>"
                    "</section>\n");
        else
            sec_country(&w, pc->country);
        out(&w, "</main>\n");
        footer(&w);
        goto done;
    }
    head(&w, "Data spotlight: trafficking for forced criminality");
    out(&w, "<header>\n<h1>Data spotlight: trafficking for forced criminality</h1>\n"
            "<p class=\"lede\">What civil-society organisations have recorded about people "
            "trafficked into scam compounds and other forced criminality. These are submitted "
            "cases, not a measure of prevalence.</p>\n");
    synthetic_banner(&w);
    describe_filter(&w);
    if (!pc->static_mode) filter_form(&w);
    if (!pc->static_mode) {
        sp_buf q;
        sp_buf_init(&q, 4096);
        if (filter_qs(&pc->filter, 0, &q) == SP_OK) {
            out(&w, "<p class=\"share\">Link to this view: <a href=\"/?");
            esc(&w, q.data);
            out(&w, "\">this page with these filters</a></p>\n");
        }
        sp_buf_free(&q);
    }
    nav(&w);
    out(&w, "</header>\n<main>\n");
    if (w.records == 0) {
        out(&w, "<section id=\"nomatch\" class=\"sec\"><h2>No records match these filters</h2>"
                "<p>Widen the year range, choose all regions or clear a filter.</p></section>\n");
    } else {
        sec_scope(&w);
        sec_origins(&w);
        sec_routes(&w);
        sec_dest_countries(&w);
        sec_destinations(&w);
        sec_demographics(&w);
        sec_recruitment(&w);
        sec_control(&w);
        sec_about(&w);
    }
    out(&w, "</main>\n");
    footer(&w);
done:
    for (size_t i = 0; i < NSLOTS; i++) stats_table_free(w.tabs[i].t);
    stats_filter_free(&w.sf);
    if (w.rc && err->count == 0)
        sp_err_add(err, NULL, 0, NULL, NULL, 0, "page", "rendering the page failed: %s",
                   sp_rc_str(w.rc));
    return w.rc;
}

/* ============================================================ tables */

/* The one way a table reaches anything public: computed, passed through
 * privacy_apply_filtered with k, ransom amounts blanked where their
 * currency's count is hidden or under max(k, STATS_EXTRA_MIN_RANGE), then
 * checked with privacy_check (a table that fails is never handed out). */
static int table_compute_k(sp_store *s, const sp_codebook *cb, const char *table,
                           const sp_filter *f, int k, stats_table **out, sp_err *err)
{
    *out = NULL;
    stats_table *t = NULL;
    int rc = stats_extra_known(table) ? stats_extra_compute(s, cb, table, f, &t, err)
                                      : stats_compute(s, cb, table, f, NULL, &t, err);
    if (rc) return rc;
    rc = privacy_apply_filtered(s, cb, t, f, k, err);
    if (!rc && strcmp(table, "ransom") == 0) {
        /* a median or range of a few ransoms describes single persons */
        int cc = stats_col(t, 0, "count");
        long long need = k > STATS_EXTRA_MIN_RANGE ? k : STATS_EXTRA_MIN_RANGE;
        const char *cols[] = { "median", "min", "max" };
        for (size_t r = 0; cc >= 0 && r < t->nrows; r++) {
            const stats_cell *n = stats_cell_at(t, r, (size_t)cc);
            if (!n->suppressed && !n->missing && n->n >= need) continue;
            for (int i = 0; i < 3; i++) {
                int c = stats_col(t, 0, cols[i]);
                if (c < 0) continue;
                stats_cell *x = stats_cell_at(t, r, (size_t)c);
                x->n = 0;
                x->missing = 1;
            }
        }
    }
    if (!rc && privacy_check(t, k) != 0) {
        rc = SP_EINPUT;
        sp_err_add(err, NULL, 0, NULL, table, strlen(table), "suppression-check",
                   "table %s failed the small-cell check after suppression; it is not published",
                   table);
    }
    if (rc) stats_table_free(t);
    else *out = t;
    return rc;
}

int page_table_compute(sp_store *s, const sp_codebook *cb, const char *table,
                       const sp_filter *f, stats_table **out, sp_err *err)
{
    int k;
    *out = NULL;
    if (privacy_k(s, &k) != SP_OK)
        return sp_err_add(err, NULL, 0, NULL, NULL, 0, "bad-k",
                          "the hub's suppression threshold k is unreadable or out of range "
                          "(set it with: spotlight config set k N)");
    return table_compute_k(s, cb, table, f, k, out, err);
}

/* ============================================================ routes */

/* The boundaries, decoded once per process on first use (they are
 * read-only afterwards and shared by every worker). */
static pthread_once_t geo_once = PTHREAD_ONCE_INIT;
static sp_geo *geo_shared;
static const sp_gazetteer *geo_gaz;

static void geo_init(void)
{
    sp_err err;
    sp_err_init(&err);
    if (geo_load(&geo_shared, geo_gaz, &err) != SP_OK) {
        fprintf(stderr, "spotlight: maps disabled: %s\n", sp_err_last(&err));
        geo_shared = NULL;
    }
    sp_err_free(&err);
}

static const sp_geo *geo_get(const sp_gazetteer *gaz)
{
    if (!geo_gaz) geo_gaz = gaz;
    pthread_once(&geo_once, geo_init);
    return geo_shared;
}

/* A small HTML page for errors (400, 500). */
static int error_page(serve_reply *out, int status, const char *title, const char *why)
{
    out->status = status;
    out->content_type = "text/html; charset=utf-8";
    out->no_store = status >= 500;
    sp_buf_reset(&out->body);
    int rc = sp_buf_adds(&out->body, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                                     "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
                                     "<title>");
    if (!rc) rc = sp_buf_add_htmls(&out->body, title);
    if (!rc) rc = sp_buf_adds(&out->body, "</title><link rel=\"stylesheet\" href=\"/static/app.css\">"
                                          "</head><body><main><h1>");
    if (!rc) rc = sp_buf_add_htmls(&out->body, title);
    if (!rc) rc = sp_buf_adds(&out->body, "</h1><p>");
    if (!rc) rc = sp_buf_add_htmls(&out->body, why);
    if (!rc) rc = sp_buf_adds(&out->body, "</p><p><a href=\"/\">Back to the dashboard</a></p>"
                                          "</main></body></html>\n");
    return rc;
}

/* Reads the page's filters from the query; a bad one writes a 400 page
 * and returns 1. */
static int query_filter(serve_ctx *ctx, const http_request *req, page_filter *pf,
                        serve_reply *out, int *rc)
{
    page_filter_default(pf);
    sp_err err;
    sp_err_init(&err);
    for (size_t i = 0; i < req->nparams; i++) {
        sp_err_clear(&err);
        if (page_filter_set(pf, ctx->cb, req->params[i].key, req->params[i].value, &err)) {
            *rc = error_page(out, 400, "That filter cannot be used",
                             err.n ? sp_err_last(&err) : "bad filter value");
            sp_err_free(&err);
            return 1;
        }
    }
    sp_err_free(&err);
    return 0;
}

/* Renders the dashboard (country NULL) or a country's page for the
 * request's filters: the one path both routes share. */
static int render_route(serve_ctx *ctx, const http_request *req, serve_reply *out,
                        const char *country)
{
    page_ctx pc;
    memset(&pc, 0, sizeof pc);
    int rc = SP_OK;
    if (query_filter(ctx, req, &pc.filter, out, &rc)) return rc;
    pc.store = ctx->store;
    pc.cb = ctx->cb;
    pc.gaz = ctx->gaz;
    pc.geo = geo_get(ctx->gaz);
    pc.country = country;
    sp_err err;
    sp_err_init(&err);
    rc = page_render(&pc, &out->body, &err);
    if (rc) {
        rc = error_page(out, 500, country ? "The page could not be drawn"
                                          : "The dashboard could not be drawn",
                        err.n ? sp_err_last(&err) : sp_rc_str(rc));
    } else {
        out->status = 200;
        out->content_type = "text/html; charset=utf-8";
    }
    sp_err_free(&err);
    return rc;
}

int page_home(serve_ctx *ctx, const http_request *req, serve_reply *out)
{
    return render_route(ctx, req, out, NULL);
}

int page_country(serve_ctx *ctx, const http_request *req, serve_reply *out)
{
    const char *cc = req->path + strlen("/country/");
    const gz_country *gc = strlen(cc) == 2 ? gazetteer_alpha2(ctx->gaz, cc) : NULL;
    if (!gc) return error_page(out, 404, "No such country",
                               "Country pages are /country/CC, with CC an ISO 3166-1 alpha-2 code.");
    return render_route(ctx, req, out, gc->alpha2);
}

int page_data(serve_ctx *ctx, const http_request *req, serve_reply *out)
{
    const char *name = req->path + strlen("/data/");
    size_t nl = strlen(name);
    int csv = 0;
    char table[64];
    if (nl > 4 && strcmp(name + nl - 4, ".csv") == 0) { csv = 1; nl -= 4; }
    else if (nl > 5 && strcmp(name + nl - 5, ".json") == 0) nl -= 5;
    else nl = sizeof table;
    if (nl >= sizeof table) return error_page(out, 404, "Not found", "No such data file.");
    memcpy(table, name, nl);
    table[nl] = '\0';
    if (!stats_extra_known(table)) return error_page(out, 404, "Not found", "No such data file.");
    page_filter pf;
    int rc = SP_OK;
    if (query_filter(ctx, req, &pf, out, &rc)) return rc;
    sp_err err;
    sp_err_init(&err);
    stats_filter sf;
    stats_filter_init(&sf);
    stats_table *t = NULL;
    rc = page_filter_stats(&pf, ctx->cb, &sf, &err);
    if (!rc) rc = page_table_compute(ctx->store, ctx->cb, table, &sf.f, &t, &err);
    if (rc) {
        rc = error_page(out, 500, "The table could not be computed",
                        err.n ? sp_err_last(&err) : sp_rc_str(rc));
        goto done;
    }
    out->status = 200;
    if (csv) {
        out->content_type = "text/csv; charset=utf-8";
        snprintf(out->extra, sizeof out->extra,
                 "Content-Disposition: attachment; filename=\"%s.csv\"\r\n", table);
        rc = stats_to_csv(t, &out->body);
    } else {
        out->content_type = "application/json";
        json_t *o = stats_to_json(t);
        char *s = o ? json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(10)) : NULL;
        rc = s ? sp_buf_adds(&out->body, s) : SP_ENOMEM;
        if (!rc) rc = sp_buf_addc(&out->body, '\n');
        free(s);
        json_decref(o);
    }
done:
    stats_table_free(t);
    stats_filter_free(&sf);
    sp_err_free(&err);
    return rc;
}
