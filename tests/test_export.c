/* test_export.c -- streaming export: CSV, JSON and XLSX read back, formula
 * neutralising, sensitive fields, the HTCDS mapping, filters. */
#include "test.h"

#include <jansson.h>
#include <zip.h>

#include "demo.h"
#include "export.h"
#include "reader.h"

static sp_gazetteer *gaz;
static sp_codebook *cb;
static sp_store *st;
static char dbpath[64];
static char outpath[80];
static long long org1, org2;

static void setf(sp_record *r, const char *field, const char *raw, const char *country)
{
    const cb_field *f = codebook_field(cb, field);
    if (!f) TFAIL("no field %s", field);
    cb_cell c;
    const char *rule, *why;
    if (codebook_parse(cb, f, raw, strlen(raw), country, &c, &r->arena, &rule, &why) != 0)
        TFAIL("%s '%s': %s", field, raw, why);
    ASSERT_EQ(record_add(r, f->index, &c), SP_OK);
}
static void setg(sp_record *r, const char *group, size_t row, const char *subname,
                 const char *raw, const char *country)
{
    const cb_field *g = codebook_field(cb, group);
    const cb_field *f = codebook_subfield(g, subname);
    cb_cell *c = record_group_cell(r, g->index, row, f->index);
    const char *rule, *why;
    if (codebook_parse(cb, f, raw, strlen(raw), country, c, &r->arena, &rule, &why) != 0)
        TFAIL("%s.%s '%s': %s", group, subname, raw, why);
}

#define HOSTILE_CMD "=cmd|' /C calc'!A0"
#define LOCALITY1 "Line one\nline two, \"quoted\""
#define UNICODE "Ti\xe1\xba\xbfng Vi\xe1\xbb\x87t \xe2\x80\x93 \xe0\xba\xa5\xe0\xba\xb2\xe0\xba\xa7 \xe2\x9c\x93"

/* A small hub: two organisations (one with a hostile name), three
 * hand-made records full of hostile strings. */
static void setup(void)
{
    sp_err err;
    sp_err_init(&err);
    if (gazetteer_load(&gaz, NULL, &err) != SP_OK) { sp_err_print(&err, stderr); exit(1); }
    if (codebook_load_default(&cb, gaz, &err) != SP_OK) { sp_err_print(&err, stderr); exit(1); }
    strcpy(dbpath, "/tmp/sp_test_export_XXXXXX");
    int fd = mkstemp(dbpath);
    ASSERT(fd >= 0);
    close(fd);
    snprintf(outpath, sizeof outpath, "%s.out", dbpath);
    ASSERT_EQ(store_open(&st, dbpath, cb, 1, &err), SP_OK);
    long long sub1, sub2, id;
    ASSERT_EQ(store_begin(st), SP_OK);
    ASSERT_EQ(store_org_add(st, "Org, \"One\"", "TH", &org1), SP_OK);
    ASSERT_EQ(store_org_add(st, "=Org Two", "VN", &org2), SP_OK);
    ASSERT_EQ(store_submission_add(st, org1, "a.csv", "aa", 0, &sub1), SP_OK);
    ASSERT_EQ(store_submission_add(st, org2, "b.csv", "bb", 1, &sub2), SP_OK);
    sp_record r;
    record_init(&r, cb);

    setf(&r, "case_ref", HOSTILE_CMD, NULL);
    setf(&r, "year_identified", "2023", NULL);
    setf(&r, "gender", "female", NULL);
    setf(&r, "age", "18-24", NULL);
    setf(&r, "months_exploited", "7", NULL);
    setf(&r, "industry", "online_scam", NULL);
    setf(&r, "control_means", "threats", NULL);
    setf(&r, "control_means", "sold", NULL);
    setf(&r, "control_means", "ransom", NULL);
    setf(&r, "recruitment_platform", "facebook", NULL);
    setf(&r, "recruitment_platform", "zalo", NULL);
    setf(&r, "ransom_demanded_amount", "1500.5", NULL);
    setf(&r, "ransom_demanded_currency", "USD", NULL);
    setf(&r, "promised_job", "+1", NULL);
    setg(&r, "exploitation", 0, "country", "MM", NULL);
    setg(&r, "exploitation", 0, "province", "MM-13", "MM");
    setg(&r, "exploitation", 0, "locality", LOCALITY1, NULL);
    ASSERT_EQ(store_record_add(st, sub1, org1, &r, 0, &id), SP_OK);

    record_reset(&r);
    setf(&r, "case_ref", "-5", NULL);
    setf(&r, "year_identified", "2024", NULL);
    setf(&r, "gender", "male", NULL);
    setf(&r, "nationality", "VN", NULL);
    setf(&r, "origin_country", "VN", NULL);
    setf(&r, "origin_province", "VN-22", "VN");
    setf(&r, "promised_job", UNICODE, NULL);
    setg(&r, "exploitation", 0, "country", "KH", NULL);
    setg(&r, "exploitation", 0, "locality", "@SUM(A1)", NULL);
    setg(&r, "exploitation", 1, "country", "LA", NULL);
    setg(&r, "indicators", 0, "type", "phone", NULL);
    setg(&r, "indicators", 0, "value", "+85597123456", NULL);
    setg(&r, "indicators", 0, "platform", "telegram", NULL);
    ASSERT_EQ(store_record_add(st, sub2, org2, &r, 1, &id), SP_OK);

    record_reset(&r);
    setf(&r, "case_ref", "+1", NULL);
    setf(&r, "year_identified", "2019", NULL);
    setg(&r, "exploitation", 0, "country", "TH", NULL);
    setg(&r, "exploitation", 0, "locality", "-3.25", NULL);
    ASSERT_EQ(store_record_add(st, sub2, org2, &r, 1, &id), SP_OK);
    ASSERT_EQ(store_commit(st), SP_OK);
    record_free(&r);
    sp_err_free(&err);
}

