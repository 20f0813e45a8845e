/* chart.h -- the dashboard's charts as self-contained inline SVG.
 *
 * Each chart_* function appends one complete <svg> element (svg.h) to an
 * sp_buf and returns an sp_rc: SP_OK, SP_ELIMIT when the buffer's cap is
 * hit (the buffer is then left exactly as it was), SP_EUSAGE for a NULL
 * argument. Nothing is kept: the caller's data is only read during the call.
 *
 * Data: the caller copies the numbers out of a stats_table (stats.h,
 * docs/stats-json.md) into chart_item arrays. Every number drawn (counts,
 * n=, percentages) is exactly the number given: counts are printed as given
 * and shares printed with svg_fmt_pct; nothing is re-derived when given.
 *
 * Suppression: a later privacy pass may hide small counts. It marks an item
 * by setting count = CHART_SUPPRESSED (any negative count means suppressed);
 * the chart then prints "<k" (k = chart_opts.suppress_k), draws the mark
 * hatched, and never prints a share for it. A bar's total may be suppressed
 * the same way.
 *
 * Accessibility: each chart has a <title> (opts.title) and a <desc>
 * generated from the data (what the chart shows, its range, and the largest
 * values), every mark a <title> tooltip with the full label and numbers,
 * text >= 11 px at the 640-unit default width, labels cut with an ellipsis
 * (counted in code points) with the full label in the tooltip. Empty data
 * (no items, or nothing counted) draws "No records match these filters". */
#ifndef SP_CHART_H
#define SP_CHART_H

#include <stddef.h>
#include "util.h"

#define CHART_SUPPRESSED (-1LL)
#define CHART_MAX_ITEMS 10000    /* more items than this: SP_ELIMIT */

/* Colour of an item. AUTO: by its position in the category order (stable
 * whatever the filter, since stats lists every codebook value in codebook
 * order), except that a NULL code or the code "unknown" is grey-unknown and
 * the code "other" grey-other. */
typedef enum {
    CHART_COLOR_AUTO = 0,
    CHART_COLOR_OTHER,           /* SVG_GREY_OTHER */
    CHART_COLOR_UNKNOWN,         /* SVG_GREY_UNKNOWN */
    CHART_COLOR_INDEX            /* svg_cat_color(color_index) */
} chart_color;

typedef struct chart_item {
    const char *code;      /* codebook code / ISO code, or NULL (not recorded) */
    const char *label;     /* shown, escaped; NULL: the code, else "(not recorded)" */
    long long count;       /* exact count; < 0: suppressed (CHART_SUPPRESSED) */
    double share;          /* fraction to print (stats' "share"); < 0 or NaN:
                              computed as count / base by the chart */
    chart_color color;     /* 0 (AUTO) for zero-initialised items */
    size_t color_index;    /* with CHART_COLOR_INDEX */
} chart_item;

/* One bar of a 100% stacked chart: one year of industries-by-year. */
typedef struct chart_bar {
    const char *label;     /* "2023", or "(year not recorded)" */
    long long total;       /* records behind the bar ("n=812"), share base;
                              < 0: suppressed */
    const chart_item *items; /* segments in category order; every bar should
                                list the same categories in the same order */
    size_t nitems;
} chart_bar;

typedef struct chart_opts {
    const char *id;        /* id prefix, unique within the page; NULL: "chart" */
    const char *title;     /* <title> and the heading drawn at the top */
    const char *what;      /* noun for the desc/tooltips: "records" (NULL) or
                              "mentions" */
    double width;          /* viewBox width; 0: 640 (height follows data) */
    int suppress_k;        /* the k of "<k" on suppressed values; 0: 10 */
    size_t max_bars;       /* hbar: most rows shown; 0: 12 */
    int other_row;         /* hbar: 1 folds the rows past max_bars-1 into one
                              "Other (n)" row (n = categories folded) */
    int mentions;          /* counts are mentions (a record may count under
                              several items): no share on an "Other" row,
                              shares not expected to sum to 1 */
    int line;              /* chart_years: 1 draws a line with dots instead
                              of columns */
    int no_heading;        /* 1: no visible title text (the page has an <h2>);
                              <title> is still written */
} chart_opts;

/* 1. 100% stacked bars, one per bar (year), segments = items with their
 * share of the bar's total; "n=812" under each bar; a legend of every
 * category counted somewhere; segment tooltip
 * "2023 · Online scams and fraud: 301 of 812 (37.1%)"; segments too small
 * for a label get none but keep their tooltip. */
int chart_stacked100(sp_buf *b, const chart_opts *o, const chart_bar *bars,
                     size_t nbars);

/* 2. Horizontal bars sorted largest first (stable; not-recorded and
 * suppressed rows after the counted ones): label left, bar, value right
 * "12,345 · 24.1%". base = records (the share base when an item's share is
 * not given; also in the desc). At most o->max_bars rows. */
int chart_hbar(sp_buf *b, const chart_opts *o, const chart_item *items,
               size_t n, long long base);

/* 3. Columns in the given order (ordered categories: age bands, gender),
 * count above each column, share under the label. */
int chart_columns(sp_buf *b, const chart_opts *o, const chart_item *items,
                  size_t n, long long base);

/* 4. Counts per year (labels "2018".."2025"), in the given order: columns,
 * or a line with dots when o->line. No shares. */
int chart_years(sp_buf *b, const chart_opts *o, const chart_item *items,
                size_t n);

/* 5. A compact single 100% bar (gender): segments with direct labels where
 * they fit, a legend line with every category's count and share. */
int chart_sharebar(sp_buf *b, const chart_opts *o, const chart_item *items,
                   size_t n, long long base);

#endif
