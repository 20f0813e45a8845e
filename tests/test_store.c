/* test_store.c -- the SQLite hub: schema and migrations, organisations,
 * submissions, record round trips, filters, counts, replace, rollback,
 * withdrawn submissions, codebook growth and hostile values. */
#include "test.h"
#include "store.h"
#include "embed.h"

#include <pthread.h>
#include <sqlite3.h>

/* ---------------------------------------------------------------- fixture */

static sp_gazetteer *gaz;
static sp_codebook *cb;
static char dbpath[64];

static void load_codebook(void)
{
    sp_err e;
    sp_err_init(&e);
    if (gazetteer_load(&gaz, NULL, &e) != SP_OK) { sp_err_print(&e, stderr); TFAIL("gazetteer"); }
    if (codebook_load_default(&cb, gaz, &e) != SP_OK) { sp_err_print(&e, stderr); TFAIL("codebook"); }
    sp_err_free(&e);
}

/* A fresh path under /tmp (the file itself is removed: the store creates it). */
static void temp_path(void)
{
    snprintf(dbpath, sizeof dbpath, "/tmp/sp_store_XXXXXX");
    int fd = mkstemp(dbpath);
    ASSERT(fd >= 0);
    close(fd);
    unlink(dbpath);
}

static void remove_db(void)
{
    char p[96];
    unlink(dbpath);
    snprintf(p, sizeof p, "%s-wal", dbpath);
    unlink(p);
    snprintf(p, sizeof p, "%s-shm", dbpath);
    unlink(p);
}

static sp_store *open_new(void)
{
    sp_store *s = NULL;
    sp_err e;
    sp_err_init(&e);
    load_codebook();
    temp_path();
    int rc = store_open(&s, dbpath, cb, 1, &e);
    if (rc) { sp_err_print(&e, stderr); TFAIL("store_open: %d", rc); }
    sp_err_free(&e);
    return s;
}

static void finish(sp_store *s)
{
    store_close(s);
    remove_db();
    codebook_free(cb);
    gazetteer_free(gaz);
    cb = NULL;
    gaz = NULL;
}

/* First column of the first row of sql, read over a second connection. */
static long long q1(const char *sql)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    long long v = -1;
    ASSERT_EQ(sqlite3_open(dbpath, &db), SQLITE_OK);
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        TFAIL("%s: %s", sql, sqlite3_errmsg(db));
    if (sqlite3_step(st) == SQLITE_ROW) v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

static void exec_raw(const char *sql)
{
    sqlite3 *db = NULL;
    ASSERT_EQ(sqlite3_open(dbpath, &db), SQLITE_OK);
    if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK) TFAIL("%s: %s", sql, sqlite3_errmsg(db));
    sqlite3_close(db);
}

/* Sets field `name` of r from raw text through the codebook's parser. */
static void set(sp_record *r, const char *name, const char *raw)
{
    const cb_field *f = codebook_field(r->cb, name);
    const char *rule = NULL, *why = NULL;
    cb_cell c;
    if (!f) TFAIL("no field %s", name);
    const char *country = NULL;
    if (f->type == CB_PROVINCE && f->country_field) {
        const cb_field *cf = codebook_field(r->cb, f->country_field);
        const cb_cell *cc = cf ? record_get(r, cf->index) : NULL;
        country = cc ? cc->text : NULL;
    }
    if (codebook_parse(r->cb, f, raw, strlen(raw), country, &c, &r->arena, &rule, &why))
        TFAIL("%s = '%s': %s", name, raw, why);
    ASSERT_NOT_NULL(c.text);
    ASSERT_EQ(record_add(r, f->index, &c), SP_OK);
}

static void gset(sp_record *r, const char *group, size_t row, const char *sub, const char *raw)
{
    const cb_field *g = codebook_field(r->cb, group);
    ASSERT_NOT_NULL(g);
    const cb_field *u = codebook_subfield(g, sub);
    const char *rule = NULL, *why = NULL;
    cb_cell c;
    ASSERT_NOT_NULL(u);
    if (codebook_parse(r->cb, u, raw, strlen(raw), NULL, &c, &r->arena, &rule, &why))
        TFAIL("%s.%s = '%s': %s", group, sub, raw, why);
    cb_cell *dst = record_group_cell(r, g->index, row, u->index);
    ASSERT_NOT_NULL(dst);
    *dst = c;
}

static long long new_org(sp_store *s, const char *name, const char *country)
{
    long long id = 0;
    ASSERT_EQ(store_org_add(s, name, country, &id), SP_OK);
    ASSERT(id > 0);
    return id;
}

static long long new_sub(sp_store *s, long long org, const char *sha)
{
    long long id = 0;
    ASSERT_EQ(store_submission_add(s, org, "cases.csv", sha, 0, &id), SP_OK);
    return id;
}

/* Collects case_ref of each scanned record, joined with ",". */
static int collect_refs(const sp_record *r, const sp_record_meta *m, void *ud)
{
    sp_buf *b = ud;
    const cb_cell *c = record_get(r, codebook_field(r->cb, "case_ref")->index);
    (void)m;
    if (b->len) sp_buf_addc(b, ',');
    sp_buf_adds(b, c && c->text ? c->text : "?");
    return 0;
}

static const char *scan_refs(sp_store *s, const sp_filter *f, sp_buf *b)
{
    sp_buf_reset(b);
    ASSERT_EQ(store_scan(s, f, collect_refs, b), SP_OK);
    return b->data ? b->data : "";
}

/* Collects "v1|v2=count;" lines from store_count ("-" for NULL). */
typedef struct countbuf { sp_buf b; size_t ndims; } countbuf;
static int collect_counts(const char *const *vals, long long count, void *ud)
{
    countbuf *c = ud;
    for (size_t i = 0; i < c->ndims; i++) {
        if (i) sp_buf_addc(&c->b, '|');
        sp_buf_adds(&c->b, vals[i] ? vals[i] : "-");
    }
    sp_buf_printf(&c->b, "=%lld;", count);
    return 0;
}

static char countout[4096];
static const char *count(sp_store *s, const sp_filter *f, const char *d1, const char *d2)
{
    const char *dims[2] = {d1, d2};
    countbuf c;
    sp_buf_init(&c.b, 1 << 16);
    c.ndims = d2 ? 2 : 1;
    int rc = store_count(s, f, dims, c.ndims, collect_counts, &c);
    if (rc) TFAIL("store_count(%s, %s): %d %s", d1, d2 ? d2 : "", rc, store_errmsg(s));
    snprintf(countout, sizeof countout, "%s", c.b.data ? c.b.data : "");
    sp_buf_free(&c.b);
    return countout;
}

/* ---------------------------------------------------------- small dataset
 * org A (TH, Asia): r1 2021 female age 25 VN {threats, confinement}
 *                      exploitation MM (Shwe Kokko), KH
 *                   r2 2022 male 18-24 VN {threats} exploitation KH, KH
 *                   r3 2022 female ID, nothing else
 * org B (GB, Europe): r4 2023 male 30 VN {debt_bondage, threats} expl. LA
 *                   r5 2022 (no gender) PH expl. MM, LA
 *                   r6 2021 female VN, in a withdrawn submission */
static long long orga, orgb;

