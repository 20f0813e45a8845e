/* caseform.h -- the case form: the standard data-collection tool, generated
 * from the codebook. Pure: renders HTML into a buffer and validates
 * submitted (name, value) pairs into a record; no I/O, no store.
 *
 * Input names are the flat layout names of layout.h: "gender",
 * "transit_countries" (repeated once per ticked box), "exploitation_2_country"
 * (group row 2, 1-based). The hidden CSRF input is named CASEFORM_CSRF_NAME;
 * caseform_parse skips it (the caller checks it before parsing).
 *
 * Values are validated with codebook_parse, the same rules, rule ids and
 * messages as the command-line import (see docs/caseform.md). */
#ifndef SP_CASEFORM_H
#define SP_CASEFORM_H

#include "record.h"
#include "http.h"

#define CASEFORM_CSRF_NAME  "csrf"         /* as portal.h names it */
#define CASEFORM_MAX_PAIRS  1000   /* pairs in one submission */
#define CASEFORM_MAX_NAME   64     /* bytes of one input name */
#define CASEFORM_MAX_VALUE  4000   /* bytes of one value (codebook caps are smaller) */
#define CASEFORM_MAX_ERRORS 200    /* errors kept (the rest are counted) */

/* What was typed, by input name, in submission order; re-rendered as is.
 * Owns its strings (arena). */
typedef struct caseform_entry {
    const char *name, *value;
    size_t vlen;
} caseform_entry;

typedef struct caseform_values {
    caseform_entry *items;
    size_t n, alloc;
    sp_arena arena;
} caseform_values;

/* One problem with one input. `name` is the input name, or "" for a
 * problem with the whole submission (too many fields, unknown field). */
typedef struct caseform_error {
    const char *name, *rule, *message;
} caseform_error;

typedef struct caseform_errors {
    caseform_error *items;
    size_t n, alloc;
    size_t count;              /* errors seen, including those not kept */
    sp_arena arena;
} caseform_errors;

void caseform_values_init(caseform_values *v);
void caseform_values_free(caseform_values *v);
/* Appends a copy of (name, value). SP_ELIMIT past CASEFORM_MAX_PAIRS. */
int caseform_values_add(caseform_values *v, const char *name, const char *value, size_t vlen);
/* First value for `name`, or NULL. */
const char *caseform_values_get(const caseform_values *v, const char *name);

void caseform_errors_init(caseform_errors *e);
void caseform_errors_free(caseform_errors *e);
/* First error for input `name`, or NULL. */
const caseform_error *caseform_errors_get(const caseform_errors *e, const char *name);

/* Options of the rendering. Zeroed: everything offered. */
typedef struct caseform_opts {
    /* Province menus offer the provinces of these countries (alpha-2),
     * plus those of the country and province already chosen; NULL: of
     * every country (about 5,000 options per menu). */
    const char *const *province_countries;
    size_t nprovince_countries;
    const char *stylesheet;    /* href of caseform.css; NULL: "/static/caseform.css" is not linked */
    const char *submit_label;  /* NULL: "Save case" */
} caseform_opts;

/* Appends the <form> (XHTML-clean: every tag closed, attributes quoted) to
 * `out`: an error summary when `e` has errors, every non-deprecated field
 * with label, hint, control and its error, the groups as numbered rows.
 * `v` and `e` may be NULL (empty form). `action` is the form's URL,
 * `csrf_token` the hidden token (may be NULL: none). Returns SP_OK or
 * SP_ELIMIT when `out`'s cap is hit (give it a few MB). */
int caseform_render(sp_buf *out, const sp_codebook *cb, const caseform_values *v,
                    const caseform_errors *e, const char *action, const char *csrf_token);
int caseform_render_opts(sp_buf *out, const sp_codebook *cb, const caseform_values *v,
                         const caseform_errors *e, const char *action,
                         const char *csrf_token, const caseform_opts *o);

/* Validates a submission. `out` must be record_init'ed for cb; it is
 * reset, then filled. `v` (initialised by the caller) receives what was
 * typed, for re-rendering; `e` (initialised) receives per-input errors.
 * Returns SP_OK with the record filled, or SP_EINPUT with errors in e. */
int caseform_parse(const sp_codebook *cb, const http_param *pairs, size_t npairs,
                   sp_record *out, caseform_values *v, caseform_errors *e);

/* Fills `v` (initialised) from a stored record, to prefill the edit form. */
int caseform_values_from_record(caseform_values *v, const sp_record *r);

#endif
