/* test_stats.c -- the aggregate tables against a small hand-made hub.
 *
 * Every expected number is computed here by looping over the specs below
 * (or written beside them, for the age bands), never by calling stats. */
#include "stats.h"
#include "test.h"

#include <jansson.h>

/* One hand-made record. NULL: missing. Multiple values are ";"-joined.
 * dest: up to two places of exploitation (country, province, locality);
 * the last one with a country is the final destination. */
typedef struct spec {
    int org;                   /* 0: Asian org (TH), 1: European org (DE) */
    int synthetic;
    const char *year, *gender, *age, *nat, *oc, *op, *ind, *method, *plat, *ctrl;
    const char *dest[2][3];
    const char *band_def, *band_ctdc;   /* expected age band, by hand */
} spec;

static const spec S[] = {
    { 0, 0, "2022", "female", "25", "VN", "VN", "VN-HN", "online_scam", "social_media",
      "facebook;telegram", "debt_bondage;confinement",
      { { "TH", "TH-10", NULL }, { "MM", "MM-13", "KK Park" } }, "25-34", "24-26" },
    { 0, 0, "2022", "male", "18--20", "VN", "VN", "VN-HN", "online_scam", "online_job_ad",
      "facebook", "confinement", { { "MM", "MM-13", "KK Park" } }, "18-24", "18-20" },
    { 0, 0, "2022", "male", "30--38", "VN", "VN", NULL, "online_scam", "friend", NULL, NULL,
      { { "KH", "KH-18", "Sihanoukville" } }, "unknown", "30-38" },
    { 0, 0, "2023", "female", "9--17", "ID", "ID", "ID-JK", "online_scam", "social_media",
      "telegram;whatsapp", "threats", { { "KH", "KH-18", "Sihanoukville" } }, "<18", "9-17" },
    { 0, 0, "2023", NULL, "48+", "ID", "ID", "ID-JB", "sexual_exploitation", NULL, NULL,
      "debt_bondage", { { "MM", "MM-17", NULL } }, "unknown", "48+" },
    { 0, 0, "2023", "male", "60", "KE", "KE", "KE-30", "online_scam", "broker", "job_website",
      "documents_confiscated;confinement;physical_violence",
      { { "LA", "LA-BK", "Golden Triangle SEZ" } }, "55+", "48+" },
    { 0, 0, "2023", "female", NULL, "VN", "VN", "VN-SG", NULL, "family", "zalo", NULL,
      { { NULL } }, "unknown", "unknown" },
    { 0, 0, "2024", "male", "<18", NULL, NULL, NULL, "labour_fishing", "unknown", NULL,
      "wages_withheld", { { "TH", NULL, NULL } }, "<18", "unknown" },
    { 1, 1, "2022", "female", "19-26", "PH", "PH", "PH-00", "online_scam", "social_media",
      "facebook", "confinement", { { "MM", "MM-13", "KK Park" } }, "unknown", "unknown" },
    { 1, 1, "2024", "transgender", "35", "VN", "VN", "VN-HN", "online_scam", "social_media",
      "tiktok;facebook", "ransom;sold", { { "KH", "KH-18", NULL } }, "35-44", "30-38" },
    { 1, 0, "2024", "male", "45-54", "VN", "VN", "VN-44", "unknown", "other", "other", "other",
      { { "MM", "MM-13", "Shwe Kokko" } }, "45-54", "unknown" },
    { 0, 0, "2024", "male", "8", "CN", "CN", "CN-YN", "online_scam", "online_job_ad", "wechat",
      "confinement;quotas_penalties", { { "MM", "MM-17", NULL }, { "KH", NULL, NULL } },
      "<18", "0-8" },
    { 0, 0, NULL, "female", "22", "TH", "TH", "TH-10", "online_scam", "social_media", "line",
      "threats", { { "MM", "MM-13", "KK Park" } }, "18-24", "21-23" },
};
#define NS (sizeof S / sizeof S[0])

/* ---------------------------------------------------------------- fixture */

typedef struct fx {
    sp_gazetteer *gaz;
    sp_codebook *cb;
    sp_store *st;
    char path[64];
    sp_err err;
} fx;

static int streq0(const char *a, const char *b)
{
    if (!a || !b) return a == b;
    return strcmp(a, b) == 0;
}

/* Parses raw for field f and adds it (each ";"-part for a multiple field). */
static void put(fx *x, sp_record *r, const char *name, const char *raw)
{
    if (!raw) return;
    const cb_field *f = codebook_field(x->cb, name);
    if (!f) TFAIL("no field %s", name);
    const char *country = NULL;
    if (f->country_field) {
        const cb_field *cf = codebook_field(x->cb, f->country_field);
        const cb_cell *cc = cf ? record_get(r, cf->index) : NULL;
        country = cc ? cc->text : NULL;
    }
    const char *p = raw;
    while (*p) {
        const char *e = f->multiple ? strchr(p, ';') : NULL;
        size_t n = e ? (size_t)(e - p) : strlen(p);
        cb_cell c;
        memset(&c, 0, sizeof c);
        const char *rule = NULL, *why = NULL;
        if (codebook_parse(x->cb, f, p, n, country, &c, &r->arena, &rule, &why) != 0)
            TFAIL("%s=%.*s: %s", name, (int)n, p, why ? why : "?");
        ASSERT_EQ(record_add(r, f->index, &c), SP_OK);
        p += n;
        if (*p == ';') p++;
    }
}

