/* keccak.c -- Keccak-f[1600] and the Keccak-256 sponge (see keccak.h).
 * Written from the Keccak reference specification (round constants, rotation
 * offsets, pi lane order); lanes are little-endian 64-bit words. */
#include "keccak.h"

#include <string.h>

static const uint64_t keccak_rc[24] = {
    0x0000000000000001ULL, 0x0000000000008082ULL, 0x800000000000808aULL,
    0x8000000080008000ULL, 0x000000000000808bULL, 0x0000000080000001ULL,
    0x8000000080008081ULL, 0x8000000000008009ULL, 0x000000000000008aULL,
    0x0000000000000088ULL, 0x0000000080008009ULL, 0x000000008000000aULL,
    0x000000008000808bULL, 0x800000000000008bULL, 0x8000000000008089ULL,
    0x8000000000008003ULL, 0x8000000000008002ULL, 0x8000000000000080ULL,
    0x000000000000800aULL, 0x800000008000000aULL, 0x8000000080008081ULL,
    0x8000000000008080ULL, 0x0000000080000001ULL, 0x8000000080008008ULL,
};
/* rho offsets and pi destinations, walked along the lane cycle starting at
 * lane 1 (x=1, y=0), as in the reference "compact" implementation. */
static const unsigned keccak_rotc[24] = {
    1, 3, 6, 10, 15, 21, 28, 36, 45, 55, 2, 14,
    27, 41, 56, 8, 25, 43, 62, 18, 39, 61, 20, 44,
};
static const unsigned keccak_piln[24] = {
    10, 7, 11, 17, 18, 3, 5, 16, 8, 21, 24, 4,
    15, 23, 19, 13, 12, 2, 20, 14, 22, 9, 6, 1,
};

static uint64_t rotl64(uint64_t x, unsigned s)
{
    return (x << s) | (x >> (64 - s));
}

/* The permutation: 24 rounds of theta, rho+pi, chi, iota on st[x + 5y]. */
static void keccak_f1600(uint64_t st[25])
{
    for (int round = 0; round < 24; round++) {
        uint64_t bc[5];
        for (int i = 0; i < 5; i++)
            bc[i] = st[i] ^ st[i + 5] ^ st[i + 10] ^ st[i + 15] ^ st[i + 20];
        for (int i = 0; i < 5; i++) {
            uint64_t t = bc[(i + 4) % 5] ^ rotl64(bc[(i + 1) % 5], 1);
            for (int j = 0; j < 25; j += 5)
                st[j + i] ^= t;
        }
        uint64_t t = st[1];
        for (int i = 0; i < 24; i++) {
            unsigned j = keccak_piln[i];
            uint64_t tmp = st[j];
            st[j] = rotl64(t, keccak_rotc[i]);
            t = tmp;
        }
        for (int j = 0; j < 25; j += 5) {
            for (int i = 0; i < 5; i++)
                bc[i] = st[j + i];
            for (int i = 0; i < 5; i++)
                st[j + i] ^= (~bc[(i + 1) % 5]) & bc[(i + 2) % 5];
        }
        st[0] ^= keccak_rc[round];
    }
}

static void absorb_block(uint64_t st[25], const uint8_t *blk, size_t rate)
{
    for (size_t i = 0; i < rate / 8; i++) {
        uint64_t lane = 0;
        for (int b = 7; b >= 0; b--)
            lane = (lane << 8) | blk[i * 8 + (size_t)b];
        st[i] ^= lane;
    }
    keccak_f1600(st);
}

void keccak256(const void *in, size_t n, uint8_t out[32])
{
    enum { RATE = 136 };
    uint64_t st[25] = {0};
    const uint8_t *p = in;
    while (n >= RATE) {
        absorb_block(st, p, RATE);
        p += RATE;
        n -= RATE;
    }
    uint8_t last[RATE];
    memset(last, 0, sizeof last);
    if (n)
        memcpy(last, p, n);
    last[n] ^= 0x01;          /* Keccak padding, not SHA-3's 0x06 */
    last[RATE - 1] ^= 0x80;
    absorb_block(st, last, RATE);
    for (int i = 0; i < 32; i++)
        out[i] = (uint8_t)(st[i / 8] >> (8 * (i % 8)));
}
