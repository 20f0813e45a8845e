/* pprl.c -- CLK Bloom-filter encodings, Dice comparison kernels chosen at
 * run time, blocking and greedy 1:1 linking. See pprl.h and docs/linkage.md.
 *
 * The intrinsics live only inside functions that carry a target attribute,
 * so the file builds with the project's plain -std=c17 -O2 flags and the
 * shipped binary picks the fastest kernel the CPU has when it runs. */
#include "pprl.h"

#include <immintrin.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------ encoding */

/* Normalises a value for its tokeniser into out (cap PPRL_MAX_VALUE+1);
 * returns its length. Names and digits drop what the tokeniser ignores;
 * whole values are trimmed and ASCII lower-cased. UTF-8 bytes are kept. */
static size_t normalise(const char *v, size_t n, pprl_tok tok, char *out)
{
    size_t o = 0;
    if (tok == PPRL_TOK_WHOLE) {
        const char *s = v;
        n = sp_trim(&s, n);
        for (size_t i = 0; i < n; i++) {
            unsigned char c = (unsigned char)s[i];
            out[o++] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
        }
    } else {
        for (size_t i = 0; i < n; i++) {
            unsigned char c = (unsigned char)v[i];
            if (tok == PPRL_TOK_DIGITS) {
                if (c >= '0' && c <= '9') out[o++] = (char)c;
            } else if (c >= 0x80 || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z')) {
                out[o++] = (char)c;
            } else if (c >= 'A' && c <= 'Z') {
                out[o++] = (char)(c + 32);
            }
        }
    }
    out[o] = '\0';
    return o;
}

/* Length of the UTF-8 character starting at s (valid input assumed). */
static size_t u8len(const char *s, size_t left)
{
    size_t k = 1;
    while (k < left && ((unsigned char)s[k] & 0xC0) == 0x80) k++;
    return k;
}

/* Sets the k bits of one token: BLAKE2b keyed with the secret key over
 * (block counter, field name, salt, token), each 64-byte digest giving 32
 * independent 10-bit positions (clkhash's "blakeHash" scheme, not double
 * hashing: see docs/linkage.md). Lengths are prefixed so that no two
 * (name, salt, token) triples hash the same input. */
static void set_token(const uint8_t *key, const char *fname, size_t fl,
                      const char *salt, size_t sl, const char *tokv, size_t tl,
                      unsigned k, uint64_t *out)
{
    unsigned done = 0;
    for (unsigned char blk = 0; done < k; blk++) {
        crypto_generichash_state st;
        uint8_t d[64];
        unsigned char fl8 = (unsigned char)fl, sl8 = (unsigned char)sl;
        crypto_generichash_init(&st, key, PPRL_KEY_BYTES, sizeof d);
        crypto_generichash_update(&st, &blk, 1);
        crypto_generichash_update(&st, &fl8, 1);
        crypto_generichash_update(&st, (const unsigned char *)fname, fl);
        crypto_generichash_update(&st, &sl8, 1);
        crypto_generichash_update(&st, (const unsigned char *)salt, sl);
        crypto_generichash_update(&st, (const unsigned char *)tokv, tl);
        crypto_generichash_final(&st, d, sizeof d);
        for (unsigned j = 0; j < 32 && done < k; j++, done++) {
            unsigned pos = ((unsigned)d[2 * j] | (unsigned)d[2 * j + 1] << 8) & (PPRL_BITS - 1);
            out[pos >> 6] |= (uint64_t)1 << (pos & 63);
        }
        sodium_memzero(d, sizeof d);
    }
}

