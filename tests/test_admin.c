/* test_admin.c -- the admin area (src/admin.c) on a real server
 * (build/asan/spotlight serve) over loopback: the audit filter parser as
 * a pure function; the audit page with its entries, filters, paging and
 * chain status (intact, and broken after a change made behind the
 * server's back); contributors and analysts refused on every admin
 * address and method, anonymous sent to sign in; CSRF; adding an
 * organisation and an account, disabling and enabling it, revoking a
 * token, each audited with the chain intact; 422 with messages and typed
 * values for bad input; escaping of a hostile organisation name. */
#define _GNU_SOURCE 1   /* memmem */
#include "admin.h"
#include "test.h"

#include <stddef.h>
#include <strings.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#define PW "correct horse battery"
#define ASSERT_LACKS(hay, needle) do { const char *h_ = (hay), *n_ = (needle); \
    if (h_ && strstr(h_, n_)) TFAIL("%s contains \"%s\"", #hay, n_); } while (0)

/* ------------------------------------------------------------ the filter */

TEST(filter_parse)
{
    admin_audit_filter f;
    const char *why = NULL;
    ASSERT_EQ(admin_audit_filter_parse(NULL, 0, &f, &why), 0);
    ASSERT_EQ(f.before, 0);
    ASSERT_STR_EQ(f.actor, "");
    const char *q = "actor=user%3A3&action=admin.user.add&from=2024-02-29&to=2026-12-31&before=77";
    ASSERT_EQ(admin_audit_filter_parse(q, strlen(q), &f, &why), 0);
    ASSERT_STR_EQ(f.actor, "user:3");
    ASSERT_STR_EQ(f.action, "admin.user.add");
    ASSERT_STR_EQ(f.from, "2024-02-29");
    ASSERT_STR_EQ(f.to, "2026-12-31");
    ASSERT_EQ(f.before, 77);
    /* the empty fields a GET form sends mean "any" */
    q = "actor=&action=&from=&to=";
    ASSERT_EQ(admin_audit_filter_parse(q, strlen(q), &f, &why), 0);
    ASSERT_STR_EQ(f.from, "");
    static const struct {
        const char *q, *why;
    } bad[] = {
        {"page=2", "unknown parameter"},
        {"action=login&action=upload", "twice"},
        {"action=Login", "action is"},
        {"action=a%20b", "action is"},
        {"from=2023-02-29", "from is a date"},
        {"to=2026-13-01", "to is a date"},
        {"from=26-01-01", "from is a date"},
        {"from=2026-05-02&to=2026-05-01", "from is after to"},
        {"before=0", "before is"},
        {"before=-3", "before is"},
        {"before=12x", "before is"},
        {"before=9999999999999999", "before is"},
        {"actor=a%0Ab", "control"},
        {"actor=%ff", "UTF-8"},
        {"from=%zz", "escape"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        why = NULL;
        if (admin_audit_filter_parse(bad[i].q, strlen(bad[i].q), &f, &why) != -1)
            TFAIL("'%s' accepted", bad[i].q);
        if (!why || !strstr(why, bad[i].why)) TFAIL("'%s': why '%s'", bad[i].q, why ? why : "");
        ASSERT_STR_EQ(f.action, "");
    }
    char longa[400] = "actor=";
    memset(longa + 6, 'a', 257);
    ASSERT_EQ(admin_audit_filter_parse(longa, strlen(longa), &f, &why), -1);
    ASSERT_CONTAINS(why, "256");
}

/* ------------------------------------------------------------ a live server */

static char dir[256], db[300];
static int port;
static pid_t spid;
static long long tok_id;
static char tok_a[64];

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

/* Runs the CLI with args; its exit status, and its output in out. */
static int cli(const char *args, char *out, size_t cap)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "%s --db %s %s 2>&1", bin(), db, args);
    FILE *p = popen(cmd, "r");
    if (!p) TFAIL("popen");
    size_t n = 0;
    if (out && cap) {
        n = fread(out, 1, cap - 1, p);
        out[n] = '\0';
    } else {
        char buf[4096];
        while (fread(buf, 1, sizeof buf, p) > 0) {}
    }
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void setup(void)
{
    if (port) return;
    snprintf(dir, sizeof dir, "/tmp/sp-admin-%d", (int)getpid());
    mkdir(dir, 0700);
    snprintf(db, sizeof db, "%s/hub.db", dir);
    char pwf[400];
    snprintf(pwf, sizeof pwf, "%s/pw", dir);
    FILE *fp = fopen(pwf, "w");
    fprintf(fp, PW "\n");
    fclose(fp);
    sh("%s --db %s init >/dev/null%s", "");
    sh("%s --db %s org add %s >/dev/null", "Alpha");
    sh("%s --db %s org add %s >/dev/null", "Central");
    char args[1024];
    static const char *const users[][3] = {{"a@alpha.org", "Alpha", "contributor"},
                                           {"an@alpha.org", "Alpha", "analyst"},
                                           {"ad@central.org", "Central", "admin"}};
    for (size_t i = 0; i < 3; i++) {
        snprintf(args, sizeof args, "%s --org %s --role %s --password-file %s >/dev/null",
                 users[i][0], users[i][1], users[i][2], pwf);
        sh("%s --db %s user add %s", args);
    }
    char out[1024];
    if (cli("token create --user a@alpha.org --name sync", out, sizeof out) != 0) TFAIL("token: %s", out);
    const char *t = strstr(out, "sp_"), *k = strstr(out, "token ");
    if (!t || !k) TFAIL("token output: %s", out);
    snprintf(tok_a, sizeof tok_a, "%.*s", (int)strcspn(t, "\n"), t);
    tok_id = atoll(k + 6);
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
        ssize_t r = read(fds[0], line + n, 1);
        if (r <= 0 || line[n] == '\n') break;
        n++;
    }
    line[n] = '\0';
    close(fds[0]);
    const char *c = strrchr(line, ':');
    if (strncmp(line, "serving http://127.0.0.1:", 25) != 0 || !c) TFAIL("server said '%s'", line);
    port = atoi(c + 1);
}

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

