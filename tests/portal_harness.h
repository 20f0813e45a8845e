/* portal_harness.h -- a hub with organisations Alpha, Beta and Central,
 * five accounts and three API tokens, served by build/asan/spotlight on a
 * loopback port, and the HTTP helpers to talk to it: shared by the tests of
 * the portal (test_portal.c) and of the case form (test_portal_cases.c).
 * Included once, by a test file that defines PW and includes test.h. */
#ifndef SP_PORTAL_HARNESS_H
#define SP_PORTAL_HARNESS_H

#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <netinet/in.h>
#include <signal.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

/* not every test file uses every helper */
#define HARNESS static __attribute__((unused))

static char dir[256], db[300];
static int port;
static pid_t spid;

HARNESS const char *bin(void)
{
    static char b[600];
    snprintf(b, sizeof b, "%s/build/asan/spotlight", test_srcdir());
    return b;
}

HARNESS void sh(const char *fmt, const char *a)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd, fmt, bin(), db, a);
    if (system(cmd) != 0) TFAIL("failed: %s", cmd);
}

static char tok_a[64], tok_b[64], tok_an[64];

HARNESS void token_for(const char *email, char out[64])
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "%s --db %s token create --user %s 2>&1 | grep -o 'sp_[A-Za-z0-9_-]*' | head -1",
             bin(), db, email);
    FILE *p = popen(cmd, "r");
    if (!p || !fgets(out, 64, p)) TFAIL("no token for %s", email);
    pclose(p);
    out[strcspn(out, "\n")] = '\0';
}

HARNESS void harness_setup(const char *tag, const char *alpha, int tls)
{
    if (port) return;
    snprintf(dir, sizeof dir, "/tmp/sp-%s-%d", tag, (int)getpid());
    mkdir(dir, 0700);
    snprintf(db, sizeof db, "%s/hub.db", dir);
    char pwf[400];
    snprintf(pwf, sizeof pwf, "%s/pw", dir);
    FILE *fp = fopen(pwf, "w");
    fprintf(fp, PW "\n");
    fclose(fp);
    sh("%s --db %s init >/dev/null%s", "");
    sh("%s --db %s org add %s >/dev/null", alpha);
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
        if (tls)
            execl(bin(), bin(), "--db", db, "serve", "--listen", "127.0.0.1:0", "--threads", "2",
                  "--quiet", "--behind-tls", (char *)NULL);
        else
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

#include "http_client.h"

/* The value after `key` up to the next quote or ';', into out. */
HARNESS int grab(const char *s, const char *key, char *out, size_t cap)
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
HARNESS int login(const char *email, const char *pw, char sess[64], resp *out)
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
HARNESS void session_of(const char *email, char cookie[160], char csrf[64])
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

HARNESS void csv_rows(sp_buf *b, const char *prefix, int n, int bad)
{
    sp_buf_init(b, 1 << 20);
    sp_buf_adds(b, "case_ref,year_identified,gender,age,nationality\n");
    for (int i = 1; i <= n; i++)
        sp_buf_printf(b, "%s-%d,2023,%s,25,VN\n", prefix, i, bad && i == 2 ? "Mael" : "male");
}

HARNESS long long meta_records(void)
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

HARNESS long long api_submit(const char *token, const char *ctype, const char *body, resp *r,
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
HARNESS void teardown(void)
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
HARNESS long long api_store(const char *token, const char *prefix)
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

HARNESS void upload(const char *cookie, const char *csrf, const char *fname, const char *data,
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

#endif
