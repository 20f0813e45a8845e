/* serve.c -- see serve.h.
 *
 * Each worker thread owns: an epoll loop, its own SO_REUSEPORT listening
 * socket (the kernel spreads connections), its own store connection, its
 * own response cache and its own connections, so the hot path takes no
 * lock. A response is queued as up to three references: the cached head
 * (status line and fixed headers), a per-second tail (Date, Connection,
 * blank line) and the cached body; each points into a refcounted buffer,
 * so a cache hit copies no bytes and allocates nothing, and an entry
 * evicted while still being written stays alive until the write ends.
 *
 * The hub's data generation is checked at most every 100 ms per worker;
 * when it moves, the worker's cache is dropped. */
#define _GNU_SOURCE 1   /* accept4 */
#include "serve.h"
#include "api.h"
#include "page.h"
#include "cli.h"
#include "embed.h"
#include "portal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define IN_CAP            (HTTP_MAX_HEAD + 8192)   /* + the largest body a route allows */
#define OUTQ              64
#define MAX_CONNS         2048     /* per worker */
#define READ_TIMEOUT      10.0     /* a started request must arrive within */
#define IDLE_TIMEOUT      30.0     /* keep-alive connection with nothing to do */
#define WRITE_TIMEOUT     10.0     /* a reply must make progress within */
#define GEN_INTERVAL      0.1      /* seconds between generation checks */
#define CACHE_MAX_ENTRIES 2048     /* per worker */
#define CACHE_MAX_BYTES   (128u << 20)
#define GZIP_MIN          1024
#define MAX_BIG_BODIES    4        /* per worker: bodies over IN_CAP arriving at once */

static const char security_headers[] =
    "Content-Security-Policy: default-src 'none'; img-src 'self' data:; style-src 'self'; "
    "script-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'\r\n"
    "X-Content-Type-Options: nosniff\r\n"
    "Referrer-Policy: no-referrer\r\n"
    "X-Frame-Options: DENY\r\n";

/* ------------------------------------------------------------ routes */

typedef struct serve_route {
    const char *path;          /* exact path, or a prefix when prefix = 1 */
    int prefix;
    unsigned methods;          /* http_method bits */
    serve_handler fn;
    size_t max_body;           /* request body cap; 0: a body is refused (413) */
    int json_errors;           /* 400s as {"error", "parameter"} */
    int portal;                /* 1: portal_handle answers (request bodies, a
                                  principal; never cached, always no-store) */
} serve_route;

static const serve_route routes[] = {
    {"/api/v1/meta", 0, HTTP_GET | HTTP_HEAD, api_meta, 0, 1, 0},
    {"/api/v1/stats/", 1, HTTP_GET | HTTP_HEAD, api_stats, 0, 1, 0},
    {"/static/", 1, HTTP_GET | HTTP_HEAD, serve_static, 0, 0, 0},
    {"/", 0, HTTP_GET | HTTP_HEAD, page_home, 0, 0, 0},
    {"/data/", 1, HTTP_GET | HTTP_HEAD, page_data, 0, 0, 0},
    {"/country/", 1, HTTP_GET | HTTP_HEAD, page_country, 0, 0, 0},
    {"/login", 0, HTTP_GET | HTTP_HEAD | HTTP_POST, NULL, PORTAL_FORM_MAX, 0, 1},
    {"/logout", 0, HTTP_POST, NULL, PORTAL_FORM_MAX, 0, 1},
    {"/portal", 0, HTTP_GET | HTTP_HEAD, NULL, 0, 0, 1},
    {"/portal/upload", 0, HTTP_POST, NULL, PORTAL_UPLOAD_MAX, 0, 1},
    /* the case form sends up to CASEFORM_MAX_PAIRS fields (portal_cases.c) */
    {"/portal/cases/new", 0, HTTP_GET | HTTP_HEAD | HTTP_POST, NULL, PORTAL_CASE_FORM_MAX, 0, 1},
    {"/portal/records/", 1, HTTP_GET | HTTP_HEAD | HTTP_POST, NULL, PORTAL_CASE_FORM_MAX, 0, 1},
    {"/portal/", 1, HTTP_GET | HTTP_HEAD | HTTP_POST, NULL, PORTAL_FORM_MAX, 0, 1},
    {"/api/v1/submissions", 0, HTTP_POST, NULL, PORTAL_UPLOAD_MAX, 1, 1},
    /* the investigation views (analyst.c) and the link pages (analyst_links.c) */
    {"/analyst", 0, HTTP_GET | HTTP_HEAD | HTTP_POST, NULL, PORTAL_FORM_MAX, 0, 1},
    {"/analyst/", 1, HTTP_GET | HTTP_HEAD | HTTP_POST, NULL, PORTAL_FORM_MAX, 0, 1},
    {"/admin", 0, HTTP_GET | HTTP_HEAD | HTTP_POST, NULL, PORTAL_FORM_MAX, 0, 1},
    {"/admin/", 0, HTTP_GET | HTTP_HEAD | HTTP_POST, NULL, PORTAL_FORM_MAX, 0, 1},
    {"/admin/", 1, HTTP_GET | HTTP_HEAD | HTTP_POST, NULL, PORTAL_FORM_MAX, 0, 1},
};
#define NROUTES (sizeof routes / sizeof routes[0])

static const serve_route *route_find(const char *path)
{
    for (size_t i = 0; i < NROUTES; i++) {
        size_t n = strlen(routes[i].path);
        if (routes[i].prefix ? strncmp(path, routes[i].path, n) == 0 && path[n]
                             : strcmp(path, routes[i].path) == 0)
            return &routes[i];
    }
    return NULL;
}

/* ------------------------------------------------------------ static files */