int pprl_encode(const uint8_t key[PPRL_KEY_BYTES], const pprl_field *fields,
                size_t nfields, const char *salt, uint64_t out[PPRL_WORDS],
                uint16_t *pc, sp_err *err)
{
    int rc = SP_OK;
    char norm[PPRL_MAX_VALUE + 1];
    memset(out, 0, PPRL_WORDS * sizeof *out);
    *pc = 0;
    if (!salt) salt = "";
    size_t sl = strlen(salt);
    if (!key || (!fields && nfields)) {
        rc = sp_err_add(err, NULL, 0, NULL, NULL, 0, "pprl-usage",
                        "pprl_encode needs a key and fields");
        rc = SP_EUSAGE;
        goto done;
    }
    if (sodium_init() < 0) {
        rc = sp_err_add(err, NULL, 0, NULL, NULL, 0, "pprl-sodium",
                        "libsodium could not be initialised");
        goto done;
    }
    if (sl > PPRL_MAX_NAME) {
        rc = sp_err_add(err, NULL, 0, "salt", salt, sl, "pprl-too-long",
                        "the salt is %zu bytes; at most %d", sl, PPRL_MAX_NAME);
        rc = SP_ELIMIT;
        goto done;
    }
    for (size_t f = 0; f < nfields; f++) {
        const pprl_field *fd = &fields[f];
        const char *fname = fd->name ? fd->name : "";
        const char *v = fd->value ? fd->value : "";
        size_t fl = strlen(fname), vl = strlen(v);
        if (fl == 0 || fl > PPRL_MAX_NAME) {
            rc = sp_err_add(err, NULL, 0, fname, NULL, 0, "pprl-field-name",
                            "a field name must be 1 to %d bytes", PPRL_MAX_NAME);
            goto done;
        }
        if (fd->k < 1 || fd->k > PPRL_MAX_K) {
            rc = sp_err_add(err, NULL, 0, fname, NULL, 0, "pprl-k",
                            "k (bits per token) is %u; it must be 1 to %d",
                            fd->k, PPRL_MAX_K);
            goto done;
        }
        if (fd->tok != PPRL_TOK_NAME && fd->tok != PPRL_TOK_DIGITS &&
            fd->tok != PPRL_TOK_WHOLE) {
            rc = sp_err_add(err, NULL, 0, fname, NULL, 0, "pprl-tokeniser",
                            "unknown tokeniser %d", (int)fd->tok);
            goto done;
        }
        if (vl > PPRL_MAX_VALUE) {
            sp_err_add(err, NULL, 0, fname, v, vl, "pprl-too-long",
                       "the value is %zu bytes; at most %d", vl, PPRL_MAX_VALUE);
            rc = SP_ELIMIT;
            goto done;
        }
        if (!sp_utf8_valid(v, vl)) {
            rc = sp_err_add(err, NULL, 0, fname, v, vl, "pprl-utf8",
                            "the value is not valid UTF-8");
            goto done;
        }
        size_t nl = normalise(v, vl, fd->tok, norm);
        if (nl == 0) continue;
        if (fd->tok == PPRL_TOK_WHOLE) {
            set_token(key, fname, fl, salt, sl, norm, nl, fd->k, out);
            continue;
        }
        /* padded character bigrams: "_" c1, c1 c2, ..., cn "_" */
        char tokv[8];
        size_t i = 0, prevl = 1;
        const char *prev = "_";
        while (i <= nl) {
            const char *cur = i < nl ? norm + i : "_";
            size_t cl = i < nl ? u8len(norm + i, nl - i) : 1;
            memcpy(tokv, prev, prevl);
            memcpy(tokv + prevl, cur, cl);
            set_token(key, fname, fl, salt, sl, tokv, prevl + cl, fd->k, out);
            prev = cur;
            prevl = cl;
            i += cl;
            if (i > nl) break;
        }
    }
    *pc = (uint16_t)pprl_popcount(out);
done:
    if (rc != SP_OK) {
        memset(out, 0, PPRL_WORDS * sizeof *out);
        *pc = 0;
    }
    sodium_memzero(norm, sizeof norm);
    return rc;
}

unsigned pprl_popcount(const uint64_t a[PPRL_WORDS])
{
    unsigned c = 0;
    for (int i = 0; i < PPRL_WORDS; i++) c += (unsigned)__builtin_popcountll(a[i]);
    return c;
}

double pprl_dice(const uint64_t a[PPRL_WORDS], unsigned pa,
                 const uint64_t b[PPRL_WORDS], unsigned pb)
{
    if (pa + pb == 0) return 0.0;
    unsigned c = 0;
    for (int i = 0; i < PPRL_WORDS; i++) c += (unsigned)__builtin_popcountll(a[i] & b[i]);
    return 2.0 * c / (double)(pa + pb);
}

/* ------------------------------------------------------------- kernels */

/* A hit test without division: 2c >= t(pa+pb). Done in float as the
 * score is reported in float; pa+pb == 0 is never a hit. */
#define HIT(c, pa, pb, t) ((pa) + (pb) != 0 && 2.0f * (float)(c) >= (t) * (float)((pa) + (pb)))

#define RECORD_HIT(i, c, pa, pb) do { \
        if (hits < out_cap) { \
            out_idx[hits] = (uint32_t)(i); \
            out_score[hits] = 2.0f * (float)(c) / (float)((pa) + (pb)); \
        } \
        hits++; } while (0)

static inline unsigned andpop_scalar(const uint64_t *a, const uint64_t *b)
{
    unsigned c = 0;
    for (int w = 0; w < PPRL_WORDS; w++) c += (unsigned)__builtin_popcountll(a[w] & b[w]);
    return c;
}

