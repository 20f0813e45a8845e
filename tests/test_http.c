/* test_http.c -- the request parser as pure functions, then a real server
 * (the sanitized build/asan/spotlight serve) on loopback over a demo hub
 * of 3000 records, talked to by a small C client: every endpoint and
 * filter, bad requests, keep-alive, pipelining, 1-byte writes, gzip,
 * ETag/304, invalidation by a CLI write, and numbers equal to
 * `spotlight stats --json`. The hub is built once into build/test/ and
 * copied for tests that write. */
#define _GNU_SOURCE 1   /* memmem */
#include "http.h"
#include "test.h"

#include <stddef.h>
#include <strings.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <zlib.h>

static http_request R;

static int parse(const char *s, const char **why)
{
    return http_parse_request(s, strlen(s), &R, why);
}

TEST(parse_basic)
{
    const char *why;
    const char *s = "GET /api/v1/stats/gender?where=gender%3Amale&year_from=2020 HTTP/1.1\r\n"
                    "Host: x\r\nAccept-Encoding: br, gzip;q=0.5\r\nIf-None-Match: \"a\"\r\n\r\nNEXT";
    ASSERT_EQ(parse(s, &why), HTTP_PARSE_OK);
    ASSERT_EQ(R.method, HTTP_GET);
    ASSERT_STR_EQ(R.path, "/api/v1/stats/gender");
    ASSERT_EQ(R.head_len, strlen(s) - 4);
    ASSERT_EQ(R.keep_alive, 1);
    ASSERT_EQ(R.accept_gzip, 1);
    ASSERT_EQ(R.minor, 1);
    ASSERT_EQ(http_query_parse(&R, &why), 0);
    ASSERT_EQ(R.nparams, 2);
    ASSERT_STR_EQ(R.params[0].value, "gender:male");
    sp_buf b;
    sp_buf_init(&b, 1 << 16);
    ASSERT_EQ(http_query_normalise(&R, &b), 0);
    ASSERT_STR_EQ(b.data, "where=gender%3Amale&year_from=2020");
    sp_buf_free(&b);
    /* incomplete heads ask for more */
    ASSERT_EQ(parse("GET / HTTP/1.1\r\nHost: x\r\n", &why), HTTP_PARSE_MORE);
    ASSERT_EQ(parse("GET / HT", &why), HTTP_PARSE_MORE);
    /* HTTP/1.0 closes unless asked; Connection: close; gzip q=0 */
    ASSERT_EQ(parse("GET / HTTP/1.0\r\n\r\n", &why), HTTP_PARSE_OK);
    ASSERT_EQ(R.keep_alive, 0);
    ASSERT_EQ(parse("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", &why), HTTP_PARSE_OK);
    ASSERT_EQ(R.keep_alive, 1);
    ASSERT_EQ(parse("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAccept-Encoding: gzip;q=0, *\r\n\r\n", &why), 0);
    ASSERT_EQ(R.keep_alive, 0);
    ASSERT_EQ(R.accept_gzip, 0);
    ASSERT_EQ(parse("HEAD http://example.org/a/b?x=1 HTTP/1.1\r\nHost: x\r\n\r\n", &why), 0);
    ASSERT_EQ(R.method, HTTP_HEAD);
    ASSERT_STR_EQ(R.path, "/a/b");
}

