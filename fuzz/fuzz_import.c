/* fuzz_import.c -- the whole import path on untrusted bytes: reader
 * detection, header plan, per-cell codebook validation, cross-field rules,
 * mappings. A dry run against an in-memory hub, so nothing is written.
 * The first byte picks the mapping (none, ctdc, ctdc-synthetic). */
#include "import.h"

#include <stdint.h>
#include <stdlib.h>

static sp_gazetteer *gaz;
static sp_codebook *cb;
static sp_store *store;

static void setup(void)
{
    sp_err err;
    sp_err_init(&err);
    if (gazetteer_load(&gaz, NULL, &err) || codebook_load_default(&cb, gaz, &err) ||
        store_open(&store, ":memory:", cb, 1, &err)) {
        sp_err_print(&err, stderr);
        abort();
    }
    sp_err_free(&err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const maps[] = {NULL, "ctdc", "ctdc-synthetic"};
    if (!store) setup();
    if (size < 1) return 0;
    import_opts o = {0};
    o.org = "Fuzz";
    o.mapping = maps[data[0] % 3];
    o.dry_run = 1;
    import_result res;
    sp_err err;
    sp_err_init(&err);
    int rc = import_buffer(store, cb, data + 1, size - 1, "fuzz", &o, &res, &err);
    /* a refused input always says why */
    if (rc != SP_OK && err.n == 0 && err.count == 0) abort();
    if (rc == SP_OK && res.stored != 0) abort();   /* a dry run stores nothing */
    sp_err_free(&err);
    return 0;
}