static const char *mime_type(const char *name)
{
    static const char *const types[][2] = {
        {".css", "text/css; charset=utf-8"},     {".js", "text/javascript; charset=utf-8"},
        {".svg", "image/svg+xml"},               {".png", "image/png"},
        {".json", "application/json; charset=utf-8"}, {".woff2", "font/woff2"},
        {".html", "text/html; charset=utf-8"},   {".txt", "text/plain; charset=utf-8"},
        {".ico", "image/x-icon"},
    };
    const char *dot = strrchr(name, '.');
    for (size_t i = 0; dot && i < sizeof types / sizeof types[0]; i++)
        if (strcmp(dot, types[i][0]) == 0) return types[i][1];
    return "application/octet-stream";
}

int serve_static(serve_ctx *ctx, const http_request *req, serve_reply *out)
{
    char name[512];
    size_t len;
    (void)ctx;
    /* "/static/x" -> "static/x" */
    if (req->path_len >= sizeof name) goto missing;
    memcpy(name, req->path + 1, req->path_len);
    const char *data = embed_get(name, &len);
    if (!data) goto missing;
    out->status = 200;
    out->content_type = mime_type(name);
    out->cache_control = "public, max-age=31536000";
    return sp_buf_add(&out->body, data, len);
missing:
    out->status = 404;
    out->no_store = 1;
    return sp_buf_adds(&out->body, "not found\n");
}

/* ------------------------------------------------------------ refcounted buffers */

typedef struct refbuf {
    int refs;
    size_t len;
    char data[];
} refbuf;

static refbuf *rb_new(size_t len)
{
    refbuf *r = sp_xmalloc(sizeof *r + len + 1);
    r->refs = 1;
    r->len = len;
    return r;
}
static refbuf *rb_ref(refbuf *r) { r->refs++; return r; }
static void rb_unref(refbuf *r)
{
    if (r && --r->refs == 0) free(r);
}

/* ------------------------------------------------------------ the cache */

typedef struct variant {
    refbuf *rb;                /* head (no final CRLF) then body */
    size_t head_len, body_len;
    refbuf *nm;                /* the 304 head, built on first use */
    char etag[64];
} variant;

typedef struct centry {
    char *key;
    size_t klen;
    uint64_t hash;
    variant v[2];              /* 0: identity, 1: gzip (when worth it) */
    int gz_state;              /* 0: not tried; 1: built; -1: not worth it */
    int status;
    const char *ctype, *cc;
    char extra[256];
    size_t bytes;
    struct centry *hnext, *prev, *next;
} centry;

#define NBUCKETS 4096
typedef struct cache {
    centry *buckets[NBUCKETS];
    centry *head, *tail;       /* most / least recently used */
    size_t n, bytes;
} cache;

static void variant_free(variant *v)
{
    rb_unref(v->rb);
    rb_unref(v->nm);
    memset(v, 0, sizeof *v);
}

static void cache_unlink(cache *c, centry *e)
{
    if (e->prev) e->prev->next = e->next; else c->head = e->next;
    if (e->next) e->next->prev = e->prev; else c->tail = e->prev;
    e->prev = e->next = NULL;
}

static void cache_remove(cache *c, centry *e)
{
    centry **pp = &c->buckets[e->hash % NBUCKETS];
    while (*pp && *pp != e) pp = &(*pp)->hnext;
    if (*pp) *pp = e->hnext;
    cache_unlink(c, e);
    c->n--;
    c->bytes -= e->bytes;
    variant_free(&e->v[0]);
    variant_free(&e->v[1]);
    free(e->key);
    free(e);
}

static void cache_clear(cache *c)
{
    while (c->head) cache_remove(c, c->head);
}

static centry *cache_get(cache *c, const char *key, size_t klen, uint64_t h)
{
    for (centry *e = c->buckets[h % NBUCKETS]; e; e = e->hnext) {
        if (e->hash == h && e->klen == klen && memcmp(e->key, key, klen) == 0) {
            if (c->head != e) {
                cache_unlink(c, e);
                e->next = c->head;
                if (c->head) c->head->prev = e;
                c->head = e;
                if (!c->tail) c->tail = e;
            }
            return e;
        }
    }
    return NULL;
}

static void cache_account(cache *c, centry *e, size_t add)
{
    e->bytes += add;
    c->bytes += add;
}

static void cache_insert(cache *c, centry *e)
{
    while (c->tail && (c->n + 1 > CACHE_MAX_ENTRIES || c->bytes + e->bytes > CACHE_MAX_BYTES))
        cache_remove(c, c->tail);
    e->hnext = c->buckets[e->hash % NBUCKETS];
    c->buckets[e->hash % NBUCKETS] = e;
    e->next = c->head;
    e->prev = NULL;
    if (c->head) c->head->prev = e;
    c->head = e;
    if (!c->tail) c->tail = e;
    c->n++;
    c->bytes += e->bytes;
}

/* ------------------------------------------------------------ shared renders */

/* What one worker rendered, for the others. Workers keep their caches to
 * themselves so that a hit takes no lock; but then the first request for
 * a page reaching each worker rendered it again (about a second for the
 * dashboard of a 1,000,000-record hub). A miss looks here first, under
 * one mutex, and copies the bytes (copying half a megabyte is far cheaper
 * than rendering it); a worker that renders leaves a copy. Entries are
 * for one generation: one of another generation is never answered and is
 * dropped when a new one is put. Only the cache-miss path comes here. */
#define SHARED_MAX_ENTRIES 64
#define SHARED_MAX_BYTES   (32u << 20)

typedef struct shared_render {
    char *key;
    size_t klen;
    long long gen;
    int status;
    const char *ctype, *cc;    /* static strings (serve_reply) */
    char extra[256];
    char *body;
    size_t blen;
    unsigned long long used;   /* for least-recently-used eviction */
} shared_render;

static pthread_mutex_t shared_mu = PTHREAD_MUTEX_INITIALIZER;
static shared_render shared[SHARED_MAX_ENTRIES];
static size_t shared_bytes;
static unsigned long long shared_clock;

static void shared_drop(shared_render *x)
{
    shared_bytes -= x->klen + x->blen;
    free(x->key);
    free(x->body);
    memset(x, 0, sizeof *x);
}

