/* reader.c -- the front door: opens a file, standard input or a buffer,
 * decides the format and hands over to csv.c, xlsx.c or jsonin.c.
 *
 * Files are mmap'd read-only, so a 1 GB CSV costs address space, not heap.
 * Standard input is read into memory up to SP_MAX_JSON bytes (the readers
 * work on whole buffers; an XLSX on stdin works too, since it is in memory).
 *
 * Format detection (SP_FMT_AUTO), magic first:
 *  - "PK\3\4" (a zip) is XLSX; "\xD0\xCF\x11\xE0" (old binary .xls) is
 *    refused with a hint to save as .xlsx or CSV;
 *  - a first non-space byte (after any UTF-8 BOM) of '[' or '{' is JSON,
 *    unless the name ends in .csv/.tsv/.txt (a CSV header could start with
 *    '[': the weak magic yields to the extension);
 *  - nothing decisive (e.g. an empty file): the extension (.json, .xlsx),
 *    else CSV.
 * An empty file is therefore read by the CSV (or JSON) reader, which
 * reports "the file is empty". */
#include "reader.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

struct sp_reader {
    const sp_reader_ops *ops;
    void *state;
    sp_format format;
    sp_file file;          /* the bytes, when reader_open opened them */
    int has_file;
};

static int ext_is(const char *name, const char *ext)
{
    if (!name) return 0;
    size_t n = strlen(name), e = strlen(ext);
    return n > e && strcasecmp(name + n - e, ext) == 0;
}

/* Decides the format of data[0..len) named `name` (see the top comment).
 * Returns SP_OK with *fmt, or SP_EINPUT for an old .xls. */
static int detect(const unsigned char *d, size_t len, const char *name,
                  sp_format *fmt, sp_err *err)
{
    if (len >= 4 && memcmp(d, "PK\x03\x04", 4) == 0) { *fmt = SP_FMT_XLSX; return SP_OK; }
    if (len >= 4 && memcmp(d, "\xD0\xCF\x11\xE0", 4) == 0)
        return sp_err_add(err, name, 0, NULL, NULL, 0, "old-xls",
                          "this is an old Excel .xls file: save it as .xlsx "
                          "(Excel Workbook) or as CSV UTF-8");
    size_t i = 0;
    if (len >= 3 && memcmp(d, "\xEF\xBB\xBF", 3) == 0) i = 3;
    while (i < len && (d[i] == ' ' || d[i] == '\t' || d[i] == '\r' || d[i] == '\n')) i++;
    int textual = ext_is(name, ".csv") || ext_is(name, ".tsv") || ext_is(name, ".txt");
    if (i < len && (d[i] == '[' || d[i] == '{') && !textual) { *fmt = SP_FMT_JSON; return SP_OK; }
    if (i < len) { *fmt = SP_FMT_CSV; return SP_OK; }
    if (ext_is(name, ".json")) *fmt = SP_FMT_JSON;
    else if (ext_is(name, ".xlsx")) *fmt = SP_FMT_XLSX;
    else *fmt = SP_FMT_CSV;
    return SP_OK;
}

static void reader_free(sp_reader *r)
{
    if (!r) return;
    if (r->ops && r->state) r->ops->close(r->state);
    if (r->has_file) sp_file_close(&r->file);
    free(r);
}

/* Detects (if asked) and opens the back end on r's bytes. */
static int open_backend(sp_reader *r, const void *data, size_t len,
                        const char *name, const sp_reader_opts *o, sp_err *err)
{
    sp_reader_opts def = {0};
    if (!o) o = &def;
    sp_format fmt = o->format;
    if (fmt == SP_FMT_AUTO) {
        int rc = detect(data, len, name, &fmt, err);
        if (rc != SP_OK) return rc;
    }
    r->format = fmt;
    switch (fmt) {
    case SP_FMT_CSV:
        return csv_open_mem(&r->state, &r->ops, data, len, name, o->delimiter, err);
    case SP_FMT_JSON:
        return json_open_mem(&r->state, &r->ops, data, len, name, err);
    case SP_FMT_XLSX:
        return xlsx_open_mem(&r->state, &r->ops, data, len, name, o->sheet, err);
    default:
        return sp_err_add(err, name, 0, NULL, NULL, 0, "bad-format",
                          "unknown input format %d", (int)fmt);
    }
}

int reader_open(sp_reader **out, const char *path, const sp_reader_opts *o,
                sp_err *err)
{
    *out = NULL;
    sp_reader *r = sp_xcalloc(1, sizeof *r);
    int rc = sp_file_open(&r->file, path, (size_t)SP_MAX_JSON, err);
    if (rc == SP_OK) {
        r->has_file = 1;
        rc = open_backend(r, r->file.data, r->file.len,
                          strcmp(path, "-") == 0 ? "stdin" : path, o, err);
    }
    if (rc != SP_OK) {
        reader_free(r);
        return rc;
    }
    *out = r;
    return SP_OK;
}

int reader_open_mem(sp_reader **out, const void *data, size_t len,
                    const char *name, const sp_reader_opts *o, sp_err *err)
{
    *out = NULL;
    sp_reader *r = sp_xcalloc(1, sizeof *r);
    int rc = open_backend(r, len ? data : "", len, name ? name : "input", o, err);
    if (rc != SP_OK) {
        reader_free(r);
        return rc;
    }
    *out = r;
    return SP_OK;
}

int reader_next(sp_reader *r, sp_row *row, sp_err *err)
{
    return r->ops->next(r->state, row, err);
}

void reader_progress(const sp_reader *r, uint64_t *done, uint64_t *total)
{
    r->ops->progress(r->state, done, total);
}

void reader_close(sp_reader *r)
{
    reader_free(r);
}

sp_format reader_format(const sp_reader *r)
{
    return r->format;
}

int reader_row_blank(const sp_row *row)
{
    for (size_t i = 0; i < row->ncells; i++) {
        const char *x = row->cell[i];
        if (sp_trim(&x, row->len[i]) > 0) return 0;
    }
    return 1;
}
