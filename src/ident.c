/* ident.c -- normalise and check investigative identifiers (see ident.h and
 * docs/identifiers.md). Every routine works on a bounded copy of the input
 * (IDENT_MAX_INPUT) in fixed local buffers sized from that cap, and writes
 * its result through a capped writer into the caller's buffer. */
#include "ident.h"
#include "keccak.h"
#include "embed.h"

#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unicase.h>
#include <uninorm.h>
#include <unistr.h>
#include <stdlib.h>
#include <stdarg.h>

/* Reasons with numbers in them are formatted here; *why points at it. */
static _Thread_local char why_buf[160];

/* ---- small helpers */

/* The caller's buffer with a cap; `over` records that something did not fit. */
typedef struct {
    char *p;
    size_t cap, len;
    int over;
} wr;

static void wr_init(wr *w, char *p, size_t cap)
{
    w->p = p;
    w->cap = cap;
    w->len = 0;
    w->over = 0;
    if (cap)
        p[0] = '\0';
}

static void wr_add(wr *w, const char *s, size_t n)
{
    if (!w->cap) {
        w->over = 1;
        return;
    }
    for (size_t i = 0; i < n; i++) {
        if (w->len + 1 >= w->cap) {
            w->over = 1;
            break;
        }
        w->p[w->len++] = s[i];
    }
    w->p[w->len] = '\0';
}

static void wr_adds(wr *w, const char *s)
{
    wr_add(w, s, strlen(s));
}

static int is_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}
static int is_digit(unsigned char c) { return c >= '0' && c <= '9'; }
static int is_lower(unsigned char c) { return c >= 'a' && c <= 'z'; }
static int is_upper(unsigned char c) { return c >= 'A' && c <= 'Z'; }
static int is_alpha(unsigned char c) { return is_lower(c) || is_upper(c); }
static int is_alnum(unsigned char c) { return is_alpha(c) || is_digit(c); }
static char to_lower(char c) { return is_upper((unsigned char)c) ? (char)(c + 32) : c; }
static char to_upper(char c) { return is_lower((unsigned char)c) ? (char)(c - 32) : c; }

/* Trims ASCII whitespace and a UTF-8 BOM or no-break space at either end. */
static void trim(const char **s, size_t *n)
{
    const unsigned char *p = (const unsigned char *)*s;
    size_t a = 0, b = *n;
    for (;;) {
        if (a < b && is_space(p[a]))
            a++;
        else if (b - a >= 3 && p[a] == 0xEF && p[a + 1] == 0xBB && p[a + 2] == 0xBF)
            a += 3;
        else if (b - a >= 2 && p[a] == 0xC2 && p[a + 1] == 0xA0)
            a += 2;
        else
            break;
    }
    for (;;) {
        if (b > a && is_space(p[b - 1]))
            b--;
        else if (b - a >= 2 && p[b - 2] == 0xC2 && p[b - 1] == 0xA0)
            b -= 2;
        else
            break;
    }
    *s = (const char *)p + a;
    *n = b - a;
}

/* Whether s holds a no-break space or a BOM, which trim() would eat at
 * either end (a value holding one is refused where spaces are). */
static int has_trimmable(const char *s, size_t n)
{
    for (size_t i = 0; i + 1 < n; i++) {
        if ((unsigned char)s[i] == 0xC2 && (unsigned char)s[i + 1] == 0xA0)
            return 1;
        if (i + 2 < n && (unsigned char)s[i] == 0xEF && (unsigned char)s[i + 1] == 0xBB &&
            (unsigned char)s[i + 2] == 0xBF)
            return 1;
    }
    return 0;
}

static int has_prefix_ci(const char *s, size_t n, const char *pre)
{
    size_t k = strlen(pre);
    if (n < k)
        return 0;
    for (size_t i = 0; i < k; i++)
        if (to_lower(s[i]) != pre[i])
            return 0;
    return 1;
}

static int streq(const char *a, const char *b)
{
    return a && b && strcmp(a, b) == 0;
}

/* Result helper: sets *why and returns IDENT_INVALID. */
static int bad(const char **why, const char *reason)
{
    *why = reason;
    return IDENT_INVALID;
}

static int badf(const char **why, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static int badf(const char **why, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why_buf, sizeof why_buf, fmt, ap);
    va_end(ap);
    *why = why_buf;
    return IDENT_INVALID;
}

/* ---- calling codes (embedded codebook/calling_codes.tsv) */