static void add_dataset(sp_store *s)
{
    sp_record r;
    long long sa, sb, sw, id;
    orga = new_org(s, "Alpha Foundation", "TH");
    orgb = new_org(s, "Bravo Org", "GB");
    sa = new_sub(s, orga, "aaaa");
    sb = new_sub(s, orgb, "bbbb");
    sw = new_sub(s, orgb, "cccc");
    record_init(&r, cb);
    ASSERT_EQ(store_begin(s), SP_OK);

    set(&r, "case_ref", "r1"); set(&r, "year_identified", "2021"); set(&r, "gender", "female");
    set(&r, "age", "25"); set(&r, "nationality", "VN");
    set(&r, "control_means", "threats"); set(&r, "control_means", "confinement");
    gset(&r, "exploitation", 0, "country", "MM"); gset(&r, "exploitation", 0, "locality", "Shwe Kokko");
    gset(&r, "exploitation", 1, "country", "KH");
    ASSERT_EQ(store_record_add(s, sa, orga, &r, 0, &id), SP_OK);
    record_reset(&r);

    set(&r, "case_ref", "r2"); set(&r, "year_identified", "2022"); set(&r, "gender", "male");
    set(&r, "age", "18-24"); set(&r, "nationality", "VN"); set(&r, "control_means", "threats");
    gset(&r, "exploitation", 0, "country", "KH"); gset(&r, "exploitation", 1, "country", "KH");
    ASSERT_EQ(store_record_add(s, sa, orga, &r, 0, &id), SP_OK);
    record_reset(&r);

    set(&r, "case_ref", "r3"); set(&r, "year_identified", "2022"); set(&r, "gender", "female");
    set(&r, "nationality", "ID");
    ASSERT_EQ(store_record_add(s, sa, orga, &r, 0, &id), SP_OK);
    record_reset(&r);

    set(&r, "case_ref", "r4"); set(&r, "year_identified", "2023"); set(&r, "gender", "male");
    set(&r, "age", "30"); set(&r, "nationality", "VN");
    set(&r, "control_means", "debt_bondage"); set(&r, "control_means", "threats");
    gset(&r, "exploitation", 0, "country", "LA");
    ASSERT_EQ(store_record_add(s, sb, orgb, &r, 0, &id), SP_OK);
    record_reset(&r);

    set(&r, "case_ref", "r5"); set(&r, "year_identified", "2022"); set(&r, "nationality", "PH");
    gset(&r, "exploitation", 0, "country", "MM"); gset(&r, "exploitation", 1, "country", "LA");
    ASSERT_EQ(store_record_add(s, sb, orgb, &r, 0, &id), SP_OK);
    record_reset(&r);

    set(&r, "case_ref", "r6"); set(&r, "year_identified", "2021"); set(&r, "gender", "female");
    set(&r, "nationality", "VN"); set(&r, "control_means", "threats");
    gset(&r, "exploitation", 0, "country", "MM");
    ASSERT_EQ(store_record_add(s, sw, orgb, &r, 0, &id), SP_OK);
    record_reset(&r);

    ASSERT_EQ(store_commit(s), SP_OK);
    ASSERT_EQ(store_record_count(s), 6);
    ASSERT_EQ(store_submission_set_status(s, sw, "withdrawn"), SP_OK);
    record_free(&r);
}

/* ---------------------------------------------------------------- tests */

TEST(store_create_reopen_migrate)
{
    sp_store *s = open_new();
    sp_err e;
    char *v = NULL;
    ASSERT_EQ(q1("PRAGMA user_version"), store_schema_version());
    ASSERT_GE(store_schema_version(), 1);
    ASSERT_EQ(store_meta_get(s, "codebook_version", &v), SP_OK);
    ASSERT_STR_EQ(v, cb->version);
    free(v);
    ASSERT_EQ(store_meta_get(s, "nothing", &v), SP_OK);
    ASSERT_NULL(v);
    ASSERT_EQ(store_meta_set(s, "hub_name", "Test hub"), SP_OK);
    new_org(s, "Keep Me", NULL);
    store_close(s);

    /* WAL, STRICT and the codebook columns are there */
    ASSERT_EQ(q1("SELECT count(*) FROM pragma_journal_mode WHERE journal_mode = 'wal'"), 1);
    ASSERT_EQ(q1("SELECT strict FROM pragma_table_list WHERE name = 'record'"), 1);
    ASSERT_EQ(q1("SELECT count(*) FROM pragma_table_info('record') WHERE name IN "
                 "('case_ref', 'age_lo', 'age_hi', 'ransom_paid_amount')"), 4);
    ASSERT_EQ(q1("SELECT count(*) FROM pragma_table_info('record') WHERE name = 'control_means'"), 0);
    ASSERT_EQ(q1("SELECT count(*) FROM pragma_table_info('g_exploitation') WHERE name IN "
                 "('record_id', 'seq', 'is_last', 'country', 'province', 'locality')"), 6);
    ASSERT_EQ(q1("SELECT count(*) FROM pragma_index_list('record') WHERE name = 'record_case'"), 1);
    ASSERT_EQ(q1("SELECT type = 'REAL' FROM pragma_table_info('record') WHERE name = 'ransom_paid_amount'"), 1);

    /* reopening (without create) keeps data and changes nothing */
    sp_err_init(&e);
    ASSERT_EQ(store_open(&s, dbpath, cb, 0, &e), SP_OK);
    ASSERT_EQ(store_meta_get(s, "hub_name", &v), SP_OK);
    ASSERT_STR_EQ(v, "Test hub");
    free(v);
    sp_org o;
    ASSERT_EQ(store_org_find(s, "keep me", &o), SP_OK);
    store_org_free(&o);
    store_close(s);

    /* a hub from a newer spotlight is refused with a clear sentence */
    exec_raw("PRAGMA user_version = 99");
    ASSERT_NE(store_open(&s, dbpath, cb, 0, &e), SP_OK);
    ASSERT_NULL(s);
    ASSERT_CONTAINS(sp_err_last(&e), "newer spotlight");
    sp_err_free(&e);
    finish(NULL);
}

TEST(store_open_errors)
{
    sp_store *s = NULL;
    sp_err e;
    load_codebook();
    temp_path();
    sp_err_init(&e);
    /* no file and no create */
    ASSERT_NE(store_open(&s, dbpath, cb, 0, &e), SP_OK);
    ASSERT_NULL(s);
    ASSERT(e.count >= 1);
    sp_err_clear(&e);
    /* not a database */
    FILE *f = fopen(dbpath, "w");
    ASSERT_NOT_NULL(f);
    fputs("case_ref,gender\nr1,female\nthis is not SQLite at all, padded out to a page......\n", f);
    fclose(f);
    ASSERT_NE(store_open(&s, dbpath, cb, 1, &e), SP_OK);
    ASSERT_NULL(s);
    ASSERT(e.count >= 1);
    sp_err_clear(&e);
    remove_db();
    /* an empty SQLite file without create is not a hub */
    exec_raw("CREATE TABLE other(x)");
    ASSERT_NE(store_open(&s, dbpath, cb, 0, &e), SP_OK);
    ASSERT_CONTAINS(sp_err_last(&e), "not a spotlight hub");
    sp_err_free(&e);
    finish(NULL);
}

TEST(store_orgs)
{
    sp_store *s = open_new();
    long long a = new_org(s, "Alpha Foundation", "TH"), id = 0;
    sp_org o;
    ASSERT_EQ(store_org_add(s, "ALPHA foundation", NULL, &id), SP_EEXIST);
    ASSERT_CONTAINS(store_errmsg(s), "already exists");
    ASSERT_EQ(store_org_add(s, "Narnia Aid", "Narnia", &id), SP_EINPUT);
    ASSERT_EQ(store_org_add(s, "", NULL, &id), SP_EUSAGE);
    ASSERT_EQ(store_org_find(s, "alpha FOUNDATION", &o), SP_OK);
    ASSERT_EQ(o.id, a);
    ASSERT_STR_EQ(o.name, "Alpha Foundation");
    ASSERT_STR_EQ(o.country, "TH");
    ASSERT_STR_EQ(o.region, "Asia");
    ASSERT_STR_EQ(o.subregion, "South-eastern Asia");
    ASSERT_NOT_NULL(o.created);
    store_org_free(&o);
    ASSERT_EQ(store_org_find(s, "nobody", &o), SP_EOF);

    long long b = new_org(s, "bravo", NULL);
    ASSERT_EQ(store_org_find(s, "Bravo", &o), SP_OK);
    ASSERT_NULL(o.country);
    ASSERT_NULL(o.region);
    store_org_free(&o);
    ASSERT_EQ(store_org_set_country(s, b, "United Kingdom"), SP_OK);
    ASSERT_EQ(store_org_find(s, "bravo", &o), SP_OK);
    ASSERT_STR_EQ(o.country, "GB");
    ASSERT_STR_EQ(o.region, "Europe");
    store_org_free(&o);
    ASSERT_EQ(store_org_set_country(s, 999, "GB"), SP_EUSAGE);

    /* list: by name, with live record counts */
    sp_record r;
    long long sub = new_sub(s, b, "s1"), rid;
    record_init(&r, cb);
    set(&r, "case_ref", "x1");
    ASSERT_EQ(store_record_add(s, sub, b, &r, 0, &rid), SP_OK);
    ASSERT_EQ(store_record_add(s, sub, b, &r, 0, &rid), SP_OK);
    record_free(&r);
    sp_org *list = NULL;
    size_t n = 0;
    ASSERT_EQ(store_org_list(s, &list, &n), SP_OK);
    ASSERT_EQ(n, 2);
    ASSERT_STR_EQ(list[0].name, "Alpha Foundation");
    ASSERT_EQ(list[0].records, 0);
    ASSERT_STR_EQ(list[1].name, "bravo");
    ASSERT_EQ(list[1].records, 2);
    for (size_t i = 0; i < n; i++) store_org_free(&list[i]);
    free(list);
    finish(s);
}

