/* test_portal.c -- the partner portal and POST /api/v1/submissions on a
 * real server (build/asan/spotlight serve) over loopback: the form
 * parsers as pure functions, sign-in (good, bad, throttled, cookie flags,
 * the pre-session token), CSRF, uploads with the validation report,
 * withdrawal (own, another organisation's, anonymous), the public count
 * dropping at once, the API's 201/422/401/403 and Idempotency-Key, and an authorisation
 * matrix of five principals against every portal and API door, checking
 * that nothing of organisation A reaches organisation B. */
#define _GNU_SOURCE 1   /* memmem */
#include "portal.h"
#include "test.h"

#include <stddef.h>
#include <strings.h>

#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#define PW "correct horse battery"
#define ASSERT_TRUE(x) ASSERT_NE(!!(x), 0)

/* ------------------------------------------------------------ the parsers */

TEST(form_urlencoded)
{
    portal_form f = {0};
    const char *why = NULL;
    const char *b = "email=a%40b.org&password=x+y%20z&&empty=&flag";
    ASSERT_EQ(portal_form_urlencoded(b, strlen(b), &f, &why), 0);
    ASSERT_EQ(f.n, 4);
    ASSERT_STR_EQ(portal_form_get(&f, "email")->value, "a@b.org");
    ASSERT_STR_EQ(portal_form_get(&f, "password")->value, "x y z");
    ASSERT_STR_EQ(portal_form_get(&f, "flag")->value, "");
    ASSERT_NULL(portal_form_get(&f, "nope"));
    ASSERT_EQ(portal_form_urlencoded("a=%zz", 5, &f, &why), -1);
    ASSERT_CONTAINS(why, "escape");
    ASSERT_EQ(portal_form_urlencoded("a=%00", 5, &f, &why), -1);
    ASSERT_EQ(portal_form_urlencoded("a=%ff", 5, &f, &why), -1);
    ASSERT_CONTAINS(why, "UTF-8");
    ASSERT_EQ(portal_form_urlencoded("=1", 2, &f, &why), -1);
    ASSERT_EQ(portal_form_urlencoded("a=%4", 4, &f, &why), -1);
    char many[PORTAL_FIELDS_MAX * 4 + 8] = "";
    for (int i = 0; i <= PORTAL_FIELDS_MAX; i++) strcat(many, "a=1&");
    ASSERT_EQ(portal_form_urlencoded(many, strlen(many), &f, &why), -1);
    ASSERT_CONTAINS(why, "too many");
    portal_form_free(&f);
}

TEST(form_multipart)
{
    portal_form f = {0};
    const char *why = NULL;
    const char *ct = "multipart/form-data; boundary=\"XyZ\"";
    const char *b = "--XyZ\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\ntok\r\n"
                    "--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a b.csv\"\r\n"
                    "Content-Type: text/csv\r\n\r\nx,y\r\n--Xy\r\n1,2\r\n--XyZ--\r\n";
    ASSERT_EQ(portal_form_multipart(ct, strlen(ct), b, strlen(b), &f, &why), 0);
    ASSERT_EQ(f.n, 2);
    ASSERT_STR_EQ(portal_form_get(&f, "csrf")->value, "tok");
    const portal_field *fl = portal_form_get(&f, "file");
    ASSERT_EQ(fl->is_file, 1);
    ASSERT_STR_EQ(fl->filename, "a b.csv");
    ASSERT_EQ(fl->vlen, strlen("x,y\r\n--Xy\r\n1,2"));
    ASSERT_EQ(memcmp(fl->value, "x,y\r\n--Xy\r\n1,2", fl->vlen), 0);
    /* no closing boundary, no boundary, two files, bad UTF-8 in a field */
    const char *t1 = "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nv";
    ASSERT_EQ(portal_form_multipart(ct, strlen(ct), t1, strlen(t1), &f, &why), -1);
    ASSERT_EQ(portal_form_multipart("multipart/form-data", 19, b, strlen(b), &f, &why), -1);
    ASSERT_CONTAINS(why, "boundary");
    const char *t2 = "--XyZ\r\nContent-Disposition: form-data; name=\"a\"; filename=\"1\"\r\n\r\nv\r\n"
                     "--XyZ\r\nContent-Disposition: form-data; name=\"b\"; filename=\"2\"\r\n\r\nw\r\n--XyZ--";
    ASSERT_EQ(portal_form_multipart(ct, strlen(ct), t2, strlen(t2), &f, &why), -1);
    ASSERT_CONTAINS(why, "more than one file");
    const char *t3 = "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n\xff\r\n--XyZ--";
    ASSERT_EQ(portal_form_multipart(ct, strlen(ct), t3, strlen(t3), &f, &why), -1);
    const char *t4 = "--XyZ\r\nContent-Disposition: form-data\r\n\r\nv\r\n--XyZ--";
    ASSERT_EQ(portal_form_multipart(ct, strlen(ct), t4, strlen(t4), &f, &why), -1);
    ASSERT_CONTAINS(why, "name");
    portal_form_free(&f);
}