static void teardown(void)
{
    char side[80];
    store_close(st);
    codebook_free(cb);
    gazetteer_free(gaz);
    unlink(dbpath);
    unlink(outpath);
    snprintf(side, sizeof side, "%s-wal", dbpath); unlink(side);
    snprintf(side, sizeof side, "%s-shm", dbpath); unlink(side);
}

static int do_export(export_format fmt, const char *mapping, int sens, const sp_filter *f)
{
    sp_err err;
    sp_err_init(&err);
    int rc = export_records(st, cb, f, fmt, mapping, sens, outpath, &err);
    if (rc) sp_err_print(&err, stderr);
    sp_err_free(&err);
    return rc;
}

/* The exported file read back with the project's reader: a table of rows. */
typedef struct { char ***cell; size_t nrows, ncols; } table;

static table read_back(sp_format fmt)
{
    size_t len;
    char *data = test_slurp(outpath, &len);
    ASSERT_NOT_NULL(data);
    sp_reader *rd;
    sp_err err;
    sp_err_init(&err);
    sp_reader_opts o = {fmt, NULL, 0};
    ASSERT_EQ(reader_open_mem(&rd, data, len, "export", &o, &err), SP_OK);
    table t = {NULL, 0, 0};
    sp_row row;
    int rc;
    while ((rc = reader_next(rd, &row, &err)) == SP_OK) {
        if (!t.nrows) t.ncols = row.ncells;
        ASSERT_LE(row.ncells, t.ncols);
        t.cell = realloc(t.cell, (t.nrows + 1) * sizeof *t.cell);
        t.cell[t.nrows] = calloc(t.ncols, sizeof(char *));
        for (size_t c = 0; c < t.ncols; c++)
            t.cell[t.nrows][c] = strdup(c < row.ncells ? row.cell[c] : "");
        t.nrows++;
    }
    if (rc != SP_EOF) sp_err_print(&err, stderr);
    ASSERT_EQ(rc, SP_EOF);
    reader_close(rd);
    sp_err_free(&err);
    free(data);
    return t;
}
static void table_free(table *t)
{
    for (size_t r = 0; r < t->nrows; r++) {
        for (size_t c = 0; c < t->ncols; c++) free(t->cell[r][c]);
        free(t->cell[r]);
    }
    free(t->cell);
}
static int colof(const table *t, const char *name)
{
    for (size_t c = 0; c < t->ncols; c++)
        if (!strcmp(t->cell[0][c], name)) return (int)c;
    return -1;
}
static const char *at(const table *t, size_t row, const char *name)
{
    int c = colof(t, name);
    if (c < 0) TFAIL("no column %s", name);
    return t->cell[row][c];
}