/* Fills r from the copy of key at generation gen; 1 when there was one. */
static int shared_get(const char *key, size_t klen, long long gen, serve_reply *r)
{
    int found = 0;
    pthread_mutex_lock(&shared_mu);
    for (size_t i = 0; i < SHARED_MAX_ENTRIES && !found; i++) {
        shared_render *x = &shared[i];
        if (!x->key || x->gen != gen || x->klen != klen || memcmp(x->key, key, klen) != 0) continue;
        sp_buf_reset(&r->body);
        if (sp_buf_add(&r->body, x->body, x->blen) != SP_OK) {
            sp_buf_reset(&r->body);    /* render it instead */
            break;
        }
        r->status = x->status;
        r->content_type = x->ctype;
        r->cache_control = x->cc;
        memcpy(r->extra, x->extra, sizeof r->extra);
        x->used = ++shared_clock;
        found = 1;
    }
    pthread_mutex_unlock(&shared_mu);
    return found;
}

/* Leaves a copy of r (a cacheable answer for key at generation gen). */
static void shared_put(const char *key, size_t klen, long long gen, const serve_reply *r)
{
    size_t need = klen + r->body.len;
    if (need > SHARED_MAX_BYTES / 4) return;
    pthread_mutex_lock(&shared_mu);
    for (;;) {
        /* older generations first, then the least recently used, until
         * there is a free slot and room */
        shared_render *victim = NULL, *free_slot = NULL;
        for (size_t i = 0; i < SHARED_MAX_ENTRIES; i++) {
            shared_render *x = &shared[i];
            if (x->key && x->gen != gen) shared_drop(x);
            if (!x->key) { if (!free_slot) free_slot = x; continue; }
            if (x->klen == klen && memcmp(x->key, key, klen) == 0) shared_drop(x), free_slot = x;
            else if (!victim || x->used < victim->used) victim = x;
        }
        if (free_slot && shared_bytes + need <= SHARED_MAX_BYTES) {
            shared_render *x = free_slot;
            x->key = sp_xmalloc(klen ? klen : 1);
            memcpy(x->key, key, klen);
            x->klen = klen;
            x->body = sp_xmalloc(r->body.len ? r->body.len : 1);
            memcpy(x->body, r->body.data, r->body.len);
            x->blen = r->body.len;
            x->gen = gen;
            x->status = r->status;
            x->ctype = r->content_type;
            x->cc = r->cache_control;
            memcpy(x->extra, r->extra, sizeof x->extra);
            x->used = ++shared_clock;
            shared_bytes += need;
            break;
        }
        if (!victim) break;
        shared_drop(victim);
    }
    pthread_mutex_unlock(&shared_mu);
}

static void shared_clear(void)
{
    pthread_mutex_lock(&shared_mu);
    for (size_t i = 0; i < SHARED_MAX_ENTRIES; i++)
        if (shared[i].key) shared_drop(&shared[i]);
    pthread_mutex_unlock(&shared_mu);
}

/* ------------------------------------------------------------ generation */

/* The hub's data generation (store_generation: a counter in the hub that
 * every commit changing the counts bumps; other processes' imports
 * included). On a read failure the last known value stands. */
static long long hub_generation(sp_store *s, long long last)
{
    long long g;
    return store_generation(s, &g) == SP_OK ? g : last;
}

/* Bumped after every portal POST (a write of this process) and by any
 * worker whose periodic check finds the generation moved (another
 * process's import): a worker that sees it move re-reads the generation
 * before its next cached answer. So once one worker has answered with
 * the new data, no other worker answers with the old: a client never
 * sees the count go back, nor an old ETag honoured after a new one. */
static _Atomic unsigned long gen_hint;

/* Part of every ETag: a hub rebuilt from scratch restarts its generation
 * at 0, and a restarted server must not vouch for an old client copy. */
static unsigned long long etag_epoch;

/* ------------------------------------------------------------ connections */

typedef struct outitem {
    refbuf *rb;
    const char *p;
    size_t len;
} outitem;

typedef struct conn {
    int fd;
    char *in;
    size_t inlen, incap, scanned;
    size_t limit;              /* the input buffer may grow to this (a body) */
    char remote[64];           /* the peer's address */
    outitem out[OUTQ];
    size_t oh, on;             /* ring: first item, count */
    double last_active, req_start, last_write;
    int closing, eof, rd_blocked, wr_blocked;
    struct conn *prev, *next;
} conn;

typedef struct worker {
    int id, epfd, lfd;
    pthread_t th;
    serve_ctx ctx;
    const char *db;
    int quiet;
    cache cache;
    conn *conns;               /* list */
    size_t nconns;
    double next_gen, next_sweep;
    http_request req;
    sp_buf key, log, scratch;
    serve_reply reply;
    refbuf *tails[3];          /* "", "Connection: close", "Connection: keep-alive" */
    portal *portal;            /* NULL: the hub has no secret (portal answers 503) */
    unsigned long seen_hint;  /* gen_hint when the generation was last read */
    int big;                   /* connections whose buffer may grow past IN_CAP */
    time_t tails_sec;
} worker;

/* Re-reads the hub's generation; on a change drops the worker's cache
 * and tells the other workers. */
static void refresh_generation(worker *w);

static volatile sig_atomic_t g_stop;

static void on_signal(int sig)
{
    (void)sig;
    g_stop = 1;
}

