/* person.h -- a person's identifying fields turned into a record-linkage
 * encoding at the partner (spotlight encode): name normalisation for
 * Southeast Asian names, field weights, the year-of-birth salt and the
 * block key, on top of pprl.h. Pure: no SQL, no files. docs/linkage.md
 * ("Person encoding", "Accuracy").
 *
 * Input strings are NUL-terminated UTF-8, "" (or NULL) = unknown, each at
 * most PERSON_MAX_FIELD bytes. Nothing is kept: the clear values live only
 * on the caller's side; person.c wipes its copies. */
#ifndef SP_PERSON_H
#define SP_PERSON_H

#include "pprl.h"
#include "util.h"

#include <stddef.h>
#include <stdint.h>

#define PERSON_MAX_FIELD PPRL_MAX_VALUE     /* bytes per input field */
#define PERSON_NORM_CAP (PPRL_MAX_VALUE + 1) /* a normalised name, with NUL */

typedef struct person_in {
    const char *given;        /* given name(s), any order of words */
    const char *family;       /* family name; "" for people who have none */
    const char *birth_date;   /* yyyy-mm-dd, yyyy-mm or yyyy */
    const char *sex;          /* f/female/woman.., m/male/man.., other text kept */
    const char *nationality;  /* the codebook's country code (e.g. VNM) */
} person_in;

/* How a person is encoded. A weight is k, the bits per token (0 leaves
 * the field out). The study (bench/linkage_study.c) varies these; partners
 * and the hub use person_default only: encodings made with other
 * parameters do not compare. */
typedef enum {
    PERSON_BLOCK_YOB_SEX = 0, /* keyed hash of (year of birth, sex) */
    PERSON_BLOCK_YOB,         /* keyed hash of the year of birth (default) */
    PERSON_BLOCK_FAMILY,      /* keyed first bigram of the family name */
} person_block_mode;

typedef struct person_params {
    unsigned k_given;   /* bigrams of the given name */
    unsigned k_family;  /* bigrams of the family name */
    unsigned k_name;    /* bigrams of every word of both, as a set: order-free */
    unsigned k_date;    /* month and day, each one token (year: the salt) */
    unsigned k_daymonth;/* the unordered pair {day, month}: survives a swap */
    unsigned k_sex;
    unsigned k_nat;
    int salt_yob;       /* 1: the year of birth salts every hash ("" if unknown) */
    person_block_mode block;
} person_params;

extern const person_params person_default;

/* Encodes one person with person_default: clk[PPRL_WORDS] and *pc (its
 * popcount) for person_clk, *block for person_block (print as %016llx).
 * A person with neither given nor family name gets no encoding: SP_OK with
 * *pc = 0 and *block = 0 (the caller leaves person_clk empty).
 * Bad input (invalid UTF-8, too long, a date that does not exist) adds an
 * sp_err whose column is the input column (given_name, family_name,
 * birth_date, sex, nationality) and returns SP_EINPUT / SP_ELIMIT; clk is
 * then zero. A person with no field at all is SP_EINPUT too. */
int person_encode(const uint8_t key[32], const person_in *in,
                  uint64_t clk[PPRL_WORDS], uint16_t *pc, uint64_t *block,
                  sp_err *err);
int person_encode_with(const person_params *p, const uint8_t key[32],
                       const person_in *in, uint64_t clk[PPRL_WORDS],
                       uint16_t *pc, uint64_t *block, sp_err *err);

/* The name folding (exposed for tests and the study): NFKD, combining
 * marks dropped after Latin, Greek and Cyrillic letters (kept in the
 * abugidas: Thai, Lao, Khmer, Burmese vowels are marks), đ->d and a few
 * letters that do not decompose, case folded, NFKC, every run of
 * non-letters/digits one space, trimmed. "Nguyễn  Thị-Ánh" -> "nguyen thi
 * anh". Writes out[PERSON_NORM_CAP]; SP_EINPUT (invalid UTF-8) or
 * SP_ELIMIT (too long, before or after folding) with an err naming column. */
int person_norm_name(const char *s, const char *column, char out[PERSON_NORM_CAP],
                     sp_err *err);

/* Parses a birth date: "" -> all 0; yyyy, yyyy-mm, yyyy-mm-dd (year
 * 1900-2099, a real calendar day) -> *y, *m, *d (0 = not given). */
int person_parse_date(const char *s, int *y, int *m, int *d, sp_err *err);

#endif