static size_t dice_many_portable(const uint64_t *q, unsigned qpc, const uint64_t *base,
                                 const uint16_t *pc, size_t n, float t,
                                 uint32_t *out_idx, float *out_score, size_t out_cap)
{
    size_t hits = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned c = andpop_scalar(q, base + i * PPRL_WORDS);
        if (HIT(c, qpc, pc[i], t)) RECORD_HIT(i, c, qpc, pc[i]);
    }
    return hits;
}

static uint64_t sweep_portable(const uint64_t *q, const uint64_t *base, size_t n)
{
    uint64_t s = 0;
    for (size_t i = 0; i < n; i++) s += andpop_scalar(q, base + i * PPRL_WORDS);
    return s;
}

__attribute__((target("popcnt")))
static size_t dice_many_popcnt(const uint64_t *q, unsigned qpc, const uint64_t *base,
                               const uint16_t *pc, size_t n, float t,
                               uint32_t *out_idx, float *out_score, size_t out_cap)
{
    size_t hits = 0;
    for (size_t i = 0; i < n; i++) {
        const uint64_t *b = base + i * PPRL_WORDS;
        unsigned c = 0;
        for (int w = 0; w < PPRL_WORDS; w++) c += (unsigned)__builtin_popcountll(q[w] & b[w]);
        if (HIT(c, qpc, pc[i], t)) RECORD_HIT(i, c, qpc, pc[i]);
    }
    return hits;
}

__attribute__((target("popcnt")))
static uint64_t sweep_popcnt(const uint64_t *q, const uint64_t *base, size_t n)
{
    uint64_t s = 0;
    for (size_t i = 0; i < n; i++) {
        const uint64_t *b = base + i * PPRL_WORDS;
        unsigned c = 0;
        for (int w = 0; w < PPRL_WORDS; w++) c += (unsigned)__builtin_popcountll(q[w] & b[w]);
        s += c;
    }
    return s;
}

/* AVX2: popcount of each byte by two nibble look-ups (vpshufb), summed
 * over the four 256-bit quarters of an encoding (at most 32 per byte, no
 * overflow), then vpsadbw to 64-bit lanes. */
#define AVX2_TARGET __attribute__((target("avx2")))

/* Byte-wise popcount of q & b over the 1024 bits, summed over the four
 * quarters (at most 32 per byte, no overflow). */
AVX2_TARGET static inline __m256i bytecount_avx2(const __m256i qv[4], const uint64_t *b)
{
    const __m256i lut = _mm256_setr_epi8(0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4,
                                         0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4);
    const __m256i low = _mm256_set1_epi8(0x0f);
    __m256i acc = _mm256_setzero_si256();
    for (int j = 0; j < 4; j++) {
        __m256i v = _mm256_and_si256(qv[j], _mm256_loadu_si256((const __m256i *)(b + 4 * j)));
        __m256i lo = _mm256_and_si256(v, low);
        __m256i hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), low);
        acc = _mm256_add_epi8(acc, _mm256_add_epi8(_mm256_shuffle_epi8(lut, lo),
                                                   _mm256_shuffle_epi8(lut, hi)));
    }
    return acc;
}

/* The counts of four encodings at once: vpsadbw gives each four 64-bit
 * partial sums; two rounds of unpack/permute add them into one vector
 * [a, b, c, d], so the horizontal sum costs a quarter per encoding. */
AVX2_TARGET static inline void count4_avx2(const __m256i qv[4], const uint64_t *b,
                                           uint64_t cnt[4])
{
    const __m256i z = _mm256_setzero_si256();
    __m256i sa = _mm256_sad_epu8(bytecount_avx2(qv, b), z);
    __m256i sb = _mm256_sad_epu8(bytecount_avx2(qv, b + PPRL_WORDS), z);
    __m256i sc = _mm256_sad_epu8(bytecount_avx2(qv, b + 2 * PPRL_WORDS), z);
    __m256i sd = _mm256_sad_epu8(bytecount_avx2(qv, b + 3 * PPRL_WORDS), z);
    __m256i t0 = _mm256_add_epi64(_mm256_unpacklo_epi64(sa, sb), _mm256_unpackhi_epi64(sa, sb));
    __m256i t1 = _mm256_add_epi64(_mm256_unpacklo_epi64(sc, sd), _mm256_unpackhi_epi64(sc, sd));
    __m256i u = _mm256_add_epi64(_mm256_permute2x128_si256(t0, t1, 0x20),
                                 _mm256_permute2x128_si256(t0, t1, 0x31));
    _mm256_storeu_si256((__m256i *)cnt, u);
}