/* Same checks for CSV and XLSX: the spreadsheet formats. */
static void check_sheet(sp_format fmt)
{
    table t = read_back(fmt);
    ASSERT_EQ(t.nrows, 4);
    ASSERT_STR_EQ(t.cell[0][0], "record_id");
    ASSERT_STR_EQ(t.cell[0][1], "organisation");
    ASSERT_STR_EQ(t.cell[0][4], "synthetic");
    ASSERT_STR_EQ(t.cell[0][5], "case_ref");
    /* neutralised: formulas become text */
    ASSERT_STR_EQ(at(&t, 1, "case_ref"), "'" HOSTILE_CMD);
    ASSERT_STR_EQ(at(&t, 1, "promised_job"), "'+1");
    ASSERT_STR_EQ(at(&t, 2, "exploitation_1_locality"), "'@SUM(A1)");
    ASSERT_STR_EQ(at(&t, 3, "case_ref"), "'+1");
    ASSERT_STR_EQ(at(&t, 2, "organisation"), "'=Org Two");
    ASSERT_STR_EQ(at(&t, 2, "indicators_1_value"), "'+85597123456");
    /* plain negative numbers stay as they are */
    ASSERT_STR_EQ(at(&t, 2, "case_ref"), "-5");
    ASSERT_STR_EQ(at(&t, 3, "exploitation_1_locality"), "-3.25");
    /* quotes, newlines, commas, unicode survive */
    ASSERT_STR_EQ(at(&t, 1, "organisation"), "Org, \"One\"");
    ASSERT_STR_EQ(at(&t, 1, "exploitation_1_locality"), LOCALITY1);
    ASSERT_STR_EQ(at(&t, 2, "promised_job"), UNICODE);
    /* values */
    ASSERT_STR_EQ(at(&t, 1, "year_identified"), "2023");
    ASSERT_STR_EQ(at(&t, 1, "months_exploited"), "7");
    ASSERT_STR_EQ(at(&t, 1, "ransom_demanded_amount"), "1500.5");
    ASSERT_STR_EQ(at(&t, 1, "age"), "18-24");
    ASSERT_STR_EQ(at(&t, 1, "control_means"), "ransom; sold; threats");   /* the store keeps values sorted */
    ASSERT_STR_EQ(at(&t, 1, "synthetic"), "0");
    ASSERT_STR_EQ(at(&t, 2, "synthetic"), "1");
    ASSERT_STR_EQ(at(&t, 2, "origin_province"), "VN-22");
    ASSERT_STR_EQ(at(&t, 2, "exploitation_2_country"), "LA");
    ASSERT_STR_EQ(at(&t, 3, "gender"), "");
    table_free(&t);
}

TEST(export_csv_round_trip)
{
    setup();
    ASSERT_EQ(do_export(EXPORT_CSV, NULL, 1, NULL), SP_OK);
    size_t len;
    char *raw = test_slurp(outpath, &len);
    ASSERT(len > 3 && memcmp(raw, "\xEF\xBB\xBF", 3) == 0);   /* BOM */
    ASSERT_CONTAINS(raw, "\r\n");
    free(raw);
    check_sheet(SP_FMT_CSV);
    teardown();
}

TEST(export_xlsx_round_trip)
{
    setup();
    ASSERT_EQ(do_export(EXPORT_XLSX, NULL, 1, NULL), SP_OK);
    check_sheet(SP_FMT_XLSX);
    /* numbers are numeric cells, text is inline strings (never formulas) */
    int zerr = 0;
    zip_t *z = zip_open(outpath, ZIP_RDONLY, &zerr);
    ASSERT_NOT_NULL(z);
    zip_stat_t zs;
    ASSERT_EQ(zip_stat(z, "xl/worksheets/sheet1.xml", 0, &zs), 0);
    char *xml = calloc(1, zs.size + 1);
    zip_file_t *zf = zip_fopen(z, "xl/worksheets/sheet1.xml", 0);
    ASSERT_NOT_NULL(zf);
    ASSERT_EQ(zip_fread(zf, xml, zs.size), (long long)zs.size);
    zip_fclose(zf);
    zip_close(z);
    ASSERT_CONTAINS(xml, "><v>2023</v>");
    ASSERT_CONTAINS(xml, "><v>1500.5</v>");
    ASSERT_CONTAINS(xml, "><v>7</v>");
    ASSERT(!strstr(xml, "<f>"));
    ASSERT(!strstr(xml, "<t xml:space=\"preserve\">2023</t>"));
    free(xml);
    teardown();
}

static json_t *load_json(void)
{
    json_error_t je;
    json_t *j = json_load_file(outpath, 0, &je);
    if (!j) TFAIL("export JSON invalid: %s line %d", je.text, je.line);
    return j;
}

