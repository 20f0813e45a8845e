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

static char dir[256], db[300];
static int port;
static pid_t spid;

static const char *bin(void)
{
    static char b[600];
    snprintf(b, sizeof b, "%s/build/asan/spotlight", test_srcdir());
    return b;
}

static void sh(const char *fmt, const char *a)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd, fmt, bin(), db, a);
    if (system(cmd) != 0) TFAIL("failed: %s", cmd);
}

static char tok_a[64], tok_b[64], tok_an[64];

static void token_for(const char *email, char out[64])
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "%s --db %s token create --user %s 2>&1 | grep -o 'sp_[A-Za-z0-9_-]*' | head -1",
             bin(), db, email);
    FILE *p = popen(cmd, "r");
    if (!p || !fgets(out, 64, p)) TFAIL("no token for %s", email);
    pclose(p);
    out[strcspn(out, "\n")] = '\0';
}

static void setup(void)
{
    if (port) return;
    snprintf(dir, sizeof dir, "/tmp/sp-portal-%d", (int)getpid());
    mkdir(dir, 0700);
    snprintf(db, sizeof db, "%s/hub.db", dir);
    char pwf[400];
    snprintf(pwf, sizeof pwf, "%s/pw", dir);
    FILE *fp = fopen(pwf, "w");
    fprintf(fp, PW "\n");
    fclose(fp);
    sh("%s --db %s init >/dev/null%s", "");
    sh("%s --db %s org add %s >/dev/null", "Alpha");
    sh("%s --db %s org add %s >/dev/null", "Beta");
    sh("%s --db %s org add %s >/dev/null", "Central");
    char args[1024];
    static const char *const users[][3] = {{"a@alpha.org", "Alpha", "contributor"},
                                           {"b@beta.org", "Beta", "contributor"},
                                           {"an@alpha.org", "Alpha", "analyst"},
                                           {"ad@central.org", "Central", "admin"},
                                           {"t@alpha.org", "Alpha", "contributor"}};
    for (size_t i = 0; i < 5; i++) {
        snprintf(args, sizeof args, "%s --org %s --role %s --password-file %s >/dev/null",
                 users[i][0], users[i][1], users[i][2], pwf);
        sh("%s --db %s user add %s", args);
    }
    token_for("a@alpha.org", tok_a);
    token_for("b@beta.org", tok_b);
    token_for("an@alpha.org", tok_an);
    int fds[2];
    if (pipe(fds) != 0) TFAIL("pipe");
    spid = fork();
    if (spid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        dup2(fds[1], 1);
        close(fds[0]);
        execl(bin(), bin(), "--db", db, "serve", "--listen", "127.0.0.1:0", "--threads", "2",
              "--quiet", (char *)NULL);
        _exit(127);
    }
    close(fds[1]);
    char line[256];
    size_t n = 0;
    while (n + 1 < sizeof line) {
        ssize_t k = read(fds[0], line + n, 1);
        if (k <= 0 || line[n] == '\n') break;
        n++;
    }
    line[n] = '\0';
    close(fds[0]);
    const char *c = strrchr(line, ':');
    if (strncmp(line, "serving http://127.0.0.1:", 25) != 0 || !c) TFAIL("server said '%s'", line);
    port = atoi(c + 1);
}

typedef struct resp {
    int status;
    char head[16384];
    char *body;
    size_t blen;
} resp;

static const char *hdr(const resp *r, const char *name)
{
    static char v[1024];
    size_t nl = strlen(name);
    for (const char *p = strstr(r->head, "\r\n"); p && p[2]; p = strstr(p + 2, "\r\n")) {
        const char *l = p + 2;
        if (strncasecmp(l, name, nl) == 0 && l[nl] == ':') {
            const char *e = strstr(l, "\r\n");
            const char *s = l + nl + 1;
            while (*s == ' ') s++;
            snprintf(v, sizeof v, "%.*s", (int)(e - s), s);
            return v;
        }
    }
    return NULL;
}

/* One request on its own connection; reads until the server closes. */
static void http(const char *method, const char *path, const char *headers, const char *body,
                 size_t blen, resp *r)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) TFAIL("connect: %s", strerror(errno));
    struct timeval tv = {30, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    char head[8192];
    int hn = snprintf(head, sizeof head, "%s %s HTTP/1.1\r\nHost: t\r\nConnection: close\r\n%s",
                      method, path, headers ? headers : "");
    if (body) hn += snprintf(head + hn, sizeof head - (size_t)hn, "Content-Length: %zu\r\n", blen);
    hn += snprintf(head + hn, sizeof head - (size_t)hn, "\r\n");
    if (write(fd, head, (size_t)hn) != hn) TFAIL("write");
    for (size_t o = 0; body && o < blen;) {
        ssize_t k = write(fd, body + o, blen - o);
        if (k <= 0) TFAIL("write body");
        o += (size_t)k;
    }
    sp_buf in;
    sp_buf_init(&in, 64u << 20);
    char buf[65536];
    ssize_t k;
    while ((k = read(fd, buf, sizeof buf)) > 0) sp_buf_add(&in, buf, (size_t)k);
    close(fd);
    char *e = memmem(in.data, in.len, "\r\n\r\n", 4);
    if (!e) TFAIL("no response to %s %s", method, path);
    size_t hl = (size_t)(e - in.data) + 4;
    if (hl >= sizeof r->head) TFAIL("head too long");
    memcpy(r->head, in.data, hl);
    r->head[hl] = '\0';
    r->status = atoi(r->head + 9);
    r->blen = in.len - hl;
    r->body = malloc(r->blen + 1);
    memcpy(r->body, in.data + hl, r->blen);
    r->body[r->blen] = '\0';
    sp_buf_free(&in);
}

