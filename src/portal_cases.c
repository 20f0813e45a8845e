/* portal_cases.c -- the case form and the organisation's own records in
 * the partner portal (docs/caseform.md, "Routes"):
 *
 *   GET  /portal/records             the organisation's records, 50 a page
 *   GET  /portal/cases/new           the empty case form
 *   POST /portal/cases/new           a new record as a submission of its own
 *   GET  /portal/records/ID/edit     the form filled with record ID
 *   POST /portal/records/ID/edit     record ID replaced in place
 *
 * Raw records are only ever shown to their own organisation: a record of
 * another organisation is "not found" (404) for every role, admins and
 * analysts included, so an id says nothing about what exists. Reading
 * needs VIEW_OWN_RECORDS, a new case UPLOAD (it is a submission), an edit
 * EDIT_OWN_RECORDS (auth.h). Every view of case-level data and every
 * write is audited; writes are audited in their own transaction. */
#include "portal_int.h"
#include "caseform.h"
#include "import.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define CASES_PAGE 50              /* records on one page of /portal/records */
#define CASES_PAGE_MAX 1000000     /* highest page number accepted */
#define NEW_PATH "/portal/cases/new"
#define LIST_PATH "/portal/records"
#define REC_PREFIX "/portal/records/"
#define EDIT_SUFFIX "/edit"

/* The countries whose provinces the menus offer, besides the organisation's
 * own and those already chosen (caseform adds those): the hub's usual
 * ones. With them the page is about 0.3 MB instead of 1.5 MB. */
static const char *const hub_countries[] = {"KH", "LA", "MM", "TH", "VN", "PH", "ID", "MY", "CN"};
#define NHUB (sizeof hub_countries / sizeof hub_countries[0])

int portal_cases_owns(const char *path)
{
    return strcmp(path, LIST_PATH) == 0 || strcmp(path, NEW_PATH) == 0 ||
           strncmp(path, REC_PREFIX, sizeof REC_PREFIX - 1) == 0;
}

/* The record id of "/portal/records/ID/edit", or 0. */
static long long edit_id(const char *path)
{
    size_t pl = sizeof REC_PREFIX - 1, sl = sizeof EDIT_SUFFIX - 1, n = strlen(path);
    if (n <= pl + sl || strncmp(path, REC_PREFIX, pl) != 0 || strcmp(path + n - sl, EDIT_SUFFIX) != 0)
        return 0;
    long long id = 0;
    size_t i = pl;
    for (; i < n - sl && path[i] >= '0' && path[i] <= '9' && id < 1000000000000LL; i++)
        id = id * 10 + (path[i] - '0');
    return i == n - sl ? id : 0;
}

static int not_found(serve_reply *out)
{
    return portal_message(out, 404, "Not found", "there is nothing at this address");
}

/* The organisation's country (alpha-2) into out[3]; "" when unknown. */
static int org_country(sp_store *s, long long id, char out[3])
{
    sp_org *orgs = NULL;
    size_t n = 0;
    out[0] = '\0';
    int rc = store_org_list(s, &orgs, &n);
    if (rc) return rc;
    for (size_t i = 0; i < n; i++) {
        if (orgs[i].id == id && orgs[i].country && strlen(orgs[i].country) == 2)
            memcpy(out, orgs[i].country, 3);
        store_org_free(&orgs[i]);
    }
    free(orgs);
    return SP_OK;
}

/* The form in the portal's page: a heading, a way back, the form (with the
 * values typed and the errors when given). */
static int form_page(const portal_req *r, serve_reply *out, int status, const char *title,
                     const char *action, const char *submit, const caseform_values *v,
                     const caseform_errors *e)
{
    char cc[3];
    const char *countries[NHUB + 1];
    size_t nc = 0;
    int rc = org_country(r->ctx->store, r->who->p.org_id, cc);
    if (rc) return rc;
    if (cc[0]) countries[nc++] = cc;
    for (size_t i = 0; i < NHUB; i++)
        if (!cc[0] || strcmp(cc, hub_countries[i]) != 0) countries[nc++] = hub_countries[i];
    caseform_opts o = {countries, nc, "/static/caseform.css", submit};
    char tok[AUTH_CSRF_CHARS + 1] = "";
    const portal_who *w = r->who;
    if (w->session[0]) auth_csrf_token(portal_auth(r->pt), w->session, strlen(w->session), tok);
    out->status = status;
    portal_page_start(out, title);
    sp_buf *b = &out->body;
    sp_buf_adds(b, "<h1>");
    sp_buf_add_htmls(b, title);
    sp_buf_adds(b, "</h1>\n<p><a href=\"/portal/records\">Records</a> · "
                   "<a href=\"/portal\">Back to the portal</a></p>\n");
    rc = caseform_render_opts(b, r->ctx->cb, v, e, action, tok[0] ? tok : NULL, &o);
    if (rc) return rc;
    return portal_page_end(out);
}

