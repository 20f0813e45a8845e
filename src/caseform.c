/* caseform.c -- the case form, generated from the codebook: HTML rendering
 * and server-side validation of a submission into a record.
 *
 * The form is XHTML-clean (every tag closed, every attribute quoted) so a
 * test can parse it with expat; every outside string goes through
 * sp_buf_add_html. It works without JavaScript: every row of a group is
 * rendered, collapsed in a <details> when empty. */
#include "caseform.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ------------------------------------------------------------ values */

void caseform_values_init(caseform_values *v)
{
    memset(v, 0, sizeof *v);
    sp_arena_init(&v->arena);
}

void caseform_values_free(caseform_values *v)
{
    free(v->items);
    sp_arena_free(&v->arena);
    memset(v, 0, sizeof *v);
}

int caseform_values_add(caseform_values *v, const char *name, const char *value, size_t vlen)
{
    if (v->n >= CASEFORM_MAX_PAIRS) return SP_ELIMIT;
    if (v->n == v->alloc) {
        v->alloc = v->alloc ? v->alloc * 2 : 64;
        v->items = sp_xrealloc(v->items, v->alloc * sizeof *v->items);
    }
    caseform_entry *it = &v->items[v->n++];
    it->name = sp_arena_strdup(&v->arena, name);
    it->value = sp_arena_strndup(&v->arena, value, vlen);
    it->vlen = vlen;
    return SP_OK;
}

const char *caseform_values_get(const caseform_values *v, const char *name)
{
    if (!v) return NULL;
    for (size_t i = 0; i < v->n; i++)
        if (strcmp(v->items[i].name, name) == 0) return v->items[i].value;
    return NULL;
}

/* ------------------------------------------------------------ errors */

void caseform_errors_init(caseform_errors *e)
{
    memset(e, 0, sizeof *e);
    sp_arena_init(&e->arena);
}

void caseform_errors_free(caseform_errors *e)
{
    free(e->items);
    sp_arena_free(&e->arena);
    memset(e, 0, sizeof *e);
}

const caseform_error *caseform_errors_get(const caseform_errors *e, const char *name)
{
    if (!e) return NULL;
    for (size_t i = 0; i < e->n; i++)
        if (strcmp(e->items[i].name, name) == 0) return &e->items[i];
    return NULL;
}

static void err_add(caseform_errors *e, const char *name, const char *rule, const char *msg)
{
    e->count++;
    if (e->n >= CASEFORM_MAX_ERRORS) return;
    if (e->n == e->alloc) {
        e->alloc = e->alloc ? e->alloc * 2 : 16;
        e->items = sp_xrealloc(e->items, e->alloc * sizeof *e->items);
    }
    caseform_error *it = &e->items[e->n++];
    it->name = sp_arena_strdup(&e->arena, name);
    it->rule = sp_arena_strdup(&e->arena, rule);
    it->message = sp_arena_strdup(&e->arena, msg);
}

/* ------------------------------------------------------------ names */

/* Input name of field f (top level) or of sub-field `sub` in row `rep`
 * (0-based) of group f, into out[outsz]. */
static void input_name(char *out, size_t outsz, const cb_field *f, const cb_field *sub, int rep)
{
    if (sub)
        snprintf(out, outsz, "%s_%d_%s", f->name, rep + 1, sub->name);
    else
        snprintf(out, outsz, "%s", f->name);
}

/* Resolves an input name to its field (and sub-field and row); 0 if it is
 * no input of the form. Deprecated fields are not in the form, nor are
 * the encodings spotlight encode makes at the partner (never typed). */
static int resolve_name(const sp_codebook *cb, const char *name, const cb_field **fo,
                        const cb_field **so, int *rep)
{
    char buf[CASEFORM_MAX_NAME + 16];
    for (size_t i = 0; i < cb->nfields; i++) {
        const cb_field *f = &cb->fields[i];
        if (f->deprecated || f->encoded) continue;
        if (f->type != CB_GROUP) {
            if (strcmp(f->name, name) == 0) {
                *fo = f, *so = NULL, *rep = 0;
                return 1;
            }
            continue;
        }
        size_t fl = strlen(f->name);
        if (strncmp(name, f->name, fl) != 0 || name[fl] != '_') continue;
        for (int r = 0; r < f->max_repeat; r++)
            for (size_t s = 0; s < f->nsub; s++) {
                if (f->sub[s].deprecated) continue;
                input_name(buf, sizeof buf, f, &f->sub[s], r);
                if (strcmp(buf, name) == 0) {
                    *fo = f, *so = &f->sub[s], *rep = r;
                    return 1;
                }
            }
    }
    return 0;
}

/* ------------------------------------------------------------ parse */

typedef struct parse_ctx {
    const sp_codebook *cb;
    sp_record *r;
    caseform_values *v;
    caseform_errors *e;
} parse_ctx;