TEST(parse_errors)
{
    const char *why;
    ASSERT_EQ(parse("GET / HTTP/1.1\r\n\r\n", &why), 400);          /* no Host */
    ASSERT_CONTAINS(why, "Host");
    ASSERT_EQ(parse("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", &why), 400);
    ASSERT_EQ(parse("GET / HTTP/1.1\nHost: a\n\n", &why), 400);     /* bare LF */
    ASSERT_EQ(parse("GET / HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n", &why), 400);
    ASSERT_EQ(parse("GET / HTTP/2.0\r\nHost: a\r\n\r\n", &why), 505);
    ASSERT_EQ(parse("GET / HTTX/1.1\r\nHost: a\r\n\r\n", &why), 400);
    ASSERT_EQ(parse("GET  / HTTP/1.1\r\nHost: a\r\n\r\n", &why), 400);
    ASSERT_EQ(parse("G(T / HTTP/1.1\r\nHost: a\r\n\r\n", &why), 400);
    ASSERT_EQ(parse("GET * HTTP/1.1\r\nHost: a\r\n\r\n", &why), 400);
    ASSERT_EQ(parse("GET /a#b HTTP/1.1\r\nHost: a\r\n\r\n", &why), 400);
    ASSERT_EQ(parse("GET /a HTTP/1.1\r\nHost: a\r\nBad Name: x\r\n\r\n", &why), 400);
    ASSERT_EQ(parse("GET /a HTTP/1.1\r\nHost: a\r\nX: a\001b\r\n\r\n", &why), 400);
    ASSERT_EQ(parse("POST /a HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n", &why), 501);
    ASSERT_EQ(parse("POST /a HTTP/1.1\r\nHost: a\r\nContent-Length: 1x\r\n\r\n", &why), 400);
    ASSERT_EQ(parse("POST /a HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", &why), 400);
    ASSERT_EQ(parse("POST /a HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\n", &why), 0);
    ASSERT_EQ(R.content_length, 5);
    /* caps */
    sp_buf b;
    sp_buf_init(&b, 1 << 20);
    sp_buf_adds(&b, "GET /");
    for (int i = 0; i < HTTP_MAX_LINE; i++) sp_buf_addc(&b, 'a');
    ASSERT_EQ(parse(b.data, &why), 414);
    sp_buf_reset(&b);
    sp_buf_adds(&b, "GET / HTTP/1.1\r\nHost: a\r\n");
    for (int i = 0; i < 70; i++) sp_buf_printf(&b, "X-%d: y\r\n", i);
    sp_buf_adds(&b, "\r\n");
    ASSERT_EQ(parse(b.data, &why), 431);
    sp_buf_reset(&b);
    sp_buf_adds(&b, "GET / HTTP/1.1\r\nHost: a\r\nX: ");
    for (int i = 0; i < HTTP_MAX_HEADERS_BYTES; i++) sp_buf_addc(&b, 'v');
    ASSERT_EQ(parse(b.data, &why), 431);
    sp_buf_free(&b);
    /* paths */
    ASSERT_EQ(parse("GET /a/%2e%2e/b HTTP/1.1\r\nHost: a\r\n\r\n", &why), 400);
    ASSERT_EQ(parse("GET /a/../b HTTP/1.1\r\nHost: a\r\n\r\n", &why), 400);
    ASSERT_EQ(parse("GET /a/%00 HTTP/1.1\r\nHost: a\r\n\r\n", &why), 400);
    ASSERT_EQ(parse("GET /a/%zz HTTP/1.1\r\nHost: a\r\n\r\n", &why), 400);
    ASSERT_EQ(parse("GET /a/%4 HTTP/1.1\r\nHost: a\r\n\r\n", &why), 400);
    ASSERT_EQ(parse("GET /a/%ff HTTP/1.1\r\nHost: a\r\n\r\n", &why), 400);
    ASSERT_EQ(parse("GET /a/%c3%a9..x HTTP/1.1\r\nHost: a\r\n\r\n", &why), 0);
    ASSERT_STR_EQ(R.path, "/a/\xc3\xa9..x");
}

TEST(query_decode)
{
    const char *why;
    ASSERT_EQ(parse("GET /q?b=2&a=x+y&&a=%41&flag HTTP/1.1\r\nHost: a\r\n\r\n", &why), 0);
    ASSERT_EQ(http_query_parse(&R, &why), 0);
    ASSERT_EQ(R.nparams, 4);
    ASSERT_STR_EQ(R.params[1].value, "x y");
    ASSERT_STR_EQ(R.params[3].key, "flag");
    ASSERT_STR_EQ(R.params[3].value, "");
    sp_buf b;
    sp_buf_init(&b, 1 << 16);
    http_query_normalise(&R, &b);
    ASSERT_STR_EQ(b.data, "a=A&a=x%20y&b=2&flag=");
    sp_buf_free(&b);
    static const char *const bad[] = {"x=%zz", "x=%0", "x=%00", "=v", "x=%ff", "%3d=1"};
    char line[256];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(line, sizeof line, "GET /q?%s HTTP/1.1\r\nHost: a\r\n\r\n", bad[i]);
        ASSERT_EQ(parse(line, &why), 0);
        if (strcmp(bad[i], "%3d=1") == 0) {       /* a key of "=" is fine */
            ASSERT_EQ(http_query_parse(&R, &why), 0);
            continue;
        }
        if (http_query_parse(&R, &why) != -1) TFAIL("query '%s' accepted", bad[i]);
    }
    sp_buf q;
    sp_buf_init(&q, 1 << 16);
    sp_buf_adds(&q, "GET /q?");
    for (int i = 0; i < HTTP_MAX_PARAMS + 1; i++) sp_buf_printf(&q, "k%d=v&", i);
    sp_buf_adds(&q, " HTTP/1.1\r\nHost: a\r\n\r\n");
    ASSERT_EQ(parse(q.data, &why), 0);
    ASSERT_EQ(http_query_parse(&R, &why), -1);
    ASSERT_CONTAINS(why, "too many");
    sp_buf_free(&q);
}