int ident_calling_code(const char *alpha2, char code[8], char trunk[8])
{
    code[0] = trunk[0] = '\0';
    if (!alpha2 || strlen(alpha2) != 2)
        return 0;
    char a0 = to_upper(alpha2[0]), a1 = to_upper(alpha2[1]);
    size_t len = 0;
    const char *t = embed_get("codebook/calling_codes.tsv", &len);
    if (!t)
        return 0;
    const char *end = t + len;
    for (const char *line = t; line < end;) {
        const char *nl = memchr(line, '\n', (size_t)(end - line));
        const char *le = nl ? nl : end;
        if (le - line >= 5 && line[0] == a0 && line[1] == a1 && line[2] == '\t') {
            const char *c = line + 3;
            const char *tab = memchr(c, '\t', (size_t)(le - c));
            const char *ce = tab ? tab : le;
            if (ce - c < 1 || ce - c > 7)
                return 0;
            memcpy(code, c, (size_t)(ce - c));
            code[ce - c] = '\0';
            if (tab) {
                const char *k = tab + 1;
                size_t kn = (size_t)(le - k);
                while (kn && (k[kn - 1] == '\r' || k[kn - 1] == ' '))
                    kn--;
                if (kn && kn < 8 && !(kn == 1 && k[0] == '-')) {
                    memcpy(trunk, k, kn);
                    trunk[kn] = '\0';
                }
            }
            return 1;
        }
        line = le + 1;
    }
    return 0;
}

/* Whether digits d start with some assigned country calling code: one from
 * the table, or a non-geographic one (ITU-T E.164 global services). */
static int known_calling_prefix(const char *d)
{
    static const char *const global[] = {"800", "808", "870", "878", "881",
                                         "882", "883", "888", "979"};
    for (size_t i = 0; i < sizeof global / sizeof global[0]; i++)
        if (strncmp(d, global[i], 3) == 0)
            return 1;
    size_t len = 0;
    const char *t = embed_get("codebook/calling_codes.tsv", &len);
    if (!t)
        return 1;  /* no table: cannot tell, do not refuse */
    const char *end = t + len;
    for (const char *line = t; line < end;) {
        const char *nl = memchr(line, '\n', (size_t)(end - line));
        const char *le = nl ? nl : end;
        if (le - line >= 5 && is_upper((unsigned char)line[0]) && line[2] == '\t') {
            const char *c = line + 3;
            size_t k = 0;
            while (c + k < le && is_digit((unsigned char)c[k]))
                k++;
            if (k && strncmp(d, c, k) == 0)
                return 1;
        }
        line = le + 1;
    }
    return 0;
}

/* ---- IBAN (ISO 13616) */

/* Lengths from the SWIFT IBAN registry. Checked on 2026-12-03 against the
 * registry as python-stdnum 1.18 (Debian) carries it: its 82 countries all
 * agree; FK, MN, NI, OM and SO joined the registry after that release. */
static const struct { char cc[3]; unsigned char len; } iban_len[] = {
    {"AD", 24}, {"AE", 23}, {"AL", 28}, {"AT", 20}, {"AZ", 28}, {"BA", 20},
    {"BE", 16}, {"BG", 22}, {"BH", 22}, {"BI", 27}, {"BR", 29}, {"BY", 28},
    {"CH", 21}, {"CR", 22}, {"CY", 28}, {"CZ", 24}, {"DE", 22}, {"DJ", 27},
    {"DK", 18}, {"DO", 28}, {"EE", 20}, {"EG", 29}, {"ES", 24}, {"FI", 18},
    {"FK", 18}, {"FO", 18}, {"FR", 27}, {"GB", 22}, {"GE", 22}, {"GI", 23},
    {"GL", 18}, {"GR", 27}, {"GT", 28}, {"HR", 21}, {"HU", 28}, {"IE", 22},
    {"IL", 23}, {"IQ", 23}, {"IS", 26}, {"IT", 27}, {"JO", 30}, {"KW", 30},
    {"KZ", 20}, {"LB", 28}, {"LC", 32}, {"LI", 21}, {"LT", 20}, {"LU", 20},
    {"LV", 21}, {"LY", 25}, {"MC", 27}, {"MD", 24}, {"ME", 22}, {"MK", 19},
    {"MN", 20}, {"MR", 27}, {"MT", 31}, {"MU", 30}, {"NI", 28}, {"NL", 18},
    {"NO", 15}, {"OM", 23}, {"PK", 24}, {"PL", 28}, {"PS", 29}, {"PT", 25},
    {"QA", 29}, {"RO", 24}, {"RS", 22}, {"RU", 33}, {"SA", 24}, {"SC", 31},
    {"SD", 18}, {"SE", 24}, {"SI", 19}, {"SK", 24}, {"SM", 27}, {"SO", 23},
    {"ST", 25}, {"SV", 28}, {"TL", 23}, {"TN", 24}, {"TR", 26}, {"UA", 29},
    {"VA", 22}, {"VG", 24}, {"XK", 20},
};