static void conn_close(worker *w, conn *c)
{
    if (c->limit > IN_CAP) w->big--;
    epoll_ctl(w->epfd, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    for (size_t i = 0; i < c->on; i++) rb_unref(c->out[(c->oh + i) % OUTQ].rb);
    if (c->prev) c->prev->next = c->next; else w->conns = c->next;
    if (c->next) c->next->prev = c->prev;
    w->nconns--;
    free(c->in);
    free(c);
}

static void out_push(conn *c, refbuf *rb, const char *p, size_t len)
{
    if (!len) return;
    outitem *o = &c->out[(c->oh + c->on) % OUTQ];
    o->rb = rb_ref(rb);
    o->p = p;
    o->len = len;
    c->on++;
}

/* Writes what is queued. Returns -1 when the connection is dead. */
static int out_flush(conn *c, double now)
{
    while (c->on && !c->wr_blocked) {
        struct iovec iov[OUTQ];
        size_t n = 0;
        for (size_t i = 0; i < c->on; i++) {
            outitem *o = &c->out[(c->oh + i) % OUTQ];
            iov[n].iov_base = (void *)(uintptr_t)o->p;
            iov[n].iov_len = o->len;
            n++;
        }
        ssize_t k = writev(c->fd, iov, (int)n);
        if (k < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                c->wr_blocked = 1;
                break;
            }
            return -1;
        }
        c->last_write = now;
        size_t left = (size_t)k;
        while (left && c->on) {
            outitem *o = &c->out[c->oh];
            if (left >= o->len) {
                left -= o->len;
                rb_unref(o->rb);
                c->oh = (c->oh + 1) % OUTQ;
                c->on--;
            } else {
                o->p += left;
                o->len -= left;
                left = 0;
            }
        }
    }
    return 0;
}

/* Per-second tails: "Date: ...\r\n[Connection: ...\r\n]\r\n". */
static void tails_update(worker *w)
{
    time_t t = time(NULL);
    if (t == w->tails_sec && w->tails[0]) return;
    w->tails_sec = t;
    struct tm tm;
    gmtime_r(&t, &tm);
    char date[64];
    strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    static const char *const conn_line[3] = {"", "Connection: close\r\n", "Connection: keep-alive\r\n"};
    for (int i = 0; i < 3; i++) {
        char s[160];
        int n = snprintf(s, sizeof s, "Date: %s\r\n%s\r\n", date, conn_line[i]);
        refbuf *r = rb_new((size_t)n);
        memcpy(r->data, s, (size_t)n + 1);
        rb_unref(w->tails[i]);
        w->tails[i] = r;
    }
}

/* Builds one response buffer: head (without the final CRLF) then body. */
static refbuf *build_response(int status, const char *ctype, const char *cc, const char *etag,
                              int gz, int vary, const char *extra, const char *body,
                              size_t blen, int with_len, size_t *head_len, sp_buf *scratch)
{
    sp_buf_reset(scratch);
    sp_buf_printf(scratch, "HTTP/1.1 %d %s\r\n", status, http_status_text(status));
    if (ctype) sp_buf_printf(scratch, "Content-Type: %s\r\n", ctype);
    if (with_len) sp_buf_printf(scratch, "Content-Length: %zu\r\n", blen);
    if (gz) sp_buf_adds(scratch, "Content-Encoding: gzip\r\n");
    if (vary) sp_buf_adds(scratch, "Vary: Accept-Encoding\r\n");
    if (etag && *etag) sp_buf_printf(scratch, "ETag: %s\r\n", etag);
    sp_buf_printf(scratch, "Cache-Control: %s\r\n", cc ? cc : "no-cache");
    sp_buf_adds(scratch, security_headers);
    if (extra && *extra) sp_buf_adds(scratch, extra);
    refbuf *r = rb_new(scratch->len + blen);
    memcpy(r->data, scratch->data, scratch->len);
    if (blen) memcpy(r->data + scratch->len, body, blen);
    *head_len = scratch->len;
    return r;
}

typedef struct logctx {
    double t0;
    size_t bytes;
    int status;
    const char *how;           /* a cache miss: " rendered" or " shared" */
} logctx;

/* Queues a response with the tail for this connection's state. */
static void queue(worker *w, conn *c, refbuf *rb, size_t head_len, const char *body,
                  size_t blen, int head_only, int minor, logctx *lc)
{
    int kind = c->closing ? 1 : (minor == 0 ? 2 : 0);
    out_push(c, rb, rb->data, head_len);
    refbuf *t = w->tails[kind];
    out_push(c, t, t->data, t->len);
    if (!head_only) out_push(c, rb, body, blen);
    lc->bytes = head_len + t->len + (head_only ? 0 : blen);
}

/* A one-off response not in the cache (errors, 304 of uncached ...). */
static void queue_simple(worker *w, conn *c, int status, const char *ctype, const char *body,
                         size_t blen, const char *extra, int head_only, int minor, logctx *lc)
{
    size_t hl;
    refbuf *r = build_response(status, ctype, "no-store", NULL, 0, 0, extra, body, blen, 1, &hl,
                               &w->scratch);
    queue(w, c, r, hl, r->data + hl, blen, head_only, minor, lc);
    rb_unref(r);
    lc->status = status;
}

static void queue_error(worker *w, conn *c, int status, const char *why, int json, int head_only,
                        int minor, const char *extra, logctx *lc)
{
    sp_buf_reset(&w->reply.body);
    if (json) {
        sp_buf_adds(&w->reply.body, "{\"error\":\"");
        for (const char *p = why; *p; p++) {
            if (*p == '"' || *p == '\\') sp_buf_addc(&w->reply.body, '\\');
            sp_buf_addc(&w->reply.body, *p);
        }
        sp_buf_adds(&w->reply.body, "\"}\n");
    } else {
        sp_buf_printf(&w->reply.body, "%d %s: %s\n", status, http_status_text(status), why);
    }
    queue_simple(w, c, status, json ? "application/json; charset=utf-8" : "text/plain; charset=utf-8",
                 w->reply.body.data, w->reply.body.len, extra, head_only, minor, lc);
}

