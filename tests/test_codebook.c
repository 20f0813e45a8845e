/* test_codebook.c -- loading and checking the codebook, and parsing every
 * field type with good and bad values. */
#include "test.h"
#include "codebook.h"

typedef struct fixture {
    sp_gazetteer *g;
    sp_codebook *cb;
    sp_arena a;
    sp_err err;
} fixture;

static void setup(fixture *fx)
{
    sp_err_init(&fx->err);
    sp_arena_init(&fx->a);
    if (gazetteer_load(&fx->g, NULL, &fx->err) != SP_OK ||
        codebook_load_default(&fx->cb, fx->g, &fx->err) != SP_OK) {
        sp_err_print(&fx->err, stderr);
        TFAIL("cannot load the default codebook");
    }
}

static void teardown(fixture *fx)
{
    codebook_free(fx->cb);
    gazetteer_free(fx->g);
    sp_arena_free(&fx->a);
    sp_err_free(&fx->err);
}

static const cb_field *field(fixture *fx, const char *name)
{
    const cb_field *f = codebook_field(fx->cb, name);
    if (!f) TFAIL("no field %s", name);
    return f;
}

/* Parses s for field f; returns the canonical text or "ERR:<rule>". */
static const char *parse_c(fixture *fx, const cb_field *f, const char *s, const char *country,
                           cb_cell *c)
{
    const char *rule = NULL, *why = NULL;
    int rc = codebook_parse(fx->cb, f, s, strlen(s), country, c, &fx->a, &rule, &why);
    if (rc == 0) {
        if (rule || why) TFAIL("success with a rule set");
        return c->text ? c->text : "NULL";
    }
    if (rc != -1 || !rule || !why || !*why) TFAIL("'%s': rc %d without rule/why", s, rc);
    char *o = sp_arena_alloc(&fx->a, strlen(rule) + 5);
    sprintf(o, "ERR:%s", rule);
    return o;
}

static const char *parse(fixture *fx, const char *name, const char *s)
{
    cb_cell c;
    return parse_c(fx, field(fx, name), s, NULL, &c);
}

static const char *why_of(fixture *fx, const cb_field *f, const char *s)
{
    cb_cell c;
    const char *rule = NULL, *why = NULL;
    if (codebook_parse(fx->cb, f, s, strlen(s), NULL, &c, &fx->a, &rule, &why) == 0)
        TFAIL("'%s' was accepted", s);
    return why;
}

/* ------------------------------------------------------------ loading */

TEST(cb_load_default)
{
    fixture fx;
    setup(&fx);
    ASSERT_NOT_NULL(fx.cb->version);
    ASSERT(fx.cb->version[0] != '\0');
    ASSERT_GE(fx.cb->nfields, 20);
    const cb_field *f = field(&fx, "gender");
    ASSERT_EQ(f->type, CB_CODE);
    ASSERT_GE(f->nvalues, 4);
    ASSERT(f->parent == NULL);
    ASSERT(&fx.cb->fields[f->index] == f);
    ASSERT_NULL(codebook_field(fx.cb, "no_such_field"));
    ASSERT_NULL(codebook_field(fx.cb, "Gender"));      /* exact name only */
    const cb_field *g = field(&fx, "exploitation");
    ASSERT_EQ(g->type, CB_GROUP);
    ASSERT_GE(g->max_repeat, 1);
    const cb_field *p = codebook_subfield(g, "province");
    ASSERT_NOT_NULL(p);
    ASSERT(p->parent == g);
    ASSERT_EQ(p->type, CB_PROVINCE);
    ASSERT_STR_EQ(g->sub[p->country_index].name, "country");
    ASSERT_NULL(codebook_subfield(g, "nope"));
    const cb_field *op = field(&fx, "origin_province");
    ASSERT_STR_EQ(fx.cb->fields[op->country_index].name, "origin_country");
    /* free text and everything in a sensitive group is sensitive */
    ASSERT(field(&fx, "promised_job")->sensitive);
    ASSERT(field(&fx, "case_ref")->sensitive);
    const cb_field *ind = field(&fx, "indicators");
    for (size_t i = 0; i < ind->nsub; i++) ASSERT(ind->sub[i].sensitive);
    ASSERT(!field(&fx, "gender")->sensitive);
    teardown(&fx);
}

TEST(cb_match_and_value)
{
    fixture fx;
    setup(&fx);
    ASSERT_STR_EQ(codebook_match(fx.cb, "Gender", 6)->name, "gender");
    const char *h = "Year identified";
    ASSERT_STR_EQ(codebook_match(fx.cb, h, strlen(h))->name, "year_identified");
    h = "year_identified";
    ASSERT_STR_EQ(codebook_match(fx.cb, h, strlen(h))->name, "year_identified");
    h = " NATIONALITY ";
    ASSERT_STR_EQ(codebook_match(fx.cb, h, strlen(h))->name, "nationality");
    h = "Locality";                     /* a sub-field: the importer's job */
    ASSERT_NULL(codebook_match(fx.cb, h, strlen(h)));
    ASSERT_NULL(codebook_match(fx.cb, "", 0));
    const cb_field *f = field(&fx, "gender");
    ASSERT_STR_EQ(codebook_value(f, "F", 1)->code, "female");
    ASSERT_STR_EQ(codebook_value(f, "Non-binary or other", 19)->code, "nonbinary_other");
    ASSERT_STR_EQ(codebook_value(f, "prefer not to say", 17)->code, "unknown");
    ASSERT_NULL(codebook_value(f, "Femal", 5));
    ASSERT_NULL(codebook_value(field(&fx, "age"), "25", 2));   /* not a code field */
    teardown(&fx);
}

