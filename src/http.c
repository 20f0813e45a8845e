/* http.c -- see http.h. Strict HTTP/1.1 request-head parsing, percent
 * decoding, query splitting and normalising, ETag matching, gzip. */
#include "http.h"

#include <stdlib.h>
#include <string.h>
#include <zlib.h>

/* RFC 9110 tchar */
static int is_tchar(unsigned char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return 1;
    return c && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static int lower(int c) { return c >= 'A' && c <= 'Z' ? c + 32 : c; }

static int eq_nocase(const char *a, size_t n, const char *b)
{
    size_t m = strlen(b);
    if (n != m) return 0;
    for (size_t i = 0; i < n; i++)
        if (lower((unsigned char)a[i]) != lower((unsigned char)b[i])) return 0;
    return 1;
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9') return c - '0';
    c = lower(c);
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

static const struct { const char *s; http_method m; } methods[] = {
    {"GET", HTTP_GET},       {"HEAD", HTTP_HEAD},       {"POST", HTTP_POST},
    {"PUT", HTTP_PUT},       {"DELETE", HTTP_DELETE},   {"OPTIONS", HTTP_OPTIONS},
    {"PATCH", HTTP_PATCH},
};

/* The q-value of one Accept-Encoding element is zero? ("q=0", "q=0.00") */
static int q_is_zero(const char *p, size_t n)
{
    /* p..n is the parameters after the coding: ";q=0.5" with spaces */
    for (size_t i = 0; i + 1 < n; i++) {
        if (lower((unsigned char)p[i]) == 'q' && p[i + 1] == '=') {
            size_t j = i + 2;
            if (j >= n) return 0;
            for (; j < n && p[j] != ' ' && p[j] != '\t' && p[j] != ';'; j++)
                if (p[j] != '0' && p[j] != '.') return 0;
            return 1;
        }
    }
    return 0;
}

/* Does the Accept-Encoding value allow gzip? An explicit gzip element
 * wins over "*". */
static int accepts_gzip(const char *v, size_t n)
{
    int gz = -1, star = -1;
    size_t i = 0;
    while (i < n) {
        while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == ',')) i++;
        size_t s = i;
        while (i < n && is_tchar((unsigned char)v[i])) i++;
        size_t tl = i - s;
        size_t ps = i;
        while (i < n && v[i] != ',') i++;
        if (!tl) continue;
        int ok = !q_is_zero(v + ps, i - ps);
        if (eq_nocase(v + s, tl, "gzip") || eq_nocase(v + s, tl, "x-gzip")) gz = ok;
        else if (tl == 1 && v[s] == '*') star = ok;
    }
    if (gz >= 0) return gz;
    return star > 0;
}

int http_decode_path(const char *s, size_t n, char *out, size_t cap, size_t *outlen,
                     const char **why)
{
    size_t o = 0;
    if (n == 0 || s[0] != '/') { *why = "the path must start with '/'"; return -1; }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '%') {
            int h = i + 2 < n ? hexval((unsigned char)s[i + 1]) : -1;
            int l = i + 2 < n ? hexval((unsigned char)s[i + 2]) : -1;
            if (h < 0 || l < 0) { *why = "bad percent-encoding in the path"; return -1; }
            c = (unsigned char)(h * 16 + l);
            i += 2;
        }
        if (c == 0) { *why = "NUL in the path"; return -1; }
        if (o + 1 >= cap) { *why = "the path is too long"; return -1; }
        out[o++] = (char)c;
    }
    out[o] = '\0';
    if (!sp_utf8_valid(out, o)) { *why = "the path is not valid UTF-8"; return -1; }
    /* no "." or ".." segment (after decoding: "%2e%2e" is caught too) */
    for (size_t i = 0; i < o;) {
        size_t e = i + 1;
        while (e < o && out[e] != '/') e++;
        size_t sl = e - i - 1;
        const char *seg = out + i + 1;
        if ((sl == 1 && seg[0] == '.') || (sl == 2 && seg[0] == '.' && seg[1] == '.')) {
            *why = "'.' and '..' are not allowed in a path";
            return -1;
        }
        i = e;
    }
    *outlen = o;
    return 0;
}

/* Decodes one query component ('+' is a space) into out (room checked by
 * the caller: decoding never grows). Returns the length or -1. */
static long decode_component(const char *s, size_t n, char *out, const char **why)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '+') c = ' ';
        else if (c == '%') {
            int h = i + 2 < n ? hexval((unsigned char)s[i + 1]) : -1;
            int l = i + 2 < n ? hexval((unsigned char)s[i + 2]) : -1;
            if (h < 0 || l < 0) { *why = "bad percent-encoding in the query"; return -1; }
            c = (unsigned char)(h * 16 + l);
            i += 2;
        }
        if (c == 0) { *why = "NUL in the query"; return -1; }
        out[o++] = (char)c;
    }
    out[o] = '\0';
    if (!sp_utf8_valid(out, o)) { *why = "the query is not valid UTF-8"; return -1; }
    return (long)o;
}