/* Builds the gzip variant of e when the client takes gzip and it is worth it. */
static void ensure_gzip(worker *w, centry *e)
{
    if (e->gz_state) return;
    variant *v0 = &e->v[0];
    char *z = NULL;
    size_t zl = 0;
    if (v0->body_len <= GZIP_MIN || http_gzip(v0->rb->data + v0->head_len, v0->body_len, &z, &zl) ||
        zl >= v0->body_len) {
        free(z);
        e->gz_state = -1;
        return;
    }
    variant *v1 = &e->v[1];
    snprintf(v1->etag, sizeof v1->etag, "%.*s-gz\"", (int)strlen(v0->etag) - 1, v0->etag);
    v1->rb = build_response(e->status, e->ctype, e->cc, v1->etag, 1, 1, e->extra, z, zl, 1,
                            &v1->head_len, &w->scratch);
    v1->body_len = zl;
    free(z);
    e->gz_state = 1;
    cache_account(&w->cache, e, v1->rb->len);
}

static void log_line(worker *w, const http_request *req, int parsed, const logctx *lc)
{
    if (w->quiet) return;
    double us = (sp_now() - lc->t0) * 1e6;
    if (parsed)
        sp_buf_printf(&w->log, "%.*s %.*s %d %zu %.0fus%s\n", (int)req->method_len, req->method_str,
                      (int)(req->target_len > 2000 ? 2000 : req->target_len), req->target,
                      lc->status, lc->bytes, us, lc->how ? lc->how : "");
    else
        sp_buf_printf(&w->log, "- - %d %zu %.0fus\n", lc->status, lc->bytes, us);
}

/* A portal request: the body, the peer and the principal go to
 * portal_handle; the reply is never cached and always "no-store" (it
 * depends on who asks). */
static void handle_portal(worker *w, conn *c, http_request *req, const serve_route *rt,
                          int head_only, logctx *lc)
{
    const char *why = NULL;
    if (!w->portal) {
        queue_error(w, c, 503, "this hub has no secret: run spotlight init", rt->json_errors,
                    head_only, req->minor, NULL, lc);
        return;
    }
    if (req->method == HTTP_POST && req->content_length < 0) {
        queue_error(w, c, 411, "a POST needs a Content-Length", rt->json_errors, head_only,
                    req->minor, NULL, lc);
        return;
    }
    if (http_query_parse(req, &why)) {
        queue_error(w, c, 400, why, rt->json_errors, head_only, req->minor, NULL, lc);
        return;
    }
    serve_reply *r = &w->reply;
    sp_buf_reset(&r->body);
    r->status = 200;
    r->content_type = NULL;
    r->cache_control = NULL;
    r->no_store = 1;
    r->extra[0] = '\0';
    size_t blen = req->content_length > 0 ? (size_t)req->content_length : 0;
    int rc = portal_handle(w->portal, &w->ctx, req, c->in + req->head_len, blen, c->remote, r);
    audit_context_set(NULL, NULL);
    if (req->method == HTTP_POST) gen_hint++;
    if (rc) {
        queue_error(w, c, 500, "the server could not answer this request", rt->json_errors,
                    head_only, req->minor, NULL, lc);
        return;
    }
    queue_simple(w, c, r->status, r->content_type ? r->content_type : "text/plain; charset=utf-8",
                 r->body.data, r->body.len, r->extra, head_only, req->minor, lc);
}

/* Answers one parsed request. */
static void handle(worker *w, conn *c, http_request *req, logctx *lc)
{
    int head_only = req->method == HTTP_HEAD;
    const serve_route *rt = route_find(req->path);
    const char *why = NULL;
    if (req->method == HTTP_OTHER) {
        c->closing = 1;
        queue_error(w, c, 501, "this server does not support that method", 0, 0, req->minor, NULL, lc);
        return;
    }
    if (!rt) {
        queue_error(w, c, 404, "there is nothing at this address", 0, head_only, req->minor, NULL, lc);
        return;
    }
    if (!(rt->methods & req->method)) {
        int post = (rt->methods & HTTP_POST) != 0, get = (rt->methods & HTTP_GET) != 0;
        queue_error(w, c, 405,
                    post ? (get ? "this address answers GET, HEAD and POST" : "this address answers POST")
                         : "this address answers GET and HEAD",
                    rt->json_errors, head_only, req->minor,
                    post ? (get ? "Allow: GET, HEAD, POST\r\n" : "Allow: POST\r\n")
                         : "Allow: GET, HEAD\r\n", lc);
        return;
    }
    if (rt->portal) {
        handle_portal(w, c, req, rt, head_only, lc);
        return;
    }
    if (http_query_parse(req, &why)) {
        queue_error(w, c, 400, why, rt->json_errors, head_only, req->minor, NULL, lc);
        return;
    }
    sp_buf_reset(&w->key);
    sp_buf_add(&w->key, req->path, req->path_len);
    sp_buf_addc(&w->key, '?');
    if (http_query_normalise(req, &w->key)) {
        queue_error(w, c, 400, "the query is too long", rt->json_errors, head_only, req->minor,
                    NULL, lc);
        return;
    }
    if (gen_hint != w->seen_hint) refresh_generation(w);
    uint64_t h = sp_hash(w->key.data, w->key.len);
    centry *e = cache_get(&w->cache, w->key.data, w->key.len, h);
    if (!e) {
        serve_reply *r = &w->reply;
        sp_buf_reset(&r->body);
        r->status = 200;
        r->content_type = NULL;
        r->cache_control = NULL;
        r->no_store = 0;
        r->extra[0] = '\0';
        lc->how = " shared";
        if (!shared_get(w->key.data, w->key.len, w->ctx.generation, r)) {
            lc->how = " rendered";
            int rc = rt->fn(&w->ctx, req, r);
            if (rc) {
                queue_error(w, c, 500, "the server could not build this page", rt->json_errors,
                            head_only, req->minor, NULL, lc);
                return;
            }
            if (r->status == 200 && !r->no_store)
                shared_put(w->key.data, w->key.len, w->ctx.generation, r);
        }
        e = sp_xcalloc(1, sizeof *e);
        e->key = sp_xstrndup(w->key.data, w->key.len);
        e->klen = w->key.len;
        e->hash = h;
        e->status = r->status;
        e->ctype = r->content_type ? r->content_type : "text/plain; charset=utf-8";
        e->cc = r->cache_control;
        memcpy(e->extra, r->extra, sizeof e->extra);
        e->extra[sizeof e->extra - 1] = '\0';
        int cacheable = r->status == 200 && !r->no_store;
        variant *v0 = &e->v[0];
        if (cacheable)
            snprintf(v0->etag, sizeof v0->etag, "\"%llx-%llx-%016llx\"", etag_epoch,
                     (unsigned long long)w->ctx.generation, (unsigned long long)h);
        v0->rb = build_response(e->status, e->ctype, cacheable ? e->cc : "no-store", v0->etag, 0,
                                1, e->extra, r->body.data, r->body.len, 1, &v0->head_len,
                                &w->scratch);
        v0->body_len = r->body.len;
        e->bytes = sizeof *e + e->klen + v0->rb->len;
        if (!cacheable) {
            if (req->accept_gzip) ensure_gzip(w, e);
            variant *v = e->gz_state == 1 && req->accept_gzip ? &e->v[1] : v0;
            queue(w, c, v->rb, v->head_len, v->rb->data + v->head_len, v->body_len, head_only,
                  req->minor, lc);
            lc->status = e->status;
            variant_free(&e->v[0]);
            variant_free(&e->v[1]);
            free(e->key);
            free(e);
            return;
        }
        cache_insert(&w->cache, e);
    }
    if (req->accept_gzip) ensure_gzip(w, e);
    variant *v = e->gz_state == 1 && req->accept_gzip ? &e->v[1] : &e->v[0];
    if (req->if_none_match && http_etag_match(req->if_none_match, req->if_none_match_len, v->etag)) {
        if (!v->nm) {
            size_t hl;
            v->nm = build_response(304, NULL, e->cc, v->etag, 0, 1, NULL, NULL, 0, 0, &hl,
                                   &w->scratch);
        }
        queue(w, c, v->nm, v->nm->len, NULL, 0, 1, req->minor, lc);
        lc->status = 304;
        return;
    }
    queue(w, c, v->rb, v->head_len, v->rb->data + v->head_len, v->body_len, head_only, req->minor,
          lc);
    lc->status = e->status;
}

