/* reader.h -- turning bytes into rows of cells, nothing else.
 *
 * Every reader (csv.c, xlsx.c, jsonin.c) gives the same interface: the first
 * row returned is the header; then one row per record. Cells are UTF-8,
 * borrowed from the reader and valid until the next reader_next() call.
 * `row` is the row number a person sees in a spreadsheet (header = 1), so
 * error messages point where the user looks.
 *
 * Caps (so a hostile file cannot eat the machine): a cell of at most
 * SP_MAX_CELL bytes, a row of at most SP_MAX_COLS cells, an XLSX part of at
 * most SP_MAX_XML_PART uncompressed bytes of shared strings, a JSON document of at most
 * SP_MAX_JSON bytes. Over a cap: SP_ELIMIT with an sp_err that says where. */
#ifndef SP_READER_H
#define SP_READER_H

#include "util.h"

#define SP_MAX_CELL (64 * 1024)
#define SP_MAX_COLS 1024
#define SP_MAX_JSON (256L * 1024 * 1024)
#define SP_MAX_XML_PART (512L * 1024 * 1024)

typedef enum { SP_FMT_AUTO = 0, SP_FMT_CSV, SP_FMT_XLSX, SP_FMT_JSON } sp_format;

typedef struct sp_row {
    size_t ncells;
    const char *const *cell;   /* cell[i] is NUL-terminated, len[i] bytes */
    const size_t *len;
    long row;                  /* 1-based, header = 1 */
} sp_row;

typedef struct sp_reader_opts {
    sp_format format;          /* AUTO: by magic bytes, then extension */
    const char *sheet;         /* XLSX: sheet name; NULL = first sheet */
    char delimiter;            /* CSV: 0 = detect among , ; TAB */
} sp_reader_opts;

typedef struct sp_reader sp_reader;

/* Opens `path` ("-" is standard input, CSV or JSON only). `name` is what
 * errors call the file (NULL: path). */
int reader_open(sp_reader **out, const char *path, const sp_reader_opts *o,
                sp_err *err);
/* Opens an in-memory buffer (not copied; must outlive the reader). Used by
 * the HTTP upload path and by the fuzz targets. */
int reader_open_mem(sp_reader **out, const void *data, size_t len,
                    const char *name, const sp_reader_opts *o, sp_err *err);
/* SP_OK with a row, SP_EOF at the end, or an error (reported in err with
 * file and row). After an error the reader must not be used again (the
 * CSV and JSON readers keep returning the same code without adding to err).
 * An empty input is an error "the file is empty", never SP_EOF at once, so
 * an import cannot silently succeed with nothing: CSV (no bytes, only a BOM
 * or blank lines) on the first reader_next, JSON ([] or no keys) at open.
 * A header-only CSV gives the header, then SP_EOF.
 * AUTO detection: "PK\3\4" = XLSX, an old .xls (OLE) signature is refused
 * with a hint, a first non-space byte '[' or '{' = JSON unless the name ends
 * in .csv/.tsv/.txt; with no bytes to look at, the extension decides. */
int reader_next(sp_reader *r, sp_row *row, sp_err *err);
/* Is every cell of the row empty or white space alone? Such a row is no
 * record (a spreadsheet's empty row): import and encode skip it alike. */
int reader_row_blank(const sp_row *row);
/* Bytes consumed so far and total size (0 if unknown): for progress. */
void reader_progress(const sp_reader *r, uint64_t *done, uint64_t *total);
void reader_close(sp_reader *r);
sp_format reader_format(const sp_reader *r);

/* ---- the per-format back ends, used by reader.c; each returns an opaque
 * state driven through this vtable. */
typedef struct sp_reader_ops {
    int (*next)(void *state, sp_row *row, sp_err *err);
    void (*progress)(const void *state, uint64_t *done, uint64_t *total);
    void (*close)(void *state);
} sp_reader_ops;

/* Each takes ownership of nothing: `data` must outlive the state. `name`
 * is copied. */
int csv_open_mem(void **state, const sp_reader_ops **ops, const char *data,
                 size_t len, const char *name, char delimiter, sp_err *err);
int xlsx_open_mem(void **state, const sp_reader_ops **ops, const void *data,
                  size_t len, const char *name, const char *sheet, sp_err *err);
int json_open_mem(void **state, const sp_reader_ops **ops, const char *data,
                  size_t len, const char *name, sp_err *err);

/* XLSX: list sheet names (for `--sheet` errors and help). Caller frees each
 * and the array. */
int xlsx_sheet_names(const void *data, size_t len, char ***names, size_t *n,
                     sp_err *err);

#endif
