/* import.c -- see import.h.
 *
 * The work per row is: map cells to layout columns (the "plan", built once
 * from the header), parse each through the codebook, apply cross-field
 * rules, then store. Countries are parsed before anything else in a row so
 * that provinces can be checked against them. */
#include "import.h"
#include "kobo.h"
#include "audit.h"
#include "encode.h"
#include "ident.h"
#include "layout.h"
#include "mapping.h"

#include <sodium.h>

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define IMPORT_MAX_BYTES ((size_t)4 << 30)   /* 4 GiB per file */
#define PLAN_MAX_SOURCES 8

typedef struct plan_col {
    const sp_column *col;
    int src[PLAN_MAX_SOURCES];  /* header indices, first non-empty wins */
    int nsrc;
    const char *constant;       /* mapping constant, or NULL */
    char vfield[160];           /* key for value translation */
} plan_col;

typedef struct plan_flag {
    const map_flag *flag;
    int src;
    const sp_column *col;
} plan_flag;

typedef struct import_ctx {
    const sp_codebook *cb;
    sp_store *store;
    const import_opts *o;
    const sp_mapping *map;
    const char *name;           /* file name in messages */
    sp_err *err;
    sp_layout layout;
    plan_col *plan;             /* countries first, then the rest */
    size_t nplan;
    plan_flag *flags;
    size_t nflags;
    char **header;              /* copies of the header cells */
    size_t nheader;
    int case_ref_field;
    int year_field, date_field;
    int nat_field, origin_field;            /* the country of phone numbers */
    const cb_field *f_ind;                  /* indicators group, or NULL */
    int ind_type, ind_value, ind_chain, ind_platform;   /* its sub-field indices */
    const cb_field *f_enc[3];               /* person_clk, person_block, person_doc */
    sp_map seen_refs;           /* --replace: case refs already handled */
    sp_buf scratch;
} import_ctx;

/* ------------------------------------------------------------ the plan */

static int is_country(const plan_col *p)
{
    const cb_field *f = p->col->sub ? p->col->sub : p->col->field;
    return f->type == CB_COUNTRY;
}

static int header_index(const import_ctx *c, const char *name)
{
    char a[512], b[512];
    size_t na = sp_fold(name, strlen(name), a, sizeof a);
    for (size_t i = 0; i < c->nheader; i++) {
        size_t nb = sp_fold(c->header[i], strlen(c->header[i]), b, sizeof b);
        if (na == nb && memcmp(a, b, na) == 0) return (int)i;
    }
    return -1;
}

static plan_col *plan_add(import_ctx *c, size_t *alloc, int colidx)
{
    for (size_t i = 0; i < c->nplan; i++)
        if (c->plan[i].col == &c->layout.cols[colidx]) return &c->plan[i];
    if (c->nplan == *alloc) {
        *alloc = *alloc ? *alloc * 2 : 32;
        c->plan = sp_xrealloc(c->plan, *alloc * sizeof *c->plan);
    }
    plan_col *p = &c->plan[c->nplan++];
    memset(p, 0, sizeof *p);
    p->col = &c->layout.cols[colidx];
    if (p->col->sub)
        snprintf(p->vfield, sizeof p->vfield, "%s.%s", p->col->field->name, p->col->sub->name);
    else
        snprintf(p->vfield, sizeof p->vfield, "%s", p->col->field->name);
    return p;
}

/* Builds the plan from the header row. Problems with the header are
 * reported at row 1; returns SP_EINPUT if the file cannot be imported. */
