/* admin.h -- the admin area of the hub in the browser (docs/auth.md,
 * "Admin pages"): an overview, the audit log with its chain status,
 * organisations and user accounts (add, disable, enable, revoke a token).
 *
 * portal_handle (portal.c) hands every /admin and /admin/... request of a
 * signed-in principal to admin_handle. Only a principal that auth_can
 * lets manage users and organisations (role admin) gets anything; every
 * other gets 403, on every address and method, before a form is read.
 * Every POST needs the session's CSRF token, is audited ("admin.org.add",
 * "admin.user.add", ...) in the same transaction as its change, and
 * answers 303 back to its page with ?done=1, or 422 with the form again,
 * messages next to the fields and the typed values kept (never a
 * password). Viewing the audit page appends an "admin.audit.view" entry
 * before anything is shown. */
#ifndef SP_ADMIN_H
#define SP_ADMIN_H

#include "portal_int.h"

#define ADMIN_PAGE_ROWS 50          /* audit entries a page */
#define ADMIN_ACTION_MAX 64         /* bytes of an action filter */
#define ADMIN_ORG_NAME_MAX 200      /* bytes of an organisation's name (as the CLI) */

/* The audit page's filters, from its query string. Empty strings: any. */
typedef struct admin_audit_filter {
    char actor[AUDIT_ACTOR_MAX + 1];   /* exact actor ("user:7", "cli:root", an email) */
    char action[ADMIN_ACTION_MAX + 1]; /* exact action: a-z 0-9 . _ - */
    char from[11], to[11];             /* YYYY-MM-DD, a real date; from <= to */
    long long before;                  /* > 0: entries with seq below it; 0: the newest */
} admin_audit_filter;

/* Parses the raw query q[0..n) (NULL or n 0: no filter) of GET
 * /admin/audit: parameters actor, action, from, to, before, each at most
 * once, an empty value meaning "any". Returns 0, or -1 with *why a
 * sentence naming the parameter and the rule (unknown parameter, bad
 * date, from after to, ...). Pure; fuzzed by fuzz/fuzz_admin.c. */
int admin_audit_filter_parse(const char *q, size_t n, admin_audit_filter *f, const char **why);

/* Answers one request whose path is /admin or starts with /admin/.
 * Returns SP_OK with out filled, or an error code for a server failure. */
int admin_handle(const portal_req *r, serve_reply *out);

#endif
