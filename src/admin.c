/* admin.c -- see admin.h. */
#include "admin.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MSG_CAP 256
#define GEN_PW_BYTES 18            /* a generated password: 24 base64url characters */

/* ------------------------------------------------------------ the filter */

static int is_leap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

/* YYYY-MM-DD, a date that exists, years 1970-9999. */
static int date_ok(const char *s, size_t n)
{
    if (n != 10 || s[4] != '-' || s[7] != '-') return 0;
    for (size_t i = 0; i < 10; i++)
        if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9')) return 0;
    int y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
    int m = (s[5] - '0') * 10 + (s[6] - '0'), d = (s[8] - '0') * 10 + (s[9] - '0');
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (y < 1970 || m < 1 || m > 12 || d < 1) return 0;
    return d <= mdays[m - 1] + (m == 2 && is_leap(y));
}

int admin_audit_filter_parse(const char *q, size_t n, admin_audit_filter *f, const char **why)
{
    portal_form form = {0};
    int rc = -1, seen = 0;
    memset(f, 0, sizeof *f);
    if (!q || n == 0) return 0;
    if (portal_form_urlencoded(q, n, &form, why)) goto done;
    static const char *const names[] = {"actor", "action", "from", "to", "before"};
    for (size_t i = 0; i < form.n; i++) {
        const portal_field *x = &form.f[i];
        int k = -1;
        for (int j = 0; j < 5; j++)
            if (strcmp(x->name, names[j]) == 0) k = j;
        if (k < 0) {
            *why = "unknown parameter: the audit page takes actor, action, from, to and before";
            goto done;
        }
        if (seen & (1 << k)) {
            *why = "a parameter is given twice: actor, action, from, to and before go once each";
            goto done;
        }
        seen |= 1 << k;
        if (x->vlen == 0) continue;             /* an empty field of the form: any */
        const char *v = x->value;
        size_t vl = x->vlen;
        if (k == 0) {
            if (vl > AUDIT_ACTOR_MAX) {
                *why = "actor is at most 256 bytes";
                goto done;
            }
            for (size_t c = 0; c < vl; c++)
                if ((unsigned char)v[c] < 0x20 || v[c] == 0x7f) {
                    *why = "actor has a control character";
                    goto done;
                }
            memcpy(f->actor, v, vl + 1);
        } else if (k == 1) {
            int ok = vl <= ADMIN_ACTION_MAX;
            for (size_t c = 0; ok && c < vl; c++)
                ok = (v[c] >= 'a' && v[c] <= 'z') || (v[c] >= '0' && v[c] <= '9') || v[c] == '.' ||
                     v[c] == '_' || v[c] == '-';
            if (!ok) {
                *why = "action is at most 64 characters a-z, 0-9, '.', '_' and '-' (such as login or "
                       "admin.user.add)";
                goto done;
            }
            memcpy(f->action, v, vl + 1);
        } else if (k == 2 || k == 3) {
            if (!date_ok(v, vl)) {
                *why = k == 2 ? "from is a date YYYY-MM-DD that exists, such as 2026-11-25"
                              : "to is a date YYYY-MM-DD that exists, such as 2026-11-25";
                goto done;
            }
            memcpy(k == 2 ? f->from : f->to, v, 11);
        } else {
            long long b = 0;
            int ok = vl <= 15;
            for (size_t c = 0; ok && c < vl; c++) {
                ok = v[c] >= '0' && v[c] <= '9';
                b = b * 10 + (v[c] - '0');
            }
            if (!ok || b <= 0) {
                *why = "before is an entry number, a whole number from 1";
                goto done;
            }
            f->before = b;
        }
    }
    if (f->from[0] && f->to[0] && strcmp(f->from, f->to) > 0) {
        *why = "from is after to";
        goto done;
    }
    rc = 0;
done:
    portal_form_free(&form);
    if (rc) memset(f, 0, sizeof *f);
    return rc;
}

/* ------------------------------------------------------------ helpers */

/* Percent-encodes s for a query value (everything but unreserved). */
static void url_enc(sp_buf *b, const char *s)
{
    static const char hx[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
            *p == '-' || *p == '.' || *p == '_' || *p == '~')
            sp_buf_addc(b, (char)*p);
        else {
            sp_buf_addc(b, '%');
            sp_buf_addc(b, hx[*p >> 4]);
            sp_buf_addc(b, hx[*p & 15]);
        }
    }
}

static void nav(sp_buf *b)
{
    sp_buf_adds(b, "<nav class=\"admin\"><a href=\"/admin\">Administration</a> | "
                   "<a href=\"/admin/audit\">Audit log</a> | <a href=\"/admin/orgs\">Organisations</a> | "
                   "<a href=\"/admin/users\">Users</a> | <a href=\"/portal\">Portal</a></nav>\n");
}

/* A message next to a field (escaped), when there is one. */
static void field_msg(sp_buf *b, const char *field, const char *msg)
{
    if (!msg || !*msg) return;
    sp_buf_printf(b, " <span class=\"error\" id=\"err-%s\">", field);
    sp_buf_add_htmls(b, msg);
    sp_buf_adds(b, "</span>");
}