TEST(store_submissions)
{
    sp_store *s = open_new();
    long long a = new_org(s, "Alpha", "TH"), b = new_org(s, "Bravo", "VN");
    const char *sha = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
    long long id = 0, found = 0, other = 0;
    ASSERT_EQ(store_submission_find_sha(s, a, sha, &found), SP_EOF);
    ASSERT_EQ(store_submission_add(s, a, "cases.xlsx", sha, 1, &id), SP_OK);
    ASSERT_EQ(store_submission_find_sha(s, a, sha, &found), SP_OK);
    ASSERT_EQ(found, id);
    ASSERT_EQ(store_submission_find_sha(s, b, sha, &found), SP_EOF);
    ASSERT_EQ(store_submission_add(s, b, "b.csv", "00", 0, &other), SP_OK);
    ASSERT_EQ(store_submission_set_rows(s, id, 1234), SP_OK);
    ASSERT_EQ(store_submission_set_rows(s, 777, 1), SP_EUSAGE);
    ASSERT_EQ(store_submission_add(s, 999, "x.csv", "11", 0, &other), SP_EUSAGE);

    sp_submission *list = NULL;
    size_t n = 0;
    ASSERT_EQ(store_submission_list(s, 0, &list, &n), SP_OK);
    ASSERT_EQ(n, 2);
    ASSERT_EQ(list[0].id, id);
    ASSERT_STR_EQ(list[0].org_name, "Alpha");
    ASSERT_STR_EQ(list[0].filename, "cases.xlsx");
    ASSERT_STR_EQ(list[0].sha256, sha);
    ASSERT_EQ(list[0].rows, 1234);
    ASSERT_STR_EQ(list[0].status, "stored");
    ASSERT_EQ(list[0].synthetic, 1);
    ASSERT_STR_EQ(list[1].org_name, "Bravo");
    for (size_t i = 0; i < n; i++) store_submission_free(&list[i]);
    free(list);
    ASSERT_EQ(store_submission_list(s, b, &list, &n), SP_OK);
    ASSERT_EQ(n, 1);
    ASSERT_STR_EQ(list[0].org_name, "Bravo");
    store_submission_free(&list[0]);
    free(list);

    ASSERT_EQ(store_submission_set_status(s, id, "deleted"), SP_EUSAGE);
    ASSERT_EQ(store_submission_set_status(s, id, "withdrawn"), SP_OK);
    ASSERT_EQ(store_submission_find_sha(s, a, sha, &found), SP_EOF);
    finish(s);
}

/* Every field type, multiple fields and groups survive a round trip. */
typedef struct rt { const sp_record *orig; int seen; } rt;
static int check_roundtrip(const sp_record *r, const sp_record_meta *m, void *ud)
{
    rt *t = ud;
    const sp_record *o = t->orig;
    const sp_codebook *c = r->cb;
    t->seen++;
    ASSERT_STR_EQ(m->org_name, "Alpha");
    ASSERT_STR_EQ(m->codebook_version, c->version);
    ASSERT_EQ(m->synthetic, 1);
    for (size_t f = 0; f < c->nfields; f++) {
        const cb_field *fd = &c->fields[f];
        if (fd->type == CB_GROUP) {
            const rec_group *a = &o->groups[f], *b = &r->groups[f];
            if (a->nrows != b->nrows) TFAIL("%s: %zu rows, want %zu", fd->name, b->nrows, a->nrows);
            for (size_t i = 0; i < a->nrows * fd->nsub; i++) {
                const char *x = a->cells[i].text, *y = b->cells[i].text;
                if (!x && !y) continue;
                if (!x || !y || strcmp(x, y) != 0)
                    TFAIL("%s cell %zu: '%s' != '%s'", fd->name, i, y ? y : "(null)", x ? x : "(null)");
            }
            continue;
        }
        const rec_values *a = &o->vals[f], *b = &r->vals[f];
        if (a->n != b->n) TFAIL("%s: %zu values, want %zu", fd->name, b->n, a->n);
        /* multiple values come back sorted; the test adds them sorted */
        for (size_t i = 0; i < a->n; i++) {
            if (strcmp(a->v[i].text, b->v[i].text) != 0)
                TFAIL("%s: '%s' != '%s'", fd->name, b->v[i].text, a->v[i].text);
            if (a->v[i].i != b->v[i].i) TFAIL("%s: i %lld != %lld", fd->name, b->v[i].i, a->v[i].i);
            ASSERT_DBL_EQ(a->v[i].d, b->v[i].d, 1e-9);
            ASSERT_EQ(a->v[i].lo, b->v[i].lo);
            ASSERT_EQ(a->v[i].hi, b->v[i].hi);
        }
    }
    return 0;
}

static void fill_full(sp_record *r, const char *hostile)
{
    set(r, "case_ref", hostile);
    set(r, "year_identified", "2023");
    set(r, "date_identified", "2023-04-05");
    set(r, "identification_status", "presumed");
    set(r, "consent", "statistics");
    set(r, "gender", "female");
    set(r, "age", "18-24");
    set(r, "nationality", "VN");
    set(r, "origin_country", "VN");
    set(r, "origin_province", "VN-44");
    set(r, "transit_countries", "LA");
    set(r, "transit_countries", "TH");
    set(r, "industry", "online_scam");
    set(r, "months_exploited", "14");
    set(r, "recruitment_method", "online_job_ad");
    set(r, "recruitment_platform", "facebook");
    set(r, "recruitment_platform", "telegram");
    set(r, "promised_job", hostile);
    set(r, "control_means", "confinement");
    set(r, "control_means", "debt_bondage");
    set(r, "ransom_demanded_amount", "2500.5");
    set(r, "ransom_demanded_currency", "USD");
    set(r, "ransom_paid_amount", "1000");
    set(r, "ransom_paid_currency", "THB");
    set(r, "exit_method", "escaped");
    gset(r, "exploitation", 0, "country", "MM");
    gset(r, "exploitation", 0, "province", "MM-13");
    gset(r, "exploitation", 0, "locality", "Shwe Kokko; \"KK\" park");
    gset(r, "exploitation", 1, "country", "KH");
    gset(r, "exploitation", 1, "locality", hostile);
    gset(r, "indicators", 0, "type", "crypto_wallet");
    gset(r, "indicators", 0, "value", "TXyz'123;--");
    gset(r, "indicators", 0, "chain", "tron");
    gset(r, "indicators", 0, "role", "ransom_payment");
}

