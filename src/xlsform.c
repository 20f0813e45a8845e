/* xlsform.c -- see xlsform.h.
 *
 * One survey row per codebook field, in codebook order. How each type is
 * asked:
 *   text      text (constraint on the length)
 *   integer   integer, constraint ". >= min and . <= max"
 *   decimal   decimal, same constraint
 *   year      integer, same constraint
 *   date      date
 *   code      select_one / select_multiple FIELD (deprecated codes left out)
 *   country   select_one / select_multiple countries (ISO 3166-1 alpha-2)
 *   province  select_one provinces, choice_filter on its country question
 *   currency  select_one currencies (ISO 4217)
 *   age       integer "age" (exact age) and, only when that is empty,
 *             select_one "age_band" (a range the codebook accepts: "18-24")
 *   group     integer GROUP_count (0..max_repeat), then begin_repeat GROUP
 *             with repeat_count ${GROUP_count}: XLSForm has no "at most N
 *             repeats", and a count question enforces the codebook's
 *             max_repeat in every client (a repeat_count of N would force
 *             exactly N).
 * Codes are the choice names, so an export "with XML values" carries the
 * codebook's codes and ISO codes unchanged. */
#include "xlsform.h"
#include "xlsxw.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The survey sheet's columns, in order. */
enum { S_TYPE, S_NAME, S_LABEL, S_HINT, S_REQUIRED, S_RELEVANT, S_CONSTRAINT,
       S_CONSTRAINT_MSG, S_APPEARANCE, S_CHOICE_FILTER, S_REPEAT_COUNT, S_NCOLS };
static const char *const survey_cols[S_NCOLS] = {
    "type", "name", "label", "hint", "required", "relevant", "constraint",
    "constraint_message", "appearance", "choice_filter", "repeat_count"};

/* The age bands offered when the exact age is not known: the dashboard's
 * default bands, written as ranges codebook_parse accepts. */
static const char *const age_bands[][2] = {
    {"0-17", "Under 18"}, {"18-24", "18 to 24"}, {"25-34", "25 to 34"},
    {"35-44", "35 to 44"}, {"45-54", "45 to 54"}, {"55+", "55 or older"}};

/* Writes one row of n strings (NULL or "" = empty cell). */
static int put_row(xlsxw *w, const char *const *cells, size_t n)
{
    int rc = xlsxw_row_begin(w);
    for (size_t i = 0; i < n && rc == SP_OK; i++) {
        const char *s = cells[i] ? cells[i] : "";
        rc = xlsxw_cell_str(w, s, strlen(s));
    }
    if (rc == SP_OK) rc = xlsxw_row_end(w);
    return rc;
}

static int name_used_elsewhere(const sp_codebook *cb, const cb_field *group,
                               const cb_field *sub)
{
    for (size_t i = 0; i < cb->nfields; i++) {
        const cb_field *f = &cb->fields[i];
        if (strcmp(f->name, sub->name) == 0) return 1;
        if (f->type != CB_GROUP || f == group) continue;
        for (size_t k = 0; k < f->nsub; k++)
            if (strcmp(f->sub[k].name, sub->name) == 0) return 1;
    }
    return strcmp(sub->name, XLSFORM_AGE_BAND) == 0;
}

const char *xlsform_sub_name(const sp_codebook *cb, const cb_field *group,
                             const cb_field *sub, char *out, size_t outsz)
{
    if (name_used_elsewhere(cb, group, sub))
        snprintf(out, outsz, "%s_%s", group->name, sub->name);
    else
        snprintf(out, outsz, "%s", sub->name);
    return out;
}

size_t xlsform_currencies(const sp_gazetteer *g, char (*codes)[4], size_t cap)
{
    /* the gazetteer has no list of currencies, only a look-up; every
     * three-letter code it gives back unchanged is one it knows */
    size_t n = 0;
    char c[4] = {0};
    for (c[0] = 'A'; c[0] <= 'Z'; c[0]++)
        for (c[1] = 'A'; c[1] <= 'Z'; c[1]++)
            for (c[2] = 'A'; c[2] <= 'Z'; c[2]++) {
                const char *k = gazetteer_currency(g, c, 3);
                if (!k || strcmp(k, c) != 0) continue;
                if (n < cap) memcpy(codes[n], c, 4);
                n++;
            }
    return n;
}