TEST(etag_and_gzip)
{
    ASSERT(http_etag_match("\"a\", W/\"b\"", 11, "\"b\""));
    ASSERT(http_etag_match("*", 1, "\"b\""));
    ASSERT(!http_etag_match("\"a\"", 3, "\"b\""));
    ASSERT(!http_etag_match("\"ab", 3, "\"a\""));
    char src[5000];
    for (size_t i = 0; i < sizeof src; i++) src[i] = (char)('a' + i % 7);
    char *z;
    size_t zl;
    ASSERT_EQ(http_gzip(src, sizeof src, &z, &zl), SP_OK);
    char back[6000];
    uLongf bl = sizeof back;
    z_stream st;
    memset(&st, 0, sizeof st);
    ASSERT_EQ(inflateInit2(&st, 15 + 16), Z_OK);
    st.next_in = (Bytef *)z;
    st.avail_in = (uInt)zl;
    st.next_out = (Bytef *)back;
    st.avail_out = (uInt)bl;
    ASSERT_EQ(inflate(&st, Z_FINISH), Z_STREAM_END);
    ASSERT_EQ(st.total_out, sizeof src);
    ASSERT(memcmp(back, src, sizeof src) == 0);
    inflateEnd(&st);
    free(z);
}

/* ------------------------------------------------------------ a live server */

static char hubdir[512];

static const char *bin(void)
{
    static char b[600];
    snprintf(b, sizeof b, "%s/build/asan/spotlight", test_srcdir());
    return b;
}

/* The shared hub: 3000 demo records, built once. */
static const char *shared_hub(void)
{
    static char p[600];
    snprintf(p, sizeof p, "%s/build/test/http-hub-3000.db", test_srcdir());
    if (access(p, F_OK) != 0) {
        char cmd[4096], tmp[700];
        snprintf(tmp, sizeof tmp, "%s.tmp%d", p, (int)getpid());
        snprintf(cmd, sizeof cmd, "%s --db %s demo --records 3000 --seed 1 >/dev/null && mv %s %s",
                 bin(), tmp, tmp, p);
        if (system(cmd) != 0) TFAIL("cannot build the demo hub: %s", cmd);
    }
    return p;
}

/* A private copy of the shared hub (for tests that write). */
static const char *hub_copy(void)
{
    static char p[600];
    const char *src = shared_hub();
    snprintf(hubdir, sizeof hubdir, "/tmp/sp-http-%d", (int)getpid());
    mkdir(hubdir, 0700);
    snprintf(p, sizeof p, "%s/hub.db", hubdir);
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "cp %s %s", src, p);
    if (system(cmd) != 0) TFAIL("cp failed");
    return p;
}

typedef struct server {
    pid_t pid;
    int port;
} server;

/* Starts a server with two workers; log: its request log goes there
 * (NULL: --quiet). */
static server start_logged(const char *db, const char *log)
{
    int fds[2];
    server s = {0, 0};
    if (pipe(fds) != 0) TFAIL("pipe");
    s.pid = fork();
    if (s.pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGTERM);   /* a failed test leaves no server */
        dup2(fds[1], 1);
        close(fds[0]);
        if (log) {
            int lf = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
            if (lf < 0) _exit(126);
            dup2(lf, 2);
            execl(bin(), bin(), "--db", db, "serve", "--listen", "127.0.0.1:0", "--threads", "2",
                  (char *)NULL);
        } else {
            execl(bin(), bin(), "--db", db, "serve", "--listen", "127.0.0.1:0", "--threads", "2",
                  "--quiet", (char *)NULL);
        }
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
    s.port = atoi(c + 1);
    return s;
}

static server start(const char *db)
{
    return start_logged(db, NULL);
}

/* SIGTERM; the server must stop cleanly (exit 0: no leak, no crash). */
static void stop(server *s)
{
    int st;
    kill(s->pid, SIGTERM);
    waitpid(s->pid, &st, 0);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) TFAIL("server exit status %d", st);
    if (hubdir[0]) {
        char cmd[600];
        snprintf(cmd, sizeof cmd, "rm -rf %s", hubdir);
        if (system(cmd)) {}
    }
}

static int connect_to(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) TFAIL("connect: %s", strerror(errno));
    struct timeval tv = {20, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    return fd;
}

static void send_all(int fd, const char *s, size_t n)
{
    while (n) {
        ssize_t k = write(fd, s, n);
        if (k <= 0) TFAIL("write: %s", strerror(errno));
        s += k;
        n -= (size_t)k;
    }
}

typedef struct resp {
    int status;
    char head[32768];
    char *body;
    size_t blen;
} resp;

typedef struct client {
    int fd;
    char buf[1 << 16];
    size_t len;
} client;

/* The value of header `name` in r (into a static buffer), or NULL. */
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

static int fill(client *c)
{
    if (c->len == sizeof c->buf) TFAIL("client buffer full");
    ssize_t k = read(c->fd, c->buf + c->len, sizeof c->buf - c->len);
    if (k > 0) c->len += (size_t)k;
    return (int)k;
}