TEST(store_record_roundtrip_hostile)
{
    sp_store *s = open_new();
    const char *hostile = "x'); DROP TABLE record;--";
    long long org = new_org(s, "Alpha", "TH"), sub, id = 0;
    ASSERT_EQ(store_submission_add(s, org, "f.csv", "ab", 1, &sub), SP_OK);
    sp_record r;
    record_init(&r, cb);
    fill_full(&r, hostile);
    ASSERT_EQ(store_begin(s), SP_OK);
    ASSERT_EQ(store_record_add(s, sub, org, &r, 1, &id), SP_OK);
    ASSERT_EQ(store_commit(s), SP_OK);
    ASSERT(id > 0);
    ASSERT_EQ(q1("SELECT count(*) FROM record_multi"), 6);
    ASSERT_EQ(q1("SELECT count(*) FROM g_exploitation"), 2);
    ASSERT_EQ(q1("SELECT seq FROM g_exploitation WHERE is_last = 1"), 2);
    ASSERT_EQ(q1("SELECT is_last FROM g_indicators"), 1);

    rt t = {&r, 0};
    ASSERT_EQ(store_scan(s, NULL, check_roundtrip, &t), SP_OK);
    ASSERT_EQ(t.seen, 1);

    /* the hostile value is also a filter value, bound, never spliced */
    sp_filter f;
    memset(&f, 0, sizeof f);
    f.where[0].field = "case_ref";
    f.where[0].value = hostile;
    f.where[1].field = "exploitation.locality";
    f.where[1].value = hostile;
    f.nwhere = 2;
    long long n = 0;
    ASSERT_EQ(store_count_records(s, &f, &n), SP_OK);
    ASSERT_EQ(n, 1);
    ASSERT_EQ(q1("SELECT count(*) FROM record WHERE promised_job = 'x''); DROP TABLE record;--'"), 1);
    record_free(&r);
    finish(s);
}

/* A group row with every cell missing is not stored; is_last follows the
 * last stored row. */
TEST(store_group_empty_rows)
{
    sp_store *s = open_new();
    long long org = new_org(s, "Alpha", NULL), sub = new_sub(s, org, "x"), id;
    sp_record r;
    record_init(&r, cb);
    set(&r, "case_ref", "g1");
    gset(&r, "exploitation", 0, "country", "MM");
    (void)record_group_cell(&r, codebook_field(cb, "exploitation")->index, 2, 0);  /* rows 1, 2 empty */
    ASSERT_EQ(store_record_add(s, sub, org, &r, 0, &id), SP_OK);
    ASSERT_EQ(q1("SELECT count(*) FROM g_exploitation"), 1);
    ASSERT_EQ(q1("SELECT is_last FROM g_exploitation"), 1);
    record_free(&r);
    finish(s);
}

TEST(store_filters_scan)
{
    sp_store *s = open_new();
    sp_buf b;
    sp_filter f;
    long long n;
    sp_buf_init(&b, 1 << 16);
    add_dataset(s);
    memset(&f, 0, sizeof f);
    ASSERT_STR_EQ(scan_refs(s, NULL, &b), "r1,r2,r3,r4,r5");   /* r6 withdrawn */
    ASSERT_EQ(store_record_count(s), 5);
    f.year_from = 2022;
    ASSERT_STR_EQ(scan_refs(s, &f, &b), "r2,r3,r4,r5");
    f.year_to = 2022;
    ASSERT_STR_EQ(scan_refs(s, &f, &b), "r2,r3,r5");
    ASSERT_EQ(store_count_records(s, &f, &n), SP_OK);
    ASSERT_EQ(n, 3);
    memset(&f, 0, sizeof f);
    f.org_region = "Europe";
    ASSERT_STR_EQ(scan_refs(s, &f, &b), "r4,r5");
    f.org_region = "Asia";
    ASSERT_STR_EQ(scan_refs(s, &f, &b), "r1,r2,r3");
    memset(&f, 0, sizeof f);
    f.org_id = orgb;
    ASSERT_STR_EQ(scan_refs(s, &f, &b), "r4,r5");
    memset(&f, 0, sizeof f);
    f.where[0] = (sp_where){"nationality", "VN"};
    f.nwhere = 1;
    ASSERT_STR_EQ(scan_refs(s, &f, &b), "r1,r2,r4");
    f.where[0] = (sp_where){"control_means", "threats"};
    ASSERT_STR_EQ(scan_refs(s, &f, &b), "r1,r2,r4");
    f.where[0] = (sp_where){"exploitation.country", "MM"};   /* any row */
    ASSERT_STR_EQ(scan_refs(s, &f, &b), "r1,r5");
    f.where[0] = (sp_where){"exploitation[].country", "KH"};
    ASSERT_STR_EQ(scan_refs(s, &f, &b), "r1,r2");
    f.where[0] = (sp_where){"year_identified", "2022"};
    ASSERT_STR_EQ(scan_refs(s, &f, &b), "r2,r3,r5");
    f.where[0] = (sp_where){"age.lo", "18"};
    ASSERT_STR_EQ(scan_refs(s, &f, &b), "r2");
    f.where[0] = (sp_where){"age", "25"};
    ASSERT_STR_EQ(scan_refs(s, &f, &b), "r1");
    f.where[0] = (sp_where){"control_means", "debt_bondage"};
    f.where[1] = (sp_where){"gender", "male"};
    f.nwhere = 2;
    ASSERT_STR_EQ(scan_refs(s, &f, &b), "r4");
    f.year_to = 2022;
    ASSERT_STR_EQ(scan_refs(s, &f, &b), "");
    /* multiple and group values of the scanned records are complete even
     * when the filter picks on them */
    f.year_to = 0;
    f.nwhere = 1;
    f.where[0] = (sp_where){"control_means", "threats"};
    f.org_id = orgb;
    ASSERT_STR_EQ(scan_refs(s, &f, &b), "r4");
    /* unknown filter fields are refused */
    memset(&f, 0, sizeof f);
    f.where[0] = (sp_where){"nosuch", "x"};
    f.nwhere = 1;
    ASSERT_EQ(store_scan(s, &f, collect_refs, &b), SP_EUSAGE);
    ASSERT_EQ(store_count_records(s, &f, &n), SP_EUSAGE);
    f.where[0] = (sp_where){"exploitation", "MM"};
    ASSERT_EQ(store_count_records(s, &f, &n), SP_EUSAGE);
    sp_buf_free(&b);
    finish(s);
}

typedef struct scancheck { int n; int stop_at; } scancheck;
static int check_r1(const sp_record *r, const sp_record_meta *m, void *ud)
{
    scancheck *c = ud;
    const sp_codebook *k = r->cb;
    c->n++;
    if (c->n == c->stop_at) return 7;
    if (m->id != 1) return 0;
    const rec_values *cm = &r->vals[codebook_field(k, "control_means")->index];
    ASSERT_EQ(cm->n, 2);
    ASSERT_STR_EQ(cm->v[0].text, "confinement");
    ASSERT_STR_EQ(cm->v[1].text, "threats");
    const cb_field *ex = codebook_field(k, "exploitation");
    const rec_group *g = &r->groups[ex->index];
    ASSERT_EQ(g->nrows, 2);
    ASSERT_STR_EQ(g->cells[0].text, "MM");
    ASSERT_STR_EQ(g->cells[codebook_subfield(ex, "locality")->index].text, "Shwe Kokko");
    ASSERT_STR_EQ(g->cells[ex->nsub].text, "KH");
    ASSERT_NULL(g->cells[ex->nsub + (size_t)codebook_subfield(ex, "locality")->index].text);
    const cb_cell *age = record_get(r, codebook_field(k, "age")->index);
    ASSERT_NOT_NULL(age);
    ASSERT_EQ(age->lo, 25);
    ASSERT_EQ(age->hi, 25);
    ASSERT_STR_EQ(m->org_name, "Alpha Foundation");
    ASSERT_EQ(m->org_id, orga);
    return 0;
}

TEST(store_scan_values_and_stop)
{
    sp_store *s = open_new();
    add_dataset(s);
    scancheck c = {0, 0};
    ASSERT_EQ(store_scan(s, NULL, check_r1, &c), SP_OK);
    ASSERT_EQ(c.n, 5);
    c = (scancheck){0, 2};
    ASSERT_EQ(store_scan(s, NULL, check_r1, &c), 7);
    ASSERT_EQ(c.n, 2);
    finish(s);
}