static int norm_iban(const char *s, size_t n, wr *w, const char **why)
{
    char v[40] = {0};
    size_t k = 0;
    if (has_prefix_ci(s, n, "iban")) {
        s += 4;
        n -= 4;
        while (n && (is_space((unsigned char)*s) || *s == ':')) {
            s++;
            n--;
        }
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (is_space(c) || c == '-' || c == '.')
            continue;
        if (!is_alnum(c)) {
            wr_add(w, v, k);
            return bad(why, "an IBAN has only letters and digits");
        }
        if (k >= 34) {
            wr_add(w, v, k);
            return bad(why, "longer than 34 characters, the longest an IBAN can be");
        }
        v[k++] = to_upper((char)c);
    }
    wr_add(w, v, k);
    if (k < 5)
        return bad(why, "too short for an IBAN");
    if (!is_upper((unsigned char)v[0]) || !is_upper((unsigned char)v[1]))
        return bad(why, "an IBAN starts with a two-letter country code");
    if (!is_digit((unsigned char)v[2]) || !is_digit((unsigned char)v[3]))
        return bad(why, "an IBAN's third and fourth characters are check digits");
    int want = 0;
    for (size_t i = 0; i < sizeof iban_len / sizeof iban_len[0]; i++)
        if (iban_len[i].cc[0] == v[0] && iban_len[i].cc[1] == v[1])
            want = iban_len[i].len;
    if (!want)
        return badf(why, "%c%c is not a country in the IBAN registry", v[0], v[1]);
    if ((int)k != want)
        return badf(why, "%c%c IBANs have %d characters, this has %zu", v[0], v[1], want, k);
    unsigned rem = 0;
    for (size_t j = 0; j < k; j++) {
        char c = v[(j + 4) % k];
        if (is_digit((unsigned char)c))
            rem = (rem * 10 + (unsigned)(c - '0')) % 97;
        else
            rem = (rem * 100 + (unsigned)(c - 'A' + 10)) % 97;
    }
    if (rem != 1)
        return bad(why, "IBAN checksum (MOD 97-10) fails");
    return IDENT_VALID;
}

/* ---- bank account: letters and digits, separators dropped */

static int norm_bank(const char *s, size_t n, wr *w, const char **why)
{
    char v[IDENT_MAX_INPUT] = {0};
    size_t k = 0;
    int badc = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (is_space(c) || c == '-' || c == '.' || c == '/')
            continue;
        if (!is_alnum(c)) {
            badc = 1;
            continue;
        }
        v[k++] = to_upper((char)c);
    }
    wr_add(w, v, k);
    if (badc)
        return bad(why, "a bank account number has only letters and digits (spaces, dashes, dots and slashes are dropped)");
    if (k < 6 || k > 34)
        return badf(why, "a bank account number has 6 to 34 letters and digits, this has %zu", k);
    return IDENT_VALID;
}

/* ---- phone numbers to E.164 */

static int norm_phone(const char *s, size_t n, const char *country, wr *w,
                      const char **why)
{
    char d[IDENT_MAX_INPUT + 1] = {0};
    size_t k = 0;
    int plus = 0, letters = 0, other = 0;
    if (has_prefix_ci(s, n, "tel:")) {
        s += 4;
        n -= 4;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (is_digit(c))
            d[k++] = (char)c;
        else if (c == '+' && k == 0 && !plus)
            plus = 1;
        else if (is_space(c) || c == '-' || c == '.' || c == '(' || c == ')' || c == '/')
            continue;
        else if (is_alpha(c))
            letters = 1;
        else
            other = 1;
    }
    d[k] = '\0';
    const char *digits = d;
    if (!plus && k >= 2 && d[0] == '0' && d[1] == '0') {
        plus = 1;
        digits += 2;
    }
    char num[IDENT_MAX_INPUT + 16] = {0};
    char code[8], trunk[8];
    if (plus) {
        snprintf(num, sizeof num, "%s", digits);
    } else if (country && *country && ident_calling_code(country, code, trunk)) {
        const char *nat = digits;
        size_t tl = strlen(trunk), cl = strlen(code);
        if (tl && strncmp(nat, trunk, tl) != 0 && strncmp(nat, code, cl) == 0 &&
            strlen(nat) >= cl + 7)
            nat += cl;  /* "855 12 345 678": the code written without its + */
        else if (tl && strncmp(nat, trunk, tl) == 0)
            nat += tl;
        else if (!tl && nat[0] == '0' && strcmp(code, "39") != 0 && strcmp(code, "378") != 0)
            nat += 1;  /* a stray trunk 0 where none is dialled (Italy keeps its 0) */
        snprintf(num, sizeof num, "%s%s", code, nat);
    } else {
        snprintf(num, sizeof num, "%s", digits);
        wr_adds(w, num);
        if (letters)
            return bad(why, "a phone number has no letters");
        if (country && *country)
            return badf(why, "no + prefix and %.2s is not a country with a known calling code", country);
        return bad(why, "no + prefix and no country for the case to supply the calling code");
    }
    wr_adds(w, "+");
    wr_adds(w, num);
    if (letters)
        return bad(why, "a phone number has no letters");
    if (other)
        return bad(why, "a phone number has only digits, a leading +, spaces, dashes, dots and parentheses");
    size_t len = strlen(num);
    if (len < 8 || len > 15)
        return badf(why, "an E.164 number has 8 to 15 digits with its country code, this has %zu", len);
    if (num[0] == '0')
        return bad(why, "no country calling code starts with 0");
    if (!known_calling_prefix(num))
        return bad(why, "does not start with an assigned country calling code");
    return IDENT_VALID;
}

/* ---- Base58Check (Bitcoin P2PKH/P2SH, TRON) */

static const char b58_alpha[] = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

/* Decodes s[0..n) (n <= 64) into out; returns the byte count or -1 on a
 * character outside the alphabet or an overflowing value. */