/* Reads one response (no body for HEAD or 304). Returns 0, or -1 on EOF. */
static int read_resp(client *c, resp *r, int head)
{
    char *e;
    memset(r, 0, offsetof(resp, head) + 1);
    r->body = NULL;
    while (!(e = memmem(c->buf, c->len, "\r\n\r\n", 4)))
        if (fill(c) <= 0) return -1;
    size_t hl = (size_t)(e - c->buf) + 4;
    if (hl >= sizeof r->head) TFAIL("head too long");
    memcpy(r->head, c->buf, hl);
    r->head[hl] = '\0';
    r->status = atoi(r->head + 9);
    memmove(c->buf, c->buf + hl, c->len - hl);
    c->len -= hl;
    const char *cl = hdr(r, "Content-Length");
    size_t n = (head || r->status == 304 || !cl) ? 0 : (size_t)atol(cl);
    r->body = malloc(n + 1);
    size_t got = 0;
    while (got < n) {
        if (c->len == 0 && fill(c) <= 0) TFAIL("short body");
        size_t k = c->len < n - got ? c->len : n - got;
        memcpy(r->body + got, c->buf, k);
        memmove(c->buf, c->buf + k, c->len - k);
        c->len -= k;
        got += k;
    }
    r->body[n] = '\0';
    r->blen = n;
    return 0;
}

static void resp_free(resp *r)
{
    free(r->body);
    r->body = NULL;
}

/* One request on a new connection. */
static void req(int port, const char *method, const char *target, const char *extra, resp *r)
{
    client *c = calloc(1, sizeof *c);
    c->fd = connect_to(port);
    size_t cap = strlen(target) + (extra ? strlen(extra) : 0) + 64;
    char *line = malloc(cap);
    snprintf(line, cap, "%s %s HTTP/1.1\r\nHost: t\r\n%s\r\n", method, target, extra ? extra : "");
    send_all(c->fd, line, strlen(line));
    free(line);
    if (read_resp(c, r, strcmp(method, "HEAD") == 0)) TFAIL("no response to %s", target);
    close(c->fd);
    free(c);
}

static json_t *body_json(const resp *r)
{
    json_error_t je;
    json_t *j = json_loadb(r->body, r->blen, 0, &je);
    if (!j) TFAIL("not JSON: %s: %.200s", je.text, r->body);
    return j;
}

static void security_headers(const resp *r)
{
    ASSERT_CONTAINS(hdr(r, "Content-Security-Policy"), "default-src 'none'");
    ASSERT_CONTAINS(hdr(r, "Content-Security-Policy"), "frame-ancestors 'none'");
    ASSERT_STR_EQ(hdr(r, "X-Content-Type-Options"), "nosniff");
    ASSERT_STR_EQ(hdr(r, "Referrer-Policy"), "no-referrer");
    ASSERT_STR_EQ(hdr(r, "X-Frame-Options"), "DENY");
    ASSERT_NOT_NULL(hdr(r, "Cache-Control"));
    ASSERT_NOT_NULL(hdr(r, "Date"));
}

/* `spotlight stats --json ARGS` as JSON. */
static json_t *cli_stats(const char *db, const char *args)
{
    char cmd[4096];
    /* --public: the API publishes the suppressed tables, so compare with those */
    snprintf(cmd, sizeof cmd, "%s --db %s stats --json --public %s", bin(), db, args);
    FILE *p = popen(cmd, "r");
    if (!p) TFAIL("popen");
    json_error_t je;
    json_t *j = json_loadf(p, 0, &je);
    pclose(p);
    if (!j) TFAIL("CLI gave no JSON for: %s", cmd);
    return j;
}

TEST(server_meta_and_security)
{
    server s = start(shared_hub());
    resp r;
    req(s.port, "GET", "/api/v1/meta", NULL, &r);
    ASSERT_EQ(r.status, 200);
    security_headers(&r);
    ASSERT_CONTAINS(hdr(&r, "Content-Type"), "application/json");
    json_t *j = body_json(&r);
    ASSERT_EQ(json_integer_value(json_object_get(j, "records")), 3000);
    ASSERT_GE(json_integer_value(json_object_get(j, "organisations")), 1);
    ASSERT_EQ(json_array_size(json_object_get(j, "years")), 2);
    ASSERT_GE(json_integer_value(json_array_get(json_object_get(j, "years"), 0)), 2000);
    ASSERT(json_is_true(json_object_get(j, "synthetic")));
    ASSERT_EQ(json_integer_value(json_object_get(json_object_get(j, "suppression"), "k")), 10); /* the hub's real k (default) */
    ASSERT_GE(json_array_size(json_object_get(j, "tables")), 9);
    ASSERT(json_is_string(json_object_get(j, "codebook_version")));
    ASSERT(json_is_integer(json_object_get(j, "generation")));
    json_decref(j);
    resp_free(&r);
    /* every kind of answer carries the security headers */
    static const char *const targets[] = {"/nothing", "/api/v1/stats/nope", "/api/v1/stats/gender?x=1",
                                          "/api/v1/meta?x=1", "/static/none.css"};
    for (size_t i = 0; i < sizeof targets / sizeof targets[0]; i++) {
        req(s.port, "GET", targets[i], NULL, &r);
        ASSERT(r.status == 404 || r.status == 400);
        security_headers(&r);
        resp_free(&r);
    }
    stop(&s);
}