static void put_place(fx *x, sp_record *r, size_t row, const char *const d[3])
{
    const cb_field *g = codebook_field(x->cb, "exploitation");
    ASSERT_NOT_NULL(g);
    const char *names[3] = { "country", "province", "locality" };
    const char *country = NULL;
    for (int k = 0; k < 3; k++) {
        if (!d[k]) continue;
        const cb_field *sub = codebook_subfield(g, names[k]);
        ASSERT_NOT_NULL(sub);
        cb_cell *c = record_group_cell(r, g->index, row, sub->index);
        ASSERT_NOT_NULL(c);
        const char *rule = NULL, *why = NULL;
        if (codebook_parse(x->cb, sub, d[k], strlen(d[k]), k == 1 ? country : NULL, c,
                           &r->arena, &rule, &why) != 0)
            TFAIL("exploitation.%s=%s: %s", names[k], d[k], why ? why : "?");
        if (k == 0) country = c->text;
    }
}

static void setup(fx *x)
{
    memset(x, 0, sizeof *x);
    sp_err_init(&x->err);
    if (gazetteer_load(&x->gaz, NULL, &x->err) != SP_OK) { sp_err_print(&x->err, stderr); TFAIL("gazetteer"); }
    if (codebook_load_default(&x->cb, x->gaz, &x->err) != SP_OK) { sp_err_print(&x->err, stderr); TFAIL("codebook"); }
    snprintf(x->path, sizeof x->path, "/tmp/test_stats_XXXXXX");
    int fd = mkstemp(x->path);
    ASSERT(fd >= 0);
    close(fd);
    if (store_open(&x->st, x->path, x->cb, 1, &x->err) != SP_OK) { sp_err_print(&x->err, stderr); TFAIL("store_open"); }
    long long org[2], sub[2];
    ASSERT_EQ(store_org_add(x->st, "Asia Org", "TH", &org[0]), SP_OK);
    ASSERT_EQ(store_org_add(x->st, "Europe Org", "DE", &org[1]), SP_OK);
    ASSERT_EQ(store_submission_add(x->st, org[0], "a.csv", "aa", 0, &sub[0]), SP_OK);
    ASSERT_EQ(store_submission_add(x->st, org[1], "b.csv", "bb", 1, &sub[1]), SP_OK);
    ASSERT_EQ(store_begin(x->st), SP_OK);
    sp_record r;
    record_init(&r, x->cb);
    for (size_t i = 0; i < NS; i++) {
        const spec *s = &S[i];
        char ref[16];
        record_reset(&r);
        snprintf(ref, sizeof ref, "C%zu", i);
        put(x, &r, "case_ref", ref);
        put(x, &r, "year_identified", s->year);
        put(x, &r, "gender", s->gender);
        put(x, &r, "age", s->age);
        put(x, &r, "nationality", s->nat);
        put(x, &r, "origin_country", s->oc);
        put(x, &r, "origin_province", s->op);
        put(x, &r, "industry", s->ind);
        put(x, &r, "recruitment_method", s->method);
        put(x, &r, "recruitment_platform", s->plat);
        put(x, &r, "control_means", s->ctrl);
        for (size_t k = 0; k < 2; k++)
            if (s->dest[k][0]) put_place(x, &r, k, s->dest[k]);
        long long id;
        int rc = store_record_add(x->st, sub[s->org], org[s->org], &r, s->synthetic, &id);
        if (rc) TFAIL("record %zu: %s", i, store_errmsg(x->st));
    }
    record_free(&r);
    ASSERT_EQ(store_commit(x->st), SP_OK);
}

static void teardown(fx *x)
{
    char p[96];
    store_close(x->st);
    codebook_free(x->cb);
    gazetteer_free(x->gaz);
    sp_err_free(&x->err);
    unlink(x->path);
    snprintf(p, sizeof p, "%s-wal", x->path);
    unlink(p);
    snprintf(p, sizeof p, "%s-shm", x->path);
    unlink(p);
}

static stats_table *compute(fx *x, const char *name, const sp_filter *f, stats_bands b)
{
    stats_opts o = { b };
    stats_table *t = NULL;
    int rc = stats_compute(x->st, x->cb, name, f, &o, &t, &x->err);
    if (rc) { sp_err_print(&x->err, stderr); TFAIL("stats_compute %s: %d", name, rc); }
    ASSERT_NOT_NULL(t);
    return t;
}

static const char *txt(const stats_table *t, size_t r, int level, const char *col)
{
    int c = stats_col(t, level, col);
    if (c < 0) TFAIL("no column %s at level %d in %s", col, level, t->name);
    const stats_cell *x = stats_cell_at(t, r, (size_t)c);
    return x->missing ? NULL : x->s;
}
static long long num(const stats_table *t, size_t r, int level, const char *col)
{
    int c = stats_col(t, level, col);
    if (c < 0) TFAIL("no column %s at level %d in %s", col, level, t->name);
    const stats_cell *x = stats_cell_at(t, r, (size_t)c);
    if (x->missing) TFAIL("%s row %zu %s is missing", t->name, r, col);
    return x->n;
}
static double shr(const stats_table *t, size_t r, int level, const char *col)
{
    int c = stats_col(t, level, col);
    if (c < 0) TFAIL("no column %s", col);
    const stats_cell *x = stats_cell_at(t, r, (size_t)c);
    if (x->missing) TFAIL("%s row %zu %s is missing", t->name, r, col);
    return x->share;
}

/* The final destination of spec s: its last place (k) with a country. */
static const char *const *final_dest(const spec *s)
{
    static const char *const none[3] = { NULL, NULL, NULL };
    for (int k = 1; k >= 0; k--)
        if (s->dest[k][0]) return s->dest[k];
    return none;
}

/* Does value v appear in the ";"-joined list? */
static int in_list(const char *list, const char *v)
{
    if (!list) return 0;
    size_t n = strlen(v);
    for (const char *p = list; *p;) {
        const char *e = strchr(p, ';');
        size_t k = e ? (size_t)(e - p) : strlen(p);
        if (k == n && strncmp(p, v, n) == 0) return 1;
        p += k;
        if (*p == ';') p++;
    }
    return 0;
}

