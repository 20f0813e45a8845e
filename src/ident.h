/* ident.h -- normalise and check investigative identifiers (the codebook's
 * "indicators" group): IBAN, bank account, phone (E.164), crypto wallets
 * (Bitcoin, Ethereum/BSC, TRON), email, social handles, websites, company and
 * compound names. Pure: no SQL, no I/O besides the embedded calling-code
 * table. Rules and canonical forms: docs/identifiers.md. */
#ifndef SP_IDENT_H
#define SP_IDENT_H

#include <stddef.h>

enum {
    IDENT_VALID = 0,         /* out holds the canonical form */
    IDENT_INVALID = 1,       /* out holds a best-effort normalised form, *why the reason */
    IDENT_UNKNOWN_TYPE = 2,  /* type is not an indicator type; out is "" */
};

/* Inputs longer than this are refused as invalid (nothing is copied). */
#define IDENT_MAX_INPUT 1024

/* Normalises raw[0..n) (need not be NUL-terminated) as an identifier of
 * `type` ("iban", "bank_account", "crypto_wallet", "phone", "email",
 * "social_handle", "website", "company", "compound"). chain_or_platform is
 * the wallet's chain (bitcoin, ethereum, bsc, tron, other) or the handle's
 * platform (telegram, facebook, ...), NULL or "" when not known;
 * country_alpha2 is the case's country ("KH"), used for phone numbers that
 * have no + prefix; may be NULL. out (outsz bytes, always NUL-terminated when
 * outsz > 0) receives the canonical or best-effort form; a form that does not
 * fit makes the result IDENT_INVALID. *why (may be NULL) is set to a
 * sentence saying why a value is invalid, or to a note on a valid value that
 * could not be checked, else NULL; it points to static or thread-local
 * storage that stays valid until this thread's next call. */
int ident_normalise(const char *type, const char *chain_or_platform,
                    const char *country_alpha2, const char *raw, size_t n,
                    char *out, size_t outsz, const char **why);

/* Looks up the case-insensitive ISO alpha-2 code in the embedded
 * codebook/calling_codes.tsv: code gets the E.164 calling code ("855"),
 * trunk the national trunk prefix ("0", "" when none). Returns 1 when found,
 * 0 when not (code and trunk are then ""). */
int ident_calling_code(const char *alpha2, char code[8], char trunk[8]);

#endif
