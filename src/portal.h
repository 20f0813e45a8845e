/* portal.h -- the partner portal's server side: sign-in and sign-out, the
 * organisation's submissions and their withdrawal, uploads with the
 * validation report, template downloads, and POST /api/v1/submissions for
 * scripts with an API token. serve.c routes these addresses here with the
 * request body and the peer's address; replies are never cached.
 *
 * Every decision goes through auth_can (auth.h). State-changing forms of
 * a session need its CSRF token (field "csrf"); the login form, which has
 * no session yet, uses a double-submit pre-session cookie (sp_login,
 * SameSite=Strict, HttpOnly) whose value the form repeats, and refuses a
 * cross-site Origin. */
#ifndef SP_PORTAL_H
#define SP_PORTAL_H

#include "audit.h"
#include "auth.h"
#include "serve.h"

#define PORTAL_FORM_MAX (64u << 10)       /* urlencoded forms */
#define PORTAL_UPLOAD_MAX (20u << 20)     /* uploads and API bodies */
#define PORTAL_FIELDS_MAX 32              /* fields of one form */
#define PORTAL_REPORT_MAX 1000            /* problems shown of a refused upload */
#define PORTAL_CASE_FORM_MAX (1u << 20)   /* the case form's body (portal_cases.c) */

typedef struct portal portal;

/* Per worker: an auth handle on the worker's store. SP_EUSAGE (reason in
 * err) when the hub has no secret. */
int portal_open(portal **out, sp_store *s, sp_err *err);
void portal_close(portal *p);   /* NULL is fine */

/* The hub is served behind TLS (spotlight serve --behind-tls): the
 * session and sign-in cookies carry Secure. */
void portal_set_behind_tls(portal *p, int on);

/* Answers one request to a portal address. body[0..blen) is the request
 * body (blen 0: none); remote is the peer's address. Sets the audit
 * context of this thread (the caller clears it). Returns SP_OK with out
 * filled, or an error code for a server failure (a 500). */
int portal_handle(portal *p, serve_ctx *ctx, const http_request *req, const char *body,
                  size_t blen, const char *remote, serve_reply *out);

/* ---- form bodies (pure functions, fuzzed by fuzz/fuzz_forms.c) */
typedef struct portal_field {
    const char *name;          /* NUL-terminated, in the form's scratch */
    const char *value;         /* text fields: decoded, NUL-terminated, valid
                                  UTF-8; a file part: its raw bytes in the body */
    size_t vlen;
    const char *filename;      /* a file part's name (NUL-terminated), else NULL */
    int is_file;
} portal_field;

typedef struct portal_form {
    portal_field f[PORTAL_FIELDS_MAX];
    size_t n;
    char *scratch;             /* owned */
    size_t slen, scap;
} portal_form;

/* application/x-www-form-urlencoded: '+' is a space, %XX decoded; refuses
 * (-1, *why) bad escapes, NUL, invalid UTF-8, an empty name, more than
 * PORTAL_FIELDS_MAX fields. The form is filled from scratch each call. */
int portal_form_urlencoded(const char *body, size_t n, portal_form *f, const char **why);
/* multipart/form-data with the boundary of the Content-Type value ct[0..ctn):
 * text fields (valid UTF-8, no NUL) and file parts (at most one). */
int portal_form_multipart(const char *ct, size_t ctn, const char *body, size_t n,
                          portal_form *f, const char **why);
/* A urlencoded body as up to max_pairs (name, value) pairs (the case form
 * sends up to CASEFORM_MAX_PAIRS, beyond the 32 of portal_form): decoded
 * and checked as portal_form_urlencoded does. Returns 0, -1 (*why says
 * why: malformed) or -2 (more than max_pairs; *why says so). The pairs
 * and their text are owned by pp (portal_pairs_free). */
typedef struct portal_pairs {
    http_param *p;
    size_t n;
    portal_form sc;            /* its scratch holds the text */
} portal_pairs;
int portal_form_pairs(const char *body, size_t n, size_t max_pairs, portal_pairs *pp,
                      const char **why);
void portal_pairs_free(portal_pairs *pp);
/* First field named `name`, or NULL. */
const portal_field *portal_form_get(const portal_form *f, const char *name);
void portal_form_free(portal_form *f);

#endif