/* ------------------------------------------------------------------ tests */

TEST(stats_names_and_unknown_table)
{
    fx x;
    setup(&x);
    size_t n = 0;
    const char *const *names = stats_table_names(&n);
    ASSERT_EQ(n, 9);
    ASSERT_STR_EQ(names[0], "industries-by-year");
    for (size_t i = 0; i < n; i++) {
        stats_table *t = compute(&x, names[i], NULL, STATS_BANDS_DEFAULT);
        ASSERT_STR_EQ(t->name, names[i]);
        ASSERT_EQ(t->records, NS);
        stats_table_free(t);
    }
    stats_table *t = (stats_table *)1;
    ASSERT_EQ(stats_compute(x.st, x.cb, "industry", NULL, NULL, &t, &x.err), SP_EUSAGE);
    ASSERT_NULL(t);
    ASSERT_CONTAINS(sp_err_last(&x.err), "unknown table 'industry'");
    ASSERT_CONTAINS(sp_err_last(&x.err), "industries-by-year");
    ASSERT_CONTAINS(sp_err_last(&x.err), "control");
    teardown(&x);
}

TEST(stats_industries_by_year)
{
    fx x;
    setup(&x);
    stats_table *t = compute(&x, "industries-by-year", NULL, STATS_BANDS_DEFAULT);
    const cb_field *fi = codebook_field(x.cb, "industry");
    size_t nind = 0;
    for (size_t i = 0; i < fi->nvalues; i++) nind += !fi->values[i].deprecated;
    /* years 2022, 2023, 2024 and missing: every industry listed once each */
    ASSERT_EQ(t->nrows, 4 * nind);
    const char *years[4] = { "2022", "2023", "2024", NULL };
    size_t r = 0;
    for (int y = 0; y < 4; y++) {
        long long total = 0;
        for (size_t i = 0; i < NS; i++) total += streq0(S[i].year, years[y]);
        double sum = 0;
        for (size_t k = 0; k < nind; k++, r++) {
            if (years[y]) ASSERT_EQ(num(t, r, 0, "year"), atoi(years[y]));
            else ASSERT(stats_cell_at(t, r, (size_t)stats_col(t, 0, "year"))->missing);
            ASSERT_EQ(num(t, r, 0, "total"), total);
            const char *code = txt(t, r, 1, "code");
            ASSERT_STR_EQ(code, fi->values[k].code);
            ASSERT_STR_EQ(txt(t, r, 1, "label"), fi->values[k].label);
            long long want = 0;
            for (size_t i = 0; i < NS; i++)
                if (streq0(S[i].year, years[y]) && strcmp(S[i].ind ? S[i].ind : "unknown", code) == 0)
                    want++;
            ASSERT_EQ(num(t, r, 1, "count"), want);
            ASSERT_DBL_EQ(shr(t, r, 1, "share"), (double)want / (double)total, 1e-12);
            sum += shr(t, r, 1, "share");
        }
        ASSERT_DBL_EQ(sum, 1.0, 1e-9);
    }
    /* 2023 has one record without industry: it is "unknown" */
    ASSERT_EQ(t->records, NS);
    stats_table_free(t);
    teardown(&x);
}

/* Checks a two- or three-level place table against counts by loop. */
TEST(stats_origins)
{
    fx x;
    setup(&x);
    stats_table *t = compute(&x, "origins", NULL, STATS_BANDS_DEFAULT);
    long long sum = 0;
    for (size_t r = 0; r < t->nrows; r++) {
        const char *c = txt(t, r, 0, "code"), *p = txt(t, r, 1, "code");
        long long wc = 0, wp = 0;
        for (size_t i = 0; i < NS; i++) {
            wc += streq0(S[i].oc, c);
            wp += streq0(S[i].oc, c) && streq0(S[i].op, p);
        }
        ASSERT_EQ(num(t, r, 0, "count"), wc);
        ASSERT_EQ(num(t, r, 1, "count"), wp);
        ASSERT(wp > 0);
        if (!p) ASSERT_STR_EQ(txt(t, r, 1, "name"), "(province not recorded)");
        if (!c) ASSERT_STR_EQ(txt(t, r, 0, "name"), "(country not recorded)");
        /* rows of one country adjacent, bigger countries first, missing last */
        if (r > 0 && !streq0(txt(t, r - 1, 0, "code"), c)) {
            for (size_t q = r; q < t->nrows; q++)
                ASSERT(!streq0(txt(t, q, 0, "code"), txt(t, r - 1, 0, "code")));
            if (c) ASSERT_GE(num(t, r - 1, 0, "count"), wc);
        }
        sum += wp;
    }
    ASSERT_EQ(sum, NS);
    /* VN: 6 records (3 from Hà Nội) first, with names from the gazetteer */
    ASSERT_STR_EQ(txt(t, 0, 0, "code"), "VN");
    ASSERT_EQ(num(t, 0, 0, "count"), 6);
    ASSERT_STR_EQ(txt(t, 0, 1, "code"), "VN-HN");
    ASSERT_STR_EQ(txt(t, 0, 1, "name"), "H\xc3\xa0 N\xe1\xbb\x99i");
    ASSERT_EQ(num(t, 0, 1, "count"), 3);
    ASSERT_STR_EQ(txt(t, t->nrows - 1, 0, "name"), "(country not recorded)");
    stats_table_free(t);
    teardown(&x);
}

