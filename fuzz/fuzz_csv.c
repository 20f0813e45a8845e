/* fuzz_csv.c -- libFuzzer target for the CSV reader through the front door.
 * The first byte picks the delimiter mode (detect, ',', ';', TAB) so every
 * mode is explored; the rest is the file. Every row is read to the end and
 * each cell's length and terminator are checked. */
#include "reader.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char delims[4] = { 0, ',', ';', '\t' };
    if (size < 1) return 0;
    sp_reader_opts o = { .format = SP_FMT_CSV, .delimiter = delims[data[0] & 3] };
    sp_err err;
    sp_err_init(&err);
    sp_reader *r = NULL;
    if (reader_open_mem(&r, data + 1, size - 1, "fuzz.csv", &o, &err) == SP_OK) {
        sp_row row;
        long last = 0;
        int rc;
        while ((rc = reader_next(r, &row, &err)) == SP_OK) {
            if (row.row <= last || row.ncells > SP_MAX_COLS) abort();
            last = row.row;
            for (size_t i = 0; i < row.ncells; i++)
                if (row.len[i] > SP_MAX_CELL || row.cell[i][row.len[i]] != '\0' ||
                    !sp_utf8_valid(row.cell[i], row.len[i]))
                    abort();
        }
        if (rc != SP_EOF && err.n == 0) abort();   /* errors must say why */
        uint64_t done, total;
        reader_progress(r, &done, &total);
        if (done > total) abort();
        reader_close(r);
    }
    sp_err_free(&err);
    return 0;
}
