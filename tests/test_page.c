/* test_page.c -- the dashboard page (page.h), its extra tables
 * (stats_extra.h) and the static report (report.h) over small hubs.
 *
 * Expected numbers come from stats_compute or from the hand-made records
 * below, never from the page itself; SVG parts are parsed with expat. */
#include "demo.h"
#include "geo.h"
#include "page.h"
#include "privacy.h"
#include "report.h"
#include "stats_extra.h"
#include "test.h"

#include <expat.h>
#include <jansson.h>
#include <sys/stat.h>

typedef struct fx {
    sp_gazetteer *gaz;
    sp_codebook *cb;
    sp_store *st;
    sp_geo *geo;
    char path[64];
    sp_err err;
} fx;

static const char *HOSTILE_ORG = "<script>alert('org')</script> & \"Partners\"";
static const char *HOSTILE_LOC = "<img src=x onerror=alert(1)>KK Park & Co";

static void put(fx *x, sp_record *r, const char *name, const char *raw)
{
    const cb_field *f = codebook_field(x->cb, name);
    if (!f) TFAIL("no field %s", name);
    const char *country = NULL;
    if (f->country_field) {
        const cb_field *cf = codebook_field(x->cb, f->country_field);
        const cb_cell *cc = cf ? record_get(r, cf->index) : NULL;
        country = cc ? cc->text : NULL;
    }
    cb_cell c;
    memset(&c, 0, sizeof c);
    const char *rule = NULL, *why = NULL;
    if (codebook_parse(x->cb, f, raw, strlen(raw), country, &c, &r->arena, &rule, &why) != 0)
        TFAIL("%s=%s: %s", name, raw, why ? why : "?");
    ASSERT_EQ(record_add(r, f->index, &c), SP_OK);
}

static void put_place(fx *x, sp_record *r, const char *country, const char *province,
                      const char *locality)
{
    const cb_field *g = codebook_field(x->cb, "exploitation");
    ASSERT_NOT_NULL(g);
    const char *vals[3] = { country, province, locality };
    const char *names[3] = { "country", "province", "locality" };
    const char *cc = NULL;
    for (int k = 0; k < 3; k++) {
        if (!vals[k]) continue;
        const cb_field *sub = codebook_subfield(g, names[k]);
        ASSERT_NOT_NULL(sub);
        cb_cell *c = record_group_cell(r, g->index, 0, sub->index);
        ASSERT_NOT_NULL(c);
        const char *rule = NULL, *why = NULL;
        if (codebook_parse(x->cb, sub, vals[k], strlen(vals[k]), k == 1 ? cc : NULL, c, &r->arena,
                           &rule, &why) != 0)
            TFAIL("exploitation.%s=%s: %s", names[k], vals[k], why ? why : "?");
        if (k == 0) cc = c->text;
    }
}

/* A hub: `demo` synthetic demo records, plus `hostile` real (not
 * synthetic) records from an organisation with a hostile name, and
 * `ransom` records with known ransom amounts. */