/* Parses one value of field `fd` (the field or sub-field) for input `name`
 * into *cell; 1 when a value was taken, 0 when empty, -1 on error (reported). */
static int parse_one(parse_ctx *c, const cb_field *fd, const char *name, const char *raw,
                     size_t n, const char *country, cb_cell *cell)
{
    const char *rule = NULL, *why = NULL;
    n = sp_trim(&raw, n);
    if (n == 0) {
        memset(cell, 0, sizeof *cell);
        return 0;
    }
    if (codebook_parse(c->cb, fd, raw, n, country, cell, &c->r->arena, &rule, &why) != 0) {
        err_add(c->e, name, rule ? rule : "invalid", why ? why : "invalid value");
        return -1;
    }
    return cell->text ? 1 : 0;
}

/* A single or multiple top-level field: every value submitted under its name. */
static void parse_field(parse_ctx *c, const cb_field *f)
{
    const char *country = NULL;
    if (f->type == CB_PROVINCE && f->country_index >= 0) {
        const cb_cell *cc = record_get(c->r, f->country_index);
        country = cc ? cc->text : NULL;
    }
    int seen = 0;
    for (size_t i = 0; i < c->v->n; i++) {
        const caseform_entry *it = &c->v->items[i];
        if (strcmp(it->name, f->name) != 0) continue;
        cb_cell cell;
        if (parse_one(c, f, f->name, it->value, it->vlen, country, &cell) != 1) continue;
        if (!f->multiple && seen++) {
            err_add(c->e, f->name, "one-value",
                    "this field takes one value and was given several");
            continue;
        }
        if (f->type == CB_PROVINCE && !country && f->country_index >= 0) {
            /* a full province code fills a missing country, as in import */
            char cc2[3] = {cell.text[0], cell.text[1], 0};
            const gz_country *gc = gazetteer_alpha2(c->cb->gaz, cc2);
            if (gc && !record_get(c->r, f->country_index)) {
                cb_cell cv = {0};
                cv.text = sp_arena_strdup(&c->r->arena, gc->alpha2);
                record_add(c->r, f->country_index, &cv);
            }
        }
        if (record_add(c->r, f->index, &cell) != SP_OK)
            err_add(c->e, f->name, "one-value", "this field takes one value and was given several");
    }
}

/* One sub-field in one row of a group. */
static void parse_group_cell(parse_ctx *c, const cb_field *g, const cb_field *s, int rep)
{
    char name[CASEFORM_MAX_NAME + 16];
    input_name(name, sizeof name, g, s, rep);
    const char *country = NULL;
    if (s->type == CB_PROVINCE && s->country_index >= 0) {
        const rec_group *rg = &c->r->groups[g->index];
        if ((size_t)rep < rg->nrows)
            country = rg->cells[(size_t)rep * g->nsub + (size_t)s->country_index].text;
    }
    int seen = 0;
    for (size_t i = 0; i < c->v->n; i++) {
        const caseform_entry *it = &c->v->items[i];
        if (strcmp(it->name, name) != 0) continue;
        cb_cell v;
        if (parse_one(c, s, name, it->value, it->vlen, country, &v) != 1) continue;
        if (seen++) {
            err_add(c->e, name, "one-value", "this field takes one value and was given several");
            continue;
        }
        cb_cell *cell = record_group_cell(c->r, g->index, (size_t)rep, s->index);
        if (!cell) continue;
        *cell = v;
        if (s->type == CB_PROVINCE && !country && s->country_index >= 0) {
            char cc2[3] = {v.text[0], v.text[1], 0};
            const gz_country *gc = gazetteer_alpha2(c->cb->gaz, cc2);
            cb_cell *ccell = record_group_cell(c->r, g->index, (size_t)rep, s->country_index);
            if (gc && ccell && !ccell->text) {
                memset(ccell, 0, sizeof *ccell);
                ccell->text = sp_arena_strdup(&c->r->arena, gc->alpha2);
            }
        }
    }
}

/* Validates a submission: caps first, then names, then every field in
 * codebook order (countries before everything else, so a province is
 * checked against its country), then the cross-field rules of import. */
