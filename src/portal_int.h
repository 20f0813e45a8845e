/* portal_int.h -- what the signed-in areas share: the portal's own pages
 * (portal.c), the case form and records (portal_cases.c), the admin pages
 * (admin.c) and the analyst pages (analyst*.c). Not for other modules.
 *
 * portal_handle (portal.c) finds the principal, then hands a request whose
 * path belongs to an area to that area's handler with a portal_req. Every
 * area decides with auth_can (auth.h), checks CSRF on every POST
 * (portal_csrf_ok), writes HTML only through sp_buf_add_html*, and audits
 * every view or export of case-level data (audit.h). Replies are never
 * cached (no-store is set by portal_handle). */
#ifndef SP_PORTAL_INT_H
#define SP_PORTAL_INT_H

#include "portal.h"

/* Who is asking. */
typedef struct portal_who {
    auth_principal p;
    int via_session;
    char session[AUTH_SESSION_CHARS + 1];   /* the cookie's value when via_session */
    char actor[64];                         /* "user:ID" or "anonymous": for the audit log */
} portal_who;

/* One request to an area: everything portal_handle knows. Borrowed. */
typedef struct portal_req {
    portal *pt;
    serve_ctx *ctx;                /* the worker's store (ctx->store), codebook, .. */
    const http_request *req;
    const char *body;              /* the request body (blen bytes; not NUL-terminated) */
    size_t blen;
    const char *remote;            /* the peer's address */
    const portal_who *who;         /* signed in (who->p.user_id != 0) */
} portal_req;

auth *portal_auth(portal *pt);

/* An HTML page in the portal's frame (title escaped); start, add to
 * out->body, end. */
void portal_page_start(serve_reply *out, const char *title);
int portal_page_end(serve_reply *out);
/* A whole page: a heading and one message (both escaped). */
int portal_message(serve_reply *out, int status, const char *title, const char *msg);
/* 303 to loc (a path of this site), with a Set-Cookie when cookie != NULL. */
int portal_redirect(serve_reply *out, const char *loc, const char *cookie);
/* Appends a header line ("Name: value\r\n") to the reply. */
void portal_add_extra(serve_reply *out, const char *line);
/* The hidden CSRF input of the session; the check of a submitted form
 * (a bearer token needs none: no ambient authority). */
void portal_csrf_field(portal *pt, const portal_who *w, sp_buf *b);
int portal_csrf_ok(portal *pt, const portal_who *w, const portal_form *f);
/* The organisation's name; SP_EOF when there is none with that id. */
int portal_org_name(sp_store *s, long long id, char *out, size_t cap);

/* ---- the case form and the organisation's records (portal_cases.c,
 * docs/caseform.md): GET /portal/records, GET|POST /portal/cases/new,
 * GET|POST /portal/records/ID/edit. */
int portal_cases_owns(const char *path);   /* 1: the path is one of these */
int portal_cases_handle(const portal_req *r, serve_reply *out);

#endif
