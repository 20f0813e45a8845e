/* link.h -- linking the same person across organisations at the hub:
 * the live records' person encodings (person_clk, person_block) compared
 * with pprl_link_orgs, the links stored as proposed, duplicates
 * recomputed so every aggregate counts a person once. See
 * docs/linkage.md. */
#ifndef SP_LINK_H
#define SP_LINK_H

#include "store.h"

#include <stdint.h>

#define LINK_THRESHOLD_DEFAULT 0.8
#define LINK_MAX_CANDIDATES 4000000u

typedef struct link_report {
    size_t records;            /* live records with a person_clk */
    size_t unusable;           /* of those, a clk or block that does not decode */
    size_t blocks;             /* blocks among the usable ones */
    uint64_t comparisons;      /* Dice computations */
    uint64_t candidates;       /* pairs at or above the threshold */
    size_t links;              /* new proposed links (one to one per organisation pair) */
    size_t decided;            /* confirmed or rejected links kept as they are */
    long long dups;            /* records counted in another's place after the run */
} link_report;

/* Links at `threshold` (0 < t <= 1). Inside the caller's transaction
 * (store_begin: the caller audits in it) or in one of its own. dry_run:
 * everything is computed and *rep filled, and what would be stored is
 * rolled back (not inside a caller's transaction). Errors name why (no
 * person fields in the codebook, too many candidates). */
int link_run(sp_store *s, double threshold, int dry_run, link_report *rep, sp_err *err);

/* Decodes a stored person_clk (standard base64 of 128 bytes) into words
 * and its popcount, and a person_block (16 lowercase or uppercase hex).
 * -1 when it is not one. */
int link_decode_clk(const char *b64, uint64_t out[16], uint16_t *pc);
int link_decode_block(const char *hex, uint64_t *out);

/* Parses "A-B" (two record ids, decimal, 1..2^53) from a URL path segment
 * of exactly len bytes. -1 when it is not that. */
int link_parse_pair(const char *s, size_t len, long long *a, long long *b);

#endif