/* ------------------------------------------------------------ a live server */

#include "portal_harness.h"

static void setup(void) { harness_setup("portal", "Alpha", 0); }

TEST(login_good_bad_cookie)
{
    setup();
    char s[64];
    resp r;
    ASSERT_EQ(login("a@alpha.org", "wrong password here", s, &r), 401);
    ASSERT_CONTAINS(r.body, "wrong email or password");
    resp_free(&r);
    ASSERT_EQ(login("nobody@alpha.org", "wrong password here", s, &r), 401);
    ASSERT_CONTAINS(r.body, "wrong email or password");   /* no enumeration */
    resp_free(&r);
    ASSERT_EQ(login("a@alpha.org", PW, s, &r), 303);     /* failures do not lock out yet */
    const char *ck = hdr(&r, "Set-Cookie");
    ASSERT_CONTAINS(ck, "HttpOnly");
    ASSERT_CONTAINS(ck, "SameSite=Strict");
    ASSERT_CONTAINS(ck, "Path=/");
    ASSERT_STR_EQ(hdr(&r, "Location"), "/portal");
    ASSERT_STR_EQ(hdr(&r, "Cache-Control"), "no-store");
    ASSERT_TRUE(strlen(s) == AUTH_SESSION_CHARS);
    resp_free(&r);
    /* the login form without its pre-session cookie, and from another site */
    const char *body = "email=a%40alpha.org&password=correct+horse+battery&login_token=x";
    http("POST", "/login", "Content-Type: application/x-www-form-urlencoded\r\n", body, strlen(body), &r);
    ASSERT_EQ(r.status, 403);
    resp_free(&r);
    http("POST", "/login", "Origin: http://evil.example\r\n", body, strlen(body), &r);
    ASSERT_EQ(r.status, 403);
    resp_free(&r);
    /* a POST without Content-Length */
    http("POST", "/login", NULL, NULL, 0, &r);
    ASSERT_EQ(r.status, 411);
    resp_free(&r);
    /* over the form cap */
    http("POST", "/login", "Content-Length: 9999999\r\n", NULL, 0, &r);
    ASSERT_EQ(r.status, 413);
    resp_free(&r);
    teardown();
}