#include "http_client.h"

/* The value after `key` up to the next quote or ';', into out. */
static int grab(const char *s, const char *key, char *out, size_t cap)
{
    const char *p = s ? strstr(s, key) : NULL;
    if (!p) return -1;
    p += strlen(key);
    size_t n = strcspn(p, "\";<");
    if (n >= cap) return -1;
    memcpy(out, p, n);
    out[n] = '\0';
    return 0;
}

/* Signs in; the status of POST /login, and the session cookie value. */
static int login(const char *email, const char *pw, char sess[64])
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
    resp_free(&r);
    return st;
}

/* Cookie header for a session, and its CSRF token from /portal. */
static void session_of(const char *email, const char *pw, char cookie[160], char csrf[64])
{
    char s[64];
    if (login(email, pw, s) != 303 || !s[0]) TFAIL("cannot sign in %s", email);
    snprintf(cookie, 160, "Cookie: sp_session=%s\r\n", s);
    resp r;
    http("GET", "/portal", cookie, NULL, 0, &r);
    if (r.status != 200) TFAIL("GET /portal: %d", r.status);
    if (grab(r.body, "name=\"csrf\" value=\"", csrf, 64)) TFAIL("no csrf in /portal");
    resp_free(&r);
}

/* POST an urlencoded form (csrf first when given) as the session. */
static int post(const char *cookie, const char *csrf, const char *path, const char *fields, resp *r)
{
    char body[4096], h[512];
    snprintf(body, sizeof body, "%s%s%s%s", csrf ? "csrf=" : "", csrf ? csrf : "",
             csrf && fields && *fields ? "&" : "", fields ? fields : "");
    snprintf(h, sizeof h, "%sContent-Type: application/x-www-form-urlencoded\r\n", cookie ? cookie : "");
    http("POST", path, h, body, strlen(body), r);
    return r->status;
}

