/* fuzz_xlsx.c -- libFuzzer target for the XLSX reader: the input bytes are
 * the zip. Opens it (first sheet), reads every row, touches every cell,
 * and lists the sheet names. Any crash, leak or sanitizer report is a bug;
 * errors are expected and fine. */
#include "reader.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sp_err err;
    sp_err_init(&err);
    void *st = NULL;
    const sp_reader_ops *ops = NULL;
    if (xlsx_open_mem(&st, &ops, data, size, "fuzz.xlsx", NULL, &err) == SP_OK) {
        sp_row row;
        volatile size_t sum = 0;
        while (ops->next(st, &row, &err) == SP_OK) {
            for (size_t i = 0; i < row.ncells; i++) {
                if (strlen(row.cell[i]) != row.len[i]) __builtin_trap();  /* len lies */
                sum += row.len[i];
            }
        }
        uint64_t done, total;
        ops->progress(st, &done, &total);
        ops->close(st);
    }
    char **names = NULL;
    size_t n = 0;
    if (xlsx_sheet_names(data, size, &names, &n, &err) == SP_OK) {
        for (size_t i = 0; i < n; i++) free(names[i]);
        free(names);
    }
    sp_err_free(&err);
    return 0;
}
