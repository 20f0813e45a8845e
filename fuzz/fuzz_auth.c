/* fuzz_auth.c -- libFuzzer target for the Cookie and Authorization header
 * parsers, the CSRF check and the session and token look-ups they feed.
 * A hub with a secret and one account is made once in a temporary file;
 * every input is then tried as a Cookie header, a bearer header, and (cut
 * at a point the first byte picks) as session id + CSRF token. Whatever
 * is accepted is checked for the invariants callers rely on: values point
 * inside the input, hold only the allowed characters, and random bytes
 * never authenticate. */
#include "auth.h"
#include "embed.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static sp_gazetteer *gaz;
static sp_codebook *cb;
static sp_store *st;
static auth *au;
static char session[AUTH_SESSION_CHARS + 1];
static char csrf[AUTH_CSRF_CHARS + 1];

static void setup(void)
{
    sp_err e;
    char path[] = "/tmp/sp_fuzz_auth_XXXXXX";
    long long org;
    sp_err_init(&e);
    int fd = mkstemp(path);
    if (fd < 0) abort();
    close(fd);
    unlink(path);
    if (sodium_init() < 0 || gazetteer_load(&gaz, NULL, &e) || codebook_load_default(&cb, gaz, &e) ||
        store_open(&st, path, cb, 1, &e) ||
        store_meta_set(st, "secret", "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff") ||
        auth_open(&au, st, &e) || store_org_add(st, "Fuzz Org", NULL, &org) ||
        auth_user_add(au, "fuzz@example.org", "Fuzz Org", AUTH_ANALYST, "correct horse battery staple", NULL, &e))
        abort();
    auth_login_result r;
    if (auth_login(au, "fuzz@example.org", "correct horse battery staple", NULL, &r) || r.refusal)
        abort();
    memcpy(session, r.session, sizeof session);
    if (auth_csrf_token(au, session, strlen(session), csrf)) abort();
    sp_err_free(&e);
    /* the file stays open for the run; unlinking it now leaves nothing behind */
    unlink(path);
}

static int cookie_octet(unsigned char c)
{
    return c == 0x21 || (c >= 0x23 && c <= 0x2B) || (c >= 0x2D && c <= 0x3A) ||
           (c >= 0x3C && c <= 0x5B) || (c >= 0x5D && c <= 0x7E);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!au) setup();
    const char *s = (const char *)data, *v;
    size_t n;
    auth_principal p;

    int rc = auth_parse_cookie(s, size, AUTH_COOKIE_NAME, &v, &n);
    if (rc == SP_OK) {
        if (v < s || v + n > s + size) abort();
        for (size_t i = 0; i < n; i++)
            if (!cookie_octet((unsigned char)v[i])) abort();
        int ok = auth_session_check(au, v, n, &p);
        /* only the one session ever made can authenticate */
        if (ok && (n != AUTH_SESSION_CHARS || memcmp(v, session, n) != 0)) abort();
        if (!ok && p.user_id) abort();
    } else if (rc != SP_EOF && rc != SP_EINPUT) {
        abort();
    }

    rc = auth_parse_bearer(s, size, &v, &n);
    if (rc == SP_OK) {
        if (n == 0 || v < s || v + n > s + size) abort();
        if (auth_token_check(au, v, n, &p) || p.user_id) abort();   /* no token exists */
    } else if (rc != SP_EINPUT) {
        abort();
    }

    /* session id and CSRF token cut where the first byte says */
    if (size > 0) {
        size_t cut = 1 + (size_t)data[0] % size;
        if (cut > size) cut = size;
        int ok = auth_csrf_check(au, s + 1, cut - 1, s + cut, size - cut);
        if (ok) abort();   /* these bytes are no session's id + its tag, short of a 2^-256 chance */
        /* the real session with the input as token; and the input's bytes as session */
        ok = auth_csrf_check(au, session, AUTH_SESSION_CHARS, s, size);
        if (ok != (size == AUTH_CSRF_CHARS && memcmp(s, csrf, size) == 0)) abort();
        char tok[AUTH_CSRF_CHARS + 1];
        if (auth_csrf_token(au, s, size, tok) == SP_OK &&
            (strlen(tok) != AUTH_CSRF_CHARS || !auth_csrf_check(au, s, size, tok, AUTH_CSRF_CHARS)))
            abort();
    }

    /* whole requests, as the server would pass NUL-terminated header values */
    char *z = malloc(size + 1);
    if (!z) return 0;
    memcpy(z, data, size);
    z[size] = '\0';
    int via = 0;
    if (auth_request(au, z, NULL, &p, &via) || via) abort();
    if (auth_request(au, NULL, z, &p, &via) && (!via || p.user_id <= 0)) abort();
    free(z);
    return 0;
}
