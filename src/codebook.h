/* codebook.h -- the data standard, loaded from codebook/codebook.json
 * (embedded in the binary at build time).
 *
 * The codebook is data: fields, types, allowed values with labels, help
 * and aliases, which fields are required, multiple or sensitive. Validation,
 * column mapping, exports and docs are all driven from it; no other module
 * hard-codes a value list.
 *
 * A field is top level (a column of a record) or a sub-field of a `group`
 * (a repeatable block such as the places of exploitation, or investigative
 * indicators). Field and code names are [a-z][a-z0-9_]* and, once
 * published, are never renamed or reused: they are marked deprecated. */
#ifndef SP_CODEBOOK_H
#define SP_CODEBOOK_H

#include "util.h"
#include "gazetteer.h"

typedef enum {
    CB_TEXT,      /* free text, max_length bytes of UTF-8 */
    CB_CODE,      /* one of `values` (or several if multiple) */
    CB_INTEGER,   /* whole number within [min, max] */
    CB_DECIMAL,   /* number >= 0 within [min, max] */
    CB_YEAR,      /* a year within [min, max] */
    CB_DATE,      /* YYYY-MM-DD (also Excel serial dates) */
    CB_AGE,       /* age range [lo, hi]: "25", "18-24", "18--20", "48+" */
    CB_COUNTRY,   /* ISO 3166-1 alpha-2 */
    CB_PROVINCE,  /* ISO 3166-2, within the country in `country_field` */
    CB_CURRENCY,  /* ISO 4217 alphabetic code */
    CB_GROUP      /* repeatable group of sub-fields */
} cb_type;

typedef struct cb_value {
    const char *code;
    const char *label;
    const char *help;          /* may be "" */
    const char **aliases;      /* other spellings accepted on import */
    size_t naliases;
    int deprecated;
} cb_value;

typedef struct cb_field cb_field;
struct cb_field {
    int index;                 /* in codebook fields[] or parent->sub[] */
    const char *name;
    const char *label;
    const char *help;
    const char *section;       /* "case", "victim", "places", ... */
    cb_type type;
    int multiple;              /* several values (stored in their own table) */
    int required;
    int sensitive;             /* never published; free text is sensitive */
    int deprecated;
    int encoded;               /* made by spotlight encode (person_clk, ...):
                                  never typed, so not in the case form or the
                                  XLSForm; always sensitive */
    long long min, max;        /* integer, year, age, decimal bounds */
    size_t max_length;         /* text */
    cb_value *values;          /* code */
    size_t nvalues;
    sp_map value_index;        /* folded code/label/alias -> value index */
    const char *country_field; /* province: name of the sibling country field */
    int country_index;         /* ... resolved to its index among siblings */
    cb_field *sub;             /* group */
    size_t nsub;
    int max_repeat;            /* group: at most this many rows */
    cb_field *parent;          /* sub-field: its group; else NULL */
};

typedef struct sp_codebook {
    char *version;             /* "1.0.0" */
    cb_field *fields;
    size_t nfields;
    sp_map name_index;         /* folded name and label -> field index */
    const sp_gazetteer *gaz;   /* borrowed */
    sp_arena arena;            /* owns every string above */
} sp_codebook;

/* One validated, normalised value. `text` is the canonical form that is
 * stored and exported: the code, the ISO code, the trimmed text, the
 * decimal as written by "%.15g", the date as YYYY-MM-DD, the age as "lo-hi".
 * Numbers are also in `i` (integer, year), `d` (decimal), `lo`/`hi` (age). */
typedef struct cb_cell {
    const char *text;          /* NULL: missing */
    long long i;
    double d;
    int lo, hi;
} cb_cell;

/* Loads the codebook embedded in the binary / from a file. `gaz` is
 * borrowed and must outlive the codebook. */
int codebook_load_default(sp_codebook **out, const sp_gazetteer *gaz, sp_err *err);
int codebook_load_file(sp_codebook **out, const char *path, const sp_gazetteer *gaz,
                       sp_err *err);
int codebook_load_mem(sp_codebook **out, const char *json, size_t len,
                      const sp_gazetteer *gaz, sp_err *err);
void codebook_free(sp_codebook *cb);

/* Top-level field by exact name; NULL if none. */
const cb_field *codebook_field(const sp_codebook *cb, const char *name);
/* Sub-field of a group by exact name. */
const cb_field *codebook_subfield(const cb_field *group, const char *name);
/* Top-level field whose folded name or label equals folded `s`. */
const cb_field *codebook_match(const sp_codebook *cb, const char *s, size_t n);
/* Value of a code field by code, label or alias (folded); NULL if none. */
const cb_value *codebook_value(const cb_field *f, const char *s, size_t n);

/* Validates and normalises one raw value for field f (never a group).
 * `country` is the alpha-2 of the related country for a province (may be
 * NULL: then only a full "XX-YY" code is accepted). Strings in `out` are
 * allocated in `a`. Returns 0 with out->text == NULL for an empty value,
 * 0 with the value set, or -1 with *why set to a static or arena sentence
 * and *rule to a short rule id ("unknown-code", "out-of-range", ...). */
int codebook_parse(const sp_codebook *cb, const cb_field *f, const char *raw,
                   size_t n, const char *country, cb_cell *out, sp_arena *a,
                   const char **rule, const char **why);

const char *codebook_type_name(cb_type t);

/* Writes docs/codebook.md (Markdown) describing every field and value. */
int codebook_write_markdown(const sp_codebook *cb, FILE *out);

#endif