int caseform_parse(const sp_codebook *cb, const http_param *pairs, size_t npairs,
                   sp_record *out, caseform_values *v, caseform_errors *e)
{
    parse_ctx c = {cb, out, v, e};
    record_reset(out);
    if (npairs > CASEFORM_MAX_PAIRS) {
        char msg[160];
        snprintf(msg, sizeof msg, "the form sent %zu fields; at most %d are accepted", npairs,
                 CASEFORM_MAX_PAIRS);
        err_add(e, "", "too-many-fields", msg);
        return SP_EINPUT;
    }
    for (size_t i = 0; i < npairs; i++) {
        const http_param *p = &pairs[i];
        if (p->klen == strlen(CASEFORM_CSRF_NAME) &&
            memcmp(p->key, CASEFORM_CSRF_NAME, p->klen) == 0)
            continue;
        char name[CASEFORM_MAX_NAME + 1];
        if (p->klen == 0 || p->klen > CASEFORM_MAX_NAME || memchr(p->key, 0, p->klen)) {
            err_add(e, "", "unknown-field", "the form sent a field name that is empty or too long");
            continue;
        }
        memcpy(name, p->key, p->klen);
        name[p->klen] = 0;
        const cb_field *f, *s;
        int rep;
        if (!resolve_name(cb, name, &f, &s, &rep)) {
            sp_buf m;
            sp_buf_init(&m, 256);
            sp_buf_printf(&m, "'%.*s' is not a field of this form", (int)p->klen, p->key);
            err_add(e, "", "unknown-field", m.data);
            sp_buf_free(&m);
            continue;
        }
        if (p->vlen > CASEFORM_MAX_VALUE) {
            char msg[160];
            snprintf(msg, sizeof msg, "the value is %zu bytes long; at most %d are accepted",
                     p->vlen, CASEFORM_MAX_VALUE);
            err_add(e, name, "too-long", msg);
            /* keep only what the form can show again */
            caseform_values_add(v, name, p->value, 0);
            continue;
        }
        if (!sp_utf8_valid(p->value, p->vlen) || memchr(p->value, 0, p->vlen)) {
            /* the same rule id as the codebook's for text it cannot keep */
            err_add(e, name, "bad-text", "the value is not valid UTF-8 text (or holds a NUL byte)");
            continue;
        }
        caseform_values_add(v, name, p->value, p->vlen);
    }
    /* countries first: provinces are checked against them */
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = 0; i < cb->nfields; i++) {
            const cb_field *f = &cb->fields[i];
            if (f->deprecated || f->encoded) continue;
            if (f->type != CB_GROUP) {
                if ((f->type == CB_COUNTRY) == (pass == 0)) parse_field(&c, f);
                continue;
            }
            for (int r = 0; r < f->max_repeat; r++)
                for (size_t s = 0; s < f->nsub; s++) {
                    const cb_field *sf = &f->sub[s];
                    if (sf->deprecated || (sf->type == CB_COUNTRY) != (pass == 0)) continue;
                    parse_group_cell(&c, f, sf, r);
                }
        }
    record_trim_groups(out);

    /* cross-field rules, as import has them */
    const cb_field *fy = codebook_field(cb, "year_identified");
    const cb_field *fdt = codebook_field(cb, "date_identified");
    if (fy && fdt) {
        const cb_cell *d = record_get(out, fdt->index), *y = record_get(out, fy->index);
        if (d && d->text) {
            long long dy = atoll(d->text);
            if (!y) {
                cb_cell yv = {0};
                char t[16];
                snprintf(t, sizeof t, "%lld", dy);
                yv.text = sp_arena_strdup(&out->arena, t);
                yv.i = dy;
                record_add(out, fy->index, &yv);
            } else if (y->i != dy) {
                char msg[96];
                snprintf(msg, sizeof msg, "the date is not in the year identified (%lld)", y->i);
                err_add(e, fdt->name, "date-year-mismatch", msg);
            }
        }
    }
    for (size_t f = 0; f < cb->nfields; f++) {
        const cb_field *fd = &cb->fields[f];
        if (fd->required && !fd->deprecated && fd->type != CB_GROUP &&
            !record_get(out, (int)f) && !caseform_errors_get(e, fd->name)) {
            sp_buf m;
            sp_buf_init(&m, 512);
            sp_buf_printf(&m, "'%s' (%s) is required and is empty", fd->name, fd->label);
            err_add(e, fd->name, "required", m.data);
            sp_buf_free(&m);
        }
    }
    return e->count ? SP_EINPUT : SP_OK;
}

/* ------------------------------------------------------------ from a record */

static int add_cell(caseform_values *v, const cb_field *fd, const char *name, const cb_cell *cell)
{
    if (!cell || !cell->text) return SP_OK;
    char t[32];
    const char *s = cell->text;
    /* an age is stored "lo-hi"; a single year reads better as "25" */
    if (fd->type == CB_AGE && cell->lo == cell->hi) {
        snprintf(t, sizeof t, "%d", cell->lo);
        s = t;
    }
    return caseform_values_add(v, name, s, strlen(s));
}