int http_query_parse(http_request *req, const char **why)
{
    req->nparams = 0;
    if (!req->raw_query) return 0;
    const char *q = req->raw_query;
    size_t n = req->raw_query_len, used = 0, i = 0;
    while (i <= n) {
        size_t s = i;
        while (i < n && q[i] != '&') i++;
        size_t e = i++;
        if (e == s) continue;
        const char *eq = memchr(q + s, '=', e - s);
        size_t kl = eq ? (size_t)(eq - (q + s)) : e - s;
        size_t vl = eq ? e - s - kl - 1 : 0;
        if (kl == 0) { *why = "a query parameter has no name"; return -1; }
        if (req->nparams >= HTTP_MAX_PARAMS) { *why = "too many query parameters"; return -1; }
        if (used + kl + vl + 2 > sizeof req->qscratch) { *why = "the query is too long"; return -1; }
        http_param *p = &req->params[req->nparams];
        char *k = req->qscratch + used;
        long kd = decode_component(q + s, kl, k, why);
        if (kd < 0) return -1;
        if (kd == 0) { *why = "a query parameter has no name"; return -1; }
        used += (size_t)kd + 1;
        char *v = req->qscratch + used;
        long vd = eq ? decode_component(eq + 1, vl, v, why) : 0;
        if (vd < 0) return -1;
        if (!eq) v[0] = '\0';
        used += (size_t)vd + 1;
        p->key = k; p->klen = (size_t)kd;
        p->value = v; p->vlen = (size_t)vd;
        req->nparams++;
    }
    return 0;
}

static int param_cmp(const http_param *a, const http_param *b)
{
    int c = strcmp(a->key, b->key);
    return c ? c : strcmp(a->value, b->value);
}

static int add_encoded(sp_buf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        int keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                   c == '-' || c == '_' || c == '.' || c == '~';
        int rc;
        if (keep) rc = sp_buf_addc(b, (char)c);
        else {
            char e[3] = {'%', hex[c >> 4], hex[c & 15]};
            rc = sp_buf_add(b, e, 3);
        }
        if (rc) return rc;
    }
    return SP_OK;
}

int http_query_normalise(const http_request *req, sp_buf *b)
{
    const http_param *ord[HTTP_MAX_PARAMS];
    size_t n = req->nparams;
    for (size_t i = 0; i < n; i++) {
        /* insertion sort: stable, n <= 64 */
        size_t j = i;
        while (j > 0 && param_cmp(ord[j - 1], &req->params[i]) > 0) {
            ord[j] = ord[j - 1];
            j--;
        }
        ord[j] = &req->params[i];
    }
    int rc = SP_OK;
    for (size_t i = 0; i < n && !rc; i++) {
        if (i) rc = sp_buf_addc(b, '&');
        if (!rc) rc = add_encoded(b, ord[i]->key, ord[i]->klen);
        if (!rc) rc = sp_buf_addc(b, '=');
        if (!rc) rc = add_encoded(b, ord[i]->value, ord[i]->vlen);
    }
    return rc;
}

const http_header *http_header_get(const http_request *req, const char *name)
{
    for (size_t i = 0; i < req->nheaders; i++)
        if (eq_nocase(req->headers[i].name, req->headers[i].nlen, name)) return &req->headers[i];
    return NULL;
}

int http_etag_match(const char *v, size_t n, const char *etag)
{
    size_t el = strlen(etag);
    size_t i = 0;
    while (i < n) {
        while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == ',')) i++;
        if (i >= n) break;
        if (v[i] == '*') return 1;
        if (i + 1 < n && v[i] == 'W' && v[i + 1] == '/') i += 2;
        size_t s = i;
        if (i < n && v[i] == '"') {
            i++;
            while (i < n && v[i] != '"') i++;
            if (i < n) i++;
        } else {
            while (i < n && v[i] != ',') i++;
        }
        if (i - s == el && memcmp(v + s, etag, el) == 0) return 1;
        while (i < n && v[i] != ',') i++;
    }
    return 0;
}