TEST(export_json_round_trip)
{
    setup();
    ASSERT_EQ(do_export(EXPORT_JSON, NULL, 1, NULL), SP_OK);
    json_t *j = load_json();
    ASSERT(json_is_array(j));
    ASSERT_EQ(json_array_size(j), 3);
    json_t *a = json_array_get(j, 0), *b = json_array_get(j, 1), *c = json_array_get(j, 2);
    ASSERT(json_is_integer(json_object_get(a, "record_id")));
    ASSERT(json_is_false(json_object_get(a, "synthetic")));
    ASSERT(json_is_true(json_object_get(b, "synthetic")));
    ASSERT_STR_EQ(json_string_value(json_object_get(a, "organisation")), "Org, \"One\"");
    /* JSON is never neutralised */
    ASSERT_STR_EQ(json_string_value(json_object_get(a, "case_ref")), HOSTILE_CMD);
    ASSERT_STR_EQ(json_string_value(json_object_get(c, "case_ref")), "+1");
    ASSERT_EQ(json_integer_value(json_object_get(a, "year_identified")), 2023);
    ASSERT_EQ(json_integer_value(json_object_get(a, "months_exploited")), 7);
    ASSERT_DBL_EQ(json_real_value(json_object_get(a, "ransom_demanded_amount")), 1500.5, 1e-9);
    ASSERT(json_is_null(json_object_get(c, "gender")));
    json_t *cm = json_object_get(a, "control_means");
    ASSERT(json_is_array(cm));
    ASSERT_EQ(json_array_size(cm), 3);
    ASSERT_STR_EQ(json_string_value(json_array_get(cm, 1)), "sold");
    json_t *ex = json_object_get(b, "exploitation");
    ASSERT_EQ(json_array_size(ex), 2);
    ASSERT_STR_EQ(json_string_value(json_object_get(json_array_get(ex, 0), "locality")), "@SUM(A1)");
    ASSERT_STR_EQ(json_string_value(json_object_get(json_array_get(ex, 1), "country")), "LA");
    ASSERT(json_is_null(json_object_get(json_array_get(ex, 1), "locality")));
    ASSERT_STR_EQ(json_string_value(json_object_get(b, "promised_job")), UNICODE);
    json_t *loc = json_object_get(json_array_get(json_object_get(a, "exploitation"), 0), "locality");
    ASSERT_STR_EQ(json_string_value(loc), LOCALITY1);
    json_t *ind = json_object_get(b, "indicators");
    ASSERT_EQ(json_array_size(ind), 1);
    ASSERT_STR_EQ(json_string_value(json_object_get(json_array_get(ind, 0), "value")), "+85597123456");
    json_decref(j);
    teardown();
}

TEST(export_sensitive_left_out)
{
    setup();
    for (int fmt = EXPORT_CSV; fmt <= EXPORT_JSON; fmt++) {
        ASSERT_EQ(do_export((export_format)fmt, NULL, 0, NULL), SP_OK);
        size_t len;
        char *raw = test_slurp(outpath, &len);
        ASSERT(!strstr(raw, "promised_job"));
        ASSERT(!strstr(raw, "indicators"));
        ASSERT(!strstr(raw, "85597123456"));
        ASSERT(!strstr(raw, "Vi\xe1\xbb\x87t"));
        ASSERT_CONTAINS(raw, "exploitation");
        free(raw);
    }
    teardown();
}

TEST(export_htcds_mapping)
{
    setup();
    ASSERT_EQ(do_export(EXPORT_CSV, "htcds", 1, NULL), SP_OK);
    table t = read_back(SP_FMT_CSV);
    ASSERT(colof(&t, "org_Name") >= 0);
    ASSERT(colof(&t, "prs_Gender") >= 0);
    ASSERT(colof(&t, "prs_Citizenship") >= 0);
    ASSERT(colof(&t, "vic_MethodsOfControl") >= 0);
    ASSERT(colof(&t, "spotlight_record_id") >= 0);
    ASSERT(colof(&t, "spotlight_case_ref") >= 0);
    ASSERT(colof(&t, "spotlight_exploitation_1_country") >= 0);
    ASSERT(colof(&t, "gender") < 0);
    ASSERT_STR_EQ(at(&t, 1, "prs_Gender"), "Feminine");
    ASSERT_STR_EQ(at(&t, 2, "prs_Gender"), "Masculine");
    ASSERT_STR_EQ(at(&t, 2, "prs_Citizenship"), "VN");
    /* sold and ransom both map to Other: once */
    ASSERT_STR_EQ(at(&t, 1, "vic_MethodsOfControl"), "Other; PhysicalThreats");
    ASSERT_STR_EQ(at(&t, 1, "vic_RecruitmentWebsitesAndApps"), "Facebook; Other");
    ASSERT_STR_EQ(at(&t, 1, "vic_TypeOfExploitation"), "Other");
    table_free(&t);

    ASSERT_EQ(do_export(EXPORT_JSON, "htcds", 1, NULL), SP_OK);
    json_t *j = load_json();
    json_t *a = json_array_get(j, 0);
    ASSERT_STR_EQ(json_string_value(json_object_get(a, "prs_Gender")), "Feminine");
    ASSERT_EQ(json_array_size(json_object_get(a, "vic_MethodsOfControl")), 2);
    ASSERT(json_is_array(json_object_get(a, "spotlight_exploitation")));
    ASSERT_STR_EQ(json_string_value(json_object_get(a, "org_Name")), "Org, \"One\"");
    json_decref(j);

    sp_err err;
    sp_err_init(&err);
    ASSERT_EQ(export_records(st, cb, NULL, EXPORT_CSV, "nope", 1, outpath, &err), SP_EUSAGE);
    ASSERT_EQ(export_records(st, cb, NULL, EXPORT_CSV, "../codebook/codebook", 1, outpath, &err),
              SP_EUSAGE);
    ASSERT(err.count >= 2);
    sp_err_free(&err);
    teardown();
}