int caseform_values_from_record(caseform_values *v, const sp_record *r)
{
    const sp_codebook *cb = r->cb;
    char name[CASEFORM_MAX_NAME + 16];
    for (size_t i = 0; i < cb->nfields; i++) {
        const cb_field *f = &cb->fields[i];
        if (f->deprecated || f->encoded) continue;
        if (f->type != CB_GROUP) {
            const rec_values *rv = &r->vals[i];
            for (size_t k = 0; k < rv->n; k++) {
                int rc = add_cell(v, f, f->name, &rv->v[k]);
                if (rc != SP_OK) return rc;
            }
            continue;
        }
        const rec_group *g = &r->groups[i];
        for (size_t row = 0; row < g->nrows && row < (size_t)f->max_repeat; row++)
            for (size_t s = 0; s < f->nsub; s++) {
                if (f->sub[s].deprecated) continue;
                input_name(name, sizeof name, f, &f->sub[s], (int)row);
                int rc = add_cell(v, &f->sub[s], name, &g->cells[row * f->nsub + s]);
                if (rc != SP_OK) return rc;
            }
    }
    return SP_OK;
}

/* ------------------------------------------------------------ render */

typedef struct render_ctx {
    sp_buf *b;
    const sp_codebook *cb;
    const caseform_values *v;
    const caseform_errors *e;
    const caseform_opts *o;
    const gz_country **countries;  /* sorted by name */
    size_t ncountries;
    const char **currencies;       /* sorted codes */
    size_t ncurrencies;
    int rc;
} render_ctx;

static void S(render_ctx *c, const char *s)
{
    if (c->rc == SP_OK) c->rc = sp_buf_adds(c->b, s);
}
static void H(render_ctx *c, const char *s)
{
    if (c->rc == SP_OK) c->rc = sp_buf_add_htmls(c->b, s ? s : "");
}

static const char *country_name(const gz_country *g)
{
    return g->common_name && *g->common_name ? g->common_name : g->name;
}

