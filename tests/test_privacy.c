/* test_privacy.c -- the suppression rules on hand-made tables, and a
 * property test: random small hubs, random k and filters, every table
 * checked for counts under k shown directly or by subtraction. */
#include "import.h"
#include "privacy.h"
#include "stats_extra.h"
#include "test.h"

#include <jansson.h>
#include <math.h>

/* ------------------------------------------------------- hand-made tables */

/* A one-level table (code, count, share) named like a stats table. */
static stats_table *flat(const char *name, const long long *n, size_t rows, long long records)
{
    stats_table *t = sp_xcalloc(1, sizeof *t);
    sp_arena_init(&t->arena);
    t->name = name;
    t->title = name;
    t->counts = "records";
    t->nlevels = 1;
    t->ncols = 3;
    t->cols = sp_xcalloc(3, sizeof *t->cols);
    t->cols[0] = (stats_column){ "code", "Code", STATS_TEXT, 0 };
    t->cols[1] = (stats_column){ "count", "Count", STATS_COUNT, 0 };
    t->cols[2] = (stats_column){ "share", "Share", STATS_SHARE, 0 };
    t->cells = sp_xcalloc(rows * 3 + 1, sizeof *t->cells);
    t->nrows = t->alloc_rows = rows;
    t->records = records;
    for (size_t r = 0; r < rows; r++) {
        char code[32];
        snprintf(code, sizeof code, "c%zu", r);
        t->cells[r * 3] = (stats_cell){ sp_arena_strdup(&t->arena, code), 0, 0, 0, 0 };
        t->cells[r * 3 + 1] = (stats_cell){ NULL, n[r], 0, 0, 0 };
        t->cells[r * 3 + 2] = (stats_cell){ NULL, 0, records ? (double)n[r] / (double)records : 0, 0, 0 };
    }
    return t;
}

static const stats_cell *cnt(const stats_table *t, size_t r) { return stats_cell_at(t, r, 1); }

TEST(privacy_primary_and_zero)
{
    long long n[] = { 20, 3, 7, 0 };
    stats_table *t = flat("gender", n, 4, 30);
    sp_err e;
    sp_err_init(&e);
    ASSERT_EQ(privacy_apply(t, 10, &e), SP_OK);
    ASSERT_EQ(cnt(t, 0)->suppressed, 0);
    ASSERT_EQ(cnt(t, 0)->n, 20);
    ASSERT_EQ(cnt(t, 1)->suppressed, 1);
    ASSERT_EQ(cnt(t, 1)->n, 0);          /* the exact number is gone */
    ASSERT_EQ(cnt(t, 1)->missing, 1);
    ASSERT_EQ(cnt(t, 2)->suppressed, 1);
    ASSERT_EQ(cnt(t, 3)->suppressed, 0); /* a true 0 is published */
    ASSERT_EQ(cnt(t, 3)->n, 0);
    ASSERT_EQ(stats_cell_at(t, 1, 2)->suppressed, 1);   /* its share too */
    ASSERT_DBL_EQ(stats_cell_at(t, 0, 2)->share, 20.0 / 30.0, 1e-12);
    ASSERT_EQ(t->nsuppressed, 2);
    ASSERT_EQ(t->suppress_k, 10);
    ASSERT_EQ(privacy_check(t, 10), 0);
    /* a second pass is refused */
    ASSERT_EQ(privacy_apply(t, 10, &e), SP_EUSAGE);
    stats_table_free(t);
    sp_err_free(&e);
}

TEST(privacy_secondary_hides_next_smallest)
{
    long long n[] = { 25, 3, 12, 0, 40 };
    stats_table *t = flat("gender", n, 5, 80);
    sp_err e;
    sp_err_init(&e);
    ASSERT_EQ(privacy_check(t, 10), 1);  /* 3 shown */
    ASSERT_EQ(privacy_apply(t, 10, &e), SP_OK);
    ASSERT_EQ(cnt(t, 1)->suppressed, 1);
    ASSERT_EQ(cnt(t, 2)->suppressed, 1); /* 12: the next smallest non-zero */
    ASSERT_EQ(cnt(t, 0)->suppressed, 0);
    ASSERT_EQ(cnt(t, 4)->suppressed, 0);
    ASSERT_EQ(privacy_check(t, 10), 0);
    stats_table_free(t);
    sp_err_free(&e);
}

