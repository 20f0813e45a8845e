/* stats_extra.h -- aggregate tables the dashboard needs beyond stats.h's,
 * built on store_count and returned as ordinary stats_tables (so
 * stats_to_json, stats_print_* and stats_table_free work on them).
 *
 *   ransom    ransom demanded, per currency: records with an amount, and
 *             the median, lowest and highest amount (whole currency units).
 *             Median and range are left out (null) for a currency with
 *             fewer than STATS_EXTRA_MIN_RANGE records: a minimum or
 *             maximum of a handful of records describes single persons.
 *   coverage  for every published (non-sensitive) field, how many of the
 *             filtered records carry a value, and that share.
 *   organisations  records per reporting organisation (name) under the
 *             filter, largest first.
 *
 * Columns and JSON follow docs/stats-json.md's envelope. */
#ifndef SP_STATS_EXTRA_H
#define SP_STATS_EXTRA_H

#include "stats.h"

#define STATS_EXTRA_MIN_RANGE 10

/* The extra table names (static; do not free). */
const char *const *stats_extra_names(size_t *n);
/* Is `name` one of them? */
int stats_extra_known(const char *name);
/* Computes an extra table over the records matching f (NULL: all). On
 * success *out is the caller's (stats_table_free). Unknown name:
 * SP_EUSAGE with the valid names in err. */
int stats_extra_compute(sp_store *s, const sp_codebook *cb, const char *table,
                        const sp_filter *f, stats_table **out, sp_err *err);

#endif