static int b58_decode(const char *s, size_t n, uint8_t *out, size_t outcap)
{
    uint8_t buf[64] = {0};
    size_t blen = 0;  /* big-endian number in buf[64-blen..64) */
    if (n > 64 || outcap < 64)
        return -1;
    size_t zeros = 0;
    while (zeros < n && s[zeros] == '1')
        zeros++;
    memset(buf, 0, sizeof buf);
    for (size_t i = 0; i < n; i++) {
        const char *p = s[i] ? strchr(b58_alpha, s[i]) : NULL;
        if (!p)
            return -1;
        unsigned carry = (unsigned)(p - b58_alpha);
        for (size_t j = 0; j < sizeof buf; j++) {
            size_t idx = sizeof buf - 1 - j;
            if (j >= blen && !carry)
                break;
            carry += 58u * buf[idx];
            buf[idx] = (uint8_t)(carry & 0xff);
            carry >>= 8;
            if (j + 1 > blen)
                blen = j + 1;
        }
        if (carry)
            return -1;
    }
    size_t skip = sizeof buf - blen;
    while (skip < sizeof buf && buf[skip] == 0)
        skip++;
    size_t len = zeros + (sizeof buf - skip);
    if (len > outcap)
        return -1;
    memset(out, 0, zeros);
    memcpy(out + zeros, buf + skip, sizeof buf - skip);
    return (int)len;
}

/* Decodes a Base58Check string into 25 bytes (version + 20 + checksum) and
 * checks the double SHA-256 checksum. Returns 0, or sets *why. */
static int b58check25(const char *s, size_t n, uint8_t out[25], const char **why)
{
    uint8_t raw[64] = {0};
    int len = b58_decode(s, n, raw, sizeof raw);
    if (len < 0) {
        *why = "not Base58 (0, O, I and l are not in its alphabet)";
        return -1;
    }
    if (len != 25) {
        badf(why, "Base58Check payload has %d bytes, an address has 25", len);
        return -1;
    }
    uint8_t h1[crypto_hash_sha256_BYTES], h2[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(h1, raw, 21);
    crypto_hash_sha256(h2, h1, sizeof h1);
    if (memcmp(h2, raw + 21, 4) != 0) {
        *why = "Base58Check checksum mismatch";
        return -1;
    }
    memcpy(out, raw, 25);
    return 0;
}

/* ---- Bech32 / Bech32m (BIP-173, BIP-350) */

static uint32_t bech32_polymod_step(uint32_t pre)
{
    uint8_t b = (uint8_t)(pre >> 25);
    return ((pre & 0x1FFFFFF) << 5) ^
           (-((b >> 0) & 1) & 0x3b6a57b2UL) ^ (-((b >> 1) & 1) & 0x26508e6dUL) ^
           (-((b >> 2) & 1) & 0x1ea119faUL) ^ (-((b >> 3) & 1) & 0x3d4233ddUL) ^
           (-((b >> 4) & 1) & 0x2a1462b3UL);
}

static const char b32_charset[] = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";

/* Checks a lower-cased segwit address v[0..n); returns 0 or sets *why. */
static int segwit_check(const char *v, size_t n, const char **why)
{
    if (n > 90) {
        *why = "a Bech32 address has at most 90 characters";
        return -1;
    }
    size_t sep = 0;
    for (size_t i = 0; i < n; i++)
        if (v[i] == '1')
            sep = i;
    if (sep < 1 || sep + 7 > n) {
        *why = "not a Bech32 address: no separator '1' before a data part of 6 or more characters";
        return -1;
    }
    if (sep != 2 || v[0] != 'b' || v[1] != 'c') {
        *why = "not a Bitcoin mainnet address: the human-readable part must be \"bc\"";
        return -1;
    }
    uint8_t data[90] = {0};
    size_t dn = 0;
    uint32_t chk = 1;
    for (size_t i = 0; i < sep; i++)
        chk = bech32_polymod_step(chk) ^ ((unsigned char)v[i] >> 5);
    chk = bech32_polymod_step(chk);
    for (size_t i = 0; i < sep; i++)
        chk = bech32_polymod_step(chk) ^ ((unsigned char)v[i] & 0x1f);
    for (size_t i = sep + 1; i < n; i++) {
        const char *p = v[i] ? strchr(b32_charset, v[i]) : NULL;
        if (!p) {
            badf(why, "'%c' is not in the Bech32 alphabet", v[i]);
            return -1;
        }
        data[dn] = (uint8_t)(p - b32_charset);
        chk = bech32_polymod_step(chk) ^ data[dn];
        dn++;
    }
    int m;
    if (chk == 1)
        m = 0;
    else if (chk == 0x2bc830a3)
        m = 1;
    else {
        *why = "Bech32/Bech32m checksum mismatch";
        return -1;
    }
    dn -= 6;
    if (dn < 1) {
        *why = "a segwit address has a witness version";
        return -1;
    }
    unsigned ver = data[0];
    if (ver > 16) {
        *why = "witness version above 16";
        return -1;
    }
    uint8_t prog[64] = {0};
    size_t pn = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 1; i < dn; i++) {
        acc = (acc << 5) | data[i];
        bits += 5;
        while (bits >= 8) {
            bits -= 8;
            if (pn >= sizeof prog) {
                *why = "witness program longer than 40 bytes";
                return -1;
            }
            prog[pn++] = (uint8_t)(acc >> bits);
        }
    }
    if (bits >= 5 || (acc & ((1u << bits) - 1u))) {
        *why = "bad padding in the witness program";
        return -1;
    }
    if (pn < 2 || pn > 40) {
        badf(why, "a witness program has 2 to 40 bytes, this has %zu", pn);
        return -1;
    }
    if (ver == 0 && pn != 20 && pn != 32) {
        badf(why, "a version 0 witness program has 20 or 32 bytes, this has %zu", pn);
        return -1;
    }
    if (ver == 0 && m != 0) {
        *why = "a segwit version 0 address uses Bech32 (BIP-173), not Bech32m";
        return -1;
    }
    if (ver != 0 && m != 1) {
        *why = "a segwit version 1+ address uses Bech32m (BIP-350), not Bech32";
        return -1;
    }
    return 0;
}

