/* test_xlsform.c -- the XLSForm and the blank templates, read back with
 * the project's own XLSX and CSV readers and checked against the codebook
 * (a structural XLSForm check: no pyxform here). */
#include "test.h"
#include "codebook.h"
#include "gazetteer.h"
#include "layout.h"
#include "reader.h"
#include "template.h"
#include "xlsform.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static sp_gazetteer *gaz;
static sp_codebook *cb;
static char dir[64];

static void setup(void)
{
    sp_err err;
    sp_err_init(&err);
    if (gazetteer_load(&gaz, NULL, &err) != SP_OK) { sp_err_print(&err, stderr); exit(1); }
    if (codebook_load_default(&cb, gaz, &err) != SP_OK) { sp_err_print(&err, stderr); exit(1); }
    sp_err_free(&err);
    strcpy(dir, "/tmp/sp_test_xlsform_XXXXXX");
    if (!mkdtemp(dir)) exit(1);
}

static void teardown(const char *file)
{
    char p[128];
    snprintf(p, sizeof p, "%s/%s", dir, file);
    unlink(p);
    rmdir(dir);
    codebook_free(cb);
    gazetteer_free(gaz);
}

/* A sheet in memory: rows of cells (copies). */
typedef struct table {
    char ***cells;
    size_t *ncells;
    size_t nrows;
} table;

static void table_free(table *t)
{
    for (size_t r = 0; r < t->nrows; r++) {
        for (size_t c = 0; c < t->ncells[r]; c++) free(t->cells[r][c]);
        free(t->cells[r]);
    }
    free(t->cells);
    free(t->ncells);
    memset(t, 0, sizeof *t);
}

static int table_load(table *t, const char *path, const char *sheet)
{
    sp_err err;
    sp_reader *rd = NULL;
    sp_row row;
    sp_reader_opts o = {sheet ? SP_FMT_XLSX : SP_FMT_CSV, sheet, 0};
    int rc;
    memset(t, 0, sizeof *t);
    sp_err_init(&err);
    rc = reader_open(&rd, path, &o, &err);
    while (rc == SP_OK && (rc = reader_next(rd, &row, &err)) == SP_OK) {
        t->cells = sp_xrealloc(t->cells, (t->nrows + 1) * sizeof *t->cells);
        t->ncells = sp_xrealloc(t->ncells, (t->nrows + 1) * sizeof *t->ncells);
        t->cells[t->nrows] = sp_xcalloc(row.ncells + 1, sizeof (char *));
        for (size_t c = 0; c < row.ncells; c++)
            t->cells[t->nrows][c] = sp_xstrndup(row.cell[c], row.len[c]);
        t->ncells[t->nrows++] = row.ncells;
    }
    if (rc != SP_EOF) sp_err_print(&err, stderr);
    reader_close(rd);
    sp_err_free(&err);
    return rc == SP_EOF ? SP_OK : rc;
}

/* Cell of row r in the column whose header is `col`; "" if none. */
static const char *cell(const table *t, size_t r, const char *col)
{
    for (size_t c = 0; c < t->ncells[0]; c++)
        if (strcmp(t->cells[0][c], col) == 0)
            return c < t->ncells[r] ? t->cells[r][c] : "";
    return "";
}

static int has_col(const table *t, const char *col)
{
    for (size_t c = 0; c < t->ncells[0]; c++)
        if (strcmp(t->cells[0][c], col) == 0) return 1;
    return 0;
}

/* Survey row of a question name, or 0. */
static size_t find_q(const table *s, const char *name)
{
    for (size_t r = 1; r < s->nrows; r++)
        if (strcmp(cell(s, r, "name"), name) == 0 && strncmp(cell(s, r, "type"), "end_", 4) != 0)
            return r;
    return 0;
}

static int choice_exists(const table *ch, const char *list, const char *name)
{
    for (size_t r = 1; r < ch->nrows; r++)
        if (strcmp(cell(ch, r, "list_name"), list) == 0 &&
            (!name || strcmp(cell(ch, r, "name"), name) == 0))
            return 1;
    return 0;
}

static int xml_name(const char *s)
{
    if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || *s == '_')) return 0;
    for (s++; *s; s++)
        if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
              *s == '_' || *s == '-' || *s == '.'))
            return 0;
    return 1;
}

static void load_form(table *survey, table *choices, table *settings)
{
    char path[128];
    sp_err err;
    sp_err_init(&err);
    snprintf(path, sizeof path, "%s/form.xlsx", dir);
    ASSERT_EQ(xlsform_write(cb, path, &err), SP_OK);
    sp_err_free(&err);
    ASSERT_EQ(table_load(survey, path, "survey"), SP_OK);
    ASSERT_EQ(table_load(choices, path, "choices"), SP_OK);
    ASSERT_EQ(table_load(settings, path, "settings"), SP_OK);
}