TEST(privacy_complement_and_small_records)
{
    long long n[] = { 57, 3 };
    stats_table *t = flat("control", n, 2, 60);   /* mentions: no total */
    t->counts = "mentions";
    sp_err e;
    sp_err_init(&e);
    ASSERT_EQ(privacy_apply(t, 5, &e), SP_OK);
    ASSERT_EQ(cnt(t, 1)->suppressed, 1);
    ASSERT_EQ(cnt(t, 0)->suppressed, 1); /* 60 - 57 = 3 would show the complement */
    stats_table_free(t);
    long long m[] = { 4, 2 };
    t = flat("gender", m, 2, 6);
    ASSERT_EQ(privacy_apply(t, 10, &e), SP_OK);
    ASSERT_EQ(t->records_suppressed, 1);
    ASSERT_EQ(t->records, 0);
    ASSERT_EQ(privacy_check(t, 10), 0);
    stats_table_free(t);
    ASSERT_EQ(privacy_apply(NULL == NULL ? (t = flat("gender", m, 2, 6)) : NULL, 1, &e), SP_EUSAGE);
    stats_table_free(t);
    sp_err_free(&e);
}

TEST(privacy_output_shapes)
{
    long long n[] = { 25, 3, 12 };
    stats_table *t = flat("gender", n, 3, 40);
    sp_err e;
    sp_err_init(&e);
    json_t *raw = stats_to_json(t);
    ASSERT(json_is_null(json_object_get(raw, "suppression")));
    json_decref(raw);
    ASSERT_EQ(privacy_apply(t, 10, &e), SP_OK);
    json_t *o = stats_to_json(t);
    json_t *sup = json_object_get(o, "suppression");
    ASSERT_EQ(json_integer_value(json_object_get(sup, "k")), 10);
    ASSERT(json_is_true(json_object_get(sup, "applied")));
    ASSERT_EQ(json_integer_value(json_object_get(sup, "cells")), 2);
    json_t *rows = json_object_get(o, "rows");
    json_t *r1 = json_array_get(rows, 1);
    ASSERT(json_is_null(json_object_get(r1, "count")));
    ASSERT(json_is_true(json_object_get(r1, "suppressed")));
    ASSERT(json_is_null(json_object_get(r1, "share")));
    ASSERT(json_is_false(json_object_get(json_array_get(rows, 0), "suppressed")));
    ASSERT_EQ(json_integer_value(json_object_get(json_array_get(rows, 0), "count")), 25);
    json_decref(o);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    ASSERT_EQ(stats_print_text(t, f), SP_OK);
    fclose(f);
    ASSERT_CONTAINS(buf, "<10");
    ASSERT_CONTAINS(buf, "Suppression:");
    ASSERT(!strstr(buf, " 3 "));
    ASSERT(!strstr(buf, "12"));
    free(buf);
    stats_table_free(t);
    sp_err_free(&e);
}

/* ------------------------------------------------------------- random hubs */

typedef struct fx {
    sp_gazetteer *gaz;
    sp_codebook *cb;
    sp_store *st;
    char path[64];
    sp_err err;
} fx;

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
    cb_cell c;
    memset(&c, 0, sizeof c);
    const char *rule = NULL, *why = NULL;
    if (codebook_parse(x->cb, f, raw, strlen(raw), country, &c, &r->arena, &rule, &why) != 0)
        TFAIL("%s=%s: %s", name, raw, why ? why : "?");
    ASSERT_EQ(record_add(r, f->index, &c), SP_OK);
}