static int no_space_ascii(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c <= ' ' || c >= 0x7f)
            return 0;
    }
    return 1;
}

static int norm_bitcoin(const char *s, size_t n, wr *w, const char **why)
{
    if (has_prefix_ci(s, n, "bitcoin:")) {
        s += 8;
        n -= 8;
        const char *q = memchr(s, '?', n);
        if (q)
            n = (size_t)(q - s);
    }
    if (has_prefix_ci(s, n, "bc1") || has_prefix_ci(s, n, "tb1")) {
        char v[96] = {0};
        size_t k = n < sizeof v - 1 ? n : sizeof v - 1;
        int lo = 0, up = 0;
        for (size_t i = 0; i < k; i++) {
            lo |= is_lower((unsigned char)s[i]);
            up |= is_upper((unsigned char)s[i]);
            v[i] = to_lower(s[i]);
        }
        v[k] = '\0';
        wr_add(w, v, k);
        if (!no_space_ascii(s, n))
            return bad(why, "an address has no spaces or non-ASCII characters");
        if (lo && up)
            return bad(why, "a Bech32 address is all lower-case or all upper-case, not mixed");
        if (segwit_check(v, n, why) != 0)
            return IDENT_INVALID;
        return IDENT_VALID;
    }
    wr_add(w, s, n);
    if (!no_space_ascii(s, n))
        return bad(why, "an address has no spaces or non-ASCII characters");
    if (n < 25 || n > 35)
        return badf(why, "a Base58Check Bitcoin address has 25 to 35 characters, this has %zu", n);
    uint8_t raw[25] = {0};
    if (b58check25(s, n, raw, why) != 0)
        return IDENT_INVALID;
    if (raw[0] != 0x00 && raw[0] != 0x05)
        return badf(why, "version byte 0x%02x is neither P2PKH (0x00) nor P2SH (0x05) mainnet", raw[0]);
    return IDENT_VALID;
}

static int norm_tron(const char *s, size_t n, wr *w, const char **why)
{
    wr_add(w, s, n);
    if (!no_space_ascii(s, n))
        return bad(why, "an address has no spaces or non-ASCII characters");
    const char *shape = "not a TRON address: must start with T and decode to 0x41 + 20 bytes";
    if (n != 34 || s[0] != 'T')
        return bad(why, shape);
    uint8_t raw[25] = {0};
    if (b58check25(s, n, raw, why) != 0)
        return IDENT_INVALID;
    if (raw[0] != 0x41)
        return bad(why, shape);
    return IDENT_VALID;
}

/* Ethereum and BSC share the address format. */
static int norm_evm(const char *s, size_t n, wr *w, const char **why)
{
    if (n >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        s += 2;
        n -= 2;
    }
    char lo[41] = {0};
    size_t k = n < 40 ? n : 40;
    int up = 0, low = 0, nonhex = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (is_upper(c))
            up = 1;
        if (is_lower(c))
            low = 1;
        if (!is_digit(c) && !((c | 0x20) >= 'a' && (c | 0x20) <= 'f'))
            nonhex = 1;
    }
    for (size_t i = 0; i < k; i++)
        lo[i] = to_lower(s[i]);
    lo[k] = '\0';
    wr_adds(w, "0x");
    wr_add(w, lo, k);
    if (nonhex)
        return bad(why, "an Ethereum address is 0x and 40 hexadecimal digits");
    if (n != 40)
        return badf(why, "an Ethereum address has 40 hexadecimal digits, this has %zu", n);
    if (up && low) {
        uint8_t h[32] = {0};
        keccak256(lo, 40, h);
        for (size_t i = 0; i < 40; i++) {
            if (!is_alpha((unsigned char)s[i]))
                continue;
            int nib = (h[i / 2] >> (i % 2 ? 0 : 4)) & 0xf;
            if ((nib >= 8) != (is_upper((unsigned char)s[i]) != 0))
                return bad(why, "EIP-55 mixed-case checksum mismatch");
        }
    }
    return IDENT_VALID;
}