TEST(stats_destinations)
{
    fx x;
    setup(&x);
    stats_table *t = compute(&x, "destinations", NULL, STATS_BANDS_DEFAULT);
    long long sum = 0;
    size_t distinct = 0;
    for (size_t i = 0; i < NS; i++) {
        int seen = 0;
        for (size_t j = 0; j < i; j++) {
            const char *const *a = final_dest(&S[i]), *const *b = final_dest(&S[j]);
            seen |= streq0(a[0], b[0]) && streq0(a[1], b[1]) && streq0(a[2], b[2]);
        }
        distinct += !seen;
    }
    ASSERT_EQ(t->nrows, distinct);
    for (size_t r = 0; r < t->nrows; r++) {
        const char *c = txt(t, r, 0, "code"), *p = txt(t, r, 1, "code"),
                   *l = txt(t, r, 2, "locality");
        long long wc = 0, wp = 0, wl = 0;
        for (size_t i = 0; i < NS; i++) {
            const char *const *d = final_dest(&S[i]);
            wc += streq0(d[0], c);
            wp += streq0(d[0], c) && streq0(d[1], p);
            wl += streq0(d[0], c) && streq0(d[1], p) && streq0(d[2], l);
        }
        ASSERT_EQ(num(t, r, 0, "count"), wc);
        ASSERT_EQ(num(t, r, 1, "count"), wp);
        ASSERT_EQ(num(t, r, 2, "count"), wl);
        if (!l) ASSERT_STR_EQ(txt(t, r, 2, "name"), "(locality not recorded)");
        sum += wl;
    }
    ASSERT_EQ(sum, NS);
    /* MM first (6 final destinations), Kayin with KK Park (4) first */
    long long kk = 0;
    for (size_t i = 0; i < NS; i++) kk += streq0(final_dest(&S[i])[2], "KK Park");
    ASSERT_EQ(kk, 4);
    ASSERT_STR_EQ(txt(t, 0, 0, "code"), "MM");
    ASSERT_EQ(num(t, 0, 0, "count"), 6);
    ASSERT_STR_EQ(txt(t, 0, 1, "name"), "Kayin");
    ASSERT_STR_EQ(txt(t, 0, 2, "locality"), "KK Park");
    ASSERT_EQ(num(t, 0, 2, "count"), kk);
    stats_table_free(t);
    teardown(&x);
}

TEST(stats_flows)
{
    fx x;
    setup(&x);
    stats_table *t = compute(&x, "flows", NULL, STATS_BANDS_DEFAULT);
    long long sum = 0;
    for (size_t r = 0; r < t->nrows; r++) {
        long long w = 0;
        for (size_t i = 0; i < NS; i++) {
            const char *const *d = final_dest(&S[i]);
            w += streq0(S[i].oc, txt(t, r, 0, "from_country")) &&
                 streq0(S[i].op, txt(t, r, 0, "from_province")) &&
                 streq0(d[0], txt(t, r, 0, "to_country")) &&
                 streq0(d[1], txt(t, r, 0, "to_province"));
        }
        ASSERT_EQ(num(t, r, 0, "count"), w);
        ASSERT(w > 0);
        ASSERT_DBL_EQ(shr(t, r, 0, "share"), (double)w / NS, 1e-12);
        if (r) ASSERT_GE(num(t, r - 1, 0, "count"), w);
        sum += w;
    }
    ASSERT_EQ(sum, NS);
    /* VN-HN -> MM-13 twice (records 0 and 1) is the biggest flow */
    ASSERT_STR_EQ(txt(t, 0, 0, "from_province"), "VN-HN");
    ASSERT_STR_EQ(txt(t, 0, 0, "to_province"), "MM-13");
    ASSERT_STR_EQ(txt(t, 0, 0, "to_country_name"), "Myanmar");
    ASSERT_EQ(num(t, 0, 0, "count"), 2);
    stats_table_free(t);
    teardown(&x);
}

TEST(stats_nationality_and_gender)
{
    fx x;
    setup(&x);
    stats_table *t = compute(&x, "nationality", NULL, STATS_BANDS_DEFAULT);
    long long sum = 0;
    for (size_t r = 0; r < t->nrows; r++) {
        const char *c = txt(t, r, 0, "code");
        long long w = 0;
        for (size_t i = 0; i < NS; i++) w += streq0(S[i].nat, c);
        ASSERT_EQ(num(t, r, 0, "count"), w);
        if (r && c) ASSERT_GE(num(t, r - 1, 0, "count"), w);
        if (r + 1 < t->nrows) ASSERT_NOT_NULL(c);     /* missing last */
        sum += w;
    }
    ASSERT_EQ(sum, NS);
    ASSERT_STR_EQ(txt(t, 0, 0, "code"), "VN");
    ASSERT_STR_EQ(txt(t, t->nrows - 1, 0, "name"), "(not recorded)");
    stats_table_free(t);

    t = compute(&x, "gender", NULL, STATS_BANDS_DEFAULT);
    const cb_field *g = codebook_field(x.cb, "gender");
    ASSERT_EQ(t->nrows, g->nvalues);
    for (size_t r = 0; r < t->nrows; r++) {
        ASSERT_STR_EQ(txt(t, r, 0, "code"), g->values[r].code);
        ASSERT_STR_EQ(txt(t, r, 0, "label"), g->values[r].label);
        long long w = 0;
        for (size_t i = 0; i < NS; i++)
            w += strcmp(S[i].gender ? S[i].gender : "unknown", g->values[r].code) == 0;
        ASSERT_EQ(num(t, r, 0, "count"), w);
        ASSERT_DBL_EQ(shr(t, r, 0, "share"), (double)w / NS, 1e-12);
    }
    stats_table_free(t);
    teardown(&x);
}

