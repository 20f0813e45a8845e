/* import.h -- a submission: a file read, its columns mapped to codebook
 * fields, every cell validated, and the records stored in one transaction.
 *
 * A submission is stored whole or not at all: if any row has an error,
 * nothing is stored and every problem (file, row, column, value, rule) is
 * in the sp_err. Warnings (unknown columns, an organisation added) do not
 * stop an import. */
#ifndef SP_IMPORT_H
#define SP_IMPORT_H

#include "reader.h"
#include "store.h"

typedef struct import_opts {
    const char *org;           /* reporting organisation (added if new) */
    const char *mapping;       /* built-in name or file; NULL: by column name */
    const char *sheet;         /* XLSX sheet; NULL: the first */
    sp_format format;          /* SP_FMT_AUTO: detect */
    int dry_run;               /* validate only; store nothing */
    int replace;               /* replace this org's records with the same
                                  case references, and allow the same file */
    int progress;              /* print a progress line on stderr */
    int synthetic;             /* flag the submission as synthetic */
} import_opts;

typedef struct import_result {
    long long rows;            /* data rows read */
    long long stored;          /* records stored (0 on a dry run) */
    long long replaced;        /* earlier records replaced */
    long long submission_id;
    int org_created;
    char sha256[65];
} import_result;

/* The hub's copy of the organisations' key (spotlight import|serve --key,
 * SPOTLIGHT_KEY_FILE): the match keys of indicator values shared in the
 * clear are made with it at import. Without one they are stored with no
 * hash until spotlight rehash. Copied; set once, before any import runs
 * (NULL forgets it). */
void import_set_key(const uint8_t *key32);

/* One record typed in the case form (portal_cases.c), held to the rules
 * of a row of a file: identifiers checks its encodings and indicators
 * (indicator values in the clear normalised in place, an invalid one kept
 * with a warning in err) and returns SP_EINPUT when err got errors; keys
 * writes the match keys of its indicators for the stored record_id,
 * inside the caller's transaction (hashed when the hub has the key). */
int import_record_identifiers(const sp_codebook *cb, sp_record *r, sp_err *err);
int import_record_keys(sp_store *s, const sp_codebook *cb, const sp_record *r, long long record_id);

/* Imports the file at path ("-": standard input). */
int import_file(sp_store *s, const sp_codebook *cb, const char *path,
                const import_opts *o, import_result *res, sp_err *err);
/* Imports a buffer (HTTP uploads); `name` is what errors call it. */
int import_buffer(sp_store *s, const sp_codebook *cb, const void *data,
                  size_t len, const char *name, const import_opts *o,
                  import_result *res, sp_err *err);

#endif
