/* kobo.h -- KoboToolbox / ODK exports of the spotlight XLSForm
 * (docs/xlsform.md).
 *
 * A Kobo XLSX export puts each repeat group on a sheet of its own: one row
 * per repeat instance, with _parent_index pointing at the _index of its
 * submission on the first sheet. kobo_join turns such a workbook into the
 * flat layout import reads (layout.h): the first sheet's columns, then
 * GROUP_N_SUB columns filled from the repeat rows in their order. Column
 * names and meta columns are handled by the built-in mapping
 * mappings/kobo.json. */
#ifndef SP_KOBO_H
#define SP_KOBO_H

#include "codebook.h"

#define KOBO_MAX_JOINED ((size_t)1 << 30)   /* 1 GiB of joined CSV */

/* If the XLSX in data has repeat sheets (a sheet after the first whose
 * header has _parent_index), writes the joined table as CSV (comma,
 * every cell quoted, header first) into *csv (caller frees) and sets
 * *joined = 1; otherwise *joined = 0 and *csv is NULL. Errors (a repeat
 * row whose parent is missing, more rows than the group's max_repeat, a
 * sheet that names no codebook group) go to err with the sheet and row. */
int kobo_join(const sp_codebook *cb, const void *data, size_t len, const char *name,
              char **csv, size_t *csvlen, int *joined, sp_err *err);

/* Is header "FIELD/CODE" (or "FIELD.CODE") the one-column-per-choice copy
 * of a multiple field's answer, which Kobo adds beside the FIELD column?
 * Returns the field or NULL. */
const cb_field *kobo_choice_column(const sp_codebook *cb, const char *header);

#endif