/* Every table, with and without filters, equals the CLI's numbers. */
TEST(server_stats_equal_cli)
{
    const char *db = shared_hub();
    server s = start(db);
    static const char *const q[][2] = {
        {"", ""},
        {"?year_from=2020", "--year-from 2020"},
        {"?year_to=2021&year_from=2019", "--year-to 2021 --year-from 2019"},
        {"?org_region=Asia", "--org-region Asia"},
        {"?where=gender:female", "--where gender=female"},
        {"?where=gender%3Dmale&where=nationality:VN", "--where gender=male --where nationality=VN"},
        {"?year-from=2022&where=industry:online_scam", "--year-from 2022 --where industry=online_scam"},
    };
    size_t nt;
    const char *const tables[] = {"industries-by-year", "origins", "destinations", "flows",
                                  "nationality", "gender", "age", "recruitment", "control"};
    nt = sizeof tables / sizeof tables[0];
    for (size_t t = 0; t < nt; t++) {
        for (size_t i = 0; i < sizeof q / sizeof q[0]; i++) {
            char target[512], args[512];
            snprintf(target, sizeof target, "/api/v1/stats/%s%s", tables[t], q[i][0]);
            snprintf(args, sizeof args, "%s %s", q[i][1], tables[t]);
            resp r;
            req(s.port, "GET", target, NULL, &r);
            if (r.status != 200) TFAIL("%s: %d %s", target, r.status, r.body);
            json_t *a = body_json(&r), *b = cli_stats(db, args);
            if (!json_equal(a, b)) TFAIL("%s differs from the CLI", target);
            json_decref(a);
            json_decref(b);
            resp_free(&r);
        }
    }
    /* bands=ctdc on age */
    resp r;
    req(s.port, "GET", "/api/v1/stats/age?bands=ctdc", NULL, &r);
    ASSERT_EQ(r.status, 200);
    json_t *a = body_json(&r), *b = cli_stats(db, "--bands ctdc age");
    ASSERT(json_equal(a, b));
    ASSERT_STR_EQ(json_string_value(json_object_get(a, "bands")), "ctdc");
    json_decref(a);
    json_decref(b);
    resp_free(&r);
    stop(&s);
}

TEST(server_csv)
{
    const char *db = shared_hub();
    server s = start(db);
    resp r;
    req(s.port, "GET", "/api/v1/stats/origins.csv?year_from=2020", NULL, &r);
    ASSERT_EQ(r.status, 200);
    ASSERT_CONTAINS(hdr(&r, "Content-Type"), "text/csv");
    ASSERT_CONTAINS(hdr(&r, "Content-Disposition"), "origins.csv");
    ASSERT(strncmp(r.body, "code,name,count,provinces.code,provinces.name,provinces.count", 61) == 0);
    /* the rows are the published table's flat rows: one per province, the
     * published province counts equal the JSON's, hidden ones read "<k" */
    json_t *j = cli_stats(db, "--year-from 2020 origins");
    long long total = 0, lines = 0, hidden = 0;
    for (char *l = strstr(r.body, "\r\n"); l && l[2]; l = strstr(l + 2, "\r\n")) {
        lines++;
        char *last = l + 2;
        char *end = strstr(last, "\r\n");
        char *comma = last;
        for (char *p = last; p < end; p++)
            if (*p == ',') comma = p;
        if (strncmp(comma + 1, "<10\r", 4) == 0) hidden++;
        else total += atoll(comma + 1);
    }
    long long want_total = 0, want_hidden = 0, want_lines = 0;
    json_t *row, *prov;
    size_t i, k;
    json_array_foreach(json_object_get(j, "rows"), i, row) {
        json_array_foreach(json_object_get(row, "provinces"), k, prov) {
            want_lines++;
            json_t *c = json_object_get(prov, "count");
            if (json_is_integer(c)) want_total += json_integer_value(c);
            else want_hidden++;
        }
    }
    ASSERT_EQ(lines, want_lines);
    ASSERT_EQ(total, want_total);
    ASSERT_EQ(hidden, want_hidden);
    ASSERT_GE(lines, 2);
    json_decref(j);
    resp_free(&r);
    stop(&s);
}

