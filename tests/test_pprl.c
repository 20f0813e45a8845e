/* test_pprl.c -- CLK encodings, Dice kernels, blocking, greedy 1:1. */
#include "pprl.h"
#include "test.h"

#include <stdint.h>
#include <string.h>

static const uint8_t KEY[PPRL_KEY_BYTES] = "0123456789abcdef0123456789abcde";
static const uint8_t KEY2[PPRL_KEY_BYTES] = "another key, never at the hub!!";

/* The weights used in docs/linkage.md: names carry the signal. */
static void person(const char *given, const char *family, const char *dob,
                   const char *sex, const char *nat, const uint8_t *key,
                   const char *salt, uint64_t out[PPRL_WORDS], uint16_t *pc)
{
    pprl_field f[] = {
        { "given", given, 20, PPRL_TOK_NAME },
        { "family", family, 20, PPRL_TOK_NAME },
        { "dob", dob, 8, PPRL_TOK_DIGITS },
        { "sex", sex, 4, PPRL_TOK_WHOLE },
        { "nationality", nat, 4, PPRL_TOK_WHOLE },
    };
    sp_err e;
    sp_err_init(&e);
    int rc = pprl_encode(key, f, 5, salt, out, pc, &e);
    if (rc != SP_OK) { sp_err_print(&e, stderr); }
    ASSERT_EQ(rc, SP_OK);
    sp_err_free(&e);
}

static uint64_t rng = 88172645463325252ULL;
static uint64_t xs(void) { rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17; return rng; }

TEST(pprl_deterministic)
{
    uint64_t a[PPRL_WORDS], b[PPRL_WORDS];
    uint16_t pa, pb;
    person("An", "Nguyen", "1990-03-07", "f", "VNM", KEY, "1990", a, &pa);
    person("An", "Nguyen", "1990-03-07", "f", "VNM", KEY, "1990", b, &pb);
    ASSERT(memcmp(a, b, sizeof a) == 0);
    ASSERT_EQ(pa, pb);
    ASSERT(pa > 0);
    /* normalisation: case, spaces and punctuation do not matter for names */
    person(" AN ", "Ng-uyen", "07.03.1990", "F", "vnm", KEY, "1990", b, &pb);
    ASSERT_EQ(pprl_popcount(b), pb);
    /* the date's digits come in another order: only names and whole values
     * must agree, so compare name-only encodings */
    pprl_field f1[] = { { "given", "Van An", 20, PPRL_TOK_NAME } };
    pprl_field f2[] = { { "given", "van-an", 20, PPRL_TOK_NAME } };
    sp_err e; sp_err_init(&e);
    ASSERT_EQ(pprl_encode(KEY, f1, 1, "1990", a, &pa, &e), SP_OK);
    ASSERT_EQ(pprl_encode(KEY, f2, 1, "1990", b, &pb, &e), SP_OK);
    ASSERT(memcmp(a, b, sizeof a) == 0);
    sp_err_free(&e);
}

TEST(pprl_key_and_salt_change_bits)
{
    uint64_t a[PPRL_WORDS], b[PPRL_WORDS], c[PPRL_WORDS];
    uint16_t pa, pb, pc;
    person("An", "Nguyen", "1990-03-07", "f", "VNM", KEY, "1990", a, &pa);
    person("An", "Nguyen", "1990-03-07", "f", "VNM", KEY2, "1990", b, &pb);
    person("An", "Nguyen", "1990-03-07", "f", "VNM", KEY, "1991", c, &pc);
    ASSERT(memcmp(a, b, sizeof a) != 0);
    ASSERT(memcmp(a, c, sizeof a) != 0);
    /* another key or another year looks like another person: about the
     * fill ratio (~0.27) that two unrelated encodings share by chance */
    double dk = pprl_dice(a, pa, b, pb), dy = pprl_dice(a, pa, c, pc);
    printf("  same person, other key: %.3f; other salt: %.3f\n", dk, dy);
    ASSERT(dk < 0.4);
    ASSERT(dy < 0.4);
}