/* The body of a POST as pairs, its CSRF token checked. Returns SP_OK with
 * *answered = 0 when the caller goes on, or with *answered = 1 and the
 * refusal in out (400, 403, 413, 415). */
static int read_post(const portal_req *r, serve_reply *out, portal_pairs *pp, int *answered)
{
    const char *why = NULL;
    *answered = 1;
    const http_header *ct = http_header_get(r->req, "Content-Type");
    static const char form_type[] = "application/x-www-form-urlencoded";
    size_t tl = sizeof form_type - 1;
    if (r->blen && (!ct || ct->vlen < tl || strncasecmp(ct->value, form_type, tl) != 0 ||
                    (ct->vlen > tl && ct->value[tl] != ';' && ct->value[tl] != ' ')))
        return portal_message(out, 415, "Bad form",
                              "the case form is sent as application/x-www-form-urlencoded");
    int prc = portal_form_pairs(r->body, r->blen, CASEFORM_MAX_PAIRS, pp, &why);
    if (prc == -2) {
        char msg[128];
        snprintf(msg, sizeof msg, "the form has more than %d fields", CASEFORM_MAX_PAIRS);
        return portal_message(out, 413, "Form too large", msg);
    }
    if (prc) return portal_message(out, 400, "Bad form", why);
    const portal_who *w = r->who;
    if (w->via_session) {
        const http_param *t = NULL;
        for (size_t i = 0; i < pp->n && !t; i++)
            if (strcmp(pp->p[i].key, CASEFORM_CSRF_NAME) == 0) t = &pp->p[i];
        if (!t || !w->session[0] ||
            !auth_csrf_check(portal_auth(r->pt), w->session, strlen(w->session), t->value, t->vlen))
            return portal_message(out, 403, "Refused", "this form is not valid for your session");
    }
    *answered = 0;
    return SP_OK;
}

/* The import's own checks of identifiers (indicator match keys and clear
 * values, which are normalised in place): its errors join the form's, by
 * the input the import names. Returns SP_OK or SP_EINPUT. */
static int check_identifiers(const sp_codebook *cb, sp_record *rec, caseform_errors *e)
{
    sp_err err;
    sp_err_init(&err);
    int rc = import_record_identifiers(cb, rec, &err);
    for (size_t i = 0; rc && i < err.n; i++) {
        const sp_problem *p = &err.items[i];
        if (p->warning) continue;
        e->count++;
        if (e->n >= CASEFORM_MAX_ERRORS) continue;
        if (e->n == e->alloc) {
            e->alloc = e->alloc ? e->alloc * 2 : 16;
            e->items = sp_xrealloc(e->items, e->alloc * sizeof *e->items);
        }
        caseform_error *it = &e->items[e->n++];
        it->name = sp_arena_strdup(&e->arena, p->column ? p->column : "");
        it->rule = sp_arena_strdup(&e->arena, p->rule ? p->rule : "invalid");
        it->message = sp_arena_strdup(&e->arena, p->message ? p->message : "invalid value");
    }
    sp_err_free(&err);
    return rc ? SP_EINPUT : SP_OK;
}

/* ------------------------------------------------------------ the list */

static const char *cell_text(const sp_record *rec, const char *field)
{
    const cb_field *f = codebook_field(rec->cb, field);
    const cb_cell *c = f && f->type != CB_GROUP ? record_get(rec, f->index) : NULL;
    if (c && c->text && f->type == CB_AGE && c->lo == c->hi) {
        static _Thread_local char age[16];       /* an exact age reads "27", not "27-27" */
        snprintf(age, sizeof age, "%d", c->lo);
        return age;
    }
    return c && c->text ? c->text : "";
}

