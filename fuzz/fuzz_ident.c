/* fuzz_ident.c -- libFuzzer target for ident_normalise.
 * Byte 0 picks the type, byte 1 the chain or platform and byte 2 the case's
 * country; the rest is the raw value. Invariants: the result is one of the
 * three codes; out is NUL-terminated inside its buffer; an invalid value has
 * a reason; a valid value's canonical form is valid again and unchanged
 * (normalising is idempotent); a small output buffer never overflows. */
#include "ident.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const char *const types[] = {"iban", "bank_account", "crypto_wallet", "phone", "email",
                                    "social_handle", "website", "company", "compound", "nope"};
static const char *const extra[] = {NULL, "", "bitcoin", "ethereum", "tron", "bsc", "other",
                                    "facebook", "telegram", "whatsapp", "tiktok", "line",
                                    "wechat", "zalo", "instagram"};
static const char *const countries[] = {NULL, "KH", "TH", "MM", "LA", "VN", "IT", "US", "RU",
                                        "HU", "XX", "k"};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 3)
        return 0;
    const char *type = types[data[0] % (sizeof types / sizeof types[0])];
    const char *cp = extra[data[1] % (sizeof extra / sizeof extra[0])];
    const char *cc = countries[data[2] % (sizeof countries / sizeof countries[0])];
    const char *raw = (const char *)data + 3;
    size_t n = size - 3;

    char out[1200], again[1200];
    const char *why = NULL;
    int rc = ident_normalise(type, cp, cc, raw, n, out, sizeof out, &why);
    if (rc != IDENT_VALID && rc != IDENT_INVALID && rc != IDENT_UNKNOWN_TYPE)
        abort();
    if (!memchr(out, '\0', sizeof out))
        abort();
    if (rc == IDENT_INVALID && (!why || !*why))
        abort();
    if (rc == IDENT_VALID) {
        const char *why2 = NULL;
        int rc2 = ident_normalise(type, cp, cc, out, strlen(out), again, sizeof again, &why2);
        if (rc2 != IDENT_VALID || strcmp(out, again) != 0)
            abort();
    }
    char small[6];
    memset(small, 'Z', sizeof small);
    rc = ident_normalise(type, cp, cc, raw, n, small, sizeof small, &why);
    if (!memchr(small, '\0', sizeof small))
        abort();
    return 0;
}