AVX2_TARGET static inline unsigned andpop_avx2(const __m256i qv[4], const uint64_t *b)
{
    __m256i s = _mm256_sad_epu8(bytecount_avx2(qv, b), _mm256_setzero_si256());
    __m128i h = _mm_add_epi64(_mm256_castsi256_si128(s), _mm256_extracti128_si256(s, 1));
    h = _mm_add_epi64(h, _mm_unpackhi_epi64(h, h));
    return (unsigned)_mm_cvtsi128_si32(h);
}

AVX2_TARGET
static size_t dice_many_avx2(const uint64_t *q, unsigned qpc, const uint64_t *base,
                             const uint16_t *pc, size_t n, float t,
                             uint32_t *out_idx, float *out_score, size_t out_cap)
{
    __m256i qv[4];
    for (int j = 0; j < 4; j++) qv[j] = _mm256_loadu_si256((const __m256i *)(q + 4 * j));
    size_t hits = 0, i = 0;
    uint64_t cnt[4];
    /* the hit test for four at once, in the same float operations as HIT
     * (2c >= t(pa+pb), pa+pb != 0), so the results are bit-identical */
    const __m128 two = _mm_set1_ps(2.0f), tv = _mm_set1_ps(t);
    const __m128i qp = _mm_set1_epi32((int)qpc), zero = _mm_setzero_si128();
    for (; i + 4 <= n; i += 4) {
        count4_avx2(qv, base + i * PPRL_WORDS, cnt);
        __m128i c32 = _mm_setr_epi32((int)cnt[0], (int)cnt[1], (int)cnt[2], (int)cnt[3]);
        __m128i p32 = _mm_add_epi32(qp, _mm_cvtepu16_epi32(_mm_loadl_epi64((const __m128i *)(pc + i))));
        __m128 lhs = _mm_mul_ps(two, _mm_cvtepi32_ps(c32));
        __m128 rhs = _mm_mul_ps(tv, _mm_cvtepi32_ps(p32));
        __m128 ok = _mm_and_ps(_mm_cmpge_ps(lhs, rhs),
                               _mm_castsi128_ps(_mm_xor_si128(_mm_cmpeq_epi32(p32, zero),
                                                              _mm_set1_epi32(-1))));
        if (__builtin_expect(_mm_movemask_ps(ok) != 0, 0)) {
            for (int j = 0; j < 4; j++)
                if (HIT(cnt[j], qpc, pc[i + j], t)) RECORD_HIT(i + j, cnt[j], qpc, pc[i + j]);
        }
    }
    for (; i < n; i++) {
        unsigned c = andpop_avx2(qv, base + i * PPRL_WORDS);
        if (HIT(c, qpc, pc[i], t)) RECORD_HIT(i, c, qpc, pc[i]);
    }
    return hits;
}

/* The ceiling: byte counts of each encoding folded into 64-bit lanes,
 * one horizontal sum at the end. */
AVX2_TARGET
static uint64_t sweep_avx2(const uint64_t *q, const uint64_t *base, size_t n)
{
    __m256i qv[4];
    for (int j = 0; j < 4; j++) qv[j] = _mm256_loadu_si256((const __m256i *)(q + 4 * j));
    __m256i acc = _mm256_setzero_si256();
    for (size_t i = 0; i < n; i++)
        acc = _mm256_add_epi64(acc, _mm256_sad_epu8(bytecount_avx2(qv, base + i * PPRL_WORDS),
                                                    _mm256_setzero_si256()));
    uint64_t l[4];
    _mm256_storeu_si256((__m256i *)l, acc);
    return l[0] + l[1] + l[2] + l[3];
}

/* AVX-512 VPOPCNTDQ: an encoding is two 512-bit registers. */
#define AVX512_TARGET __attribute__((target("avx2,avx512f,avx512dq,avx512vpopcntdq")))

/* Eight candidates at a time: each candidate's 16 popcounts fold into one
 * vector of 8 lanes; eight such vectors are summed across in one
 * transpose-and-add tree (12 shuffles for 8 candidates instead of a
 * horizontal reduction each), then the threshold is tested per lane with
 * a table of the least common count each popcount sum needs, computed with
 * the same float expression as HIT, so every kernel agrees exactly. */
AVX512_TARGET
static inline __m512i andpop8_avx512(__m512i q0, __m512i q1, const uint64_t *b)
{
    __m512i x = _mm512_and_si512(q0, _mm512_loadu_si512((const void *)b));
    __m512i y = _mm512_and_si512(q1, _mm512_loadu_si512((const void *)(b + 8)));
    return _mm512_add_epi64(_mm512_popcnt_epi64(x), _mm512_popcnt_epi64(y));
}

AVX512_TARGET
static inline __m512i pairsum_avx512(__m512i a, __m512i b)
{
    return _mm512_add_epi64(_mm512_unpacklo_epi64(a, b), _mm512_unpackhi_epi64(a, b));
}

