/* fuzz_person.c -- libFuzzer target for person_encode's five input fields.
 * The input is split at NUL bytes into given, family, birth date, sex and
 * nationality (missing ones are ""). Invariants: the result is SP_OK,
 * SP_EINPUT or SP_ELIMIT; a refusal names one of the five input columns and
 * leaves the encoding, popcount and block zero; an accepted person's
 * popcount is the real one, a non-empty encoding has a block key, and
 * encoding is deterministic; name folding is idempotent. */
#include "person.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const uint8_t KEY[32] = "fuzz key, fuzz key, fuzz key 32";
static const char *const COLS[] = {"given_name", "family_name", "birth_date", "sex", "nationality"};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *buf = malloc(size + 1);
    if (!buf) return 0;
    memcpy(buf, data, size);
    buf[size] = '\0';
    const char *f[5] = {"", "", "", "", ""};
    size_t nf = 0;
    for (size_t i = 0, start = 0; i <= size && nf < 5; i++) {
        if (i == size || buf[i] == '\0') {
            f[nf++] = buf + start;
            start = i + 1;
        }
    }
    person_in in = {f[0], f[1], f[2], f[3], f[4]};
    uint64_t clk[PPRL_WORDS], clk2[PPRL_WORDS], blk, blk2;
    uint16_t pc, pc2;
    sp_err e;
    sp_err_init(&e);
    int rc = person_encode(KEY, &in, clk, &pc, &blk, &e);
    if (rc != SP_OK && rc != SP_EINPUT && rc != SP_ELIMIT) abort();
    if (rc != SP_OK) {
        if (e.n == 0 || !e.items[0].column || !e.items[0].message[0]) abort();
        int known = 0;
        for (size_t i = 0; i < 5; i++) known |= strcmp(e.items[0].column, COLS[i]) == 0;
        if (!known || pc != 0 || blk != 0 || pprl_popcount(clk) != 0) abort();
    } else {
        if (e.n != 0 || pprl_popcount(clk) != pc) abort();
        if (pc > 0 && blk == 0) abort();
        if (person_encode(KEY, &in, clk2, &pc2, &blk2, &e) != SP_OK) abort();
        if (memcmp(clk, clk2, sizeof clk) || pc != pc2 || blk != blk2) abort();
    }
    /* folding twice changes nothing */
    char n1[PERSON_NORM_CAP], n2[PERSON_NORM_CAP];
    sp_err_clear(&e);
    if (person_norm_name(f[0], "given_name", n1, &e) == SP_OK) {
        if (strlen(n1) > PPRL_MAX_VALUE) abort();
        if (person_norm_name(n1, "given_name", n2, &e) != SP_OK || strcmp(n1, n2) != 0) abort();
    }
    sp_err_free(&e);
    free(buf);
    return 0;
}