static void put_place(fx *x, sp_record *r, const char *cn, const char *pr, const char *loc)
{
    const cb_field *g = codebook_field(x->cb, "exploitation");
    ASSERT_NOT_NULL(g);
    const char *names[3] = { "country", "province", "locality" };
    const char *vals[3] = { cn, pr, loc };
    for (int k = 0; k < 3; k++) {
        if (!vals[k]) continue;
        const cb_field *sub = codebook_subfield(g, names[k]);
        cb_cell *c = record_group_cell(r, g->index, 0, sub->index);
        ASSERT_NOT_NULL(c);
        const char *rule = NULL, *why = NULL;
        if (codebook_parse(x->cb, sub, vals[k], strlen(vals[k]), k == 1 ? cn : NULL, c,
                           &r->arena, &rule, &why) != 0)
            TFAIL("exploitation.%s=%s: %s", names[k], vals[k], why ? why : "?");
    }
}

static unsigned long long rng;
static unsigned rnd(unsigned n)
{
    rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
    return (unsigned)((rng >> 33) % n);
}
#define PICK(a) (a)[rnd(sizeof(a) / sizeof((a)[0]))]

static const char *const YEARS[] = { "2021", "2022", "2023", "2024", NULL };
static const char *const GENDERS[] = { "female", "male", "male", "transgender", NULL };
static const char *const NATS[] = { "VN", "VN", "ID", "KE", "PH", NULL };
static const char *const INDS[] = { "online_scam", "online_scam", "sexual_exploitation", "labour_fishing", NULL };
static const char *const ORIG[][2] = { { "VN", "VN-HN" }, { "VN", "VN-44" }, { "VN", NULL },
                                       { "ID", "ID-JK" }, { "KE", "KE-30" }, { NULL, NULL } };
static const char *const DEST[][3] = { { "MM", "MM-13", "KK Park" }, { "MM", "MM-13", "Shwe Kokko" },
                                       { "MM", "MM-17", NULL }, { "KH", "KH-18", "Sihanoukville" },
                                       { "LA", "LA-BK", "Golden Triangle SEZ" }, { NULL, NULL, NULL } };
static const char *const CTRL[] = { "debt_bondage", "confinement", "threats", NULL };
static const char *const METHOD[] = { "social_media", "online_job_ad", "friend", NULL };

static void hub(fx *x, int nrec)
{
    memset(x, 0, sizeof *x);
    sp_err_init(&x->err);
    if (gazetteer_load(&x->gaz, NULL, &x->err) != SP_OK) TFAIL("gazetteer");
    if (codebook_load_default(&x->cb, x->gaz, &x->err) != SP_OK) TFAIL("codebook");
    snprintf(x->path, sizeof x->path, "/tmp/test_privacy_XXXXXX");
    int fd = mkstemp(x->path);
    ASSERT(fd >= 0);
    close(fd);
    if (store_open(&x->st, x->path, x->cb, 1, &x->err) != SP_OK) TFAIL("store_open");
    long long org, sub;
    ASSERT_EQ(store_org_add(x->st, "Org", "TH", &org), SP_OK);
    ASSERT_EQ(store_submission_add(x->st, org, "a.csv", "aa", 0, &sub), SP_OK);
    ASSERT_EQ(store_begin(x->st), SP_OK);
    sp_record r;
    record_init(&r, x->cb);
    for (int i = 0; i < nrec; i++) {
        char ref[32];
        record_reset(&r);
        snprintf(ref, sizeof ref, "C%d", i);
        put(x, &r, "case_ref", ref);
        put(x, &r, "year_identified", PICK(YEARS));
        put(x, &r, "gender", PICK(GENDERS));
        put(x, &r, "nationality", PICK(NATS));
        const char *const *o = ORIG[rnd(6)];
        put(x, &r, "origin_country", o[0]);
        put(x, &r, "origin_province", o[1]);
        put(x, &r, "industry", PICK(INDS));
        put(x, &r, "recruitment_method", PICK(METHOD));
        const char *c1 = PICK(CTRL), *c2 = PICK(CTRL);
        put(x, &r, "control_means", c1);
        if (c2 && (!c1 || strcmp(c1, c2) != 0)) put(x, &r, "control_means", c2);
        const char *const *d = DEST[rnd(6)];
        if (d[0]) put_place(x, &r, d[0], d[1], d[2]);
        long long id;
        if (store_record_add(x->st, sub, org, &r, 0, &id)) TFAIL("record: %s", store_errmsg(x->st));
    }
    record_free(&r);
    ASSERT_EQ(store_commit(x->st), SP_OK);
}