/* ?done=1 after a change that succeeded. */
static int query_done(const http_request *req)
{
    return req->raw_query && req->raw_query_len == 6 && memcmp(req->raw_query, "done=1", 6) == 0;
}

/* Appends one entry of an admin action under the signed-in user. */
static int audit_admin(const portal_req *r, const char *action, long long org_id, const char *target,
                       const char *k1, const char *v1, const char *k2, long long v2)
{
    sp_buf d;
    sp_buf_init(&d, 4096);
    if (k1) audit_detail_str(&d, k1, v1);
    if (k2) audit_detail_int(&d, k2, v2);
    int rc = audit_append(r->ctx->store, r->who->actor, org_id, action, target, r->remote,
                          audit_detail_end(&d));
    sp_buf_free(&d);
    return rc;
}

static int method_not_allowed(serve_reply *out, int post_only)
{
    portal_add_extra(out, post_only ? "Allow: POST\r\n" : "Allow: GET, HEAD\r\n");
    return portal_message(out, 405, "Not allowed",
                          post_only ? "this address answers POST" : "this address answers GET and HEAD");
}

/* ------------------------------------------------------------ overview */

static int overview(const portal_req *r, serve_reply *out)
{
    sp_buf *b = &out->body;
    portal_page_start(out, "Administration");
    nav(b);
    sp_buf_adds(b, "<h1>Administration</h1>\n<ul id=\"admin-links\">\n"
                   "<li><a href=\"/admin/audit\">Audit log</a>: every sign-in, upload, view or export "
                   "of case-level data and administrative change, and whether its hash chain is "
                   "intact</li>\n"
                   "<li><a href=\"/admin/orgs\">Organisations</a>: the partners that report, and "
                   "adding one</li>\n"
                   "<li><a href=\"/admin/users\">Users</a>: accounts, their roles and API tokens; "
                   "adding, disabling and enabling an account, revoking a token</li>\n</ul>\n");
    (void)r;
    return portal_page_end(out);
}

/* ------------------------------------------------------------ the audit page */

typedef struct name_map {
    auth_user *users;
    size_t nusers;
    sp_org *orgs;
    size_t norgs;
} name_map;

static void map_free(name_map *m)
{
    for (size_t i = 0; i < m->nusers; i++) auth_user_free(&m->users[i]);
    free(m->users);
    for (size_t i = 0; i < m->norgs; i++) store_org_free(&m->orgs[i]);
    free(m->orgs);
    memset(m, 0, sizeof *m);
}

typedef struct audit_rows {
    sp_buf *b;
    const name_map *map;
    long long first_bad;
    int n;
    long long last_seq;
    int more;
} audit_rows;

static int audit_row_html(const sp_audit_row *row, void *ud)
{
    audit_rows *a = ud;
    if (a->n == ADMIN_PAGE_ROWS) {
        a->more = 1;
        return 1;
    }
    sp_buf *b = a->b;
    a->n++;
    a->last_seq = row->seq;
    int bad = a->first_bad && row->seq >= a->first_bad;
    sp_buf_printf(b, "<tr%s><td>%lld</td><td>", bad ? " class=\"bad\"" : "", row->seq);
    sp_buf_add_htmls(b, row->at ? row->at : "");
    sp_buf_adds(b, "</td><td>");
    /* the actor links to its own entries */
    if (row->actor && *row->actor) {
        sp_buf q;
        sp_buf_init(&q, 4 * AUDIT_ACTOR_MAX + 16);
        url_enc(&q, row->actor);
        sp_buf_adds(b, "<a href=\"/admin/audit?actor=");
        sp_buf_add_htmls(b, q.data ? q.data : "");
        sp_buf_adds(b, "\">");
        sp_buf_add_htmls(b, row->actor);
        sp_buf_adds(b, "</a>");
        sp_buf_free(&q);
    }
    /* "user:ID" also shows the account's email */
    if (row->actor && strncmp(row->actor, "user:", 5) == 0) {
        long long id = atoll(row->actor + 5);
        for (size_t i = 0; i < a->map->nusers; i++)
            if (a->map->users[i].id == id) {
                sp_buf_adds(b, " (");
                sp_buf_add_htmls(b, a->map->users[i].email);
                sp_buf_adds(b, ")");
            }
    }
    sp_buf_adds(b, "</td><td>");
    sp_buf_add_htmls(b, row->action ? row->action : "");
    sp_buf_adds(b, "</td><td>");
    sp_buf_add_htmls(b, row->target ? row->target : "");
    sp_buf_adds(b, "</td><td>");
    if (row->org_id) {
        const char *name = NULL;
        for (size_t i = 0; i < a->map->norgs; i++)
            if (a->map->orgs[i].id == row->org_id) name = a->map->orgs[i].name;
        if (name) sp_buf_add_htmls(b, name);
        else sp_buf_printf(b, "%lld", row->org_id);
    }
    sp_buf_adds(b, "</td><td>");
    sp_buf_add_htmls(b, row->remote ? row->remote : "");
    sp_buf_adds(b, "</td><td><code>");
    sp_buf_add_htmls(b, row->detail ? row->detail : "");
    char hex[2 * AUDIT_HASH_LEN + 1];
    audit_hex(row->hash, hex);
    hex[12] = '\0';
    sp_buf_printf(b, "</code></td><td><code>%s</code></td></tr>\n", hex);
    return 0;
}