TEST(pprl_popcount_stored)
{
    for (int r = 0; r < 50; r++) {
        char name[16];
        for (int i = 0; i < 10; i++) name[i] = (char)('a' + xs() % 26);
        name[10] = '\0';
        uint64_t a[PPRL_WORDS];
        uint16_t pa;
        person(name, "x", "2000-01-01", "m", "KHM", KEY, "2000", a, &pa);
        unsigned real = 0;
        for (int w = 0; w < PPRL_WORDS; w++)
            for (int bit = 0; bit < 64; bit++) real += (unsigned)(a[w] >> bit & 1);
        ASSERT_EQ(pa, real);
    }
}

TEST(pprl_dice_known_cases)
{
    uint64_t a[PPRL_WORDS] = {0}, b[PPRL_WORDS] = {0};
    ASSERT_DBL_EQ(pprl_dice(a, 0, b, 0), 0.0, 1e-12);
    a[0] = 0xF;                 /* 4 bits */
    b[0] = 0x3C;                /* 4 bits, 2 shared */
    ASSERT_DBL_EQ(pprl_dice(a, 4, b, 4), 0.5, 1e-12);
    ASSERT_DBL_EQ(pprl_dice(a, 4, a, 4), 1.0, 1e-12);
    b[0] = 0xF0;                /* disjoint */
    ASSERT_DBL_EQ(pprl_dice(a, 4, b, 4), 0.0, 1e-12);
    a[15] = 1ULL << 63;         /* 5 bits */
    b[15] = 1ULL << 63 | 1;     /* 6 bits, 1 shared: 2/11 */
    ASSERT_DBL_EQ(pprl_dice(a, 5, b, 6), 2.0 / 11.0, 1e-12);
    /* the real encodings of one person */
    uint16_t pa;
    person("An", "Nguyen", "1990-03-07", "f", "VNM", KEY, "1990", a, &pa);
    ASSERT_DBL_EQ(pprl_dice(a, pa, a, pa), 1.0, 1e-12);
}

TEST(pprl_typo_and_other_person)
{
    uint64_t a[PPRL_WORDS], b[PPRL_WORDS], c[PPRL_WORDS];
    uint16_t pa, pb, pc;
    person("Van An", "Nguyen", "1990-03-07", "f", "VNM", KEY, "1990", a, &pa);
    person("Van Anh", "Nguyen", "1990-03-07", "f", "VNM", KEY, "1990", b, &pb);
    person("Thi Mai", "Tran", "1990-11-21", "f", "VNM", KEY, "1990", c, &pc);
    double typo = pprl_dice(a, pa, b, pb), other = pprl_dice(a, pa, c, pc);
    printf("  typo 'Nguyen Van An'/'Nguyen Van Anh': %.3f; other person: %.3f "
           "(popcounts %u %u %u)\n", typo, other, pa, pb, pc);
    ASSERT(typo > 0.8);
    ASSERT(other < 0.5);
}

