/* util.h -- small shared pieces: result codes, capped buffers, arenas,
 * error reports that say where and why, key folding.
 *
 * Everything here is plain C17 and knows nothing of SQL, HTML or files
 * beyond what its name says. */
#ifndef SP_UTIL_H
#define SP_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdarg.h>

/* ---- result codes (curl style: 0 is success, callers check every one) */
typedef enum {
    SP_OK = 0,
    SP_EOF = 1,        /* reader: no more rows (not an error) */
    SP_EINPUT = -1,    /* the input was bad; an sp_err says where and why */
    SP_ENOMEM = -2,    /* allocation failed or a cap was hit */
    SP_EIO = -3,       /* reading/writing a file failed */
    SP_EDB = -4,       /* the store failed */
    SP_EUSAGE = -5,    /* the caller asked for something that does not exist */
    SP_EEXIST = -6,    /* already there (duplicate submission, name taken) */
    SP_ELIMIT = -7,    /* input larger than a hard cap */
} sp_rc;

const char *sp_rc_str(int rc);

/* ---- allocation that never returns NULL (aborts with a message: the only
 * sane answer to OOM in a CLI); use for small internal structures. Readers
 * of outside input use caps instead, so OOM means a real machine problem. */
void *sp_xmalloc(size_t n);
void *sp_xcalloc(size_t n, size_t m);
void *sp_xrealloc(void *p, size_t n);
char *sp_xstrdup(const char *s);
char *sp_xstrndup(const char *s, size_t n);

/* ---- capped growable buffer (curl's dynbuf). From sp_buf_init until
 * sp_buf_free or sp_buf_steal, data is always a NUL-terminated string. Appending past `cap` fails with SP_ELIMIT and leaves the
 * buffer as it was. */
typedef struct sp_buf {
    char *data;
    size_t len;
    size_t alloc;
    size_t cap;        /* hard maximum of len */
} sp_buf;

