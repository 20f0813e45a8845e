/* util.c -- see util.h. */
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <fcntl.h>
#include <sodium.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

const char *sp_rc_str(int rc)
{
    switch (rc) {
    case SP_OK: return "ok";
    case SP_EOF: return "end of input";
    case SP_EINPUT: return "the input was refused";
    case SP_ENOMEM: return "out of memory";
    case SP_EIO: return "input/output error";
    case SP_EDB: return "database error";
    case SP_EUSAGE: return "usage error";
    case SP_EEXIST: return "already exists";
    case SP_ELIMIT: return "input exceeds a size limit";
    default: return "unknown error";
    }
}

static void oom(size_t n)
{
    fprintf(stderr, "spotlight: out of memory (asked for %zu bytes)\n", n);
    abort();
}

void *sp_xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p) oom(n);
    return p;
}

void *sp_xcalloc(size_t n, size_t m)
{
    void *p = calloc(n ? n : 1, m ? m : 1);
    if (!p) oom(n * m);
    return p;
}

void *sp_xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q) oom(n);
    return q;
}

char *sp_xstrdup(const char *s)
{
    return sp_xstrndup(s, strlen(s));
}

char *sp_xstrndup(const char *s, size_t n)
{
    char *p = sp_xmalloc(n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

/* ------------------------------------------------------------ sp_buf */

void sp_buf_init(sp_buf *b, size_t cap)
{
    /* allocate at once so that data is always a valid C string */
    b->alloc = cap + 1 < 64 ? cap + 1 : 64;
    b->data = sp_xmalloc(b->alloc);
    b->data[0] = '\0';
    b->len = 0;
    b->cap = cap;
}

void sp_buf_free(sp_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->alloc = 0;
}

void sp_buf_reset(sp_buf *b)
{
    b->len = 0;
    if (b->data) b->data[0] = '\0';
}

int sp_buf_add(sp_buf *b, const void *p, size_t n)
{
    if (n > b->cap || b->len > b->cap - n) return SP_ELIMIT;
    if (b->len + n + 1 > b->alloc) {
        size_t na = b->alloc ? b->alloc : 64;
        while (na < b->len + n + 1) na *= 2;
        if (na > b->cap + 1) na = b->cap + 1;
        b->data = sp_xrealloc(b->data, na);
        b->alloc = na;
    }
    if (n) memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return SP_OK;
}

int sp_buf_addc(sp_buf *b, char c)
{
    if (b->len + 1 < b->alloc) {  /* fast path for byte-at-a-time parsers */
        b->data[b->len++] = c;
        b->data[b->len] = '\0';
        return SP_OK;
    }
    return sp_buf_add(b, &c, 1);
}

int sp_buf_adds(sp_buf *b, const char *s)
{
    return sp_buf_add(b, s, strlen(s));
}

int sp_buf_printf(sp_buf *b, const char *fmt, ...)
{
    char small[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) return SP_EINPUT;
    if ((size_t)n < sizeof small) return sp_buf_add(b, small, (size_t)n);
    char *big = sp_xmalloc((size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    int rc = sp_buf_add(b, big, (size_t)n);
    free(big);
    return rc;
}

int sp_buf_add_html(sp_buf *b, const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0, run = 0;
    int rc = SP_OK;
    while (i < n && !rc) {
        unsigned c = p[i];
        const char *rep = NULL;
        size_t adv = 1;
        if (c == '&') rep = "&amp;";
        else if (c == '<') rep = "&lt;";
        else if (c == '>') rep = "&gt;";
        else if (c == '"') rep = "&quot;";
        else if (c == '\'') rep = "&#39;";
        else if ((c < 0x20 && c != '\t' && c != '\n') || c == 0x7f) rep = "";
        else if (c >= 0x80) {
            size_t k = (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 0;
            if (k && i + k <= n && sp_utf8_valid(s + i, k)) {
                i += k;
                run += k;
                continue;
            }
            rep = "\xEF\xBF\xBD"; /* U+FFFD */
        } else {
            i++;
            run++;
            continue;
        }
        if (run) rc = sp_buf_add(b, s + i - run, run);
        run = 0;
        if (!rc) rc = sp_buf_adds(b, rep);
        i += adv;
    }
    if (!rc && run) rc = sp_buf_add(b, s + i - run, run);
    return rc;
}

int sp_buf_add_htmls(sp_buf *b, const char *s)
{
    return sp_buf_add_html(b, s, strlen(s));
}

char *sp_buf_steal(sp_buf *b)
{
    char *p = b->data ? b->data : sp_xstrdup("");
    b->data = NULL;
    b->len = b->alloc = 0;
    return p;
}

/* ------------------------------------------------------------ arena */

struct sp_arena_block {
    sp_arena_block *next;
    size_t size, used;
    _Alignas(16) unsigned char mem[];
};

#define ARENA_BLOCK 65536

void sp_arena_init(sp_arena *a)
{
    a->head = NULL;
    a->used_total = 0;
}

void sp_arena_free(sp_arena *a)
{
    sp_arena_block *b = a->head;
    while (b) {
        sp_arena_block *n = b->next;
        free(b);
        b = n;
    }
    a->head = NULL;
    a->used_total = 0;
}

void sp_arena_reset(sp_arena *a)
{
    if (!a->head) return;
    /* keep the last (oldest, first-allocated) block, free the rest */
    sp_arena_block *b = a->head;
    while (b->next) {
        sp_arena_block *n = b->next;
        free(b);
        b = n;
    }
    b->used = 0;
    a->head = b;
    a->used_total = 0;
}

void *sp_arena_alloc(sp_arena *a, size_t n)
{
    n = (n + 7) & ~(size_t)7;
    if (!a->head || a->head->size - a->head->used < n) {
        size_t sz = n > ARENA_BLOCK ? n : ARENA_BLOCK;
        sp_arena_block *b = sp_xmalloc(sizeof *b + sz);
        b->size = sz;
        b->used = 0;
        b->next = a->head;
        a->head = b;
    }
    void *p = a->head->mem + a->head->used;
    a->head->used += n;
    a->used_total += n;
    return p;
}

char *sp_arena_strndup(sp_arena *a, const char *s, size_t n)
{
    char *p = sp_arena_alloc(a, n + 1);
    if (n) memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *sp_arena_strdup(sp_arena *a, const char *s)
{
    return sp_arena_strndup(a, s, strlen(s));
}

/* ------------------------------------------------------------ errors */

void sp_err_init(sp_err *e)
{
    memset(e, 0, sizeof *e);
    e->cap = 1000;
}

static void problem_free(sp_problem *p)
{
    free(p->file);
    free(p->column);
    free(p->value);
    free(p->rule);
    free(p->message);
}

void sp_err_clear(sp_err *e)
{
    for (size_t i = 0; i < e->n; i++) problem_free(&e->items[i]);
    e->n = 0;
    e->count = 0;
    e->warnings = 0;
}

void sp_err_free(sp_err *e)
{
    sp_err_clear(e);
    free(e->items);
    e->items = NULL;
    e->alloc = 0;
}

static void err_vadd(sp_err *e, int warning, const char *file, long row,
                     const char *column, const char *value, size_t vlen,
                     const char *rule, const char *fmt, va_list ap)
{
    if (warning) e->warnings++;
    else e->count++;
    if (e->n >= e->cap) return;
    if (e->n == e->alloc) {
        e->alloc = e->alloc ? e->alloc * 2 : 16;
        e->items = sp_xrealloc(e->items, e->alloc * sizeof *e->items);
    }
    sp_problem *p = &e->items[e->n++];
    memset(p, 0, sizeof *p);
    p->warning = warning;
    p->file = file ? sp_xstrdup(file) : NULL;
    p->row = row;
    p->column = column ? sp_xstrdup(column) : NULL;
    if (value) {
        size_t n = vlen > 80 ? 80 : vlen;
        /* do not cut a UTF-8 sequence in half */
        while (n > 0 && n < vlen && ((unsigned char)value[n] & 0xC0) == 0x80) n--;
        p->value = sp_xmalloc(n + 4);
        memcpy(p->value, value, n);
        if (n < vlen) memcpy(p->value + n, "...", 4);
        else p->value[n] = '\0';
        /* control characters would garble a terminal: show them as '?' */
        for (char *c = p->value; *c; c++)
            if ((unsigned char)*c < 0x20 || *c == 0x7f) *c = '?';
    }
    p->rule = rule ? sp_xstrdup(rule) : NULL;
    char msg[1024];
    vsnprintf(msg, sizeof msg, fmt, ap);
    p->message = sp_xstrdup(msg);
}

int sp_err_add(sp_err *e, const char *file, long row, const char *column,
               const char *value, size_t value_len, const char *rule,
               const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    err_vadd(e, 0, file, row, column, value, value_len, rule, fmt, ap);
    va_end(ap);
    return SP_EINPUT;
}

void sp_err_warn(sp_err *e, const char *file, long row, const char *column,
                 const char *value, size_t value_len, const char *rule,
                 const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    err_vadd(e, 1, file, row, column, value, value_len, rule, fmt, ap);
    va_end(ap);
}

void sp_err_print(const sp_err *e, FILE *out)
{
    for (size_t i = 0; i < e->n; i++) {
        const sp_problem *p = &e->items[i];
        if (p->file) fprintf(out, "%s:", p->file);
        if (p->row) fprintf(out, "%ld:", p->row);
        fprintf(out, " %s", p->warning ? "warning: " : "");
        if (p->column) fprintf(out, "column '%s': ", p->column);
        if (p->value) fprintf(out, "value '%s': ", p->value);
        fprintf(out, "%s", p->message);
        if (p->rule) fprintf(out, " [%s]", p->rule);
        fputc('\n', out);
    }
    size_t kept_err = 0;
    for (size_t i = 0; i < e->n; i++) kept_err += !e->items[i].warning;
    if (e->count > kept_err)
        fprintf(out, "... and %zu more errors not shown\n", e->count - kept_err);
}

const char *sp_err_last(const sp_err *e)
{
    return e->n ? e->items[e->n - 1].message : "";
}

/* ------------------------------------------------------------ text */

size_t sp_fold(const char *s, size_t n, char *out, size_t outsz)
{
    size_t o = 0;
    if (!outsz) return 0;
    for (size_t i = 0; i < n && o + 1 < outsz; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 'A' && c <= 'Z') out[o++] = (char)(c + 32);
        else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c >= 0x80)
            out[o++] = (char)c;
    }
    out[o] = '\0';
    return o;
}

size_t sp_trim(const char **s, size_t n)
{
    const char *p = *s;
    while (n && isspace((unsigned char)*p)) p++, n--;
    while (n && isspace((unsigned char)p[n - 1])) n--;
    *s = p;
    return n;
}

int sp_streq_nocase(const char *a, const char *b)
{
    for (; *a && *b; a++, b++)
        if (tolower((unsigned char)*a) != tolower((unsigned char)*b)) return 0;
    return *a == *b;
}

int sp_utf8_valid(const char *str, size_t n)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;
    while (i < n) {
        unsigned c = s[i];
        if (c < 0x80) { i++; continue; }
        size_t k;
        unsigned cp, min;
        if ((c & 0xE0) == 0xC0) { k = 1; cp = c & 0x1F; min = 0x80; }
        else if ((c & 0xF0) == 0xE0) { k = 2; cp = c & 0x0F; min = 0x800; }
        else if ((c & 0xF8) == 0xF0) { k = 3; cp = c & 0x07; min = 0x10000; }
        else return 0;
        if (i + k >= n) return 0;  /* truncated sequence */
        for (size_t j = 1; j <= k; j++) {
            if ((s[i + j] & 0xC0) != 0x80) return 0;
            cp = (cp << 6) | (s[i + j] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
        i += k + 1;
    }
    return 1;
}

int sp_parse_int(const char *s, size_t n, long long *out)
{
    n = sp_trim(&s, n);
    if (n == 0 || n > 40) return -1;
    /* accept a trailing ".0", ".00" ... (spreadsheets, pandas) */
    size_t m = n;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '.') {
            for (size_t j = i + 1; j < n; j++)
                if (s[j] != '0') return -1;
            m = i;
            break;
        }
    }
    size_t i = 0;
    int neg = 0;
    if (s[0] == '-' || s[0] == '+') { neg = s[0] == '-'; i = 1; }
    if (i >= m) return -1;
    long long v = 0;
    for (; i < m; i++) {
        if (s[i] < '0' || s[i] > '9') return -1;
        if (v > (LLONG_MAX - 9) / 10) return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = neg ? -v : v;
    return 0;
}

int sp_parse_double(const char *s, size_t n, double *out)
{
    n = sp_trim(&s, n);
    if (n == 0 || n > 64) return -1;
    char tmp[65];
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    for (size_t i = 0; i < n; i++) /* no hex floats, inf or nan */
        if (!strchr("0123456789.+-eE", tmp[i])) return -1;
    char *end;
    errno = 0;
    double v = strtod(tmp, &end);
    if (*end || errno || !isfinite(v)) return -1;
    *out = v;
    return 0;
}

/* ------------------------------------------------------------ hashing */

uint64_t sp_hash(const void *p, size_t n)
{
    const unsigned char *s = p;
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++) {
        h ^= s[i];
        h *= 1099511628211ULL;
    }
    return h;
}

static void to_hex(const unsigned char *d, size_t n, char *hex)
{
    static const char x[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        hex[2 * i] = x[d[i] >> 4];
        hex[2 * i + 1] = x[d[i] & 15];
    }
    hex[2 * n] = '\0';
}

void sp_sha256_hex(const void *p, size_t n, char hex[65])
{
    unsigned char d[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(d, p, n);
    to_hex(d, sizeof d, hex);
}

int sp_sha256_file(const char *path, char hex[65])
{
    FILE *f = fopen(path, "rb");
    if (!f) return SP_EIO;
    crypto_hash_sha256_state st;
    crypto_hash_sha256_init(&st);
    unsigned char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        crypto_hash_sha256_update(&st, buf, n);
    int bad = ferror(f);
    fclose(f);
    if (bad) return SP_EIO;
    unsigned char d[crypto_hash_sha256_BYTES];
    crypto_hash_sha256_final(&st, d);
    to_hex(d, sizeof d, hex);
    return SP_OK;
}

/* ------------------------------------------------------------ map */

void sp_map_init(sp_map *m)
{
    m->slots = NULL;
    m->nslots = m->n = 0;
    sp_arena_init(&m->arena);
}

void sp_map_free(sp_map *m)
{
    free(m->slots);
    sp_arena_free(&m->arena);
    m->slots = NULL;
    m->nslots = m->n = 0;
}

static void map_grow(sp_map *m)
{
    size_t nn = m->nslots ? m->nslots * 2 : 64;
    struct sp_map_slot *ns = sp_xcalloc(nn, sizeof *ns);
    for (size_t i = 0; i < m->nslots; i++) {
        struct sp_map_slot *s = &m->slots[i];
        if (!s->key) continue;
        size_t j = s->h & (nn - 1);
        while (ns[j].key) j = (j + 1) & (nn - 1);
        ns[j] = *s;
    }
    free(m->slots);
    m->slots = ns;
    m->nslots = nn;
}

void sp_map_put(sp_map *m, const char *key, size_t klen, int val)
{
    if ((m->n + 1) * 2 > m->nslots) map_grow(m);
    uint64_t h = sp_hash(key, klen);
    size_t j = h & (m->nslots - 1);
    while (m->slots[j].key) {
        struct sp_map_slot *s = &m->slots[j];
        if (s->h == h && s->klen == klen && memcmp(s->key, key, klen) == 0) {
            s->val = val;
            return;
        }
        j = (j + 1) & (m->nslots - 1);
    }
    m->slots[j].key = sp_arena_strndup(&m->arena, key, klen);
    m->slots[j].klen = klen;
    m->slots[j].h = h;
    m->slots[j].val = val;
    m->n++;
}

int sp_map_get(const sp_map *m, const char *key, size_t klen, int *val)
{
    if (!m->nslots) return 0;
    uint64_t h = sp_hash(key, klen);
    size_t j = h & (m->nslots - 1);
    while (m->slots[j].key) {
        const struct sp_map_slot *s = &m->slots[j];
        if (s->h == h && s->klen == klen && memcmp(s->key, key, klen) == 0) {
            *val = s->val;
            return 1;
        }
        j = (j + 1) & (m->nslots - 1);
    }
    return 0;
}

/* ------------------------------------------------------------ files */

int sp_file_open(sp_file *f, const char *path, size_t cap, sp_err *err)
{
    f->data = "";
    f->len = 0;
    f->mapped = 0;
    int is_stdin = strcmp(path, "-") == 0;
    int fd = is_stdin ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC);
    if (is_stdin) path = "stdin";
    if (fd < 0) {
        int e = errno;
        sp_err_add(err, path, 0, NULL, NULL, 0, "cannot-open", "cannot open the file: %s",
                   strerror(e));
        return e == ENOENT ? SP_EUSAGE : SP_EIO;
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        if (fd != STDIN_FILENO) close(fd);
        return sp_err_add(err, path, 0, NULL, NULL, 0, "cannot-open",
                          "cannot read: %s", strerror(e)), SP_EIO;
    }
    if (S_ISDIR(st.st_mode)) {
        if (fd != STDIN_FILENO) close(fd);
        return sp_err_add(err, path, 0, NULL, NULL, 0, "cannot-open",
                          "is a directory (a folder), not a file"), SP_EIO;
    }
    if (S_ISREG(st.st_mode) && st.st_size > 0) {
        /* a regular file costs address space, not heap: no cap */
        void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (fd != STDIN_FILENO) close(fd);
        if (p == MAP_FAILED)
            return sp_err_add(err, path, 0, NULL, NULL, 0, "cannot-open",
                              "cannot map the file: %s", strerror(errno)), SP_EIO;
        madvise(p, (size_t)st.st_size, MADV_SEQUENTIAL);
        f->data = p;
        f->len = (size_t)st.st_size;
        f->mapped = 1;
        return SP_OK;
    }
    /* a pipe, standard input or an empty file: read it */
    sp_buf b;
    sp_buf_init(&b, cap);
    char chunk[65536];
    int rc = SP_OK;
    for (;;) {
        ssize_t n = read(fd, chunk, sizeof chunk);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            sp_err_add(err, path, 0, NULL, NULL, 0, "cannot-read",
                       "read failed: %s", strerror(errno));
            rc = SP_EIO;
            break;
        }
        if (n == 0) break;
        if (sp_buf_add(&b, chunk, (size_t)n)) {
            sp_err_add(err, path, 0, NULL, NULL, 0, "file-too-large",
                       "a stream larger than %zu MB; give a regular file name instead "
                       "(files have no such limit)", cap / (1024 * 1024));
            rc = SP_ELIMIT;
            break;
        }
    }
    if (fd != STDIN_FILENO) close(fd);
    if (rc) {
        sp_buf_free(&b);
        return rc;
    }
    f->len = b.len;
    f->data = b.data ? sp_buf_steal(&b) : sp_xstrdup("");
    return SP_OK;
}

void sp_file_close(sp_file *f)
{
    if (f->mapped) munmap((void *)f->data, f->len);
    else if (f->data) free((void *)f->data);
    f->data = NULL;
    f->len = 0;
    f->mapped = 0;
}

/* ------------------------------------------------------------ time */

double sp_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void sp_utc_now(char out[21])
{
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 21, "%Y-%m-%dT%H:%M:%SZ", &tm);
}