static int get(const char *cookie, const char *path, resp *r)
{
    http("GET", path, cookie, NULL, 0, r);
    return r->status;
}

/* Rows of the audit page's table (entries shown). */
static int audit_rows(const char *body)
{
    const char *t = strstr(body, "<tbody>");
    const char *e = t ? strstr(t, "</tbody>") : NULL;
    int n = 0;
    for (const char *p = t; p && p < e && (p = strstr(p + 1, "<tr")) && p < e;) n++;
    return n;
}

/* The id of the account with this email, from the users page. */
static long long user_id_of(const char *cookie, const char *email)
{
    resp r;
    if (get(cookie, "/admin/users", &r) != 200) TFAIL("GET /admin/users: %d", r.status);
    char key[300];
    snprintf(key, sizeof key, "<td>%s</td>", email);
    const char *p = strstr(r.body, key);
    if (!p) TFAIL("no %s on the users page", email);
    const char *q = p;
    while (q > r.body && strncmp(q, "<tr id=\"user-", 13) != 0) q--;
    long long id = atoll(q + 13);
    resp_free(&r);
    return id;
}

/* The audit chain as `spotlight audit verify` sees it: 1 intact. */
static int chain_intact(void)
{
    char out[4096];
    int st = cli("audit verify", out, sizeof out);
    return st == 0 && strstr(out, "chain intact") != NULL;
}

static int audit_has(const char *action)
{
    char cmd[256], out[1 << 16];
    snprintf(cmd, sizeof cmd, "audit list --action %s", action);
    if (cli(cmd, out, sizeof out) != 0) TFAIL("audit list");
    const char *body = strchr(out, '\n');    /* past the header line */
    return body && strstr(body, action) != NULL;
}