static void setup(fx *x, long long demo, int hostile, int ransom)
{
    memset(x, 0, sizeof *x);
    sp_err_init(&x->err);
    if (gazetteer_load(&x->gaz, NULL, &x->err)) { sp_err_print(&x->err, stderr); TFAIL("gazetteer"); }
    if (codebook_load_default(&x->cb, x->gaz, &x->err)) { sp_err_print(&x->err, stderr); TFAIL("codebook"); }
    if (geo_load(&x->geo, x->gaz, &x->err)) { sp_err_print(&x->err, stderr); TFAIL("geo"); }
    snprintf(x->path, sizeof x->path, "/tmp/test_page_XXXXXX");
    int fd = mkstemp(x->path);
    ASSERT(fd >= 0);
    close(fd);
    if (store_open(&x->st, x->path, x->cb, 1, &x->err)) { sp_err_print(&x->err, stderr); TFAIL("store"); }
    if (demo > 0 && demo_fill(x->st, x->cb, demo, 7, &x->err)) {
        sp_err_print(&x->err, stderr);
        TFAIL("demo_fill");
    }
    if (!hostile && !ransom) return;
    long long org, sub;
    ASSERT_EQ(store_org_add(x->st, HOSTILE_ORG, "TH", &org), SP_OK);
    ASSERT_EQ(store_submission_add(x->st, org, "h.csv", "hh", 0, &sub), SP_OK);
    ASSERT_EQ(store_begin(x->st), SP_OK);
    sp_record r;
    record_init(&r, x->cb);
    char ref[32], amount[32];
    for (int i = 0; i < hostile; i++) {
        record_reset(&r);
        snprintf(ref, sizeof ref, "H%d", i);
        put(x, &r, "case_ref", ref);
        put(x, &r, "year_identified", "2024");
        put(x, &r, "gender", "female");
        put(x, &r, "origin_country", "LA");
        put(x, &r, "industry", "online_scam");
        put_place(x, &r, "MM", "MM-13", HOSTILE_LOC);
        long long id;
        if (store_record_add(x->st, sub, org, &r, 0, &id)) TFAIL("%s", store_errmsg(x->st));
    }
    /* ransom: 12 in USD (100, 200, ... 1200), 3 in THB */
    for (int i = 0; i < ransom; i++) {
        record_reset(&r);
        snprintf(ref, sizeof ref, "R%d", i);
        put(x, &r, "case_ref", ref);
        put(x, &r, "year_identified", "2023");
        if (i < 12) {
            snprintf(amount, sizeof amount, "%d", (i + 1) * 100);
            put(x, &r, "ransom_demanded_currency", "USD");
        } else {
            snprintf(amount, sizeof amount, "%d", 5000 + i);
            put(x, &r, "ransom_demanded_currency", "THB");
        }
        put(x, &r, "ransom_demanded_amount", amount);
        long long id;
        if (store_record_add(x->st, sub, org, &r, 0, &id)) TFAIL("%s", store_errmsg(x->st));
    }
    record_free(&r);
    ASSERT_EQ(store_commit(x->st), SP_OK);
}

static void teardown(fx *x)
{
    char p[96];
    store_close(x->st);
    geo_free(x->geo);
    codebook_free(x->cb);
    gazetteer_free(x->gaz);
    sp_err_free(&x->err);
    unlink(x->path);
    snprintf(p, sizeof p, "%s-wal", x->path);
    unlink(p);
    snprintf(p, sizeof p, "%s-shm", x->path);
    unlink(p);
}

/* Renders with filter pf (NULL: defaults but all regions). Caller frees. */
static char *render(fx *x, const page_filter *pf, long long threshold, const char *country)
{
    page_ctx pc;
    memset(&pc, 0, sizeof pc);
    pc.store = x->st;
    pc.cb = x->cb;
    pc.gaz = x->gaz;
    pc.geo = x->geo;
    if (pf) pc.filter = *pf;
    else page_filter_default(&pc.filter), pc.filter.region[0] = '\0';
    pc.threshold = threshold;
    pc.country = country;
    sp_buf b;
    sp_buf_init(&b, PAGE_MAX_BYTES);
    int rc = page_render(&pc, &b, &x->err);
    if (rc) { sp_err_print(&x->err, stderr); TFAIL("page_render: %d", rc); }
    return sp_buf_steal(&b);
}

static size_t count_of(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle)) n++;
    return n;
}

/* Parses every <svg ...>...</svg> in the page with expat; returns how many. */
static size_t check_svgs(const char *html)
{
    size_t n = 0;
    for (const char *p = strstr(html, "<svg"); p; p = strstr(p, "<svg")) {
        const char *e = strstr(p, "</svg>");
        if (!e) TFAIL("an <svg> is not closed");
        e += 6;
        XML_Parser xp = XML_ParserCreate("UTF-8");
        if (XML_Parse(xp, p, (int)(e - p), 1) != XML_STATUS_OK)
            TFAIL("svg %zu is not well-formed: %s at line %lu: %.200s", n,
                  XML_ErrorString(XML_GetErrorCode(xp)), XML_GetCurrentLineNumber(xp), p);
        XML_ParserFree(xp);
        n++;
        p = e;
    }
    return n;
}