TEST(upload_report_then_store_and_withdraw)
{
    setup();
    char ck[160], csrf[64], ckb[160], csrfb[64];
    session_of("a@alpha.org", ck, csrf);
    session_of("b@beta.org", ckb, csrfb);
    long long before = meta_records();
    long long sub_a, sub_b;
    resp r;
    sp_buf bad, good, goodb;
    csv_rows(&bad, "A", 3, 1);
    csv_rows(&good, "A", 12, 0);
    csv_rows(&goodb, "B", 12, 0);
    /* CSRF missing or wrong: 403 and nothing stored */
    upload(ck, "", "alpha-cases.csv", good.data, &r);
    ASSERT_EQ(r.status, 403);
    resp_free(&r);
    upload(ck, csrfb, "alpha-cases.csv", good.data, &r);
    ASSERT_EQ(r.status, 403);
    resp_free(&r);
    /* errors: the report, escaped, and nothing stored */
    upload(ck, csrf, "alpha<bad>.csv", bad.data, &r);
    ASSERT_EQ(r.status, 422);
    ASSERT_CONTAINS(r.body, "<table id=\"report\">");
    ASSERT_CONTAINS(r.body, "<td>3</td><td>gender</td><td>Mael</td>");
    ASSERT_CONTAINS(r.body, "unknown-code");
    ASSERT_CONTAINS(r.body, "alpha&lt;bad&gt;.csv");
    ASSERT_NULL(strstr(r.body, "alpha<bad>"));
    resp_free(&r);
    ASSERT_EQ(meta_records(), before);
    /* fixed: stored */
    upload(ck, csrf, "alpha-cases.csv", good.data, &r);
    ASSERT_EQ(r.status, 200);
    ASSERT_CONTAINS(r.body, "12 records stored as submission ");
    sub_a = atoll(strstr(r.body, "as submission ") + 14);
    ASSERT_TRUE(sub_a > 0);
    resp_free(&r);
    upload(ckb, csrfb, "beta-cases.csv", goodb.data, &r);
    ASSERT_EQ(r.status, 200);
    sub_b = atoll(strstr(r.body, "as submission ") + 14);
    resp_free(&r);
    ASSERT_EQ(meta_records(), before + 24);
    /* the portal lists A's file for A only */
    http("GET", "/portal", ck, NULL, 0, &r);
    ASSERT_CONTAINS(r.body, "alpha-cases.csv");
    ASSERT_STR_EQ(hdr(&r, "Cache-Control"), "no-store");
    resp_free(&r);
    http("GET", "/portal", ckb, NULL, 0, &r);
    ASSERT_NULL(strstr(r.body, "alpha-cases.csv"));
    resp_free(&r);
    /* B cannot withdraw A's submission; anonymous cannot; A can */
    char path[96], body[128];
    snprintf(path, sizeof path, "/portal/submissions/%lld/withdraw", sub_a);
    snprintf(body, sizeof body, "csrf=%s", csrfb);
    http("POST", path, ckb, body, strlen(body), &r);
    ASSERT_EQ(r.status, 403);
    resp_free(&r);
    ASSERT_EQ(meta_records(), before + 24);
    http("POST", path, NULL, "", 0, &r);
    ASSERT_EQ(r.status, 403);
    resp_free(&r);
    http("GET", "/portal", NULL, NULL, 0, &r);
    ASSERT_EQ(r.status, 303);
    ASSERT_STR_EQ(hdr(&r, "Location"), "/login");
    resp_free(&r);
    snprintf(body, sizeof body, "csrf=%s", csrf);
    http("POST", path, ck, "csrf=nope", 9, &r);
    ASSERT_EQ(r.status, 403);
    resp_free(&r);
    http("POST", path, ck, body, strlen(body), &r);
    ASSERT_EQ(r.status, 303);
    resp_free(&r);
    ASSERT_EQ(meta_records(), before + 12);          /* always current */
    http("GET", "/portal", ck, NULL, 0, &r);
    ASSERT_CONTAINS(r.body, "withdrawn");
    resp_free(&r);
    (void)sub_b;
    /* the audit log has the login, the upload by the signed-in user and
     * the withdrawal, and its chain holds */
    char cmd[1024], out[65536];
    snprintf(cmd, sizeof cmd, "%s --db %s audit list 2>&1; %s --db %s audit verify >/dev/null 2>&1 && echo CHAIN-OK",
             bin(), db, bin(), db);
    FILE *pp = popen(cmd, "r");
    size_t on = pp ? fread(out, 1, sizeof out - 1, pp) : 0;
    out[on] = '\0';
    if (pp) pclose(pp);
    ASSERT_CONTAINS(out, "login");
    ASSERT_CONTAINS(out, "withdraw");
    ASSERT_CONTAINS(out, "upload");
    ASSERT_CONTAINS(out, "user:");
    ASSERT_CONTAINS(out, "CHAIN-OK");
    sp_buf_free(&bad);
    sp_buf_free(&good);
    sp_buf_free(&goodb);
    teardown();
}