TEST(pprl_bad_input)
{
    uint64_t a[PPRL_WORDS];
    uint16_t pa = 7;
    sp_err e; sp_err_init(&e);
    pprl_field k0[] = { { "given", "An", 0, PPRL_TOK_NAME } };
    ASSERT_EQ(pprl_encode(KEY, k0, 1, "", a, &pa, &e), SP_EINPUT);
    ASSERT_EQ(pa, 0);
    ASSERT_CONTAINS(sp_err_last(&e), "k (bits per token)");
    pprl_field bad[] = { { "given", "\xff\xfe", 10, PPRL_TOK_NAME } };
    ASSERT_EQ(pprl_encode(KEY, bad, 1, "", a, &pa, &e), SP_EINPUT);
    ASSERT_CONTAINS(sp_err_last(&e), "UTF-8");
    char big[PPRL_MAX_VALUE + 10];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    pprl_field lng[] = { { "given", big, 10, PPRL_TOK_NAME } };
    ASSERT_EQ(pprl_encode(KEY, lng, 1, "", a, &pa, &e), SP_ELIMIT);
    pprl_field noname[] = { { "", "An", 10, PPRL_TOK_NAME } };
    ASSERT_EQ(pprl_encode(KEY, noname, 1, "", a, &pa, &e), SP_EINPUT);
    pprl_field tok[] = { { "given", "An", 10, (pprl_tok)42 } };
    ASSERT_EQ(pprl_encode(KEY, tok, 1, "", a, &pa, &e), SP_EINPUT);
    ASSERT_EQ(pprl_encode(KEY, k0, 1, big, a, &pa, &e), SP_ELIMIT);
    ASSERT_EQ(pprl_encode(NULL, k0, 1, "", a, &pa, &e), SP_EUSAGE);
    ASSERT_EQ(pprl_encode(KEY, NULL, 1, "", a, &pa, &e), SP_EUSAGE);
    /* UTF-8 names are fine, and an empty value adds nothing */
    pprl_field u[] = { { "given", "Nguyễn Văn", 10, PPRL_TOK_NAME },
                       { "family", "", 10, PPRL_TOK_NAME } };
    ASSERT_EQ(pprl_encode(KEY, u, 2, "", a, &pa, &e), SP_OK);
    ASSERT(pa > 0);
    ASSERT_EQ(pa, pprl_popcount(a));
    sp_err_free(&e);
}

/* Every available kernel returns the same hits and scores as the portable
 * one on random data, including scores on the threshold. */