/* The filter as a query (without before), for links that keep it. */
static void filter_query(sp_buf *q, const admin_audit_filter *f)
{
    const char *keys[] = {"actor", "action", "from", "to"};
    const char *vals[] = {f->actor, f->action, f->from, f->to};
    for (int i = 0; i < 4; i++) {
        if (!vals[i][0]) continue;
        sp_buf_printf(q, "%s%s=", q->len ? "&" : "", keys[i]);
        url_enc(q, vals[i]);
    }
}

static void text_input(sp_buf *b, const char *label, const char *name, const char *type,
                       const char *value, const char *extra)
{
    sp_buf_printf(b, "<label>%s <input type=\"%s\" name=\"%s\" value=\"", label, type, name);
    sp_buf_add_htmls(b, value ? value : "");
    sp_buf_printf(b, "\"%s></label>\n", extra ? extra : "");
}

static int audit_page(const portal_req *r, serve_reply *out)
{
    admin_audit_filter f;
    const char *why = NULL;
    sp_store *s = r->ctx->store;
    name_map map = {0};
    sp_err err;
    sp_buf q;
    int rc;
    sp_err_init(&err);
    sp_buf_init(&q, 8192);
    if (admin_audit_filter_parse(r->req->raw_query, r->req->raw_query_len, &f, &why)) {
        rc = portal_message(out, 400, "Bad filter", why);
        goto done;
    }
    /* the view is recorded before anything is shown */
    sp_buf d;
    sp_buf_init(&d, 4096);
    if (f.actor[0]) audit_detail_str(&d, "actor", f.actor);
    if (f.action[0]) audit_detail_str(&d, "action", f.action);
    if (f.from[0]) audit_detail_str(&d, "from", f.from);
    if (f.to[0]) audit_detail_str(&d, "to", f.to);
    if (f.before) audit_detail_int(&d, "before", f.before);
    rc = audit_append(s, r->who->actor, 0, "admin.audit.view", NULL, r->remote, audit_detail_end(&d));
    sp_buf_free(&d);
    if (rc) goto done;
    audit_report rep;
    int vr = audit_verify(s, NULL, &rep, &err);
    if (vr != SP_OK && vr != SP_EINPUT) {
        rc = vr;
        goto done;
    }
    if ((rc = auth_user_list(portal_auth(r->pt), &map.users, &map.nusers))) goto done;
    if ((rc = store_org_list(s, &map.orgs, &map.norgs))) goto done;

    sp_buf *b = &out->body;
    portal_page_start(out, "Audit log");
    nav(b);
    sp_buf_adds(b, "<h1>Audit log</h1>\n");
    char hex[2 * AUDIT_HASH_LEN + 1];
    audit_hex(rep.head, hex);
    if (vr == SP_OK) {
        sp_buf_printf(b, "<p id=\"chain\" class=\"ok\">Chain intact up to entry %lld (%lld entries); "
                         "head <code>%s</code>. Note the head outside the hub to detect a log cut "
                         "at its end later (<code>spotlight audit verify --head</code>).</p>\n",
                      rep.head_seq, rep.count, rep.count ? hex : "(none)");
    } else {
        sp_buf_printf(b, "<p id=\"chain\" class=\"error\">Chain broken at entry %lld (%lld entries "
                         "read): ", rep.first_bad, rep.count);
        sp_buf_add_htmls(b, err.n && err.items[0].message ? err.items[0].message : "");
        sp_buf_printf(b, " Entries before %lld are intact; from it on nothing can be trusted.</p>\n",
                      rep.first_bad);
    }
    sp_buf_adds(b, "<form method=\"get\" action=\"/admin/audit\" id=\"filter\">\n");
    text_input(b, "Actor", "actor", "text", f.actor, " maxlength=\"256\"");
    text_input(b, "Action", "action", "text", f.action, " maxlength=\"64\"");
    text_input(b, "From", "from", "date", f.from, NULL);
    text_input(b, "To", "to", "date", f.to, NULL);
    sp_buf_adds(b, "<button type=\"submit\">Filter</button> <a href=\"/admin/audit\">All</a>\n</form>\n");
    sp_buf_adds(b, "<table id=\"audit\">\n<thead><tr><th>Seq</th><th>At (UTC)</th><th>Actor</th>"
                   "<th>Action</th><th>Target</th><th>Organisation</th><th>From</th><th>Detail</th>"
                   "<th>Hash</th></tr></thead>\n<tbody>\n");
    audit_rows ar = {b, &map, vr == SP_EINPUT ? rep.first_bad : 0, 0, 0, 0};
    sp_audit_page pq = {f.actor[0] ? f.actor : NULL, f.action[0] ? f.action : NULL,
                        f.from[0] ? f.from : NULL, f.to[0] ? f.to : NULL, f.before,
                        ADMIN_PAGE_ROWS + 1};
    rc = store_audit_page(s, &pq, audit_row_html, &ar);
    if (rc == 1 && ar.more) rc = SP_OK;
    if (rc) goto done;
    sp_buf_adds(b, "</tbody>\n</table>\n");
    if (ar.n == 0) sp_buf_adds(b, "<p id=\"none\">No entries match.</p>\n");
    filter_query(&q, &f);
    sp_buf_adds(b, "<p class=\"pages\">");
    if (f.before) {
        sp_buf_adds(b, "<a id=\"newest\" href=\"/admin/audit");
        if (q.len) {
            sp_buf_addc(b, '?');
            sp_buf_add_htmls(b, q.data);
        }
        sp_buf_adds(b, "\">Newest</a> ");
    }
    if (ar.more) {
        sp_buf_adds(b, "<a id=\"older\" href=\"/admin/audit?");
        if (q.len) {
            sp_buf_add_htmls(b, q.data);
            sp_buf_adds(b, "&amp;");
        }
        sp_buf_printf(b, "before=%lld\">Older entries</a>", ar.last_seq);
    }
    sp_buf_adds(b, "</p>\n");
    rc = portal_page_end(out);
done:
    map_free(&map);
    sp_buf_free(&q);
    sp_err_free(&err);
    return rc;
}

