/* keccak.h -- Keccak-256 as Ethereum uses it (EIP-55 checksums).
 *
 * This is the original Keccak submission's padding (domain byte 0x01), not
 * FIPS 202 SHA3-256 (0x06): the two give different digests. Rate 1088 bits,
 * capacity 512, Keccak-f[1600] with 24 rounds. Pure, no allocation. */
#ifndef SP_KECCAK_H
#define SP_KECCAK_H

#include <stddef.h>
#include <stdint.h>

/* Writes the 32-byte Keccak-256 digest of in[0..n) to out. */
void keccak256(const void *in, size_t n, uint8_t out[32]);

#endif
