/* analyst_links.c -- see analyst_links.h. Reads person links through
 * store_link_list (organisation names and record ids only) and records
 * decisions with store_link_decide, which recomputes who is counted once
 * in the same transaction as the audit entry. */
#include "analyst_links.h"
#include "audit.h"
#include "auth.h"
#include "link.h"
#include "store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PREFIX "/analyst/links"
#define PREFIX_LEN (sizeof PREFIX - 1)
#define MAX_ROWS 2000               /* rows drawn at most; the count says so */

int analyst_links_owns(const char *path)
{
    return strncmp(path, PREFIX, PREFIX_LEN) == 0 &&
           (path[PREFIX_LEN] == '\0' || path[PREFIX_LEN] == '/');
}

int analyst_links_parse(const char *path, size_t n, long long *a, long long *b, int *confirm)
{
    static const char pre[] = PREFIX "/", conf[] = "/confirm", rej[] = "/reject";
    size_t pl = sizeof pre - 1, cl = sizeof conf - 1, rl = sizeof rej - 1, end;
    if (!path || n <= pl || memcmp(path, pre, pl) != 0) return -1;
    if (n > pl + cl && memcmp(path + n - cl, conf, cl) == 0) { *confirm = 1; end = n - cl; }
    else if (n > pl + rl && memcmp(path + n - rl, rej, rl) == 0) { *confirm = 0; end = n - rl; }
    else return -1;
    return link_parse_pair(path + pl, end - pl, a, b);
}

/* Appends one audit entry under the signed-in user. */
static int audit_links(const portal_req *r, const char *action, const char *target,
                       const char *k1, const char *v1, const char *k2, long long v2)
{
    sp_buf d;
    sp_buf_init(&d, 1024);
    if (k1) audit_detail_str(&d, k1, v1);
    if (k2) audit_detail_int(&d, k2, v2);
    int rc = audit_append(r->ctx->store, r->who->actor, r->who->p.org_id, action, target,
                          r->remote, audit_detail_end(&d));
    sp_buf_free(&d);
    return rc;
}

/* ?status=S (proposed, confirmed, rejected; empty: all) and ?done=1;
 * anything else is a 400. *status NULL: every link. */
static int read_query(const http_request *req, const char **status, int *done)
{
    static const char *const st[] = { "proposed", "confirmed", "rejected" };
    portal_form form = {0};
    const char *why = NULL;
    int rc = -1;
    *status = NULL;
    *done = 0;
    if (!req->raw_query || req->raw_query_len == 0) return 0;
    if (portal_form_urlencoded(req->raw_query, req->raw_query_len, &form, &why)) goto done;
    for (size_t i = 0; i < form.n; i++) {
        const portal_field *x = &form.f[i];
        if (strcmp(x->name, "done") == 0 && strcmp(x->value, "1") == 0) { *done = 1; continue; }
        if (strcmp(x->name, "status") != 0) goto done;
        if (x->vlen == 0) continue;
        int ok = 0;
        for (size_t j = 0; j < 3; j++) if (strcmp(x->value, st[j]) == 0) { *status = st[j]; ok = 1; }
        if (!ok) goto done;
    }
    rc = 0;
done:
    portal_form_free(&form);
    return rc;
}

static void decide_form(const portal_req *r, sp_buf *b, const sp_link_row *l, const char *verb,
                        const char *label)
{
    sp_buf_printf(b, "<form method=\"post\" action=\"" PREFIX "/%lld-%lld/%s\" class=\"inline\">",
                  l->a, l->b, verb);
    portal_csrf_field(r->pt, r->who, b);
    sp_buf_printf(b, "<button type=\"submit\" name=\"do\" value=\"%s\">%s</button></form>", verb,
                  label);
}