/* The header section: lines from `p` (just after the request line). */
static int parse_headers(const char *buf, size_t len, size_t start, http_request *req,
                         const char **why)
{
    size_t i = start;
    int hosts = 0, lengths = 0;
    for (;;) {
        size_t budget_end = start + HTTP_MAX_HEADERS_BYTES;
        size_t lim = len < budget_end ? len : budget_end;
        const char *nl = i < lim ? memchr(buf + i, '\n', lim - i) : NULL;
        if (!nl) {
            if (len >= budget_end) { *why = "the request headers are too large"; return 431; }
            return HTTP_PARSE_MORE;
        }
        size_t e = (size_t)(nl - buf);          /* index of '\n' */
        if (e == i || buf[e - 1] != '\r') { *why = "a header line does not end with CRLF"; return 400; }
        size_t le = e - 1;                      /* end of line content */
        if (le == i) {                          /* blank line: the end */
            req->head_len = e + 1;
            break;
        }
        if (buf[i] == ' ' || buf[i] == '\t') { *why = "folded header lines are not accepted"; return 400; }
        if (req->nheaders >= HTTP_MAX_HEADERS) { *why = "too many request headers"; return 431; }
        size_t c = i;
        while (c < le && is_tchar((unsigned char)buf[c])) c++;
        if (c == i || c >= le || buf[c] != ':') { *why = "a header name is not a token followed by ':'"; return 400; }
        size_t vs = c + 1, ve = le;
        while (vs < ve && (buf[vs] == ' ' || buf[vs] == '\t')) vs++;
        while (ve > vs && (buf[ve - 1] == ' ' || buf[ve - 1] == '\t')) ve--;
        for (size_t k = vs; k < ve; k++) {
            unsigned char ch = (unsigned char)buf[k];
            if ((ch < 0x20 && ch != '\t') || ch == 0x7f) { *why = "a control character in a header value"; return 400; }
        }
        http_header *h = &req->headers[req->nheaders++];
        h->name = buf + i; h->nlen = c - i;
        h->value = buf + vs; h->vlen = ve - vs;
        if (eq_nocase(h->name, h->nlen, "host")) {
            hosts++;
            req->host = h->value;
            req->host_len = h->vlen;
        } else if (eq_nocase(h->name, h->nlen, "content-length")) {
            long long v = 0;
            if (h->vlen == 0 || h->vlen > 15) { *why = "a bad Content-Length"; return 400; }
            for (size_t k = 0; k < h->vlen; k++) {
                if (h->value[k] < '0' || h->value[k] > '9') { *why = "a bad Content-Length"; return 400; }
                v = v * 10 + (h->value[k] - '0');
            }
            if (lengths++ && v != req->content_length) { *why = "conflicting Content-Length headers"; return 400; }
            req->content_length = v;
        } else if (eq_nocase(h->name, h->nlen, "transfer-encoding")) {
            *why = "Transfer-Encoding in requests is not supported";
            return 501;
        } else if (eq_nocase(h->name, h->nlen, "connection")) {
            size_t k = 0;
            while (k < h->vlen) {
                while (k < h->vlen && (h->value[k] == ' ' || h->value[k] == ',' || h->value[k] == '\t')) k++;
                size_t s = k;
                while (k < h->vlen && h->value[k] != ',' && h->value[k] != ' ' && h->value[k] != '\t') k++;
                if (eq_nocase(h->value + s, k - s, "close")) req->keep_alive = 0;
                else if (eq_nocase(h->value + s, k - s, "keep-alive") && req->minor == 0)
                    req->keep_alive = 1;
            }
        } else if (eq_nocase(h->name, h->nlen, "accept-encoding")) {
            req->accept_gzip = accepts_gzip(h->value, h->vlen);
        } else if (eq_nocase(h->name, h->nlen, "if-none-match")) {
            req->if_none_match = h->value;
            req->if_none_match_len = h->vlen;
        }
        i = e + 1;
    }
    if (hosts > 1) { *why = "more than one Host header"; return 400; }
    if (hosts == 0 && req->minor >= 1) { *why = "HTTP/1.1 requests need a Host header"; return 400; }
    return HTTP_PARSE_OK;
}