TEST(cb_type_names)
{
    ASSERT_STR_EQ(codebook_type_name(CB_TEXT), "text");
    ASSERT_STR_EQ(codebook_type_name(CB_PROVINCE), "province");
    ASSERT_STR_EQ(codebook_type_name(CB_GROUP), "group");
    ASSERT_STR_EQ(codebook_type_name((cb_type)99), "?");
}

/* ------------------------------------------------------------ parsing */

TEST(cb_parse_empty_is_missing)
{
    fixture fx;
    setup(&fx);
    for (size_t i = 0; i < fx.cb->nfields; i++) {
        const cb_field *f = &fx.cb->fields[i];
        if (f->type == CB_GROUP) continue;
        cb_cell c;
        const char *r, *w;
        ASSERT_EQ(codebook_parse(fx.cb, f, "  \t ", 4, NULL, &c, &fx.a, &r, &w), 0);
        ASSERT_NULL(c.text);
        ASSERT_EQ(codebook_parse(fx.cb, f, NULL, 0, NULL, &c, &fx.a, &r, &w), 0);
        ASSERT_NULL(c.text);
    }
    ASSERT_STR_EQ(parse(&fx, "age", "unknown"), "NULL");
    ASSERT_STR_EQ(parse(&fx, "months_exploited", "n/a"), "NULL");
    ASSERT_STR_EQ(parse(&fx, "date_identified", "-"), "NULL");
    ASSERT_STR_EQ(parse(&fx, "exploitation", "x"), "ERR:group-value");
    teardown(&fx);
}

TEST(cb_parse_text)
{
    fixture fx;
    setup(&fx);
    ASSERT_STR_EQ(parse(&fx, "case_ref", "  ABC-123 "), "ABC-123");
    ASSERT_STR_EQ(parse(&fx, "promised_job", "Sales\tagent\nin Bangkok"), "Sales\tagent\nin Bangkok");
    ASSERT_STR_EQ(parse(&fx, "promised_job", "line one\r\nline two"), "line one\r\nline two");
    ASSERT_STR_EQ(parse(&fx, "promised_job", "Nhân viên bán hàng"), "Nhân viên bán hàng");
    ASSERT_STR_EQ(parse(&fx, "case_ref", "a\x01" "b"), "ERR:bad-text");
    ASSERT_STR_EQ(parse(&fx, "case_ref", "a\rb"), "ERR:bad-text");
    ASSERT_STR_EQ(parse(&fx, "case_ref", "a\x7f" "b"), "ERR:bad-text");
    ASSERT_STR_EQ(parse(&fx, "case_ref", "a\xc2\x85" "b"), "ERR:bad-text");   /* C1 NEL */
    ASSERT_STR_EQ(parse(&fx, "case_ref", "bad \xff utf8"), "ERR:bad-text");
    const cb_field *f = field(&fx, "case_ref");
    char big[300];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = 0;
    big[f->max_length] = 0;
    ASSERT_STR_EQ(parse(&fx, "case_ref", big), big);
    big[f->max_length] = 'x';
    big[f->max_length + 1] = 0;
    ASSERT_STR_EQ(parse(&fx, "case_ref", big), "ERR:too-long");
    ASSERT_CONTAINS(why_of(&fx, f, big), "at most");
    teardown(&fx);
}

TEST(cb_parse_code)
{
    fixture fx;
    setup(&fx);
    ASSERT_STR_EQ(parse(&fx, "gender", "Female"), "female");
    ASSERT_STR_EQ(parse(&fx, "gender", " f "), "female");
    ASSERT_STR_EQ(parse(&fx, "gender", "WOMAN"), "female");
    ASSERT_STR_EQ(parse(&fx, "gender", "nonbinary_other"), "nonbinary_other");
    ASSERT_STR_EQ(parse(&fx, "industry", "Forced scamming"), "online_scam");
    ASSERT_STR_EQ(parse(&fx, "recruitment_method", "Friend/Acquaintance"), "friend");
    ASSERT_STR_EQ(parse(&fx, "gender", "Femal"), "ERR:unknown-code");
    const char *why = why_of(&fx, field(&fx, "gender"), "Femal");
    ASSERT_CONTAINS(why, "'Femal'");
    ASSERT_CONTAINS(why, "Gender");
    ASSERT_CONTAINS(why, "female, male");
    /* a long list is cut with "..." */
    why = why_of(&fx, field(&fx, "industry"), "mining");
    ASSERT_CONTAINS(why, ", ...");
    /* unprintable bytes never reach the message */
    why = why_of(&fx, field(&fx, "gender"), "x\x1b[31m");
    ASSERT(strchr(why, 0x1b) == NULL);
    cb_cell c;
    const cb_field *g = field(&fx, "gender");
    parse_c(&fx, g, "male", NULL, &c);
    ASSERT_STR_EQ(g->values[c.i].code, "male");
    teardown(&fx);
}