static void check_age(fx *x, stats_bands b, const char *const *labels, size_t nl)
{
    stats_table *t = compute(x, "age", NULL, b);
    ASSERT_EQ(t->nrows, nl);
    ASSERT_STR_EQ(t->bands, b == STATS_BANDS_CTDC ? "ctdc" : "default");
    long long sum = 0;
    for (size_t r = 0; r < nl; r++) {
        ASSERT_STR_EQ(txt(t, r, 0, "band"), labels[r]);
        long long w = 0;
        for (size_t i = 0; i < NS; i++)
            w += strcmp(b == STATS_BANDS_CTDC ? S[i].band_ctdc : S[i].band_def, labels[r]) == 0;
        if (num(t, r, 0, "count") != w) TFAIL("band %s: %lld != %lld", labels[r], num(t, r, 0, "count"), w);
        sum += w;
    }
    ASSERT_EQ(sum, NS);
    /* open band: hi is null */
    ASSERT(stats_cell_at(t, nl - 2, (size_t)stats_col(t, 0, "hi"))->missing);
    ASSERT_EQ(num(t, 0, 0, "lo"), 0);
    stats_table_free(t);
}

TEST(stats_age_bands)
{
    fx x;
    setup(&x);
    static const char *const def[] = { "<18", "18-24", "25-34", "35-44", "45-54", "55+", "unknown" };
    static const char *const ctdc[] = { "0-8", "9-17", "18-20", "21-23", "24-26", "27-29",
                                        "30-38", "39-47", "48+", "unknown" };
    check_age(&x, STATS_BANDS_DEFAULT, def, 7);
    check_age(&x, STATS_BANDS_CTDC, ctdc, 10);
    /* the rules by name: 30--38 straddles 25-34/35-44 -> unknown (default);
     * 48+ is open and fits only an open band; 9--17 fits <18 */
    stats_table *t = compute(&x, "age", NULL, STATS_BANDS_DEFAULT);
    ASSERT_EQ(num(t, 6, 0, "count"), 4);  /* 30--38, 48+, missing, 19-26 */
    ASSERT_EQ(num(t, 0, 0, "count"), 3);  /* 9--17, <18, 8 */
    ASSERT_EQ(num(t, 5, 0, "count"), 1);  /* 60 */
    ASSERT_CONTAINS(t->notes[0], "never guess");
    stats_table_free(t);
    stats_bands b;
    ASSERT_EQ(stats_bands_parse("CTDC", &b), SP_OK);
    ASSERT_EQ(b, STATS_BANDS_CTDC);
    ASSERT_EQ(stats_bands_parse("decades", &b), SP_EUSAGE);
    teardown(&x);
}

TEST(stats_recruitment_and_control)
{
    fx x;
    setup(&x);
    stats_table *t = compute(&x, "recruitment", NULL, STATS_BANDS_DEFAULT);
    ASSERT_STR_EQ(t->counts, "mixed");
    const cb_field *fm = codebook_field(x.cb, "recruitment_method");
    const cb_field *fp = codebook_field(x.cb, "recruitment_platform");
    size_t r = 0;
    for (size_t k = 0; k < fm->nvalues; k++, r++) {
        ASSERT_STR_EQ(txt(t, r, 0, "field"), "recruitment_method");
        ASSERT_STR_EQ(txt(t, r, 0, "counts"), "records");
        ASSERT_STR_EQ(txt(t, r, 1, "code"), fm->values[k].code);
        long long w = 0;
        for (size_t i = 0; i < NS; i++)
            w += strcmp(S[i].method ? S[i].method : "unknown", fm->values[k].code) == 0;
        ASSERT_EQ(num(t, r, 1, "count"), w);
    }
    long long mentions = 0, none = 0;
    for (size_t k = 0; k < fp->nvalues; k++, r++) {
        ASSERT_STR_EQ(txt(t, r, 0, "field"), "recruitment_platform");
        ASSERT_STR_EQ(txt(t, r, 0, "counts"), "mentions");
        ASSERT_STR_EQ(txt(t, r, 1, "code"), fp->values[k].code);
        long long w = 0;
        for (size_t i = 0; i < NS; i++) w += in_list(S[i].plat, fp->values[k].code);
        ASSERT_EQ(num(t, r, 1, "count"), w);
        ASSERT_DBL_EQ(shr(t, r, 1, "share"), (double)w / NS, 1e-12);
        mentions += w;
    }
    for (size_t i = 0; i < NS; i++) none += S[i].plat == NULL;
    ASSERT_EQ(r + 1, t->nrows);
    ASSERT_NULL(txt(t, r, 1, "code"));
    ASSERT_STR_EQ(txt(t, r, 1, "label"), "(none recorded)");
    ASSERT_EQ(num(t, r, 1, "count"), none);
    ASSERT(mentions > (long long)NS - none);   /* mentions, not records */
    stats_table_free(t);

    t = compute(&x, "control", NULL, STATS_BANDS_DEFAULT);
    ASSERT_STR_EQ(t->counts, "mentions");
    const cb_field *fc = codebook_field(x.cb, "control_means");
    for (r = 0; r < fc->nvalues; r++) {
        long long w = 0;
        for (size_t i = 0; i < NS; i++) w += in_list(S[i].ctrl, fc->values[r].code);
        ASSERT_STR_EQ(txt(t, r, 0, "code"), fc->values[r].code);
        ASSERT_EQ(num(t, r, 0, "count"), w);
    }
    ASSERT_STR_EQ(txt(t, r, 0, "label"), "(none recorded)");
    ASSERT_EQ(num(t, r, 0, "count"), 2);
    int mention_note = 0;
    for (size_t i = 0; i < t->nnotes; i++) mention_note |= strstr(t->notes[i], "mentions") != NULL;
    ASSERT(mention_note);
    stats_table_free(t);
    teardown(&x);
}

/* Parses filter args; returns the rc and leaves the error in x->err. */
static int filt(fx *x, stats_filter *sf, int argc, char **argv)
{
    stats_filter_init(sf);
    return stats_filter_parse(sf, x->cb, argc, argv, &x->err);
}

