/* xlsform.h -- the codebook as an XLSForm: the spreadsheet form definition
 * that KoboToolbox, ODK Central/Collect and Enketo turn into a data
 * collection form (docs/xlsform.md).
 *
 * The workbook has the three standard sheets:
 *   survey   type, name, label, hint, required, relevant, constraint,
 *            constraint_message, appearance, choice_filter, repeat_count
 *   choices  list_name, name, label, country (the province filter)
 *   settings form_title, form_id, version (= codebook version),
 *            default_language
 *
 * Question names are the codebook's field names, so a Kobo/ODK export of
 * this form imports with `spotlight import --mapping kobo` unchanged. The
 * choices between two ways of asking something (age, repeat counts) are
 * written down in docs/xlsform.md. */
#ifndef SP_XLSFORM_H
#define SP_XLSFORM_H

#include "codebook.h"

/* Extra questions the form adds beside the codebook's fields. */
#define XLSFORM_AGE_BAND "age_band"        /* band when the exact age is unknown */
#define XLSFORM_COUNT_SUFFIX "_count"      /* "exploitation_count": repeat count */

/* Writes the XLSForm of every non-deprecated field of cb (sensitive ones
 * too, flagged in their hint) to path ("-": standard output). Countries,
 * provinces and currencies come from cb->gaz. */
int xlsform_write(const sp_codebook *cb, const char *path, sp_err *err);

/* The form name of a group's sub-field: the sub-field's own name, or
 * "GROUP_SUB" when that name is also used elsewhere in the codebook
 * (XLSForm names must be unique in the whole form). Writes into out
 * (outsz bytes, cut if needed); returns out. */
const char *xlsform_sub_name(const sp_codebook *cb, const cb_field *group,
                             const cb_field *sub, char *out, size_t outsz);

/* ISO 4217 alphabetic codes the gazetteer knows, in alphabetical order,
 * into codes[0..cap); returns how many there are (may exceed cap). */
size_t xlsform_currencies(const sp_gazetteer *g, char (*codes)[4], size_t cap);

#endif