AVX512_TARGET
static inline __m512i lanesum_avx512(__m512i a, __m512i b)
{
    return _mm512_add_epi64(_mm512_shuffle_i64x2(a, b, 0x88), _mm512_shuffle_i64x2(a, b, 0xDD));
}

AVX512_TARGET
static size_t dice_many_avx512(const uint64_t *q, unsigned qpc, const uint64_t *base,
                               const uint16_t *pc, size_t n, float t,
                               uint32_t *out_idx, float *out_score, size_t out_cap)
{
    __m512i q0 = _mm512_loadu_si512((const void *)q);
    __m512i q1 = _mm512_loadu_si512((const void *)(q + 8));
    size_t hits = 0, i = 0;
    for (; qpc != 0 && i + 8 <= n; i += 8) {
        const uint64_t *b = base + i * PPRL_WORDS;
        __m512i v0 = andpop8_avx512(q0, q1, b);
        __m512i v1 = andpop8_avx512(q0, q1, b + 1 * PPRL_WORDS);
        __m512i v2 = andpop8_avx512(q0, q1, b + 2 * PPRL_WORDS);
        __m512i v3 = andpop8_avx512(q0, q1, b + 3 * PPRL_WORDS);
        __m512i v4 = andpop8_avx512(q0, q1, b + 4 * PPRL_WORDS);
        __m512i v5 = andpop8_avx512(q0, q1, b + 5 * PPRL_WORDS);
        __m512i v6 = andpop8_avx512(q0, q1, b + 6 * PPRL_WORDS);
        __m512i v7 = andpop8_avx512(q0, q1, b + 7 * PPRL_WORDS);
        __m512i c = lanesum_avx512(lanesum_avx512(pairsum_avx512(v0, v1), pairsum_avx512(v2, v3)),
                                   lanesum_avx512(pairsum_avx512(v4, v5), pairsum_avx512(v6, v7)));
        /* lanes of c: candidates i .. i+7 in order. The test is HIT's, in
         * the same float arithmetic: 2c >= t(qpc + pc) */
        __m256 cf = _mm256_mul_ps(_mm512_cvtepi64_ps(c), _mm256_set1_ps(2.0f));
        __m256i s32 = _mm256_add_epi32(_mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)(pc + i))),
                                       _mm256_set1_epi32((int)qpc));
        __m256 rhs = _mm256_mul_ps(_mm256_cvtepi32_ps(s32), _mm256_set1_ps(t));
        unsigned m = (unsigned)_mm256_movemask_ps(_mm256_cmp_ps(cf, rhs, _CMP_GE_OQ));
        if (m) {
            uint64_t cs[8];
            _mm512_storeu_si512((void *)cs, c);
            for (int k = 0; k < 8; k++)
                if (m >> k & 1) RECORD_HIT(i + k, cs[k], qpc, pc[i + k]);
        }
    }
    for (; i < n; i++) {
        unsigned c = (unsigned)_mm512_reduce_add_epi64(andpop8_avx512(q0, q1, base + i * PPRL_WORDS));
        if (HIT(c, qpc, pc[i], t)) RECORD_HIT(i, c, qpc, pc[i]);
    }
    return hits;
}

AVX512_TARGET
static uint64_t sweep_avx512(const uint64_t *q, const uint64_t *base, size_t n)
{
    __m512i q0 = _mm512_loadu_si512((const void *)q);
    __m512i q1 = _mm512_loadu_si512((const void *)(q + 8));
    __m512i acc = _mm512_setzero_si512();
    for (size_t i = 0; i < n; i++) {
        const uint64_t *b = base + i * PPRL_WORDS;
        __m512i x = _mm512_and_si512(q0, _mm512_loadu_si512((const void *)b));
        __m512i y = _mm512_and_si512(q1, _mm512_loadu_si512((const void *)(b + 8)));
        acc = _mm512_add_epi64(acc, _mm512_add_epi64(_mm512_popcnt_epi64(x),
                                                     _mm512_popcnt_epi64(y)));
    }
    return (uint64_t)_mm512_reduce_add_epi64(acc);
}

/* The selected kernel; 0 = not chosen yet. An int read and written
 * atomically so that threads may race on the first choice harmlessly. */
static int g_kernel;

int pprl_kernel_available(pprl_kernel k)
{
    __builtin_cpu_init();
    switch (k) {
    case PPRL_KERNEL_AUTO:
    case PPRL_KERNEL_PORTABLE: return 1;
    case PPRL_KERNEL_POPCNT: return __builtin_cpu_supports("popcnt") != 0;
    case PPRL_KERNEL_AVX2: return __builtin_cpu_supports("avx2") != 0;
    case PPRL_KERNEL_AVX512:
        return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
               __builtin_cpu_supports("avx512vpopcntdq");
    }
    return 0;
}

