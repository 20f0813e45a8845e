/* demo.h -- synthetic demo data: fictitious organisations and case records
 * shaped like the hub's seed "data spotlight" on trafficking for forced
 * criminality (scam compounds in Myanmar, Cambodia and Laos).
 *
 * Nothing here is real. Every organisation name starts with "Demo:", every
 * case reference with "DEMO-", every submission is flagged synthetic, and
 * indicator values (phones, wallets, accounts, handles) are random strings
 * that are merely well-formed.
 *
 * Determinism: a seed gives the same records on every machine (own PRNG,
 * xoshiro256** seeded through splitmix64; no libc rand, no locale, no
 * floating point in the draws). Record i depends only on (seed, i), so a
 * prefix of a larger run equals a smaller run with the same seed.
 *
 * Shape: years 2018-2025; online scamming appears in 2022 and grows each
 * year to be the largest industry for the Asian partners by 2024; about 65%
 * men among scam cases; ages mostly 18-34; origin provinces are valid
 * ISO 3166-2 codes; about 20% of cases carry 1-3 investigative indicators,
 * some drawn from a small pool shared between organisations on purpose. */
#ifndef SP_DEMO_H
#define SP_DEMO_H

#include <stdint.h>
#include <stdio.h>

#include "record.h"
#include "store.h"

/* One fictitious organisation. `country` is alpha-2, or NULL for the
 * global (CTDC-style) pool. */
typedef struct demo_org {
    const char *code;          /* short tag used in case_ref: "MRN" */
    const char *name;          /* "Demo: Mekong Return Network" */
    const char *country;
} demo_org;

size_t demo_norgs(void);
const demo_org *demo_org_at(size_t i);

/* A generator: resolves the codebook fields once, owns the shared
 * indicator pool. Borrowed codebook must outlive it. */
typedef struct demo_gen demo_gen;

/* SP_EUSAGE with a sentence in err when the codebook lacks a field or code
 * the generator needs (the codebook changed under it). */
int demo_gen_new(demo_gen **out, const sp_codebook *cb, uint64_t seed, sp_err *err);
void demo_gen_free(demo_gen *g);
/* Fills r (reset first; strings in r->arena or static) with record number
 * i (0-based) and sets *org to its organisation's index. */
void demo_gen_record(demo_gen *g, long long i, sp_record *r, size_t *org);

/* Fills the hub: adds (or reuses) every demo organisation, one synthetic
 * submission ("demo (synthetic)") per organisation, and nrecords records,
 * all in one transaction (rolled back on any error). A second run with the
 * same seed and count is refused with SP_EEXIST (same submission hash). */
int demo_fill(sp_store *s, const sp_codebook *cb, long long nrecords, uint64_t seed,
              sp_err *err);

/* Writes nrecords of the same records as an importable CSV: the header is
 * the layout's column names (sensitive columns included), one row per
 * record, cells as layout_cell_text gives them, RFC 4180 quoting, LF line
 * ends, UTF-8 without BOM. Values are NOT formula-neutralised: the file is
 * meant for import, where a phone "+855..." must stay as it is. Output is
 * buffered; memory is constant in nrecords. */
int demo_write_csv(FILE *out, const sp_codebook *cb, long long nrecords, uint64_t seed,
                   sp_err *err);

#endif