TEST(audit_page)
{
    setup();
    char ck[160], cs[64];
    resp r;
    session_of("ad@central.org", PW, ck, cs);
    /* the portal links the admin area for an admin */
    ASSERT_EQ(get(ck, "/portal", &r), 200);
    ASSERT_CONTAINS(r.body, "href=\"/admin\"");
    resp_free(&r);
    ASSERT_EQ(get(ck, "/admin", &r), 200);
    ASSERT_CONTAINS(r.body, "href=\"/admin/audit\"");
    ASSERT_CONTAINS(r.body, "href=\"/admin/orgs\"");
    ASSERT_CONTAINS(r.body, "href=\"/admin/users\"");
    ASSERT_STR_EQ(hdr(&r, "Cache-Control"), "no-store");
    resp_free(&r);
    ASSERT_EQ(get(ck, "/admin/audit", &r), 200);
    ASSERT_CONTAINS(r.body, "<p id=\"chain\" class=\"ok\">Chain intact up to entry ");
    ASSERT_CONTAINS(r.body, "<td>login</td>");
    ASSERT_CONTAINS(r.body, "<td>user_add</td>");
    /* the view itself is the newest entry, shown first */
    const char *first = strstr(strstr(r.body, "<tbody>"), "<tr");
    ASSERT_CONTAINS(first, "admin.audit.view");
    ASSERT(strstr(first, "admin.audit.view") < strstr(first, "</tr>"));
    ASSERT_CONTAINS(first, "<a href=\"/admin/audit?actor=user%3A3\">user:3</a> (ad@central.org)");
    resp_free(&r);
    ASSERT(audit_has("admin.audit.view"));
    /* a filter by action */
    ASSERT_EQ(get(ck, "/admin/audit?action=user_add", &r), 200);
    ASSERT_EQ(audit_rows(r.body), 3);
    ASSERT_LACKS(strstr(r.body, "<tbody>"), "<td>login</td>");
    ASSERT_CONTAINS(r.body, "name=\"action\" value=\"user_add\"");   /* the typed filter kept */
    resp_free(&r);
    /* by actor, and a date range that holds nothing */
    ASSERT_EQ(get(ck, "/admin/audit?actor=ad%40central.org", &r), 200);
    ASSERT_EQ(audit_rows(r.body), 1);                                 /* its login */
    ASSERT_CONTAINS(r.body, "<td>login</td>");
    resp_free(&r);
    ASSERT_EQ(get(ck, "/admin/audit?from=2001-01-01&to=2001-12-31", &r), 200);
    ASSERT_EQ(audit_rows(r.body), 0);
    ASSERT_CONTAINS(r.body, "No entries match");
    resp_free(&r);
    /* bad filters: 400 saying why, nothing recorded for them */
    ASSERT_EQ(get(ck, "/admin/audit?from=2026-02-30", &r), 400);
    ASSERT_CONTAINS(r.body, "from is a date");
    resp_free(&r);
    ASSERT_EQ(get(ck, "/admin/audit?sort=asc", &r), 400);
    ASSERT_CONTAINS(r.body, "unknown parameter");
    resp_free(&r);
    ASSERT_EQ(get(ck, "/admin/audit?before=x", &r), 400);
    resp_free(&r);
    /* paging: more than a page of entries (each view adds one) */
    for (int i = 0; i < ADMIN_PAGE_ROWS; i++) {
        ASSERT_EQ(get(ck, "/admin/audit?action=login", &r), 200);
        resp_free(&r);
    }
    ASSERT_EQ(get(ck, "/admin/audit", &r), 200);
    ASSERT_EQ(audit_rows(r.body), ADMIN_PAGE_ROWS);
    char older[128];
    if (grab(r.body, "<a id=\"older\" href=\"", older, sizeof older)) TFAIL("no older link");
    long long before = atoll(strstr(older, "before=") + 7);
    long long head = atoll(strstr(strstr(r.body, "<tbody>"), "<td>") + 4);
    ASSERT_EQ(before, head - ADMIN_PAGE_ROWS + 1);
    resp_free(&r);
    ASSERT_EQ(get(ck, older, &r), 200);
    long long top = atoll(strstr(strstr(r.body, "<tbody>"), "<td>") + 4);
    ASSERT_EQ(top, before - 1);
    ASSERT_CONTAINS(r.body, "id=\"newest\"");
    resp_free(&r);
    /* the filter is kept in the older link */
    ASSERT_EQ(get(ck, "/admin/audit?action=admin.audit.view", &r), 200);
    ASSERT_CONTAINS(r.body, "href=\"/admin/audit?action=admin.audit.view&amp;before=");
    resp_free(&r);
    ASSERT(chain_intact());
    teardown();
}

/* A change made behind the server's back (the triggers dropped) shows
 * on the page as a broken chain at that entry. */
TEST(audit_page_broken_chain)
{
    setup();
    char ck[160], cs[64];
    resp r;
    session_of("ad@central.org", PW, ck, cs);
    sqlite3 *h = NULL;
    ASSERT_EQ(sqlite3_open(db, &h), SQLITE_OK);
    sqlite3_busy_timeout(h, 5000);
    char *em = NULL;
    sqlite3_stmt *st = NULL;
    ASSERT_EQ(sqlite3_prepare_v2(h, "SELECT name FROM sqlite_master WHERE type='trigger' AND "
                                    "tbl_name='audit'", -1, &st, NULL), SQLITE_OK);
    char drops[1024] = "";
    while (sqlite3_step(st) == SQLITE_ROW) {
        size_t k = strlen(drops);
        snprintf(drops + k, sizeof drops - k, "DROP TRIGGER \"%s\";", sqlite3_column_text(st, 0));
    }
    sqlite3_finalize(st);
    ASSERT(drops[0]);
    ASSERT_EQ(sqlite3_exec(h, drops, NULL, NULL, &em), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(h, "UPDATE audit SET actor = 'someone else' WHERE seq = 2", NULL, NULL, &em),
              SQLITE_OK);
    sqlite3_close(h);
    ASSERT_EQ(get(ck, "/admin/audit", &r), 200);
    ASSERT_CONTAINS(r.body, "<p id=\"chain\" class=\"error\">Chain broken at entry 2 ");
    ASSERT_CONTAINS(r.body, "<tr class=\"bad\"><td>2</td>");
    ASSERT_LACKS(r.body, "<tr class=\"bad\"><td>1</td>");
    resp_free(&r);
    ASSERT(!chain_intact());
    teardown();
}