static int list_page(const portal_req *r, serve_reply *out)
{
    sp_store *s = r->ctx->store;
    const char *status = NULL;
    int done = 0, rc;
    sp_link_row *l = NULL;
    size_t n = 0;
    long long dups = 0;
    if (read_query(r->req, &status, &done))
        return portal_message(out, 400, "Bad address",
                              "status is proposed, confirmed or rejected; nothing else is asked here");
    if (store_link_list(s, status, &l, &n) || store_dup_count(s, &dups)) {
        store_link_list_free(l, n);
        return portal_message(out, 500, "Error", "the links could not be read");
    }
    /* the view is logged before anything is shown */
    if ((rc = audit_links(r, "link.view", PREFIX, "status", status ? status : "all", "links",
                          (long long)n))) {
        store_link_list_free(l, n);
        return portal_message(out, 500, "Error", "the audit log could not be written, so nothing is shown");
    }
    sp_buf *b = &out->body;
    portal_page_start(out, "Person links");
    sp_buf_adds(b, "<p><a href=\"/portal\">Portal</a> &middot; <a href=\"/analyst\">Investigations</a></p>\n"
                   "<h1>Person links</h1>\n"
                   "<p>Records of different organisations that the hub found to be the same person, "
                   "by comparing the encodings each organisation made of the name, birth date, sex "
                   "and nationality (the hub never sees those). A link that is not rejected makes "
                   "the person count once in every published figure. Shown: record numbers, the "
                   "score, the organisations and the decision; never a record's content.</p>\n");
    if (done) sp_buf_adds(b, "<p class=\"done\" id=\"done\">Saved.</p>\n");
    sp_buf_printf(b, "<p id=\"dups\" data-merged=\"%lld\"><b>%lld</b> record%s counted once through "
                     "another organisation's record.</p>\n", dups, dups, dups == 1 ? " is" : "s are");
    sp_buf_adds(b, "<p class=\"filter\">Show: ");
    const char *opts[] = { "", "proposed", "confirmed", "rejected" };
    const char *labels[] = { "all", "proposed", "confirmed", "rejected" };
    for (int i = 0; i < 4; i++) {
        int cur = (i == 0 && !status) || (status && i && strcmp(status, opts[i]) == 0);
        if (cur) sp_buf_printf(b, "<b>%s</b> ", labels[i]);
        else sp_buf_printf(b, "<a href=\"" PREFIX "%s%s\">%s</a> ", i ? "?status=" : "", opts[i],
                           labels[i]);
    }
    sp_buf_adds(b, "</p>\n");
    if (n == 0) {
        sp_buf_adds(b, "<p id=\"nolinks\">No links. They appear after an administrator runs "
                       "<code>spotlight link</code> on records that carry person encodings.</p>\n");
    } else {
        sp_buf_adds(b, "<table id=\"links\"><thead><tr><th>Records</th><th>Score</th>"
                       "<th>Organisation</th><th>Organisation</th><th>Status</th><th>Decided</th>"
                       "<th>Decision</th></tr></thead><tbody>\n");
        for (size_t i = 0; i < n && i < MAX_ROWS; i++) {
            sp_buf_printf(b, "<tr data-link=\"%lld-%lld\" data-status=\"%s\"><td>%lld &ndash; %lld</td>"
                             "<td>%.3f</td><td>", l[i].a, l[i].b, l[i].status, l[i].a, l[i].b,
                          l[i].score);
            sp_buf_add_htmls(b, l[i].org_a_name ? l[i].org_a_name : "?");
            sp_buf_adds(b, "</td><td>");
            sp_buf_add_htmls(b, l[i].org_b_name ? l[i].org_b_name : "?");
            sp_buf_printf(b, "</td><td>%s%s</td><td>", l[i].status,
                          l[i].live ? "" : " (a record is withdrawn)");
            if (l[i].decided_by) {
                sp_buf_add_htmls(b, l[i].decided_by);
                sp_buf_adds(b, " ");
                sp_buf_add_htmls(b, l[i].decided_at ? l[i].decided_at : "");
            }
            sp_buf_adds(b, "</td><td>");
            if (strcmp(l[i].status, "confirmed") != 0) decide_form(r, b, &l[i], "confirm", "Confirm");
            if (strcmp(l[i].status, "rejected") != 0) decide_form(r, b, &l[i], "reject", "Reject");
            sp_buf_adds(b, "</td></tr>\n");
        }
        sp_buf_adds(b, "</tbody></table>\n");
        if (n > MAX_ROWS)
            sp_buf_printf(b, "<p class=\"more\">%d of %zu links shown; choose a status to see "
                             "fewer.</p>\n", MAX_ROWS, n);
    }
    store_link_list_free(l, n);
    return portal_page_end(out);
}

static int decide(const portal_req *r, long long a, long long b, int confirm, serve_reply *out)
{
    portal_form f = {0};
    const char *why = NULL;
    sp_store *s = r->ctx->store;
    int rc;
    if (portal_form_urlencoded(r->body, r->blen, &f, &why)) {
        rc = portal_message(out, 400, "Bad form", why);
        goto done;
    }
    if (!portal_csrf_ok(r->pt, r->who, &f)) {
        rc = portal_message(out, 403, "Refused", "this form is not valid for your session");
        goto done;
    }
    const char *st = confirm ? "confirmed" : "rejected";
    char target[64];
    if (a > b) { long long t = a; a = b; b = t; }
    snprintf(target, sizeof target, "%lld-%lld", a, b);
    long long dups = 0;
    int r2 = store_begin(s);
    if (r2 == SP_OK) r2 = store_link_decide(s, a, b, st, r->who->actor, &dups);
    if (r2 == SP_OK)
        r2 = audit_links(r, confirm ? "link.confirm" : "link.reject", target, "status", st,
                         "duplicates", dups);
    if (r2 == SP_OK) r2 = store_commit(s);
    if (r2 != SP_OK) {
        store_rollback(s);
        rc = r2 == SP_EOF ? portal_message(out, 404, "Not found", "there is no such link")
                          : portal_message(out, 500, "Error", "the decision could not be stored");
        goto done;
    }
    rc = portal_redirect(out, PREFIX "?done=1", NULL);
done:
    portal_form_free(&f);
    return rc;
}

int analyst_links_handle(const portal_req *r, serve_reply *out)
{
    const portal_who *w = r->who;
    const char *path = r->req->path;
    int post = r->req->method == HTTP_POST;
    if (!auth_can(&w->p, AUTH_VIEW_LINKS, 0)) {
        int rc = audit_links(r, "link.refused", path, "method", post ? "POST" : "GET", NULL, 0);
        if (!rc) rc = portal_message(out, 403, "Refused", "this page is for the hub's analysts");
        return rc;
    }
    if (strcmp(path, PREFIX) == 0 || strcmp(path, PREFIX "/") == 0) {
        if (post) {
            portal_add_extra(out, "Allow: GET, HEAD\r\n");
            return portal_message(out, 405, "Not allowed", "this address answers GET and HEAD");
        }
        return list_page(r, out);
    }
    long long a = 0, b = 0;
    int confirm = 0;
    if (analyst_links_parse(path, strlen(path), &a, &b, &confirm))
        return portal_message(out, 404, "Not found", "there is nothing at this address");
    if (!post) {
        portal_add_extra(out, "Allow: POST\r\n");
        return portal_message(out, 405, "Not allowed", "this address answers POST");
    }
    return decide(r, a, b, confirm, out);
}