TEST(cb_parse_deprecated_code)
{
    const char *json =
        "{\"version\":\"t\",\"fields\":[{\"name\":\"g\",\"type\":\"code\",\"label\":\"G\","
        "\"values\":[{\"code\":\"old\",\"label\":\"Old\",\"deprecated\":true,"
        "\"aliases\":[\"former\"]},{\"code\":\"new\",\"label\":\"New\"}]}]}";
    sp_err err;
    sp_err_init(&err);
    sp_codebook *cb = NULL;
    ASSERT_EQ(codebook_load_mem(&cb, json, strlen(json), NULL, &err), SP_OK);
    sp_arena a;
    sp_arena_init(&a);
    cb_cell c;
    const char *r, *w;
    ASSERT_EQ(codebook_parse(cb, &cb->fields[0], "Former", 6, NULL, &c, &a, &r, &w), 0);
    ASSERT_STR_EQ(c.text, "old");
    ASSERT_EQ(codebook_parse(cb, &cb->fields[0], "zzz", 3, NULL, &c, &a, &r, &w), -1);
    ASSERT_CONTAINS(w, "use one of: new");
    ASSERT(strstr(w, "old") == NULL);       /* deprecated codes are not offered */
    /* place fields need a gazetteer */
    sp_arena_free(&a);
    codebook_free(cb);
    sp_err_free(&err);
}

TEST(cb_parse_integer_decimal)
{
    fixture fx;
    setup(&fx);
    ASSERT_STR_EQ(parse(&fx, "months_exploited", "12"), "12");
    ASSERT_STR_EQ(parse(&fx, "months_exploited", "12.0"), "12");
    ASSERT_STR_EQ(parse(&fx, "months_exploited", "0"), "0");
    ASSERT_STR_EQ(parse(&fx, "months_exploited", "600"), "600");
    ASSERT_STR_EQ(parse(&fx, "months_exploited", "601"), "ERR:out-of-range");
    ASSERT_STR_EQ(parse(&fx, "months_exploited", "-1"), "ERR:out-of-range");
    ASSERT_STR_EQ(parse(&fx, "months_exploited", "12.5"), "ERR:not-a-number");
    ASSERT_STR_EQ(parse(&fx, "months_exploited", "twelve"), "ERR:not-a-number");
    ASSERT_STR_EQ(parse(&fx, "months_exploited", "99999999999999999999999"), "ERR:not-a-number");
    cb_cell c;
    ASSERT_STR_EQ(parse_c(&fx, field(&fx, "months_exploited"), "7", NULL, &c), "7");
    ASSERT_EQ(c.i, 7);
    const cb_field *d = field(&fx, "ransom_demanded_amount");
    ASSERT_STR_EQ(parse_c(&fx, d, "1,500", NULL, &c), "1500");
    ASSERT_DBL_EQ(c.d, 1500.0, 1e-9);
    ASSERT_STR_EQ(parse_c(&fx, d, "1500.50", NULL, &c), "1500.5");
    ASSERT_STR_EQ(parse_c(&fx, d, "12,345,678.25", NULL, &c), "12345678.25");
    ASSERT_STR_EQ(parse(&fx, "ransom_demanded_amount", "1,50"), "ERR:not-a-number");
    ASSERT_STR_EQ(parse(&fx, "ransom_demanded_amount", "1,5000"), "ERR:not-a-number");
    ASSERT_STR_EQ(parse(&fx, "ransom_demanded_amount", ",500"), "ERR:not-a-number");
    ASSERT_STR_EQ(parse(&fx, "ransom_demanded_amount", "1.500,50"), "ERR:not-a-number");
    ASSERT_STR_EQ(parse(&fx, "ransom_demanded_amount", "$1500"), "ERR:not-a-number");
    ASSERT_STR_EQ(parse(&fx, "ransom_demanded_amount", "nan"), "NULL");   /* a marker */
    ASSERT_STR_EQ(parse(&fx, "ransom_demanded_amount", "inf"), "ERR:not-a-number");
    ASSERT_STR_EQ(parse(&fx, "ransom_demanded_amount", "0x10"), "ERR:not-a-number");
    ASSERT_STR_EQ(parse(&fx, "ransom_demanded_amount", "-5"), "ERR:out-of-range");
    ASSERT_STR_EQ(parse(&fx, "ransom_demanded_amount", "1e12"), "ERR:out-of-range");
    ASSERT_STR_EQ(parse(&fx, "ransom_demanded_amount", "-0"), "0");
    ASSERT_STR_EQ(parse(&fx, "ransom_demanded_amount", "1.5E+06"), "1500000");
    teardown(&fx);
}

