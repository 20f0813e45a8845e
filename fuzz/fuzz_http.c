/* fuzz_http.c -- libFuzzer target for the HTTP request parser and the
 * path and query decoders (pure functions; no sockets). Every input is
 * parsed whole and also as a stream cut at a point the first byte picks,
 * as the server sees it arrive; what the parser accepts is checked for
 * the invariants the server relies on. */
#include "http.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static http_request req;

static void check(const char *buf, size_t len)
{
    const char *why = NULL;
    int rc = http_parse_request(buf, len, &req, &why);
    if (rc == HTTP_PARSE_MORE) return;
    if (rc != HTTP_PARSE_OK) {
        if (rc < 400 || rc > 505 || !why || !*why) abort();
        return;
    }
    if (req.head_len == 0 || req.head_len > len) abort();
    if (req.path[0] != '/' || strlen(req.path) != req.path_len) abort();
    if (!sp_utf8_valid(req.path, req.path_len) || strstr(req.path, "/../")) abort();
    if (req.nheaders > HTTP_MAX_HEADERS) abort();
    for (size_t i = 0; i < req.nheaders; i++)
        if (req.headers[i].name < buf || req.headers[i].value + req.headers[i].vlen > buf + len)
            abort();
    if (http_query_parse(&req, &why) == 0) {
        if (req.nparams > HTTP_MAX_PARAMS) abort();
        for (size_t i = 0; i < req.nparams; i++)
            if (strlen(req.params[i].key) != req.params[i].klen || req.params[i].klen == 0 ||
                strlen(req.params[i].value) != req.params[i].vlen)
                abort();
        sp_buf b;
        sp_buf_init(&b, 1 << 20);
        if (http_query_normalise(&req, &b) != SP_OK) abort();
        sp_buf_free(&b);
    } else if (!why) {
        abort();
    }
    if (req.if_none_match) (void)http_etag_match(req.if_none_match, req.if_none_match_len, "\"1-2\"");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    const char *buf = (const char *)data + 1;
    size_t len = size - 1;
    /* the head as it arrives: a prefix, then the whole */
    size_t cut = len ? (size_t)data[0] * len / 255 : 0;
    char *copy = malloc(len + 1);
    memcpy(copy, buf, len);
    check(copy, cut);
    check(copy, len);
    /* the path decoder alone */
    char out[256];
    size_t ol;
    const char *why;
    if (http_decode_path(copy, len, out, sizeof out, &ol, &why) == 0 &&
        (ol >= sizeof out || strlen(out) != ol))
        abort();
    free(copy);
    return 0;
}