static int plan_build(import_ctx *c, const sp_row *hdr)
{
    size_t alloc = 0;
    int rc = SP_OK;
    char *used = sp_xcalloc(hdr->ncells + 1, 1);

    c->nheader = hdr->ncells;
    c->header = sp_xcalloc(hdr->ncells + 1, sizeof *c->header);
    for (size_t i = 0; i < hdr->ncells; i++) {
        const char *h = hdr->cell[i];
        size_t n = sp_trim(&h, hdr->len[i]);
        c->header[i] = sp_xstrndup(h, n);
    }

    /* A clear name, birth date or document number never enters the hub,
     * whatever a mapping would do with it (docs/identifiers.md) */
    for (size_t i = 0; i < c->nheader; i++) {
        const char *cl = encode_clear_column(c->header[i], strlen(c->header[i]));
        if (cl && strcmp(cl, "sex") != 0) {  /* sex alone identifies no one */
            used[i] = 1;                    /* no "unknown column" warning too */
            rc = sp_err_add(c->err, c->name, 1, c->header[i], NULL, 0, "clear-identifier",
                            "a name/birth date/document number must not reach the hub: "
                            "run spotlight encode at your organisation first");
        }
    }

    if (c->map) {
        const sp_mapping *m = c->map;
        for (size_t t = 0; t < m->ntargets; t++) {
            int col = layout_find(&c->layout, m->targets[t].target, strlen(m->targets[t].target));
            /* a mapping shared with spotlight encode names the clear columns
             * it consumes; they never reach the hub (refused above if they do) */
            if (col < 0 && encode_clear_column(m->targets[t].target, strlen(m->targets[t].target)))
                continue;
            if (col < 0) {
                rc = sp_err_add(c->err, m->name, 0, NULL, m->targets[t].target,
                                strlen(m->targets[t].target), "bad-mapping",
                                "the mapping names a field that the codebook does not have");
                continue;
            }
            plan_col *p = plan_add(c, &alloc, col);
            for (size_t k = 0; k < m->targets[t].nsources && p->nsrc < PLAN_MAX_SOURCES; k++) {
                int h = header_index(c, m->targets[t].sources[k]);
                if (h < 0) continue;   /* a source column may be absent */
                p->src[p->nsrc++] = h;
                used[h] = 1;
            }
        }
        for (size_t k = 0; k < m->nconst; k++) {
            int col = layout_find(&c->layout, m->const_target[k], strlen(m->const_target[k]));
            if (col < 0) {
                rc = sp_err_add(c->err, m->name, 0, NULL, m->const_target[k],
                                strlen(m->const_target[k]), "bad-mapping",
                                "a constant names a field that the codebook does not have");
                continue;
            }
            plan_add(c, &alloc, col)->constant = m->const_value[k];
        }
        c->flags = sp_xcalloc(m->nflags + 1, sizeof *c->flags);
        for (size_t k = 0; k < m->nflags; k++) {
            int col = layout_find(&c->layout, m->flags[k].target, strlen(m->flags[k].target));
            if (col < 0) {
                rc = sp_err_add(c->err, m->name, 0, NULL, m->flags[k].target,
                                strlen(m->flags[k].target), "bad-mapping",
                                "a flag names a field that the codebook does not have");
                continue;
            }
            int h = header_index(c, m->flags[k].column);
            if (h < 0) continue;
            used[h] = 1;
            c->flags[c->nflags++] = (plan_flag){&m->flags[k], h, &c->layout.cols[col]};
        }
        for (size_t k = 0; k < m->nignore; k++) {
            int h = header_index(c, m->ignore[k]);
            if (h >= 0) used[h] = 1;
        }
    }
    /* Columns named as the codebook names them are always understood,
     * with or without a mapping. */
    for (size_t i = 0; i < c->nheader; i++) {
        if (used[i]) continue;
        int col = layout_find(&c->layout, c->header[i], strlen(c->header[i]));
        if (col < 0) continue;
        plan_col *p = plan_add(c, &alloc, col);
        if (p->nsrc > 0 && !c->map) {
            rc = sp_err_add(c->err, c->name, 1, c->header[i], NULL, 0, "duplicate-column",
                            "this column and column '%s' are the same field '%s'",
                            c->header[p->src[0]], p->col->name);
            continue;
        }
        if (p->nsrc < PLAN_MAX_SOURCES) p->src[p->nsrc++] = (int)i;
        used[i] = 1;
    }
    for (size_t i = 0; i < c->nheader; i++) {
        if (used[i]) continue;
        /* Kobo's one-column-per-choice copy ("control_means/threats") of a
         * multiple answer whose own column is read: nothing to warn about */
        const cb_field *kf = kobo_choice_column(c->cb, c->header[i]);
        int copy = 0;
        for (size_t k = 0; kf && k < c->nplan && !copy; k++)
            copy = c->plan[k].col->field == kf && !c->plan[k].col->sub && c->plan[k].nsrc > 0;
        if (copy) continue;
        if (!*c->header[i])
            sp_err_warn(c->err, c->name, 1, NULL, NULL, 0, "unnamed-column",
                        "column %zu has no header; its values are ignored", i + 1);
        else
            sp_err_warn(c->err, c->name, 1, c->header[i], NULL, 0, "unknown-column",
                        "no codebook field has this name; the column is ignored "
                        "(rename it, or use --mapping; see docs/codebook.md)");
    }
    /* A required field with no column at all fails the whole file now
     * rather than once per row. */
    for (size_t f = 0; f < c->cb->nfields; f++) {
        const cb_field *fd = &c->cb->fields[f];
        if (!fd->required) continue;
        if ((int)f == c->case_ref_field && c->map && c->map->case_ref_from_row) continue;
        int found = 0;
        for (size_t k = 0; k < c->nplan; k++)
            found |= c->plan[k].col->field == fd && (c->plan[k].nsrc || c->plan[k].constant);
        if (!found)
            rc = sp_err_add(c->err, c->name, 1, NULL, NULL, 0, "missing-column",
                            "the required field '%s' (%s) has no column", fd->name, fd->label);
    }
    /* countries first: a stable partition */
    plan_col *sorted = sp_xmalloc((c->nplan + 1) * sizeof *sorted);
    size_t o = 0;
    for (size_t k = 0; k < c->nplan; k++) if (is_country(&c->plan[k])) sorted[o++] = c->plan[k];
    for (size_t k = 0; k < c->nplan; k++) if (!is_country(&c->plan[k])) sorted[o++] = c->plan[k];
    free(c->plan);
    c->plan = sorted;
    free(used);
    return rc;
}