static void unhub(fx *x)
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

/* The published table of `name` under f. */
static stats_table *published(fx *x, const char *name, const sp_filter *f, int k)
{
    stats_table *t = NULL;
    if (stats_compute(x->st, x->cb, name, f, NULL, &t, &x->err)) {
        sp_err_print(&x->err, stderr);
        TFAIL("stats_compute %s", name);
    }
    if (privacy_apply_filtered(x->st, x->cb, t, f, k, &x->err)) {
        sp_err_print(&x->err, stderr);
        TFAIL("privacy_apply_filtered %s", name);
    }
    return t;
}

/* Key of a count cell: its column and the text/integer cells at its level
 * and above, as a reader of the JSON would match two views. */
static void key_of(const stats_table *t, size_t r, size_t c, char *out, size_t cap)
{
    size_t n = (size_t)snprintf(out, cap, "%zu", c);
    for (size_t d = 0; d < t->ncols && n < cap; d++) {
        const stats_column *col = &t->cols[d];
        if (col->level > t->cols[c].level || col->kind == STATS_COUNT || col->kind == STATS_SHARE) continue;
        const stats_cell *y = stats_cell_at(t, r, d);
        if (y->missing) n += (size_t)snprintf(out + n, cap - n, "|-");
        else if (col->kind == STATS_TEXT) n += (size_t)snprintf(out + n, cap - n, "|%s", y->s ? y->s : "");
        else n += (size_t)snprintf(out + n, cap - n, "|%lld", y->n);
    }
}

/* (1) and (4): no published count in 1..k-1; shares only of published
 * counts over a published denominator. */
static void check_direct(const stats_table *t, int k)
{
    if (!t->records_suppressed && t->records > 0 && t->records < k)
        TFAIL("%s: records %lld published under k=%d", t->name, t->records, k);
    for (size_t r = 0; r < t->nrows; r++)
        for (size_t c = 0; c < t->ncols; c++) {
            const stats_cell *x = stats_cell_at(t, r, c);
            if (t->cols[c].kind == STATS_COUNT) {
                if (x->suppressed && (x->n != 0 || !x->missing)) TFAIL("%s: suppressed cell keeps a number", t->name);
                if (!x->suppressed && !x->missing && x->n > 0 && x->n < k)
                    TFAIL("%s row %zu col %s: %lld published under k=%d", t->name, r, t->cols[c].name, x->n, k);
            }
            if (t->cols[c].kind == STATS_SHARE && !x->missing) {
                int cc = stats_col(t, t->cols[c].level, "count");
                ASSERT(cc >= 0);
                const stats_cell *n = stats_cell_at(t, r, (size_t)cc);
                if (n->suppressed) TFAIL("%s: share of a suppressed count", t->name);
                long long den = t->records;
                if (strcmp(t->name, "industries-by-year") == 0) {
                    const stats_cell *tot = stats_cell_at(t, r, (size_t)stats_col(t, 0, "total"));
                    if (tot->suppressed) TFAIL("%s: share over a suppressed total", t->name);
                    den = tot->n;
                } else if (t->records_suppressed) TFAIL("%s: share over suppressed records", t->name);
                ASSERT_DBL_EQ(x->share, (double)n->n / (double)den, 1e-9);
            }
        }
}

/* (2) top-level sums: records minus the published top-level counts of an
 * additive table is 0 or >= k. */