TEST(server_bad_requests)
{
    server s = start(shared_hub());
    resp r;
    static const struct { const char *target; int status; const char *param; } cases[] = {
        {"/api/v1/stats/gender?where=gender%zz", 400, NULL},
        {"/api/v1/stats/gender?colour=red", 400, "colour"},
        {"/api/v1/stats/gender?year_from=20x0", 400, "year_from"},
        {"/api/v1/stats/gender?year_from=2020&year_from=2021", 400, "year_from"},
        {"/api/v1/stats/gender?year_from=2023&year_to=2020", 400, "year_to"},
        {"/api/v1/stats/gender?org_region=Atlantis", 400, "org_region"},
        {"/api/v1/stats/gender?where=gender:robot", 400, "where"},
        {"/api/v1/stats/gender?where=nofield:x", 400, "where"},
        {"/api/v1/stats/gender?where=promised_job:x", 400, "where"},
        {"/api/v1/stats/gender?where=gender", 400, "where"},
        {"/api/v1/stats/age?bands=weird", 400, "bands"},
        {"/api/v1/stats/nope", 404, NULL},
        {"/api/v1/stats/gender.xml", 404, NULL},
        {"/nothing/here", 404, NULL},
        {"/api/v1/stats/", 404, NULL},
        {"/a/%2e%2e/etc/passwd", 400, NULL},
        {"/a/%00", 400, NULL},
        {"/a/%c3%28", 400, NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        req(s.port, "GET", cases[i].target, NULL, &r);
        if (r.status != cases[i].status)
            TFAIL("%s: %d, expected %d: %s", cases[i].target, r.status, cases[i].status, r.body);
        if (cases[i].param) {
            json_t *j = body_json(&r);
            ASSERT(json_is_string(json_object_get(j, "error")));
            ASSERT_STR_EQ(json_string_value(json_object_get(j, "parameter")), cases[i].param);
            json_decref(j);
        }
        resp_free(&r);
    }
    /* a huge query: 414 */
    char *big = malloc(20000);
    strcpy(big, "/api/v1/stats/gender?where=");
    memset(big + strlen(big), 'a', 10000);
    big[10027] = '\0';
    req(s.port, "GET", big, NULL, &r);
    ASSERT_EQ(r.status, 414);
    resp_free(&r);
    free(big);
    /* wrong method: 405 with Allow; unknown method 501 */
    req(s.port, "POST", "/api/v1/meta", NULL, &r);
    ASSERT_EQ(r.status, 405);
    ASSERT_STR_EQ(hdr(&r, "Allow"), "GET, HEAD");
    resp_free(&r);
    req(s.port, "DELETE", "/api/v1/stats/gender", NULL, &r);
    ASSERT_EQ(r.status, 405);
    resp_free(&r);
    req(s.port, "BREW", "/api/v1/meta", NULL, &r);
    ASSERT_EQ(r.status, 501);
    resp_free(&r);
    /* a body where none is taken: 413 */
    req(s.port, "GET", "/api/v1/meta", "Content-Length: 10\r\n", &r);
    ASSERT_EQ(r.status, 413);
    resp_free(&r);
    /* oversized headers: 431 */
    char *hb = malloc(40000);
    hb[0] = '\0';
    for (int i = 0; i < 40; i++) sprintf(hb + strlen(hb), "X-Pad-%d: %0500d\r\n", i, 0);
    req(s.port, "GET", "/api/v1/meta", hb, &r);
    ASSERT_EQ(r.status, 431);
    ASSERT_STR_EQ(hdr(&r, "Connection"), "close");
    resp_free(&r);
    free(hb);
    /* garbage */
    client *c = calloc(1, sizeof *c);
    c->fd = connect_to(s.port);
    send_all(c->fd, "\x01\x02garbage\r\n\r\n", 13);
    ASSERT_EQ(read_resp(c, &r, 0), 0);
    ASSERT_EQ(r.status, 400);
    resp_free(&r);
    close(c->fd);
    free(c);
    /* the server is still fine */
    req(s.port, "GET", "/api/v1/meta", NULL, &r);
    ASSERT_EQ(r.status, 200);
    resp_free(&r);
    stop(&s);
}

TEST(server_keepalive_pipeline_split)
{
    server s = start(shared_hub());
    client *c = calloc(1, sizeof *c);
    resp r;
    c->fd = connect_to(s.port);
    /* several requests one after another on one connection, HEAD among them */
    const char *paths[] = {"/api/v1/meta", "/api/v1/stats/gender", "/api/v1/stats/age?bands=ctdc",
                           "/api/v1/stats/gender"};
    size_t glen = 0;
    for (int i = 0; i < 4; i++) {
        char line[512];
        const char *m = i == 3 ? "HEAD" : "GET";
        snprintf(line, sizeof line, "%s %s HTTP/1.1\r\nHost: t\r\n\r\n", m, paths[i]);
        send_all(c->fd, line, strlen(line));
        ASSERT_EQ(read_resp(c, &r, i == 3), 0);
        ASSERT_EQ(r.status, 200);
        if (i == 1) glen = r.blen;
        if (i == 3) {
            ASSERT_EQ(r.blen, 0);
            ASSERT_EQ(atol(hdr(&r, "Content-Length")), glen);
        }
        resp_free(&r);
    }
    /* pipelined: 10 requests in one write, answers in order */
    sp_buf b;
    sp_buf_init(&b, 1 << 20);
    for (int i = 0; i < 10; i++)
        sp_buf_printf(&b, "GET /api/v1/stats/gender?year_from=%d HTTP/1.1\r\nHost: t\r\n\r\n", 2016 + i % 8);
    send_all(c->fd, b.data, b.len);
    for (int i = 0; i < 10; i++) {
        ASSERT_EQ(read_resp(c, &r, 0), 0);
        ASSERT_EQ(r.status, 200);
        json_t *j = body_json(&r);
        ASSERT_EQ(json_integer_value(json_object_get(json_object_get(j, "filter"), "year_from")),
                  2016 + i % 8);
        json_decref(j);
        resp_free(&r);
    }
    /* one request in 1-byte writes */
    const char *one = "GET /api/v1/stats/nationality?where=gender:male HTTP/1.1\r\nHost: t\r\n\r\n";
    for (size_t i = 0; one[i]; i++) {
        send_all(c->fd, one + i, 1);
        if (i % 16 == 0) usleep(1000);
    }
    ASSERT_EQ(read_resp(c, &r, 0), 0);
    ASSERT_EQ(r.status, 200);
    resp_free(&r);
    /* Connection: close ends it after the answer */
    const char *last = "GET /api/v1/meta HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n";
    send_all(c->fd, last, strlen(last));
    ASSERT_EQ(read_resp(c, &r, 0), 0);
    ASSERT_STR_EQ(hdr(&r, "Connection"), "close");
    resp_free(&r);
    ASSERT_EQ(fill(c), 0);                         /* EOF */
    close(c->fd);
    free(c);
    sp_buf_free(&b);
    stop(&s);
}

static char *gunzip(const char *z, size_t zl, size_t *out)
{
    size_t cap = 1 << 24;
    char *b = malloc(cap);
    z_stream st;
    memset(&st, 0, sizeof st);
    if (inflateInit2(&st, 15 + 16) != Z_OK) TFAIL("inflateInit2");
    st.next_in = (Bytef *)(uintptr_t)z;
    st.avail_in = (uInt)zl;
    st.next_out = (Bytef *)b;
    st.avail_out = (uInt)cap;
    if (inflate(&st, Z_FINISH) != Z_STREAM_END) TFAIL("not a whole gzip member");
    *out = st.total_out;
    inflateEnd(&st);
    return b;
}

TEST(server_gzip_etag)
{
    server s = start(shared_hub());
    resp plain, gz, r;
    req(s.port, "GET", "/api/v1/stats/origins", NULL, &plain);
    ASSERT_EQ(plain.status, 200);
    ASSERT_NULL(hdr(&plain, "Content-Encoding"));
    ASSERT_STR_EQ(hdr(&plain, "Vary"), "Accept-Encoding");
    char etag[128];
    snprintf(etag, sizeof etag, "%s", hdr(&plain, "ETag"));
    req(s.port, "GET", "/api/v1/stats/origins", "Accept-Encoding: gzip, deflate\r\n", &gz);
    ASSERT_EQ(gz.status, 200);
    ASSERT_STR_EQ(hdr(&gz, "Content-Encoding"), "gzip");
    ASSERT(strcmp(hdr(&gz, "ETag"), etag) != 0);
    ASSERT(gz.blen < plain.blen);
    size_t ul;
    char *u = gunzip(gz.body, gz.blen, &ul);
    ASSERT_EQ(ul, plain.blen);
    ASSERT(memcmp(u, plain.body, ul) == 0);
    free(u);
    /* refused gzip: identity */
    req(s.port, "GET", "/api/v1/stats/origins", "Accept-Encoding: gzip;q=0\r\n", &r);
    ASSERT_NULL(hdr(&r, "Content-Encoding"));
    ASSERT_EQ(r.blen, plain.blen);
    resp_free(&r);
    /* small bodies are not compressed */
    req(s.port, "GET", "/api/v1/meta", "Accept-Encoding: gzip\r\n", &r);
    ASSERT_NULL(hdr(&r, "Content-Encoding"));
    resp_free(&r);
    /* 304 for a matching ETag; 200 for another; the query order does not matter */
    char inm[256];
    snprintf(inm, sizeof inm, "If-None-Match: \"x\", %s\r\n", etag);
    req(s.port, "GET", "/api/v1/stats/origins", inm, &r);
    ASSERT_EQ(r.status, 304);
    ASSERT_EQ(r.blen, 0);
    ASSERT_STR_EQ(hdr(&r, "ETag"), etag);
    security_headers(&r);
    resp_free(&r);
    req(s.port, "GET", "/api/v1/stats/origins", "If-None-Match: \"other\"\r\n", &r);
    ASSERT_EQ(r.status, 200);
    resp_free(&r);
    resp a, b;
    req(s.port, "GET", "/api/v1/stats/gender?year_from=2020&where=gender:male", NULL, &a);
    req(s.port, "GET", "/api/v1/stats/gender?where=gender%3amale&year_from=2020", NULL, &b);
    char ea[128];
    snprintf(ea, sizeof ea, "%s", hdr(&a, "ETag"));
    ASSERT_STR_EQ(ea, hdr(&b, "ETag"));
    resp_free(&a);
    resp_free(&b);
    resp_free(&plain);
    resp_free(&gz);
    stop(&s);
}

static long long meta_records(int port, char *etag, size_t ecap)
{
    resp r;
    req(port, "GET", "/api/v1/stats/gender", NULL, &r);
    if (r.status != 200) TFAIL("status %d", r.status);
    if (etag) snprintf(etag, ecap, "%s", hdr(&r, "ETag"));
    json_t *j = body_json(&r);
    long long n = json_integer_value(json_object_get(j, "records"));
    json_decref(j);
    resp_free(&r);
    return n;
}

/* Adds 25 demo records to the 3000 of db with the CLI while the server
 * runs; returns the count the server shows once it shows 3025 (or after
 * 2.5 s), its ETag in etag. */
static long long add_and_wait(const char *db, int port, char *etag, size_t ecap)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "%s --db %s demo --records 25 --seed 9 >/dev/null", bin(), db);
    if (system(cmd) != 0) TFAIL("%s", cmd);
    long long n = 0;
    for (int i = 0; i < 50 && n != 3025; i++) {
        usleep(50000);
        n = meta_records(port, etag, ecap);
    }
    return n;
}