TEST(cb_parse_year_date)
{
    fixture fx;
    setup(&fx);
    ASSERT_STR_EQ(parse(&fx, "year_identified", "2016"), "2016");
    ASSERT_STR_EQ(parse(&fx, "year_identified", "2016.0"), "2016");
    ASSERT_STR_EQ(parse(&fx, "year_identified", "2016-05-01"), "2016");
    ASSERT_STR_EQ(parse(&fx, "year_identified", "1989"), "ERR:out-of-range");
    ASSERT_STR_EQ(parse(&fx, "year_identified", "20016"), "ERR:out-of-range");
    ASSERT_STR_EQ(parse(&fx, "year_identified", "2016-13-01"), "ERR:not-a-number");
    ASSERT_STR_EQ(parse(&fx, "year_identified", "last year"), "ERR:not-a-number");
    ASSERT_STR_EQ(parse(&fx, "date_identified", "2016-05-01"), "2016-05-01");
    ASSERT_STR_EQ(parse(&fx, "date_identified", "2016/5/1"), "2016-05-01");
    ASSERT_STR_EQ(parse(&fx, "date_identified", "2016-05-01 00:00:00"), "2016-05-01");
    ASSERT_STR_EQ(parse(&fx, "date_identified", "2016-05-01T10:20:30Z"), "2016-05-01");
    ASSERT_STR_EQ(parse(&fx, "date_identified", "2016-02-29"), "2016-02-29");
    ASSERT_STR_EQ(parse(&fx, "date_identified", "2000-02-29"), "2000-02-29");
    ASSERT_STR_EQ(parse(&fx, "date_identified", "2100-02-29"), "ERR:bad-date");
    ASSERT_STR_EQ(parse(&fx, "date_identified", "2015-02-29"), "ERR:bad-date");
    ASSERT_STR_EQ(parse(&fx, "date_identified", "2016-04-31"), "ERR:bad-date");
    ASSERT_STR_EQ(parse(&fx, "date_identified", "2016-00-10"), "ERR:bad-date");
    ASSERT_STR_EQ(parse(&fx, "date_identified", "01/05/2016"), "ERR:bad-date");  /* ambiguous */
    ASSERT_STR_EQ(parse(&fx, "date_identified", "2016-05/01"), "ERR:bad-date");
    ASSERT_STR_EQ(parse(&fx, "date_identified", "2016-05-01x"), "ERR:bad-date");
    ASSERT_STR_EQ(parse(&fx, "date_identified", "2016-05-01 noon"), "ERR:bad-date");
    ASSERT_STR_EQ(parse(&fx, "date_identified", "1850-01-01"), "ERR:out-of-range");
    cb_cell c;
    parse_c(&fx, field(&fx, "date_identified"), "2019-12-31", NULL, &c);
    ASSERT_EQ(c.i, 20191231);
    ASSERT_CONTAINS(why_of(&fx, field(&fx, "date_identified"), "31/12/2019"), "YYYY-MM-DD");
    teardown(&fx);
}

TEST(cb_parse_age)
{
    fixture fx;
    setup(&fx);
    static const struct { const char *in; int lo, hi; } ok[] = {
        {"25", 25, 25}, {"25.0", 25, 25}, {"18-24", 18, 24}, {"18--24", 18, 24},
        {"18 to 24", 18, 24}, {"18\xe2\x80\x93" "24", 18, 24}, {"18 - 24", 18, 24},
        {"48+", 48, 120}, {"48 +", 48, 120}, {"60 and over", 60, 120}, {"<18", 0, 17},
        {"under 18", 0, 17}, {"Under 18", 0, 17}, {"<=17", 0, 17}, {"0--8", 0, 8},
        {"9--17", 9, 17}, {"25 years", 25, 25}, {"0", 0, 0}, {"120", 120, 120},
    };
    for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) {
        cb_cell c;
        const char *r, *w;
        if (codebook_parse(fx.cb, field(&fx, "age"), ok[i].in, strlen(ok[i].in), NULL, &c,
                           &fx.a, &r, &w) != 0)
            TFAIL("'%s' rejected: %s", ok[i].in, w);
        if (c.lo != ok[i].lo || c.hi != ok[i].hi)
            TFAIL("'%s' gave %d-%d, want %d-%d", ok[i].in, c.lo, c.hi, ok[i].lo, ok[i].hi);
        char want[32];
        snprintf(want, sizeof want, "%d-%d", ok[i].lo, ok[i].hi);
        ASSERT_STR_EQ(c.text, want);
    }
    ASSERT_STR_EQ(parse(&fx, "age", "121"), "ERR:out-of-range");
    ASSERT_STR_EQ(parse(&fx, "age", "100-130"), "ERR:out-of-range");
    ASSERT_STR_EQ(parse(&fx, "age", "24-18"), "ERR:bad-age");
    ASSERT_STR_EQ(parse(&fx, "age", "<0"), "ERR:bad-age");
    ASSERT_STR_EQ(parse(&fx, "age", "adult"), "ERR:bad-age");
    ASSERT_STR_EQ(parse(&fx, "age", "18-"), "ERR:bad-age");
    ASSERT_STR_EQ(parse(&fx, "age", "-5"), "ERR:bad-age");
    ASSERT_STR_EQ(parse(&fx, "age", "18-24-30"), "ERR:bad-age");
    ASSERT_STR_EQ(parse(&fx, "age", "25.5"), "ERR:bad-age");
    ASSERT_STR_EQ(parse(&fx, "age", "99999999999999999999"), "ERR:bad-age");
    teardown(&fx);
}