static void check_top_sum(const stats_table *t, int k)
{
    static const char *const add[] = { "gender", "age", "nationality", "flows", "origins",
                                       "destinations", "industries-by-year" };
    int is = 0;
    for (size_t i = 0; i < sizeof add / sizeof *add; i++) is |= strcmp(t->name, add[i]) == 0;
    if (!is || t->records_suppressed) return;
    int c = -1;
    for (size_t d = 0; d < t->ncols && c < 0; d++)
        if (t->cols[d].kind == STATS_COUNT && t->cols[d].level == 0) c = (int)d;
    long long pub = 0;
    size_t nhidden = 0;
    for (size_t r = 0; r < t->nrows; r++) {
        if (r > 0 && t->nlevels > 1) {       /* one logical cell per run */
            char a[512], b[512];
            key_of(t, r - 1, (size_t)c, a, sizeof a);
            key_of(t, r, (size_t)c, b, sizeof b);
            if (strcmp(a, b) == 0) continue;
        }
        const stats_cell *x = stats_cell_at(t, r, (size_t)c);
        if (x->suppressed) nhidden++;
        else pub += x->n;
    }
    long long d = t->records - pub;
    if (d > 0 && d < k) TFAIL("%s: records - published = %lld under k=%d", t->name, d, k);
    if (nhidden == 1) TFAIL("%s: exactly one top-level count hidden (recoverable)", t->name);
}

/* (3) the published view without clause i against the published view with
 * it: no difference of matching published counts in 1..k-1. */
static void check_difference(const stats_table *wide, const stats_table *narrow, int k)
{
    if (!wide->records_suppressed && !narrow->records_suppressed) {
        long long d = wide->records - narrow->records;
        if (d > 0 && d < k) TFAIL("%s: records differ by %lld under k=%d", narrow->name, d, k);
    }
    char a[512], b[512];
    for (size_t c = 0; c < narrow->ncols; c++) {
        if (narrow->cols[c].kind != STATS_COUNT) continue;
        for (size_t r = 0; r < narrow->nrows; r++) {
            const stats_cell *x = stats_cell_at(narrow, r, c);
            if (x->suppressed || x->missing) continue;
            key_of(narrow, r, c, a, sizeof a);
            for (size_t q = 0; q < wide->nrows; q++) {
                const stats_cell *y = stats_cell_at(wide, q, c);
                if (y->suppressed || y->missing) continue;
                key_of(wide, q, c, b, sizeof b);
                if (strcmp(a, b) != 0) continue;
                long long d = y->n - x->n;
                if (d > 0 && d < k)
                    TFAIL("%s %s: views differ by %lld under k=%d", narrow->name, a, d, k);
            }
        }
    }
}

static void random_filter(fx *x, stats_filter *sf)
{
    static const char *const fields[] = { "gender", "nationality", "industry", "origin_country" };
    static const char *const *vals[] = { GENDERS, NATS, INDS, NULL };
    int nw = (int)rnd(3);
    for (int i = 0; i < nw; i++) {
        int fi = (int)rnd(4);
        const char *v = fi == 3 ? ORIG[rnd(5)][0] : vals[fi][rnd(3)];
        char w[64];
        snprintf(w, sizeof w, "%s=%s", fields[fi], v);
        if (stats_filter_set(sf, x->cb, "where", w, &x->err)) TFAIL("filter %s", w);
    }
    if (rnd(3) == 0) {
        char y[8];
        snprintf(y, sizeof y, "%u", 2021 + rnd(3));
        ASSERT_EQ(stats_filter_set(sf, x->cb, "year-from", y, &x->err), SP_OK);
    }
    if (rnd(3) == 0) {
        char y[8];
        snprintf(y, sizeof y, "%u", 2023 + rnd(2));
        ASSERT_EQ(stats_filter_set(sf, x->cb, "year-to", y, &x->err), SP_OK);
    }
}