/* A CLI write while the server runs: the same URL shows the new count. */
TEST(server_invalidation)
{
    const char *db = hub_copy();
    server s = start(db);
    char e1[128], e2[128];
    ASSERT_EQ(meta_records(s.port, e1, sizeof e1), 3000);
    ASSERT_EQ(meta_records(s.port, NULL, 0), 3000);        /* cached now */
    ASSERT_EQ(add_and_wait(db, s.port, e2, sizeof e2), 3025);
    ASSERT(strcmp(e1, e2) != 0);
    /* Once one answer showed the new count, no worker shows the old one
     * and none honours the old ETag (each request is a new connection,
     * so the kernel spreads them over the workers). */
    char inm[256];
    snprintf(inm, sizeof inm, "If-None-Match: %s\r\n", e1);
    for (int i = 0; i < 16; i++) {
        resp r;
        req(s.port, "GET", "/api/v1/stats/gender", inm, &r);
        ASSERT_EQ(r.status, 200);
        resp_free(&r);
        ASSERT_EQ(meta_records(s.port, NULL, 0), 3025);
    }
    stop(&s);
}

/* How many lines of the request log at path start with `prefix` and end
 * with `suffix`. */
static int log_count(const char *path, const char *prefix, const char *suffix)
{
    FILE *f = fopen(path, "r");
    if (!f) TFAIL("no log at %s", path);
    char line[4096];
    int n = 0;
    size_t pl = strlen(prefix), sl = strlen(suffix);
    while (fgets(line, sizeof line, f)) {
        size_t l = strcspn(line, "\n");
        line[l] = '\0';
        if (l >= pl + sl && strncmp(line, prefix, pl) == 0 && strcmp(line + l - sl, suffix) == 0) n++;
    }
    fclose(f);
    return n;
}