/* Our own block elements open and close in equal numbers. */
static void check_balanced(const char *html)
{
    static const char *const tags[] = { "section", "figure", "details", "table", "ul", "main",
                                        "header", "form", "select", "tr", "p" };
    for (size_t i = 0; i < sizeof tags / sizeof *tags; i++) {
        char open[32], open2[32], close[32];
        snprintf(open, sizeof open, "<%s>", tags[i]);
        snprintf(open2, sizeof open2, "<%s ", tags[i]);
        snprintf(close, sizeof close, "</%s>", tags[i]);
        /* count only outside SVG (SVG has none of these) */
        size_t o = count_of(html, open) + count_of(html, open2), c = count_of(html, close);
        if (o != c) TFAIL("<%s>: %zu opened, %zu closed", tags[i], o, c);
    }
}

/* data-count of the <tr data-table=T data-key=K>, or -1. */
static long long data_count(const char *html, const char *table, const char *key)
{
    sp_buf pat;
    sp_buf_init(&pat, 1024);
    sp_buf_printf(&pat, "data-table=\"%s\" data-key=\"", table);
    sp_buf_add_htmls(&pat, key);                 /* "<18" is written "&lt;18" */
    sp_buf_adds(&pat, "\" data-count=\"");
    const char *p = strstr(html, pat.data);
    long long n = p ? atoll(p + pat.len) : -1;
    sp_buf_free(&pat);
    return n;
}

/* Is the row of `table` with `key` shown as suppressed on the page? */
static int data_suppressed(const char *html, const char *table, const char *key)
{
    sp_buf pat;
    sp_buf_init(&pat, 1024);
    sp_buf_printf(&pat, "data-table=\"%s\" data-key=\"", table);
    sp_buf_add_htmls(&pat, key);
    sp_buf_adds(&pat, "\" data-count=\"\" data-suppressed=\"1\"");
    int found = strstr(html, pat.data) != NULL;
    sp_buf_free(&pat);
    return found;
}

TEST(page_sections_and_wellformed)
{
    fx x;
    setup(&x, 600, 0, 0);
    char *h = render(&x, NULL, 20, NULL);
    const char *ids[] = { "id=\"scope\"", "id=\"origins\"", "id=\"routes\"",
                          "id=\"destination-countries\"", "id=\"destinations\"",
                          "id=\"demographics\"", "id=\"recruitment\"", "id=\"control\"",
                          "id=\"about\"", "id=\"fig-scams\"", "id=\"fig-ransom\"",
                          "id=\"fig-coverage\"", "id=\"fig-gender\"", "id=\"fig-age\"",
                          "id=\"fig-nationality\"", "id=\"fig-hotspots\"", "id=\"fig-origins\"" };
    for (size_t i = 0; i < sizeof ids / sizeof *ids; i++) ASSERT_CONTAINS(h, ids[i]);
    ASSERT_CONTAINS(h, "id=\"synthetic\"");                 /* demo data flagged */
    ASSERT_CONTAINS(h, "Submissions, not prevalence");
    ASSERT_GE(check_svgs(h), 12);
    check_balanced(h);
    ASSERT(strncmp(h, "<!DOCTYPE html>", 15) == 0);
    ASSERT(!strstr(h, "style=\""));                          /* CSP: no inline style */
    ASSERT(!strstr(h, "<script"));
    /* every figure has downloads, every chart a <title> */
    ASSERT_EQ(count_of(h, "<figure"), count_of(h, ">CSV</a>"));
    ASSERT_EQ(count_of(h, "<svg"), count_of(h, "-title\">"));
    free(h);
    teardown(&x);
}

