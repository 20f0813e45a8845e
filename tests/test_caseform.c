/* test_caseform.c -- the case form: rendering (every field once, labelled,
 * hinted, well-formed XML, escaped) and validation of submissions (the
 * same rules and rule ids as import, caps, unknown names, groups). */
#include "test.h"
#include "caseform.h"

#include <expat.h>

typedef struct fixture {
    sp_gazetteer *g;
    sp_codebook *cb;
    sp_err err;
    sp_record rec;
    caseform_values v;
    caseform_errors e;
    sp_buf html;
    http_param p[1200];
    size_t np;
    sp_arena a;
} fixture;

static void setup(fixture *fx)
{
    memset(fx, 0, sizeof *fx);
    sp_err_init(&fx->err);
    if (gazetteer_load(&fx->g, NULL, &fx->err) != SP_OK ||
        codebook_load_default(&fx->cb, fx->g, &fx->err) != SP_OK) {
        sp_err_print(&fx->err, stderr);
        TFAIL("cannot load the default codebook");
    }
    record_init(&fx->rec, fx->cb);
    caseform_values_init(&fx->v);
    caseform_errors_init(&fx->e);
    sp_buf_init(&fx->html, 16u << 20);
    sp_arena_init(&fx->a);
}

static void teardown(fixture *fx)
{
    sp_arena_free(&fx->a);
    sp_buf_free(&fx->html);
    caseform_errors_free(&fx->e);
    caseform_values_free(&fx->v);
    record_free(&fx->rec);
    codebook_free(fx->cb);
    gazetteer_free(fx->g);
    sp_err_free(&fx->err);
}

static void put(fixture *fx, const char *k, const char *v)
{
    if (fx->np >= sizeof fx->p / sizeof fx->p[0]) TFAIL("too many test pairs");
    http_param *p = &fx->p[fx->np++];
    p->key = sp_arena_strdup(&fx->a, k);
    p->klen = strlen(k);
    p->value = sp_arena_strdup(&fx->a, v);
    p->vlen = strlen(v);
}

static int parse(fixture *fx)
{
    return caseform_parse(fx->cb, fx->p, fx->np, &fx->rec, &fx->v, &fx->e);
}

static const char *get(fixture *fx, const char *name)
{
    const cb_field *f = codebook_field(fx->cb, name);
    if (!f) TFAIL("no field %s", name);
    const cb_cell *c = record_get(&fx->rec, f->index);
    return c ? c->text : NULL;
}

static const char *gcell(fixture *fx, const char *group, size_t row, const char *sub)
{
    const cb_field *f = codebook_field(fx->cb, group);
    const cb_field *s = f ? codebook_subfield(f, sub) : NULL;
    if (!s) TFAIL("no sub-field %s.%s", group, sub);
    const rec_group *g = &fx->rec.groups[f->index];
    if (row >= g->nrows) return NULL;
    return g->cells[row * f->nsub + (size_t)s->index].text;
}

static size_t count(const char *hay, const char *needle)
{
    size_t n = 0, l = strlen(needle);
    for (const char *p = strstr(hay, needle); p; p = strstr(p + l, needle)) n++;
    return n;
}

static size_t count_attr(const char *hay, const char *attr, const char *value)
{
    char buf[256];
    snprintf(buf, sizeof buf, "%s=\"%s\"", attr, value);
    return count(hay, buf);
}

/* Parses the form wrapped in a root element with expat; 1 if well-formed. */
static int well_formed(const char *html)
{
    XML_Parser x = XML_ParserCreate("UTF-8");
    const char *open = "<root>", *close = "</root>";
    int ok = XML_Parse(x, open, (int)strlen(open), 0) != XML_STATUS_ERROR &&
             XML_Parse(x, html, (int)strlen(html), 0) != XML_STATUS_ERROR &&
             XML_Parse(x, close, (int)strlen(close), 1) != XML_STATUS_ERROR;
    if (!ok)
        fprintf(stderr, "  expat: %s at line %lu\n", XML_ErrorString(XML_GetErrorCode(x)),
                (unsigned long)XML_GetCurrentLineNumber(x));
    XML_ParserFree(x);
    return ok;
}