TEST(stats_filters)
{
    fx x;
    setup(&x);
    stats_filter sf;
    stats_table *t;

    /* year range */
    char *a1[] = { "--year-from", "2023", "--year-to=2024" };
    ASSERT_EQ(filt(&x, &sf, 3, a1), SP_OK);
    ASSERT_EQ(sf.f.year_from, 2023);
    ASSERT_EQ(sf.f.year_to, 2024);
    t = compute(&x, "gender", &sf.f, STATS_BANDS_DEFAULT);
    long long w = 0, wf = 0;
    for (size_t i = 0; i < NS; i++)
        if (S[i].year && atoi(S[i].year) >= 2023) {
            w++;
            wf += streq0(S[i].gender, "female");
        }
    ASSERT_EQ(t->records, w);
    ASSERT_EQ(num(t, 0, 0, "count"), wf);
    ASSERT_EQ(t->filter.year_from, 2023);
    stats_table_free(t);
    stats_filter_free(&sf);

    /* region of the reporting organisation */
    char *a2[] = { "--org-region", "asia" };
    ASSERT_EQ(filt(&x, &sf, 2, a2), SP_OK);
    ASSERT_STR_EQ(sf.f.org_region, "Asia");
    t = compute(&x, "nationality", &sf.f, STATS_BANDS_DEFAULT);
    w = 0;
    for (size_t i = 0; i < NS; i++) w += S[i].org == 0;
    ASSERT_EQ(t->records, w);
    ASSERT_EQ(t->synthetic, 0);
    stats_table_free(t);
    stats_filter_free(&sf);
    t = compute(&x, "nationality", NULL, STATS_BANDS_DEFAULT);
    ASSERT_EQ(t->synthetic, 1);
    stats_table_free(t);

    /* where on a single field, normalised: "gender=Male" */
    char *a3[] = { "--where", "gender=Male" };
    ASSERT_EQ(filt(&x, &sf, 2, a3), SP_OK);
    ASSERT_EQ(sf.f.nwhere, 1);
    ASSERT_STR_EQ(sf.f.where[0].field, "gender");
    ASSERT_STR_EQ(sf.f.where[0].value, "male");
    t = compute(&x, "age", &sf.f, STATS_BANDS_DEFAULT);
    w = 0;
    for (size_t i = 0; i < NS; i++) w += streq0(S[i].gender, "male");
    ASSERT_EQ(t->records, w);
    stats_table_free(t);
    stats_filter_free(&sf);

    /* where on a multiple field and on a group field (any place), combined
     * with a country given by name */
    char *a4[] = { "--where=control_means=Confined", "--where", "exploitation.country=Myanmar",
                   "--where", "nationality = Viet Nam" };
    ASSERT_EQ(filt(&x, &sf, 5, a4), SP_OK);
    ASSERT_STR_EQ(sf.f.where[0].value, "confinement");
    ASSERT_STR_EQ(sf.f.where[1].field, "exploitation.country");
    ASSERT_STR_EQ(sf.f.where[1].value, "MM");
    ASSERT_STR_EQ(sf.f.where[2].value, "VN");
    t = compute(&x, "origins", &sf.f, STATS_BANDS_DEFAULT);
    w = 0;
    for (size_t i = 0; i < NS; i++)
        w += in_list(S[i].ctrl, "confinement") && streq0(S[i].nat, "VN") &&
             (streq0(S[i].dest[0][0], "MM") || streq0(S[i].dest[1][0], "MM"));
    ASSERT_EQ(w, 2);
    ASSERT_EQ(t->records, w);
    ASSERT_EQ(t->filter.nwhere, 3);
    stats_table_free(t);
    stats_filter_free(&sf);

    /* the any-row group filter keeps record 11, whose final place is KH */
    char *a5[] = { "--where", "exploitation.country=MM" };
    ASSERT_EQ(filt(&x, &sf, 2, a5), SP_OK);
    t = compute(&x, "destinations", &sf.f, STATS_BANDS_DEFAULT);
    w = 0;
    for (size_t i = 0; i < NS; i++)
        w += streq0(S[i].dest[0][0], "MM") || streq0(S[i].dest[1][0], "MM");
    ASSERT_EQ(t->records, w);
    ASSERT_STR_EQ(txt(t, t->nrows - 1, 0, "code"), "KH");
    stats_table_free(t);
    stats_filter_free(&sf);

    /* key/value form, as the API gives it */
    stats_filter_init(&sf);
    ASSERT_EQ(stats_filter_set(&sf, x.cb, "year_to", "2022", &x.err), SP_OK);
    ASSERT_EQ(stats_filter_set(&sf, x.cb, "where", "recruitment_platform=fb", &x.err), SP_OK);
    t = compute(&x, "control", &sf.f, STATS_BANDS_DEFAULT);
    w = 0;
    for (size_t i = 0; i < NS; i++)
        w += S[i].year && atoi(S[i].year) <= 2022 && in_list(S[i].plat, "facebook");
    ASSERT_EQ(t->records, w);
    stats_table_free(t);
    stats_filter_free(&sf);
    teardown(&x);
}

static void expect_filter_error(fx *x, int argc, char **argv, const char *needle)
{
    stats_filter sf;
    sp_err_clear(&x->err);
    int rc = filt(x, &sf, argc, argv);
    if (rc == SP_OK) TFAIL("filter %s %s accepted", argv[0], argc > 1 ? argv[1] : "");
    ASSERT_CONTAINS(sp_err_last(&x->err), needle);
    stats_filter_free(&sf);
}

