/* template.c -- see template.h. The columns are layout_build's with the
 * sensitive fields included: a template is for the partner's own records,
 * and `spotlight import` reads back exactly these names. */
#include "template.h"
#include "layout.h"
#include "xlsform.h"
#include "xlsxw.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

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

/* The header line, quoted where CSV needs it (codebook names never do). */
static int write_csv(const sp_layout *l, const char *path, sp_err *err)
{
    int to_stdout = strcmp(path, "-") == 0, rc = SP_OK;
    FILE *f = to_stdout ? stdout : fopen(path, "wb");
    if (!f) {
        sp_err_add(err, path, 0, NULL, NULL, 0, "write", "cannot create the file: %s",
                   strerror(errno));
        return SP_EIO;
    }
    for (size_t i = 0; i < l->ncols; i++) {
        const char *n = l->cols[i].name;
        if (i) fputc(',', f);
        if (strpbrk(n, ",\"\r\n")) {
            fputc('"', f);
            for (const char *p = n; *p; p++) {
                if (*p == '"') fputc('"', f);
                fputc(*p, f);
            }
            fputc('"', f);
        } else {
            fputs(n, f);
        }
    }
    fputs("\r\n", f);
    if (fflush(f) != 0 || ferror(f)) rc = SP_EIO;
    if (!to_stdout && fclose(f) != 0) rc = SP_EIO;
    if (rc) sp_err_add(err, path, 0, NULL, NULL, 0, "write", "writing the template failed");
    return rc;
}

/* What a column accepts, in a sentence, into b (reset first). */
static void allowed(sp_buf *b, const sp_column *col)
{
    const cb_field *f = col->sub ? col->sub : col->field;
    sp_buf_reset(b);
    switch (f->type) {
    case CB_TEXT:
        sp_buf_printf(b, "free text, at most %zu characters", f->max_length);
        break;
    case CB_INTEGER:
        sp_buf_printf(b, "a whole number from %lld to %lld", f->min, f->max);
        break;
    case CB_DECIMAL:
        sp_buf_printf(b, "a number from %lld to %lld", f->min, f->max);
        break;
    case CB_YEAR:
        sp_buf_printf(b, "a year from %lld to %lld", f->min, f->max);
        break;
    case CB_DATE:
        sp_buf_adds(b, "a date, YYYY-MM-DD");
        break;
    case CB_AGE:
        sp_buf_printf(b, "an age (25), a range (18-24) or an open band (48+), from %lld to %lld",
                      f->min, f->max);
        break;
    case CB_COUNTRY:
        sp_buf_adds(b, "an ISO 3166-1 code (TH, THA) or a country name (sheet values)");
        break;
    case CB_PROVINCE: {
        sp_buf_adds(b, "an ISO 3166-2 code (TH-10) or a province name");
        /* the column of its country, in the same block for a group */
        if (col->sub && f->country_index >= 0)
            sp_buf_printf(b, " within the country in %s_%d_%s", col->field->name,
                          col->rep + 1, col->field->sub[f->country_index].name);
        else if (!col->sub && f->country_field)
            sp_buf_printf(b, " within the country in %s", f->country_field);
        sp_buf_adds(b, " (sheet values)");
        break;
    }
    case CB_CURRENCY:
        sp_buf_adds(b, "an ISO 4217 currency code (USD, THB)");
        break;
    case CB_CODE:
        sp_buf_adds(b, f->multiple ? "one or more of (separated by ;): " : "one of: ");
        for (size_t v = 0, k = 0; v < f->nvalues; v++) {
            if (f->values[v].deprecated) continue;
            sp_buf_printf(b, "%s%s", k++ ? ", " : "", f->values[v].code);
        }
        sp_buf_adds(b, " (labels in sheet values)");
        break;
    case CB_GROUP:
        break;
    }
    if (f->multiple && f->type != CB_CODE) sp_buf_adds(b, "; several separated by ;");
}