/* The rule codebook_parse (and so import) gives for this raw value. */
static const char *import_rule(fixture *fx, const char *field, const char *raw, const char *country)
{
    const cb_field *f = codebook_field(fx->cb, field);
    cb_cell c;
    const char *rule = NULL, *why = NULL;
    if (codebook_parse(fx->cb, f, raw, strlen(raw), country, &c, &fx->a, &rule, &why) == 0)
        return "ok";
    return rule;
}

TEST(cf_render_empty_has_every_field_once)
{
    fixture fx;
    setup(&fx);
    ASSERT_EQ(caseform_render(&fx.html, fx.cb, NULL, NULL, "/portal/cases/new", "tok123"), SP_OK);
    const char *h = fx.html.data;
    ASSERT(well_formed(h));
    ASSERT_CONTAINS(h, "action=\"/portal/cases/new\"");
    ASSERT_CONTAINS(h, "name=\"csrf\" value=\"tok123\"");
    ASSERT_EQ(count(h, "cf-summary"), 0);
    size_t nfields = 0;
    char name[128];
    for (size_t i = 0; i < fx.cb->nfields; i++) {
        const cb_field *f = &fx.cb->fields[i];
        if (f->deprecated) continue;
        if (f->encoded) {      /* made by spotlight encode, never typed */
            ASSERT_EQ(count_attr(h, "data-field", f->name), 0);
            ASSERT(strstr(h, f->name) == NULL);
            continue;
        }
        nfields++;
        ASSERT_EQ(count_attr(h, "data-field", f->name), 1);
        snprintf(name, sizeof name, "h-%s", f->name);
        ASSERT_EQ(count_attr(h, "id", name), 1);
        if (f->type == CB_GROUP) {
            for (int r = 0; r < f->max_repeat; r++)
                for (size_t s = 0; s < f->nsub; s++) {
                    snprintf(name, sizeof name, "%s_%d_%s", f->name, r + 1, f->sub[s].name);
                    ASSERT_EQ(count_attr(h, "data-field", name), 1);
                    char id[160];
                    snprintf(id, sizeof id, "h-%s", name);
                    ASSERT_EQ(count_attr(h, "id", id), 1);
                }
            continue;
        }
        if (f->multiple) {
            snprintf(name, sizeof name, "f-%s", f->name);
            ASSERT_EQ(count_attr(h, "id", name), 1);   /* the checkbox fieldset */
        } else {
            snprintf(name, sizeof name, "f-%s", f->name);
            ASSERT_EQ(count_attr(h, "for", name), 1);  /* the label */
            ASSERT_EQ(count_attr(h, "id", name), 1);   /* the control */
        }
    }
    ASSERT_EQ(nfields, 24);
    /* controls of each kind */
    ASSERT_CONTAINS(h, "<input type=\"text\" id=\"f-case_ref\" name=\"case_ref\" "
                       "aria-describedby=\"h-case_ref\" required=\"required\" maxlength=\"64\"");
    ASSERT_CONTAINS(h, "<input type=\"number\" id=\"f-year_identified\"");
    ASSERT_CONTAINS(h, "min=\"1990\" max=\"2100\"");
    ASSERT_CONTAINS(h, "<input type=\"date\" id=\"f-date_identified\"");
    ASSERT_CONTAINS(h, "<option value=\"male\">Male</option>");
    ASSERT_CONTAINS(h, "<option value=\"VN\">Vietnam</option>");
    ASSERT_CONTAINS(h, "<optgroup label=\"Vietnam\">");
    ASSERT_CONTAINS(h, "<option value=\"VN-44\">An Giang</option>");
    ASSERT_CONTAINS(h, "<option value=\"USD\">USD</option>");
    ASSERT_CONTAINS(h, "<option value=\"THB\">THB</option>");
    ASSERT_CONTAINS(h, "type=\"checkbox\" id=\"f-control_means-0\" name=\"control_means\" "
                       "value=\"debt_bondage\"");
    ASSERT_CONTAINS(h, "<textarea rows=\"3\" id=\"f-promised_job\"");
    ASSERT_CONTAINS(h, "(never published)");
    ASSERT_CONTAINS(h, "<summary>Places of exploitation 5</summary>");
    /* countries sorted by name: Cambodia before Thailand before Viet Nam */
    const char *kh = strstr(h, "<option value=\"KH\">"), *th = strstr(h, "<option value=\"TH\">"),
               *vn = strstr(h, "<option value=\"VN\">");
    ASSERT(kh && th && vn && kh < th && th < vn);
    teardown(&fx);
}

