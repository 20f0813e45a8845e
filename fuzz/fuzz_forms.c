/* fuzz_forms.c -- libFuzzer target for the portal's form parsers
 * (portal_form_urlencoded, portal_form_multipart). The first byte picks
 * the parser; for multipart the input is "CONTENT-TYPE\n BODY". Whatever
 * is accepted is checked for the invariants handlers rely on: at most
 * PORTAL_FIELDS_MAX fields, names non-empty, text values NUL-terminated
 * valid UTF-8 of the stated length, at most one file part, whose bytes lie
 * inside the input. */
#include "portal.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    const char *in = (const char *)data + 1;
    size_t n = size - 1;
    portal_form f = {0};
    const char *why = NULL;
    const char *body = in;
    size_t blen = n;
    int rc;
    if (data[0] & 1) {
        rc = portal_form_urlencoded(in, n, &f, &why);
    } else {
        const char *nl = memchr(in, '\n', n);
        size_t ctn = nl ? (size_t)(nl - in) : n;
        body = nl ? nl + 1 : in + n;
        blen = nl ? n - ctn - 1 : 0;
        rc = portal_form_multipart(in, ctn, body, blen, &f, &why);
    }
    if (rc != 0 && (!why || !*why)) abort();            /* a refusal says why */
    if (rc == 0) {
        int files = 0;
        if (f.n > PORTAL_FIELDS_MAX) abort();
        for (size_t i = 0; i < f.n; i++) {
            const portal_field *x = &f.f[i];
            if (!x->name || !x->name[0] || !x->value) abort();
            if (x->is_file) {
                files++;
                if (x->value < body || x->value + x->vlen > body + blen || !x->filename) abort();
            } else {
                if (x->value[x->vlen] != '\0' || strlen(x->value) != x->vlen) abort();
                if (!sp_utf8_valid(x->value, x->vlen)) abort();
            }
        }
        if (files > 1) abort();
        if (f.n && portal_form_get(&f, f.f[0].name) != &f.f[0]) abort();
    }
    portal_form_free(&f);
    return 0;
}