static int list_page(const portal_req *r, serve_reply *out)
{
    const portal_who *w = r->who;
    sp_store *s = r->ctx->store;
    if (!auth_can(&w->p, AUTH_VIEW_OWN_RECORDS, w->p.org_id))
        return portal_message(out, 403, "Refused", "your account may not read records");
    long long page = 1;
    for (size_t i = 0; i < r->req->nparams; i++) {
        const http_param *q = &r->req->params[i];
        if (strcmp(q->key, "page") != 0) continue;
        long long v = 0;
        if (sp_parse_int(q->value, q->vlen, &v) || v < 1 || v > CASES_PAGE_MAX)
            return portal_message(out, 400, "Bad page", "page must be a whole number from 1");
        page = v;
    }
    long long ids[CASES_PAGE], total = 0;
    size_t n = 0;
    int rc = store_case_page(s, w->p.org_id, (page - 1) * CASES_PAGE, CASES_PAGE, ids, &n, &total);
    if (rc) return rc;
    sp_buf det;
    sp_buf_init(&det, 256);
    audit_detail_int(&det, "page", page);
    audit_detail_int(&det, "records", (long long)n);
    rc = audit_append(s, w->actor, w->p.org_id, "view_records", "records", r->remote,
                      audit_detail_end(&det));
    sp_buf_free(&det);
    if (rc) return rc;      /* no view without its entry */

    int can_edit = auth_can(&w->p, AUTH_EDIT_OWN_RECORDS, w->p.org_id);
    long long pages = total ? (total + CASES_PAGE - 1) / CASES_PAGE : 1;
    portal_page_start(out, "Records");
    sp_buf *b = &out->body;
    sp_buf_printf(b, "<h1>Records</h1>\n<p id=\"record-count\">%lld record%s of your organisation; "
                     "page %lld of %lld, newest first.</p>\n",
                  total, total == 1 ? "" : "s", page, pages);
    sp_buf_adds(b, "<p>");
    if (auth_can(&w->p, AUTH_UPLOAD, w->p.org_id))
        sp_buf_adds(b, "<a href=\"/portal/cases/new\">New case</a> · ");
    sp_buf_adds(b, "<a href=\"/portal\">Back to the portal</a></p>\n");
    sp_buf_adds(b, "<table id=\"records\">\n<thead><tr><th>Id</th><th>Case</th><th>Year</th>"
                   "<th>Gender</th><th>Age</th><th>Nationality</th><th>Submission</th>"
                   "<th>Status</th><th></th></tr></thead>\n<tbody>\n");
    sp_record rec;
    record_init(&rec, r->ctx->cb);
    for (size_t i = 0; i < n && !rc; i++) {
        sp_case_info info;
        rc = store_case_get(s, ids[i], &rec, &info);
        if (rc == SP_EOF) {          /* deleted since the page was listed */
            rc = SP_OK;
            continue;
        }
        if (rc) break;
        if (info.org_id != w->p.org_id) continue;
        sp_buf_printf(b, "<tr><td>%lld</td><td>", info.id);
        static const char *const cols[] = {"case_ref", "year_identified", "gender", "age",
                                           "nationality"};
        for (size_t k = 0; k < sizeof cols / sizeof cols[0]; k++) {
            if (k) sp_buf_adds(b, "</td><td>");
            sp_buf_add_htmls(b, cell_text(&rec, cols[k]));
        }
        sp_buf_printf(b, "</td><td>%lld: ", info.submission_id);
        sp_buf_add_htmls(b, info.filename);
        sp_buf_printf(b, "</td><td>%s</td><td>", info.withdrawn ? "withdrawn" : "stored");
        if (can_edit && !info.withdrawn)
            sp_buf_printf(b, "<a href=\"/portal/records/%lld/edit\">Edit</a>", info.id);
        sp_buf_adds(b, "</td></tr>\n");
    }
    record_free(&rec);
    if (rc) return rc;
    sp_buf_adds(b, "</tbody>\n</table>\n<p class=\"pager\">");
    if (page > 1) sp_buf_printf(b, "<a href=\"/portal/records?page=%lld\" rel=\"prev\">Newer</a> ", page - 1);
    if (page < pages) sp_buf_printf(b, "<a href=\"/portal/records?page=%lld\" rel=\"next\">Older</a>", page + 1);
    sp_buf_adds(b, "</p>\n");
    return portal_page_end(out);
}