TEST(store_counts)
{
    sp_store *s = open_new();
    sp_filter f;
    add_dataset(s);
    ASSERT_STR_EQ(count(s, NULL, "gender", NULL), "-=1;female=2;male=2;");
    ASSERT_STR_EQ(count(s, NULL, "year_identified", NULL), "2021=1;2022=3;2023=1;");
    ASSERT_STR_EQ(count(s, NULL, "year_identified", "gender"),
                  "2021|female=1;2022|-=1;2022|female=1;2022|male=1;2023|male=1;");
    ASSERT_STR_EQ(count(s, NULL, "control_means", NULL),
                  "-=2;confinement=1;debt_bondage=1;threats=3;");
    ASSERT_STR_EQ(count(s, NULL, "exploitation.country", NULL), "-=1;KH=2;LA=2;");
    ASSERT_STR_EQ(count(s, NULL, "exploitation[].country", NULL), "-=1;KH=2;LA=2;MM=2;");
    ASSERT_STR_EQ(count(s, NULL, "org", NULL), "Alpha Foundation=3;Bravo Org=2;");
    ASSERT_STR_EQ(count(s, NULL, "org_region", NULL), "Asia=3;Europe=2;");
    ASSERT_STR_EQ(count(s, NULL, "age.lo", NULL), "-=2;18=1;25=1;30=1;");
    ASSERT_STR_EQ(count(s, NULL, "age.hi", NULL), "-=2;24=1;25=1;30=1;");
    ASSERT_STR_EQ(count(s, NULL, "org_region", "control_means"),
                  "Asia|-=1;Asia|confinement=1;Asia|threats=2;Europe|-=1;"
                  "Europe|debt_bondage=1;Europe|threats=1;");
    ASSERT_STR_EQ(count(s, NULL, "nationality", "exploitation.country"),
                  "ID|-=1;PH|LA=1;VN|KH=2;VN|LA=1;");
    memset(&f, 0, sizeof f);
    f.where[0] = (sp_where){"nationality", "VN"};
    f.nwhere = 1;
    ASSERT_STR_EQ(count(s, &f, "gender", NULL), "female=1;male=2;");
    f.year_from = 2022;
    ASSERT_STR_EQ(count(s, &f, "control_means", NULL), "debt_bondage=1;threats=2;");
    memset(&f, 0, sizeof f);
    f.org_region = "Europe";
    ASSERT_STR_EQ(count(s, &f, "exploitation[].country", NULL), "LA=2;MM=1;");

    /* the withdrawn submission counts again once restored */
    ASSERT_EQ(store_submission_set_status(s, 3, "stored"), SP_OK);
    ASSERT_STR_EQ(count(s, NULL, "gender", NULL), "-=1;female=3;male=2;");

    static const char *const bad[] = {"nosuch", "exploitation", "age", "gender.lo",
                                      "exploitation.nosuch", "[].country", "age[].lo",
                                      "Gender", "gender; DROP TABLE record"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *d[1] = {bad[i]};
        ASSERT_EQ(store_count(s, NULL, d, 1, collect_counts, NULL), SP_EUSAGE);
        if (strcmp(bad[i], "age") != 0) ASSERT(!store_dim_valid(s, bad[i]));
    }
    const char *five[5] = {"gender", "gender", "gender", "gender", "gender"};
    ASSERT_EQ(store_count(s, NULL, five, 5, collect_counts, NULL), SP_EUSAGE);
    ASSERT(store_dim_valid(s, "exploitation[].country"));
    ASSERT(store_dim_valid(s, "org_region"));
    ASSERT(store_dim_valid(s, "age.hi"));
    ASSERT(store_dim_valid(s, "transit_countries"));
    finish(s);
}

/* Case C1: one multiple value (control_means) and one exploitation row,
 * so that adding and deleting it touch record, record_multi and a group. */
static void case_c1(sp_record *r)
{
    record_init(r, cb);
    set(r, "case_ref", "C1");
    set(r, "control_means", "threats");
    gset(r, "exploitation", 0, "country", "MM");
}

TEST(store_replace_and_rollback)
{
    sp_store *s = open_new();
    long long a = new_org(s, "A", NULL), b = new_org(s, "B", NULL);
    long long sa = new_sub(s, a, "1"), sb = new_sub(s, b, "2"), id, del = -1;
    sp_record r;
    case_c1(&r);
    ASSERT_EQ(store_begin(s), SP_OK);
    ASSERT_EQ(store_record_add(s, sa, a, &r, 0, &id), SP_OK);
    ASSERT_EQ(store_record_add(s, sa, a, &r, 0, &id), SP_OK);
    ASSERT_EQ(store_record_add(s, sb, b, &r, 0, &id), SP_OK);
    ASSERT_EQ(store_commit(s), SP_OK);
    ASSERT_EQ(q1("SELECT count(*) FROM record_multi"), 3);

    ASSERT_EQ(store_begin(s), SP_OK);
    ASSERT_EQ(store_record_delete_case(s, a, "C1", &del), SP_OK);
    ASSERT_EQ(del, 2);
    ASSERT_EQ(store_record_delete_case(s, a, "C1", &del), SP_OK);
    ASSERT_EQ(del, 0);
    ASSERT_EQ(store_commit(s), SP_OK);
    ASSERT_EQ(store_record_count(s), 1);
    ASSERT_EQ(q1("SELECT count(*) FROM record_multi"), 1);   /* cascaded */
    ASSERT_EQ(q1("SELECT count(*) FROM g_exploitation"), 1);

    /* a rolled-back import leaves nothing behind */
    ASSERT_EQ(store_begin(s), SP_OK);
    long long sc = new_sub(s, a, "3");
    ASSERT(sc > 0);
    for (int i = 0; i < 10; i++) ASSERT_EQ(store_record_add(s, sc, a, &r, 0, &id), SP_OK);
    ASSERT_EQ(store_rollback(s), SP_OK);
    ASSERT_EQ(store_record_count(s), 1);
    ASSERT_EQ(q1("SELECT count(*) FROM record_multi"), 1);
    ASSERT_EQ(q1("SELECT count(*) FROM g_exploitation"), 1);
    ASSERT_EQ(q1("SELECT count(*) FROM submission"), 2);
    ASSERT_EQ(store_rollback(s), SP_OK);   /* nothing open: harmless */

    /* a record for a submission that does not exist is refused */
    ASSERT_EQ(store_record_add(s, 999, a, &r, 0, &id), SP_EDB);
    ASSERT_CONTAINS(store_errmsg(s), "FOREIGN KEY");
    record_free(&r);
    finish(s);
}

/* An import's transaction that only adds (store_begin_bulk): its records
 * and their parts are stored with consistent references, deleting in it is
 * refused, and the foreign-key checks are back on once it ends, whether it
 * commits or rolls back. */
TEST(store_bulk_adds)
{
    sp_store *s = open_new();
    long long a = new_org(s, "A", NULL), id = 0, del = -1;
    sp_record r;
    case_c1(&r);

    ASSERT_EQ(store_begin_bulk(s), SP_OK);
    ASSERT_EQ(store_begin_bulk(s), SP_EUSAGE);            /* one at a time */
    long long sa = new_sub(s, a, "1");
    for (int i = 0; i < 5; i++) ASSERT_EQ(store_record_add(s, sa, a, &r, 0, &id), SP_OK);
    ASSERT_EQ(store_record_delete_case(s, a, "C1", &del), SP_EUSAGE);
    ASSERT_CONTAINS(store_errmsg(s), "only adds");
    ASSERT_EQ(store_case_replace(s, id, &r), SP_EUSAGE);
    ASSERT_EQ(store_commit(s), SP_OK);
    ASSERT_EQ(store_record_count(s), 5);
    ASSERT_EQ(q1("SELECT count(*) FROM record_multi"), 5);
    ASSERT_EQ(q1("SELECT count(*) FROM g_exploitation"), 5);
    ASSERT_EQ(q1("SELECT count(*) FROM pragma_foreign_key_check"), 0);
    /* checks on again after the commit: a dangling reference is refused */
    ASSERT_EQ(store_record_add(s, 999, a, &r, 0, &id), SP_EDB);
    ASSERT_CONTAINS(store_errmsg(s), "FOREIGN KEY");
    /* and deletes cascade again */
    ASSERT_EQ(store_record_delete_case(s, a, "C1", &del), SP_OK);
    ASSERT_EQ(del, 5);
    ASSERT_EQ(q1("SELECT count(*) FROM record_multi"), 0);

    /* rolled back: nothing stays, and the checks are on again */
    ASSERT_EQ(store_begin_bulk(s), SP_OK);
    long long sb = new_sub(s, a, "2");
    ASSERT_EQ(store_record_add(s, sb, a, &r, 0, &id), SP_OK);
    ASSERT_EQ(store_rollback(s), SP_OK);
    ASSERT_EQ(store_record_count(s), 0);
    ASSERT_EQ(store_record_add(s, 999, a, &r, 0, &id), SP_EDB);
    ASSERT_CONTAINS(store_errmsg(s), "FOREIGN KEY");

    /* not inside another transaction */
    ASSERT_EQ(store_begin(s), SP_OK);
    ASSERT_EQ(store_begin_bulk(s), SP_EUSAGE);
    ASSERT_EQ(store_rollback(s), SP_OK);
    record_free(&r);
    finish(s);
}