/* ------------------------------------------------------------ one row */

/* The country a province must lie in: the sibling country field's value. */
static const char *province_country(const sp_record *r, const sp_column *col)
{
    const cb_field *pf = col->sub ? col->sub : col->field;
    if (pf->country_index < 0) return NULL;
    if (col->sub) {
        const rec_group *g = &r->groups[col->field->index];
        if ((size_t)col->rep >= g->nrows) return NULL;
        return g->cells[(size_t)col->rep * col->field->nsub + (size_t)pf->country_index].text;
    }
    const cb_cell *cc = record_get(r, pf->country_index);
    return cc ? cc->text : NULL;
}

/* Puts a parsed value where the column says; for a group sub-field that is
 * a cell of the group row. */
static int place_value(sp_record *r, const sp_column *col, const cb_cell *v)
{
    if (col->sub) {
        cb_cell *cell = record_group_cell(r, col->field->index, (size_t)col->rep, col->sub->index);
        if (!cell) return SP_EINPUT;
        if (cell->text) return SP_EEXIST;
        *cell = *v;
        return SP_OK;
    }
    return record_add(r, col->field->index, v);
}

/* Parses one raw value for a column and stores it in the record, or
 * reports why not. */
static void take_value(import_ctx *c, sp_record *r, const plan_col *p, const char *hname,
                       const char *raw, size_t n, long row)
{
    const cb_field *f = p->col->sub ? p->col->sub : p->col->field;
    if (c->map) {
        /* a translation for this source column wins over one for the field */
        const char *t = hname ? mapping_translate(c->map, hname, raw, n) : NULL;
        if (!t) t = mapping_translate(c->map, p->vfield, raw, n);
        if (t) {
            raw = t;
            n = strlen(t);
        }
    }
    const char *country = f->type == CB_PROVINCE ? province_country(r, p->col) : NULL;
    cb_cell v;
    const char *rule = NULL, *why = NULL;
    if (codebook_parse(c->cb, f, raw, n, country, &v, &r->arena, &rule, &why) != 0) {
        sp_err_add(c->err, c->name, row, hname, raw, n, rule ? rule : "invalid", "%s",
                   why ? why : "invalid value");
        return;
    }
    if (!v.text) return;
    /* a full province code fills a missing country ("VN-44" says Viet Nam) */
    if (f->type == CB_PROVINCE && !country && f->country_index >= 0) {
        char cc[3] = {v.text[0], v.text[1], 0};
        const gz_country *gc = gazetteer_alpha2(c->cb->gaz, cc);
        if (gc) {
            cb_cell cv = {0};
            cv.text = sp_arena_strdup(&r->arena, gc->alpha2);
            if (p->col->sub) {
                cb_cell *cell = record_group_cell(r, p->col->field->index, (size_t)p->col->rep,
                                                  f->country_index);
                if (cell && !cell->text) *cell = cv;
            } else {
                record_add(r, f->country_index, &cv);
            }
        }
    }
    int rc = place_value(r, p->col, &v);
    if (rc == SP_EINPUT || rc == SP_EEXIST)
        sp_err_add(c->err, c->name, row, hname, raw, n, "one-value",
                   "'%s' takes one value and already has one in this row", p->col->name);
}

static void take_cell(import_ctx *c, sp_record *r, const plan_col *p, const char *hname,
                      const char *raw, size_t n, long row)
{
    const cb_field *f = p->col->sub ? p->col->sub : p->col->field;
    n = sp_trim(&raw, n);
    if (n == 0) return;
    if (!f->multiple) {
        take_value(c, r, p, hname, raw, n, row);
        return;
    }
    const char *seps = c->map ? c->map->separators : ";|";
    size_t start = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i < n && !strchr(seps, raw[i])) continue;
        const char *part = raw + start;
        size_t pn = sp_trim(&part, i - start);
        if (pn) take_value(c, r, p, hname, part, pn, row);
        start = i + 1;
    }
}

static int flag_true(const map_flag *fl, const char *s, size_t n)
{
    n = sp_trim(&s, n);
    for (size_t i = 0; i < fl->ntruthy; i++)
        if (strlen(fl->truthy[i]) == n && strncmp(fl->truthy[i], s, n) == 0) return 1;
    return 0;
}

