/* record.h -- one case record (one victim in one case, as one organisation
 * reported it), held as validated codebook cells.
 *
 * Layout, for a codebook with N top-level fields:
 *   vals[f]    the values of field f (0 or 1 for a single field, 0..k for a
 *              multiple one); unused for groups
 *   groups[f]  for a group field: rows, each with one cell per sub-field
 * All strings live in the record's arena: record_reset() frees them at once,
 * so one record can be reused for every row of an import without malloc. */
#ifndef SP_RECORD_H
#define SP_RECORD_H

#include "codebook.h"

typedef struct rec_values {
    cb_cell *v;
    size_t n, alloc;
} rec_values;

typedef struct rec_group {
    cb_cell *cells;            /* nrows * field->nsub, row-major */
    size_t nrows, alloc_rows;
} rec_group;

typedef struct sp_record {
    const sp_codebook *cb;
    rec_values *vals;          /* [cb->nfields] */
    rec_group *groups;         /* [cb->nfields] */
    long row;                  /* row in the source file (1-based, header = 1) */
    sp_arena arena;
} sp_record;

void record_init(sp_record *r, const sp_codebook *cb);
void record_reset(sp_record *r);
void record_free(sp_record *r);

/* Appends a value to field f (a copy of the cell struct; strings must be
 * in r->arena or static). A duplicate value of a multiple field is dropped.
 * Returns SP_OK, or SP_EINPUT when a single field already has a value. */
int record_add(sp_record *r, int f, const cb_cell *c);
/* First value of field f, or NULL when missing. */
const cb_cell *record_get(const sp_record *r, int f);
/* The cell of sub-field `sub` in row `row` (0-based) of group f; grows the
 * group to row+1 rows (new cells missing). NULL if row >= max_repeat. */
cb_cell *record_group_cell(sp_record *r, int f, size_t row, int sub);
/* Removes group rows in which every cell is missing, keeping order. */
void record_trim_groups(sp_record *r);

#endif