/* The "min .. max" constraint of a number field into b (reset first). */
static void range_constraint(sp_buf *b, const cb_field *f)
{
    sp_buf_reset(b);
    sp_buf_printf(b, ". >= %lld and . <= %lld", f->min, f->max);
}

/* The hint: the codebook's help, with sensitive fields flagged first. */
static void make_hint(sp_buf *b, const cb_field *f, int sensitive)
{
    sp_buf_reset(b);
    if (sensitive)
        sp_buf_adds(b, "SENSITIVE: kept by the hub but never published. ");
    sp_buf_adds(b, f->help ? f->help : "");
}

typedef struct form_ctx {
    const sp_codebook *cb;
    xlsxw *w;
    sp_buf hint, constraint, msg, relevant, filter, type, label, name;
} form_ctx;

/* Writes the survey row(s) of one field. `form_name` is its question name;
 * `group` is its group for a sub-field, else NULL. */
static int survey_field(form_ctx *c, const cb_field *f, const cb_field *group,
                        const char *form_name)
{
    const char *cells[S_NCOLS] = {0};
    int sensitive = f->sensitive || (group && group->sensitive);
    sp_buf_reset(&c->type);
    sp_buf_reset(&c->constraint);
    sp_buf_reset(&c->msg);
    sp_buf_reset(&c->relevant);
    sp_buf_reset(&c->filter);
    make_hint(&c->hint, f, sensitive);
    cells[S_NAME] = form_name;
    cells[S_LABEL] = f->label;
    cells[S_HINT] = c->hint.data;
    cells[S_REQUIRED] = f->required ? "yes" : NULL;

    switch (f->type) {
    case CB_TEXT:
        sp_buf_adds(&c->type, "text");
        if (f->max_length) {
            sp_buf_printf(&c->constraint, "string-length(.) <= %zu", f->max_length);
            sp_buf_printf(&c->msg, "At most %zu characters.", f->max_length);
        }
        break;
    case CB_INTEGER:
    case CB_YEAR:
    case CB_DECIMAL:
        sp_buf_adds(&c->type, f->type == CB_DECIMAL ? "decimal" : "integer");
        range_constraint(&c->constraint, f);
        sp_buf_printf(&c->msg, "A %s from %lld to %lld.",
                      f->type == CB_YEAR ? "year" : "number", f->min, f->max);
        break;
    case CB_DATE:
        sp_buf_adds(&c->type, "date");
        break;
    case CB_CODE:
        if (group)
            sp_buf_printf(&c->type, "%s %s_%s", f->multiple ? "select_multiple" : "select_one",
                          group->name, f->name);
        else
            sp_buf_printf(&c->type, "%s %s", f->multiple ? "select_multiple" : "select_one",
                          f->name);
        break;
    case CB_COUNTRY:
        sp_buf_printf(&c->type, "%s countries", f->multiple ? "select_multiple" : "select_one");
        cells[S_APPEARANCE] = f->multiple ? "minimal" : "autocomplete";
        break;
    case CB_PROVINCE: {
        sp_buf_adds(&c->type, "select_one provinces");
        cells[S_APPEARANCE] = "autocomplete";
        const cb_field *cf = NULL;
        if (f->country_index >= 0)
            cf = group ? &group->sub[f->country_index] : &c->cb->fields[f->country_index];
        if (cf) {
            char cname[160];
            if (group) xlsform_sub_name(c->cb, group, cf, cname, sizeof cname);
            else snprintf(cname, sizeof cname, "%s", cf->name);
            sp_buf_printf(&c->filter, "country=${%s}", cname);
            sp_buf_printf(&c->relevant, "${%s} != ''", cname);
        }
        break;
    }
    case CB_CURRENCY:
        sp_buf_adds(&c->type, "select_one currencies");
        cells[S_APPEARANCE] = "autocomplete";
        break;
    case CB_AGE: {
        /* the exact age, then a band only when it is not known */
        sp_buf_adds(&c->type, "integer");
        range_constraint(&c->constraint, f);
        sp_buf_printf(&c->msg, "An age from %lld to %lld; if it is not known exactly, "
                      "leave this empty and choose a band.", f->min, f->max);
        cells[S_TYPE] = c->type.data;
        cells[S_REQUIRED] = NULL;   /* the band can answer instead */
        cells[S_CONSTRAINT] = c->constraint.data;
        cells[S_CONSTRAINT_MSG] = c->msg.data;
        int rc = put_row(c->w, cells, S_NCOLS);
        if (rc) return rc;
        const char *band[S_NCOLS] = {0};
        sp_buf_reset(&c->label);
        sp_buf_printf(&c->label, "%s (band, when the exact age is not known)", f->label);
        sp_buf_reset(&c->relevant);
        sp_buf_printf(&c->relevant, "${%s} = ''", form_name);
        band[S_TYPE] = "select_one age_bands";
        band[S_NAME] = XLSFORM_AGE_BAND;
        band[S_LABEL] = c->label.data;
        band[S_HINT] = c->hint.data;
        band[S_REQUIRED] = f->required ? "yes" : NULL;
        band[S_RELEVANT] = c->relevant.data;
        return put_row(c->w, band, S_NCOLS);
    }
    case CB_GROUP:
        return SP_EUSAGE;   /* groups are written by survey_group */
    }
    if (c->type.len == 0) return SP_EUSAGE;
    cells[S_TYPE] = c->type.data;
    cells[S_CONSTRAINT] = c->constraint.len ? c->constraint.data : NULL;
    cells[S_CONSTRAINT_MSG] = c->msg.len ? c->msg.data : NULL;
    cells[S_RELEVANT] = c->relevant.len ? c->relevant.data : NULL;
    cells[S_CHOICE_FILTER] = c->filter.len ? c->filter.data : NULL;
    return put_row(c->w, cells, S_NCOLS);
}

