/* fuzz_links.c -- libFuzzer target for what the person-links pages and
 * the linking run read from outside: the decision address
 * (analyst_links_parse: "/analyst/links/A-B/confirm|reject", the whole
 * input is the path), the "A-B" pair itself (link_parse_pair), and a
 * stored person_clk / person_block (link_decode_clk, link_decode_block:
 * the input as a NUL-terminated string).
 * Invariants: parsing is deterministic; an accepted address has two
 * different ids in 1..2^53 and prints back to exactly the input (one
 * spelling per decision, so the audit log and the address agree); a
 * decoded clk has the popcount of its words and re-encodes to the input;
 * a decoded block prints back as its 16 hex digits (case folded). */
#include "analyst_links.h"
#include "link.h"
#include "pprl.h"

#include <ctype.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = (const char *)data;
    long long a = 0, b = 0, a2 = 0, b2 = 0;
    int c = -1, c2 = -1;
    int rc = analyst_links_parse(p, size, &a, &b, &c);
    int rc2 = analyst_links_parse(p, size, &a2, &b2, &c2);
    if (rc != rc2) abort();
    if (rc == 0) {
        char back[96];
        if (a != a2 || b != b2 || c != c2) abort();
        if (a < 1 || b < 1 || a == b || a > (1LL << 53) || b > (1LL << 53)) abort();
        int n = snprintf(back, sizeof back, "/analyst/links/%lld-%lld/%s", a, b,
                         c ? "confirm" : "reject");
        if (n < 0 || (size_t)n != size || memcmp(back, p, size) != 0) abort();
    } else if (rc != -1) {
        abort();
    }
    rc = link_parse_pair(p, size, &a, &b);
    if (rc == 0) {
        char back[64];
        if (a < 1 || b < 1 || a == b) abort();
        int n = snprintf(back, sizeof back, "%lld-%lld", a, b);
        if (n < 0 || (size_t)n != size || memcmp(back, p, size) != 0) abort();
    }
    /* the stored columns, as text */
    if (size > 4096) return 0;
    char *s = malloc(size + 1);
    if (!s) return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    uint64_t w[PPRL_WORDS];
    uint16_t pc = 0;
    if (link_decode_clk(s, w, &pc) == 0) {
        unsigned char raw[PPRL_BITS / 8];
        char b64[200];
        if (pc != pprl_popcount(w)) abort();
        for (int i = 0; i < PPRL_WORDS; i++)
            for (int k = 0; k < 8; k++) raw[i * 8 + k] = (unsigned char)(w[i] >> (8 * k));
        sodium_bin2base64(b64, sizeof b64, raw, sizeof raw, sodium_base64_VARIANT_ORIGINAL);
        if (strcmp(b64, s) != 0) abort();
    }
    uint64_t blk = 0;
    if (link_decode_block(s, &blk) == 0) {
        char hex[17];
        snprintf(hex, sizeof hex, "%016llx", (unsigned long long)blk);
        for (int i = 0; i < 16; i++)
            if (tolower((unsigned char)s[i]) != hex[i]) abort();
        if (s[16] != '\0') abort();
    }
    free(s);
    return 0;
}