static const char *cell_text(const sp_record *r, int field)
{
    if (field < 0) return NULL;
    const cb_cell *cc = record_get(r, field);
    return cc && cc->text ? cc->text : NULL;
}

/* The encodings made by spotlight encode must have their exact shapes;
 * indicator values are match keys ("h1:"/"h1x:", checked strictly) or
 * clear values, which are normalised in place (canonical form stored) or,
 * when invalid, kept as they came with a warning (value-free: the report
 * may be logged). */
static void check_identifiers(import_ctx *c, sp_record *r, long row)
{
    static const char *const why_enc[3] = {
        "person_clk must be the standard base64 of 128 bytes (172 characters) "
        "as spotlight encode writes it",
        "person_block must be 16 lowercase hexadecimal characters as spotlight encode writes it",
        "person_doc must be h1: and 64 lowercase hexadecimal characters as spotlight encode "
        "writes it"};
    for (int k = 0; k < 3; k++) {
        if (!c->f_enc[k]) continue;
        const char *t = cell_text(r, c->f_enc[k]->index);
        if (!t) continue;
        size_t n = strlen(t);
        int valid = 0;
        int ok = k == 0 ? encode_is_clk(t, n) : k == 1 ? encode_is_block(t, n)
                        : encode_is_hash(t, n, &valid) == 1 && valid;
        if (!ok)
            sp_err_add(c->err, c->name, row, c->f_enc[k]->name, t, n, "bad-encoding", "%s",
                       why_enc[k]);
    }
    if (!c->f_ind) return;
    const rec_group *g = &r->groups[c->f_ind->index];
    const char *country = encode_phone_country(cell_text(r, c->nat_field),
                                               cell_text(r, c->origin_field));
    char col[96], canon[IDENT_MAX_INPUT + 64];
    for (size_t i = 0; i < g->nrows; i++) {
        cb_cell *cells = &g->cells[i * c->f_ind->nsub];
        const char *v = cells[c->ind_value].text;
        if (!v) continue;
        snprintf(col, sizeof col, "%s_%zu_value", c->f_ind->name, i + 1);
        int valid = 0, is = encode_is_hash(v, strlen(v), &valid);
        if (is == 1) continue;
        if (is < 0) {
            sp_err_add(c->err, c->name, row, col, v, strlen(v), "bad-match-key",
                       "the value starts like a match key but is not one "
                       "(h1: or h1x: and 64 lowercase hexadecimal characters)");
            continue;
        }
        const char *why = NULL;
        encode_indicator_canon(c->ind_type >= 0 ? cells[c->ind_type].text : NULL,
                               c->ind_chain >= 0 ? cells[c->ind_chain].text : NULL,
                               c->ind_platform >= 0 ? cells[c->ind_platform].text : NULL,
                               country, v, strlen(v), canon, sizeof canon, &valid, &why);
        if (valid) {
            cells[c->ind_value].text = sp_arena_strdup(&r->arena, canon);
        } else {
            sp_err_warn(c->err, c->name, row, col, NULL, 0, "invalid-indicator",
                        "%s; the value is kept, flagged invalid", why ? why : "invalid value");
        }
    }
}

/* The match keys of a stored record's indicators, one per stored group
 * row with a value, numbered as store_record_add numbers the rows. A
 * clear value is hashed when the hub has the key, else its hash waits
 * for spotlight rehash. */
static uint8_t hub_key[ENCODE_KEY_BYTES];
static int have_hub_key;

void import_set_key(const uint8_t *key32)
{
    if (key32) memcpy(hub_key, key32, sizeof hub_key);
    else sodium_memzero(hub_key, sizeof hub_key);
    have_hub_key = key32 != NULL;
}

static int store_keys(import_ctx *c, const sp_record *r, long long record_id)
{
    if (!c->f_ind) return SP_OK;
    const rec_group *g = &r->groups[c->f_ind->index];
    const char *country = encode_phone_country(cell_text(r, c->nat_field),
                                               cell_text(r, c->origin_field));
    size_t nsub = c->f_ind->nsub;
    long long seq = 0;
    char canon[IDENT_MAX_INPUT + 64], hash[ENCODE_HASH_CAP];
    for (size_t i = 0; i < g->nrows; i++) {
        const cb_cell *cells = &g->cells[i * nsub];
        int any = 0;
        for (size_t k = 0; k < nsub; k++) any |= cells[k].text != NULL;
        if (!any) continue;
        seq++;
        const char *v = cells[c->ind_value].text;
        if (!v) continue;
        const char *type = c->ind_type >= 0 && cells[c->ind_type].text ? cells[c->ind_type].text
                                                                         : "";
        int valid = 0, rc;
        if (encode_is_hash(v, strlen(v), &valid) == 1) {
            /* made at the partner: h1x: is the same hash, flagged invalid */
            snprintf(hash, sizeof hash, "h1:%s", v + (valid ? 3 : 4));
            rc = store_ident_add(c->store, record_id, seq, type, hash, valid,
                                 valid ? NULL : "flagged invalid by the organisation's encoder");
        } else {
            const char *why = NULL;
            encode_indicator_canon(type, c->ind_chain >= 0 ? cells[c->ind_chain].text : NULL,
                                   c->ind_platform >= 0 ? cells[c->ind_platform].text : NULL,
                                   country, v, strlen(v), canon, sizeof canon, &valid, &why);
            if (have_hub_key) encode_hash(hub_key, type, canon, 1, hash);
            rc = store_ident_add(c->store, record_id, seq, type, have_hub_key ? hash : NULL,
                                 valid, why);
        }
        if (rc) return rc;
    }
    return SP_OK;
}