static int cmp_country(const void *a, const void *b)
{
    const gz_country *x = *(const gz_country *const *)a, *y = *(const gz_country *const *)b;
    return strcasecmp(country_name(x), country_name(y));
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The gazetteer has no currency iterator: every ISO 4217 currency has a
 * numeric code, so asking for 1..999 lists them all. */
static void load_currencies(render_ctx *c)
{
    c->currencies = sp_xcalloc(1000, sizeof *c->currencies);
    for (int i = 1; i < 1000; i++) {
        char num[8];
        int n = snprintf(num, sizeof num, "%03d", i);
        const char *code = c->cb->gaz ? gazetteer_currency(c->cb->gaz, num, (size_t)n) : NULL;
        if (!code) continue;
        int dup = 0;
        for (size_t k = 0; k < c->ncurrencies && !dup; k++) dup = strcmp(c->currencies[k], code) == 0;
        if (!dup) c->currencies[c->ncurrencies++] = code;
    }
    qsort(c->currencies, c->ncurrencies, sizeof *c->currencies, cmp_str);
}

/* Opens a field: wrapper, label (or legend for a checkbox group), marks. */
static void field_open(render_ctx *c, const cb_field *fd, const char *name, int is_group_box,
                       const caseform_error *err)
{
    S(c, "<div class=\"cf-field");
    if (err) S(c, " cf-invalid");
    S(c, "\" data-field=\"");
    H(c, name);
    S(c, "\">\n");
    if (is_group_box) {
        S(c, "<fieldset class=\"cf-checks\" id=\"f-");
        H(c, name);
        S(c, "\" aria-describedby=\"h-");
        H(c, name);
        S(c, "\"><legend>");
    } else {
        S(c, "<label for=\"f-");
        H(c, name);
        S(c, "\">");
    }
    H(c, fd->label);
    if (fd->required) S(c, " <span class=\"cf-req\">(required)</span>");
    if (fd->sensitive || (fd->parent && fd->parent->sensitive))
        S(c, " <span class=\"cf-sens\">(never published)</span>");
    S(c, is_group_box ? "</legend>\n" : "</label>\n");
}

/* The hint (help text) and, when there is one, the error message: one
 * element the control names in aria-describedby. */
static void hint(render_ctx *c, const cb_field *fd, const char *name, const caseform_error *err)
{
    S(c, "<small class=\"cf-hint\" id=\"h-");
    H(c, name);
    S(c, "\">");
    if (err) {
        S(c, "<strong class=\"cf-msg\">");
        H(c, err->message);
        S(c, "</strong> ");
    }
    H(c, fd->help);
    S(c, "</small>\n");
}

/* Common attributes of a control: id, name, describedby, required, invalid. */
static void ctl_attrs(render_ctx *c, const cb_field *fd, const char *name, const caseform_error *err)
{
    S(c, " id=\"f-");
    H(c, name);
    S(c, "\" name=\"");
    H(c, name);
    S(c, "\" aria-describedby=\"h-");
    H(c, name);
    S(c, "\"");
    if (fd->required) S(c, " required=\"required\"");
    if (err) S(c, " aria-invalid=\"true\"");
}

static void option(render_ctx *c, const char *value, const char *label, int selected)
{
    S(c, "<option value=\"");
    H(c, value);
    S(c, "\"");
    if (selected) S(c, " selected=\"selected\"");
    S(c, ">");
    H(c, label);
    S(c, "</option>\n");
}

/* A value that is in no menu (typed elsewhere, or sent by hand) is kept as
 * an extra, selected option so the form shows what was sent. */
static void option_other(render_ctx *c, const char *cur)
{
    S(c, "<option value=\"");
    H(c, cur);
    S(c, "\" selected=\"selected\">");
    H(c, cur);
    S(c, " (not in the list)</option>\n");
}

static void select_code(render_ctx *c, const cb_field *fd, const char *name, const char *cur,
                        const caseform_error *err)
{
    const cb_value *cv = cur && *cur ? codebook_value(fd, cur, strlen(cur)) : NULL;
    S(c, "<select");
    ctl_attrs(c, fd, name, err);
    S(c, ">\n");
    option(c, "", "\xe2\x80\x94 choose \xe2\x80\x94", !cur || !*cur);
    for (size_t i = 0; i < fd->nvalues; i++) {
        const cb_value *val = &fd->values[i];
        if (val->deprecated && val != cv) continue;
        option(c, val->code, val->label, val == cv);
    }
    if (cur && *cur && !cv) option_other(c, cur);
    S(c, "</select>\n");
}

static void select_country(render_ctx *c, const cb_field *fd, const char *name, const char *cur,
                           const caseform_error *err)
{
    const gz_country *sel = cur && *cur ? gazetteer_country(c->cb->gaz, cur, strlen(cur)) : NULL;
    S(c, "<select");
    ctl_attrs(c, fd, name, err);
    S(c, ">\n");
    option(c, "", "\xe2\x80\x94 choose \xe2\x80\x94", !cur || !*cur);
    for (size_t i = 0; i < c->ncountries; i++)
        option(c, c->countries[i]->alpha2, country_name(c->countries[i]), c->countries[i] == sel);
    if (cur && *cur && !sel) option_other(c, cur);
    S(c, "</select>\n");
}

static int offered(render_ctx *c, const gz_country *gc, const gz_country *chosen,
                   const gz_province *psel)
{
    if (!c->o || !c->o->province_countries) return 1;
    if (gc == chosen || (psel && psel->country == gc)) return 1;
    for (size_t i = 0; i < c->o->nprovince_countries; i++)
        if (c->o->province_countries[i] && strcmp(c->o->province_countries[i], gc->alpha2) == 0)
            return 1;
    return 0;
}

static void select_province(render_ctx *c, const cb_field *fd, const char *name, const char *cur,
                            const char *country_cur, const caseform_error *err)
{
    const sp_gazetteer *g = c->cb->gaz;
    const gz_country *chosen = country_cur && *country_cur
                                   ? gazetteer_country(g, country_cur, strlen(country_cur)) : NULL;
    const gz_province *psel = cur && *cur ? gazetteer_province(g, chosen, cur, strlen(cur)) : NULL;
    S(c, "<select");
    ctl_attrs(c, fd, name, err);
    S(c, ">\n");
    option(c, "", "\xe2\x80\x94 choose \xe2\x80\x94", !cur || !*cur);
    size_t np = gazetteer_nprovinces(g);
    for (size_t i = 0; i < c->ncountries; i++) {
        const gz_country *gc = c->countries[i];
        if (!offered(c, gc, chosen, psel)) continue;
        int open = 0;
        for (size_t k = 0; k < np; k++) {
            const gz_province *p = gazetteer_province_at(g, k);
            if (p->country != gc) continue;
            if (!open) {
                S(c, "<optgroup label=\"");
                H(c, country_name(gc));
                S(c, "\">\n");
                open = 1;
            }
            option(c, p->code, p->name, p == psel);
        }
        if (open) S(c, "</optgroup>\n");
    }
    if (cur && *cur && !psel) option_other(c, cur);
    S(c, "</select>\n");
}

static void select_currency(render_ctx *c, const cb_field *fd, const char *name, const char *cur,
                            const caseform_error *err)
{
    const char *sel = cur && *cur ? gazetteer_currency(c->cb->gaz, cur, strlen(cur)) : NULL;
    S(c, "<select");
    ctl_attrs(c, fd, name, err);
    S(c, ">\n");
    option(c, "", "\xe2\x80\x94 choose \xe2\x80\x94", !cur || !*cur);
    for (size_t i = 0; i < c->ncurrencies; i++)
        option(c, c->currencies[i], c->currencies[i], sel && strcmp(sel, c->currencies[i]) == 0);
    if (cur && *cur && !sel) option_other(c, cur);
    S(c, "</select>\n");
}

/* One checkbox of a checkbox group. */
static void checkbox(render_ctx *c, const char *name, int k, const char *value,
                     const char *label, const char *help, int checked)
{
    char id[CASEFORM_MAX_NAME + 32];
    snprintf(id, sizeof id, "f-%s-%d", name, k);
    S(c, "<label class=\"cf-check\" for=\"");
    H(c, id);
    S(c, "\"><input type=\"checkbox\" id=\"");
    H(c, id);
    S(c, "\" name=\"");
    H(c, name);
    S(c, "\" value=\"");
    H(c, value);
    S(c, "\"");
    if (checked) S(c, " checked=\"checked\"");
    S(c, "/> <span>");
    H(c, label);
    if (help && *help) {
        S(c, " <small>");
        H(c, help);
        S(c, "</small>");
    }
    S(c, "</span></label>\n");
}

/* The code a submitted value of a checkbox group stands for (a name,
 * label or alias is resolved as import resolves it), or NULL. */
static const char *box_code(render_ctx *c, const cb_field *fd, const char *s)
{
    if (!s || !*s) return NULL;
    if (fd->type == CB_COUNTRY) {
        const gz_country *gc = gazetteer_country(c->cb->gaz, s, strlen(s));
        return gc ? gc->alpha2 : NULL;
    }
    const cb_value *val = codebook_value(fd, s, strlen(s));
    return val ? val->code : NULL;
}

/* Is the box for `code` ticked: does any value sent under `name` stand for it? */
static int box_on(render_ctx *c, const cb_field *fd, const char *name, const char *code)
{
    for (size_t i = 0; c->v && i < c->v->n; i++) {
        const caseform_entry *it = &c->v->items[i];
        if (strcmp(it->name, name) != 0) continue;
        const char *k = box_code(c, fd, it->value);
        if (k && strcmp(k, code) == 0) return 1;
    }
    return 0;
}

/* A multiple field: one checkbox per value; values sent that stand for no
 * box are kept as extra ticked boxes, so nothing typed is lost. */
static void checks(render_ctx *c, const cb_field *fd, const char *name)
{
    int k = 0;
    if (fd->type == CB_COUNTRY) {
        S(c, "<details class=\"cf-many\"");
        for (size_t i = 0; c->v && i < c->v->n; i++)
            if (strcmp(c->v->items[i].name, name) == 0 && *c->v->items[i].value) {
                S(c, " open=\"open\"");
                break;
            }
        S(c, "><summary>Choose countries</summary>\n");
        for (size_t i = 0; i < c->ncountries; i++) {
            const gz_country *gc = c->countries[i];
            checkbox(c, name, k++, gc->alpha2, country_name(gc), NULL,
                     box_on(c, fd, name, gc->alpha2));
        }
        S(c, "</details>\n");
    } else {
        for (size_t i = 0; i < fd->nvalues; i++) {
            const cb_value *val = &fd->values[i];
            int on = box_on(c, fd, name, val->code);
            if (val->deprecated && !on) continue;
            checkbox(c, name, k++, val->code, val->label, val->help, on);
        }
    }
    for (size_t i = 0; c->v && i < c->v->n; i++) {
        const caseform_entry *it = &c->v->items[i];
        if (strcmp(it->name, name) != 0 || !*it->value || box_code(c, fd, it->value)) continue;
        checkbox(c, name, k++, it->value, it->value, "(not in the list)", 1);
    }
}

/* What the choices of a single code field mean, when the codebook says. */
static void value_help(render_ctx *c, const cb_field *fd, const char *cur)
{
    const cb_value *cv = cur && *cur ? codebook_value(fd, cur, strlen(cur)) : NULL;
    int any = 0;
    for (size_t i = 0; i < fd->nvalues && !any; i++)
        any = fd->values[i].help && *fd->values[i].help && (!fd->values[i].deprecated || &fd->values[i] == cv);
    if (!any) return;
    S(c, "<details class=\"cf-values\"><summary>What the choices mean</summary>\n<dl>\n");
    for (size_t i = 0; i < fd->nvalues; i++) {
        const cb_value *val = &fd->values[i];
        if (val->deprecated && val != cv) continue;
        S(c, "<dt>");
        H(c, val->label);
        S(c, "</dt><dd>");
        H(c, val->help && *val->help ? val->help : "\xe2\x80\x94");
        S(c, "</dd>\n");
    }
    S(c, "</dl>\n</details>\n");
}

static void text_input(render_ctx *c, const cb_field *fd, const char *name, const char *cur,
                       const caseform_error *err, const char *type, const char *extra)
{
    S(c, "<input type=\"");
    S(c, type);
    S(c, "\"");
    ctl_attrs(c, fd, name, err);
    if (extra) S(c, extra);
    S(c, " value=\"");
    H(c, cur);
    S(c, "\"/>\n");
}

/* Does s look like what an <input type=number/date> can show? If not, a
 * text input keeps what was typed (a browser would blank it). */
static int numeric(const char *s)
{
    double d;
    return !s || !*s || sp_parse_double(s, strlen(s), &d) == 0;
}
static int iso_date(const char *s)
{
    if (!s || !*s) return 1;
    if (strlen(s) != 10 || s[4] != '-' || s[7] != '-') return 0;
    for (int i = 0; i < 10; i++)
        if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9')) return 0;
    return 1;
}

static void control(render_ctx *c, const cb_field *fd, const char *name, const char *cur,
                    const char *country_cur, const caseform_error *err)
{
    char extra[128];
    switch (fd->type) {
    case CB_TEXT:
        if (fd->max_length > 120) {
            S(c, "<textarea rows=\"3\"");
            ctl_attrs(c, fd, name, err);
            snprintf(extra, sizeof extra, " maxlength=\"%zu\">", fd->max_length);
            S(c, extra);
            H(c, cur);
            S(c, "</textarea>\n");
        } else {
            snprintf(extra, sizeof extra, " maxlength=\"%zu\"", fd->max_length ? fd->max_length : 200);
            text_input(c, fd, name, cur, err, "text", extra);
        }
        break;
    case CB_INTEGER:
    case CB_YEAR:
    case CB_DECIMAL:
        if (numeric(cur)) {
            snprintf(extra, sizeof extra, " min=\"%lld\" max=\"%lld\" step=\"%s\"", fd->min,
                     fd->max, fd->type == CB_DECIMAL ? "any" : "1");
            text_input(c, fd, name, cur, err, "number", extra);
        } else {
            text_input(c, fd, name, cur, err, "text",
                       fd->type == CB_DECIMAL ? " inputmode=\"decimal\"" : " inputmode=\"numeric\"");
        }
        break;
    case CB_DATE:
        text_input(c, fd, name, cur, err, iso_date(cur) ? "date" : "text", NULL);
        break;
    case CB_AGE:
        text_input(c, fd, name, cur, err, "text",
                   " maxlength=\"16\" placeholder=\"25, 18-24 or 48+\" autocomplete=\"off\"");
        break;
    case CB_CODE:
        select_code(c, fd, name, cur, err);
        value_help(c, fd, cur);
        break;
    case CB_COUNTRY:
        select_country(c, fd, name, cur, err);
        break;
    case CB_PROVINCE:
        select_province(c, fd, name, cur, country_cur, err);
        break;
    case CB_CURRENCY:
        select_currency(c, fd, name, cur, err);
        break;
    case CB_GROUP:
        break;
    }
}

/* One field (top-level, or a sub-field of a group row). */
static void field(render_ctx *c, const cb_field *fd, const char *name, const char *country_name_in)
{
    const caseform_error *err = caseform_errors_get(c->e, name);
    int box = fd->multiple && (fd->type == CB_CODE || fd->type == CB_COUNTRY);
    field_open(c, fd, name, box, err);
    hint(c, fd, name, err);
    if (box) {
        checks(c, fd, name);
        S(c, "</fieldset>\n");
    } else {
        const char *country_cur = country_name_in ? caseform_values_get(c->v, country_name_in) : NULL;
        control(c, fd, name, caseform_values_get(c->v, name), country_cur, err);
    }
    S(c, "</div>\n");
}

static int row_has_content(render_ctx *c, const cb_field *g, int rep)
{
    char name[CASEFORM_MAX_NAME + 16];
    for (size_t s = 0; s < g->nsub; s++) {
        input_name(name, sizeof name, g, &g->sub[s], rep);
        const char *v = caseform_values_get(c->v, name);
        if ((v && *v) || caseform_errors_get(c->e, name)) return 1;
    }
    return 0;
}

static void group(render_ctx *c, const cb_field *g)
{
    char name[CASEFORM_MAX_NAME + 16], cname[CASEFORM_MAX_NAME + 16], buf[64];
    S(c, "<fieldset class=\"cf-group\" data-field=\"");
    H(c, g->name);
    S(c, "\" aria-describedby=\"h-");
    H(c, g->name);
    S(c, "\"><legend>");
    H(c, g->label);
    if (g->sensitive) S(c, " <span class=\"cf-sens\">(never published)</span>");
    S(c, "</legend>\n<small class=\"cf-hint\" id=\"h-");
    H(c, g->name);
    S(c, "\">");
    H(c, g->help);
    S(c, "</small>\n");
    for (int r = 0; r < g->max_repeat; r++) {
        S(c, "<details class=\"cf-row\"");
        if (r == 0 || row_has_content(c, g, r)) S(c, " open=\"open\"");
        S(c, "><summary>");
        H(c, g->label);
        snprintf(buf, sizeof buf, " %d</summary>\n", r + 1);
        S(c, buf);
        for (size_t s = 0; s < g->nsub; s++) {
            const cb_field *sf = &g->sub[s];
            if (sf->deprecated) continue;
            input_name(name, sizeof name, g, sf, r);
            const char *cn = NULL;
            if (sf->type == CB_PROVINCE && sf->country_index >= 0) {
                input_name(cname, sizeof cname, g, &g->sub[sf->country_index], r);
                cn = cname;
            }
            field(c, sf, name, cn);
        }
        S(c, "</details>\n");
    }
    S(c, "</fieldset>\n");
}

static void summary(render_ctx *c)
{
    if (!c->e || c->e->n == 0) return;
    char buf[96];
    S(c, "<div class=\"cf-summary\" id=\"cf-errors\" role=\"alert\" tabindex=\"-1\">\n<h2>");
    snprintf(buf, sizeof buf, "%zu %s to fix", c->e->count, c->e->count == 1 ? "problem" : "problems");
    S(c, buf);
    S(c, "</h2>\n<ul>\n");
    for (size_t i = 0; i < c->e->n; i++) {
        const caseform_error *it = &c->e->items[i];
        const cb_field *f = NULL, *s = NULL;
        int rep = 0;
        S(c, "<li>");
        if (*it->name && resolve_name(c->cb, it->name, &f, &s, &rep)) {
            S(c, "<a href=\"#f-");
            H(c, it->name);
            S(c, "\">");
            H(c, f->label);
            if (s) {
                snprintf(buf, sizeof buf, " %d: ", rep + 1);
                S(c, buf);
                H(c, s->label);
            }
            S(c, "</a>: ");
        }
        H(c, it->message);
        S(c, "</li>\n");
    }
    S(c, "</ul>\n</div>\n");
}

static const char *section_title(const char *s)
{
    static const struct { const char *id, *title; } t[] = {
        {"case", "The case"}, {"victim", "The person"}, {"places", "Places"},
        {"exploitation", "Exploitation"}, {"recruitment", "Recruitment"},
        {"control", "Control"}, {"exit", "Exit"}, {"evidence", "Evidence"}};
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        if (s && strcmp(s, t[i].id) == 0) return t[i].title;
    return s && *s ? s : "Other";
}

int caseform_render_opts(sp_buf *out, const sp_codebook *cb, const caseform_values *v,
                         const caseform_errors *e, const char *action,
                         const char *csrf_token, const caseform_opts *o)
{
    render_ctx c = {out, cb, v, e, o, NULL, 0, NULL, 0, SP_OK};
    if (!cb || !cb->gaz) return SP_EUSAGE;
    size_t nc = gazetteer_ncountries(cb->gaz);
    c.countries = sp_xcalloc(nc ? nc : 1, sizeof *c.countries);
    for (size_t i = 0; i < nc; i++) c.countries[c.ncountries++] = gazetteer_country_at(cb->gaz, i);
    qsort(c.countries, c.ncountries, sizeof *c.countries, cmp_country);
    load_currencies(&c);

    if (o && o->stylesheet) {
        S(&c, "<link rel=\"stylesheet\" href=\"");
        H(&c, o->stylesheet);
        S(&c, "\"/>\n");
    }
    S(&c, "<form class=\"caseform\" method=\"post\" accept-charset=\"utf-8\" action=\"");
    H(&c, action ? action : "");
    S(&c, "\">\n");
    summary(&c);
    if (csrf_token) {
        S(&c, "<input type=\"hidden\" name=\"" CASEFORM_CSRF_NAME "\" value=\"");
        H(&c, csrf_token);
        S(&c, "\"/>\n");
    }
    S(&c, "<p class=\"cf-note\">Fields marked <span class=\"cf-req\">(required)</span> must be "
          "filled; those marked <span class=\"cf-sens\">(never published)</span> are kept "
          "in the hub and never appear in any published figure.</p>\n");
    const char *cur_sec = NULL;
    for (size_t i = 0; i < cb->nfields; i++) {
        const cb_field *f = &cb->fields[i];
        if (f->deprecated || f->encoded) continue;
        if (!cur_sec || strcmp(cur_sec, f->section ? f->section : "") != 0) {
            if (cur_sec) S(&c, "</fieldset>\n");
            cur_sec = f->section ? f->section : "";
            S(&c, "<fieldset class=\"cf-section\"><legend>");
            H(&c, section_title(cur_sec));
            S(&c, "</legend>\n");
        }
        if (f->type == CB_GROUP) {
            group(&c, f);
        } else {
            const char *cn = NULL;
            if (f->type == CB_PROVINCE && f->country_index >= 0)
                cn = cb->fields[f->country_index].name;
            field(&c, f, f->name, cn);
        }
    }
    if (cur_sec) S(&c, "</fieldset>\n");
    S(&c, "<p class=\"cf-actions\"><button type=\"submit\">");
    H(&c, o && o->submit_label ? o->submit_label : "Save case");
    S(&c, "</button></p>\n</form>\n");
    free(c.countries);
    free(c.currencies);
    return c.rc;
}

int caseform_render(sp_buf *out, const sp_codebook *cb, const caseform_values *v,
                    const caseform_errors *e, const char *action, const char *csrf_token)
{
    return caseform_render_opts(out, cb, v, e, action, csrf_token, NULL);
}