/* ------------------------------------------------------------ new case */

static int new_case(const portal_req *r, serve_reply *out, int post)
{
    const portal_who *w = r->who;
    sp_store *s = r->ctx->store;
    portal_pairs pp = {0};
    caseform_values v;
    caseform_errors e;
    sp_record rec;
    caseform_values_init(&v);
    caseform_errors_init(&e);
    record_init(&rec, r->ctx->cb);
    int rc = SP_OK, answered = 0;
    if (post && ((rc = read_post(r, out, &pp, &answered)) || answered)) goto done;
    if (!auth_can(&w->p, AUTH_UPLOAD, w->p.org_id)) {
        rc = portal_message(out, 403, "Refused", "your account may not submit cases");
        goto done;
    }
    if (!post) {
        rc = form_page(r, out, 200, "New case", NEW_PATH, "Save case", NULL, NULL);
        goto done;
    }
    if (caseform_parse(r->ctx->cb, pp.p, pp.n, &rec, &v, &e) != SP_OK ||
        check_identifiers(r->ctx->cb, &rec, &e) != SP_OK) {
        rc = form_page(r, out, 422, "New case", NEW_PATH, "Save case", &v, &e);
        goto done;
    }
    char sha[65], tgt[64];
    sp_sha256_hex(r->body, r->blen, sha);
    long long sub = 0, id = 0;
    sp_buf det;
    sp_buf_init(&det, 256);
    if ((rc = store_begin(s))) {
        sp_buf_free(&det);
        goto done;
    }
    /* The same form sent again (a double click on "Save case", a reload
     * that re-posts, a retry on a slow line): the body, CSRF token
     * included, hashes the same as a case of this session already
     * stored, so it is that case, not a new one. Checked inside the write
     * transaction, so two such requests at once store one case. */
    long long again = 0;
    rc = store_submission_find_sha(s, w->p.org_id, sha, &again);
    if (rc == SP_OK) {
        store_rollback(s);
        sp_buf_free(&det);
        rc = portal_redirect(out, LIST_PATH, NULL);
        goto done;
    }
    rc = rc == SP_EOF ? store_case_add(s, w->p.org_id, &rec, sha, &sub, &id) : rc;
    if (!rc) rc = import_record_keys(s, r->ctx->cb, &rec, id);   /* as an import does */
    if (!rc) {
        snprintf(tgt, sizeof tgt, "record:%lld", id);
        audit_detail_int(&det, "submission", sub);
        audit_detail_str(&det, "file", "web form");
        rc = audit_append(s, w->actor, w->p.org_id, "case_add", tgt, r->remote, audit_detail_end(&det));
    }
    if (!rc) rc = store_commit(s);
    if (rc) store_rollback(s);
    sp_buf_free(&det);
    if (!rc) rc = portal_redirect(out, LIST_PATH, NULL);
done:
    portal_pairs_free(&pp);
    caseform_values_free(&v);
    caseform_errors_free(&e);
    record_free(&rec);
    return rc;
}

/* ------------------------------------------------------------ edit */

/* Loads record id for w: SP_EOF (answer 404) when there is none or it is
 * another organisation's. */
static int load_own(const portal_req *r, long long id, sp_record *rec, sp_case_info *info)
{
    int rc = store_case_get(r->ctx->store, id, rec, info);
    if (rc) return rc;
    if (info->org_id != r->who->p.org_id || r->who->p.org_id <= 0 ||
        !auth_can(&r->who->p, AUTH_VIEW_OWN_RECORDS, info->org_id))
        return SP_EOF;
    return SP_OK;
}