void sp_buf_init(sp_buf *b, size_t cap);
void sp_buf_free(sp_buf *b);
void sp_buf_reset(sp_buf *b);                    /* len = 0, keeps memory */
int sp_buf_add(sp_buf *b, const void *p, size_t n);
int sp_buf_addc(sp_buf *b, char c);
int sp_buf_adds(sp_buf *b, const char *s);
int sp_buf_printf(sp_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Appends s escaped for HTML and XML text or attribute values (& < > " '),
 * dropping control characters and replacing invalid UTF-8 with U+FFFD.
 * The one escape every page, SVG and report uses. */
int sp_buf_add_html(sp_buf *b, const char *s, size_t n);
int sp_buf_add_htmls(sp_buf *b, const char *s);
char *sp_buf_steal(sp_buf *b);  /* caller frees; b is then as after sp_buf_free */

/* ---- arena: many small strings freed at once (one per row, one per
 * codebook). Allocations are 8-byte aligned. */
typedef struct sp_arena_block sp_arena_block;
typedef struct sp_arena {
    sp_arena_block *head;
    size_t used_total;
} sp_arena;

void sp_arena_init(sp_arena *a);
void sp_arena_free(sp_arena *a);
void sp_arena_reset(sp_arena *a);                /* keeps the first block */
void *sp_arena_alloc(sp_arena *a, size_t n);
char *sp_arena_strndup(sp_arena *a, const char *s, size_t n);
char *sp_arena_strdup(sp_arena *a, const char *s);

/* ---- errors that say where and why. One sp_err collects many problems
 * (an import reports every bad cell, not only the first). Strings are
 * copied. `row` and `col` are 1-based as a spreadsheet shows them; 0 means
 * "not applicable". A cap on the number kept stops a bad file from eating
 * memory; `count` keeps counting past it. */
typedef struct sp_problem {
    char *file;
    long row;
    char *column;      /* header text as in the file, or NULL */
    char *value;       /* offending value (truncated to 80 bytes), or NULL */
    char *rule;        /* short machine-readable rule id, e.g. "unknown-code" */
    char *message;     /* a sentence for people */
    int warning;       /* 1: reported but not fatal */
} sp_problem;

typedef struct sp_err {
    sp_problem *items;
    size_t n;          /* kept */
    size_t alloc;
    size_t cap;        /* maximum kept (default 1000) */
    size_t count;      /* errors seen, including those not kept */
    size_t warnings;   /* warnings seen */
} sp_err;

void sp_err_init(sp_err *e);
void sp_err_free(sp_err *e);
void sp_err_clear(sp_err *e);
/* Adds an error; returns SP_EINPUT so callers can `return sp_err_add(...)`. */
int sp_err_add(sp_err *e, const char *file, long row, const char *column,
               const char *value, size_t value_len, const char *rule,
               const char *fmt, ...) __attribute__((format(printf, 8, 9)));
void sp_err_warn(sp_err *e, const char *file, long row, const char *column,
                 const char *value, size_t value_len, const char *rule,
                 const char *fmt, ...) __attribute__((format(printf, 8, 9)));
/* "file:row: column 'X': value 'V': message [rule]" one per line. */
void sp_err_print(const sp_err *e, FILE *out);
/* The message of the last error, or "" */
const char *sp_err_last(const sp_err *e);

/* ---- text helpers */
/* Folds a header, label or value for matching: ASCII letters lower-cased,
 * everything that is not a letter or digit dropped ("Year of Registration"
 * and "year_of_registration" both become "yearofregistration"). UTF-8 bytes
 * >= 0x80 are kept as they are. Writes at most outsz-1 bytes; returns the
 * length written. */
size_t sp_fold(const char *s, size_t n, char *out, size_t outsz);
/* Trims ASCII white space both ends; returns the new length, *s moved. */
size_t sp_trim(const char **s, size_t n);
int sp_streq_nocase(const char *a, const char *b);
/* Is this valid UTF-8? (rejects overlongs, surrogates, > U+10FFFF) */
int sp_utf8_valid(const char *s, size_t n);
/* Parses a whole decimal integer (optional sign, trailing ".0" accepted:
 * spreadsheets write 2016 as "2016.0"). Returns 0 on success. */
int sp_parse_int(const char *s, size_t n, long long *out);
int sp_parse_double(const char *s, size_t n, double *out);

/* ---- hashing */
/* FNV-1a, for hash tables of codebook and gazetteer look-ups. */
uint64_t sp_hash(const void *p, size_t n);
/* SHA-256 of a file as 64 hex chars + NUL into hex[65]. */
int sp_sha256_file(const char *path, char hex[65]);
void sp_sha256_hex(const void *p, size_t n, char hex[65]);

/* ---- a string->int hash map with arena-owned keys (open addressing). */
typedef struct sp_map {
    struct sp_map_slot { const char *key; size_t klen; uint64_t h; int val; } *slots;
    size_t nslots, n;
    sp_arena arena;
} sp_map;
void sp_map_init(sp_map *m);
void sp_map_free(sp_map *m);
/* Adds or replaces; the key is copied. */
void sp_map_put(sp_map *m, const char *key, size_t klen, int val);
/* Returns 1 and sets *val if found. */
int sp_map_get(const sp_map *m, const char *key, size_t klen, int *val);

/* ---- whole files in memory: a regular file is mmap'd read-only (no heap,
 * any size); standard input ("-", called "stdin" in errors) or a pipe is
 * read into the heap up to `cap` bytes (SP_ELIMIT beyond). An empty file
 * gives data "" and len 0. A missing file is SP_EUSAGE, other failures
 * SP_EIO, each with a sentence in err. */
typedef struct sp_file {
    const char *data;
    size_t len;
    int mapped;                /* 1: munmap on close; 0: free */
} sp_file;
int sp_file_open(sp_file *f, const char *path, size_t cap, sp_err *err);
void sp_file_close(sp_file *f);

/* ---- time */
double sp_now(void);                              /* monotonic seconds */
/* ISO 8601 UTC timestamp "2026-11-25T17:21:47Z" into out[21]. */
void sp_utc_now(char out[21]);

#endif