TEST(api_submissions)
{
    setup();
    resp r;
    sp_buf good, bad;
    csv_rows(&good, "API", 12, 0);   /* k = 10: fewer would be suppressed in meta */
    csv_rows(&bad, "APIX", 3, 1);
    ASSERT_EQ(api_submit(NULL, "text/csv", good.data, &r, NULL), 401);
    ASSERT_STR_EQ(hdr(&r, "WWW-Authenticate"), "Bearer");
    resp_free(&r);
    ASSERT_EQ(api_submit("sp_notatoken", "text/csv", good.data, &r, NULL), 401);
    resp_free(&r);
    ASSERT_EQ(api_submit(tok_an, "text/csv", good.data, &r, NULL), 403);
    resp_free(&r);
    ASSERT_EQ(api_submit(tok_a, "text/plain", good.data, &r, NULL), 415);
    resp_free(&r);
    ASSERT_EQ(api_submit(tok_a, "text/csv", bad.data, &r, NULL), 422);
    json_error_t je;
    json_t *j = json_loadb(r.body, r.blen, 0, &je);
    ASSERT_NOT_NULL(j);
    ASSERT_TRUE(json_is_false(json_object_get(j, "stored")));
    ASSERT_EQ(json_integer_value(json_object_get(j, "error_count")), 1);
    json_t *e0 = json_array_get(json_object_get(j, "errors"), 0);
    ASSERT_STR_EQ(json_string_value(json_object_get(e0, "column")), "gender");
    ASSERT_STR_EQ(json_string_value(json_object_get(e0, "rule")), "unknown-code");
    ASSERT_EQ(json_integer_value(json_object_get(e0, "row")), 3);   /* the header is row 1 */
    json_decref(j);
    resp_free(&r);
    long long before = meta_records();
    ASSERT_EQ(api_submit(tok_a, "text/csv; charset=utf-8", good.data, &r, NULL), 201);
    j = json_loadb(r.body, r.blen, 0, &je);
    ASSERT_TRUE(json_is_true(json_object_get(j, "stored")));
    ASSERT_EQ(json_integer_value(json_object_get(j, "records")), 12);
    ASSERT_TRUE(json_integer_value(json_object_get(j, "submission")) > 0);
    json_decref(j);
    ASSERT_STR_EQ(hdr(&r, "Cache-Control"), "no-store");
    resp_free(&r);
    ASSERT_EQ(meta_records(), before + 12);
    /* Idempotency-Key: the retry replays the stored reply and stores nothing */
    sp_buf idem, other;
    csv_rows(&idem, "IDEM", 12, 0);
    csv_rows(&other, "OTHER", 12, 0);
    long long c0 = meta_records();
    ASSERT_EQ(api_submit(tok_a, "text/csv", idem.data, &r, "Idempotency-Key: k-1\r\n"), 201);
    ASSERT_NULL(hdr(&r, "Idempotent-Replayed"));
    char *first = strdup(r.body);
    resp_free(&r);
    ASSERT_EQ(meta_records(), c0 + 12);
    ASSERT_EQ(api_submit(tok_a, "text/csv", idem.data, &r, "Idempotency-Key: k-1\r\n"), 201);
    ASSERT_STR_EQ(hdr(&r, "Idempotent-Replayed"), "true");
    ASSERT_STR_EQ(r.body, first);
    resp_free(&r);
    free(first);
    ASSERT_EQ(meta_records(), c0 + 12);                 /* stored once */
    ASSERT_EQ(api_submit(tok_a, "text/csv", other.data, &r, "Idempotency-Key: k-1\r\n"), 422);
    ASSERT_CONTAINS(r.body, "key reused with a different body");
    resp_free(&r);
    ASSERT_EQ(meta_records(), c0 + 12);
    /* the same key of another account is another key */
    ASSERT_EQ(api_submit(tok_b, "text/csv", other.data, &r, "Idempotency-Key: k-1\r\n"), 201);
    resp_free(&r);
    char longkey[200] = "Idempotency-Key: ";
    memset(longkey + strlen(longkey), 'k', 129);
    strcat(longkey, "\r\n");
    ASSERT_EQ(api_submit(tok_a, "text/csv", idem.data, &r, longkey), 400);
    ASSERT_CONTAINS(r.body, "1 to 128");
    resp_free(&r);
    sp_buf_free(&idem);
    sp_buf_free(&other);
    /* a body larger than the server's head buffer arrives whole; over
     * the upload cap it is refused before it is read */
    sp_buf big;
    csv_rows(&big, "BIG", 3000, 0);
    ASSERT_GE(big.len, 64 * 1024);
    ASSERT_EQ(api_submit(tok_a, "text/csv", big.data, &r, NULL), 201);
    ASSERT_CONTAINS(r.body, "\"records\":3000");
    resp_free(&r);
    sp_buf_free(&big);
    char over[128];
    snprintf(over, sizeof over, "Authorization: Bearer %s\r\nContent-Length: %u\r\n", tok_a,
             PORTAL_UPLOAD_MAX + 1);
    http("POST", "/api/v1/submissions", over, NULL, 0, &r);
    ASSERT_EQ(r.status, 413);
    resp_free(&r);
    /* a cookie is no credential for the API */
    http("POST", "/api/v1/submissions", "Cookie: sp_session=x\r\nContent-Type: text/csv\r\n",
         good.data, good.len, &r);
    ASSERT_EQ(r.status, 401);
    resp_free(&r);
    sp_buf_free(&good);
    sp_buf_free(&bad);
    teardown();
}