TEST(xlsform_sheets_columns_settings)
{
    table s, c, st;
    setup();
    load_form(&s, &c, &st);
    static const char *const need[] = {"type", "name", "label", "hint", "required", "relevant",
                                       "constraint", "constraint_message", "appearance",
                                       "choice_filter", "repeat_count"};
    for (size_t i = 0; i < sizeof need / sizeof *need; i++) ASSERT(has_col(&s, need[i]));
    ASSERT(has_col(&c, "list_name") && has_col(&c, "name") && has_col(&c, "label"));
    ASSERT_EQ(st.nrows, 2);
    ASSERT_STR_EQ(cell(&st, 1, "version"), cb->version);
    ASSERT_STR_EQ(cell(&st, 1, "form_id"), "spotlight_case");
    ASSERT(*cell(&st, 1, "form_title"));
    ASSERT(*cell(&st, 1, "default_language"));
    table_free(&s);
    table_free(&c);
    table_free(&st);
    teardown("form.xlsx");
}

/* One question per field, typed as the codebook says; names unique and
 * valid XML names; required and sensitive carried over. */
TEST(xlsform_one_row_per_field)
{
    table s, c, st;
    setup();
    load_form(&s, &c, &st);
    for (size_t r = 1; r < s.nrows; r++) {
        const char *n = cell(&s, r, "name");
        ASSERT(xml_name(n));
        if (strncmp(cell(&s, r, "type"), "end_", 4) == 0) continue;
        for (size_t k = r + 1; k < s.nrows; k++)
            if (strncmp(cell(&s, k, "type"), "end_", 4) != 0 && strcmp(cell(&s, k, "name"), n) == 0)
                TFAIL("question name '%s' twice (rows %zu and %zu)", n, r, k);
    }
    size_t expected = 0;
    for (size_t i = 0; i < cb->nfields; i++) {
        const cb_field *f = &cb->fields[i];
        if (f->deprecated) continue;
        if (f->encoded) {      /* made by spotlight encode, never typed */
            if (find_q(&s, f->name)) TFAIL("encoded field '%s' has a question", f->name);
            continue;
        }
        const cb_field *list[64];
        char names[64][160];
        size_t n = 0;
        if (f->type == CB_GROUP) {
            for (size_t k = 0; k < f->nsub && n < 64; k++) {
                if (f->sub[k].deprecated) continue;
                xlsform_sub_name(cb, f, &f->sub[k], names[n], sizeof names[n]);
                list[n++] = &f->sub[k];
            }
            expected += 3;  /* count, begin, end */
        } else {
            snprintf(names[0], sizeof names[0], "%s", f->name);
            list[n++] = f;
        }
        for (size_t k = 0; k < n; k++) {
            const cb_field *q = list[k];
            size_t r = find_q(&s, names[k]);
            if (!r) TFAIL("no question for field '%s'", names[k]);
            expected += q->type == CB_AGE ? 2 : 1;
            const char *type = cell(&s, r, "type"), *cons = cell(&s, r, "constraint");
            char want[64];
            switch (q->type) {
            case CB_INTEGER: case CB_YEAR: case CB_DECIMAL: case CB_AGE:
                ASSERT_STR_EQ(type, q->type == CB_DECIMAL ? "decimal" : "integer");
                snprintf(want, sizeof want, ". >= %lld and . <= %lld", q->min, q->max);
                ASSERT_STR_EQ(cons, want);
                ASSERT(*cell(&s, r, "constraint_message"));
                break;
            case CB_CODE:
                ASSERT(strncmp(type, q->multiple ? "select_multiple " : "select_one ",
                               q->multiple ? 16 : 11) == 0);
                break;
            case CB_COUNTRY:
                ASSERT_STR_EQ(type, q->multiple ? "select_multiple countries" : "select_one countries");
                break;
            case CB_PROVINCE: ASSERT_STR_EQ(type, "select_one provinces"); break;
            case CB_CURRENCY: ASSERT_STR_EQ(type, "select_one currencies"); break;
            case CB_DATE: ASSERT_STR_EQ(type, "date"); break;
            case CB_TEXT: ASSERT_STR_EQ(type, "text"); break;
            case CB_GROUP: TFAIL("nested group"); break;
            }
            if (q->required && q->type != CB_AGE) ASSERT_STR_EQ(cell(&s, r, "required"), "yes");
            if (q->sensitive || f->sensitive) ASSERT_CONTAINS(cell(&s, r, "hint"), "SENSITIVE");
        }
    }
    ASSERT_EQ(s.nrows - 1, expected);
    /* the band for an unknown exact age is asked only without an age */
    size_t band = find_q(&s, XLSFORM_AGE_BAND);
    ASSERT(band);
    ASSERT_STR_EQ(cell(&s, band, "relevant"), "${age} = ''");
    ASSERT(choice_exists(&c, "age_bands", "18-24"));
    table_free(&s);
    table_free(&c);
    table_free(&st);
    teardown("form.xlsx");
}

