/* fuzz_form_pairs.c -- libFuzzer target for portal_form_pairs, the case
 * form's urlencoded parser (up to CASEFORM_MAX_PAIRS pairs). The first
 * byte sets the pair cap (1..256, so the cap is hit often). Invariants:
 * a refusal says why (-2 only for too many pairs); accepted pairs are at
 * most the cap, keys non-empty, keys and values NUL-terminated valid
 * UTF-8 of their stated length with no NUL inside; decoding never makes a
 * text longer than its encoded form; the same input parses the same way
 * twice (the struct is reused, as handlers do). */
#include "portal.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const portal_pairs *pp, size_t cap, size_t n)
{
    if (pp->n > cap) abort();
    size_t total = 0;
    for (size_t i = 0; i < pp->n; i++) {
        const http_param *x = &pp->p[i];
        if (!x->key || !x->value || x->klen == 0) abort();
        if (x->key[x->klen] != '\0' || strlen(x->key) != x->klen) abort();
        if (x->value[x->vlen] != '\0' || strlen(x->value) != x->vlen) abort();
        if (!sp_utf8_valid(x->key, x->klen) || !sp_utf8_valid(x->value, x->vlen)) abort();
        total += x->klen + x->vlen;
    }
    if (total > n) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    size_t cap = (size_t)data[0] + 1;
    const char *in = (const char *)data + 1;
    size_t n = size - 1;
    portal_pairs pp = {0};
    const char *why = NULL;
    int rc = portal_form_pairs(in, n, cap, &pp, &why);
    if (rc != 0 && (!why || !*why)) abort();
    if (rc != 0 && rc != -1 && rc != -2) abort();
    if (rc == 0) check(&pp, cap, n);
    size_t first = pp.n;
    const char *why2 = NULL;
    int rc2 = portal_form_pairs(in, n, cap, &pp, &why2);
    if (rc2 != rc || (rc == 0 && pp.n != first)) abort();
    if (rc == -2 && portal_form_pairs(in, n, cap + 100000, &pp, &why2) == -2) abort();
    portal_pairs_free(&pp);
    return 0;
}