TEST(stats_filter_errors)
{
    fx x;
    setup(&x);
    char *e1[] = { "--where", "colour=red" };
    expect_filter_error(&x, 2, e1, "unknown field 'colour'");
    char *e2[] = { "--where", "gender=purple" };
    expect_filter_error(&x, 2, e2, "bad value for gender");
    char *e3[] = { "--org-region", "Atlantis" };
    expect_filter_error(&x, 2, e3, "unknown region 'Atlantis'");
    char *e4[] = { "--year-from", "abc" };
    expect_filter_error(&x, 2, e4, "--year-from needs a year");
    char *e5[] = { "--where", "exploitation=MM" };
    expect_filter_error(&x, 2, e5, "is a group");
    char *e6[] = { "--where", "promised_job=driver" };
    expect_filter_error(&x, 2, e6, "sensitive");
    char *e7[] = { "--where", "gender" };
    expect_filter_error(&x, 2, e7, "FIELD=VALUE");
    char *e8[] = { "--colour", "red" };
    expect_filter_error(&x, 2, e8, "unknown filter option '--colour'");
    char *e9[] = { "--where" };
    expect_filter_error(&x, 1, e9, "needs a value");
    char *e10[] = { "--where", "exploitation.colour=red" };
    expect_filter_error(&x, 2, e10, "the fields of exploitation are");
    char *e11[] = { "--year-from", "2024", "--year-to", "2022" };
    expect_filter_error(&x, 4, e11, "after --year-to");
    char *e12[] = { "--where", "indicators.type=phone" };
    expect_filter_error(&x, 2, e12, "sensitive");
    char *e13[] = { "--where", "nationality=Atlantis" };
    expect_filter_error(&x, 2, e13, "bad value for nationality");
    ASSERT_EQ(stats_filter_is_option("--where"), 2);
    ASSERT_EQ(stats_filter_is_option("--year-to=2020"), 1);
    ASSERT_EQ(stats_filter_is_option("--db"), 0);
    teardown(&x);
}

/* Prints into memory. */
static char *print_mem(const stats_table *t, int json)
{
    char *buf = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&buf, &n);
    ASSERT_NOT_NULL(f);
    ASSERT_EQ(json ? stats_print_json(t, f) : stats_print_text(t, f), SP_OK);
    fclose(f);
    return buf;
}

static json_t *get(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    if (!v) TFAIL("JSON has no key '%s'", k);
    return v;
}

TEST(stats_json_shape)
{
    fx x;
    setup(&x);
    stats_filter sf;
    char *a[] = { "--year-from", "2022", "--where", "gender=Female" };
    ASSERT_EQ(filt(&x, &sf, 4, a), SP_OK);
    stats_table *t = compute(&x, "industries-by-year", &sf.f, STATS_BANDS_DEFAULT);
    char *s = print_mem(t, 1);
    json_error_t je;
    json_t *o = json_loads(s, 0, &je);
    if (!o) TFAIL("JSON does not parse: %s: %s", je.text, s);
    ASSERT_STR_EQ(json_string_value(get(o, "table")), "industries-by-year");
    long long w = 0;
    for (size_t i = 0; i < NS; i++) w += S[i].year && streq0(S[i].gender, "female");
    ASSERT_EQ(json_integer_value(get(o, "records")), w);
    ASSERT(json_is_true(get(o, "synthetic")));
    json_t *f = get(o, "filter");
    ASSERT_EQ(json_integer_value(get(f, "year_from")), 2022);
    ASSERT(json_is_null(get(f, "year_to")));
    ASSERT_STR_EQ(json_string_value(json_object_get(json_array_get(get(f, "where"), 0), "value")), "female");
    ASSERT(json_is_array(get(o, "columns")));
    ASSERT(json_is_array(get(o, "notes")));
    json_t *rows = get(o, "rows");
    ASSERT_EQ(json_array_size(rows), 2);          /* 2022, 2023: no woman in 2024 */
    json_t *y0 = json_array_get(rows, 0);
    ASSERT_EQ(json_integer_value(get(y0, "year")), 2022);
    long long tot = 0;
    for (size_t i = 0; i < NS; i++) tot += streq0(S[i].year, "2022") && streq0(S[i].gender, "female");
    ASSERT_EQ(json_integer_value(get(y0, "total")), tot);
    json_t *ind = get(y0, "industries");
    ASSERT(json_array_size(ind) >= 15);
    json_t *i0 = json_array_get(ind, 0);
    ASSERT_STR_EQ(json_string_value(get(i0, "code")), "online_scam");
    ASSERT_STR_EQ(json_string_value(get(i0, "label")), "Online scams and fraud");
    ASSERT_EQ(json_integer_value(get(i0, "count")), tot);
    ASSERT_DBL_EQ(json_number_value(get(i0, "share")), 1.0, 1e-9);
    json_decref(o);
    free(s);
    stats_table_free(t);
    stats_filter_free(&sf);

    /* three levels: destinations -> provinces -> localities */
    t = compute(&x, "destinations", NULL, STATS_BANDS_DEFAULT);
    s = print_mem(t, 1);
    o = json_loads(s, 0, &je);
    ASSERT_NOT_NULL(o);
    json_t *c0 = json_array_get(get(o, "rows"), 0);
    ASSERT_STR_EQ(json_string_value(get(c0, "code")), "MM");
    ASSERT_STR_EQ(json_string_value(get(c0, "name")), "Myanmar");
    long long mm = 0;
    for (size_t i = 0; i < NS; i++) mm += streq0(final_dest(&S[i])[0], "MM");
    ASSERT_EQ(json_integer_value(get(c0, "count")), mm);
    json_t *p0 = json_array_get(get(c0, "provinces"), 0);
    ASSERT_STR_EQ(json_string_value(get(p0, "code")), "MM-13");
    json_t *l0 = json_array_get(get(p0, "localities"), 0);
    ASSERT_STR_EQ(json_string_value(get(l0, "locality")), "KK Park");
    ASSERT_EQ(json_integer_value(get(l0, "count")), 4);
    /* country counts add up to the records */
    long long sum = 0;
    size_t i;
    json_t *v;
    json_array_foreach(get(o, "rows"), i, v) sum += json_integer_value(get(v, "count"));
    ASSERT_EQ(sum, NS);
    json_decref(o);
    free(s);
    stats_table_free(t);

    /* recruitment: two blocks saying what the counts are */
    t = compute(&x, "recruitment", NULL, STATS_BANDS_DEFAULT);
    s = print_mem(t, 1);
    o = json_loads(s, 0, &je);
    ASSERT_NOT_NULL(o);
    ASSERT_STR_EQ(json_string_value(get(o, "counts")), "mixed");
    rows = get(o, "rows");
    ASSERT_EQ(json_array_size(rows), 2);
    ASSERT_STR_EQ(json_string_value(get(json_array_get(rows, 1), "counts")), "mentions");
    ASSERT(json_array_size(get(json_array_get(rows, 1), "values")) >= 9);
    json_decref(o);
    free(s);
    stats_table_free(t);

    /* age: open band has hi null */
    t = compute(&x, "age", NULL, STATS_BANDS_CTDC);
    s = print_mem(t, 1);
    o = json_loads(s, 0, &je);
    ASSERT_NOT_NULL(o);
    ASSERT_STR_EQ(json_string_value(get(o, "bands")), "ctdc");
    json_t *b48 = json_array_get(get(o, "rows"), 8);
    ASSERT_STR_EQ(json_string_value(get(b48, "band")), "48+");
    ASSERT_EQ(json_integer_value(get(b48, "lo")), 48);
    ASSERT(json_is_null(get(b48, "hi")));
    json_decref(o);
    free(s);
    stats_table_free(t);
    teardown(&x);
}

