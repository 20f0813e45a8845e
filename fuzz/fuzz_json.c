/* fuzz_json.c -- libFuzzer target for the JSON reader through the front
 * door: open the buffer, read every row, close. */
#include "reader.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sp_reader_opts o = { .format = SP_FMT_JSON };
    sp_err err;
    sp_err_init(&err);
    sp_reader *r = NULL;
    int rc = reader_open_mem(&r, data, size, "fuzz.json", &o, &err);
    if (rc == SP_OK) {
        sp_row row;
        size_t ncols = 0;
        long n = 0;
        while ((rc = reader_next(r, &row, &err)) == SP_OK) {
            if (n == 0) ncols = row.ncells;
            if (row.ncells != ncols || row.row != n + 1) abort();
            n++;
            for (size_t i = 0; i < row.ncells; i++)
                if (row.len[i] > SP_MAX_CELL || strlen(row.cell[i]) != row.len[i])
                    abort();
        }
        if (rc != SP_EOF && err.n == 0) abort();
        reader_close(r);
    } else if (err.n == 0) {
        abort();
    }
    sp_err_free(&err);
    return 0;
}