TEST(cb_parse_country)
{
    fixture fx;
    setup(&fx);
    ASSERT_STR_EQ(parse(&fx, "nationality", "Viet Nam"), "VN");
    ASSERT_STR_EQ(parse(&fx, "nationality", "vnm"), "VN");
    ASSERT_STR_EQ(parse(&fx, "nationality", "704"), "VN");
    ASSERT_STR_EQ(parse(&fx, "nationality", "Lao PDR"), "LA");
    ASSERT_STR_EQ(parse(&fx, "nationality", "Burma"), "MM");
    ASSERT_STR_EQ(parse(&fx, "nationality", "ZZ"), "NULL");
    ASSERT_STR_EQ(parse(&fx, "nationality", "-99"), "NULL");
    ASSERT_STR_EQ(parse(&fx, "nationality", "unknown"), "NULL");
    ASSERT_STR_EQ(parse(&fx, "nationality", "Narnia"), "ERR:unknown-country");
    ASSERT_STR_EQ(parse(&fx, "transit_countries", "Thailand"), "TH");
    ASSERT_CONTAINS(why_of(&fx, field(&fx, "nationality"), "Narnia"), "'Narnia'");
    const cb_field *g = field(&fx, "exploitation");
    cb_cell c;
    ASSERT_STR_EQ(parse_c(&fx, codebook_subfield(g, "country"), "Cambodia", NULL, &c), "KH");
    ASSERT_EQ(c.i, 116);
    teardown(&fx);
}

TEST(cb_parse_province)
{
    fixture fx;
    setup(&fx);
    const cb_field *p = field(&fx, "origin_province");
    cb_cell c;
    ASSERT_STR_EQ(parse_c(&fx, p, "VN-44", NULL, &c), "VN-44");
    ASSERT_STR_EQ(parse_c(&fx, p, "VN-44", "VN", &c), "VN-44");
    ASSERT_STR_EQ(parse_c(&fx, p, "44", "VN", &c), "VN-44");
    ASSERT_STR_EQ(parse_c(&fx, p, "Nghe An", "VN", &c), "VN-22");
    ASSERT_STR_EQ(parse_c(&fx, p, "Nghệ An", "VN", &c), "VN-22");
    ASSERT_STR_EQ(parse_c(&fx, p, "Vientiane Capital", "LA", &c), "LA-VT");
    ASSERT_STR_EQ(parse_c(&fx, p, "unknown", "LA", &c), "NULL");
    ASSERT_STR_EQ(parse_c(&fx, p, "TH-10", "VN", &c), "ERR:province-country-mismatch");
    ASSERT_STR_EQ(parse_c(&fx, p, "Nghe An", NULL, &c), "ERR:unknown-province");
    ASSERT_STR_EQ(parse_c(&fx, p, "44", NULL, &c), "ERR:unknown-province");
    ASSERT_STR_EQ(parse_c(&fx, p, "Atlantis", "VN", &c), "ERR:unknown-province");
    ASSERT_STR_EQ(parse_c(&fx, p, "Nghe An", "QQ", &c), "ERR:unknown-province");
    const char *r, *w;
    ASSERT_EQ(codebook_parse(fx.cb, p, "TH-10", 5, "VN", &c, &fx.a, &r, &w), -1);
    ASSERT_CONTAINS(w, "Thailand");
    ASSERT_CONTAINS(w, "Viet Nam");
    ASSERT_EQ(codebook_parse(fx.cb, p, "Atlantis", 8, "VN", &c, &fx.a, &r, &w), -1);
    ASSERT_CONTAINS(w, "not a province of Viet Nam");
    const cb_field *sp = codebook_subfield(field(&fx, "exploitation"), "province");
    ASSERT_STR_EQ(parse_c(&fx, sp, "Shan State", "MM", &c), "MM-17");
    teardown(&fx);
}

TEST(cb_parse_currency)
{
    fixture fx;
    setup(&fx);
    ASSERT_STR_EQ(parse(&fx, "ransom_demanded_currency", "usd"), "USD");
    ASSERT_STR_EQ(parse(&fx, "ransom_demanded_currency", "USDT"), "USD");
    ASSERT_STR_EQ(parse(&fx, "ransom_demanded_currency", "764"), "THB");
    ASSERT_STR_EQ(parse(&fx, "ransom_paid_currency", "Baht"), "THB");
    ASSERT_STR_EQ(parse(&fx, "ransom_paid_currency", "n/a"), "NULL");
    ASSERT_STR_EQ(parse(&fx, "ransom_paid_currency", "BTC"), "ERR:unknown-currency");
    ASSERT_STR_EQ(parse(&fx, "ransom_paid_currency", "dollars"), "ERR:unknown-currency");
    teardown(&fx);
}

TEST(cb_parse_without_gazetteer)
{
    const char *json =
        "{\"version\":\"t\",\"fields\":[{\"name\":\"c\",\"type\":\"country\",\"label\":\"C\"}]}";
    sp_err err;
    sp_err_init(&err);
    sp_codebook *cb = NULL;
    ASSERT_EQ(codebook_load_mem(&cb, json, strlen(json), NULL, &err), SP_OK);
    sp_arena a;
    sp_arena_init(&a);
    cb_cell c;
    const char *r, *w;
    ASSERT_EQ(codebook_parse(cb, &cb->fields[0], "VN", 2, NULL, &c, &a, &r, &w), -1);
    ASSERT_STR_EQ(r, "no-gazetteer");
    sp_arena_free(&a);
    codebook_free(cb);
    sp_err_free(&err);
}

/* ------------------------------------------------------------ bad codebooks */

/* Loads json, expects failure, and checks the rule and a bit of the
 * message of some reported problem. */
static void bad(const char *json, const char *rule, const char *text)
{
    sp_err err;
    sp_err_init(&err);
    sp_codebook *cb = (sp_codebook *)1;
    int rc = codebook_load_mem(&cb, json, strlen(json), NULL, &err);
    if (rc == SP_OK) TFAIL("accepted: %s", json);
    ASSERT_NULL(cb);
    ASSERT_GE(err.n, 1);
    int found = 0;
    for (size_t i = 0; i < err.n; i++)
        if (strcmp(err.items[i].rule, rule) == 0 && strstr(err.items[i].message, text))
            found = 1;
    if (!found) {
        sp_err_print(&err, stderr);
        TFAIL("no problem with rule %s and text '%s'", rule, text);
    }
    sp_err_free(&err);
}

