/* encode.h -- keyed match keys for identifiers, and `spotlight encode`: the
 * partner-side step that turns a case file into one the hub may receive
 * (docs/identifiers.md, docs/investigations.md).
 *
 * An indicator's match key is "h1:" + 64 lowercase hex: BLAKE2b-256 keyed
 * with the organisations' shared 32-byte key over
 * "spotlight/indicator/v1" NUL type NUL canonical-value. A value that
 * ident_normalise flags invalid is written "h1x:" + the same hash.
 * The clear identifying columns (given_name, family_name, birth_date, sex,
 * document_number) become person_clk, person_block and person_doc and are
 * dropped. Nothing here keeps a clear value longer than one row. */
#ifndef SP_ENCODE_H
#define SP_ENCODE_H

#include "codebook.h"
#include "reader.h"
#include "record.h"
#include "store.h"
#include "util.h"

#include <stdint.h>
#include <stdio.h>

#define ENCODE_KEY_BYTES 32
#define ENCODE_HASH_CAP 72         /* "h1x:" + 64 hex + NUL, rounded up */
#define ENCODE_CLK_CHARS 172       /* base64 of 128 bytes */
#define ENCODE_BLOCK_CHARS 16

/* Writes a new random key file at path (64 lowercase hex and a newline,
 * mode 0600). Refuses an existing path. */
int encode_key_new(const char *path, sp_err *err);
/* Reads a key file: it must be exactly 64 hex characters and a newline
 * (a trailing CRLF is accepted) and must not be readable by group or
 * others (refused, with the chmod to run). */
int encode_key_load(const char *path, uint8_t key[ENCODE_KEY_BYTES], sp_err *err);

/* The match key of a canonical value of indicator `type` into out:
 * "h1:<hex>" when valid, "h1x:<hex>" when not. */
void encode_hash(const uint8_t key[ENCODE_KEY_BYTES], const char *type,
                 const char *canon, int valid, char out[ENCODE_HASH_CAP]);

/* Is s[0..n) a match key? 1: "h1:<64 lowercase hex>" (*valid = 1) or
 * "h1x:<64 lowercase hex>" (*valid = 0); 0: it does not start with "h1:"
 * or "h1x:" (a clear value); -1: it starts so but is malformed. */
int encode_is_hash(const char *s, size_t n, int *valid);
/* person_clk: standard base64 of exactly 128 bytes? person_block: 16
 * lowercase hex? (1 yes, 0 no) */
int encode_is_clk(const char *s, size_t n);
int encode_is_block(const char *s, size_t n);

/* The clear identifying column a header names (folded: "Given name",
 * "first_name", "DOB", "passport number", ...): "given_name",
 * "family_name", "birth_date", "sex", "document_number", or NULL. */
const char *encode_clear_column(const char *header, size_t n);

/* The country a record's phone numbers without + are read in: its
 * nationality, else its origin country (alpha-2 codes or NULL). The hub
 * and spotlight encode use this same rule, so both hash the same form. */
const char *encode_phone_country(const char *nationality, const char *origin);

/* Normalises one indicator value as the hub stores it and hashes it:
 * canon (cap bytes) gets ident_normalise's form, *valid 1/0, *why the
 * reason when invalid (static text). A type that is not an indicator type
 * gives the trimmed value, valid 0. */
void encode_indicator_canon(const char *type, const char *chain, const char *platform,
                            const char *country, const char *raw, size_t n,
                            char *canon, size_t cap, int *valid, const char **why);

typedef struct encode_opts {
    const char *mapping;       /* built-in name or file; NULL: by column name */
    const char *sheet;         /* XLSX sheet; NULL: the first */
    sp_format format;          /* SP_FMT_AUTO: detect */
} encode_opts;

/* Encodes the file in data[0..len) (named `name` in messages) into out as
 * CSV (reset first). All or nothing: on any row error (reported
 * file:row: column: why, never echoing a clear identifying value) out is
 * left empty and SP_EINPUT returned. Warnings (indicator values flagged
 * invalid) do not stop it. */
int encode_buffer(const uint8_t key[ENCODE_KEY_BYTES], const sp_codebook *cb,
                  const void *data, size_t len, const char *name,
                  const encode_opts *o, sp_buf *out, sp_err *err);
/* The same for a file path ("-": standard input), written to f only when
 * the whole file encoded. */
int encode_file(const uint8_t key[ENCODE_KEY_BYTES], const sp_codebook *cb,
                const char *path, const encode_opts *o, FILE *f, sp_err *err);

/* spotlight rehash: fills the hash of every indicator key that has none
 * (values shared in the clear while the hub had no key) and adds the
 * keys of indicator rows that have none (stored by the case form, or
 * before match keys existed), in one transaction with an audit entry
 * ("rehash"). *hashed gets how many. */
int encode_rehash(sp_store *s, const uint8_t key[ENCODE_KEY_BYTES], long long *hashed,
                  sp_err *err);

#endif