TEST(page_numbers_equal_stats)
{
    fx x;
    setup(&x, 3000, 0, 0);  /* large enough that most cells are published */
    page_filter pf;
    page_filter_default(&pf);
    ASSERT_EQ(page_filter_set(&pf, x.cb, "org_region", "all", &x.err), SP_OK);
    ASSERT_EQ(page_filter_set(&pf, x.cb, "year_from", "2022", &x.err), SP_OK);
    char *h = render(&x, &pf, 20, NULL);
    stats_filter sf;
    stats_filter_init(&sf);
    ASSERT_EQ(page_filter_stats(&pf, x.cb, &sf, &x.err), SP_OK);
    const char *tables[] = { "gender", "age", "control" };
    for (size_t k = 0; k < 3; k++) {
        stats_table *t = NULL;
        ASSERT_EQ(stats_compute(x.st, x.cb, tables[k], &sf.f, NULL, &t, &x.err), SP_OK);
        /* the page publishes the suppressed table: every published count
         * equals the exact one, every hidden one is marked hidden */
        int kk = 0;
        ASSERT_EQ(privacy_k(x.st, &kk), SP_OK);
        ASSERT_EQ(privacy_apply_filtered(x.st, x.cb, t, &sf.f, kk, &x.err), SP_OK);
        int code = stats_col(t, 0, k == 1 ? "band" : "code"), cnt = stats_col(t, 0, "count");
        size_t published = 0;
        for (size_t r = 0; r < t->nrows; r++) {
            const stats_cell *c = stats_cell_at(t, r, (size_t)code);
            const stats_cell *n = stats_cell_at(t, r, (size_t)cnt);
            const char *key = c->missing ? "" : c->s;
            if (n->suppressed) {
                if (!data_suppressed(h, tables[k], key))
                    TFAIL("%s %s: hidden in the table but not marked hidden on the page", tables[k], key);
                continue;
            }
            long long got = data_count(h, tables[k], key);
            if (got != n->n) TFAIL("%s %s: page %lld, stats %lld", tables[k], key, got, n->n);
            published++;
        }
        if (published < 2) TFAIL("%s: only %zu cells published", tables[k], published);
        /* the caption's record count */
        if (!t->records_suppressed) {
            char pat[64];
            snprintf(pat, sizeof pat, "%lld", t->records);
            ASSERT_CONTAINS(h, pat);
        }
        stats_table_free(t);
    }
    stats_filter_free(&sf);
    free(h);
    teardown(&x);
}

TEST(page_filter_links_keep_filters)
{
    fx x;
    setup(&x, 400, 0, 0);
    page_filter pf;
    page_filter_default(&pf);
    ASSERT_EQ(page_filter_set(&pf, x.cb, "year-from", "2021", &x.err), SP_OK);
    ASSERT_EQ(page_filter_set(&pf, x.cb, "gender", "Male", &x.err), SP_OK);   /* a label */
    ASSERT_EQ(page_filter_set(&pf, x.cb, "nationality", "Viet Nam", &x.err), SP_OK);
    ASSERT_STR_EQ(pf.gender, "male");
    ASSERT_STR_EQ(pf.nationality, "VN");
    ASSERT_STR_EQ(pf.region, "Asia");
    char *h = render(&x, &pf, 5, NULL);
    /* API links carry the same filters */
    ASSERT_CONTAINS(h, "/api/v1/stats/gender.csv?year_from=2021&amp;org_region=Asia&amp;"
                       "where=gender%3Amale&amp;where=nationality%3AVN");
    ASSERT_CONTAINS(h, "/data/ransom.csv?year_from=2021&amp;org_region=Asia&amp;gender=male&amp;"
                       "nationality=VN");
    ASSERT_CONTAINS(h, "href=\"/?year_from=2021&amp;org_region=Asia&amp;gender=male&amp;nationality=VN\"");
    /* the form shows them selected */
    ASSERT_CONTAINS(h, "name=\"year_from\" min=");
    ASSERT_CONTAINS(h, "value=\"2021\"");
    ASSERT_CONTAINS(h, "<option value=\"male\" selected>");
    ASSERT_CONTAINS(h, "<option value=\"Asia\" selected>");
    ASSERT_CONTAINS(h, "<option value=\"VN\" selected>");
    /* every country-page link keeps them too */
    for (const char *p = strstr(h, "href=\"/country/"); p; p = strstr(p + 1, "href=\"/country/")) {
        const char *e = strchr(p + 6, '"');
        ASSERT_NOT_NULL(e);
        char link[512];
        snprintf(link, sizeof link, "%.*s", (int)(e - p), p);
        ASSERT_CONTAINS(link, "gender=male");
    }
    free(h);
    /* bad values are refused with a sentence */
    sp_err_clear(&x.err);
    ASSERT_EQ(page_filter_set(&pf, x.cb, "org_region", "Atlantis", &x.err), SP_EINPUT);
    ASSERT_CONTAINS(sp_err_last(&x.err), "Atlantis");
    ASSERT(page_filter_set(&pf, x.cb, "gender", "robot", &x.err) != SP_OK);
    ASSERT_EQ(page_filter_set(&pf, x.cb, "colour", "blue", &x.err), SP_EINPUT);
    ASSERT(page_filter_set(&pf, x.cb, "year_from", "19999", &x.err) != SP_OK);
    ASSERT_EQ(page_filter_set(&pf, x.cb, "gender", "", &x.err), SP_OK);          /* clears */
    ASSERT_STR_EQ(pf.gender, "");
    teardown(&x);
}