TEST(cf_render_escapes_hostile_values)
{
    fixture fx;
    setup(&fx);
    const char *evil = "<script>alert('x')</script>\"&";
    caseform_values_add(&fx.v, "case_ref", evil, strlen(evil));
    caseform_values_add(&fx.v, "gender", evil, strlen(evil));
    caseform_values_add(&fx.v, "control_means", evil, strlen(evil));
    caseform_values_add(&fx.v, "promised_job", evil, strlen(evil));
    caseform_values_add(&fx.v, "exploitation_2_province", evil, strlen(evil));
    ASSERT_EQ(caseform_render(&fx.html, fx.cb, &fx.v, NULL, "/a?\"<b>", "t\"<"), SP_OK);
    const char *h = fx.html.data;
    ASSERT(well_formed(h));
    ASSERT_EQ(count(h, "<script"), 0);
    ASSERT_EQ(count(h, "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&quot;&amp;"), 8);
    ASSERT_CONTAINS(h, "action=\"/a?&quot;&lt;b&gt;\"");
    ASSERT_CONTAINS(h, "(not in the list)");
    teardown(&fx);
}

static void good_submission(fixture *fx)
{
    put(fx, "csrf", "abc");
    put(fx, "case_ref", "  ORG-17 ");
    put(fx, "date_identified", "2024-03-05");
    put(fx, "gender", "Male");
    put(fx, "age", "18-24");
    put(fx, "nationality", "Viet Nam");
    put(fx, "origin_country", "VN");
    put(fx, "origin_province", "An Giang");
    put(fx, "transit_countries", "TH");
    put(fx, "transit_countries", "Laos");
    put(fx, "control_means", "debt_bondage");
    put(fx, "control_means", "threats");
    put(fx, "exploitation_1_country", "KH");
    put(fx, "exploitation_1_province", "Preah Sihanouk");
    put(fx, "exploitation_2_country", "");
    put(fx, "exploitation_2_province", "");
    put(fx, "exploitation_3_province", "MM-13");
    put(fx, "exploitation_3_locality", "Shwe Kokko");
    put(fx, "ransom_paid_amount", "3000");
    put(fx, "ransom_paid_currency", "usdt");
    put(fx, "indicators_1_type", "phone");
    put(fx, "indicators_1_value", "+855 12 345 678");
}

TEST(cf_parse_good_submission)
{
    fixture fx;
    setup(&fx);
    good_submission(&fx);
    int rc = parse(&fx);
    for (size_t i = 0; i < fx.e.n; i++)
        fprintf(stderr, "  %s: %s [%s]\n", fx.e.items[i].name, fx.e.items[i].message, fx.e.items[i].rule);
    ASSERT_EQ(rc, SP_OK);
    ASSERT_EQ(fx.e.count, 0);
    ASSERT_STR_EQ(get(&fx, "case_ref"), "ORG-17");
    ASSERT_STR_EQ(get(&fx, "gender"), "male");
    ASSERT_STR_EQ(get(&fx, "nationality"), "VN");
    ASSERT_STR_EQ(get(&fx, "origin_province"), "VN-44");
    ASSERT_STR_EQ(get(&fx, "age"), "18-24");
    ASSERT_STR_EQ(get(&fx, "year_identified"), "2024");   /* from the date, as import does */
    ASSERT_STR_EQ(get(&fx, "ransom_paid_currency"), "USD");
    const cb_field *tc = codebook_field(fx.cb, "transit_countries");
    ASSERT_EQ(fx.rec.vals[tc->index].n, 2);
    ASSERT_STR_EQ(fx.rec.vals[tc->index].v[0].text, "TH");
    ASSERT_STR_EQ(fx.rec.vals[tc->index].v[1].text, "LA");
    const cb_field *cm = codebook_field(fx.cb, "control_means");
    ASSERT_EQ(fx.rec.vals[cm->index].n, 2);
    /* empty row 2 dropped: row 3 becomes the second row; its country comes
     * from the full province code */
    const cb_field *ex = codebook_field(fx.cb, "exploitation");
    ASSERT_EQ(fx.rec.groups[ex->index].nrows, 2);
    ASSERT_STR_EQ(gcell(&fx, "exploitation", 0, "country"), "KH");
    ASSERT_STR_EQ(gcell(&fx, "exploitation", 0, "province"), "KH-18");
    ASSERT_STR_EQ(gcell(&fx, "exploitation", 1, "country"), "MM");
    ASSERT_STR_EQ(gcell(&fx, "exploitation", 1, "province"), "MM-13");
    ASSERT_STR_EQ(gcell(&fx, "exploitation", 1, "locality"), "Shwe Kokko");
    ASSERT_STR_EQ(gcell(&fx, "indicators", 0, "type"), "phone");
    teardown(&fx);
}