#define F(body) "{\"version\":\"1\",\"fields\":[" body "]}"
#define CODE(name, vals) "{\"name\":\"" name "\",\"type\":\"code\",\"label\":\"" name "\"," \
    "\"values\":[" vals "]}"
#define V(code, label) "{\"code\":\"" code "\",\"label\":\"" label "\"}"

TEST(cb_bad_json)
{
    bad("{not json", "codebook-json", "not valid JSON");
    bad("[1,2]", "codebook-json", "top level must be an object");
    bad("{\"version\":\"1\",\"version\":\"2\",\"fields\":[]}", "codebook-json", "duplicate");
    bad("{\"version\":\"1\"}", "codebook-missing", "'fields'");
    bad("{\"version\":\"1\",\"fields\":[]}", "codebook-missing", "'fields'");
    bad("{\"fields\":[{\"name\":\"a\",\"type\":\"text\",\"label\":\"A\"}]}",
        "codebook-missing", "'version'");
    bad("{\"version\":\"1\",\"fieldz\":[],\"fields\":[{\"name\":\"a\",\"type\":\"text\","
        "\"label\":\"A\"}]}", "codebook-key", "fieldz");
}

TEST(cb_bad_names)
{
    bad(F("{\"name\":\"Gender\",\"type\":\"text\",\"label\":\"G\"}"), "codebook-name", "[a-z]");
    bad(F("{\"name\":\"1st\",\"type\":\"text\",\"label\":\"G\"}"), "codebook-name", "[a-z]");
    bad(F("{\"name\":\"a-b\",\"type\":\"text\",\"label\":\"G\"}"), "codebook-name", "[a-z]");
    bad(F("{\"type\":\"text\",\"label\":\"G\"}"), "codebook-missing", "'name'");
    bad(F("{\"name\":\"a\",\"type\":\"text\",\"label\":\"A\"},"
          "{\"name\":\"a\",\"type\":\"text\",\"label\":\"B\"}"), "codebook-duplicate",
        "defined twice");
    bad(F("{\"name\":\"a\",\"type\":\"text\",\"label\":\"Same\"},"
          "{\"name\":\"b\",\"type\":\"text\",\"label\":\"same\"}"), "codebook-collision",
        "could not be told apart");
    bad(F("{\"name\":\"a\",\"type\":\"text\",\"label\":\"A\",\"requried\":true}"),
        "codebook-key", "requried");
    bad(F("{\"name\":\"a\",\"type\":\"text\"}"), "codebook-missing", "'label'");
}

TEST(cb_bad_types)
{
    bad(F("{\"name\":\"a\",\"type\":\"string\",\"label\":\"A\"}"), "codebook-type",
        "unknown type 'string'");
    bad(F("{\"name\":\"a\",\"type\":\"text\",\"label\":\"A\",\"required\":\"yes\"}"),
        "codebook-type", "true or false");
    bad(F("{\"name\":\"a\",\"type\":\"integer\",\"label\":\"A\",\"min\":\"0\"}"),
        "codebook-type", "whole number");
    bad(F("{\"name\":\"a\",\"type\":\"integer\",\"label\":\"A\",\"min\":1.5}"),
        "codebook-type", "whole number");
    bad(F("{\"name\":\"a\",\"type\":\"text\",\"label\":\"A\",\"values\":[]}"),
        "codebook-key", "'values' applies only");
    bad(F("{\"name\":\"a\",\"type\":\"code\",\"label\":\"A\",\"max_length\":5,"
          "\"values\":[{\"code\":\"x\",\"label\":\"X\"}]}"), "codebook-key", "max_length");
    bad(F("[]"), "codebook-type", "must be an object");
}

/* The encodings of spotlight encode: top-level text, always sensitive. */
TEST(cb_encoded_fields)
{
    fixture fx;
    setup(&fx);
    const char *names[3] = {"person_clk", "person_block", "person_doc"};
    for (int i = 0; i < 3; i++) {
        const cb_field *f = field(&fx, names[i]);
        ASSERT_EQ(f->encoded, 1);
        ASSERT_EQ(f->sensitive, 1);
        ASSERT_EQ(f->type, CB_TEXT);
    }
    ASSERT_EQ(field(&fx, "case_ref")->encoded, 0);
    teardown(&fx);
    bad(F("{\"name\":\"a\",\"type\":\"year\",\"label\":\"A\",\"encoded\":true}"),
        "codebook-key", "'encoded' applies only");
    bad(F("{\"name\":\"a\",\"type\":\"text\",\"label\":\"A\",\"encoded\":true,"
          "\"sensitive\":false}"), "codebook-key", "cannot be declared not sensitive");
    bad(F("{\"name\":\"g\",\"type\":\"group\",\"label\":\"G\",\"fields\":["
          "{\"name\":\"a\",\"type\":\"text\",\"label\":\"A\",\"encoded\":true}]}"),
        "codebook-key", "'encoded' applies only");
    bad(F("{\"name\":\"a\",\"type\":\"text\",\"label\":\"A\",\"encoded\":1}"),
        "codebook-type", "true or false");
}

