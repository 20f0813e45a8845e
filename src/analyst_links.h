/* analyst_links.h -- the analyst's page of person links (analyst_links.c,
 * docs/linkage.md):
 *
 *   GET  /analyst/links[?status=proposed|confirmed|rejected]
 *   POST /analyst/links/A-B/confirm     (CSRF; audited "link.confirm")
 *   POST /analyst/links/A-B/reject      (CSRF; audited "link.reject")
 *
 * Analysts and admins only (auth_can AUTH_VIEW_LINKS); others 403 (the
 * refusal audited); portal_handle has already sent the anonymous to
 * /login. The page shows per link the two record ids, the score, the two
 * organisations' names, the status and who decided when: never a
 * record's cells (no case reference, no field, no encoding). Its views
 * are audited ("link.view"). */
#ifndef SP_ANALYST_LINKS_H
#define SP_ANALYST_LINKS_H

#include "portal_int.h"

/* 1 for "/analyst/links" and every path under "/analyst/links/". */
int analyst_links_owns(const char *path);
int analyst_links_handle(const portal_req *r, serve_reply *out);

/* The address of a decision: "/analyst/links/A-B/confirm" gives *a, *b
 * (record ids, a != b) and *confirm = 1; ".../reject" *confirm = 0.
 * -1 for anything else. Pure; the fuzz target fuzz_links calls it. */
int analyst_links_parse(const char *path, size_t n, long long *a, long long *b, int *confirm);

#endif