static int norm_wallet(const char *chain, const char *s, size_t n, wr *w,
                       const char **why)
{
    if (streq(chain, "bitcoin"))
        return norm_bitcoin(s, n, w, why);
    if (streq(chain, "ethereum") || streq(chain, "bsc"))
        return norm_evm(s, n, w, why);
    if (streq(chain, "tron"))
        return norm_tron(s, n, w, why);
    /* Chain unknown or "other": recognise the shape when it is unambiguous. */
    if (n == 42 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
        return norm_evm(s, n, w, why);
    if (n == 34 && s[0] == 'T')
        return norm_tron(s, n, w, why);
    if (has_prefix_ci(s, n, "bc1") || (n >= 25 && n <= 35 && (s[0] == '1' || s[0] == '3')))
        return norm_bitcoin(s, n, w, why);
    wr_add(w, s, n);
    if (!no_space_ascii(s, n))
        return bad(why, "a wallet address has no spaces or non-ASCII characters");
    if (n < 20 || n > 128)
        return badf(why, "a wallet address has 20 to 128 characters, this has %zu", n);
    *why = "chain unknown: kept as given, not checked";
    return IDENT_VALID;
}

/* ---- email */

static int norm_email(const char *s, size_t n, wr *w, const char **why)
{
    if (has_prefix_ci(s, n, "mailto:")) {
        s += 7;
        n -= 7;
    }
    char v[IDENT_MAX_INPUT] = {0};
    size_t at = n, ats = 0;
    int sp = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        v[i] = to_lower((char)c);
        if (c == '@') {
            at = i;
            ats++;
        }
        if (c <= ' ' || c == 0x7f)
            sp = 1;
    }
    sp |= has_trimmable(s, n);
    wr_add(w, v, n);
    if (sp)
        return bad(why, "an email address has no spaces or control characters");
    if (ats != 1)
        return bad(why, "an email address has exactly one @");
    if (n > 254)
        return bad(why, "an email address has at most 254 characters");
    if (at == 0 || at > 64)
        return bad(why, "the part before the @ has 1 to 64 characters");
    for (size_t i = 0; i < at; i++) {
        unsigned char c = (unsigned char)v[i];
        if (c < 0x80 && !is_alnum(c) && !strchr(".!#$%&'*+-/=?^_`{|}~", c))
            return badf(why, "'%c' cannot be in the part before the @ (unquoted)", c);
    }
    if (v[0] == '.' || v[at - 1] == '.')
        return bad(why, "the part before the @ cannot start or end with a dot");
    const char *d = v + at + 1;
    size_t dn = n - at - 1;
    if (dn < 3 || !memchr(d, '.', dn))
        return bad(why, "the domain after the @ has a dot");
    if (d[0] == '.' || d[dn - 1] == '.' || d[0] == '-')
        return bad(why, "the domain cannot start or end with a dot");
    for (size_t i = 0; i + 1 < dn; i++)
        if (d[i] == '.' && d[i + 1] == '.')
            return bad(why, "the domain has an empty label (two dots)");
    for (size_t i = 0; i < dn; i++) {
        unsigned char c = (unsigned char)d[i];
        if (c < 0x80 && !is_alnum(c) && c != '-' && c != '.')
            return badf(why, "'%c' cannot be in a domain", c);
    }
    return IDENT_VALID;
}

/* ---- website: the host */

/* Checks a lower-cased host; returns 0 or sets *why. */
static int host_check(const char *h, size_t n, const char **why)
{
    if (n == 0) {
        *why = "no host name";
        return -1;
    }
    if (n > 253) {
        *why = "a host name has at most 253 characters";
        return -1;
    }
    size_t labels = 0, start = 0;
    int all_num = 1, last_num = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i < n && h[i] != '.')
            continue;
        size_t ll = i - start;
        if (ll == 0 || ll > 63) {
            *why = "a domain label has 1 to 63 characters";
            return -1;
        }
        if (h[start] == '-' || h[i - 1] == '-') {
            *why = "a domain label cannot start or end with a dash";
            return -1;
        }
        int num = 1;
        for (size_t j = start; j < i; j++) {
            unsigned char c = (unsigned char)h[j];
            if (c < 0x80 && !is_alnum(c) && c != '-') {
                badf(why, "'%c' cannot be in a domain name", c);
                return -1;
            }
            if (!is_digit(c))
                num = 0;
        }
        if (num && (ll > 3 || atoi(h + start) > 255))
            all_num = 0;
        if (!num)
            all_num = 0;
        last_num = num;
        labels++;
        start = i + 1;
    }
    if (labels < 2) {
        *why = "a domain has at least two labels (name.tld)";
        return -1;
    }
    if (all_num && labels != 4) {
        *why = "not a domain name nor an IPv4 address";
        return -1;
    }
    if (last_num && !all_num) {
        *why = "a top-level domain is not all digits";
        return -1;
    }
    return 0;
}