int pprl_set_kernel(pprl_kernel k)
{
    if (k == PPRL_KERNEL_AUTO) {
        /* AVX2's nibble look-ups beat scalar POPCNT about threefold in
         * cache on the machine measured (docs/linkage.md) */
        k = pprl_kernel_available(PPRL_KERNEL_AVX512) ? PPRL_KERNEL_AVX512
          : pprl_kernel_available(PPRL_KERNEL_AVX2) ? PPRL_KERNEL_AVX2
          : pprl_kernel_available(PPRL_KERNEL_POPCNT) ? PPRL_KERNEL_POPCNT
          : PPRL_KERNEL_PORTABLE;
    }
    if ((int)k < PPRL_KERNEL_PORTABLE || (int)k > PPRL_KERNEL_AVX512 ||
        !pprl_kernel_available(k))
        return SP_EUSAGE;
    __atomic_store_n(&g_kernel, (int)k, __ATOMIC_RELAXED);
    return SP_OK;
}

pprl_kernel pprl_kernel_current(void)
{
    int k = __atomic_load_n(&g_kernel, __ATOMIC_RELAXED);
    if (k == 0) {
        pprl_set_kernel(PPRL_KERNEL_AUTO);
        k = __atomic_load_n(&g_kernel, __ATOMIC_RELAXED);
    }
    return (pprl_kernel)k;
}

const char *pprl_kernel_name(pprl_kernel k)
{
    switch (k) {
    case PPRL_KERNEL_AUTO: return "auto";
    case PPRL_KERNEL_PORTABLE: return "portable";
    case PPRL_KERNEL_POPCNT: return "popcnt";
    case PPRL_KERNEL_AVX2: return "avx2";
    case PPRL_KERNEL_AVX512: return "avx512-vpopcntdq";
    }
    return "?";
}

size_t pprl_dice_many(const uint64_t q[PPRL_WORDS], unsigned qpc,
                      const uint64_t *base, const uint16_t *pc, size_t n,
                      float threshold, uint32_t *out_idx, float *out_score,
                      size_t out_cap)
{
    if (!out_idx || !out_score) out_cap = 0;
    switch (pprl_kernel_current()) {
    case PPRL_KERNEL_AVX512:
        return dice_many_avx512(q, qpc, base, pc, n, threshold, out_idx, out_score, out_cap);
    case PPRL_KERNEL_AVX2:
        return dice_many_avx2(q, qpc, base, pc, n, threshold, out_idx, out_score, out_cap);
    case PPRL_KERNEL_POPCNT:
        return dice_many_popcnt(q, qpc, base, pc, n, threshold, out_idx, out_score, out_cap);
    default:
        return dice_many_portable(q, qpc, base, pc, n, threshold, out_idx, out_score, out_cap);
    }
}

uint64_t pprl_sweep(const uint64_t q[PPRL_WORDS], const uint64_t *base, size_t n)
{
    switch (pprl_kernel_current()) {
    case PPRL_KERNEL_AVX512: return sweep_avx512(q, base, n);
    case PPRL_KERNEL_AVX2: return sweep_avx2(q, base, n);
    case PPRL_KERNEL_POPCNT: return sweep_popcnt(q, base, n);
    default: return sweep_portable(q, base, n);
    }
}

/* ------------------------------------------------------------ blocking */

uint64_t pprl_block_key(const uint8_t key[PPRL_KEY_BYTES], pprl_block_mode mode,
                        int yob, const char *sex, const char *name)
{
    if (mode == PPRL_BLOCK_YOB_SEX) {
        unsigned char s = sex && sex[0] ? (unsigned char)sex[0] : '?';
        if (s >= 'A' && s <= 'Z') s = (unsigned char)(s + 32);
        return (uint64_t)1 << 56 | (uint64_t)(uint32_t)yob << 8 | s;
    }
    /* first padded bigram of the normalised name, keyed */
    char norm[PPRL_MAX_VALUE + 1], tokv[8];
    size_t vl = name ? strnlen(name, PPRL_MAX_VALUE + 1) : 0;
    if (vl > PPRL_MAX_VALUE || (vl && !sp_utf8_valid(name, vl))) vl = 0;
    size_t nl = vl ? normalise(name, vl, PPRL_TOK_NAME, norm) : 0;
    tokv[0] = '_';
    size_t cl = nl ? u8len(norm, nl) : 0;
    if (cl) memcpy(tokv + 1, norm, cl);
    uint8_t d[8];
    if (sodium_init() < 0) return (uint64_t)2 << 56;
    crypto_generichash(d, sizeof d, (const unsigned char *)tokv, 1 + cl,
                       key, PPRL_KEY_BYTES);
    return (uint64_t)2 << 56 | ((uint64_t)d[0] | (uint64_t)d[1] << 8);
}