/* Every select list has choices; code lists are the codebook's values
 * without the deprecated ones; select_multiple names have no spaces. */
TEST(xlsform_select_lists_have_choices)
{
    table s, c, st;
    setup();
    load_form(&s, &c, &st);
    for (size_t r = 1; r < s.nrows; r++) {
        const char *t = cell(&s, r, "type");
        const char *sp = strchr(t, ' ');
        if (strncmp(t, "select_", 7) != 0) continue;
        ASSERT_NOT_NULL(sp);
        if (!choice_exists(&c, sp + 1, NULL)) TFAIL("list '%s' has no choices", sp + 1);
    }
    for (size_t r = 1; r < c.nrows; r++) {
        ASSERT(*cell(&c, r, "name") && *cell(&c, r, "label"));
        ASSERT_NULL(strchr(cell(&c, r, "name"), ' '));
    }
    const cb_field *cm = codebook_field(cb, "control_means");
    ASSERT_NOT_NULL(cm);
    for (size_t v = 0; v < cm->nvalues; v++)
        ASSERT_EQ(choice_exists(&c, "control_means", cm->values[v].code), !cm->values[v].deprecated);
    ASSERT(choice_exists(&c, "countries", "TH"));
    ASSERT(choice_exists(&c, "countries", "MM"));
    ASSERT(choice_exists(&c, "currencies", "USD"));
    ASSERT(choice_exists(&c, "currencies", "THB"));
    ASSERT(!choice_exists(&c, "currencies", "USDT"));
    table_free(&s);
    table_free(&c);
    table_free(&st);
    teardown("form.xlsx");
}

/* Provinces are filtered by the country asked before them; every province
 * choice names an existing country choice. */
TEST(xlsform_provinces_filtered_by_country)
{
    table s, c, st;
    setup();
    load_form(&s, &c, &st);
    size_t nprov = 0;
    for (size_t r = 1; r < s.nrows; r++) {
        if (strcmp(cell(&s, r, "type"), "select_one provinces") != 0) continue;
        nprov++;
        const char *flt = cell(&s, r, "choice_filter");
        ASSERT(strncmp(flt, "country=${", 10) == 0);
        char ref[160];
        snprintf(ref, sizeof ref, "%s", flt + 10);
        char *close = strchr(ref, '}');
        ASSERT_NOT_NULL(close);
        *close = '\0';
        size_t q = find_q(&s, ref);
        ASSERT(q && q < r);
        ASSERT_STR_EQ(cell(&s, q, "type"), "select_one countries");
    }
    ASSERT_EQ(nprov, 2);
    size_t np = 0;
    for (size_t r = 1; r < c.nrows; r++) {
        if (strcmp(cell(&c, r, "list_name"), "provinces") != 0) continue;
        np++;
        const char *cc = cell(&c, r, "country");
        ASSERT(choice_exists(&c, "countries", cc));
        ASSERT(strncmp(cell(&c, r, "name"), cc, 2) == 0);
    }
    ASSERT_EQ(np, gazetteer_nprovinces(gaz));
    ASSERT(choice_exists(&c, "provinces", "TH-10"));
    table_free(&s);
    table_free(&c);
    table_free(&st);
    teardown("form.xlsx");
}

/* begin/end balanced and named alike; the repeat count is a question
 * bounded by the codebook's max_repeat. */