/* Validates one data row into r. Returns the number of errors it added. */
static size_t row_to_record(import_ctx *c, const sp_row *row, sp_record *r)
{
    size_t before = c->err->count;
    record_reset(r);
    r->row = row->row;

    for (size_t i = c->nheader; i < row->ncells; i++) {
        const char *s = row->cell[i];
        if (sp_trim(&s, row->len[i]) > 0) {
            sp_err_add(c->err, c->name, row->row, NULL, row->cell[i], row->len[i],
                       "extra-cell", "cell %zu is beyond the last column of the header", i + 1);
            break;
        }
    }
    for (size_t k = 0; k < c->nplan; k++) {
        const plan_col *p = &c->plan[k];
        int took = 0;
        for (int s = 0; s < p->nsrc && !took; s++) {
            int h = p->src[s];
            if ((size_t)h >= row->ncells) continue;
            const char *raw = row->cell[h];
            size_t n = row->len[h];
            if (sp_trim(&raw, n) == 0) continue;
            if (p->nsrc > 1 && c->map) {
                /* a value the mapping drops ("-99": unknown) lets the next
                 * source column speak */
                const char *t = mapping_translate(c->map, c->header[h], raw, sp_trim(&raw, n));
                if (!t) t = mapping_translate(c->map, p->vfield, raw, sp_trim(&raw, n));
                if (t && !*t) continue;
            }
            take_cell(c, r, p, c->header[h], row->cell[h], row->len[h], row->row);
            took = 1;
        }
        if (!took && p->constant)
            take_cell(c, r, p, p->col->name, p->constant, strlen(p->constant), row->row);
    }
    for (size_t k = 0; k < c->nflags; k++) {
        const plan_flag *pf = &c->flags[k];
        if ((size_t)pf->src >= row->ncells) continue;
        if (!flag_true(pf->flag, row->cell[pf->src], row->len[pf->src])) continue;
        const cb_field *f = pf->col->sub ? pf->col->sub : pf->col->field;
        if (!f->multiple && !pf->col->sub && record_get(r, f->index)) continue;
        plan_col tmp;
        memset(&tmp, 0, sizeof tmp);
        tmp.col = pf->col;
        snprintf(tmp.vfield, sizeof tmp.vfield, "%s", f->name);
        take_value(c, r, &tmp, pf->flag->column, pf->flag->code, strlen(pf->flag->code), row->row);
    }
    if (c->map && c->map->case_ref_from_row && c->case_ref_field >= 0 &&
        !record_get(r, c->case_ref_field)) {
        cb_cell v = {0};
        char ref[32];
        snprintf(ref, sizeof ref, "row-%ld", row->row);
        v.text = sp_arena_strdup(&r->arena, ref);
        record_add(r, c->case_ref_field, &v);
    }
    record_trim_groups(r);

    /* cross-field rules */
    if (c->date_field >= 0 && c->year_field >= 0) {
        const cb_cell *d = record_get(r, c->date_field), *y = record_get(r, c->year_field);
        if (d && d->text) {
            long long dy = atoll(d->text);
            if (!y) {
                cb_cell v = {0};
                char t[16];
                snprintf(t, sizeof t, "%lld", dy);
                v.text = sp_arena_strdup(&r->arena, t);
                v.i = dy;
                record_add(r, c->year_field, &v);
            } else if (y->i != dy) {
                sp_err_add(c->err, c->name, row->row, c->cb->fields[c->date_field].name,
                           d->text, strlen(d->text), "date-year-mismatch",
                           "the date is not in the year identified (%lld)", y->i);
            }
        }
    }
    for (size_t f = 0; f < c->cb->nfields; f++) {
        const cb_field *fd = &c->cb->fields[f];
        if (fd->required && fd->type != CB_GROUP && !record_get(r, (int)f))
            sp_err_add(c->err, c->name, row->row, fd->name, NULL, 0, "required",
                       "'%s' (%s) is required and is empty", fd->name, fd->label);
    }
    check_identifiers(c, r, row->row);
    return c->err->count - before;
}

