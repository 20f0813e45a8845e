/* layout.h -- the flat, one-row-per-record layout of a case record, as it
 * appears in CSV and XLSX files, templates and exports.
 *
 * Every single or multiple top-level field is one column named after the
 * field (a multiple field's values are joined with "; "). A group of at most
 * R rows becomes R blocks of columns "GROUP_1_SUB", "GROUP_2_SUB", ...
 * e.g. exploitation_1_country, exploitation_1_province, ..., indicators_3_role.
 * Import accepts the same names in any case and spacing, and also
 * "GROUP_SUB_1" ("exploitation country 1"). */
#ifndef SP_LAYOUT_H
#define SP_LAYOUT_H

#include "record.h"

typedef struct sp_column {
    char *name;                /* "gender", "exploitation_2_locality" */
    char *label;               /* "Gender", "Places of exploitation 2: Locality" */
    const cb_field *field;     /* top-level field */
    const cb_field *sub;       /* sub-field for a group column, else NULL */
    int rep;                   /* group row, 0-based; 0 for non-group */
} sp_column;

typedef struct sp_layout {
    sp_column *cols;
    size_t ncols;
    sp_map index;              /* folded name and alternatives -> column */
} sp_layout;

/* Builds the layout of every non-deprecated field of the codebook. With
 * `include_sensitive` 0, sensitive fields (and groups) are left out: that
 * is the layout of anything published. */
void layout_build(sp_layout *l, const sp_codebook *cb, int include_sensitive);
void layout_free(sp_layout *l);
/* Column whose folded name or alternative spelling is folded `s`; -1 if
 * none. */
int layout_find(const sp_layout *l, const char *s, size_t n);

/* The text of column c of record r into out (reset first): "" when
 * missing; multiple values joined with "; ". */
int layout_cell_text(const sp_layout *l, size_t c, const sp_record *r, sp_buf *out);

#endif
