/* stats.h -- the aggregate tables the dashboard draws, computed through the
 * store (store_count), labelled from the codebook and the gazetteer.
 *
 * A table is generic: named columns, and rows of cells, one cell per
 * column. Columns have a nesting level so one flat table can be served as
 * nested JSON (industries inside years, provinces inside countries): the
 * rows are sorted so that rows sharing the cells of levels 0..k are
 * adjacent, and in text they are shown once. Counts stay exact integers in
 * cells of kind STATS_COUNT so a later suppression pass can rewrite them
 * (and recompute shares) before anything is printed.
 *
 * The JSON shape of every table is documented in docs/stats-json.md. */
#ifndef SP_STATS_H
#define SP_STATS_H

#include "store.h"

#define STATS_MAX_LEVELS 3
#define STATS_MAX_ROWS 200000   /* cap on distinct groups a table may hold */

typedef enum {
    STATS_TEXT,     /* a string (NULL: missing, JSON null) */
    STATS_INT,      /* an integer that is not a count (year, band bound) */
    STATS_COUNT,    /* a count of records or mentions: suppression targets */
    STATS_SHARE     /* a fraction in [0,1] derived from counts */
} stats_kind;

typedef struct stats_column {
    const char *name;          /* JSON key: "code", "label", "count" */
    const char *label;         /* header of the text table */
    stats_kind kind;
    int level;                 /* 0: outer rows; k: inside nest[k-1] */
} stats_column;

typedef struct stats_cell {
    const char *s;             /* STATS_TEXT */
    long long n;               /* STATS_INT, STATS_COUNT */
    double share;              /* STATS_SHARE */
    int missing;               /* 1: no value (JSON null, text "") */
    int suppressed;            /* STATS_COUNT/STATS_SHARE hidden by the
                                  privacy pass (privacy.h): then also
                                  missing = 1 and n = 0, so code that knows
                                  nothing of suppression prints null/empty,
                                  never the hidden number */
} stats_cell;

typedef struct stats_table {
    const char *name;          /* "industries-by-year" */
    const char *title;         /* "Industries by year" */
    stats_column *cols;
    size_t ncols;
    const char *nest[STATS_MAX_LEVELS]; /* nest[k]: key of level k+1's array */
    int nlevels;               /* 1 + highest column level */
    stats_cell *cells;         /* nrows * ncols, row-major */
    size_t nrows, alloc_rows;
    long long records;         /* records the table rests on (the filter's) */
    int synthetic;             /* 1: synthetic records are included */
    const char *bands;         /* age table: "default" or "ctdc"; else NULL */
    const char *counts;        /* "records", "mentions" (a record counts once
                                  per value of a multiple field) or "mixed"
                                  (each row says in its "counts" cell) */
    const char **notes;        /* sentences shown under the table */
    size_t nnotes, alloc_notes;
    sp_filter filter;          /* copy of the filter (strings in arena) */
    sp_arena arena;            /* owns every string above */
    /* set by the privacy pass (privacy.h); all 0 on a table of exact counts */
    int suppress_k;            /* k applied; 0: not passed through privacy */
    size_t nsuppressed;        /* counts hidden (a count shown on several
                                  rows, like a country's, counts once) */
    int records_suppressed;    /* `records` itself hidden (then 0) */
} stats_table;

void stats_table_free(stats_table *t);
/* Cell of row r, column c. */
stats_cell *stats_cell_at(const stats_table *t, size_t r, size_t c);
/* Index of the column named `name` at nesting `level`, or -1. */
int stats_col(const stats_table *t, int level, const char *name);
/* Adds a sentence to the table's notes (copied; notes never hold numbers
 * from the data). */
void stats_table_note(stats_table *t, const char *s);

/* ---- filters. The sp_filter's strings are owned by the stats_filter. */
typedef struct stats_filter {
    sp_filter f;
    sp_arena arena;
} stats_filter;

void stats_filter_init(stats_filter *sf);
void stats_filter_free(stats_filter *sf);
/* One filter setting, as the API's query parameters or the CLI give it.
 * Keys (dashes or underscores): year-from, year-to, org-region, where.
 *   year-from/year-to  a year within the codebook's bounds
 *   org-region         an M49 region name (checked with gazetteer_region)
 *   where              FIELD=VALUE, FIELD a top-level field or group.sub;
 *                      VALUE normalised with codebook_parse ("gender=Male"
 *                      becomes gender=male). Repeatable (SP_MAX_WHERE).
 *                      A group sub-field matches any row; an age matches
 *                      the recorded range exactly ("age=18-24"); sensitive
 *                      fields are refused.
 * Bad key, field or value: SP_EINPUT with a sentence in err naming it. */
int stats_filter_set(stats_filter *sf, const sp_codebook *cb, const char *key,
                     const char *value, sp_err *err);
/* argv-style: "--year-from 2020", "--year-from=2020", "--where gender=Male".
 * Every argument must be a filter option (the caller routes the others;
 * see stats_filter_is_option). */
int stats_filter_parse(stats_filter *sf, const sp_codebook *cb, int argc,
                       char *const *argv, sp_err *err);
/* Is this argument ("--where", "--year-to=2023") a filter option? Returns
 * 0 if not, 1 if its value is inside it ("--k=v"), 2 if the value is the
 * next argument. */
int stats_filter_is_option(const char *arg);

/* ---- computing */
typedef enum { STATS_BANDS_DEFAULT = 0, STATS_BANDS_CTDC = 1 } stats_bands;
typedef struct stats_opts {
    stats_bands bands;         /* age table */
} stats_opts;
/* "default" / "ctdc" -> bands; SP_EUSAGE otherwise. */
int stats_bands_parse(const char *s, stats_bands *out);

/* The table names, in menu order (static; do not free). */
const char *const *stats_table_names(size_t *n);
/* Computes `table` over the records matching f (NULL: all). opts may be
 * NULL (defaults). On success *out is the caller's (stats_table_free).
 * Unknown table: SP_EUSAGE, err lists the valid names. */
int stats_compute(sp_store *s, const sp_codebook *cb, const char *table,
                  const sp_filter *f, const stats_opts *opts, stats_table **out,
                  sp_err *err);

/* ---- output */
/* An aligned terminal table (widths in code points), then the number of
 * records, the filter and the notes. A suppressed count prints as "<k"
 * ("<10"), its share as "-". */
int stats_print_text(const stats_table *t, FILE *out);
/* The JSON the API serves (docs/stats-json.md), one object and a newline.
 * After the privacy pass: a suppressed count is null, and every object
 * holding a count gets "suppressed": true/false (a count column not named
 * "count" gets "NAME_suppressed"); the envelope gets "suppression":
 * {"k", "applied", "cells"} (null on a table of exact counts). */
int stats_print_json(const stats_table *t, FILE *out);
/* The table flattened to CSV into b (the API's and the report's .csv): a
 * header line with nested columns named "NEST.name", CRLF line ends; a
 * suppressed count reads "<k"; formula-like text is neutralised. */
int stats_to_csv(const stats_table *t, sp_buf *b);
/* The same as a jansson object (new reference; caller json_decref()s).
 * Declared as void* so this header needs no jansson. Shares are rounded to
 * 4 decimals: dump with JSON_REAL_PRECISION(10) to print them short. */
void *stats_to_json(const stats_table *t);

#endif