TEST(page_hostile_names_escaped)
{
    fx x;
    setup(&x, 0, 30, 0);
    char *h = render(&x, NULL, 10, NULL);
    ASSERT(!strstr(h, "<script"));
    ASSERT(!strstr(h, "<img"));
    ASSERT_CONTAINS(h, "&lt;script&gt;alert(&#39;org&#39;)&lt;/script&gt; &amp; &quot;Partners&quot;");
    ASSERT_CONTAINS(h, "&lt;img src=x onerror=alert(1)&gt;KK Park &amp; Co");
    check_svgs(h);
    check_balanced(h);
    /* real data only: no synthetic banner */
    ASSERT(!strstr(h, "id=\"synthetic\""));
    free(h);
    teardown(&x);
}

TEST(page_empty_hub)
{
    fx x;
    setup(&x, 0, 0, 0);
    char *h = render(&x, NULL, 0, NULL);
    ASSERT_CONTAINS(h, "No records yet");
    ASSERT(!strstr(h, "<svg"));
    check_balanced(h);
    free(h);
    teardown(&x);
}

TEST(page_filter_matches_nothing)
{
    fx x;
    setup(&x, 0, 5, 0);
    page_filter pf;
    page_filter_default(&pf);          /* org in TH: Asia; ask for Europe */
    ASSERT_EQ(page_filter_set(&pf, x.cb, "org_region", "Europe", &x.err), SP_OK);
    char *h = render(&x, &pf, 0, NULL);
    ASSERT_CONTAINS(h, "No records match these filters");
    check_balanced(h);
    free(h);
    teardown(&x);
}

TEST(page_threshold_sentence_not_map)
{
    fx x;
    setup(&x, 0, 30, 0);               /* 30 records, all from Laos to Myanmar */
    char *h = render(&x, NULL, 31, NULL);
    ASSERT(!strstr(h, "id=\"fig-route-LA\""));
    ASSERT(!strstr(h, "id=\"fig-dest-MM\""));
    ASSERT_CONTAINS(h, "id=\"routes-LA\" data-country=\"LA\" data-count=\"30\"");
    ASSERT_CONTAINS(h, "id=\"destination-countries-MM\" data-country=\"MM\" data-count=\"30\"");
    ASSERT_CONTAINS(h, "too few for a map");
    free(h);
    h = render(&x, NULL, 30, NULL);
    ASSERT_CONTAINS(h, "id=\"fig-route-LA\"");
    ASSERT_CONTAINS(h, "id=\"fig-dest-MM\"");
    ASSERT(!strstr(h, "id=\"routes-LA\""));
    check_svgs(h);
    free(h);
    /* the country page: same rule */
    h = render(&x, NULL, 31, "LA");
    ASSERT_CONTAINS(h, "id=\"routes-LA\"");
    ASSERT(!strstr(h, "<svg"));
    free(h);
    h = render(&x, NULL, 30, "LA");
    ASSERT_CONTAINS(h, "id=\"fig-route-LA\"");
    check_svgs(h);
    free(h);
    teardown(&x);
}

/* Beside a route map, the provinces of origin of that country: inside the
 * same pair, before the route map, and every row of its table the count the
 * suppressed origins table publishes for that province. */
