/* serve.h -- `spotlight serve`: the HTTP server (epoll, one event loop and
 * one SO_REUSEPORT listener per worker thread), its response cache and its
 * routing table.
 *
 * A route's handler fills a serve_reply; the server adds the status line,
 * the security headers, Content-Length, ETag, Vary and Date, gzips bodies
 * over 1 KB for clients that accept it, caches the result (keyed by path,
 * normalised query and encoding) until the hub's data changes, and answers
 * If-None-Match with 304. Handlers run on a worker thread with that
 * worker's own store connection; the codebook and gazetteer are shared
 * read-only.
 *
 * Adding a page: write `int page_x(serve_ctx *, const http_request *,
 * serve_reply *)` and add one line to the routes[] table in serve.c. */
#ifndef SP_SERVE_H
#define SP_SERVE_H

#include "codebook.h"
#include "gazetteer.h"
#include "http.h"
#include "store.h"

#define SERVE_MAX_BODY (64u << 20)      /* cap of a reply body */

typedef struct serve_ctx {
    sp_store *store;           /* this worker's connection */
    const sp_codebook *cb;     /* shared, read-only */
    const sp_gazetteer *gaz;   /* shared, read-only */
    long long generation;      /* the hub's data generation */
} serve_ctx;

typedef struct serve_reply {
    int status;                /* 200 unless set */
    const char *content_type;  /* static string; default "text/plain; charset=utf-8" */
    const char *cache_control; /* static string; NULL: "no-cache" (revalidate
                                  with the ETag: always current, cheap) */
    sp_buf body;               /* initialised by the server, cap SERVE_MAX_BODY */
    int no_store;              /* 1: never put in the response cache */
    char extra[256];           /* extra header lines, each ending in CRLF */
} serve_reply;

typedef int (*serve_handler)(serve_ctx *ctx, const http_request *req, serve_reply *out);

typedef struct serve_opts {
    const char *db;            /* the hub */
    const char *listen;        /* "127.0.0.1:8080", "[::1]:8080"; port 0: any */
    int threads;               /* workers; <= 0: the number of cores */
    int quiet;                 /* 1: no request log */
    int behind_tls;            /* 1: a TLS proxy in front: cookies carry Secure */
} serve_opts;

/* Loads the standard, opens the hub once per worker, listens, prints
 * "serving http://ADDR:PORT" on standard output, and serves until SIGINT
 * or SIGTERM. Returns an exit code (cli.h). */
int serve_run(const serve_opts *o);

/* /static/NAME: files embedded from static/ (embed_get("static/NAME")),
 * with a long cache lifetime. */
int serve_static(serve_ctx *ctx, const http_request *req, serve_reply *out);

#endif