TEST(pprl_kernels_agree)
{
    enum { N = 3000 };
    uint64_t *base = malloc(N * PPRL_WORDS * sizeof *base);
    uint16_t *pc = malloc(N * sizeof *pc);
    uint32_t *i0 = malloc(N * sizeof *i0), *i1 = malloc(N * sizeof *i1);
    float *s0 = malloc(N * sizeof *s0), *s1 = malloc(N * sizeof *s1);
    uint64_t q[PPRL_WORDS];
    for (int w = 0; w < PPRL_WORDS; w++) q[w] = xs() & xs();
    unsigned qpc = pprl_popcount(q);
    for (size_t i = 0; i < N; i++) {
        for (int w = 0; w < PPRL_WORDS; w++) {
            /* mix: near copies of q, sparse, dense */
            uint64_t r = xs();
            base[i * PPRL_WORDS + w] = i % 3 == 0 ? (q[w] ^ (r & xs() & xs() & xs()))
                                     : i % 3 == 1 ? (r & xs()) : (r | xs());
        }
        pc[i] = (uint16_t)pprl_popcount(base + i * PPRL_WORDS);
    }
    memcpy(base, q, sizeof q);                   /* an exact copy: Dice 1 */
    pc[0] = (uint16_t)qpc;
    ASSERT_EQ(pprl_set_kernel(PPRL_KERNEL_PORTABLE), SP_OK);
    uint64_t sweep0 = pprl_sweep(q, base, N);
    size_t h0 = pprl_dice_many(q, qpc, base, pc, N, 0.6f, i0, s0, N);
    ASSERT(h0 > 0 && h0 < N);
    ASSERT_EQ(i0[0], 0);
    ASSERT_DBL_EQ(s0[0], 1.0, 1e-6);
    /* scores agree with pprl_dice */
    for (size_t j = 0; j < h0; j++)
        ASSERT_DBL_EQ(s0[j], pprl_dice(q, qpc, base + i0[j] * PPRL_WORDS, pc[i0[j]]), 1e-6);
    /* an out_cap smaller than the hits still counts them all */
    ASSERT_EQ(pprl_dice_many(q, qpc, base, pc, N, 0.6f, i1, s1, 1), h0);
    pprl_kernel ks[] = { PPRL_KERNEL_POPCNT, PPRL_KERNEL_AVX2, PPRL_KERNEL_AVX512 };
    for (size_t k = 0; k < sizeof ks / sizeof ks[0]; k++) {
        if (!pprl_kernel_available(ks[k])) {
            printf("  SKIP kernel %s: this CPU lacks it\n", pprl_kernel_name(ks[k]));
            ASSERT_EQ(pprl_set_kernel(ks[k]), SP_EUSAGE);
            continue;
        }
        ASSERT_EQ(pprl_set_kernel(ks[k]), SP_OK);
        ASSERT_EQ(pprl_kernel_current(), ks[k]);
        ASSERT_EQ(pprl_sweep(q, base, N), sweep0);
        size_t h1 = pprl_dice_many(q, qpc, base, pc, N, 0.6f, i1, s1, N);
        ASSERT_EQ(h1, h0);
        ASSERT(memcmp(i0, i1, h0 * sizeof *i0) == 0);
        ASSERT(memcmp(s0, s1, h0 * sizeof *s0) == 0);
        /* every threshold from 0 to 1 in steps of 1/128: the same hits as
         * the portable kernel (the vector test must be HIT's float test) */
        for (int ti = 0; ti <= 128; ti++) {
            float t = (float)ti / 128.0f;
            size_t hv = pprl_dice_many(q, qpc, base, pc, N, t, i1, s1, N);
            pprl_set_kernel(PPRL_KERNEL_PORTABLE);
            size_t hs = pprl_dice_many(q, qpc, base, pc, N, t, i0, s0, N);
            ASSERT_EQ(pprl_set_kernel(ks[k]), SP_OK);
            if (hv != hs || memcmp(i0, i1, hs * sizeof *i0) != 0)
                TFAIL("kernel %s threshold %g: %zu hits, portable %zu", pprl_kernel_name(ks[k]),
                      (double)t, hv, hs);
        }
        pprl_set_kernel(PPRL_KERNEL_PORTABLE);    /* i0, s0 back to the 0.6 hits */
        ASSERT_EQ(pprl_dice_many(q, qpc, base, pc, N, 0.6f, i0, s0, N), h0);
        ASSERT_EQ(pprl_set_kernel(ks[k]), SP_OK);
        /* odd lengths and offsets (unaligned starts) */
        ASSERT_EQ(pprl_sweep(q, base + 7 * PPRL_WORDS, 13),
                  (pprl_set_kernel(PPRL_KERNEL_PORTABLE), pprl_sweep(q, base + 7 * PPRL_WORDS, 13)));
        /* a length that is not a multiple of 4 (the AVX2 tail) */
        ASSERT_EQ(pprl_set_kernel(ks[k]), SP_OK);
        uint32_t ta[16], tb[16]; float fa[16], fb[16];
        size_t hk = pprl_dice_many(q, qpc, base + 3 * PPRL_WORDS, pc + 3, 14, 0.6f, ta, fa, 16);
        pprl_set_kernel(PPRL_KERNEL_PORTABLE);
        size_t hp = pprl_dice_many(q, qpc, base + 3 * PPRL_WORDS, pc + 3, 14, 0.6f, tb, fb, 16);
        ASSERT_EQ(hk, hp);
        ASSERT_EQ(hk, 5);                       /* 3, 6, 9, 12, 15 */
        ASSERT(memcmp(ta, tb, hk * sizeof *ta) == 0 && memcmp(fa, fb, hk * sizeof *fa) == 0);
        printf("  kernel %s agrees (%zu hits of %d)\n", pprl_kernel_name(ks[k]), h0, N);
    }
    ASSERT_EQ(pprl_set_kernel(PPRL_KERNEL_AUTO), SP_OK);
    printf("  auto kernel: %s\n", pprl_kernel_name(pprl_kernel_current()));
    free(base); free(pc); free(i0); free(i1); free(s0); free(s1);
}