static void property_run(unsigned long long seed, int hubs, int views)
{
    static const int ks[] = { 3, 5, 10 };
    size_t nt;
    const char *const *names = stats_table_names(&nt);
    for (int h = 0; h < hubs; h++) {
        rng = seed * 1000003ULL + (unsigned long long)h;
        fx x;
        hub(&x, 50 + (int)rnd(351));
        for (int v = 0; v < views; v++) {
            int k = ks[rnd(3)];
            stats_filter sf;
            stats_filter_init(&sf);
            random_filter(&x, &sf);
            for (size_t ti = 0; ti < nt; ti++) {
                stats_table *t = published(&x, names[ti], &sf.f, k);
                check_direct(t, k);
                check_top_sum(t, k);
                int bad = privacy_check(t, k);
                if (bad) TFAIL("seed %llu hub %d %s k=%d: privacy_check %d", seed, h, t->name, k, bad);
                for (size_t w = 0; w < sf.f.nwhere; w++) {
                    sp_filter wide = sf.f;
                    for (size_t j = w; j + 1 < wide.nwhere; j++) wide.where[j] = wide.where[j + 1];
                    wide.nwhere--;
                    stats_table *tw = published(&x, names[ti], &wide, k);
                    check_difference(tw, t, k);
                    stats_table_free(tw);
                }
                stats_table_free(t);
            }
            stats_filter_free(&sf);
        }
        unhub(&x);
    }
}

TEST(privacy_property_seed1) { property_run(1, 6, 6); }
TEST(privacy_property_seed2) { property_run(2, 6, 6); }
TEST(privacy_property_seed3) { property_run(3, 6, 6); }

TEST(privacy_k_setting_and_sensitive_filters)
{
    fx x;
    rng = 7;
    hub(&x, 50);
    int k = 0;
    ASSERT_EQ(privacy_k(x.st, &k), SP_OK);
    ASSERT_EQ(k, PRIVACY_K_DEFAULT);
    ASSERT_EQ(privacy_set_k(x.st, 5), SP_OK);
    ASSERT_EQ(privacy_k(x.st, &k), SP_OK);
    ASSERT_EQ(k, 5);
    ASSERT_EQ(privacy_set_k(x.st, 1), SP_EUSAGE);
    ASSERT_EQ(store_meta_set(x.st, PRIVACY_META_KEY, "three"), SP_OK);
    ASSERT_EQ(privacy_k(x.st, &k), SP_EINPUT);
    ASSERT_EQ(store_meta_set(x.st, PRIVACY_META_KEY, "1"), SP_OK);
    ASSERT_EQ(privacy_k(x.st, &k), SP_EINPUT);
    stats_filter sf;
    stats_filter_init(&sf);
    ASSERT_EQ(stats_filter_set(&sf, x.cb, "where", "promised_job=anything", &x.err), SP_EINPUT);
    ASSERT_CONTAINS(sp_err_last(&x.err), "sensitive");
    ASSERT_EQ(stats_filter_set(&sf, x.cb, "where", "indicators.value=x", &x.err), SP_EINPUT);
    stats_filter_free(&sf);
    /* no table carries a sensitive field's name among its columns */
    size_t nt;
    const char *const *names = stats_table_names(&nt);
    for (size_t i = 0; i < nt; i++) {
        stats_table *t = published(&x, names[i], NULL, 10);
        json_t *o = stats_to_json(t);
        char *s = json_dumps(o, 0);
        ASSERT(!strstr(s, "promised_job"));
        ASSERT(!strstr(s, "indicators"));
        free(s);
        json_decref(o);
        stats_table_free(t);
    }
    unhub(&x);
}

TEST(privacy_geo_coarsening)
{
    fx x;
    rng = 11;
    hub(&x, 120);
    for (int k = 3; k <= 10; k += 7) {
        stats_table *t = published(&x, "origins", NULL, k);
        int pc = stats_col(t, 1, "count"), pn = stats_col(t, 1, "name");
        for (size_t r = 0; r < t->nrows; r++) {
            const stats_cell *c = stats_cell_at(t, r, (size_t)pc);
            const stats_cell *n = stats_cell_at(t, r, (size_t)pn);
            /* a named province is shown only with k or more records */
            if (stats_cell_at(t, r, (size_t)stats_col(t, 1, "code"))->s && !c->suppressed)
                ASSERT_GE(c->n, k);
            ASSERT_NOT_NULL(n->s);
        }
        stats_table_free(t);
        t = published(&x, "destinations", NULL, k);
        int lc = stats_col(t, 2, "count"), ll = stats_col(t, 2, "locality");
        for (size_t r = 0; r < t->nrows; r++)
            if (stats_cell_at(t, r, (size_t)ll)->s)
                ASSERT(stats_cell_at(t, r, (size_t)lc)->suppressed || stats_cell_at(t, r, (size_t)lc)->n >= k);
        stats_table_free(t);
    }
    unhub(&x);
}