/* Contributors and analysts get 403 on every admin address and method
 * (with a valid CSRF token, so only the role decides), anonymous GETs go
 * to sign in, anonymous POSTs are refused; nothing changes. */
TEST(non_admins_refused)
{
    setup();
    enum { ANON, C, AN, NP };
    static const char *const emails[NP] = {NULL, "a@alpha.org", "an@alpha.org"};
    char ck[NP][160], cs[NP][64];
    for (int p = 0; p < NP; p++) {
        ck[p][0] = cs[p][0] = '\0';
        if (emails[p]) session_of(emails[p], PW, ck[p], cs[p]);
    }
    char revoke[96];
    snprintf(revoke, sizeof revoke, "/admin/users/1/tokens/%lld/revoke", tok_id);
    static const char *const gets[] = {"/admin", "/admin/audit", "/admin/audit?action=login",
                                       "/admin/orgs", "/admin/users", "/admin/nothing"};
    const char *posts[][2] = {{"/admin/orgs", "name=Evil&country=TH"},
                              {"/admin/users", "email=x%40evil.org&org=Alpha&role=admin&password=a+long+enough+pass"},
                              {"/admin/users/1/disable", ""},
                              {"/admin/users/1/enable", ""},
                              {revoke, ""},
                              {"/admin", ""}};
    for (int p = 0; p < NP; p++) {
        const char *who = emails[p] ? emails[p] : "anonymous";
        resp r;
        for (size_t i = 0; i < sizeof gets / sizeof gets[0]; i++) {
            int st = get(ck[p][0] ? ck[p] : NULL, gets[i], &r);
            int want = p == ANON ? 303 : 403;
            if (st != want) TFAIL("GET %s as %s: %d, want %d", gets[i], who, st, want);
            if (p == ANON) ASSERT_STR_EQ(hdr(&r, "Location"), "/login");
            ASSERT_LACKS(r.body, "<table");
            resp_free(&r);
        }
        for (size_t i = 0; i < sizeof posts / sizeof posts[0]; i++) {
            int st = post(ck[p][0] ? ck[p] : NULL, cs[p][0] ? cs[p] : NULL, posts[i][0], posts[i][1], &r);
            if (st != 403) TFAIL("POST %s as %s: %d, want 403", posts[i][0], who, st);
            resp_free(&r);
        }
    }
    /* nothing changed: no org, no account, the user and token still live */
    char out[8192];
    ASSERT_EQ(cli("org list", out, sizeof out), 0);
    ASSERT_LACKS(out, "Evil");
    ASSERT_EQ(cli("user list", out, sizeof out), 0);
    ASSERT_LACKS(out, "evil.org");
    ASSERT_LACKS(out, "disabled");
    ASSERT_EQ(cli("token list", out, sizeof out), 0);
    ASSERT_LACKS(out, "revoked");
    /* the refusals are on record */
    ASSERT(audit_has("admin.refused"));
    ASSERT(chain_intact());
    teardown();
}