/* ------------------------------------------------------------ organisations */

typedef struct org_form {
    const char *name, *country;     /* typed values (borrowed), or "" */
    char e_name[MSG_CAP], e_country[MSG_CAP];
} org_form;

static int orgs_page(const portal_req *r, serve_reply *out, int status, const org_form *of)
{
    sp_org *orgs = NULL;
    size_t n = 0;
    int rc = store_org_list(r->ctx->store, &orgs, &n);
    if (rc) return rc;
    sp_buf *b = &out->body;
    out->status = status;
    portal_page_start(out, "Organisations");
    nav(b);
    sp_buf_adds(b, "<h1>Organisations</h1>\n");
    if (status == 200 && query_done(r->req)) sp_buf_adds(b, "<p id=\"done\">Saved.</p>\n");
    if (status == 422) sp_buf_adds(b, "<p class=\"error\" id=\"form-error\">The organisation was not "
                                      "added; see the messages next to the fields.</p>\n");
    sp_buf_adds(b, "<table id=\"orgs\">\n<thead><tr><th>Id</th><th>Name</th><th>Country</th>"
                   "<th>Region</th><th>Records</th><th>Created</th></tr></thead>\n<tbody>\n");
    for (size_t i = 0; i < n; i++) {
        sp_org *o = &orgs[i];
        sp_buf_printf(b, "<tr><td>%lld</td><td>", o->id);
        sp_buf_add_htmls(b, o->name ? o->name : "");
        sp_buf_adds(b, "</td><td>");
        sp_buf_add_htmls(b, o->country ? o->country : "unknown");
        sp_buf_adds(b, "</td><td>");
        sp_buf_add_htmls(b, o->region ? o->region : "");
        sp_buf_printf(b, "</td><td>%lld</td><td>", o->records);
        sp_buf_add_htmls(b, o->created ? o->created : "");
        sp_buf_adds(b, "</td></tr>\n");
        store_org_free(o);
    }
    free(orgs);
    sp_buf_adds(b, "</tbody>\n</table>\n<h2>Add an organisation</h2>\n"
                   "<form method=\"post\" action=\"/admin/orgs\" id=\"org-add\">\n");
    portal_csrf_field(r->pt, r->who, b);
    sp_buf_adds(b, "<p><label>Name <input type=\"text\" name=\"name\" maxlength=\"200\" required value=\"");
    sp_buf_add_htmls(b, of ? of->name : "");
    sp_buf_adds(b, "\"></label>");
    field_msg(b, "name", of ? of->e_name : NULL);
    sp_buf_adds(b, "</p>\n<p><label>Country <select name=\"country\">\n<option value=\"\">unknown</option>\n");
    const char *typed = of ? of->country : "";
    const gz_country *sel = typed && *typed ? gazetteer_country(r->ctx->gaz, typed, strlen(typed)) : NULL;
    size_t nc = gazetteer_ncountries(r->ctx->gaz);
    for (size_t i = 0; i < nc; i++) {
        const gz_country *c = gazetteer_country_at(r->ctx->gaz, i);
        sp_buf_printf(b, "<option value=\"%s\"%s>", c->alpha2, c == sel ? " selected" : "");
        sp_buf_add_htmls(b, c->name);
        sp_buf_printf(b, " (%s)</option>\n", c->alpha2);
    }
    sp_buf_adds(b, "</select></label>");
    field_msg(b, "country", of ? of->e_country : NULL);
    sp_buf_adds(b, "</p>\n<p>The country gives the organisation's UN region, which the public "
                   "dashboard's reporting-region filter uses.</p>\n"
                   "<button type=\"submit\">Add</button>\n</form>\n");
    return portal_page_end(out);
}