TEST(page_route_provinces_beside_route)
{
    fx x;
    setup(&x, 3000, 0, 0);
    char *h = render(&x, NULL, 20, NULL);
    page_filter pf;
    page_filter_default(&pf);
    pf.region[0] = '\0';
    stats_filter sf;
    stats_filter_init(&sf);
    ASSERT_EQ(page_filter_stats(&pf, x.cb, &sf, &x.err), SP_OK);
    stats_table *t = NULL;
    ASSERT_EQ(stats_compute(x.st, x.cb, "origins", &sf.f, NULL, &t, &x.err), SP_OK);
    int kk = 0;
    ASSERT_EQ(privacy_k(x.st, &kk), SP_OK);
    ASSERT_EQ(privacy_apply_filtered(x.st, x.cb, t, &sf.f, kk, &x.err), SP_OK);
    int c0 = stats_col(t, 0, "code"), c1 = stats_col(t, 1, "code"), n1 = stats_col(t, 1, "count");
    ASSERT(c0 >= 0 && c1 >= 0 && n1 >= 0);
    size_t panels = 0, rows = 0;
    for (const char *p = strstr(h, "id=\"fig-route-"); p; p = strstr(p + 1, "id=\"fig-route-")) {
        char cc[3] = { p[14], p[15], 0 };
        if (strncmp(p + 16, "-provinces\"", 11) != 0) continue;
        panels++;
        /* the pair opens just before the panel (no figure between) and the
         * route map follows it */
        const char *pair = NULL;
        for (const char *q = strstr(h, "<div class=\"map-pair\">"); q && q < p;
             q = strstr(q + 1, "<div class=\"map-pair\">"))
            pair = q;
        ASSERT(pair != NULL);
        const char *fig = strstr(pair, "<figure");
        ASSERT(fig && fig < p);
        const char *next = strstr(fig + 1, "<figure");
        ASSERT(!next || next > p);
        char route[32];
        snprintf(route, sizeof route, "id=\"fig-route-%s\"", cc);
        const char *r = strstr(p, route);
        ASSERT(r != NULL);
        ASSERT_CONTAINS(p, "Provinces of origin in ");
        for (size_t i = 0; i < t->nrows; i++) {
            const stats_cell *a = stats_cell_at(t, i, (size_t)c0), *b = stats_cell_at(t, i, (size_t)c1);
            const stats_cell *n = stats_cell_at(t, i, (size_t)n1);
            if (a->missing || b->missing || strcmp(a->s, cc) != 0) continue;
            char key[32];
            snprintf(key, sizeof key, "%s/%s", cc, b->s);
            if (n->suppressed) {
                if (!data_suppressed(h, "origins", key)) TFAIL("%s: hidden but shown", key);
            } else if (data_count(h, "origins", key) != n->n) {
                TFAIL("%s: page %lld, stats %lld", key, data_count(h, "origins", key), n->n);
            }
            rows++;
        }
    }
    if (panels == 0) TFAIL("no provinces panel beside any route map");
    ASSERT_GE(rows, 3);
    ASSERT_EQ(count_of(h, "<div class=\"map-pair\">"), panels);
    check_svgs(h);
    check_balanced(h);
    stats_table_free(t);
    stats_filter_free(&sf);
    free(h);
    teardown(&x);
}

TEST(extra_ransom_median_and_range)
{
    fx x;
    setup(&x, 0, 0, 15);
    stats_table *t = NULL;
    ASSERT_EQ(stats_extra_compute(x.st, x.cb, "ransom", NULL, &t, &x.err), SP_OK);
    ASSERT_EQ(t->records, 15);
    ASSERT_EQ(t->nrows, 2);
    int code = stats_col(t, 0, "code"), cnt = stats_col(t, 0, "count"),
        med = stats_col(t, 0, "median"), lo = stats_col(t, 0, "min"), hi = stats_col(t, 0, "max");
    ASSERT_STR_EQ(stats_cell_at(t, 0, (size_t)code)->s, "USD");
    ASSERT_EQ(stats_cell_at(t, 0, (size_t)cnt)->n, 12);
    ASSERT_EQ(stats_cell_at(t, 0, (size_t)med)->n, 650);     /* (600 + 700) / 2 */
    ASSERT_EQ(stats_cell_at(t, 0, (size_t)lo)->n, 100);
    ASSERT_EQ(stats_cell_at(t, 0, (size_t)hi)->n, 1200);
    ASSERT_STR_EQ(stats_cell_at(t, 1, (size_t)code)->s, "THB");
    ASSERT_EQ(stats_cell_at(t, 1, (size_t)cnt)->n, 3);
    ASSERT(stats_cell_at(t, 1, (size_t)med)->missing);       /* too few to describe */
    json_t *j = stats_to_json(t);
    ASSERT_NOT_NULL(j);
    ASSERT_EQ(json_integer_value(json_object_get(j, "records")), 15);
    json_decref(j);
    stats_table_free(t);
    /* coverage: 15 records carry a ransom amount, none a gender */
    ASSERT_EQ(stats_extra_compute(x.st, x.cb, "coverage", NULL, &t, &x.err), SP_OK);
    int f = stats_col(t, 0, "field");
    cnt = stats_col(t, 0, "count");
    int seen = 0;
    for (size_t r = 0; r < t->nrows; r++) {
        const char *name = stats_cell_at(t, r, (size_t)f)->s;
        long long n = stats_cell_at(t, r, (size_t)cnt)->n;
        ASSERT_LE(n, t->records);
        if (strcmp(name, "ransom_demanded_amount") == 0) { ASSERT_EQ(n, 15); seen |= 1; }
        if (strcmp(name, "gender") == 0) { ASSERT_EQ(n, 0); seen |= 2; }
        ASSERT(strcmp(name, "case_ref") != 0);                /* sensitive: never listed */
    }
    ASSERT_EQ(seen, 3);
    stats_table_free(t);
    ASSERT_EQ(stats_extra_compute(x.st, x.cb, "nope", NULL, &t, &x.err), SP_EUSAGE);
    teardown(&x);
}