/* A group: its count question, begin_repeat, the sub-fields, end_repeat. */
static int survey_group(form_ctx *c, const cb_field *g)
{
    char count_name[160], count_ref[180], cons[96], msg[160];
    sp_buf label, hint;
    int rc;
    snprintf(count_name, sizeof count_name, "%s%s", g->name, XLSFORM_COUNT_SUFFIX);
    snprintf(count_ref, sizeof count_ref, "${%s}", count_name);
    snprintf(cons, sizeof cons, ". >= 0 and . <= %d", g->max_repeat);
    snprintf(msg, sizeof msg, "From 0 to %d.", g->max_repeat);
    sp_buf_init(&label, 1024);
    sp_buf_init(&hint, 4096);
    sp_buf_printf(&label, "How many? %s (0 to %d)", g->label, g->max_repeat);
    make_hint(&hint, g, g->sensitive);
    const char *count[S_NCOLS] = {0};
    count[S_TYPE] = "integer";
    count[S_NAME] = count_name;
    count[S_LABEL] = label.data;
    count[S_HINT] = hint.data;
    count[S_CONSTRAINT] = cons;
    count[S_CONSTRAINT_MSG] = msg;
    rc = put_row(c->w, count, S_NCOLS);
    const char *begin[S_NCOLS] = {0};
    begin[S_TYPE] = "begin_repeat";
    begin[S_NAME] = g->name;
    begin[S_LABEL] = g->label;
    begin[S_HINT] = hint.data;
    begin[S_RELEVANT] = NULL;
    begin[S_REPEAT_COUNT] = count_ref;
    if (rc == SP_OK) rc = put_row(c->w, begin, S_NCOLS);
    for (size_t s = 0; s < g->nsub && rc == SP_OK; s++) {
        const cb_field *sub = &g->sub[s];
        if (sub->deprecated) continue;
        char name[160];
        xlsform_sub_name(c->cb, g, sub, name, sizeof name);
        rc = survey_field(c, sub, g, name);
    }
    const char *end[S_NCOLS] = {0};
    end[S_TYPE] = "end_repeat";
    end[S_NAME] = g->name;
    if (rc == SP_OK) rc = put_row(c->w, end, S_NCOLS);
    sp_buf_free(&label);
    sp_buf_free(&hint);
    return rc;
}

static int choice(xlsxw *w, const char *list, const char *name, const char *label,
                  const char *country)
{
    const char *cells[4] = {list, name, label, country};
    return put_row(w, cells, 4);
}

static int choices_of(xlsxw *w, const char *list, const cb_field *f)
{
    int rc = SP_OK;
    for (size_t v = 0; v < f->nvalues && rc == SP_OK; v++)
        if (!f->values[v].deprecated)
            rc = choice(w, list, f->values[v].code, f->values[v].label, NULL);
    return rc;
}

/* The choices sheet: every code list, age bands, countries, provinces
 * (with their country for the choice_filter) and currencies. */