TEST(cf_parse_mistakes_same_rules_as_import)
{
    fixture fx;
    setup(&fx);
    put(&fx, "case_ref", "");
    put(&fx, "gender", "martian");
    put(&fx, "age", "200");
    put(&fx, "origin_country", "VN");
    put(&fx, "origin_province", "TH-10");
    put(&fx, "exploitation_2_country", "KH");
    put(&fx, "exploitation_2_province", "VN-44");
    put(&fx, "months_exploited", "12");
    ASSERT_EQ(parse(&fx), SP_EINPUT);
    ASSERT_EQ(fx.e.count, 5);
    ASSERT_STR_EQ(caseform_errors_get(&fx.e, "case_ref")->rule, "required");
    ASSERT_STR_EQ(caseform_errors_get(&fx.e, "gender")->rule, import_rule(&fx, "gender", "martian", NULL));
    ASSERT_STR_EQ(caseform_errors_get(&fx.e, "gender")->rule, "unknown-code");
    ASSERT_STR_EQ(caseform_errors_get(&fx.e, "age")->rule, "out-of-range");
    ASSERT_STR_EQ(caseform_errors_get(&fx.e, "origin_province")->rule, "province-country-mismatch");
    ASSERT_STR_EQ(caseform_errors_get(&fx.e, "exploitation_2_province")->rule,
                  "province-country-mismatch");
    ASSERT_NULL(caseform_errors_get(&fx.e, "months_exploited"));
    ASSERT_NULL(caseform_errors_get(&fx.e, "origin_country"));
    /* re-rendered: what was typed is kept, errors sit by their fields and
     * in the summary */
    ASSERT_EQ(caseform_render(&fx.html, fx.cb, &fx.v, &fx.e, "/x", "t"), SP_OK);
    const char *h = fx.html.data;
    ASSERT(well_formed(h));
    ASSERT_CONTAINS(h, "class=\"cf-summary\"");
    ASSERT_CONTAINS(h, "5 problems to fix");
    ASSERT_CONTAINS(h, "<a href=\"#f-gender\">Gender</a>");
    ASSERT_CONTAINS(h, "<a href=\"#f-exploitation_2_province\">");
    ASSERT_EQ(count(h, "aria-invalid=\"true\""), 5);
    ASSERT_CONTAINS(h, "id=\"f-age\" name=\"age\" aria-describedby=\"h-age\" aria-invalid=\"true\"");
    ASSERT_CONTAINS(h, "value=\"200\"");
    ASSERT_CONTAINS(h, "value=\"12\"");
    ASSERT_CONTAINS(h, "<option value=\"martian\" selected=\"selected\">martian (not in the list)");
    ASSERT_CONTAINS(h, "<option value=\"TH-10\" selected=\"selected\">");
    ASSERT_CONTAINS(h, "<option value=\"VN\" selected=\"selected\">Vietnam</option>");
    /* the message is in the field's hint */
    const char *hint = strstr(h, "id=\"h-gender\"><strong class=\"cf-msg\">");
    ASSERT_NOT_NULL(hint);
    teardown(&fx);
}

