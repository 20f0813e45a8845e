/* fuzz_mapping.c -- mapping files are outside input too (a partner's own
 * file): load, translate, free. */
#include "mapping.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sp_mapping *m = NULL;
    sp_err err;
    sp_err_init(&err);
    int rc = mapping_load_mem(&m, (const char *)data, size, "fuzz.json", &err);
    if (rc == SP_OK) {
        for (size_t i = 0; i < m->nvalues; i++)
            (void)mapping_translate(m, m->values[i].field, "Male", 4);
        mapping_free(m);
    } else if (err.count == 0) {
        abort();   /* refused without saying why */
    }
    sp_err_free(&err);
    return 0;
}