static int write_choices(const sp_codebook *cb, xlsxw *w)
{
    static const char *const hdr[4] = {"list_name", "name", "label", "country"};
    int rc = put_row(w, hdr, 4);
    char list[200];
    for (size_t i = 0; i < cb->nfields && rc == SP_OK; i++) {
        const cb_field *f = &cb->fields[i];
        if (f->deprecated) continue;
        if (f->type == CB_CODE) rc = choices_of(w, f->name, f);
        if (f->type != CB_GROUP) continue;
        for (size_t s = 0; s < f->nsub && rc == SP_OK; s++) {
            if (f->sub[s].deprecated || f->sub[s].type != CB_CODE) continue;
            snprintf(list, sizeof list, "%s_%s", f->name, f->sub[s].name);
            rc = choices_of(w, list, &f->sub[s]);
        }
    }
    for (size_t i = 0; i < sizeof age_bands / sizeof age_bands[0] && rc == SP_OK; i++)
        rc = choice(w, "age_bands", age_bands[i][0], age_bands[i][1], NULL);
    const sp_gazetteer *g = cb->gaz;
    for (size_t i = 0; i < gazetteer_ncountries(g) && rc == SP_OK; i++) {
        const gz_country *c = gazetteer_country_at(g, i);
        rc = choice(w, "countries", c->alpha2, c->common_name ? c->common_name : c->name, NULL);
    }
    for (size_t i = 0; i < gazetteer_nprovinces(g) && rc == SP_OK; i++) {
        const gz_province *p = gazetteer_province_at(g, i);
        rc = choice(w, "provinces", p->code, p->name, p->country->alpha2);
    }
    char (*cur)[4] = sp_xcalloc(1024, sizeof *cur);
    size_t ncur = xlsform_currencies(g, cur, 1024);
    for (size_t i = 0; i < ncur && i < 1024 && rc == SP_OK; i++)
        rc = choice(w, "currencies", cur[i], cur[i], NULL);
    free(cur);
    return rc;
}

int xlsform_write(const sp_codebook *cb, const char *path, sp_err *err)
{
    xlsxw *w = NULL;
    form_ctx c;
    int rc = xlsxw_open(&w, path, "survey", err);
    if (rc) return rc;
    memset(&c, 0, sizeof c);
    c.cb = cb;
    c.w = w;
    sp_buf_init(&c.hint, 8192);
    sp_buf_init(&c.constraint, 1024);
    sp_buf_init(&c.msg, 1024);
    sp_buf_init(&c.relevant, 1024);
    sp_buf_init(&c.filter, 1024);
    sp_buf_init(&c.type, 1024);
    sp_buf_init(&c.label, 2048);
    sp_buf_init(&c.name, 256);

    rc = put_row(w, survey_cols, S_NCOLS);
    for (size_t i = 0; i < cb->nfields && rc == SP_OK; i++) {
        const cb_field *f = &cb->fields[i];
        /* the encodings of spotlight encode are never typed in a form */
        if (f->deprecated || f->encoded) continue;
        rc = f->type == CB_GROUP ? survey_group(&c, f) : survey_field(&c, f, NULL, f->name);
    }
    if (rc == SP_OK) rc = xlsxw_sheet_add(w, "choices");
    if (rc == SP_OK) rc = write_choices(cb, w);
    if (rc == SP_OK) rc = xlsxw_sheet_add(w, "settings");
    if (rc == SP_OK) {
        static const char *const hdr[4] = {"form_title", "form_id", "version",
                                           "default_language"};
        char title[128];
        snprintf(title, sizeof title, "Spotlight case record (codebook %s)", cb->version);
        const char *row[4] = {title, "spotlight_case", cb->version, "English (en)"};
        rc = put_row(w, hdr, 4);
        if (rc == SP_OK) rc = put_row(w, row, 4);
    }
    if (rc == SP_EUSAGE && err->count == 0)
        sp_err_add(err, path, 0, NULL, NULL, 0, "xlsform", "a codebook field has a type the form cannot ask");
    int crc = xlsxw_close(w);   /* frees w; writes nothing after its own error */
    if (rc == SP_OK) rc = crc;
    else if (crc == SP_OK && strcmp(path, "-") != 0) unlink(path);  /* no half form */
    sp_buf_free(&c.hint);
    sp_buf_free(&c.constraint);
    sp_buf_free(&c.msg);
    sp_buf_free(&c.relevant);
    sp_buf_free(&c.filter);
    sp_buf_free(&c.type);
    sp_buf_free(&c.label);
    sp_buf_free(&c.name);
    return rc;
}