/* A copy of the embedded codebook with a field, a multiple field and a
 * group sub-field added; caller frees. */
static char *grown_codebook(size_t *len)
{
    size_t n = 0;
    const char *j = embed_get("codebook/codebook.json", &n);
    ASSERT_NOT_NULL(j);
    const char *add_top =
        "{\"name\": \"shelter_days\", \"type\": \"integer\", \"label\": \"Days in shelter\","
        " \"help\": \"\", \"section\": \"exit\", \"min\": 0, \"max\": 3650},"
        "{\"name\": \"support_given\", \"type\": \"code\", \"label\": \"Support given\","
        " \"help\": \"\", \"section\": \"exit\", \"multiple\": true,"
        " \"values\": [{\"code\": \"legal\", \"label\": \"Legal aid\"},"
        " {\"code\": \"medical\", \"label\": \"Medical care\"}]},";
    const char *add_sub =
        "{\"name\": \"floor\", \"type\": \"integer\", \"label\": \"Floor\","
        " \"help\": \"\", \"section\": \"places\", \"min\": 0, \"max\": 200},";
    const char *key = "\"fields\": [";
    const char *p1 = strstr(j, key);
    ASSERT_NOT_NULL(p1);
    const char *p2 = strstr(p1 + 1, key);     /* the exploitation group's */
    ASSERT_NOT_NULL(p2);
    p1 += strlen(key);
    p2 += strlen(key);
    char *out = malloc(n + strlen(add_top) + strlen(add_sub) + 1);
    size_t o = 0;
    memcpy(out, j, (size_t)(p1 - j)); o += (size_t)(p1 - j);
    memcpy(out + o, add_top, strlen(add_top)); o += strlen(add_top);
    memcpy(out + o, p1, (size_t)(p2 - p1)); o += (size_t)(p2 - p1);
    memcpy(out + o, add_sub, strlen(add_sub)); o += strlen(add_sub);
    memcpy(out + o, p2, n - (size_t)(p2 - j)); o += n - (size_t)(p2 - j);
    out[o] = '\0';
    *len = o;
    return out;
}

static int count_all(const sp_record *r, const sp_record_meta *m, void *ud)
{
    (void)r; (void)m;
    (*(int *)ud)++;
    return 0;
}

TEST(store_codebook_grows)
{
    sp_store *s = open_new();
    sp_err e;
    sp_codebook *cb2 = NULL;
    size_t len;
    long long org = new_org(s, "A", NULL), sub = new_sub(s, org, "1"), id;
    sp_record r;
    record_init(&r, cb);
    set(&r, "case_ref", "old");
    gset(&r, "exploitation", 0, "country", "MM");
    ASSERT_EQ(store_record_add(s, sub, org, &r, 0, &id), SP_OK);
    record_free(&r);
    store_close(s);
    ASSERT_EQ(q1("SELECT count(*) FROM pragma_table_info('record') WHERE name = 'shelter_days'"), 0);

    char *json = grown_codebook(&len);
    sp_err_init(&e);
    if (codebook_load_mem(&cb2, json, len, gaz, &e)) { sp_err_print(&e, stderr); TFAIL("grown codebook"); }
    free(json);
    ASSERT_EQ(store_open(&s, dbpath, cb2, 0, &e), SP_OK);
    ASSERT_EQ(q1("SELECT count(*) FROM pragma_table_info('record') WHERE name = 'shelter_days' "
                 "AND type = 'INTEGER'"), 1);
    ASSERT_EQ(q1("SELECT count(*) FROM pragma_table_info('g_exploitation') WHERE name = 'floor'"), 1);
    ASSERT_EQ(q1("SELECT count(*) FROM pragma_table_info('record') WHERE name = 'support_given'"), 0);
    ASSERT_EQ(q1("PRAGMA user_version"), store_schema_version());
    ASSERT_GE(store_schema_version(), 1);

    record_init(&r, cb2);
    set(&r, "case_ref", "new");
    set(&r, "shelter_days", "40");
    set(&r, "support_given", "legal");
    gset(&r, "exploitation", 0, "floor", "7");
    ASSERT_EQ(store_record_add(s, sub, org, &r, 0, &id), SP_OK);
    record_free(&r);
    int n = 0;
    ASSERT_EQ(store_scan(s, NULL, count_all, &n), SP_OK);
    ASSERT_EQ(n, 2);
    const char *d[1] = {"shelter_days"};
    countbuf c;
    sp_buf_init(&c.b, 4096);
    c.ndims = 1;
    ASSERT_EQ(store_count(s, NULL, d, 1, collect_counts, &c), SP_OK);
    ASSERT_STR_EQ(c.b.data, "-=1;40=1;");
    sp_buf_reset(&c.b);
    d[0] = "exploitation.floor";
    ASSERT_EQ(store_count(s, NULL, d, 1, collect_counts, &c), SP_OK);
    ASSERT_STR_EQ(c.b.data, "-=1;7=1;");
    sp_buf_free(&c.b);
    store_close(s);

    /* the old codebook still opens the hub: columns are never dropped, and
     * a multiple value of a field it does not know is not shown */
    ASSERT_EQ(store_open(&s, dbpath, cb, 0, &e), SP_OK);
    n = 0;
    ASSERT_EQ(store_scan(s, NULL, count_all, &n), SP_OK);
    ASSERT_EQ(n, 2);
    ASSERT_EQ(q1("SELECT count(*) FROM pragma_table_info('record') WHERE name = 'shelter_days'"), 1);
    store_close(s);

    /* a field whose type changed is refused, not silently mis-stored */
    size_t n0 = 0;
    const char *j = embed_get("codebook/codebook.json", &n0);
    char *bad = malloc(n0 + 1);
    memcpy(bad, j, n0 + 1);
    char *p = strstr(bad, "\"ransom_paid_amount\"");
    ASSERT_NOT_NULL(p);
    p = strstr(p, "\"decimal\"");
    ASSERT_NOT_NULL(p);
    memcpy(p, "\"integer\"", 9);
    sp_codebook *cb3 = NULL;
    ASSERT_EQ(codebook_load_mem(&cb3, bad, n0, gaz, &e), SP_OK);
    free(bad);
    s = NULL;
    ASSERT_NE(store_open(&s, dbpath, cb3, 0, &e), SP_OK);
    ASSERT_NULL(s);
    ASSERT_CONTAINS(sp_err_last(&e), "type cannot change");
    codebook_free(cb3);
    codebook_free(cb2);
    sp_err_free(&e);
    finish(NULL);
}

/* Record i (case_ref "c<i>") has threats iff i % 3 == 0, a first place iff
 * i % 5 == 0 and a second iff i % 10 == 0. */
static int check_merge(const sp_record *r, const sp_record_meta *m, void *ud)
{
    const sp_codebook *k = r->cb;
    const cb_cell *ref = record_get(r, codebook_field(k, "case_ref")->index);
    int i = atoi(ref->text + 1);
    (void)m;
    (*(int *)ud)++;
    ASSERT_EQ(r->vals[codebook_field(k, "control_means")->index].n, i % 3 == 0);
    ASSERT_EQ(r->groups[codebook_field(k, "exploitation")->index].nrows,
              (i % 5 == 0) + (i % 10 == 0));
    return 0;
}

