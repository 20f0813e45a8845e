/* privacy.h -- small-cell suppression: the floor under everything public
 * (dashboard pages, API, static report, public exports of aggregates).
 *
 * A stats_table (stats.h) holds exact counts. Before anything public is
 * written, it goes through privacy_apply_filtered (or privacy_apply when
 * there is no filter): no count from 1 to k-1 is published, nor can one be
 * worked out from totals, complements, or a view that differs by one filter
 * value. The rules, and the attacks that remain, are in docs/privacy.md.
 *
 * A hidden count is left in its cell as suppressed = 1, missing = 1, n = 0
 * (the exact number is gone from the table); its share is hidden too. The
 * table records the k applied and how many counts were hidden. */
#ifndef SP_PRIVACY_H
#define SP_PRIVACY_H

#include "stats.h"

#define PRIVACY_K_DEFAULT 10
#define PRIVACY_K_MIN 2         /* k = 1 would hide nothing */
#define PRIVACY_K_MAX 1000
#define PRIVACY_META_KEY "suppression_k"

/* The hub's k: meta "suppression_k", PRIVACY_K_DEFAULT when unset. A stored
 * value that is not a whole number in [PRIVACY_K_MIN, PRIVACY_K_MAX] is
 * SP_EINPUT (never silently a weaker k). */
int privacy_k(sp_store *s, int *k);
/* Stores k after checking its range (SP_EUSAGE outside it). */
int privacy_set_k(sp_store *s, int k);

/* Suppresses t in place with threshold k: geography coarsened (origins,
 * destinations, flows), primary suppression (1..k-1), complements, and
 * secondary suppression within every group with a total (see
 * docs/privacy.md), then shares recomputed from published counts and a
 * note added. A table passed once is not passed again (SP_EUSAGE). k out
 * of range: SP_EUSAGE. */
int privacy_apply(stats_table *t, int k, sp_err *err);

/* privacy_apply plus the differencing defence: for each view that differs
 * from t's filter by one setting (each where-clause dropped, org_region
 * dropped, year_from/year_to widened by one year and opened), that view is
 * computed (stats_compute, or stats_extra_compute for those tables, with
 * the age bands t was computed with), passed through privacy_apply, and
 * every count of t that differs from the same published count there by
 * 1..k-1 is hidden; then the secondary rules run again. t must be exact
 * (straight from stats_compute) and f the filter it was computed with
 * (NULL: t->filter, which is a copy of it). */
int privacy_apply_filtered(sp_store *s, const sp_codebook *cb, stats_table *t,
                           const sp_filter *f, int k, sp_err *err);

/* Violations visible in t's published numbers alone (what anyone reading
 * the output can compute): published counts in 1..k-1 (records included),
 * and groups with a published total whose hidden part (total minus the
 * published members) is in 1..k-1, or that hide exactly one member. 0 is
 * clean. Works on any table; the group structure is known for stats.h's
 * tables. */
int privacy_check(const stats_table *t, int k);

#endif