/* The ransom table's rows carry measures (median, lowest, highest) beside
 * the currency: two views of the same currency differ in them, yet their
 * counts must still be compared, or the view's count would give away the
 * few records the filter left out. */
TEST(privacy_ransom_counts_compared_across_views)
{
    char path[] = "/tmp/sp-privacy-ransom-XXXXXX";
    int fd = mkstemp(path);
    ASSERT(fd >= 0);
    close(fd);
    unlink(path);
    sp_err err;
    sp_err_init(&err);
    sp_gazetteer *gaz = NULL;
    sp_codebook *cb = NULL;
    sp_store *st = NULL;
    ASSERT_EQ(gazetteer_load(&gaz, NULL, &err), SP_OK);
    ASSERT_EQ(codebook_load_default(&cb, gaz, &err), SP_OK);
    ASSERT_EQ(store_open(&st, path, cb, 1, &err), SP_OK);
    /* 25 men paid about 1,000 USD, 5 women 9,000 USD: the median differs
     * between "men" and "everyone", the count by 5 */
    sp_buf csv;
    sp_buf_init(&csv, 1 << 16);
    sp_buf_adds(&csv, "case_ref,year_identified,gender,ransom_demanded_amount,ransom_demanded_currency\n");
    for (int i = 0; i < 30; i++)
        sp_buf_printf(&csv, "R-%d,2024,%s,%d,USD\n", i, i < 25 ? "male" : "female",
                      i < 25 ? 1000 + i : 9000 + i);
    import_opts io = {0};
    io.org = "Org";
    import_result res;
    ASSERT_EQ(import_buffer(st, cb, csv.data, csv.len, "r.csv", &io, &res, &err), SP_OK);
    ASSERT_EQ(res.stored, 30);
    sp_filter f;
    memset(&f, 0, sizeof f);
    f.where[0].field = "gender";
    f.where[0].value = "male";
    f.nwhere = 1;
    stats_table *t = NULL;
    ASSERT_EQ(stats_extra_compute(st, cb, "ransom", &f, &t, &err), SP_OK);
    int cc = stats_col(t, 0, "count"), code = stats_col(t, 0, "code");
    ASSERT(cc >= 0 && code >= 0);
    size_t usd = t->nrows;
    for (size_t r = 0; r < t->nrows; r++) {
        const stats_cell *c = stats_cell_at(t, r, (size_t)code);
        if (!c->missing && c->s && strcmp(c->s, "USD") == 0) usd = r;
    }
    ASSERT(usd < t->nrows);
    ASSERT_EQ(stats_cell_at(t, usd, (size_t)cc)->n, 25);      /* exact before the pass */
    ASSERT_EQ(privacy_apply_filtered(st, cb, t, &f, 10, &err), SP_OK);
    /* 30 - 25 = 5 < 10: published, the men's 25 would reveal the 5 women */
    ASSERT(stats_cell_at(t, usd, (size_t)cc)->suppressed);
    ASSERT_EQ(privacy_check(t, 10), 0);
    stats_table_free(t);
    sp_buf_free(&csv);
    store_close(st);
    codebook_free(cb);
    gazetteer_free(gaz);
    sp_err_free(&err);
    unlink(path);
    char side[64];
    snprintf(side, sizeof side, "%s-wal", path);
    unlink(side);
    snprintf(side, sizeof side, "%s-shm", path);
    unlink(side);
}

TEST_LIST(privacy_ransom_counts_compared_across_views, privacy_primary_and_zero, privacy_secondary_hides_next_smallest,
          privacy_complement_and_small_records, privacy_output_shapes,
          privacy_k_setting_and_sensitive_filters, privacy_geo_coarsening,
          privacy_property_seed1, privacy_property_seed2, privacy_property_seed3)