/* Is a whole head (a blank line) in the buffer? Scans only new bytes. */
static int head_complete(conn *c)
{
    size_t i = c->scanned > 2 ? c->scanned - 2 : 0;
    for (; i < c->inlen; i++) {
        if (c->in[i] != '\n') continue;
        if (i + 1 < c->inlen && c->in[i + 1] == '\n') return 1;
        if (i + 2 < c->inlen && c->in[i + 1] == '\r' && c->in[i + 2] == '\n') return 1;
    }
    c->scanned = c->inlen;
    return 0;
}

/* Answers the whole requests in c's buffer while there is room to queue.
 * Returns 1 if it did something. */
static int process(worker *w, conn *c, double now)
{
    int did = 0;
    while (!c->closing && c->on + 3 <= OUTQ && c->inlen) {
        if (!c->req_start) c->req_start = now;
        int complete = head_complete(c);
        /* parse only a whole head, or what is already too long to be one */
        if (!complete && c->inlen < HTTP_MAX_HEAD &&
            !(c->inlen >= HTTP_MAX_LINE && !memchr(c->in, '\n', HTTP_MAX_LINE)))
            break;
        logctx lc = {sp_now(), 0, 0, NULL};
        const char *why = NULL;
        http_request *req = &w->req;
        int rc = http_parse_request(c->in, c->inlen, req, &why);
        if (rc == HTTP_PARSE_MORE) break;
        if (rc != HTTP_PARSE_OK) {
            did = 1;
            c->closing = 1;
            queue_error(w, c, rc, why, 0, 0, 1, NULL, &lc);
            log_line(w, req, 0, &lc);
            break;
        }
        size_t blen = req->content_length > 0 ? (size_t)req->content_length : 0;
        const serve_route *rt = route_find(req->path);
        size_t cap = rt ? rt->max_body : 0;
        if (blen > cap) {
            did = 1;
            c->closing = 1;
            queue_error(w, c, 413, "this address takes no request body of that size",
                        rt && rt->json_errors, req->method == HTTP_HEAD, req->minor, NULL, &lc);
            log_line(w, req, 1, &lc);
            break;
        }
        if (req->head_len + blen > c->inlen) {          /* body still arriving */
            if (req->head_len + blen > c->limit) {
                /* a big body (an upload): a few at a time per worker */
                if (c->limit <= IN_CAP && w->big >= MAX_BIG_BODIES) {
                    did = 1;
                    c->closing = 1;
                    queue_error(w, c, 503, "too many uploads at once; try again shortly",
                                rt && rt->json_errors, 0, req->minor, "Retry-After: 5\r\n", &lc);
                    log_line(w, req, 1, &lc);
                    break;
                }
                if (c->limit <= IN_CAP) w->big++;
                c->limit = req->head_len + blen;
            }
            break;     /* no progress: the caller reads more */
        }
        did = 1;
        if (!req->keep_alive) c->closing = 1;
        handle(w, c, req, &lc);
        log_line(w, req, 1, &lc);
        size_t used = req->head_len + blen;
        memmove(c->in, c->in + used, c->inlen - used);
        c->inlen -= used;
        c->scanned = 0;
        c->req_start = c->inlen ? now : 0;
        if (c->limit > IN_CAP && c->inlen <= IN_CAP) {    /* give a big body's room back */
            c->limit = IN_CAP;
            w->big--;
            if (c->incap > IN_CAP) {
                c->in = sp_xrealloc(c->in, IN_CAP + 1);
                c->incap = IN_CAP;
            }
        }
    }
    return did;
}