TEST(cb_bad_values)
{
    bad(F("{\"name\":\"a\",\"type\":\"code\",\"label\":\"A\"}"), "codebook-values",
        "non-empty 'values'");
    bad(F(CODE("a", "")), "codebook-values", "non-empty 'values'");
    bad(F(CODE("a", V("x", "X") "," V("x", "Y"))), "codebook-duplicate", "'x' is listed twice");
    bad(F(CODE("a", V("X", "X"))), "codebook-name", "code 'X'");
    bad(F(CODE("a", V("x", "Same") "," V("y", "same"))), "codebook-collision", "also means 'x'");
    bad(F(CODE("a", V("x", "X") ",{\"code\":\"y\",\"label\":\"Y\",\"aliases\":[\"X\"]}")),
        "codebook-collision", "alias 'X' of 'y' also means 'x'");
    bad(F(CODE("a", "{\"code\":\"y\",\"label\":\"Y\",\"aliases\":[\"--\"]}")),
        "codebook-values", "no letters or digits");
    bad(F(CODE("a", "{\"code\":\"y\",\"label\":\"Y\",\"aliases\":\"x\"}")),
        "codebook-type", "must be a list");
    bad(F(CODE("a", "{\"code\":\"y\",\"label\":\"Y\",\"aliases\":[3]}")),
        "codebook-type", "must be text");
    bad(F(CODE("a", "{\"code\":\"y\",\"label\":\"Y\",\"colour\":\"red\"}")),
        "codebook-key", "colour");
    bad(F(CODE("a", "7")), "codebook-values", "not an object");
}

TEST(cb_bad_ranges)
{
    bad(F("{\"name\":\"a\",\"type\":\"integer\",\"label\":\"A\",\"min\":5,\"max\":1}"),
        "codebook-range", "min 5 is greater than max 1");
    bad(F("{\"name\":\"a\",\"type\":\"age\",\"label\":\"A\",\"max\":20000}"),
        "codebook-range", "0..9999");
    bad(F("{\"name\":\"a\",\"type\":\"text\",\"label\":\"A\",\"min\":1}"),
        "codebook-range", "apply only");
    bad(F("{\"name\":\"a\",\"type\":\"text\",\"label\":\"A\",\"max_length\":0}"),
        "codebook-range", "max_length");
}

TEST(cb_bad_province_links)
{
    bad(F("{\"name\":\"p\",\"type\":\"province\",\"label\":\"P\"}"), "codebook-missing",
        "'country_field'");
    bad(F("{\"name\":\"p\",\"type\":\"province\",\"label\":\"P\",\"country_field\":\"c\"}"),
        "codebook-country-field", "'c' is not a field at the top level");
    bad(F("{\"name\":\"c\",\"type\":\"text\",\"label\":\"C\"},"
          "{\"name\":\"p\",\"type\":\"province\",\"label\":\"P\",\"country_field\":\"c\"}"),
        "codebook-country-field", "single country field");
    bad(F("{\"name\":\"c\",\"type\":\"country\",\"label\":\"C\",\"multiple\":true},"
          "{\"name\":\"p\",\"type\":\"province\",\"label\":\"P\",\"country_field\":\"c\"}"),
        "codebook-country-field", "single country field");
    /* a group's province must point at a country of the same group */
    bad(F("{\"name\":\"c\",\"type\":\"country\",\"label\":\"C\"},"
          "{\"name\":\"g\",\"type\":\"group\",\"label\":\"G\",\"max_repeat\":2,\"fields\":["
          "{\"name\":\"p\",\"type\":\"province\",\"label\":\"P\",\"country_field\":\"c\"}]}"),
        "codebook-country-field", "of the same group");
    bad(F("{\"name\":\"c\",\"type\":\"country\",\"label\":\"C\",\"country_field\":\"c\"}"),
        "codebook-key", "country_field");
}

TEST(cb_bad_groups)
{
    bad(F("{\"name\":\"g\",\"type\":\"group\",\"label\":\"G\",\"max_repeat\":2}"),
        "codebook-group", "non-empty 'fields'");
    bad(F("{\"name\":\"g\",\"type\":\"group\",\"label\":\"G\",\"max_repeat\":2,\"fields\":[]}"),
        "codebook-group", "non-empty 'fields'");
    bad(F("{\"name\":\"g\",\"type\":\"group\",\"label\":\"G\",\"fields\":["
          "{\"name\":\"a\",\"type\":\"text\",\"label\":\"A\"}]}"),
        "codebook-group", "max_repeat between 1 and 100");
    bad(F("{\"name\":\"g\",\"type\":\"group\",\"label\":\"G\",\"max_repeat\":101,\"fields\":["
          "{\"name\":\"a\",\"type\":\"text\",\"label\":\"A\"}]}"),
        "codebook-group", "max_repeat between 1 and 100");
    bad(F("{\"name\":\"g\",\"type\":\"group\",\"label\":\"G\",\"max_repeat\":0,\"fields\":["
          "{\"name\":\"a\",\"type\":\"text\",\"label\":\"A\"}]}"),
        "codebook-group", "max_repeat between 1 and 100");
    bad(F("{\"name\":\"g\",\"type\":\"group\",\"label\":\"G\",\"max_repeat\":2,\"fields\":["
          "{\"name\":\"h\",\"type\":\"group\",\"label\":\"H\",\"max_repeat\":2,\"fields\":["
          "{\"name\":\"a\",\"type\":\"text\",\"label\":\"A\"}]}]}"),
        "codebook-group", "cannot be nested");
    bad(F("{\"name\":\"g\",\"type\":\"group\",\"label\":\"G\",\"max_repeat\":2,\"fields\":["
          "{\"name\":\"a\",\"type\":\"text\",\"label\":\"A\"},"
          "{\"name\":\"a\",\"type\":\"text\",\"label\":\"B\"}]}"),
        "codebook-duplicate", "in group g");
    bad(F("{\"name\":\"a\",\"type\":\"text\",\"label\":\"A\",\"max_repeat\":3}"),
        "codebook-key", "max_repeat");
    bad(F("{\"name\":\"a\",\"type\":\"text\",\"label\":\"A\",\"fields\":[]}"),
        "codebook-key", "'fields' applies only");
}