static int norm_website(const char *s, size_t n, wr *w, const char **why)
{
    const char *p = s;
    size_t m = n;
    for (size_t i = 0; i + 2 < m && i < 16; i++)
        if (p[i] == ':' && p[i + 1] == '/' && p[i + 2] == '/') {
            p += i + 3;
            m -= i + 3;
            break;
        }
    size_t e = 0;
    while (e < m && p[e] != '/' && p[e] != '?' && p[e] != '#')
        e++;
    m = e;
    const char *at = NULL;
    for (size_t i = 0; i < m; i++)
        if (p[i] == '@')
            at = p + i;
    if (at) {
        m -= (size_t)(at + 1 - p);
        p = at + 1;
    }
    for (size_t i = m; i > 0; i--)
        if (p[i - 1] == ':') {
            m = i - 1;
            break;
        } else if (!is_digit((unsigned char)p[i - 1]))
            break;
    if (m && p[m - 1] == '.')
        m--;
    char v[IDENT_MAX_INPUT] = {0};
    for (size_t i = 0; i < m; i++)
        v[i] = to_lower(p[i]);
    const char *h = v;
    /* "www." is dropped while a name with a dot remains ("www.com" stays) */
    while (m > 4 && memcmp(h, "www.", 4) == 0 && memchr(h + 4, '.', m - 4)) {
        h += 4;
        m -= 4;
    }
    wr_add(w, h, m);
    int sp = has_trimmable(h, m);
    for (size_t i = 0; i < m; i++)
        if ((unsigned char)h[i] <= ' ' || h[i] == 0x7f)
            sp = 1;
    if (sp)
        return bad(why, "a host name has no spaces or control characters");
    if (host_check(h, m, why) != 0)
        return IDENT_INVALID;
    return IDENT_VALID;
}

/* ---- social handles */

/* If s is a profile URL on a known social-media host, narrows s to the
 * handle (or to the numeric id of a facebook profile.php?id= link). */
static void handle_from_url(const char **s, size_t *n)
{
    const char *p = *s;
    size_t m = *n;
    if (has_prefix_ci(p, m, "https://"))
        p += 8, m -= 8;
    else if (has_prefix_ci(p, m, "http://"))
        p += 7, m -= 7;
    if (has_prefix_ci(p, m, "www."))
        p += 4, m -= 4;
    else if (has_prefix_ci(p, m, "m."))
        p += 2, m -= 2;
    static const char *const hosts[] = {
        "facebook.com/", "fb.com/", "t.me/", "telegram.me/", "tiktok.com/",
        "instagram.com/",
    };
    size_t hl = 0;
    for (size_t i = 0; i < sizeof hosts / sizeof hosts[0]; i++)
        if (has_prefix_ci(p, m, hosts[i]))
            hl = strlen(hosts[i]);
    if (!hl)
        return;
    p += hl;
    m -= hl;
    if (has_prefix_ci(p, m, "profile.php?")) {
        const char *id = NULL;
        for (size_t i = 0; i + 3 <= m; i++)
            if ((i == 0 || p[i - 1] == '?' || p[i - 1] == '&') && memcmp(p + i, "id=", 3) == 0) {
                id = p + i + 3;
                break;
            }
        if (id) {
            size_t k = 0;
            while (id + k < p + m && is_digit((unsigned char)id[k]))
                k++;
            *s = id;
            *n = k;
            return;
        }
    }
    size_t e = 0;
    while (e < m && p[e] != '/' && p[e] != '?' && p[e] != '#')
        e++;
    *s = p;
    *n = e;
}

/* Drops leading '@' signs and the spacing around them. */
static void strip_at(const char **s, size_t *n)
{
    size_t before;
    do {
        before = *n;
        trim(s, n);
        while (*n && (*s)[0] == '@')
            (*s)++, (*n)--;
    } while (*n != before);
}

static int norm_handle(const char *platform, const char *country, const char *s,
                       size_t n, wr *w, const char **why)
{
    if (platform && !*platform)
        platform = NULL;
    /* wa.me links carry the full international number without its + */
    int wa_me = 0;
    if (has_prefix_ci(s, n, "https://wa.me/"))
        s += 14, n -= 14, wa_me = 1;
    else if (has_prefix_ci(s, n, "wa.me/"))
        s += 6, n -= 6, wa_me = 1;
    strip_at(&s, &n);
    handle_from_url(&s, &n);
    strip_at(&s, &n);
    if (streq(platform, "whatsapp") || streq(platform, "zalo")) {
        int phone_like = 1;
        for (size_t i = 0; i < n; i++) {
            unsigned char c = (unsigned char)s[i];
            if (!is_digit(c) && !is_space(c) && !strchr("+-.()/", c))
                phone_like = 0;
        }
        if (wa_me && phone_like && n && s[0] != '+') {
            char plus[IDENT_MAX_INPUT + 2] = "+";
            memcpy(plus + 1, s, n);
            return norm_phone(plus, n + 1, country, w, why);
        }
        if (phone_like || streq(platform, "whatsapp"))
            return norm_phone(s, n, country, w, why);
    }
    char v[IDENT_MAX_INPUT] = {0};
    for (size_t i = 0; i < n; i++)
        v[i] = to_lower(s[i]);
    wr_add(w, v, n);
    if (n == 0)
        return bad(why, "empty handle");
    const char *extra = "";  /* characters allowed besides [a-z0-9] */
    size_t lo = 1, hi = 100;
    const char *pname = platform ? platform : "this platform";
    if (streq(platform, "telegram"))
        extra = "_", lo = 5, hi = 32;
    else if (streq(platform, "tiktok"))
        extra = "_.", lo = 2, hi = 24;
    else if (streq(platform, "instagram"))
        extra = "_.", lo = 1, hi = 30;
    else if (streq(platform, "facebook"))
        extra = ".", lo = 1, hi = 50;
    else if (streq(platform, "line") || streq(platform, "wechat") || streq(platform, "zalo"))
        extra = "_.-", lo = 1, hi = 64;
    else {
        int sp = has_trimmable(v, n);
        for (size_t i = 0; i < n; i++)
            if ((unsigned char)v[i] <= ' ' || v[i] == 0x7f)
                sp = 1;
        if (sp)
            return bad(why, "a handle has no spaces or control characters");
        if (n > hi)
            return badf(why, "a handle has at most %zu characters", hi);
        return IDENT_VALID;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)v[i];
        if (!is_lower(c) && !is_digit(c) && !(c && strchr(extra, c)))
            return badf(why, "a %s handle has only a-z, 0-9 and \"%s\"", pname, extra);
    }
    if (n < lo || n > hi)
        return badf(why, "a %s handle has %zu to %zu characters, this has %zu", pname, lo, hi, n);
    if (streq(platform, "telegram") && !is_lower((unsigned char)v[0]))
        return bad(why, "a telegram username starts with a letter");
    return IDENT_VALID;
}