TEST(cf_parse_caps)
{
    fixture fx;
    setup(&fx);
    /* a value past the codebook's max_length: the codebook's rule */
    char ref[66];
    memset(ref, 'a', 65);
    ref[65] = 0;
    put(&fx, "case_ref", ref);
    /* a value past the form's hard cap */
    char *big = sp_arena_alloc(&fx.a, CASEFORM_MAX_VALUE + 2);
    memset(big, 'b', CASEFORM_MAX_VALUE + 1);
    big[CASEFORM_MAX_VALUE + 1] = 0;
    put(&fx, "promised_job", big);
    ASSERT_EQ(parse(&fx), SP_EINPUT);
    ASSERT_STR_EQ(caseform_errors_get(&fx.e, "case_ref")->rule, import_rule(&fx, "case_ref", ref, NULL));
    ASSERT_STR_EQ(caseform_errors_get(&fx.e, "case_ref")->rule, "too-long");
    ASSERT_STR_EQ(caseform_errors_get(&fx.e, "promised_job")->rule, "too-long");
    teardown(&fx);

    /* too many pairs: refused before anything is read */
    setup(&fx);
    for (int i = 0; i < CASEFORM_MAX_PAIRS + 1; i++) put(&fx, "control_means", "threats");
    ASSERT_EQ(parse(&fx), SP_EINPUT);
    ASSERT_EQ(fx.e.count, 1);
    ASSERT_STR_EQ(fx.e.items[0].rule, "too-many-fields");
    ASSERT_STR_EQ(fx.e.items[0].name, "");
    ASSERT_EQ(fx.v.n, 0);
    teardown(&fx);
}

TEST(cf_parse_unknown_and_repeated_names)
{
    fixture fx;
    setup(&fx);
    put(&fx, "case_ref", "R1");
    put(&fx, "gendr", "male");
    put(&fx, "exploitation_6_country", "KH");   /* past max_repeat */
    put(&fx, "exploitation_1_colour", "red");
    put(&fx, "gender", "male");
    put(&fx, "gender", "female");              /* a single field twice */
    ASSERT_EQ(parse(&fx), SP_EINPUT);
    ASSERT_EQ(fx.e.count, 4);
    size_t unknown = 0;
    for (size_t i = 0; i < fx.e.n; i++)
        if (strcmp(fx.e.items[i].rule, "unknown-field") == 0) {
            unknown++;
            ASSERT_STR_EQ(fx.e.items[i].name, "");
        }
    ASSERT_EQ(unknown, 3);
    ASSERT_STR_EQ(caseform_errors_get(&fx.e, "gender")->rule, "one-value");
    /* the unknown names are in the summary, escaped, without a link */
    ASSERT_EQ(caseform_render(&fx.html, fx.cb, &fx.v, &fx.e, "/x", NULL), SP_OK);
    ASSERT(well_formed(fx.html.data));
    ASSERT_CONTAINS(fx.html.data, "<li>&#39;gendr&#39; is not a field of this form</li>");
    teardown(&fx);
}

TEST(cf_values_from_record_round_trip)
{
    fixture fx;
    setup(&fx);
    good_submission(&fx);
    ASSERT_EQ(parse(&fx), SP_OK);
    caseform_values v2;
    caseform_values_init(&v2);
    ASSERT_EQ(caseform_values_from_record(&v2, &fx.rec), SP_OK);
    ASSERT_STR_EQ(caseform_values_get(&v2, "gender"), "male");
    ASSERT_STR_EQ(caseform_values_get(&v2, "exploitation_2_province"), "MM-13");
    ASSERT_EQ(caseform_render(&fx.html, fx.cb, &v2, NULL, "/portal/cases/7/edit", "t"), SP_OK);
    const char *h = fx.html.data;
    ASSERT(well_formed(h));
    ASSERT_CONTAINS(h, "<option value=\"male\" selected=\"selected\">Male</option>");
    ASSERT_CONTAINS(h, "<option value=\"KH-18\" selected=\"selected\">");
    ASSERT_CONTAINS(h, "value=\"threats\" checked=\"checked\"");
    ASSERT_CONTAINS(h, "value=\"LA\" checked=\"checked\"");
    ASSERT_CONTAINS(h, "value=\"ORG-17\"");
    ASSERT_CONTAINS(h, "<option value=\"USD\" selected=\"selected\">");
    /* the values of the record parse back to the same record */
    http_param p[200];
    ASSERT_LE(v2.n, 200);
    for (size_t i = 0; i < v2.n; i++) {
        p[i].key = v2.items[i].name;
        p[i].klen = strlen(v2.items[i].name);
        p[i].value = v2.items[i].value;
        p[i].vlen = v2.items[i].vlen;
    }
    sp_record r2;
    record_init(&r2, fx.cb);
    caseform_values v3;
    caseform_errors e3;
    caseform_values_init(&v3);
    caseform_errors_init(&e3);
    ASSERT_EQ(caseform_parse(fx.cb, p, v2.n, &r2, &v3, &e3), SP_OK);
    for (size_t f = 0; f < fx.cb->nfields; f++) {
        const cb_cell *a = record_get(&fx.rec, (int)f), *b = record_get(&r2, (int)f);
        ASSERT_EQ(!a, !b);
        if (a) ASSERT_STR_EQ(a->text, b->text);
        ASSERT_EQ(fx.rec.groups[f].nrows, r2.groups[f].nrows);
    }
    caseform_errors_free(&e3);
    caseform_values_free(&v3);
    record_free(&r2);
    caseform_values_free(&v2);
    teardown(&fx);
}