TEST(csrf_required)
{
    setup();
    char ck[160], cs[64];
    resp r;
    session_of("ad@central.org", PW, ck, cs);
    ASSERT_EQ(post(ck, NULL, "/admin/orgs", "name=Gamma&country=KH", &r), 403);
    ASSERT_CONTAINS(r.body, "not valid for your session");
    resp_free(&r);
    ASSERT_EQ(post(ck, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "/admin/orgs", "name=Gamma", &r), 403);
    resp_free(&r);
    ASSERT_EQ(post(ck, NULL, "/admin/users/1/disable", "", &r), 403);
    resp_free(&r);
    /* another session's token is not this one's */
    char ck2[160], cs2[64];
    session_of("a@alpha.org", PW, ck2, cs2);
    ASSERT_EQ(post(ck, cs2, "/admin/users/1/disable", "", &r), 403);
    resp_free(&r);
    char out[8192];
    ASSERT_EQ(cli("org list", out, sizeof out), 0);
    ASSERT_LACKS(out, "Gamma");
    ASSERT_EQ(cli("user list", out, sizeof out), 0);
    ASSERT_LACKS(out, "disabled");
    /* a bad form body is a 400, GET on a POST address a 405 */
    ASSERT_EQ(post(ck, cs, "/admin/orgs", "name=%zz", &r), 400);
    resp_free(&r);
    ASSERT_EQ(get(ck, "/admin/users/1/disable", &r), 405);
    ASSERT_STR_EQ(hdr(&r, "Allow"), "POST");
    resp_free(&r);
    teardown();
}

TEST(add_org_user_disable_enable_revoke)
{
    setup();
    char ck[160], cs[64];
    resp r;
    session_of("ad@central.org", PW, ck, cs);
    /* an organisation: country by code, the region derived */
    ASSERT_EQ(post(ck, cs, "/admin/orgs", "name=Delta+Aid&country=TH", &r), 303);
    ASSERT_STR_EQ(hdr(&r, "Location"), "/admin/orgs?done=1");
    resp_free(&r);
    ASSERT_EQ(get(ck, "/admin/orgs?done=1", &r), 200);
    ASSERT_CONTAINS(r.body, "id=\"done\"");
    ASSERT_CONTAINS(r.body, "<td>Delta Aid</td><td>TH</td><td>Asia</td>");
    resp_free(&r);
    char out[1 << 16];
    ASSERT_EQ(cli("org list", out, sizeof out), 0);
    ASSERT_CONTAINS(out, "Delta Aid");
    /* an account with a password the admin chose */
    ASSERT_EQ(post(ck, cs, "/admin/users",
                   "email=d%40delta.org&org=Delta+Aid&role=contributor&password=another+good+passphrase",
                   &r), 303);
    ASSERT_STR_EQ(hdr(&r, "Location"), "/admin/users?done=1");
    resp_free(&r);
    char sd[64];
    ASSERT_EQ(login("d@delta.org", "another good passphrase", sd), 303);
    char ckd[160], csd[64];
    session_of("d@delta.org", "another good passphrase", ckd, csd);
    /* one with a password made and shown once */
    ASSERT_EQ(post(ck, cs, "/admin/users", "email=g%40delta.org&org=Delta+Aid&role=analyst&password=", &r),
              200);
    char gpw[64];
    if (grab(r.body, "<code id=\"new-password\">", gpw, sizeof gpw)) TFAIL("no password shown");
    ASSERT_EQ(strlen(gpw), 24);
    resp_free(&r);
    ASSERT_EQ(login("g@delta.org", gpw, sd), 303);
    ASSERT_EQ(get(ck, "/admin/users", &r), 200);
    ASSERT_LACKS(r.body, gpw);                         /* never again */
    resp_free(&r);
    /* disable: no login, the open session ended; enable: login again */
    long long did = user_id_of(ck, "d@delta.org");
    char path[96];
    snprintf(path, sizeof path, "/admin/users/%lld/disable", did);
    ASSERT_EQ(post(ck, cs, path, "", &r), 303);
    resp_free(&r);
    ASSERT_EQ(login("d@delta.org", "another good passphrase", sd), 401);
    ASSERT_EQ(get(ckd, "/portal", &r), 303);
    resp_free(&r);
    ASSERT_EQ(get(ck, "/admin/users", &r), 200);
    char row[200];
    snprintf(row, sizeof row, "<tr id=\"user-%lld\">", did);
    ASSERT_CONTAINS(strstr(r.body, row), "<td>disabled</td>");
    resp_free(&r);
    snprintf(path, sizeof path, "/admin/users/%lld/enable", did);
    ASSERT_EQ(post(ck, cs, path, "", &r), 303);
    resp_free(&r);
    ASSERT_EQ(login("d@delta.org", "another good passphrase", sd), 303);
    /* an admin cannot disable itself; an unknown account is a 404 */
    snprintf(path, sizeof path, "/admin/users/%lld/disable", user_id_of(ck, "ad@central.org"));
    ASSERT_EQ(post(ck, cs, path, "", &r), 422);
    ASSERT_CONTAINS(r.body, "cannot disable your own account");
    resp_free(&r);
    ASSERT_EQ(post(ck, cs, "/admin/users/9999/disable", "", &r), 404);
    resp_free(&r);
    /* a token: listed with the account, revoked, then refused */
    long long aid = user_id_of(ck, "a@alpha.org");
    ASSERT_EQ(get(ck, "/admin/users", &r), 200);
    snprintf(path, sizeof path, "/admin/users/%lld/tokens/%lld/revoke", aid, tok_id);
    ASSERT_CONTAINS(r.body, path);
    ASSERT_CONTAINS(r.body, "(sync)");
    resp_free(&r);
    char wrong[96];
    snprintf(wrong, sizeof wrong, "/admin/users/%lld/tokens/%lld/revoke", did, tok_id);
    ASSERT_EQ(post(ck, cs, wrong, "", &r), 404);   /* not that account's token */
    resp_free(&r);
    char h[200];
    snprintf(h, sizeof h, "Authorization: Bearer %s\r\nContent-Type: text/csv\r\n", tok_a);
    const char *csv = "case_ref,year_identified,gender,age,nationality\nT-1,2023,male,25,VN\n";
    http("POST", "/api/v1/submissions", h, csv, strlen(csv), &r);
    ASSERT_EQ(r.status, 201);
    resp_free(&r);
    ASSERT_EQ(post(ck, cs, path, "", &r), 303);
    resp_free(&r);
    http("POST", "/api/v1/submissions", h, csv, strlen(csv), &r);
    ASSERT_EQ(r.status, 401);
    resp_free(&r);
    ASSERT_EQ(post(ck, cs, path, "", &r), 404);    /* already revoked */
    resp_free(&r);
    /* every change is on record under the admin, and the chain holds */
    static const char *const acts[] = {"admin.org.add", "admin.user.add", "admin.user.disable",
                                       "admin.user.enable", "admin.token.revoke"};
    for (size_t i = 0; i < 5; i++)
        if (!audit_has(acts[i])) TFAIL("no %s in the audit log", acts[i]);
    ASSERT_EQ(cli("audit list --action admin.user.disable", out, sizeof out), 0);
    ASSERT_CONTAINS(out, "user:3");
    ASSERT_CONTAINS(out, "d@delta.org");
    ASSERT(chain_intact());
    teardown();
}