static int org_add(const portal_req *r, const portal_form *f, serve_reply *out)
{
    sp_store *s = r->ctx->store;
    org_form of;
    memset(&of, 0, sizeof of);
    const portal_field *nf = portal_form_get(f, "name"), *cf = portal_form_get(f, "country");
    of.name = nf ? nf->value : "";
    of.country = cf ? cf->value : "";
    size_t nl = strlen(of.name);
    int blank = 1;
    for (size_t i = 0; i < nl; i++) {
        unsigned char c = (unsigned char)of.name[i];
        if (c < 0x20 || c == 0x7f) {
            snprintf(of.e_name, MSG_CAP, "a name has no control characters (tabs, line breaks)");
            break;
        }
        if (c != ' ') blank = 0;
    }
    if (!of.e_name[0] && (blank || nl > ADMIN_ORG_NAME_MAX))
        snprintf(of.e_name, MSG_CAP, "a name is 1 to %d bytes, not only spaces", ADMIN_ORG_NAME_MAX);
    const gz_country *gc = NULL;
    if (*of.country) {
        gc = gazetteer_country(r->ctx->gaz, of.country, strlen(of.country));
        if (!gc)
            snprintf(of.e_country, MSG_CAP,
                     "not a country: choose one, or give an ISO 3166-1 code such as TH");
    }
    if (of.e_name[0] || of.e_country[0]) return orgs_page(r, out, 422, &of);
    long long id = 0;
    int rc = store_begin(s);
    if (!rc) rc = store_org_add(s, of.name, gc ? gc->alpha2 : NULL, &id);
    if (!rc) rc = audit_admin(r, "admin.org.add", id, of.name, "country", gc ? gc->alpha2 : NULL, NULL, 0);
    if (!rc) rc = store_commit(s);
    else if (store_in_transaction(s)) store_rollback(s);
    if (rc == SP_EEXIST) {
        snprintf(of.e_name, MSG_CAP, "an organisation with this name exists (names are compared "
                                     "without regard to case)");
        return orgs_page(r, out, 422, &of);
    }
    if (rc) return rc;
    return portal_redirect(out, "/admin/orgs?done=1", NULL);
}

/* ------------------------------------------------------------ users */

typedef struct user_form {
    const char *email, *org, *role;   /* typed values (borrowed), or "" */
    char e_email[MSG_CAP], e_org[MSG_CAP], e_role[MSG_CAP], e_password[MSG_CAP];
    char note[MSG_CAP];               /* a message above the page (422) */
} user_form;