TEST(cf_render_province_menus_limited)
{
    fixture fx;
    setup(&fx);
    caseform_values_add(&fx.v, "origin_country", "VN", 2);
    const char *only[] = {"KH", "MM"};
    caseform_opts o = {only, 2, "/static/caseform.css", "Submit"};
    ASSERT_EQ(caseform_render_opts(&fx.html, fx.cb, &fx.v, NULL, "/x", "t", &o), SP_OK);
    const char *h = fx.html.data;
    ASSERT(well_formed(h));
    ASSERT_CONTAINS(h, "<link rel=\"stylesheet\" href=\"/static/caseform.css\"/>");
    ASSERT_CONTAINS(h, ">Submit</button>");
    /* 6 province menus (origin + 5 rows) offer Cambodia and Myanmar; only
     * the origin menu offers Viet Nam, the country chosen */
    ASSERT_EQ(count(h, "<optgroup label=\"Cambodia\">"), 6);
    ASSERT_EQ(count(h, "<optgroup label=\"Vietnam\">"), 1);
    ASSERT_EQ(count(h, "<optgroup label=\"France\">"), 0);
    size_t limited = fx.html.len;
    sp_buf_reset(&fx.html);
    ASSERT_EQ(caseform_render(&fx.html, fx.cb, &fx.v, NULL, "/x", "t"), SP_OK);
    ASSERT_GE(fx.html.len, limited * 3);
    /* a cap too small is reported, not overrun */
    sp_buf small;
    sp_buf_init(&small, 1000);
    ASSERT_EQ(caseform_render(&small, fx.cb, NULL, NULL, "/x", "t"), SP_ELIMIT);
    ASSERT_LE(small.len, 1000);
    sp_buf_free(&small);
    teardown(&fx);
}