static int edit_case(const portal_req *r, serve_reply *out, long long id, int post)
{
    const portal_who *w = r->who;
    sp_store *s = r->ctx->store;
    portal_pairs pp = {0};
    caseform_values v;
    caseform_errors e;
    sp_record rec;
    sp_case_info info;
    char action[96], tgt[64];
    caseform_values_init(&v);
    caseform_errors_init(&e);
    record_init(&rec, r->ctx->cb);
    snprintf(action, sizeof action, REC_PREFIX "%lld" EDIT_SUFFIX, id);
    snprintf(tgt, sizeof tgt, "record:%lld", id);
    int rc = SP_OK, answered = 0;
    if (post && ((rc = read_post(r, out, &pp, &answered)) || answered)) goto done;
    rc = load_own(r, id, &rec, &info);
    if (rc == SP_EOF) {
        rc = not_found(out);
        goto done;
    }
    if (rc) goto done;
    if (!auth_can(&w->p, AUTH_EDIT_OWN_RECORDS, info.org_id)) {
        rc = portal_message(out, 403, "Refused", "your account may not change records");
        goto done;
    }
    if (info.withdrawn) {
        rc = portal_message(out, 409, "Withdrawn",
                            "this record's submission was withdrawn; it cannot be edited");
        goto done;
    }
    if (!post) {
        /* the form shows the record's case-level data: a view */
        if ((rc = audit_append(s, w->actor, info.org_id, "view_record", tgt, r->remote, NULL))) goto done;
        if ((rc = caseform_values_from_record(&v, &rec))) goto done;
        char title[64];
        snprintf(title, sizeof title, "Record %lld", id);
        rc = form_page(r, out, 200, title, action, "Save changes", &v, NULL);
        goto done;
    }
    if (caseform_parse(r->ctx->cb, pp.p, pp.n, &rec, &v, &e) != SP_OK ||
        check_identifiers(r->ctx->cb, &rec, &e) != SP_OK) {
        char title[64];
        snprintf(title, sizeof title, "Record %lld", id);
        rc = form_page(r, out, 422, title, action, "Save changes", &v, &e);
        goto done;
    }
    /* checked again inside the write: it may have been withdrawn since */
    if ((rc = store_begin(s))) goto done;
    sp_record cur;
    sp_case_info now;
    record_init(&cur, r->ctx->cb);
    int conflict = 0;
    rc = store_case_get(s, id, &cur, &now);
    if (rc == SP_EOF || (!rc && (now.org_id != info.org_id || now.withdrawn))) {
        conflict = 1;
        rc = SP_OK;
    }
    /* the form has no inputs for the fields spotlight encode made
     * (person_clk, ..): they stay as stored, or the person would drop out
     * of linking with every edit */
    const sp_codebook *cb = r->ctx->cb;
    for (size_t f = 0; f < cb->nfields && !rc && !conflict; f++) {
        const cb_cell *c = cb->fields[f].encoded ? record_get(&cur, (int)f) : NULL;
        if (!c || !c->text || record_get(&rec, (int)f)) continue;
        cb_cell copy = *c;
        copy.text = sp_arena_strdup(&rec.arena, c->text);
        rc = record_add(&rec, (int)f, &copy);
    }
    record_free(&cur);
    if (!rc && !conflict) rc = store_case_replace(s, id, &rec);
    /* the old match keys went with the old cells */
    if (!rc && !conflict) rc = import_record_keys(s, r->ctx->cb, &rec, id);
    if (!rc && !conflict) {
        sp_buf det;
        sp_buf_init(&det, 256);
        audit_detail_int(&det, "submission", info.submission_id);
        rc = audit_append(s, w->actor, info.org_id, "case_edit", tgt, r->remote, audit_detail_end(&det));
        sp_buf_free(&det);
    }
    if (!rc && !conflict) {
        if ((rc = store_commit(s))) store_rollback(s);
    } else {
        store_rollback(s);
    }
    if (rc) goto done;
    if (conflict)
        rc = portal_message(out, 409, "Withdrawn",
                            "this record's submission was withdrawn; it cannot be edited");
    else
        rc = portal_redirect(out, LIST_PATH, NULL);
done:
    portal_pairs_free(&pp);
    caseform_values_free(&v);
    caseform_errors_free(&e);
    record_free(&rec);
    return rc;
}

/* ------------------------------------------------------------ dispatch */

int portal_cases_handle(const portal_req *r, serve_reply *out)
{
    const char *path = r->req->path;
    int post = r->req->method == HTTP_POST;
    if (strcmp(path, LIST_PATH) == 0) {
        if (post) {
            portal_add_extra(out, "Allow: GET, HEAD\r\n");
            return portal_message(out, 405, "Not allowed", "this address answers GET and HEAD");
        }
        return list_page(r, out);
    }
    if (strcmp(path, NEW_PATH) == 0) return new_case(r, out, post);
    long long id = edit_id(path);
    if (id > 0) return edit_case(r, out, id, post);
    return not_found(out);
}