int http_parse_request(const char *buf, size_t len, http_request *req, const char **why)
{
    static const char *dummy;
    if (!why) why = &dummy;
    *why = "";
    req->method = HTTP_OTHER;
    req->nheaders = 0;
    req->nparams = 0;
    req->head_len = 0;
    req->content_length = -1;
    req->accept_gzip = 0;
    req->if_none_match = NULL;
    req->if_none_match_len = 0;
    req->host = NULL;
    req->host_len = 0;
    req->raw_query = NULL;
    req->raw_query_len = 0;
    req->path[0] = '\0';
    req->path_len = 0;

    /* RFC 9112 2.2: ignore empty lines before the request line */
    size_t i = 0;
    while (i + 1 < len && buf[i] == '\r' && buf[i + 1] == '\n' && i < 16) i += 2;
    size_t lim = len - i < HTTP_MAX_LINE ? len - i : HTTP_MAX_LINE;
    const char *nl = memchr(buf + i, '\n', lim);
    if (!nl) {
        if (len - i >= HTTP_MAX_LINE) { *why = "the request line is too long"; return 414; }
        /* refuse garbage early rather than wait for a line end */
        for (size_t k = i; k < len; k++) {
            unsigned char c = (unsigned char)buf[k];
            if (c < 0x20 && c != '\r') { *why = "a control character in the request line"; return 400; }
        }
        return HTTP_PARSE_MORE;
    }
    size_t e = (size_t)(nl - buf);
    if (e == i || buf[e - 1] != '\r') { *why = "the request line does not end with CRLF"; return 400; }
    size_t le = e - 1;
    /* method */
    size_t m = i;
    while (m < le && is_tchar((unsigned char)buf[m])) m++;
    if (m == i || m >= le || buf[m] != ' ' || m - i > 20) { *why = "a bad method"; return 400; }
    req->method_str = buf + i;
    req->method_len = m - i;
    for (size_t k = 0; k < sizeof methods / sizeof methods[0]; k++)
        if (strlen(methods[k].s) == m - i && memcmp(methods[k].s, buf + i, m - i) == 0)
            req->method = methods[k].m;
    /* target */
    size_t t = m + 1, te = t;
    while (te < le && buf[te] != ' ') {
        unsigned char c = (unsigned char)buf[te];
        if (c <= 0x20 || c >= 0x7f || c == '#') { *why = "a bad character in the request target"; return 400; }
        te++;
    }
    if (te == t || te >= le) { *why = "a bad request target"; return 400; }
    /* version */
    const char *v = buf + te + 1;
    size_t vl = le - te - 1;
    if (vl != 8 || memcmp(v, "HTTP/", 5) != 0 || v[5] < '0' || v[5] > '9' || v[6] != '.' ||
        v[7] < '0' || v[7] > '9') {
        *why = "a bad HTTP version";
        return 400;
    }
    if (v[5] != '1') { *why = "only HTTP/1.x is supported"; return 505; }
    req->minor = v[7] - '0';
    req->keep_alive = req->minor >= 1;
    req->target = buf + t;
    req->target_len = te - t;

    int rc = parse_headers(buf, len, e + 1, req, why);
    if (rc != HTTP_PARSE_OK) return rc;

    /* origin-form, or absolute-form (whose authority we ignore) */
    const char *p = req->target;
    size_t pn = req->target_len;
    if (p[0] != '/') {
        size_t skip = 0;
        if (pn > 7 && eq_nocase(p, 7, "http://")) skip = 7;
        else if (pn > 8 && eq_nocase(p, 8, "https://")) skip = 8;
        else { *why = "the request target must be a path"; return 400; }
        const char *slash = memchr(p + skip, '/', pn - skip);
        const char *qm = memchr(p + skip, '?', pn - skip);
        if (!slash || (qm && qm < slash)) { *why = "the request target must be a path"; return 400; }
        pn -= (size_t)(slash - p);
        p = slash;
    }
    const char *q = memchr(p, '?', pn);
    size_t plen = q ? (size_t)(q - p) : pn;
    if (q) {
        req->raw_query = q + 1;
        req->raw_query_len = pn - plen - 1;
    }
    if (http_decode_path(p, plen, req->path, sizeof req->path, &req->path_len, why)) return 400;
    return HTTP_PARSE_OK;
}

const char *http_status_text(int s)
{
    switch (s) {
    case 200: return "OK";
    case 201: return "Created";
    case 204: return "No Content";
    case 301: return "Moved Permanently";
    case 303: return "See Other";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 411: return "Length Required";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 422: return "Unprocessable Content";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    case 505: return "HTTP Version Not Supported";
    default: return "Unknown";
    }
}

int http_gzip(const char *src, size_t n, char **out, size_t *outlen)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    *out = NULL;
    *outlen = 0;
    if (deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) return SP_ENOMEM;
    size_t cap = deflateBound(&z, (uLong)n) + 32;
    char *b = malloc(cap);
    if (!b) {
        deflateEnd(&z);
        return SP_ENOMEM;
    }
    z.next_in = (Bytef *)(uintptr_t)src;
    z.avail_in = (uInt)n;
    z.next_out = (Bytef *)b;
    z.avail_out = (uInt)cap;
    int zr = deflate(&z, Z_FINISH);
    size_t got = cap - z.avail_out;
    deflateEnd(&z);
    if (zr != Z_STREAM_END) {
        free(b);
        return SP_ENOMEM;
    }
    *out = b;
    *outlen = got;
    return SP_OK;
}