static void resp_free(resp *r)
{
    free(r->body);
    r->body = NULL;
}

/* The value after `key` up to the next quote or ';', into out. */
static int grab(const char *s, const char *key, char *out, size_t cap)
{
    const char *p = s ? strstr(s, key) : NULL;
    if (!p) return -1;
    p += strlen(key);
    size_t n = strcspn(p, "\";");
    if (n >= cap) return -1;
    memcpy(out, p, n);
    out[n] = '\0';
    return 0;
}

/* Signs in; returns the status of POST /login and the session cookie
 * value in sess (empty when refused); the reply in r when given. */
static int login(const char *email, const char *pw, char sess[64], resp *out)
{
    resp r;
    char lc[128], lt[128], hdrs[512], body[512];
    http("GET", "/login", NULL, NULL, 0, &r);
    if (r.status != 200) TFAIL("GET /login: %d", r.status);
    if (grab(hdr(&r, "Set-Cookie"), "sp_login=", lc, sizeof lc)) TFAIL("no sp_login cookie");
    if (grab(r.body, "name=\"login_token\" value=\"", lt, sizeof lt)) TFAIL("no login token");
    resp_free(&r);
    snprintf(hdrs, sizeof hdrs, "Cookie: sp_login=%s\r\nContent-Type: application/x-www-form-urlencoded\r\n", lc);
    snprintf(body, sizeof body, "email=%s&password=%s&login_token=%s", email, pw, lt);
    for (char *p = body; *p; p++)
        if (*p == ' ') *p = '+';
    http("POST", "/login", hdrs, body, strlen(body), &r);
    sess[0] = '\0';
    if (r.status == 303) grab(hdr(&r, "Set-Cookie"), "sp_session=", sess, 64);
    int st = r.status;
    if (out) *out = r;
    else resp_free(&r);
    return st;
}

/* Cookie header for a session, and its CSRF token from /portal. */
static void session_of(const char *email, char cookie[160], char csrf[64])
{
    char s[64];
    if (login(email, PW, s, NULL) != 303 || !s[0]) TFAIL("cannot sign in %s", email);
    snprintf(cookie, 160, "Cookie: sp_session=%s\r\n", s);
    resp r;
    http("GET", "/portal", cookie, NULL, 0, &r);
    if (r.status != 200) TFAIL("GET /portal: %d", r.status);
    if (grab(r.body, "name=\"csrf\" value=\"", csrf, 64)) TFAIL("no csrf in /portal");
    resp_free(&r);
}

static void upload(const char *cookie, const char *csrf, const char *fname, const char *data,
                   resp *r)
{
    sp_buf b;
    sp_buf_init(&b, 1 << 20);
    sp_buf_adds(&b, "--BND\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n");
    sp_buf_adds(&b, csrf);
    sp_buf_printf(&b, "\r\n--BND\r\nContent-Disposition: form-data; name=\"file\"; filename=\"%s\"\r\n"
                      "Content-Type: text/csv\r\n\r\n%s\r\n--BND--\r\n", fname, data);
    char h[400];
    snprintf(h, sizeof h, "%sContent-Type: multipart/form-data; boundary=BND\r\n", cookie ? cookie : "");
    http("POST", "/portal/upload", h, b.data, b.len, r);
    sp_buf_free(&b);
}

static void csv_rows(sp_buf *b, const char *prefix, int n, int bad)
{
    sp_buf_init(b, 1 << 20);
    sp_buf_adds(b, "case_ref,year_identified,gender,age,nationality\n");
    for (int i = 1; i <= n; i++)
        sp_buf_printf(b, "%s-%d,2023,%s,25,VN\n", prefix, i, bad && i == 2 ? "Mael" : "male");
}

static long long meta_records(void)
{
    resp r;
    http("GET", "/api/v1/meta", NULL, NULL, 0, &r);
    json_error_t je;
    json_t *j = json_loadb(r.body, r.blen, 0, &je);
    if (!j) TFAIL("meta not JSON");
    long long n = json_integer_value(json_object_get(j, "records"));
    json_decref(j);
    resp_free(&r);
    return n;
}

static long long api_submit(const char *token, const char *ctype, const char *body, resp *r,
                            const char *extra)
{
    char h[512];
    snprintf(h, sizeof h, "%s%s%s%sContent-Type: %s\r\n", token ? "Authorization: Bearer " : "",
             token ? token : "", token ? "\r\n" : "", extra ? extra : "", ctype);
    http("POST", "/api/v1/submissions", h, body, strlen(body), r);
    return r->status;
}

/* Each test runs in its own process (test.h forks): its own hub and
 * server, stopped cleanly at the end (exit 0: no leak, no crash). */
static void teardown(void)
{
    int wst;
    kill(spid, SIGTERM);
    waitpid(spid, &wst, 0);
    if (!WIFEXITED(wst) || WEXITSTATUS(wst) != 0) TFAIL("server exit status %d", wst);
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd)) {}
}

/* A stored submission of `token`'s organisation (through the API). */
static long long api_store(const char *token, const char *prefix)
{
    sp_buf b;
    resp r;
    csv_rows(&b, prefix, 12, 0);
    if (api_submit(token, "text/csv", b.data, &r, NULL) != 201) TFAIL("API upload: %d %s", r.status, r.body);
    long long id = atoll(strstr(r.body, "\"submission\":") + 13);
    resp_free(&r);
    sp_buf_free(&b);
    return id;
}

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