TEST(page_csv_matches_table)
{
    fx x;
    setup(&x, 200, 0, 0);
    stats_table *t = NULL;
    ASSERT_EQ(page_table_compute(x.st, x.cb, "gender", NULL, &t, &x.err), SP_OK);
    sp_buf b;
    sp_buf_init(&b, 1 << 20);
    ASSERT_EQ(stats_to_csv(t, &b), SP_OK);
    ASSERT(strncmp(b.data, "code,label,count,share\r\n", 24) == 0);
    ASSERT_EQ(count_of(b.data, "\r\n"), t->nrows + 1);
    sp_buf_free(&b);
    stats_table_free(t);
    teardown(&x);
}

static int file_exists(const char *dir, const char *rel)
{
    char p[512];
    struct stat st;
    snprintf(p, sizeof p, "%s/%s", dir, rel);
    return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

TEST(report_files_and_links)
{
    fx x;
    setup(&x, 800, 0, 0);
    char dir[] = "/tmp/test_report_XXXXXX";
    ASSERT_NOT_NULL(mkdtemp(dir));
    page_filter pf;
    page_filter_default(&pf);
    ASSERT_EQ(report_write(x.st, x.cb, x.gaz, x.geo, &pf, 20, dir, &x.err), SP_OK);
    ASSERT(file_exists(dir, "index.html"));
    ASSERT(file_exists(dir, "app.css"));
    char p[512];
    snprintf(p, sizeof p, "%s/index.html", dir);
    char *h = test_slurp(p, NULL);
    ASSERT_NOT_NULL(h);
    ASSERT(!strstr(h, "href=\"/"));      /* no absolute links */
    ASSERT(!strstr(h, "<form"));
    size_t links = 0;
    for (const char *q = strstr(h, "href=\""); q; q = strstr(q + 1, "href=\"")) {
        const char *s = q + 6, *e = strchr(s, '"');
        ASSERT_NOT_NULL(e);
        if (*s == '#') continue;
        char rel[256];
        snprintf(rel, sizeof rel, "%.*s", (int)(e - s), s);
        if (!file_exists(dir, rel)) TFAIL("link %s has no file", rel);
        links++;
        size_t n = strlen(rel);
        if (n > 5 && strcmp(rel + n - 5, ".json") == 0) {
            snprintf(p, sizeof p, "%s/%s", dir, rel);
            json_error_t je;
            json_t *j = json_load_file(p, 0, &je);
            if (!j) TFAIL("%s: %s", rel, je.text);
            json_decref(j);
        }
        if (n > 4 && strcmp(rel + n - 4, ".svg") == 0) {
            snprintf(p, sizeof p, "%s/%s", dir, rel);
            char *svg = test_slurp(p, NULL);
            ASSERT_NOT_NULL(svg);
            ASSERT_EQ(check_svgs(svg), 1);
            free(svg);
        }
    }
    ASSERT_GE(links, 30);
    free(h);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    ASSERT_EQ(system(cmd), 0);
    teardown(&x);
}

TEST_LIST(page_sections_and_wellformed, page_numbers_equal_stats, page_filter_links_keep_filters,
          page_hostile_names_escaped, page_empty_hub, page_filter_matches_nothing,
          page_threshold_sentence_not_map, page_route_provinces_beside_route, extra_ransom_median_and_range, page_csv_matches_table,
          report_files_and_links)
