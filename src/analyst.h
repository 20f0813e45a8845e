/* analyst.h -- the analyst's investigation pages (analyst.c,
 * docs/investigations.md): shared indicators, one indicator, the network
 * of cases and indicators, and the investigators' exports.
 *
 *   GET /analyst                           overview: indicators and clusters ranked
 *   GET /analyst/indicators[?min_orgs=&min_cases=&type=]
 *   GET /analyst/indicators/TYPE/HASH      counts per organisation, own cases
 *   GET /analyst/network[?...]             page with the network drawn inline
 *   GET /analyst/network.svg[?...]         the drawing alone
 *   GET /analyst/export.csv[?...]          one row per indicator-case link
 *   GET /analyst/export.ftm.json[?...]     FollowTheMoney entities, one per line
 *
 * Analysts and admins only (auth_can AUTH_VIEW_LINKS): others get 403;
 * portal_handle has already sent the anonymous to /login. Every answer
 * that shows cross-organisation results is audited ("investigate.*")
 * before it is sent. The links pages under /analyst (analyst_links.c)
 * are not this file's: analyst_owns says no to them. */
#ifndef SP_ANALYST_H
#define SP_ANALYST_H

#include "portal_int.h"

/* 1 for "/analyst" and the paths under it that analyst_handle answers
 * (every one but the links segment and below). */
int analyst_owns(const char *path);
int analyst_handle(const portal_req *r, serve_reply *out);

#endif