TEST(export_filter_and_errors)
{
    setup();
    sp_filter f;
    memset(&f, 0, sizeof f);
    f.org_id = org2;
    ASSERT_EQ(do_export(EXPORT_CSV, NULL, 0, &f), SP_OK);
    table t = read_back(SP_FMT_CSV);
    ASSERT_EQ(t.nrows, 3);
    ASSERT_STR_EQ(at(&t, 1, "organisation"), "'=Org Two");
    table_free(&t);
    /* empty result: valid files too */
    f.year_from = 2030;
    ASSERT_EQ(do_export(EXPORT_JSON, NULL, 0, &f), SP_OK);
    json_t *j = load_json();
    ASSERT_EQ(json_array_size(j), 0);
    json_decref(j);
    /* an output that cannot be written: a clear error, no crash */
    sp_err err;
    sp_err_init(&err);
    ASSERT_EQ(export_records(st, cb, NULL, EXPORT_CSV, NULL, 0, "/nonexistent/dir/x.csv", &err),
              SP_EIO);
    ASSERT_CONTAINS(sp_err_last(&err), "cannot");
    export_format ef;
    ASSERT_EQ(export_format_parse("XLSX", &ef), SP_OK);
    ASSERT_EQ(ef, EXPORT_XLSX);
    ASSERT_EQ(export_format_parse("pdf", &ef), SP_EUSAGE);
    sp_err_free(&err);
    teardown();
}

TEST(export_neutralising_rule)
{
    ASSERT(export_needs_neutralising("=1+1", 4));
    ASSERT(export_needs_neutralising("+1", 2));
    ASSERT(export_needs_neutralising("@SUM(A1)", 8));
    ASSERT(export_needs_neutralising("\tx", 2));
    ASSERT(export_needs_neutralising("\rx", 2));
    ASSERT(export_needs_neutralising("-", 1));
    ASSERT(export_needs_neutralising("-1+2", 4));
    ASSERT(export_needs_neutralising("-5.", 3));
    ASSERT(export_needs_neutralising("-A1", 3));
    ASSERT(!export_needs_neutralising("-5", 2));
    ASSERT(!export_needs_neutralising("-3.25", 5));
    ASSERT(!export_needs_neutralising("5", 1));
    ASSERT(!export_needs_neutralising("", 0));
    ASSERT(!export_needs_neutralising("a=b", 3));
}

/* A demo hub of many records exports to valid, complete files in every
 * format (the writer holds one record at a time). */
TEST(export_many_records)
{
    setup();
    sp_err err;
    sp_err_init(&err);
    ASSERT_EQ(demo_fill(st, cb, 3000, 9, &err), SP_OK);
    ASSERT_EQ(do_export(EXPORT_JSON, NULL, 1, NULL), SP_OK);
    json_t *j = load_json();
    ASSERT_EQ(json_array_size(j), 3003);
    json_decref(j);
    ASSERT_EQ(do_export(EXPORT_CSV, "htcds", 0, NULL), SP_OK);
    table t = read_back(SP_FMT_CSV);
    ASSERT_EQ(t.nrows, 3004);
    table_free(&t);
    ASSERT_EQ(do_export(EXPORT_XLSX, NULL, 1, NULL), SP_OK);
    t = read_back(SP_FMT_XLSX);
    ASSERT_EQ(t.nrows, 3004);
    table_free(&t);
    sp_err_free(&err);
    teardown();
}

TEST_LIST(export_csv_round_trip, export_xlsx_round_trip, export_json_round_trip,
          export_sensitive_left_out, export_htcds_mapping, export_filter_and_errors,
          export_neutralising_rule, export_many_records)