/* ------------------------------------------------------------ driver */

typedef struct sha_job {
    const void *data;
    size_t len;
    char hex[65];
} sha_job;

static void *sha_thread(void *arg)
{
    sha_job *j = arg;
    sp_sha256_hex(j->data, j->len, j->hex);
    return NULL;
}

static void progress_line(const import_ctx *c, long long rows, double t0, int final)
{
    double dt = sp_now() - t0;
    fprintf(stderr, "\r%s: %lld rows, %.0f rows/s%s", c->name, rows,
            dt > 0 ? (double)rows / dt : 0.0, final ? "\n" : "   ");
    fflush(stderr);
}

int import_buffer(sp_store *s, const sp_codebook *cb, const void *data, size_t len,
                  const char *name, const import_opts *o, import_result *res, sp_err *err)
{
    int rc = SP_OK, in_tx = 0, sha_started = 0;
    import_ctx c;
    sp_reader *rd = NULL;
    sp_mapping *map = NULL;
    sp_record rec;
    sp_row row;
    pthread_t sha_tid;
    sha_job sha = {data, len, {0}};
    long long org_id = 0, sub_id = 0;
    char *joined = NULL;        /* a Kobo workbook joined with its repeat sheets */
    size_t joined_len = 0;
    int is_joined = 0;

    memset(res, 0, sizeof *res);
    memset(&c, 0, sizeof c);
    c.cb = cb;
    c.store = s;
    c.o = o;
    c.name = name;
    c.err = err;
    record_init(&rec, cb);
    sp_map_init(&c.seen_refs);
    sp_buf_init(&c.scratch, 4096);
    layout_build(&c.layout, cb, 1);
    const cb_field *fr = codebook_field(cb, "case_ref");
    const cb_field *fy = codebook_field(cb, "year_identified");
    const cb_field *fdt = codebook_field(cb, "date_identified");
    c.case_ref_field = fr ? fr->index : -1;
    c.year_field = fy ? fy->index : -1;
    c.date_field = fdt ? fdt->index : -1;
    const cb_field *fn = codebook_field(cb, "nationality");
    const cb_field *fo = codebook_field(cb, "origin_country");
    c.nat_field = fn ? fn->index : -1;
    c.origin_field = fo ? fo->index : -1;
    c.f_ind = codebook_field(cb, "indicators");
    if (c.f_ind && (c.f_ind->type != CB_GROUP || !codebook_subfield(c.f_ind, "value")))
        c.f_ind = NULL;
    if (c.f_ind) {
        const cb_field *sf;
        c.ind_value = codebook_subfield(c.f_ind, "value")->index;
        c.ind_type = (sf = codebook_subfield(c.f_ind, "type")) ? sf->index : -1;
        c.ind_chain = (sf = codebook_subfield(c.f_ind, "chain")) ? sf->index : -1;
        c.ind_platform = (sf = codebook_subfield(c.f_ind, "platform")) ? sf->index : -1;
    }
    c.f_enc[0] = codebook_field(cb, "person_clk");
    c.f_enc[1] = codebook_field(cb, "person_block");
    c.f_enc[2] = codebook_field(cb, "person_doc");

    if (!o->org || !*o->org) {
        rc = sp_err_add(err, name, 0, NULL, NULL, 0, "no-organisation",
                        "say which organisation reports these records (--org NAME)");
        goto done;
    }
    if (o->mapping) {
        if ((rc = mapping_load(&map, o->mapping, err))) goto done;
        c.map = map;
    }
    if (pthread_create(&sha_tid, NULL, sha_thread, &sha) == 0) sha_started = 1;
    else sp_sha256_hex(data, len, sha.hex);

    /* A KoboToolbox XLSX export keeps each repeat group on a sheet of its
     * own; joined to the first sheet it is the flat layout (kobo.h). The
     * submission's checksum stays that of the file as sent. */
    if (!o->sheet && (o->format == SP_FMT_XLSX ||
                      (o->format == SP_FMT_AUTO && len >= 4 && memcmp(data, "PK\3\4", 4) == 0))) {
        if ((rc = kobo_join(cb, data, len, name, &joined, &joined_len, &is_joined, err)))
            goto done;
    }
    sp_reader_opts ro = {o->format, o->sheet, 0};
    if (is_joined) ro = (sp_reader_opts){SP_FMT_CSV, NULL, ','};
    if ((rc = reader_open_mem(&rd, is_joined ? joined : data, is_joined ? joined_len : len, name,
                              &ro, err)))
        goto done;
    rc = reader_next(rd, &row, err);
    if (rc == SP_EOF) {
        rc = sp_err_add(err, name, 0, NULL, NULL, 0, "empty", "the file has no header row and no data");
        goto done;
    }
    if (rc) goto done;
    if ((rc = plan_build(&c, &row))) goto done;

    /* organisation and duplicate check */
    sp_org org;
    int have_org = store_org_find(s, o->org, &org) == SP_OK;
    if (have_org) {
        org_id = org.id;
        store_org_free(&org);
    }
    if (sha_started) {
        pthread_join(sha_tid, NULL);
        sha_started = 0;
    }
    memcpy(res->sha256, sha.hex, sizeof res->sha256);
    if (have_org) {
        long long prev = 0;
        if (store_submission_find_sha(s, org_id, sha.hex, &prev) == SP_OK && !o->replace) {
            rc = sp_err_add(err, name, 0, NULL, NULL, 0, "duplicate-file",
                            "%s already submitted this exact file (submission %lld); "
                            "nothing was stored. Use --replace to replace those records.",
                            o->org, prev);
            rc = SP_EEXIST;
            goto done;
        }
    }
    if (!o->dry_run) {
        /* only new records: without --replace nothing is deleted, and
         * every reference written is one the store just made */
        if (o->replace ? store_begin(s) : store_begin_bulk(s)) {
            rc = sp_err_add(err, name, 0, NULL, NULL, 0, "store",
                            "the hub is busy or cannot be written: %s", store_errmsg(s));
            rc = SP_EDB;
            goto done;
        }
        in_tx = 1;
        if (!have_org) {
            if (store_org_add(s, o->org, NULL, &org_id)) {
                rc = SP_EDB;
                sp_err_add(err, name, 0, NULL, NULL, 0, "store", "cannot add the organisation: %s",
                           store_errmsg(s));
                goto done;
            }
            res->org_created = 1;
        }
        /* the file's own name, not the path it had on the importing
         * machine (a home directory names a person; the organisation sees
         * this in its portal) */
        const char *base = name;
        for (const char *q = name; q && *q; q++)       /* '/' and a Windows browser's '\\' */
            if ((*q == '/' || *q == '\\') && q[1]) base = q + 1;
        if (store_submission_add(s, org_id, base, sha.hex, o->synthetic, &sub_id)) {
            rc = SP_EDB;
            sp_err_add(err, name, 0, NULL, NULL, 0, "store", "cannot add the submission: %s",
                       store_errmsg(s));
            goto done;
        }
    } else if (!have_org) {
        res->org_created = 1;   /* would be */
    }
    if (res->org_created)
        sp_err_warn(err, name, 0, NULL, NULL, 0, "new-organisation",
                    "'%s' was not yet known to the hub: %s, with its country unknown "
                    "(set it with: spotlight org set-country)", o->org,
                    o->dry_run ? "it would be added" : "it was added");

    double t0 = sp_now(), last = t0;
    int shown = 0;
    for (;;) {
        rc = reader_next(rd, &row, err);
        if (rc == SP_EOF) { rc = SP_OK; break; }
        if (rc) goto done;
        if (reader_row_blank(&row)) continue;
        res->rows++;
        size_t nerr = row_to_record(&c, &row, &rec);
        if (nerr == 0 && err->count == 0 && !o->dry_run) {
            if (o->replace && c.case_ref_field >= 0) {
                const cb_cell *ref = record_get(&rec, c.case_ref_field);
                int dummy;
                if (ref && !sp_map_get(&c.seen_refs, ref->text, strlen(ref->text), &dummy)) {
                    long long del = 0;
                    if (store_record_delete_case(s, org_id, ref->text, &del)) {
                        rc = SP_EDB;
                        sp_err_add(err, name, row.row, NULL, NULL, 0, "store", "%s", store_errmsg(s));
                        goto done;
                    }
                    res->replaced += del;
                    sp_map_put(&c.seen_refs, ref->text, strlen(ref->text), 1);
                }
            }
            long long rid = 0;
            if (store_record_add(s, sub_id, org_id, &rec, o->synthetic, &rid) ||
                store_keys(&c, &rec, rid)) {
                rc = SP_EDB;
                sp_err_add(err, name, row.row, NULL, NULL, 0, "store", "cannot store the record: %s",
                           store_errmsg(s));
                goto done;
            }
            res->stored++;
        }
        if (o->progress && (res->rows & 4095) == 0) {
            double now = sp_now();
            if (now - t0 >= 1.0 && now - last >= 0.25) {
                progress_line(&c, res->rows, t0, 0);
                last = now;
                shown = 1;
            }
        }
    }
    if (shown) progress_line(&c, res->rows, t0, 1);
    if (err->count) {
        rc = SP_EINPUT;
        goto done;
    }
    if (!o->dry_run) {
        /* the upload's audit entry commits with it or not at all
         * (actor and address: the thread's audit context) */
        sp_buf det, tgt;
        sp_buf_init(&det, 16384);
        sp_buf_init(&tgt, 8192);
        audit_detail_str(&det, "file", name);
        audit_detail_str(&det, "sha256", sha.hex);
        audit_detail_str(&det, "org", o->org);
        audit_detail_int(&det, "records", res->stored);
        audit_detail_int(&det, "replaced", res->replaced);
        sp_buf_printf(&tgt, "submission %lld: %.1024s sha256:%s", sub_id, name, sha.hex);
        int arc = audit_append(s, NULL, org_id, "upload", tgt.data, NULL, audit_detail_end(&det));
        sp_buf_free(&det);
        sp_buf_free(&tgt);
        if (arc) {
            rc = SP_EDB;
            sp_err_add(err, name, 0, NULL, NULL, 0, "store", "cannot write the audit log: %s",
                       store_errmsg(s));
            goto done;
        }
        if (store_submission_set_rows(s, sub_id, res->stored) || store_commit(s)) {
            rc = SP_EDB;
            sp_err_add(err, name, 0, NULL, NULL, 0, "store", "cannot commit: %s", store_errmsg(s));
            goto done;
        }
        in_tx = 0;
        res->submission_id = sub_id;
    }
done:
    if (sha_started) pthread_join(sha_tid, NULL);
    if (in_tx) {
        store_rollback(s);
        res->stored = 0;
        res->replaced = 0;
    }
    if (rc && rc != SP_EEXIST && rc != SP_EDB && rc != SP_ELIMIT && rc != SP_EIO) rc = SP_EINPUT;
    reader_close(rd);
    free(joined);
    mapping_free(map);
    record_free(&rec);
    layout_free(&c.layout);
    for (size_t i = 0; i < c.nheader; i++) free(c.header[i]);
    free(c.header);
    free(c.plan);
    free(c.flags);
    sp_map_free(&c.seen_refs);
    sp_buf_free(&c.scratch);
    return rc;
}