static int help_sheet(xlsxw *w, const sp_layout *l)
{
    static const char *const hdr[7] = {"column", "label", "type", "required", "sensitive",
                                       "allowed values", "help"};
    sp_buf b;
    sp_buf_init(&b, 16384);
    int rc = put_row(w, hdr, 7);
    for (size_t i = 0; i < l->ncols && rc == SP_OK; i++) {
        const sp_column *col = &l->cols[i];
        const cb_field *f = col->sub ? col->sub : col->field;
        int sens = f->sensitive || col->field->sensitive;
        allowed(&b, col);
        const char *row[7] = {col->name, col->label, codebook_type_name(f->type),
                              f->required ? "yes" : "no", sens ? "yes (never published)" : "no",
                              b.data, f->help};
        rc = put_row(w, row, 7);
    }
    sp_buf_free(&b);
    return rc;
}

static int values_of(xlsxw *w, const char *field, const cb_field *f)
{
    int rc = SP_OK;
    for (size_t v = 0; v < f->nvalues && rc == SP_OK; v++) {
        const cb_value *val = &f->values[v];
        if (val->deprecated) continue;
        const char *row[5] = {field, val->code, val->label, val->help, NULL};
        rc = put_row(w, row, 5);
    }
    return rc;
}

static int values_sheet(xlsxw *w, const sp_codebook *cb)
{
    static const char *const hdr[5] = {"field", "code", "label", "help", "country"};
    int rc = put_row(w, hdr, 5);
    char name[200];
    for (size_t i = 0; i < cb->nfields && rc == SP_OK; i++) {
        const cb_field *f = &cb->fields[i];
        if (f->deprecated) continue;
        if (f->type == CB_CODE) rc = values_of(w, f->name, f);
        if (f->type != CB_GROUP) continue;
        for (size_t s = 0; s < f->nsub && rc == SP_OK; s++) {
            if (f->sub[s].deprecated || f->sub[s].type != CB_CODE) continue;
            snprintf(name, sizeof name, "%s.%s", f->name, f->sub[s].name);
            rc = values_of(w, name, &f->sub[s]);
        }
    }
    const sp_gazetteer *g = cb->gaz;
    for (size_t i = 0; i < gazetteer_ncountries(g) && rc == SP_OK; i++) {
        const gz_country *c = gazetteer_country_at(g, i);
        const char *row[5] = {"(country)", c->alpha2, c->common_name ? c->common_name : c->name,
                              c->alpha3, NULL};
        rc = put_row(w, row, 5);
    }
    for (size_t i = 0; i < gazetteer_nprovinces(g) && rc == SP_OK; i++) {
        const gz_province *p = gazetteer_province_at(g, i);
        const char *row[5] = {"(province)", p->code, p->name, p->type, p->country->alpha2};
        rc = put_row(w, row, 5);
    }
    char (*cur)[4] = sp_xcalloc(1024, sizeof *cur);
    size_t ncur = xlsform_currencies(g, cur, 1024);
    for (size_t i = 0; i < ncur && i < 1024 && rc == SP_OK; i++) {
        const char *row[5] = {"(currency)", cur[i], cur[i], NULL, NULL};
        rc = put_row(w, row, 5);
    }
    free(cur);
    return rc;
}

int template_write(const sp_codebook *cb, template_format fmt, const char *path, sp_err *err)
{
    sp_layout l;
    int rc;
    layout_build(&l, cb, 1);
    if (fmt == TEMPLATE_CSV) {
        rc = write_csv(&l, path, err);
        layout_free(&l);
        return rc;
    }
    xlsxw *w = NULL;
    rc = xlsxw_open(&w, path, "records", err);
    if (rc) {
        layout_free(&l);
        return rc;
    }
    const char **hdr = sp_xcalloc(l.ncols + 1, sizeof *hdr);
    for (size_t i = 0; i < l.ncols; i++) hdr[i] = l.cols[i].name;
    rc = put_row(w, hdr, l.ncols);
    free(hdr);
    if (rc == SP_OK) rc = xlsxw_sheet_add(w, "help");
    if (rc == SP_OK) rc = help_sheet(w, &l);
    if (rc == SP_OK) rc = xlsxw_sheet_add(w, "values");
    if (rc == SP_OK) rc = values_sheet(w, cb);
    int crc = xlsxw_close(w);
    if (rc == SP_OK) rc = crc;
    layout_free(&l);
    return rc;
}