TEST(cb_errors_name_the_field)
{
    sp_err err;
    sp_err_init(&err);
    sp_codebook *cb = NULL;
    const char *json = F("{\"name\":\"g\",\"type\":\"group\",\"label\":\"G\",\"max_repeat\":2,"
                         "\"fields\":[{\"name\":\"kind\",\"type\":\"code\",\"label\":\"K\","
                         "\"values\":[]}]}");
    ASSERT_EQ(codebook_load_mem(&cb, json, strlen(json), NULL, &err), SP_EINPUT);
    ASSERT_STR_EQ(err.items[0].column, "g.kind");
    ASSERT_STR_EQ(err.items[0].file, "codebook.json");
    sp_err_free(&err);
}

TEST(cb_good_minimal_and_file)
{
    const char *json = F("{\"name\":\"c\",\"type\":\"country\",\"label\":\"C\"},"
                         "{\"name\":\"p\",\"type\":\"province\",\"label\":\"P\","
                         "\"country_field\":\"c\"}");
    char path[] = "/tmp/test_codebook_XXXXXX";
    int fd = mkstemp(path);
    ASSERT(fd >= 0);
    ASSERT_EQ(write(fd, json, strlen(json)), (long long)strlen(json));
    close(fd);
    sp_err err;
    sp_err_init(&err);
    sp_codebook *cb = NULL;
    ASSERT_EQ(codebook_load_file(&cb, path, NULL, &err), SP_OK);
    ASSERT_EQ(cb->nfields, 2);
    ASSERT_EQ(cb->fields[1].country_index, 0);
    ASSERT_STR_EQ(cb->version, "1");
    codebook_free(cb);
    unlink(path);
    ASSERT_EQ(codebook_load_file(&cb, path, NULL, &err), SP_EIO);
    ASSERT_NULL(cb);
    ASSERT_CONTAINS(sp_err_last(&err), "cannot open");
    sp_err_free(&err);
}

TEST(cb_repo_file_matches_embedded)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/codebook/codebook.json", test_srcdir());
    sp_err err;
    sp_err_init(&err);
    sp_codebook *cb = NULL;
    if (codebook_load_file(&cb, path, NULL, &err) != SP_OK) {
        sp_err_print(&err, stderr);
        TFAIL("codebook/codebook.json does not load");
    }
    fixture fx;
    setup(&fx);
    ASSERT_EQ(cb->nfields, fx.cb->nfields);
    ASSERT_STR_EQ(cb->version, fx.cb->version);
    teardown(&fx);
    codebook_free(cb);
    sp_err_free(&err);
}

TEST(cb_markdown)
{
    fixture fx;
    setup(&fx);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    ASSERT_NOT_NULL(f);
    ASSERT_EQ(codebook_write_markdown(fx.cb, f), SP_OK);
    fclose(f);
    ASSERT_CONTAINS(buf, "# Spotlight codebook");
    ASSERT_CONTAINS(buf, "## Victim");
    ASSERT_CONTAINS(buf, "### `gender` -- Gender");
    ASSERT_CONTAINS(buf, "| `female` | Female |");
    ASSERT_CONTAINS(buf, "### `exploitation.province` -- Province");
    ASSERT_CONTAINS(buf, "| province | no | no | no | `country` |");
    ASSERT_CONTAINS(buf, "yes (never published)");
    /* every field appears once */
    for (size_t i = 0; i < fx.cb->nfields; i++) {
        char h[128];
        snprintf(h, sizeof h, "### `%s` --", fx.cb->fields[i].name);
        const char *p = strstr(buf, h);
        ASSERT_NOT_NULL(p);
        ASSERT_NULL(strstr(p + 1, h));
    }
    free(buf);
    teardown(&fx);
}

TEST_LIST(cb_load_default, cb_match_and_value, cb_type_names, cb_parse_empty_is_missing,
          cb_parse_text, cb_parse_code, cb_parse_deprecated_code, cb_parse_integer_decimal,
          cb_parse_year_date, cb_parse_age, cb_parse_country, cb_parse_province,
          cb_parse_currency, cb_parse_without_gazetteer, cb_bad_json, cb_bad_names,
          cb_bad_types, cb_bad_values, cb_bad_ranges, cb_bad_province_links, cb_bad_groups,
          cb_errors_name_the_field, cb_good_minimal_and_file, cb_repo_file_matches_embedded,
          cb_markdown, cb_encoded_fields)