/* The dashboard is rendered once per data change, not once per worker:
 * the first worker to render it leaves a copy the other takes (the log
 * says which answers were rendered and which copied), and every answer
 * is the same page. */
TEST(server_renders_once_for_all_workers)
{
    const char *db = hub_copy();
    char log[128];
    snprintf(log, sizeof log, "/tmp/sp-http-log-%d", (int)getpid());
    server s = start_logged(db, log);
    char *first = NULL;
    size_t flen = 0;
    for (int round = 0; round < 2; round++) {
        if (round == 1) {
            ASSERT_EQ(add_and_wait(db, s.port, NULL, 0), 3025);
            free(first);
            first = NULL;
        }
        /* new connections: the kernel spreads them over both workers */
        for (int i = 0; i < 16; i++) {
            resp r;
            req(s.port, "GET", "/", NULL, &r);
            ASSERT_EQ(r.status, 200);
            if (!first) {
                first = malloc(r.blen);
                memcpy(first, r.body, r.blen);
                flen = r.blen;
            } else {
                ASSERT_EQ(r.blen, flen);
                ASSERT(memcmp(r.body, first, flen) == 0);
            }
            resp_free(&r);
        }
    }
    free(first);
    stop(&s);
    /* one render per generation; the other worker copied it */
    ASSERT_EQ(log_count(log, "GET / 200 ", " rendered"), 2);
    ASSERT_GE(log_count(log, "GET / 200 ", " shared"), 2);
    ASSERT_EQ(log_count(log, "GET / 200 ", "us") + log_count(log, "GET / 200 ", " rendered") +
                  log_count(log, "GET / 200 ", " shared"), 32);
    unlink(log);
}

TEST_LIST(parse_basic, parse_errors, query_decode, etag_and_gzip, server_meta_and_security,
          server_stats_equal_cli, server_csv, server_bad_requests, server_keepalive_pipeline_split,
          server_gzip_etag, server_invalidation, server_renders_once_for_all_workers)