/* Reads and answers until the socket would block. */
static void conn_event(worker *w, conn *c, uint32_t ev)
{
    double now = sp_now();
    if (ev & (EPOLLERR | EPOLLHUP)) {
        conn_close(w, c);
        return;
    }
    if (ev & EPOLLIN) c->rd_blocked = 0;
    if (ev & EPOLLOUT) c->wr_blocked = 0;
    for (;;) {
        if (out_flush(c, now) < 0) goto dead;
        if (c->closing && c->on == 0) {
            /* half-close so the peer reads all before the FIN: no RST */
            shutdown(c->fd, SHUT_WR);
            goto dead;
        }
        int did = process(w, c, now);
        if (!c->eof && !c->rd_blocked && !c->closing && c->on + 3 <= OUTQ) {
            if (c->incap - c->inlen < 4096 && c->incap < c->limit) {
                size_t nc = c->incap * 2 > c->limit ? c->limit : c->incap * 2;
                c->in = sp_xrealloc(c->in, nc + 1);
                c->incap = nc;
            }
            if (c->inlen < c->incap) {
                ssize_t k = read(c->fd, c->in + c->inlen, c->incap - c->inlen);
                if (k > 0) {
                    c->inlen += (size_t)k;
                    c->last_active = now;
                    did = 1;
                } else if (k == 0) {
                    c->eof = 1;
                    did = 1;
                } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
                    c->rd_blocked = 1;
                } else if (errno != EINTR) {
                    goto dead;
                }
            }
        }
        if (!did) break;
    }
    /* the peer is gone and nothing more can be answered */
    if (c->eof && c->on == 0) goto dead;
    return;
dead:
    conn_close(w, c);
}

static void accept_all(worker *w)
{
    for (;;) {
        struct sockaddr_storage peer;
        socklen_t plen = sizeof peer;
        int fd = accept4(w->lfd, (struct sockaddr *)&peer, &plen, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR) continue;
            return;    /* EAGAIN, or out of descriptors: try again on the next event */
        }
        if (w->nconns >= MAX_CONNS) {
            close(fd);
            continue;
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        conn *c = sp_xcalloc(1, sizeof *c);
        c->fd = fd;
        c->incap = 4096;
        c->limit = IN_CAP;
        if (peer.ss_family == AF_INET)
            inet_ntop(AF_INET, &((struct sockaddr_in *)&peer)->sin_addr, c->remote, sizeof c->remote);
        else if (peer.ss_family == AF_INET6)
            inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&peer)->sin6_addr, c->remote,
                      sizeof c->remote);
        c->in = sp_xmalloc(c->incap + 1);
        c->last_active = c->last_write = sp_now();
        struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, .data.ptr = c};
        if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
            close(fd);
            free(c->in);
            free(c);
            continue;
        }
        c->next = w->conns;
        if (w->conns) w->conns->prev = c;
        w->conns = c;
        w->nconns++;
    }
}

/* Closes connections that are idle too long or too slow. */
static void sweep(worker *w, double now)
{
    conn *next;
    for (conn *c = w->conns; c; c = next) {
        next = c->next;
        if (c->on && now - c->last_write > WRITE_TIMEOUT) conn_close(w, c);
        else if (!c->on && c->inlen && c->req_start && now - c->req_start > READ_TIMEOUT) {
            logctx lc = {now, 0, 0, NULL};
            c->closing = 1;
            queue_error(w, c, 408, "the request did not arrive in time", 0, 0, 1, NULL, &lc);
            log_line(w, &w->req, 0, &lc);
            conn_event(w, c, 0);
        } else if (!c->on && !c->inlen && now - c->last_active > IDLE_TIMEOUT)
            conn_close(w, c);
    }
}

static void refresh_generation(worker *w)
{
    w->seen_hint = gen_hint;
    long long g = hub_generation(w->ctx.store, w->ctx.generation);
    if (g != w->ctx.generation) {
        cache_clear(&w->cache);
        w->ctx.generation = g;
        w->seen_hint = ++gen_hint;
    }
}

static void *worker_main(void *arg)
{
    worker *w = arg;
    struct epoll_event evs[128];
    while (!g_stop) {
        double now = sp_now();
        if (now >= w->next_gen) {
            refresh_generation(w);
            w->next_gen = now + GEN_INTERVAL;
        }
        if (now >= w->next_sweep) {
            sweep(w, now);
            w->next_sweep = now + 1.0;
        }
        tails_update(w);
        int n = epoll_wait(w->epfd, evs, 128, 100);
        for (int i = 0; i < n; i++) {
            if (evs[i].data.ptr == NULL) accept_all(w);
            else conn_event(w, evs[i].data.ptr, evs[i].events);
        }
        if (w->log.len) {
            ssize_t k = write(2, w->log.data, w->log.len);
            (void)k;
            sp_buf_reset(&w->log);
        }
    }
    return NULL;
}

/* ------------------------------------------------------------ listening */

/* "127.0.0.1:8080", "[::1]:8080", "localhost:8080" -> host, port. */
static int split_listen(const char *s, char *host, size_t hcap, char *port, size_t pcap)
{
    const char *colon;
    size_t hl;
    if (s[0] == '[') {
        const char *rb = strchr(s, ']');
        if (!rb || rb[1] != ':') return -1;
        hl = (size_t)(rb - s - 1);
        s++;
        colon = rb + 1;
    } else {
        colon = strrchr(s, ':');
        if (!colon) return -1;
        hl = (size_t)(colon - s);
    }
    size_t pl = strlen(colon + 1);
    if (hl == 0 || hl >= hcap || pl == 0 || pl >= pcap) return -1;
    for (size_t i = 0; i < pl; i++)
        if (colon[1 + i] < '0' || colon[1 + i] > '9') return -1;
    if (atol(colon + 1) > 65535) return -1;
    memcpy(host, s, hl);
    host[hl] = '\0';
    memcpy(port, colon + 1, pl + 1);
    return 0;
}

/* One SO_REUSEPORT listener on addr; *port (0: any) is updated to the port
 * bound. Returns the socket or -1 with errno. */