TEST(pprl_blocking_keys)
{
    ASSERT_EQ(pprl_block_key(KEY, PPRL_BLOCK_YOB_SEX, 1990, "f", NULL),
              pprl_block_key(KEY, PPRL_BLOCK_YOB_SEX, 1990, "F", NULL));
    ASSERT_NE(pprl_block_key(KEY, PPRL_BLOCK_YOB_SEX, 1990, "f", NULL),
              pprl_block_key(KEY, PPRL_BLOCK_YOB_SEX, 1991, "f", NULL));
    ASSERT_NE(pprl_block_key(KEY, PPRL_BLOCK_YOB_SEX, 1990, "f", NULL),
              pprl_block_key(KEY, PPRL_BLOCK_YOB_SEX, 1990, "m", NULL));
    uint64_t x = pprl_block_key(KEY, PPRL_BLOCK_BIGRAM, 0, NULL, "Nguyen");
    ASSERT_EQ(x, pprl_block_key(KEY, PPRL_BLOCK_BIGRAM, 0, NULL, " nGUYEN"));
    ASSERT_EQ(x, pprl_block_key(KEY, PPRL_BLOCK_BIGRAM, 0, NULL, "Nam"));
    ASSERT_NE(x, pprl_block_key(KEY2, PPRL_BLOCK_BIGRAM, 0, NULL, "Nguyen"));
}

/* Identical encodings in different blocks are never compared or linked;
 * records of one organisation are never compared with each other. */
TEST(pprl_link_blocks_and_orgs)
{
    uint64_t e[PPRL_WORDS];
    uint16_t pe;
    person("Van An", "Nguyen", "1990-03-07", "f", "VNM", KEY, "1990", e, &pe);
    pprl_rec r[6];
    for (int i = 0; i < 6; i++) {
        r[i].bits = e; r[i].pc = pe;
        r[i].org = (uint32_t)(i % 2 + 1);          /* orgs 1,2,1,2,1,2 */
        r[i].block = (uint64_t)(i / 2);            /* blocks 0,0,1,1,2,2 */
    }
    r[5].org = 1;                                  /* block 2: one org only */
    pprl_pair *p = NULL; size_t np = 0; pprl_link_stats st;
    sp_err er; sp_err_init(&er);
    ASSERT_EQ(pprl_link(r, 6, 0.8f, 100, &p, &np, &st, &er), SP_OK);
    ASSERT_EQ(st.blocks, 3);
    ASSERT_EQ(st.comparisons, 2);                   /* 0-1 and 2-3 only */
    ASSERT_EQ(np, 2);
    for (size_t i = 0; i < np; i++) {
        ASSERT_EQ(r[p[i].a].block, r[p[i].b].block);
        ASSERT_NE(r[p[i].a].org, r[p[i].b].org);
    }
    free(p);
    /* a record without an encoding is an error naming it, not a crash */
    r[3].bits = NULL;
    ASSERT_EQ(pprl_link(r, 6, 0.8f, 100, &p, &np, &st, &er), SP_EINPUT);
    ASSERT_NULL(p);
    ASSERT_CONTAINS(er.items[er.n - 1].column, "record 3");
    r[3].bits = e;
    r[3].pc = 2000;
    ASSERT_EQ(pprl_link(r, 6, 0.8f, 100, &p, &np, &st, &er), SP_EINPUT);
    r[3].pc = pe;
    /* empty input */
    ASSERT_EQ(pprl_link(r, 0, 0.8f, 100, &p, &np, &st, &er), SP_OK);
    ASSERT_EQ(np, 0);
    ASSERT_NULL(p);
    sp_err_free(&er);
}

/* One record of org 1 resembles two of org 2: it goes to the closer one;
 * the other may then link only to someone else. */