/* --------------------------------------------------------------- linking */

typedef struct { uint64_t block; uint32_t org; uint32_t i; } slot;

static int slot_cmp(const void *x, const void *y)
{
    const slot *a = x, *b = y;
    if (a->block != b->block) return a->block < b->block ? -1 : 1;
    if (a->org != b->org) return a->org < b->org ? -1 : 1;
    return a->i < b->i ? -1 : a->i > b->i;
}

static int pair_cmp(const void *x, const void *y)
{
    const pprl_pair *a = x, *b = y;
    if (a->score != b->score) return a->score > b->score ? -1 : 1;
    if (a->a != b->a) return a->a < b->a ? -1 : 1;
    return a->b < b->b ? -1 : a->b > b->b;
}

/* A set of nonzero-shifted uint64 keys, open addressing, for the places
 * taken in per-organisation linking. Sized once for at most `max` keys. */
typedef struct u64set {
    uint64_t *k;               /* key + 1; 0 is empty */
    size_t mask;
} u64set;

static void set_init(u64set *t, size_t max)
{
    size_t cap = 16;
    while (cap < 2 * max + 16) cap *= 2;
    t->k = sp_xcalloc(cap, sizeof *t->k);
    t->mask = cap - 1;
}

static void set_free(u64set *t) { free(t->k); }

static size_t set_slot(const u64set *t, uint64_t key)
{
    uint64_t h = (key + 1) * 0x9E3779B97F4A7C15ull;
    size_t i = (size_t)(h >> 17) & t->mask;
    while (t->k[i] && t->k[i] != key + 1) i = (i + 1) & t->mask;
    return i;
}

static int set_has(const u64set *t, uint64_t key) { return t->k[set_slot(t, key)] != 0; }
static void set_add(u64set *t, uint64_t key) { t->k[set_slot(t, key)] = key + 1; }
static uint64_t slot_key(uint32_t x, uint32_t y) { return (uint64_t)x << 32 | y; }