/* Code points in [s, s+n). */
static size_t cps(const char *s, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) k += ((unsigned char)s[i] & 0xC0) != 0x80;
    return k;
}

/* Every row line between the dashes and the blank line has the width of
 * the dash line, counted in code points (the last column is numeric, so
 * right-aligned and padded). Returns the number of rows seen. */
static size_t check_aligned(const char *s)
{
    const char *dash = strstr(s, "\n--");
    ASSERT_NOT_NULL(dash);
    dash++;
    const char *e = strchr(dash, '\n');
    size_t w = cps(dash, (size_t)(e - dash)), rows = 0;
    for (const char *p = e + 1; *p && *p != '\n'; rows++) {
        const char *q = strchr(p, '\n');
        ASSERT_NOT_NULL(q);
        if (cps(p, (size_t)(q - p)) != w) TFAIL("row not aligned: '%.*s' (want %zu)", (int)(q - p), p, w);
        p = q + 1;
    }
    return rows;
}

TEST(stats_text_output)
{
    fx x;
    setup(&x);
    stats_table *t = compute(&x, "origins", NULL, STATS_BANDS_DEFAULT);
    char *s = print_mem(t, 0);
    ASSERT_CONTAINS(s, "Country code");
    ASSERT_CONTAINS(s, "H\xc3\xa0 N\xe1\xbb\x99i");     /* multi-byte names align too */
    ASSERT_CONTAINS(s, "(province not recorded)");
    ASSERT_CONTAINS(s, "Records: 13");
    ASSERT_CONTAINS(s, "Filter: none");
    ASSERT_CONTAINS(s, "Note: ");
    ASSERT_EQ(check_aligned(s), t->nrows);
    free(s);
    stats_table_free(t);

    t = compute(&x, "control", NULL, STATS_BANDS_DEFAULT);
    s = print_mem(t, 0);
    ASSERT_CONTAINS(s, "Counts are mentions");
    ASSERT_CONTAINS(s, "Identity documents confiscated");
    ASSERT_EQ(check_aligned(s), t->nrows);
    free(s);
    stats_table_free(t);

    /* industries-by-year: year and total shown once per year */
    t = compute(&x, "industries-by-year", NULL, STATS_BANDS_DEFAULT);
    s = print_mem(t, 0);
    ASSERT_EQ(check_aligned(s), t->nrows);
    size_t n2022 = 0;
    for (const char *p = s; (p = strstr(p, "\n2022 ")); p++) n2022++;
    ASSERT_EQ(n2022, 1);
    free(s);
    stats_table_free(t);
    teardown(&x);
}

TEST(stats_empty_filter_result)
{
    fx x;
    setup(&x);
    stats_filter sf;
    char *a[] = { "--year-from", "2099" };
    ASSERT_EQ(filt(&x, &sf, 2, a), SP_OK);
    stats_table *t = compute(&x, "nationality", &sf.f, STATS_BANDS_DEFAULT);
    ASSERT_EQ(t->records, 0);
    ASSERT_EQ(t->nrows, 0);
    ASSERT_EQ(t->synthetic, 0);
    char *s = print_mem(t, 0);
    ASSERT_CONTAINS(s, "(no rows)");
    ASSERT_CONTAINS(s, "No records match");
    free(s);
    s = print_mem(t, 1);
    json_t *o = json_loads(s, 0, NULL);
    ASSERT_NOT_NULL(o);
    ASSERT_EQ(json_array_size(json_object_get(o, "rows")), 0);
    json_decref(o);
    free(s);
    stats_table_free(t);
    /* shares without records are null, never a division by zero */
    t = compute(&x, "gender", &sf.f, STATS_BANDS_DEFAULT);
    ASSERT(stats_cell_at(t, 0, (size_t)stats_col(t, 0, "share"))->missing);
    stats_table_free(t);
    stats_filter_free(&sf);
    teardown(&x);
}

TEST_LIST(stats_names_and_unknown_table, stats_industries_by_year, stats_origins,
          stats_destinations, stats_flows, stats_nationality_and_gender, stats_age_bands,
          stats_recruitment_and_control, stats_filters, stats_filter_errors, stats_json_shape,
          stats_text_output, stats_empty_filter_result)