TEST(store_scan_large_constant)
{
    /* 3000 records through one transaction; the scan sees every multiple
     * and group value in step with its record */
    sp_store *s = open_new();
    long long org = new_org(s, "A", "TH"), sub = new_sub(s, org, "1"), id;
    sp_record r;
    char ref[32];
    record_init(&r, cb);
    ASSERT_EQ(store_begin(s), SP_OK);
    for (int i = 0; i < 3000; i++) {
        record_reset(&r);
        snprintf(ref, sizeof ref, "c%d", i);
        set(&r, "case_ref", ref);
        if (i % 3 == 0) set(&r, "control_means", "threats");
        if (i % 5 == 0) gset(&r, "exploitation", 0, "country", "KH");
        if (i % 10 == 0) gset(&r, "exploitation", 1, "country", "MM");
        ASSERT_EQ(store_record_add(s, sub, org, &r, 0, &id), SP_OK);
    }
    ASSERT_EQ(store_commit(s), SP_OK);
    record_free(&r);
    ASSERT_STR_EQ(count(s, NULL, "exploitation.country", NULL), "-=2400;KH=300;MM=300;");
    ASSERT_STR_EQ(count(s, NULL, "control_means", NULL), "-=2000;threats=1000;");
    int n = 0;
    ASSERT_EQ(store_scan(s, NULL, check_merge, &n), SP_OK);
    ASSERT_EQ(n, 3000);
    sp_filter f;
    memset(&f, 0, sizeof f);
    f.where[0] = (sp_where){"exploitation.country", "MM"};
    f.nwhere = 1;
    n = 0;
    ASSERT_EQ(store_scan(s, &f, check_merge, &n), SP_OK);
    ASSERT_EQ(n, 300);
    finish(s);
}

/* ------------------------------------------------------------- the cube */

static unsigned long long rng_state;
static unsigned rnd(unsigned n)
{
    rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
    return (unsigned)((rng_state >> 33) % n);
}

/* A code of field `name` at random. */
static const char *rcode(const char *name)
{
    const cb_field *f = codebook_field(cb, name);
    ASSERT_NOT_NULL(f);
    return f->values[rnd((unsigned)f->nvalues)].code;
}

static const char *const countries[] = {"VN", "ID", "PH", "MM", "KH", "TH", "LA", "CN"};
static const char *const localities[] = {"Shwe Kokko", "KK Park", "Sihanoukville", "Golden Triangle"};
static long long porg[3], psub[4];

/* n random records over a few fields, in orgs TH (Asia), GB (Europe) and
 * unknown country (no region); submission 4 is synthetic, submission 3
 * is withdrawn afterwards. */
static void add_random(sp_store *s, int n)
{
    sp_record r;
    char buf[32];
    porg[0] = new_org(s, "Alpha Foundation", "TH");
    porg[1] = new_org(s, "Bravo Org", "GB");
    porg[2] = new_org(s, "charlie", NULL);
    for (int i = 0; i < 4; i++) {
        snprintf(buf, sizeof buf, "sha%d", i);
        ASSERT_EQ(store_submission_add(s, porg[i % 3], "x.csv", buf, i == 3, &psub[i]), SP_OK);
    }
    record_init(&r, cb);
    ASSERT_EQ(store_begin(s), SP_OK);
    for (int i = 0; i < n; i++) {
        int k = (int)rnd(4);
        snprintf(buf, sizeof buf, "c%d", i);
        set(&r, "case_ref", buf);
        if (rnd(10)) { snprintf(buf, sizeof buf, "%u", 2019 + rnd(6)); set(&r, "year_identified", buf); }
        if (rnd(5)) set(&r, "gender", rcode("gender"));
        if (rnd(4)) set(&r, "industry", rcode("industry"));
        if (rnd(3)) {
            static const char *const ages[] = {"25", "18-24", "30", "48+", "17", "25-29"};
            set(&r, "age", ages[rnd(6)]);
        }
        if (rnd(6)) set(&r, "nationality", countries[rnd(8)]);
        if (rnd(3)) { snprintf(buf, sizeof buf, "%u", rnd(30)); set(&r, "months_exploited", buf); }
        for (unsigned m = rnd(4); m > 0; m--) set(&r, "control_means", rcode("control_means"));
        for (unsigned m = rnd(3); m > 0; m--) set(&r, "transit_countries", countries[rnd(8)]);
        unsigned rows = rnd(4);
        for (unsigned row = 0; row < rows; row++) {
            if (rnd(5)) gset(&r, "exploitation", row, "country", countries[rnd(4) + 3]);
            if (rnd(2)) gset(&r, "exploitation", row, "locality", localities[rnd(4)]);
        }
        record_trim_groups(&r);
        ASSERT_EQ(store_record_add(s, psub[k], porg[k % 3], &r, k == 3, NULL), SP_OK);
        record_reset(&r);
    }
    ASSERT_EQ(store_commit(s), SP_OK);
    record_free(&r);
}

/* store_count's rows as text, from the cube (mode 1) or SQL (mode 0). */
static char *count_mode(sp_store *s, int mode, const sp_filter *f, const char *const *dims,
                        size_t nd)
{
    countbuf c;
    sp_buf_init(&c.b, 1 << 22);
    c.ndims = nd;
    store_set_cube_mode(s, mode);
    int rc = store_count(s, f, dims, nd, collect_counts, &c);
    if (rc) TFAIL("store_count mode %d: %d %s", mode, rc, store_errmsg(s));
    long long n = -1;
    ASSERT_EQ(store_count_records(s, f, &n), SP_OK);
    sp_buf_printf(&c.b, "records=%lld", n);
    return sp_buf_steal(&c.b);
}

TEST(store_cube_matches_sql)
{
    static const char *const dims[] = {
        "gender", "year_identified", "age.lo", "age.hi", "nationality", "control_means",
        "transit_countries", "exploitation.country", "exploitation[].country",
        "exploitation.locality", "exploitation[].locality", "org", "org_region", "synthetic",
        "industry", "months_exploited",
    };
    static const char *const wfield[] = {
        "gender", "nationality", "control_means", "exploitation.country",
        "exploitation[].country", "age", "org", "synthetic", "year_identified",
        "transit_countries", "org_region", "months_exploited", "exploitation[].locality",
    };
    sp_store *s = open_new();
    rng_state = 12345;
    add_random(s, 3000);
    ASSERT_EQ(store_submission_set_status(s, psub[2], "withdrawn"), SP_OK);
    store_cube_stats st;
    size_t ndims = sizeof dims / sizeof dims[0];
    for (int iter = 0; iter < 300; iter++) {
        const char *d[3];
        size_t nd = 1 + rnd(3);
        for (size_t i = 0; i < nd; i++) d[i] = dims[rnd((unsigned)ndims)];
        sp_filter f;
        char vb[SP_MAX_WHERE][32];
        memset(&f, 0, sizeof f);
        if (rnd(3) == 0) f.year_from = 2019 + (int)rnd(5);
        if (rnd(4) == 0) f.year_to = 2020 + (int)rnd(5);
        if (rnd(5) == 0) f.org_region = rnd(2) ? "Asia" : "Europe";
        if (rnd(6) == 0) f.org_id = porg[rnd(3)];
        for (unsigned w = rnd(3); w > 0; w--) {
            const char *fld = wfield[rnd(sizeof wfield / sizeof wfield[0])];
            const char *v;
            if (!strcmp(fld, "gender")) v = rcode("gender");
            else if (!strcmp(fld, "control_means")) v = rcode("control_means");
            else if (!strcmp(fld, "age")) v = rnd(2) ? "25" : "18-24";
            else if (!strcmp(fld, "org")) v = rnd(2) ? "ALPHA foundation" : "Bravo Org";
            else if (!strcmp(fld, "synthetic")) v = rnd(2) ? "1" : "0";
            else if (!strcmp(fld, "year_identified")) v = rnd(2) ? "2021" : "2022.0";
            else if (!strcmp(fld, "org_region")) v = "Asia";
            else if (!strcmp(fld, "months_exploited")) {
                snprintf(vb[f.nwhere], sizeof vb[0], "%u", rnd(30));
                v = vb[f.nwhere];
            }
            else if (!strcmp(fld, "exploitation[].locality")) v = localities[rnd(4)];
            else v = countries[rnd(8)];
            f.where[f.nwhere++] = (sp_where){fld, v};
        }
        char *a = count_mode(s, 1, &f, d, nd);
        char *b = count_mode(s, 0, &f, d, nd);
        if (strcmp(a, b) != 0)
            TFAIL("iteration %d (%s, %s, %s): cube\n%.2000s\nSQL\n%.2000s", iter, d[0],
                  nd > 1 ? d[1] : "", nd > 2 ? d[2] : "", a, b);
        free(a);
        free(b);
    }
    /* one cube served every query */
    ASSERT_EQ(store_cube_info(s, &st), SP_OK);
    ASSERT_EQ(st.builds, 1);
    ASSERT_EQ(st.records, q1("SELECT count(*) FROM record WHERE submission_id <> 3"));
    ASSERT(st.bytes > 0);
    finish(s);
}

