/* http.h -- HTTP/1.1 request parsing and the pieces of a reply, as pure
 * functions over memory (no sockets: serve.c owns those), so that the
 * fuzzer and the unit tests reach every byte of the parser.
 *
 * Strict by design: origin-form (or absolute-form) targets only, CRLF line
 * ends, token header names, no obs-fold, one Host, one Content-Length, no
 * Transfer-Encoding. Caps: the request line <= HTTP_MAX_LINE, the header
 * section <= HTTP_MAX_HEADERS_BYTES and <= HTTP_MAX_HEADERS lines, the
 * query <= HTTP_MAX_PARAMS parameters. A request never owns memory: every
 * pointer in it points into the caller's input buffer or into the
 * request's own fixed scratch arrays. */
#ifndef SP_HTTP_H
#define SP_HTTP_H

#include "util.h"

#define HTTP_MAX_LINE          8192    /* request line, CRLF included */
#define HTTP_MAX_HEADERS_BYTES 16384   /* header lines after the request line */
#define HTTP_MAX_HEADERS       64
#define HTTP_MAX_PARAMS        64
#define HTTP_MAX_HEAD (HTTP_MAX_LINE + HTTP_MAX_HEADERS_BYTES + 2)

typedef enum {
    HTTP_GET = 1, HTTP_HEAD = 2, HTTP_POST = 4, HTTP_PUT = 8, HTTP_DELETE = 16,
    HTTP_OPTIONS = 32, HTTP_PATCH = 64, HTTP_OTHER = 128
} http_method;

typedef struct http_header {
    const char *name, *value;  /* into the input; not NUL-terminated */
    size_t nlen, vlen;
} http_header;

typedef struct http_param {
    const char *key, *value;   /* decoded, NUL-terminated, in the request's scratch */
    size_t klen, vlen;
} http_param;

typedef struct http_request {
    http_method method;
    const char *method_str;    /* into the input */
    size_t method_len;
    int minor;                 /* HTTP/1.<minor> */
    const char *target;        /* raw request target, into the input */
    size_t target_len;
    const char *raw_query;     /* after '?', raw; NULL when there is none */
    size_t raw_query_len;
    char path[HTTP_MAX_LINE];  /* decoded path, NUL-terminated */
    size_t path_len;
    http_header headers[HTTP_MAX_HEADERS];
    size_t nheaders;
    size_t head_len;           /* bytes of request line + headers + blank line */
    long long content_length;  /* -1: none given */
    int keep_alive;            /* after Connection and the version */
    int accept_gzip;           /* Accept-Encoding allows gzip */
    const char *if_none_match; /* raw header value, or NULL */
    size_t if_none_match_len;
    const char *host;
    size_t host_len;
    /* the decoded query (http_query_parse fills it) */
    http_param params[HTTP_MAX_PARAMS];
    size_t nparams;
    char qscratch[HTTP_MAX_LINE];
} http_request;

/* Parser results: HTTP_PARSE_OK (a whole head is in buf), HTTP_PARSE_MORE
 * (need more bytes), or an HTTP status (400, 414, 431, 501, 505) the
 * server answers with before closing the connection. */
enum { HTTP_PARSE_OK = 0, HTTP_PARSE_MORE = 1 };

/* Parses the request head at buf[0..len). On HTTP_PARSE_OK, req is filled
 * and req->head_len says where a body would start; on an error status,
 * *why (static text) says what was wrong. req is reused, never freed. */
int http_parse_request(const char *buf, size_t len, http_request *req, const char **why);

/* Percent-decodes a path into out (cap bytes including the NUL). Refuses
 * (returns -1, *why set) bad %xx, NUL, invalid UTF-8, a "." or ".."
 * segment, and output that would not fit. '+' stays '+'. */
int http_decode_path(const char *s, size_t n, char *out, size_t cap, size_t *outlen,
                     const char **why);

/* Splits a raw query ("a=1&b=%20x") into req->params, decoded ('+' is a
 * space) into req->qscratch. Empty pieces ("a=1&&b") are skipped; a key
 * without '=' has value "". Refuses (-1, *why) bad %xx, NUL, invalid
 * UTF-8, an empty key, or more than HTTP_MAX_PARAMS parameters. */
int http_query_parse(http_request *req, const char **why);

/* The canonical form of req->params for a cache key: sorted by key then
 * value (stable), each percent-encoded (unreserved bytes kept), joined by
 * '&'. Appends to b. */
int http_query_normalise(const http_request *req, sp_buf *b);

/* First header named `name` (case-insensitive), or NULL. */
const http_header *http_header_get(const http_request *req, const char *name);

/* Does an If-None-Match value ("W/\"x\", \"y\"" or "*") match etag
 * (given with its quotes)? */
int http_etag_match(const char *inm, size_t n, const char *etag);

/* "Not Found" for 404 ... ; "Unknown" for others. */
const char *http_status_text(int status);

/* Compresses src as a gzip member (zlib level 6) into a new buffer the
 * caller frees. Returns SP_OK or SP_ENOMEM. */
int http_gzip(const char *src, size_t n, char **out, size_t *outlen);

#endif