TEST(bad_inputs_422)
{
    setup();
    char ck[160], cs[64];
    resp r;
    session_of("ad@central.org", PW, ck, cs);
    /* several bad fields at once: each has its message, typed values kept */
    ASSERT_EQ(post(ck, cs, "/admin/users", "email=not-an-email&org=Nowhere&role=boss&password=short", &r),
              422);
    ASSERT_CONTAINS(r.body, "id=\"err-email\"");
    ASSERT_CONTAINS(r.body, "id=\"err-org\"");
    ASSERT_CONTAINS(r.body, "id=\"err-role\"");
    ASSERT_CONTAINS(r.body, "name=\"email\" maxlength=\"254\" required value=\"not-an-email\"");
    ASSERT_LACKS(r.body, "value=\"short\"");          /* a password is never echoed */
    resp_free(&r);
    ASSERT_EQ(post(ck, cs, "/admin/users", "email=p%40alpha.org&org=Alpha&role=analyst&password=short", &r),
              422);
    ASSERT_CONTAINS(r.body, "id=\"err-password\"");
    ASSERT_LACKS(r.body, "id=\"err-email\"");
    ASSERT_CONTAINS(r.body, "<option value=\"Alpha\" selected>");
    ASSERT_CONTAINS(r.body, "<option value=\"analyst\" selected>");
    resp_free(&r);
    /* a taken email (the store's answer, next to the field) */
    ASSERT_EQ(post(ck, cs, "/admin/users",
                   "email=A%40alpha.org&org=Alpha&role=analyst&password=a+fine+long+passphrase", &r), 422);
    ASSERT_CONTAINS(r.body, "id=\"err-email\"");
    ASSERT_CONTAINS(r.body, "exists");
    resp_free(&r);
    /* an email auth refuses though it has an @ */
    ASSERT_EQ(post(ck, cs, "/admin/users",
                   "email=%40&org=Alpha&role=analyst&password=a+fine+long+passphrase", &r), 422);
    ASSERT_CONTAINS(r.body, "id=\"err-email\"");
    resp_free(&r);
    /* organisations: unknown country, duplicate (any case), empty name */
    ASSERT_EQ(post(ck, cs, "/admin/orgs", "name=Epsilon&country=QQ", &r), 422);
    ASSERT_CONTAINS(r.body, "id=\"err-country\"");
    ASSERT_CONTAINS(r.body, "value=\"Epsilon\"");
    resp_free(&r);
    ASSERT_EQ(post(ck, cs, "/admin/orgs", "name=alpha&country=VN", &r), 422);
    ASSERT_CONTAINS(r.body, "id=\"err-name\"");
    ASSERT_CONTAINS(r.body, "exists");
    ASSERT_CONTAINS(r.body, "<option value=\"VN\" selected>");
    resp_free(&r);
    ASSERT_EQ(post(ck, cs, "/admin/orgs", "name=+++&country=", &r), 422);
    ASSERT_CONTAINS(r.body, "id=\"err-name\"");
    resp_free(&r);
    ASSERT_EQ(post(ck, cs, "/admin/orgs", "name=a%09b", &r), 422);
    ASSERT_CONTAINS(r.body, "control characters");
    resp_free(&r);
    char out[8192];
    ASSERT_EQ(cli("org list", out, sizeof out), 0);
    ASSERT_LACKS(out, "Epsilon");
    ASSERT_EQ(cli("user list", out, sizeof out), 0);
    ASSERT_LACKS(out, "p@alpha.org");
    ASSERT(!audit_has("admin.org.add"));
    ASSERT(!audit_has("admin.user.add"));
    teardown();
}