TEST(store_cube_generation)
{
    sp_store *s = open_new(), *s2 = NULL;
    sp_err e;
    long long g0, g1, g2, id;
    sp_record r;
    sp_err_init(&e);
    ASSERT_EQ(store_generation(s, &g0), SP_OK);
    rng_state = 7;
    add_random(s, 50);
    ASSERT_EQ(store_generation(s, &g1), SP_OK);
    ASSERT_EQ(g1, g0 + 1);                /* the import: one bump */
    /* a rollback leaves it */
    record_init(&r, cb);
    set(&r, "case_ref", "x");
    ASSERT_EQ(store_begin(s), SP_OK);
    ASSERT_EQ(store_record_add(s, psub[0], porg[0], &r, 0, &id), SP_OK);
    ASSERT_EQ(store_rollback(s), SP_OK);
    ASSERT_EQ(store_generation(s, &g2), SP_OK);
    ASSERT_EQ(g2, g1);
    /* a second handle shares the cube, and sees the first's changes */
    ASSERT_EQ(store_open(&s2, dbpath, cb, 0, &e), SP_OK);
    store_set_cube_mode(s, 1);
    store_set_cube_mode(s2, 1);
    long long n1 = 0, n2 = 0;
    ASSERT_EQ(store_count_records(s, NULL, &n1), SP_OK);
    ASSERT_EQ(store_count_records(s2, NULL, &n2), SP_OK);
    ASSERT_EQ(n1, 50);
    ASSERT_EQ(n2, 50);
    store_cube_stats st;
    ASSERT_EQ(store_cube_info(s2, &st), SP_OK);
    ASSERT_EQ(st.builds, 1);
    ASSERT_EQ(st.handles, 2);
    ASSERT_EQ(st.generation, g1);
    /* a write outside a transaction bumps at once */
    ASSERT_EQ(store_record_add(s, psub[0], porg[0], &r, 0, &id), SP_OK);
    ASSERT_EQ(store_generation(s2, &g2), SP_OK);
    ASSERT_EQ(g2, g1 + 1);
    ASSERT_EQ(store_count_records(s2, NULL, &n2), SP_OK);
    ASSERT_EQ(n2, 51);
    ASSERT_EQ(store_cube_info(s, &st), SP_OK);
    ASSERT_EQ(st.builds, 2);
    /* inside a write transaction SQL answers: the caller's own records count */
    ASSERT_EQ(store_begin(s), SP_OK);
    ASSERT_EQ(store_record_add(s, psub[0], porg[0], &r, 0, &id), SP_OK);
    ASSERT_EQ(store_count_records(s, NULL, &n1), SP_OK);
    ASSERT_EQ(n1, 52);
    ASSERT_EQ(store_commit(s), SP_OK);
    /* withdrawing: a new generation, the records leave the cube */
    long long before = 0, in_sub = q1("SELECT count(*) FROM record WHERE submission_id = 1");
    ASSERT_EQ(store_count_records(s2, NULL, &before), SP_OK);
    ASSERT_EQ(before, 52);
    ASSERT_EQ(store_submission_set_status(s, psub[0], "withdrawn"), SP_OK);
    ASSERT_EQ(store_count_records(s2, NULL, &n2), SP_OK);
    ASSERT_EQ(n2, 52 - in_sub);
    /* an org's new country moves its records to another region */
    const char *d[1] = {"org_region"};
    char *a = count_mode(s2, 1, NULL, d, 1);
    ASSERT_EQ(store_org_set_country(s, porg[2], "PH"), SP_OK);
    char *b = count_mode(s2, 1, NULL, d, 1);
    char *c = count_mode(s2, 0, NULL, d, 1);
    ASSERT(strcmp(a, b) != 0);
    ASSERT_STR_EQ(b, c);
    free(a);
    free(b);
    free(c);
    ASSERT_EQ(store_cube_info(s, &st), SP_OK);
    ASSERT_EQ(st.builds, 5);
    /* a change by another connection (another process) is seen too */
    exec_raw("UPDATE meta SET value = CAST(CAST(value AS INTEGER) + 1 AS TEXT) WHERE key = 'generation'");
    ASSERT_EQ(store_count_records(s, NULL, &n1), SP_OK);
    ASSERT_EQ(store_cube_info(s, &st), SP_OK);
    ASSERT_EQ(st.builds, 6);
    record_free(&r);
    store_close(s2);
    sp_err_free(&e);
    finish(s);
}

/* Several handles in several threads, one cube. */
typedef struct thr_arg { sp_store *s; long long n; int rc; } thr_arg;
static void *thr_count(void *p)
{
    thr_arg *a = p;
    for (int i = 0; i < 20 && a->rc == 0; i++) a->rc = store_count_records(a->s, NULL, &a->n);
    return NULL;
}

TEST(store_cube_threads)
{
    sp_store *s = open_new(), *h[4];
    sp_err e;
    pthread_t t[4];
    thr_arg a[4];
    sp_err_init(&e);
    rng_state = 99;
    add_random(s, 200);
    for (int i = 0; i < 4; i++) {
        ASSERT_EQ(store_open(&h[i], dbpath, cb, 0, &e), SP_OK);
        store_set_cube_mode(h[i], 1);
        a[i] = (thr_arg){h[i], 0, 0};
    }
    for (int i = 0; i < 4; i++) ASSERT_EQ(pthread_create(&t[i], NULL, thr_count, &a[i]), 0);
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        ASSERT_EQ(a[i].rc, SP_OK);
        ASSERT_EQ(a[i].n, 200);
    }
    store_cube_stats st;
    ASSERT_EQ(store_cube_info(s, &st), SP_OK);
    ASSERT_EQ(st.builds, 1);
    ASSERT_EQ(st.handles, 5);
    for (int i = 0; i < 4; i++) store_close(h[i]);
    ASSERT_EQ(store_cube_info(s, &st), SP_OK);
    ASSERT_EQ(st.handles, 1);
    sp_err_free(&e);
    finish(s);
}

/* The automatic mode: small hubs stay on SQL (no cube is built). */
TEST(store_cube_threshold)
{
    sp_store *s = open_new();
    rng_state = 3;
    add_random(s, 100);
    store_set_cube_mode(s, -1);
    const char *d[1] = {"synthetic"};
    ASSERT(store_dim_valid(s, "synthetic"));
    char *a = count_mode(s, -1, NULL, d, 1);
    char *b = count_mode(s, 1, NULL, d, 1);
    ASSERT_STR_EQ(a, b);
    ASSERT_CONTAINS(a, "1=");
    store_cube_stats st;
    ASSERT_EQ(store_cube_info(s, &st), SP_OK);
    ASSERT_EQ(st.builds, 1);               /* only the forced count built one */
    free(a);
    free(b);
    finish(s);
}

TEST_LIST(store_create_reopen_migrate, store_open_errors, store_orgs, store_submissions,
          store_record_roundtrip_hostile, store_group_empty_rows, store_filters_scan,
          store_scan_values_and_stop, store_counts, store_replace_and_rollback, store_bulk_adds,
          store_codebook_grows, store_scan_large_constant, store_cube_matches_sql,
          store_cube_generation, store_cube_threads, store_cube_threshold)