TEST(pprl_link_greedy_one_to_one)
{
    uint64_t e[5][PPRL_WORDS];
    uint16_t pc[5];
    person("Van An", "Nguyen", "1990-03-07", "f", "VNM", KEY, "1990", e[0], &pc[0]);  /* org1 */
    person("Van Anh", "Nguyen", "1990-03-07", "f", "VNM", KEY, "1990", e[1], &pc[1]); /* org2 typo */
    person("Van An", "Nguyen", "1990-03-07", "f", "VNM", KEY, "1990", e[2], &pc[2]);  /* org2 exact */
    person("Van An", "Nguyen", "1990-03-08", "f", "VNM", KEY, "1990", e[3], &pc[3]);  /* org3 */
    person("Thi Mai", "Tran", "1990-11-21", "f", "VNM", KEY, "1990", e[4], &pc[4]);   /* org3 */
    uint32_t orgs[5] = { 1, 2, 2, 3, 3 };
    pprl_rec r[5];
    for (int i = 0; i < 5; i++) { r[i].bits = e[i]; r[i].pc = pc[i]; r[i].org = orgs[i]; r[i].block = 7; }
    pprl_pair *p = NULL; size_t np = 0; pprl_link_stats st;
    sp_err er; sp_err_init(&er);
    ASSERT_EQ(pprl_link(r, 5, 0.8f, 100, &p, &np, &st, &er), SP_OK);
    /* comparisons: org1 x (org2+org3) = 4, org2 x org3 = 4 */
    ASSERT_EQ(st.comparisons, 8);
    int seen[5] = {0};
    for (size_t i = 0; i < np; i++) {
        ASSERT(p[i].a < p[i].b);
        ASSERT_EQ(seen[p[i].a]++, 0);
        ASSERT_EQ(seen[p[i].b]++, 0);
        if (i) ASSERT(p[i - 1].score >= p[i].score);
    }
    ASSERT(np >= 2);
    ASSERT_EQ(p[0].a, 0);                 /* 0-2 exact first */
    ASSERT_EQ(p[0].b, 2);
    ASSERT_DBL_EQ(p[0].score, 1.0, 1e-6);
    /* then the best left: 1 (typo) with 3 (other birth day) */
    ASSERT_EQ(p[1].a, 1);
    ASSERT_EQ(p[1].b, 3);
    ASSERT_EQ(seen[4], 0);
    ASSERT_EQ(np, 2);
    free(p);
    /* a cap on candidates is an error, not unbounded memory */
    ASSERT_EQ(pprl_link(r, 5, 0.0f, 2, &p, &np, &st, &er), SP_ELIMIT);
    ASSERT_NULL(p);
    ASSERT_CONTAINS(sp_err_last(&er), "candidate pairs");
    sp_err_free(&er);
}

/* Dice exactly at the threshold is a hit; two empty encodings never are
 * (not even at threshold 0), in every kernel, in the 4-wide part and the
 * tail alike. */
TEST(pprl_threshold_edges)
{
    enum { N = 9 };
    uint64_t base[N * PPRL_WORDS] = {0}, q[PPRL_WORDS] = {0}, z[PPRL_WORDS] = {0};
    uint16_t pc[N];
    q[3] = 0xF;                                   /* 4 bits */
    for (int i = 0; i < N; i++) {
        /* even: 3 of q's bits + 1 other = 0.75; odd: 2 shared of 4 = 0.5 */
        base[i * PPRL_WORDS + 3] = i % 2 == 0 ? 0x17 : 0x33;
        pc[i] = 4;
    }
    pprl_kernel ks[] = { PPRL_KERNEL_PORTABLE, PPRL_KERNEL_POPCNT, PPRL_KERNEL_AVX2,
                         PPRL_KERNEL_AVX512 };
    for (size_t k = 0; k < sizeof ks / sizeof ks[0]; k++) {
        if (pprl_set_kernel(ks[k]) != SP_OK) { printf("  SKIP %s\n", pprl_kernel_name(ks[k])); continue; }
        uint32_t idx[N]; float sc[N];
        ASSERT_EQ(pprl_dice_many(q, 4, base, pc, N, 0.75f, idx, sc, N), 5);
        for (int j = 0; j < 5; j++) { ASSERT_EQ(idx[j], 2 * j); ASSERT_DBL_EQ(sc[j], 0.75, 1e-7); }
        ASSERT_EQ(pprl_dice_many(q, 4, base, pc, N, 0.5f, idx, sc, N), N);
        ASSERT_EQ(pprl_dice_many(q, 4, base, pc, N, 0.76f, idx, sc, N), 0);
        /* empty against empty: 0/0 is not a match */
        uint16_t zpc[N] = {0};
        uint64_t zb[N * PPRL_WORDS] = {0};
        ASSERT_EQ(pprl_dice_many(z, 0, zb, zpc, N, 0.0f, idx, sc, N), 0);
        /* NULL outputs: count only */
        ASSERT_EQ(pprl_dice_many(q, 4, base, pc, N, 0.75f, NULL, NULL, 0), 5);
    }
}