TEST(cf_deprecated_codes_and_fields)
{
    fixture fx;
    setup(&fx);
    const char *json =
        "{\"version\":\"1\",\"fields\":["
        "{\"name\":\"ref\",\"type\":\"text\",\"label\":\"Ref\",\"required\":true,\"max_length\":10},"
        "{\"name\":\"colour\",\"type\":\"code\",\"label\":\"Colour\",\"values\":["
        "{\"code\":\"red\",\"label\":\"Red\",\"help\":\"Like blood.\"},"
        "{\"code\":\"mauve\",\"label\":\"Mauve\",\"deprecated\":true}]},"
        "{\"name\":\"tags\",\"type\":\"code\",\"label\":\"Tags\",\"multiple\":true,\"values\":["
        "{\"code\":\"a\",\"label\":\"Alpha\",\"aliases\":[\"first\"]},"
        "{\"code\":\"old\",\"label\":\"Old tag\",\"deprecated\":true}]},"
        "{\"name\":\"gone\",\"type\":\"text\",\"label\":\"Gone\",\"deprecated\":true}]}";
    sp_codebook *cb = NULL;
    if (codebook_load_mem(&cb, json, strlen(json), fx.g, &fx.err) != SP_OK) {
        sp_err_print(&fx.err, stderr);
        TFAIL("cannot load the test codebook");
    }
    ASSERT_EQ(caseform_render(&fx.html, cb, NULL, NULL, "/x", NULL), SP_OK);
    ASSERT(well_formed(fx.html.data));
    ASSERT_EQ(count(fx.html.data, "mauve"), 0);
    ASSERT_EQ(count(fx.html.data, "value=\"old\""), 0);
    ASSERT_EQ(count(fx.html.data, "gone"), 0);
    ASSERT_CONTAINS(fx.html.data, "<dt>Red</dt><dd>Like blood.</dd>");
    /* a stored value that uses a deprecated code is still shown */
    caseform_values_add(&fx.v, "colour", "mauve", 5);
    caseform_values_add(&fx.v, "tags", "old", 3);
    caseform_values_add(&fx.v, "tags", "first", 5);   /* an alias ticks its box */
    sp_buf_reset(&fx.html);
    ASSERT_EQ(caseform_render(&fx.html, cb, &fx.v, NULL, "/x", NULL), SP_OK);
    ASSERT_CONTAINS(fx.html.data, "<option value=\"mauve\" selected=\"selected\">Mauve</option>");
    ASSERT_CONTAINS(fx.html.data, "value=\"old\" checked=\"checked\"");
    ASSERT_CONTAINS(fx.html.data, "value=\"a\" checked=\"checked\"");
    ASSERT_EQ(count(fx.html.data, "not in the list"), 0);
    /* a deprecated field is no input of the form */
    sp_record r;
    record_init(&r, cb);
    caseform_values v;
    caseform_errors e;
    caseform_values_init(&v);
    caseform_errors_init(&e);
    http_param p[3] = {{"ref", "R", 3, 1}, {"gone", "x", 4, 1}, {"tags", "first", 4, 5}};
    ASSERT_EQ(caseform_parse(cb, p, 3, &r, &v, &e), SP_EINPUT);
    ASSERT_EQ(e.count, 1);
    ASSERT_STR_EQ(e.items[0].rule, "unknown-field");
    ASSERT_STR_EQ(r.vals[2].v[0].text, "a");
    caseform_errors_free(&e);
    caseform_values_free(&v);
    record_free(&r);
    codebook_free(cb);
    teardown(&fx);
}

/* Garbage names and values (any bytes, any lengths) give errors, never a
 * crash, and the form re-rendered from them is still well-formed. */
TEST(cf_parse_garbage_never_crashes)
{
    static const char *names[] = {"case_ref", "gender", "age", "date_identified",
        "origin_province", "origin_country", "transit_countries", "control_means",
        "exploitation_1_province", "exploitation_5_country", "indicators_10_chain",
        "ransom_paid_amount", "ransom_paid_currency", "year_identified", "x", ""};
    unsigned seed = 12345;
    for (int round = 0; round < 40; round++) {
        fixture fx;
        setup(&fx);
        int n = (int)(seed % 30) + 1;
        for (int i = 0; i < n; i++) {
            char val[64];
            seed = seed * 1103515245u + 12345u;
            size_t len = (seed >> 8) % sizeof val;
            for (size_t k = 0; k < len; k++) {
                seed = seed * 1103515245u + 12345u;
                val[k] = (char)(seed >> 16);
            }
            http_param *p = &fx.p[fx.np++];
            p->key = names[(seed >> 4) % (sizeof names / sizeof names[0])];
            p->klen = strlen(p->key);
            char *v = sp_arena_alloc(&fx.a, len + 1);
            memcpy(v, val, len);
            v[len] = 0;
            p->value = v;
            p->vlen = len;
        }
        int rc = parse(&fx);
        ASSERT(rc == SP_OK || rc == SP_EINPUT);
        ASSERT_EQ(caseform_render(&fx.html, fx.cb, &fx.v, &fx.e, "/x", "t"), SP_OK);
        ASSERT(well_formed(fx.html.data));
        teardown(&fx);
    }
}

TEST_LIST(cf_render_empty_has_every_field_once, cf_render_escapes_hostile_values,
          cf_parse_good_submission, cf_parse_mistakes_same_rules_as_import, cf_parse_caps,
          cf_parse_unknown_and_repeated_names, cf_values_from_record_round_trip,
          cf_render_province_menus_limited,
          cf_deprecated_codes_and_fields, cf_parse_garbage_never_crashes)