static int link_impl(const pprl_rec *recs, size_t n, float threshold, size_t max_candidates,
                     int per_org, const pprl_link_decided *dec, pprl_pair **out,
                     size_t *nout, pprl_link_stats *stats, sp_err *err)
{
    int rc = SP_OK;
    slot *s = NULL;
    uint64_t *bits = NULL;
    uint16_t *pcs = NULL;
    uint32_t *hidx = NULL;
    float *hsc = NULL;
    pprl_pair *cand = NULL, *res = NULL;
    unsigned char *linked = NULL;
    size_t ncand = 0, acand = 0, nres = 0;
    pprl_link_stats st = {0, 0, 0};
    *out = NULL;
    *nout = 0;
    if (n > UINT32_MAX) {
        sp_err_add(err, NULL, 0, NULL, NULL, 0, "pprl-too-many",
                   "%zu records to link; at most %u", n, (unsigned)UINT32_MAX);
        rc = SP_ELIMIT;
        goto done;
    }
    if (n == 0) goto done;
    for (size_t i = 0; i < n; i++) {
        if (!recs[i].bits || recs[i].pc > PPRL_BITS) {
            char where[32];
            snprintf(where, sizeof where, "record %zu", i);
            rc = sp_err_add(err, NULL, 0, where, NULL, 0, "pprl-bad-record",
                            "the record has no encoding or a popcount above %d",
                            PPRL_BITS);
            goto done;
        }
    }
    s = sp_xmalloc(n * sizeof *s);
    for (size_t i = 0; i < n; i++) {
        s[i].block = recs[i].block;
        s[i].org = recs[i].org;
        s[i].i = (uint32_t)i;
    }
    qsort(s, n, sizeof *s, slot_cmp);
    /* copy into block order so that each block is contiguous memory */
    bits = sp_xmalloc(n * PPRL_WORDS * sizeof *bits);
    pcs = sp_xmalloc(n * sizeof *pcs);
    for (size_t i = 0; i < n; i++) {
        memcpy(bits + i * PPRL_WORDS, recs[s[i].i].bits, PPRL_WORDS * sizeof *bits);
        pcs[i] = recs[s[i].i].pc;
    }
    size_t maxblk = 0;
    for (size_t b0 = 0, b1; b0 < n; b0 = b1) {
        for (b1 = b0 + 1; b1 < n && s[b1].block == s[b0].block; b1++) {}
        if (b1 - b0 > maxblk) maxblk = b1 - b0;
        st.blocks++;
    }
    hidx = sp_xmalloc(maxblk * sizeof *hidx);
    hsc = sp_xmalloc(maxblk * sizeof *hsc);
    for (size_t b0 = 0, b1; b0 < n; b0 = b1) {
        for (b1 = b0 + 1; b1 < n && s[b1].block == s[b0].block; b1++) {}
        /* within the block, records are grouped by organisation: compare
         * each record with those of later organisations only */
        size_t g1 = b0;
        for (size_t i = b0; i < b1; i++) {
            if (g1 <= i) for (g1 = i + 1; g1 < b1 && s[g1].org == s[i].org; g1++) {}
            if (g1 >= b1) break;
            size_t m = b1 - g1;
            size_t h = pprl_dice_many(bits + i * PPRL_WORDS, pcs[i], bits + g1 * PPRL_WORDS,
                                      pcs + g1, m, threshold, hidx, hsc, maxblk);
            st.comparisons += m;
            st.candidates += h;
            for (size_t j = 0; j < h; j++) {
                if (ncand >= max_candidates) {
                    sp_err_add(err, NULL, 0, NULL, NULL, 0, "pprl-too-many-candidates",
                               "more than %zu candidate pairs at threshold %.3f; "
                               "raise the threshold or block more finely",
                               max_candidates, (double)threshold);
                    rc = SP_ELIMIT;
                    goto done;
                }
                if (ncand == acand) {
                    acand = acand ? acand * 2 : 64;
                    if (acand > max_candidates) acand = max_candidates;
                    cand = sp_xrealloc(cand, acand * sizeof *cand);
                }
                uint32_t x = s[i].i, y = s[g1 + hidx[j]].i;
                cand[ncand].a = x < y ? x : y;
                cand[ncand].b = x < y ? y : x;
                cand[ncand].score = hsc[j];
                ncand++;
            }
        }
    }
    if (ncand) qsort(cand, ncand, sizeof *cand, pair_cmp);
    res = sp_xmalloc((ncand ? ncand : 1) * sizeof *res);
    if (!per_org) {
        linked = sp_xcalloc(n, 1);
        for (size_t j = 0; j < ncand; j++) {
            if (linked[cand[j].a] || linked[cand[j].b]) continue;
            linked[cand[j].a] = linked[cand[j].b] = 1;
            res[nres++] = cand[j];
        }
    } else {
        /* a record takes at most one link per other organisation: the
         * places taken are (record, other org); decided links take theirs
         * first, banned pairs are never linked */
        size_t nkeep = dec ? dec->nkeep : 0, nban = dec ? dec->nban : 0;
        u64set taken, banned;
        set_init(&taken, 2 * (ncand + nkeep));
        set_init(&banned, nban);
        for (size_t j = 0; j < nkeep; j++) {
            const pprl_pair *p = &dec->keep[j];
            if (p->a >= n || p->b >= n) continue;
            set_add(&taken, slot_key(p->a, recs[p->b].org));
            set_add(&taken, slot_key(p->b, recs[p->a].org));
        }
        for (size_t j = 0; j < nban; j++) {
            const pprl_pair *p = &dec->ban[j];
            uint32_t a = p->a < p->b ? p->a : p->b, b = p->a < p->b ? p->b : p->a;
            set_add(&banned, slot_key(a, b));
        }
        for (size_t j = 0; j < ncand; j++) {
            uint64_t ka = slot_key(cand[j].a, recs[cand[j].b].org);
            uint64_t kb = slot_key(cand[j].b, recs[cand[j].a].org);
            if (set_has(&banned, slot_key(cand[j].a, cand[j].b)) || set_has(&taken, ka) ||
                set_has(&taken, kb))
                continue;
            set_add(&taken, ka);
            set_add(&taken, kb);
            res[nres++] = cand[j];
        }
        set_free(&taken);
        set_free(&banned);
    }
    *out = res;
    *nout = nres;
    res = NULL;
done:
    if (stats) *stats = st;
    free(s);
    free(bits);
    free(pcs);
    free(hidx);
    free(hsc);
    free(cand);
    free(res);
    free(linked);
    return rc;
}

int pprl_link(const pprl_rec *recs, size_t n, float threshold,
              size_t max_candidates, pprl_pair **out, size_t *nout,
              pprl_link_stats *stats, sp_err *err)
{
    return link_impl(recs, n, threshold, max_candidates, 0, NULL, out, nout, stats, err);
}

int pprl_link_orgs(const pprl_rec *recs, size_t n, float threshold,
                   size_t max_candidates, const pprl_link_decided *dec,
                   pprl_pair **out, size_t *nout, pprl_link_stats *stats, sp_err *err)
{
    return link_impl(recs, n, threshold, max_candidates, 1, dec, out, nout, stats, err);
}