/* One to one per pair of organisations: the same person at three
 * organisations links to one record of each other organisation (three
 * links, where pprl_link makes one); a second record of org 2 is left
 * out; a confirmed pair takes its places first, a rejected one is never
 * linked. */
TEST(pprl_link_orgs_per_pair)
{
    uint64_t e[4][PPRL_WORDS];
    uint16_t pc[4];
    person("Van An", "Nguyen", "1990-03-07", "f", "VNM", KEY, "1990", e[0], &pc[0]);  /* org1 */
    person("Van An", "Nguyen", "1990-03-07", "f", "VNM", KEY, "1990", e[1], &pc[1]);  /* org2 */
    person("Van Anh", "Nguyen", "1990-03-07", "f", "VNM", KEY, "1990", e[2], &pc[2]); /* org2 */
    person("Van An", "Nguyen", "1990-03-07", "f", "VNM", KEY, "1990", e[3], &pc[3]);  /* org3 */
    uint32_t orgs[4] = { 1, 2, 2, 3 };
    pprl_rec r[4];
    for (int i = 0; i < 4; i++) { r[i].bits = e[i]; r[i].pc = pc[i]; r[i].org = orgs[i]; r[i].block = 7; }
    pprl_pair *p = NULL; size_t np = 0; pprl_link_stats st;
    sp_err er; sp_err_init(&er);
    /* globally 1:1: 0-1 exact, then the typo 2 with 3; 0-3 is lost */
    ASSERT_EQ(pprl_link(r, 4, 0.8f, 100, &p, &np, &st, &er), SP_OK);
    ASSERT_EQ(np, 2);
    ASSERT_EQ(p[0].a, 0);
    ASSERT_EQ(p[0].b, 1);
    ASSERT_EQ(p[1].a, 2);
    ASSERT_EQ(p[1].b, 3);
    free(p);
    ASSERT_EQ(pprl_link_orgs(r, 4, 0.8f, 100, NULL, &p, &np, &st, &er), SP_OK);
    ASSERT_EQ(np, 3);
    int has[4][4] = {{0}};
    for (size_t i = 0; i < np; i++) { ASSERT(p[i].a < p[i].b); has[p[i].a][p[i].b] = 1; }
    ASSERT(has[0][1] && has[0][3] && has[1][3]);
    ASSERT(!has[2][3]);                 /* 3 already has its org-2 link */
    free(p);
    /* the analyst confirmed 0-2 and rejected 1-3 */
    pprl_pair keep = { 0, 2, 1.0f }, ban = { 3, 1, 0.0f };
    pprl_link_decided d = { &keep, 1, &ban, 1 };
    ASSERT_EQ(pprl_link_orgs(r, 4, 0.8f, 100, &d, &p, &np, &st, &er), SP_OK);
    memset(has, 0, sizeof has);
    for (size_t i = 0; i < np; i++) has[p[i].a][p[i].b] = 1;
    ASSERT_EQ(np, 2);                   /* 0-3, and 2-3 (1-3 is banned) */
    ASSERT(has[0][3] && has[2][3]);
    ASSERT(!has[0][1] && !has[0][2] && !has[1][3]);
    free(p);
    sp_err_free(&er);
}

TEST_LIST(pprl_deterministic, pprl_key_and_salt_change_bits, pprl_popcount_stored,
          pprl_dice_known_cases, pprl_typo_and_other_person, pprl_bad_input,
          pprl_kernels_agree, pprl_blocking_keys, pprl_link_blocks_and_orgs,
          pprl_link_greedy_one_to_one, pprl_link_orgs_per_pair, pprl_threshold_edges)