static void fmt_time(long long t, char out[21])
{
    if (t <= 0) {
        snprintf(out, 21, "-");
        return;
    }
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(out, 21, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int users_page(const portal_req *r, serve_reply *out, int status, const user_form *uf)
{
    auth *a = portal_auth(r->pt);
    auth_user *users = NULL;
    auth_token_info *toks = NULL;
    sp_org *orgs = NULL;
    size_t nu = 0, nt = 0, no = 0;
    int rc = auth_user_list(a, &users, &nu);
    if (!rc) rc = auth_token_list(a, &toks, &nt);
    if (!rc) rc = store_org_list(r->ctx->store, &orgs, &no);
    if (rc) goto done;
    sp_buf *b = &out->body;
    out->status = status;
    portal_page_start(out, "Users");
    nav(b);
    sp_buf_adds(b, "<h1>Users</h1>\n");
    if (status == 200 && query_done(r->req)) sp_buf_adds(b, "<p id=\"done\">Saved.</p>\n");
    if (uf && uf->note[0]) {
        sp_buf_adds(b, "<p class=\"error\" id=\"form-error\">");
        sp_buf_add_htmls(b, uf->note);
        sp_buf_adds(b, "</p>\n");
    }
    sp_buf_adds(b, "<table id=\"users\">\n<thead><tr><th>Id</th><th>Email</th><th>Organisation</th>"
                   "<th>Role</th><th>Status</th><th>Created</th><th>API tokens</th><th></th></tr>"
                   "</thead>\n<tbody>\n");
    for (size_t i = 0; i < nu; i++) {
        auth_user *u = &users[i];
        char t[21];
        fmt_time(u->created, t);
        sp_buf_printf(b, "<tr id=\"user-%lld\"><td>%lld</td><td>", u->id, u->id);
        sp_buf_add_htmls(b, u->email ? u->email : "");
        sp_buf_adds(b, "</td><td>");
        sp_buf_add_htmls(b, u->org_name ? u->org_name : "");
        sp_buf_printf(b, "</td><td>%s</td><td>%s</td><td>%s</td><td>", auth_role_name(u->role),
                      u->disabled ? "disabled" : "active", t);
        for (size_t k = 0; k < nt; k++) {
            auth_token_info *x = &toks[k];
            if (x->user_id != u->id || x->revoked) continue;
            char lu[21];
            fmt_time(x->last_used, lu);
            sp_buf_printf(b, "<form method=\"post\" action=\"/admin/users/%lld/tokens/%lld/revoke\">"
                             "token %lld",
                          u->id, x->id, x->id);
            if (x->name) {
                sp_buf_adds(b, " (");
                sp_buf_add_htmls(b, x->name);
                sp_buf_adds(b, ")");
            }
            sp_buf_printf(b, ", last used %s ", lu);
            portal_csrf_field(r->pt, r->who, b);
            sp_buf_adds(b, "<button type=\"submit\">Revoke</button></form>");
        }
        sp_buf_printf(b, "</td><td><form method=\"post\" action=\"/admin/users/%lld/%s\">", u->id,
                      u->disabled ? "enable" : "disable");
        portal_csrf_field(r->pt, r->who, b);
        sp_buf_printf(b, "<button type=\"submit\">%s</button></form></td></tr>\n",
                      u->disabled ? "Enable" : "Disable");
    }
    sp_buf_adds(b, "</tbody>\n</table>\n<h2>Add an account</h2>\n"
                   "<form method=\"post\" action=\"/admin/users\" id=\"user-add\">\n");
    portal_csrf_field(r->pt, r->who, b);
    sp_buf_adds(b, "<p><label>Email <input type=\"email\" name=\"email\" maxlength=\"254\" required value=\"");
    sp_buf_add_htmls(b, uf ? uf->email : "");
    sp_buf_adds(b, "\"></label>");
    field_msg(b, "email", uf ? uf->e_email : NULL);
    sp_buf_adds(b, "</p>\n<p><label>Organisation <select name=\"org\" required>\n");
    for (size_t i = 0; i < no; i++) {
        sp_buf_adds(b, "<option value=\"");
        sp_buf_add_htmls(b, orgs[i].name);
        sp_buf_printf(b, "\"%s>", uf && strcmp(uf->org, orgs[i].name) == 0 ? " selected" : "");
        sp_buf_add_htmls(b, orgs[i].name);
        sp_buf_adds(b, "</option>\n");
    }
    sp_buf_adds(b, "</select></label>");
    field_msg(b, "org", uf ? uf->e_org : NULL);
    sp_buf_adds(b, "</p>\n<p><label>Role <select name=\"role\">\n");
    for (int k = AUTH_CONTRIBUTOR; k <= AUTH_ADMIN; k++) {
        const char *rn = auth_role_name((auth_role)k);
        sp_buf_printf(b, "<option value=\"%s\"%s>%s</option>\n", rn,
                      uf && strcmp(uf->role, rn) == 0 ? " selected" : "", rn);
    }
    sp_buf_adds(b, "</select></label>");
    field_msg(b, "role", uf ? uf->e_role : NULL);
    sp_buf_printf(b, "</p>\n<p><label>Initial password <input type=\"password\" name=\"password\" "
                     "autocomplete=\"new-password\" maxlength=\"%d\"></label>",
                  AUTH_PASSWORD_MAX);
    field_msg(b, "password", uf ? uf->e_password : NULL);
    sp_buf_printf(b, "</p>\n<p>Leave the password empty to have one made and shown once. A password "
                     "has at least %d characters and is not built from the email or the "
                     "organisation's name.</p>\n<button type=\"submit\">Add</button>\n</form>\n",
                  AUTH_PASSWORD_MIN);
    rc = portal_page_end(out);
done:
    for (size_t i = 0; i < nu; i++) auth_user_free(&users[i]);
    free(users);
    for (size_t i = 0; i < nt; i++) auth_token_info_free(&toks[i]);
    free(toks);
    for (size_t i = 0; i < no; i++) store_org_free(&orgs[i]);
    free(orgs);
    return rc;
}

/* Copies the message of err's problems about `column` into msg. */
static void msg_of(const sp_err *err, const char *column, char msg[MSG_CAP])
{
    for (size_t i = 0; i < err->n; i++)
        if (err->items[i].column && strcmp(err->items[i].column, column) == 0 && !msg[0])
            snprintf(msg, MSG_CAP, "%s", err->items[i].message ? err->items[i].message : "refused");
}

static int user_add(const portal_req *r, const portal_form *f, serve_reply *out)
{
    sp_store *s = r->ctx->store;
    auth *a = portal_auth(r->pt);
    user_form uf;
    memset(&uf, 0, sizeof uf);
    const portal_field *ef = portal_form_get(f, "email"), *of = portal_form_get(f, "org"),
                       *rf = portal_form_get(f, "role"), *pf = portal_form_get(f, "password");
    uf.email = ef ? ef->value : "";
    uf.org = of ? of->value : "";
    uf.role = rf ? rf->value : "";
    char pw[AUTH_PASSWORD_MAX + 1] = "";
    int generated = 0, rc = SP_OK;
    sp_err err;
    sp_err_init(&err);
    sp_org org;
    int have_org = 0;
    auth_role role = AUTH_CONTRIBUTOR;
    /* each field checked, so that every message shows at once */
    size_t el = strlen(uf.email);
    if (el == 0) snprintf(uf.e_email, MSG_CAP, "give the account's email address");
    else if (el > AUTH_EMAIL_MAX || !strchr(uf.email, '@') || strpbrk(uf.email, " \t"))
        snprintf(uf.e_email, MSG_CAP, "an email address is NAME@DOMAIN, at most %d bytes, without spaces",
                 AUTH_EMAIL_MAX);
    if (auth_role_parse(uf.role, &role))
        snprintf(uf.e_role, MSG_CAP, "a role is contributor, analyst or admin");
    if (!*uf.org) snprintf(uf.e_org, MSG_CAP, "choose the account's organisation");
    else {
        rc = store_org_find(s, uf.org, &org);
        if (rc == SP_EOF) snprintf(uf.e_org, MSG_CAP, "no organisation has this name");
        else if (rc) goto done;
        else have_org = 1;
        rc = SP_OK;
    }
    if (pf && pf->vlen) {
        if (pf->vlen > AUTH_PASSWORD_MAX) snprintf(uf.e_password, MSG_CAP, "a password is at most %d bytes",
                                                   AUTH_PASSWORD_MAX);
        else {
            memcpy(pw, pf->value, pf->vlen + 1);
            if (auth_password_check(pw, uf.email, have_org ? org.name : uf.org, &err) != SP_OK)
                msg_of(&err, "password", uf.e_password);
            if (!uf.e_password[0] && err.n) snprintf(uf.e_password, MSG_CAP, "this password is refused");
        }
    } else {
        unsigned char raw[GEN_PW_BYTES];
        randombytes_buf(raw, sizeof raw);
        sodium_bin2base64(pw, sizeof pw, raw, sizeof raw, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
        sodium_memzero(raw, sizeof raw);
        generated = 1;
    }
    if (uf.e_email[0] || uf.e_org[0] || uf.e_role[0] || uf.e_password[0]) {
        snprintf(uf.note, MSG_CAP, "The account was not added; see the messages next to the fields.");
        rc = users_page(r, out, 422, &uf);
        goto done;
    }
    sp_err_free(&err);
    sp_err_init(&err);
    long long id = 0;
    auth_user u;
    memset(&u, 0, sizeof u);
    rc = store_begin(s);
    if (!rc) rc = auth_user_add(a, uf.email, org.name, role, pw, &id, &err);
    if (!rc) rc = auth_user_find(a, uf.email, &u);
    if (!rc) rc = audit_admin(r, "admin.user.add", u.org_id, u.email, "role", auth_role_name(role), "user", id);
    if (!rc) rc = store_commit(s);
    else if (store_in_transaction(s)) store_rollback(s);
    if (rc == SP_EINPUT || rc == SP_EEXIST || rc == SP_EUSAGE) {
        msg_of(&err, "email", uf.e_email);
        msg_of(&err, "org", uf.e_org);
        msg_of(&err, "role", uf.e_role);
        msg_of(&err, "password", uf.e_password);
        if (!uf.e_email[0] && !uf.e_org[0] && !uf.e_role[0] && !uf.e_password[0])
            snprintf(uf.e_email, MSG_CAP, "%s", err.n && err.items[0].message ? err.items[0].message
                                                                               : "refused");
        snprintf(uf.note, MSG_CAP, "The account was not added; see the messages next to the fields.");
        rc = users_page(r, out, 422, &uf);
    } else if (rc == SP_OK && generated) {
        sp_buf *b = &out->body;
        portal_page_start(out, "Account added");
        nav(b);
        sp_buf_printf(b, "<h1>Account added</h1>\n<p id=\"added\">Account %lld: ", id);
        sp_buf_add_htmls(b, u.email);
        sp_buf_adds(b, " (");
        sp_buf_add_htmls(b, u.org_name ? u.org_name : "");
        sp_buf_printf(b, ", %s).</p>\n<p>Its initial password, shown only this once: <code id=\"new-password\">"
                         "%s</code></p>\n<p>Give it to the person over another channel than the email "
                         "address. It is not stored in clear anywhere.</p>\n"
                         "<p><a href=\"/admin/users\">Back to the users</a></p>\n",
                      auth_role_name(role), pw);
        rc = portal_page_end(out);
    } else if (rc == SP_OK) {
        rc = portal_redirect(out, "/admin/users?done=1", NULL);
    }
    auth_user_free(&u);
done:
    sodium_memzero(pw, sizeof pw);
    if (have_org) store_org_free(&org);
    sp_err_free(&err);
    return rc;
}

/* The account with this id into u (SP_EOF if none). */
static int user_by_id(auth *a, long long id, auth_user *u)
{
    auth_user *list = NULL;
    size_t n = 0;
    memset(u, 0, sizeof *u);
    int rc = auth_user_list(a, &list, &n);
    if (rc) return rc;
    rc = SP_EOF;
    for (size_t i = 0; i < n; i++) {
        if (list[i].id == id && rc == SP_EOF) {
            *u = list[i];
            memset(&list[i], 0, sizeof list[i]);
            rc = SP_OK;
        }
        auth_user_free(&list[i]);
    }
    free(list);
    return rc;
}

static int user_set_disabled(const portal_req *r, long long id, int dis, serve_reply *out)
{
    sp_store *s = r->ctx->store;
    auth *a = portal_auth(r->pt);
    auth_user u;
    int rc = user_by_id(a, id, &u);
    if (rc == SP_EOF) return portal_message(out, 404, "Not found", "there is no account with this number");
    if (rc) return rc;
    if (dis && u.id == r->who->p.user_id) {
        user_form uf;
        memset(&uf, 0, sizeof uf);
        uf.email = uf.org = uf.role = "";
        snprintf(uf.note, MSG_CAP, "You cannot disable your own account: another administrator must.");
        rc = users_page(r, out, 422, &uf);
        goto done;
    }
    rc = store_begin(s);
    if (!rc) rc = auth_user_set_disabled(a, u.email, dis);
    if (!rc) rc = audit_admin(r, dis ? "admin.user.disable" : "admin.user.enable", u.org_id, u.email,
                              NULL, NULL, "user", u.id);
    if (!rc) rc = store_commit(s);
    else if (store_in_transaction(s)) store_rollback(s);
    if (!rc) rc = portal_redirect(out, "/admin/users?done=1", NULL);
done:
    auth_user_free(&u);
    return rc;
}

static int token_revoke(const portal_req *r, long long uid, long long tid, serve_reply *out)
{
    sp_store *s = r->ctx->store;
    auth *a = portal_auth(r->pt);
    auth_token_info *toks = NULL;
    size_t nt = 0;
    int rc = auth_token_list(a, &toks, &nt), found = 0;
    char email[AUTH_EMAIL_MAX + 1] = "";
    if (rc) return rc;
    for (size_t i = 0; i < nt; i++) {
        if (toks[i].id == tid && toks[i].user_id == uid && !toks[i].revoked) {
            found = 1;
            snprintf(email, sizeof email, "%s", toks[i].email ? toks[i].email : "");
        }
        auth_token_info_free(&toks[i]);
    }
    free(toks);
    if (!found) return portal_message(out, 404, "Not found", "this account has no live token with this number");
    auth_user u;
    if ((rc = user_by_id(a, uid, &u)) && rc != SP_EOF) return rc;
    long long org = rc == SP_OK ? u.org_id : 0;
    auth_user_free(&u);
    rc = store_begin(s);
    if (!rc) rc = auth_token_revoke(a, tid);
    if (!rc) rc = audit_admin(r, "admin.token.revoke", org, email, NULL, NULL, "token", tid);
    if (!rc) rc = store_commit(s);
    else if (store_in_transaction(s)) store_rollback(s);
    if (rc == SP_EOF) return portal_message(out, 404, "Not found", "this account has no live token with this number");
    if (!rc) rc = portal_redirect(out, "/admin/users?done=1", NULL);
    return rc;
}

/* ------------------------------------------------------------ dispatch */

/* Reads a positive number at *p (up to 15 digits) and moves past it. */
static long long path_num(const char **p)
{
    long long v = 0;
    int k = 0;
    while (**p >= '0' && **p <= '9' && k < 15) v = v * 10 + (*(*p)++ - '0'), k++;
    if (k == 0 || (**p >= '0' && **p <= '9')) return 0;
    return v;
}

int admin_handle(const portal_req *r, serve_reply *out)
{
    const portal_who *w = r->who;
    const char *path = r->req->path;
    int post = r->req->method == HTTP_POST;
    portal_form f = {0};
    const char *why = NULL;
    int rc;
    if (!auth_can(&w->p, AUTH_MANAGE_USERS, 0) || !auth_can(&w->p, AUTH_MANAGE_ORGS, 0)) {
        rc = audit_admin(r, "admin.refused", w->p.org_id, path, "method", post ? "POST" : "GET", NULL, 0);
        if (!rc) rc = portal_message(out, 403, "Refused", "this area is for administrators");
        return rc;
    }
    /* which address: 1 overview, 2 audit, 3 orgs, 4 users, 5/6 disable/enable, 7 revoke */
    int which = 0;
    long long uid = 0, tid = 0;
    if (strcmp(path, "/admin") == 0 || strcmp(path, "/admin/") == 0) which = 1;
    else if (strcmp(path, "/admin/audit") == 0) which = 2;
    else if (strcmp(path, "/admin/orgs") == 0) which = 3;
    else if (strcmp(path, "/admin/users") == 0) which = 4;
    else if (strncmp(path, "/admin/users/", 13) == 0) {
        const char *p = path + 13;
        uid = path_num(&p);
        if (uid && strcmp(p, "/disable") == 0) which = 5;
        else if (uid && strcmp(p, "/enable") == 0) which = 6;
        else if (uid && strncmp(p, "/tokens/", 8) == 0) {
            p += 8;
            tid = path_num(&p);
            if (tid && strcmp(p, "/revoke") == 0) which = 7;
        }
    }
    if (!which) return portal_message(out, 404, "Not found", "there is nothing at this address");
    if (which <= 2 && post) return method_not_allowed(out, 0);
    if (which >= 5 && !post) return method_not_allowed(out, 1);
    if (!post) {
        if (which == 1) return overview(r, out);
        if (which == 2) return audit_page(r, out);
        if (which == 3) return orgs_page(r, out, 200, NULL);
        return users_page(r, out, 200, NULL);
    }
    if (portal_form_urlencoded(r->body, r->blen, &f, &why)) {
        rc = portal_message(out, 400, "Bad form", why);
        goto done;
    }
    if (!portal_csrf_ok(r->pt, w, &f)) {
        rc = portal_message(out, 403, "Refused", "this form is not valid for your session");
        goto done;
    }
    if (which == 3) rc = org_add(r, &f, out);
    else if (which == 4) rc = user_add(r, &f, out);
    else if (which == 5 || which == 6) rc = user_set_disabled(r, uid, which == 5, out);
    else rc = token_revoke(r, uid, tid, out);
done:
    portal_form_free(&f);
    return rc;
}
