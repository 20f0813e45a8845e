/* pprl_bench.c -- Dice comparisons per second per core on 1024-bit
 * encodings, against a plain popcount sweep over the same memory in the
 * same run (the ceiling).
 *
 *   pprl_bench [N_ENCODINGS]      (default 1,000,000: 128 MB)
 *
 * For every kernel this CPU has, it measures (a) pprl_sweep: the sum of
 * popcount(q & base[i]) over the whole array, no division, no threshold;
 * (b) pprl_dice_many with threshold 0.8 over the same array. Each is the
 * best of 5 runs of 4 queries, timed in this thread's CPU time (the
 * machine is shared). It also measures both on a 1 MiB slice that stays in
 * cache, which shows the kernel's own speed apart from memory bandwidth.
 * Built with -O2 and no -march: the kernel is the one the shipped binary
 * picks at run time. */
#include "pprl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define QUERIES 4
#define REPS 5

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static uint64_t rng = 0x9E3779B97F4A7C15ULL;
static uint64_t xs(void) { rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17; return rng; }

static volatile uint64_t sink;

/* Best comparisons per second over REPS runs of QUERIES queries each. */
static double run(int dice, const uint64_t *q, const uint16_t *qpc,
                  const uint64_t *base, const uint16_t *pc, size_t n,
                  uint32_t *idx, float *sc, size_t *hits_out)
{
    double best = 0;
    size_t hits = 0;
    /* a small (in-cache) array is swept many times per run, so that a run
     * lasts long enough for the clock */
    int rounds = n < 100000 ? 64 : 1;
    for (int r = 0; r < REPS; r++) {
        double t0 = now();
        uint64_t s = 0;
        hits = 0;
        for (int k = 0; k < QUERIES * rounds; k++) {
            int j = k % QUERIES;
            if (dice)
                hits += pprl_dice_many(q + j * PPRL_WORDS, qpc[j], base, pc, n, 0.8f,
                                       idx, sc, 1024);
            else
                s += pprl_sweep(q + j * PPRL_WORDS, base, n);
        }
        hits /= (size_t)rounds;
        double t = now() - t0;
        sink += s;
        double rate = (double)n * QUERIES * rounds / (t > 0 ? t : 1e-9);
        if (rate > best) best = rate;
    }
    if (hits_out) *hits_out = hits;
    return best;
}

