/* template.h -- blank data-entry templates in the flat layout (layout.h):
 * the file a partner fills in and submits with `spotlight import`.
 *
 * CSV: the header row only (every column, sensitive ones included), CRLF.
 * XLSX: sheet "records" with the same header; sheet "help" with one row
 * per column (column, label, type, required, sensitive, allowed values,
 * help); sheet "values" with every allowed code and its label (code lists,
 * countries, provinces, currencies, and the form's age bands are not
 * there: an age is written as "25", "18-24" or "48+"). */
#ifndef SP_TEMPLATE_H
#define SP_TEMPLATE_H

#include "codebook.h"

typedef enum { TEMPLATE_CSV, TEMPLATE_XLSX } template_format;

/* Writes the template to path ("-": standard output). */
int template_write(const sp_codebook *cb, template_format fmt, const char *path,
                   sp_err *err);

#endif