/* Every principal against every door; nothing of A's reaches B. */
TEST(authorisation_matrix)
{
    setup();
    long long sub_a = api_store(tok_a, "A"), sub_b = api_store(tok_b, "B");
    enum { ANON, A, B, AN, AD, NP };
    static const char *const emails[NP] = {NULL, "a@alpha.org", "b@beta.org", "an@alpha.org",
                                           "ad@central.org"};
    char ck[NP][160], cs[NP][64];
    for (int p = 0; p < NP; p++) {
        ck[p][0] = cs[p][0] = '\0';
        if (emails[p]) session_of(emails[p], ck[p], cs[p]);
    }
    char wd_b[96], wd_none[96];
    snprintf(wd_b, sizeof wd_b, "/portal/submissions/%lld/withdraw", sub_b);
    snprintf(wd_none, sizeof wd_none, "/portal/submissions/%lld/withdraw", sub_b + 1000);
    struct {
        const char *method, *path;
        int form;              /* 1: a CSRF-carrying urlencoded body */
        int want[NP];
    } rows[] = {
        {"GET", "/portal", 0, {303, 200, 200, 200, 200}},
        {"GET", "/portal/template.csv", 0, {303, 200, 200, 200, 200}},
        {"GET", "/portal/form.xlsx", 0, {303, 200, 200, 200, 200}},
        {"GET", "/portal/nothing", 0, {303, 404, 404, 404, 404}},
        {"POST", wd_none, 1, {403, 403, 403, 403, 403}},
        /* B's submission: A and the analyst refused; B would withdraw it,
         * and the admin may: run last */
        {"POST", wd_b, 1, {403, 403, 303, 403, 303}},
        {"GET", "/api/v1/submissions", 0, {405, 405, 405, 405, 405}},
    };
    char a_sub[48];
    snprintf(a_sub, sizeof a_sub, "<td>%lld</td><td>2", sub_a);   /* A's row: id, then date */
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        /* the admin before B on the last row so both see a live submission */
        static const int order[NP] = {ANON, A, AN, AD, B};
        for (int k = 0; k < NP; k++) {
            int p = order[k];
            resp r;
            char body[128];
            snprintf(body, sizeof body, "csrf=%s", cs[p]);
            http(rows[i].method, rows[i].path, ck[p][0] ? ck[p] : NULL, rows[i].form ? body : NULL,
                 rows[i].form ? strlen(body) : 0, &r);
            if (r.status != rows[i].want[p])
                TFAIL("%s %s as %s: %d, want %d", rows[i].method, rows[i].path,
                      emails[p] ? emails[p] : "anonymous", r.status, rows[i].want[p]);
            if (p == B && strstr(r.body, a_sub))
                TFAIL("%s %s shows B something of A's", rows[i].method, rows[i].path);
            if (strcmp(hdr(&r, "Cache-Control"), "no-store") != 0 && r.status != 405)
                TFAIL("%s %s is cacheable", rows[i].method, rows[i].path);
            resp_free(&r);
        }
    }
    /* the API door by token */
    sp_buf good;
    csv_rows(&good, "M", 2, 0);
    const char *toks[] = {NULL, tok_a, tok_b, tok_an};
    int want[] = {401, 201, 201, 403};
    for (int p = 0; p < 4; p++) {
        resp r;
        char pre[8];
        snprintf(pre, sizeof pre, "M%d", p);
        sp_buf_free(&good);
        csv_rows(&good, pre, 2, 0);
        ASSERT_EQ(api_submit(toks[p], "text/csv", good.data, &r, NULL), want[p]);
        if (p == B && strstr(r.body, "alpha")) TFAIL("the API shows B something of A's");
        resp_free(&r);
    }
    sp_buf_free(&good);
    /* logout: CSRF-checked, then the session is gone */
    resp r;
    http("POST", "/logout", ck[A], "csrf=bad", 8, &r);
    ASSERT_EQ(r.status, 403);
    resp_free(&r);
    char body[128];
    snprintf(body, sizeof body, "csrf=%s", cs[A]);
    http("POST", "/logout", ck[A], body, strlen(body), &r);
    ASSERT_EQ(r.status, 303);
    ASSERT_CONTAINS(hdr(&r, "Set-Cookie"), "Max-Age=0");
    resp_free(&r);
    http("GET", "/portal", ck[A], NULL, 0, &r);
    ASSERT_EQ(r.status, 303);
    resp_free(&r);
    teardown();
}

/* Throttling (per account and per address) on its own hub. */
TEST(login_throttled_and_stop)
{
    setup();
    char s[64];
    resp r;
    int st = 0;
    for (int i = 0; i < AUTH_THROTTLE_FREE + 1 && st != 429; i++)
        st = login("t@alpha.org", "wrong password here", s, NULL);
    st = login("t@alpha.org", PW, s, &r);
    ASSERT_EQ(st, 429);
    ASSERT_CONTAINS(r.body, "too many attempts, try again in ");
    ASSERT_NOT_NULL(hdr(&r, "Retry-After"));
    resp_free(&r);
    teardown();
}

TEST_LIST(form_urlencoded, form_multipart, login_good_bad_cookie,
          upload_report_then_store_and_withdraw, api_submissions, authorisation_matrix,
          login_throttled_and_stop)
