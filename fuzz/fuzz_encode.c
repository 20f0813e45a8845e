/* fuzz_encode.c -- spotlight encode on untrusted bytes: reader detection,
 * the header plan (clear columns, indicator columns, mappings), indicator
 * normalisation and hashing, person encoding. The first byte picks the
 * mapping (none, ctdc). Invariants: a refusal says why and leaves no
 * output; an accepted output encodes again to the same bytes (match keys
 * are kept, no clear column is left to drop, CSV quoting reads back). */
#include "encode.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static sp_gazetteer *gaz;
static sp_codebook *cb;
static const uint8_t key[ENCODE_KEY_BYTES] = {7, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14,
                                              15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26,
                                              27, 28, 29, 30, 31};

static void setup(void)
{
    sp_err err;
    sp_err_init(&err);
    if (gazetteer_load(&gaz, NULL, &err) || codebook_load_default(&cb, gaz, &err)) {
        sp_err_print(&err, stderr);
        abort();
    }
    sp_err_free(&err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const maps[] = {NULL, "ctdc"};
    if (!cb) setup();
    if (size < 1) return 0;
    encode_opts o = {maps[data[0] % 2], NULL, SP_FMT_AUTO};
    sp_buf out, again;
    sp_err err;
    sp_buf_init(&out, 1 << 24);
    sp_buf_init(&again, 1 << 24);
    sp_err_init(&err);
    int rc = encode_buffer(key, cb, data + 1, size - 1, "fuzz", &o, &out, &err);
    if (rc != SP_OK) {
        if (err.n == 0 && err.count == 0) abort();   /* a refusal says why */
        if (out.len != 0) abort();                   /* and writes nothing */
    } else {
        encode_opts o2 = {maps[data[0] % 2], NULL, SP_FMT_CSV};
        sp_err_clear(&err);
        int rc2 = encode_buffer(key, cb, out.data, out.len, "again", &o2, &again, &err);
        if (rc2 != SP_OK) {
            sp_err_print(&err, stderr);
            abort();
        }
        if (again.len != out.len || memcmp(again.data, out.data, out.len) != 0) abort();
    }
    sp_buf_free(&out);
    sp_buf_free(&again);
    sp_err_free(&err);
    return 0;
}