int import_file(sp_store *s, const sp_codebook *cb, const char *path, const import_opts *o,
                import_result *res, sp_err *err)
{
    sp_file f;
    memset(res, 0, sizeof *res);
    int rc = sp_file_open(&f, path, IMPORT_MAX_BYTES, err);
    if (rc) return rc;
    rc = import_buffer(s, cb, f.data, f.len, strcmp(path, "-") == 0 ? "(standard input)" : path,
                       o, res, err);
    sp_file_close(&f);
    return rc;
}

/* ------------------------------------------------------------ one record (the case form) */

/* The fields check_identifiers and store_keys read, as import_buffer sets them. */
static void record_ctx(import_ctx *c, sp_store *s, const sp_codebook *cb, sp_err *err)
{
    memset(c, 0, sizeof *c);
    c->store = s;
    c->name = "web form";
    c->err = err;
    const cb_field *fn = codebook_field(cb, "nationality");
    const cb_field *fo = codebook_field(cb, "origin_country");
    c->nat_field = fn ? fn->index : -1;
    c->origin_field = fo ? fo->index : -1;
    c->f_ind = codebook_field(cb, "indicators");
    if (c->f_ind && (c->f_ind->type != CB_GROUP || !codebook_subfield(c->f_ind, "value")))
        c->f_ind = NULL;
    if (c->f_ind) {
        const cb_field *sf;
        c->ind_value = codebook_subfield(c->f_ind, "value")->index;
        c->ind_type = (sf = codebook_subfield(c->f_ind, "type")) ? sf->index : -1;
        c->ind_chain = (sf = codebook_subfield(c->f_ind, "chain")) ? sf->index : -1;
        c->ind_platform = (sf = codebook_subfield(c->f_ind, "platform")) ? sf->index : -1;
    }
    c->f_enc[0] = codebook_field(cb, "person_clk");
    c->f_enc[1] = codebook_field(cb, "person_block");
    c->f_enc[2] = codebook_field(cb, "person_doc");
}

int import_record_identifiers(const sp_codebook *cb, sp_record *r, sp_err *err)
{
    import_ctx c;
    record_ctx(&c, NULL, cb, err);
    size_t before = err->count;
    check_identifiers(&c, r, 0);
    return err->count > before ? SP_EINPUT : SP_OK;
}

int import_record_keys(sp_store *s, const sp_codebook *cb, const sp_record *r, long long record_id)
{
    import_ctx c;
    sp_err err;
    sp_err_init(&err);
    record_ctx(&c, s, cb, &err);
    int rc = store_keys(&c, r, record_id);
    sp_err_free(&err);
    return rc;
}