/* ---- names: NFKC, case fold, spacing collapsed */

static int norm_name(const char *s, size_t n, wr *w, const char **why)
{
    size_t flen = 0;
    uint8_t *f = u8_casefold((const uint8_t *)s, n, NULL, UNINORM_NFKC, NULL, &flen);
    if (!f)
        return bad(why, "could not be Unicode-normalised");
    int ctrl = 0, pend = 0;
    size_t i = 0;
    while (i < flen) {
        ucs4_t uc;
        int l = u8_mbtouc(&uc, f + i, flen - i);
        if (l <= 0)
            break;
        int space = uc == ' ' || uc == '\t' || uc == '\n' || uc == '\r' || uc == '\f' ||
                    uc == '\v' || uc == 0x85 || uc == 0x1680 || (uc >= 0x2000 && uc <= 0x200a) ||
                    uc == 0x2028 || uc == 0x2029 || uc == 0x202f || uc == 0x205f || uc == 0x3000;
        if (space) {
            pend = w->len > 0;
        } else if (uc < 0x20 || uc == 0x7f || (uc >= 0x80 && uc < 0xa0)) {
            ctrl = 1;
        } else {
            if (pend)
                wr_adds(w, " ");
            pend = 0;
            wr_add(w, (const char *)f + i, (size_t)l);
        }
        i += (size_t)l;
    }
    free(f);
    if (ctrl)
        return bad(why, "a name has no control characters");
    if (w->len == 0)
        return bad(why, "empty name");
    return IDENT_VALID;
}

int ident_normalise(const char *type, const char *chain_or_platform,
                    const char *country_alpha2, const char *raw, size_t n,
                    char *out, size_t outsz, const char **why)
{
    const char *dummy;
    if (!why)
        why = &dummy;
    *why = NULL;
    wr w;
    wr_init(&w, out, outsz);
    if (!type)
        return IDENT_UNKNOWN_TYPE;
    if (!raw)
        n = 0;
    if (n > IDENT_MAX_INPUT)
        return badf(why, "longer than %d bytes", IDENT_MAX_INPUT);
    if (n && memchr(raw, '\0', n))
        return bad(why, "contains a NUL byte");
    const char *s = raw ? raw : "";
    trim(&s, &n);
    if (u8_check((const uint8_t *)s, n)) {
        for (size_t i = 0; i < n; i++)  /* best effort: the printable ASCII */
            if (s[i] >= ' ' && s[i] < 0x7f)
                wr_add(&w, s + i, 1);
        return bad(why, "not valid UTF-8");
    }
    const char *cp = chain_or_platform && *chain_or_platform ? chain_or_platform : NULL;
    int rc;
    if (strcmp(type, "iban") == 0)
        rc = norm_iban(s, n, &w, why);
    else if (strcmp(type, "bank_account") == 0)
        rc = norm_bank(s, n, &w, why);
    else if (strcmp(type, "phone") == 0)
        rc = norm_phone(s, n, country_alpha2, &w, why);
    else if (strcmp(type, "crypto_wallet") == 0)
        rc = norm_wallet(cp, s, n, &w, why);
    else if (strcmp(type, "email") == 0)
        rc = norm_email(s, n, &w, why);
    else if (strcmp(type, "social_handle") == 0)
        rc = norm_handle(cp, country_alpha2, s, n, &w, why);
    else if (strcmp(type, "website") == 0)
        rc = norm_website(s, n, &w, why);
    else if (strcmp(type, "company") == 0 || strcmp(type, "compound") == 0)
        rc = norm_name(s, n, &w, why);
    else
        return IDENT_UNKNOWN_TYPE;
    if (rc == IDENT_VALID && w.over)
        return bad(why, "the normalised value does not fit the output buffer");
    return rc;
}