TEST(hostile_names_escaped)
{
    setup();
    char ck[160], cs[64];
    resp r;
    session_of("ad@central.org", PW, ck, cs);
    ASSERT_EQ(post(ck, cs, "/admin/orgs", "name=%3Cscript%3Ealert(1)%3C%2Fscript%3E+%22%27%26", &r), 303);
    resp_free(&r);
    static const char *const pages[] = {"/admin/orgs", "/admin/users", "/admin/audit"};
    for (size_t i = 0; i < 3; i++) {
        ASSERT_EQ(get(ck, pages[i], &r), 200);
        ASSERT_LACKS(r.body, "<script>");
        ASSERT_CONTAINS(r.body, "&lt;script&gt;alert(1)&lt;/script&gt; &quot;&#39;&amp;");
        resp_free(&r);
    }
    /* a hostile typed value and filter come back escaped too */
    ASSERT_EQ(post(ck, cs, "/admin/users", "email=%22%3E%3Cscript%3E&org=x&role=x", &r), 422);
    ASSERT_LACKS(r.body, "<script>");
    ASSERT_CONTAINS(r.body, "value=\"&quot;&gt;&lt;script&gt;\"");
    resp_free(&r);
    ASSERT_EQ(get(ck, "/admin/audit?actor=%22%3E%3Cscript%3E", &r), 200);
    ASSERT_LACKS(r.body, "<script>");
    resp_free(&r);
    ASSERT(chain_intact());
    teardown();
}

TEST_LIST(filter_parse, audit_page, audit_page_broken_chain, non_admins_refused, csrf_required,
          add_org_user_disable_enable_revoke, bad_inputs_422, hostile_names_escaped)