int main(int argc, char **argv)
{
    size_t n = argc > 1 ? (size_t)strtoull(argv[1], NULL, 10) : 1000000;
    if (n < 1024 || n > 100000000) {
        fprintf(stderr, "pprl_bench: N must be 1024 to 100000000\n");
        return 2;
    }
    uint64_t *base = malloc(n * PPRL_WORDS * sizeof *base);
    uint16_t *pc = malloc(n * sizeof *pc);
    uint64_t q[QUERIES * PPRL_WORDS];
    uint16_t qpc[QUERIES];
    uint32_t idx[1024];
    float sc[1024];
    if (!base || !pc) { fprintf(stderr, "pprl_bench: out of memory\n"); return 1; }
    /* encodings about as dense as real ones (~25-30% of bits set) */
    for (size_t i = 0; i < n * PPRL_WORDS; i++) base[i] = xs() & (xs() | xs());
    for (size_t i = 0; i < n; i++) pc[i] = (uint16_t)pprl_popcount(base + i * PPRL_WORDS);
    for (int k = 0; k < QUERIES; k++) {
        /* each query is a noisy copy of some encoding, so there are hits
         * (the first one of an encoding inside the in-cache slice) */
        const uint64_t *src = base + (xs() % (k == 0 ? 1024 : n)) * PPRL_WORDS;
        for (int w = 0; w < PPRL_WORDS; w++)
            q[k * PPRL_WORDS + w] = src[w] ^ (xs() & xs() & xs() & xs());
        qpc[k] = (uint16_t)pprl_popcount(q + k * PPRL_WORDS);
    }
    /* encoding speed at the partner (one record: 5 fields, ~30 tokens) */
    {
        static const uint8_t key[PPRL_KEY_BYTES] = "benchmark key, not a real one!!";
        static const char *given[] = { "Van An", "Thi Mai", "Sokha", "Aung Aung", "Siti" };
        static const char *family[] = { "Nguyen", "Tran", "Chan", "Win", "Rahman" };
        char dob[16], salt[8];
        uint64_t e[PPRL_WORDS];
        uint16_t epc;
        sp_err err;
        sp_err_init(&err);
        int m = 20000;
        double t0 = now();
        for (int i = 0; i < m; i++) {
            int y = 1970 + i % 40;
            snprintf(dob, sizeof dob, "%d-%02d-%02d", y, 1 + i % 12, 1 + i % 28);
            snprintf(salt, sizeof salt, "%d", y);
            pprl_field f[] = {
                { "given", given[i % 5], 20, PPRL_TOK_NAME },
                { "family", family[(i / 5) % 5], 20, PPRL_TOK_NAME },
                { "dob", dob, 8, PPRL_TOK_DIGITS },
                { "sex", i % 2 ? "f" : "m", 4, PPRL_TOK_WHOLE },
                { "nationality", "VNM", 4, PPRL_TOK_WHOLE },
            };
            if (pprl_encode(key, f, 5, salt, e, &epc, &err) != SP_OK) {
                sp_err_print(&err, stderr);
                return 1;
            }
            sink += epc;
        }
        double t = now() - t0;
        sp_err_free(&err);
        printf("encoding (partner side): %.0f records/s on one core\n", m / (t > 0 ? t : 1e-9));
    }
    pprl_kernel best = pprl_kernel_current();
    printf("pprl_bench: %zu encodings of %d bits (%zu MiB), %d queries, best of %d, "
           "one core (thread CPU time)\n", n, PPRL_BITS,
           n * PPRL_WORDS * sizeof *base >> 20, QUERIES, REPS);
    printf("AVX-512 VPOPCNTDQ on this CPU: %s; kernel chosen at run time: %s\n",
           pprl_kernel_available(PPRL_KERNEL_AVX512) ? "yes" : "no",
           pprl_kernel_name(best));
    printf("| kernel | memory | popcount sweep (ceiling) | Dice >= 0.8 | ratio | hits |\n");
    printf("|---|---|---:|---:|---:|---:|\n");
    size_t cache_n = (1u << 20) / (PPRL_WORDS * sizeof *base);    /* 1 MiB */
    pprl_kernel ks[] = { PPRL_KERNEL_PORTABLE, PPRL_KERNEL_POPCNT, PPRL_KERNEL_AVX2,
                         PPRL_KERNEL_AVX512 };
    double best_dice = 0, best_ratio = 0, cache_dice = 0, cache_ratio = 0;
    for (size_t k = 0; k < sizeof ks / sizeof ks[0]; k++) {
        if (pprl_set_kernel(ks[k]) != SP_OK) {
            printf("| %s | - | not on this CPU | | | |\n", pprl_kernel_name(ks[k]));
            continue;
        }
        for (int mem = 0; mem < 2; mem++) {
            size_t m = mem ? cache_n : n;
            size_t hits = 0;
            double sw = run(0, q, qpc, base, pc, m, idx, sc, NULL);
            double di = run(1, q, qpc, base, pc, m, idx, sc, &hits);
            printf("| %s%s | %s | %.0f M/s | %.0f M/s | %.2f | %zu |\n",
                   pprl_kernel_name(ks[k]), ks[k] == best ? " (auto)" : "",
                   mem ? "1 MiB, in cache" : "whole array", sw / 1e6, di / 1e6,
                   di / sw, hits);
            if (ks[k] == best && !mem) { best_dice = di; best_ratio = di / sw; }
            if (ks[k] == best && mem) { cache_dice = di; cache_ratio = di / sw; }
        }
    }
    /* Linking compares within blocks; a block of 8,192 encodings is 1 MiB
     * and stays in cache, so that is the rate linking runs at. Streaming
     * the whole array is bounded by memory bandwidth for any kernel. */
    printf("\nshipped kernel %s, within a block in cache (how linking runs): %.0f million "
           "Dice comparisons/s per core, %.2f of the popcount sweep (targets: 500 M/s, 0.7)\n",
           pprl_kernel_name(best), cache_dice / 1e6, cache_ratio);
    printf("shipped kernel %s, streaming %zu encodings from memory: %.0f million Dice "
           "comparisons/s per core, %.2f of the popcount sweep (memory-bound)\n",
           pprl_kernel_name(best), n, best_dice / 1e6, best_ratio);
    free(base);
    free(pc);
    return 0;
}
