/* pprl.h -- the core of privacy-preserving record linkage: CLK Bloom-filter
 * encodings made at the partner, Dice comparison, blocking and greedy 1:1
 * linking at the hub. Pure: no SQL, no HTTP, no files. See docs/linkage.md.
 *
 * An encoding is PPRL_WORDS uint64_t (1024 bits) plus its popcount. Arrays
 * of encodings are contiguous (encoding i at base + i*PPRL_WORDS) so the
 * comparison loop streams memory. */
#ifndef SP_PPRL_H
#define SP_PPRL_H

#include "util.h"

#include <stddef.h>
#include <stdint.h>

#define PPRL_BITS 1024
#define PPRL_WORDS 16
#define PPRL_KEY_BYTES 32
#define PPRL_MAX_K 64           /* hash functions per token, at most */
#define PPRL_MAX_VALUE 256      /* bytes per field value, at most */
#define PPRL_MAX_NAME 64        /* bytes per field name or salt, at most */

/* How a field's value becomes tokens. */
typedef enum {
    PPRL_TOK_NAME,    /* ASCII lower-cased, spaces/punctuation dropped,
                       * UTF-8 kept; padded character bigrams "_j","jo",.. */
    PPRL_TOK_DIGITS,  /* digits only (a date "1990-03-07"), padded bigrams */
    PPRL_TOK_WHOLE,   /* the whole value (lower-cased, trimmed) as one token */
} pprl_tok;

typedef struct pprl_field {
    const char *name;   /* field name, hashed in: "given" "family" "dob" .. */
    const char *value;  /* NUL-terminated; "" adds no bits */
    unsigned k;         /* bits per token (the field's weight), 1..PPRL_MAX_K */
    pprl_tok tok;
} pprl_field;

/* Encodes one record: every token of every field is hashed with keyed
 * BLAKE2b (key, field name, salt, token) and sets k bit positions. `salt`
 * is a stable attribute such as the year of birth (may be ""). Writes
 * out[PPRL_WORDS] and *pc (its popcount). Bad input (k out of range, value
 * or name too long, invalid UTF-8) adds an sp_err naming the field and
 * returns SP_EINPUT / SP_ELIMIT; out is then all zero. Needs sodium_init()
 * (called here if not yet). */
int pprl_encode(const uint8_t key[PPRL_KEY_BYTES], const pprl_field *fields,
                size_t nfields, const char *salt, uint64_t out[PPRL_WORDS],
                uint16_t *pc, sp_err *err);

unsigned pprl_popcount(const uint64_t a[PPRL_WORDS]);
/* 2|a&b| / (|a|+|b|); 0 when both are empty. */
double pprl_dice(const uint64_t a[PPRL_WORDS], unsigned pa,
                 const uint64_t b[PPRL_WORDS], unsigned pb);

/* ---- comparison kernels, chosen at run time */
typedef enum {
    PPRL_KERNEL_AUTO = 0,   /* best the CPU has */
    PPRL_KERNEL_PORTABLE,   /* __builtin_popcountll, generic code */
    PPRL_KERNEL_POPCNT,     /* scalar POPCNT instruction */
    PPRL_KERNEL_AVX2,       /* vpshufb nibble popcount on 256-bit vectors */
    PPRL_KERNEL_AVX512,     /* _mm512_popcnt_epi64 (AVX-512 VPOPCNTDQ) */
} pprl_kernel;

/* Selects a kernel for this process; SP_EUSAGE if the CPU lacks it. */
int pprl_set_kernel(pprl_kernel k);
/* Is this kernel usable on this CPU? */
int pprl_kernel_available(pprl_kernel k);
pprl_kernel pprl_kernel_current(void);
const char *pprl_kernel_name(pprl_kernel k);

/* One query against n encodings at base (pc[i] their popcounts). Every i
 * with Dice >= threshold is a hit: the first out_cap hits go to out_idx /
 * out_score (either may be NULL when out_cap is 0). Returns the number of
 * hits, which may exceed out_cap (then the caller knows it missed some). */
size_t pprl_dice_many(const uint64_t q[PPRL_WORDS], unsigned qpc,
                      const uint64_t *base, const uint16_t *pc, size_t n,
                      float threshold, uint32_t *out_idx, float *out_score,
                      size_t out_cap);

/* The ceiling for the benchmark: sum over i of popcount(q & base[i]) with
 * the same kernel, without division or threshold. */
uint64_t pprl_sweep(const uint64_t q[PPRL_WORDS], const uint64_t *base,
                    size_t n);

/* ---- blocking keys (computed at the partner, like the encoding) */
typedef enum {
    PPRL_BLOCK_YOB_SEX,     /* year of birth and sex, as they are */
    PPRL_BLOCK_BIGRAM,      /* keyed hash of the first bigram of a name */
} pprl_block_mode;

/* Block key of a record: for YOB_SEX, yob and sex ("f","m",.. ; yob 0 =
 * unknown); for BIGRAM a keyed BLAKE2b of the padded first bigram of
 * `name` (normalised as PPRL_TOK_NAME), reduced to 16 bits so that a block
 * is a crowd, not a fingerprint. */
uint64_t pprl_block_key(const uint8_t key[PPRL_KEY_BYTES], pprl_block_mode mode,
                        int yob, const char *sex, const char *name);

/* ---- linking at the hub */
typedef struct pprl_rec {
    uint32_t org;            /* submitting organisation */
    uint64_t block;          /* from pprl_block_key */
    const uint64_t *bits;    /* PPRL_WORDS words, owned by the caller */
    uint16_t pc;
} pprl_rec;

typedef struct pprl_pair {
    uint32_t a, b;           /* indices into the recs array, a < b */
    float score;
} pprl_pair;

typedef struct pprl_link_stats {
    uint64_t comparisons;    /* Dice computations made */
    uint64_t candidates;     /* pairs at or above the threshold */
    size_t blocks;
} pprl_link_stats;

/* Compares records only within the same block and only across different
 * organisations, keeps pairs with Dice >= threshold, and links them one to
 * one greedily (highest score first; ties by lower indices). *out (caller
 * frees) gets the accepted links, sorted by score descending. More than
 * max_candidates candidate pairs is SP_ELIMIT (an err says so) rather than
 * unbounded memory. stats may be NULL. */
int pprl_link(const pprl_rec *recs, size_t n, float threshold,
              size_t max_candidates, pprl_pair **out, size_t *nout,
              pprl_link_stats *stats, sp_err *err);

/* Decisions an analyst made, as pairs of indices into recs. */
typedef struct pprl_link_decided {
    const pprl_pair *keep;   /* confirmed: they take their places first and
                              * are not repeated in *out */
    size_t nkeep;
    const pprl_pair *ban;    /* rejected: never linked again */
    size_t nban;
} pprl_link_decided;

/* As pprl_link, but one to one per pair of organisations: a record links
 * to at most one record of each other organisation, so a person reported
 * by three organisations can link to one record in each of the other two.
 * dec may be NULL. */
int pprl_link_orgs(const pprl_rec *recs, size_t n, float threshold,
                   size_t max_candidates, const pprl_link_decided *dec,
                   pprl_pair **out, size_t *nout, pprl_link_stats *stats, sp_err *err);

#endif