static int listen_on(const struct addrinfo *ai, int *port)
{
    struct sockaddr_storage ss;
    memcpy(&ss, ai->ai_addr, ai->ai_addrlen);
    if (ss.ss_family == AF_INET) ((struct sockaddr_in *)&ss)->sin_port = htons((uint16_t)*port);
    else ((struct sockaddr_in6 *)&ss)->sin6_port = htons((uint16_t)*port);
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
    if (bind(fd, (struct sockaddr *)&ss, ai->ai_addrlen) != 0 || listen(fd, 1024) != 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    socklen_t sl = sizeof ss;
    getsockname(fd, (struct sockaddr *)&ss, &sl);
    *port = ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
                                          : ((struct sockaddr_in6 *)&ss)->sin6_port);
    return fd;
}

int serve_run(const serve_opts *o)
{
    int rc = EXIT_DONE;
    sp_err err;
    sp_err_init(&err);
    sp_gazetteer *gaz = NULL;
    sp_codebook *cb = NULL;
    worker *ws = NULL;
    struct addrinfo *ai = NULL;
    int nthreads = o->threads > 0 ? o->threads : (int)sysconf(_SC_NPROCESSORS_ONLN);
    if (nthreads < 1) nthreads = 1;
    if (nthreads > 64) nthreads = 64;
    char host[256], port_s[16];
    const char *listen_s = o->listen ? o->listen : "127.0.0.1:8080";
    if (split_listen(listen_s, host, sizeof host, port_s, sizeof port_s)) {
        fprintf(stderr, "spotlight serve: --listen is HOST:PORT or [IPV6]:PORT, not '%s'\n", listen_s);
        return EXIT_USAGE;
    }
    if (access(o->db, F_OK) != 0) {
        fprintf(stderr, "spotlight serve: no hub at %s (create one with: spotlight init --db %s)\n",
                o->db, o->db);
        return EXIT_USAGE;
    }
    struct addrinfo hints;
    memset(&hints, 0, sizeof hints);
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE;
    int gr = getaddrinfo(host, port_s, &hints, &ai);
    if (gr != 0 || !ai) {
        fprintf(stderr, "spotlight serve: cannot resolve '%s': %s\n", host, gai_strerror(gr));
        return EXIT_USAGE;
    }
    if (gazetteer_load(&gaz, NULL, &err) || codebook_load_default(&cb, gaz, &err)) {
        sp_err_print(&err, stderr);
        rc = EXIT_OTHER;
        goto done;
    }
    etag_epoch = (unsigned long long)time(NULL);
    ws = sp_xcalloc((size_t)nthreads, sizeof *ws);
    int port = atoi(port_s);
    for (int i = 0; i < nthreads; i++) {
        worker *w = &ws[i];
        w->id = i;
        w->lfd = w->epfd = -1;
        w->db = o->db;
        w->quiet = o->quiet;
        w->ctx.cb = cb;
        w->ctx.gaz = gaz;
        sp_buf_init(&w->key, 2 * HTTP_MAX_LINE + 64);
        sp_buf_init(&w->log, 1 << 20);
        sp_buf_init(&w->scratch, 1 << 16);
        sp_buf_init(&w->reply.body, SERVE_MAX_BODY);
    }
    for (int i = 0; i < nthreads; i++) {
        worker *w = &ws[i];
        if (store_open(&w->ctx.store, o->db, cb, 0, &err)) {
            fprintf(stderr, "spotlight serve: cannot open the hub %s\n", o->db);
            sp_err_print(&err, stderr);
            rc = EXIT_OTHER;
            goto done;
        }
        w->lfd = listen_on(ai, &port);
        if (w->lfd < 0) {
            fprintf(stderr, "spotlight serve: cannot listen on %s: %s\n", listen_s, strerror(errno));
            rc = EXIT_OTHER;
            goto done;
        }
        w->epfd = epoll_create1(EPOLL_CLOEXEC);
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
        if (w->epfd < 0 || epoll_ctl(w->epfd, EPOLL_CTL_ADD, w->lfd, &ev) != 0) {
            fprintf(stderr, "spotlight serve: epoll: %s\n", strerror(errno));
            rc = EXIT_OTHER;
            goto done;
        }
        w->ctx.generation = hub_generation(w->ctx.store, 0);
        sp_err_clear(&err);
        if (portal_open(&w->portal, w->ctx.store, &err) != SP_OK) {
            w->portal = NULL;      /* no secret yet: the portal answers 503 */
            sp_err_clear(&err);
        } else {
            portal_set_behind_tls(w->portal, o->behind_tls);
        }
        w->next_gen = sp_now() + GEN_INTERVAL;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    if (ai->ai_family == AF_INET6) printf("serving http://[%s]:%d\n", host, port);
    else printf("serving http://%s:%d\n", host, port);
    fflush(stdout);
    int started = 0;
    for (; started < nthreads; started++)
        if (pthread_create(&ws[started].th, NULL, worker_main, &ws[started]) != 0) {
            fprintf(stderr, "spotlight serve: cannot start a worker thread\n");
            g_stop = 1;
            rc = EXIT_OTHER;
            break;
        }
    for (int i = 0; i < started; i++) pthread_join(ws[i].th, NULL);
    if (!o->quiet) fprintf(stderr, "spotlight serve: stopped\n");
done:
    shared_clear();
    for (int i = 0; ws && i < nthreads; i++) {
        worker *w = &ws[i];
        while (w->conns) conn_close(w, w->conns);
        cache_clear(&w->cache);
        for (int k = 0; k < 3; k++) rb_unref(w->tails[k]);
        if (w->epfd >= 0) close(w->epfd);
        if (w->lfd >= 0) close(w->lfd);
        portal_close(w->portal);
        store_close(w->ctx.store);
        sp_buf_free(&w->key);
        sp_buf_free(&w->log);
        sp_buf_free(&w->scratch);
        sp_buf_free(&w->reply.body);
    }
    free(ws);
    if (ai) freeaddrinfo(ai);
    codebook_free(cb);
    gazetteer_free(gaz);
    sp_err_free(&err);
    return rc;
}