TEST(xlsform_repeats_balanced)
{
    table s, c, st;
    setup();
    load_form(&s, &c, &st);
    const char *stack[8];
    int depth = 0, groups = 0;
    for (size_t r = 1; r < s.nrows; r++) {
        const char *t = cell(&s, r, "type"), *n = cell(&s, r, "name");
        if (strcmp(t, "begin_repeat") == 0 || strcmp(t, "begin_group") == 0) {
            ASSERT(depth < 8);
            stack[depth++] = n;
            groups++;
            const cb_field *g = codebook_field(cb, n);
            ASSERT(g && g->type == CB_GROUP);
            char want[160];
            snprintf(want, sizeof want, "${%s%s}", n, XLSFORM_COUNT_SUFFIX);
            ASSERT_STR_EQ(cell(&s, r, "repeat_count"), want);
            snprintf(want, sizeof want, "%s%s", n, XLSFORM_COUNT_SUFFIX);
            size_t q = find_q(&s, want);
            ASSERT(q && q < r);
            char cons[64];
            snprintf(cons, sizeof cons, ". >= 0 and . <= %d", g->max_repeat);
            ASSERT_STR_EQ(cell(&s, q, "constraint"), cons);
        } else if (strncmp(t, "end_", 4) == 0) {
            ASSERT(depth > 0);
            ASSERT_STR_EQ(stack[depth - 1], n);
            depth--;
        }
    }
    ASSERT_EQ(depth, 0);
    ASSERT_EQ(groups, 2);
    table_free(&s);
    table_free(&c);
    table_free(&st);
    teardown("form.xlsx");
}

TEST(template_csv_header_is_layout)
{
    char path[128];
    sp_err err;
    sp_layout l;
    table t;
    setup();
    sp_err_init(&err);
    snprintf(path, sizeof path, "%s/t.csv", dir);
    ASSERT_EQ(template_write(cb, TEMPLATE_CSV, path, &err), SP_OK);
    ASSERT_EQ(table_load(&t, path, NULL), SP_OK);
    layout_build(&l, cb, 1);
    ASSERT_EQ(t.nrows, 1);
    ASSERT_EQ(t.ncells[0], l.ncols);
    for (size_t i = 0; i < l.ncols; i++) ASSERT_STR_EQ(t.cells[0][i], l.cols[i].name);
    layout_free(&l);
    table_free(&t);
    sp_err_free(&err);
    teardown("t.csv");
}

TEST(template_xlsx_help_and_values)
{
    char path[128];
    sp_err err;
    sp_layout l;
    table rec, help, vals;
    setup();
    sp_err_init(&err);
    snprintf(path, sizeof path, "%s/t.xlsx", dir);
    ASSERT_EQ(template_write(cb, TEMPLATE_XLSX, path, &err), SP_OK);
    ASSERT_EQ(table_load(&rec, path, "records"), SP_OK);
    ASSERT_EQ(table_load(&help, path, "help"), SP_OK);
    ASSERT_EQ(table_load(&vals, path, "values"), SP_OK);
    layout_build(&l, cb, 1);
    ASSERT_EQ(rec.nrows, 1);
    ASSERT_EQ(rec.ncells[0], l.ncols);
    ASSERT_EQ(help.nrows, l.ncols + 1);
    for (size_t i = 0; i < l.ncols; i++) {
        ASSERT_STR_EQ(rec.cells[0][i], l.cols[i].name);
        ASSERT_STR_EQ(cell(&help, i + 1, "column"), l.cols[i].name);
        ASSERT_STR_EQ(cell(&help, i + 1, "label"), l.cols[i].label);
        ASSERT(*cell(&help, i + 1, "type"));
        ASSERT(*cell(&help, i + 1, "allowed values"));
        const cb_field *f = l.cols[i].sub ? l.cols[i].sub : l.cols[i].field;
        ASSERT_STR_EQ(cell(&help, i + 1, "required"), f->required ? "yes" : "no");
    }
    int found = 0;
    for (size_t r = 1; r < vals.nrows; r++)
        found += strcmp(cell(&vals, r, "field"), "gender") == 0;
    const cb_field *g = codebook_field(cb, "gender");
    size_t live = 0;
    for (size_t v = 0; v < g->nvalues; v++) live += !g->values[v].deprecated;
    ASSERT_EQ(found, live);
    layout_free(&l);
    table_free(&rec);
    table_free(&help);
    table_free(&vals);
    sp_err_free(&err);
    teardown("t.xlsx");
}

TEST(xlsform_unwritable_path_is_an_error)
{
    sp_err err;
    setup();
    sp_err_init(&err);
    int rc = xlsform_write(cb, "/nonexistent-dir/form.xlsx", &err);
    ASSERT_NE(rc, SP_OK);
    ASSERT(err.count > 0);
    rc = template_write(cb, TEMPLATE_CSV, "/nonexistent-dir/t.csv", &err);
    ASSERT_EQ(rc, SP_EIO);
    sp_err_free(&err);
    teardown("none");
}

TEST_LIST(xlsform_sheets_columns_settings, xlsform_one_row_per_field,
          xlsform_select_lists_have_choices, xlsform_provinces_filtered_by_country,
          xlsform_repeats_balanced, template_csv_header_is_layout,
          template_xlsx_help_and_values, xlsform_unwritable_path_is_an_error)
