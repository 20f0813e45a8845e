/* page.h -- the public dashboard: server-rendered HTML with inline SVG
 * charts and maps that need no JavaScript (docs/dashboard.md).
 *
 * One page, "/", in sections with anchors: #scope (industries per year,
 * online scams per year), #origins, #routes (one map per origin country
 * with enough records), #destination-countries, #destinations (hotspots and
 * a ranked table), #demographics, #recruitment, #control (with ransom),
 * #about (generated from the data, with the caveats). Every chart has a
 * title, the records it rests on, a text alternative (a data table whose
 * rows carry data-count attributes), a tooltip on every mark (chart.h,
 * map.h) and links to its data as CSV and JSON.
 *
 * Filters travel in the URL query (a plain GET form), so every view is a
 * link: year_from, year_to, org_region (an M49 region, or "all"; absent:
 * Asia), industry, gender, nationality (codes or anything the codebook
 * reads for that field). The same page code writes the static report
 * (report.h) with static = 1: relative links to data/ and svg/ files, no
 * form, and every chart's SVG and every table handed to a callback.
 *
 * All text that comes from data (organisation names, localities, labels)
 * goes through sp_buf_add_html. */
#ifndef SP_PAGE_H
#define SP_PAGE_H

#include "codebook.h"
#include "geo.h"
#include "serve.h"
#include "stats.h"

#define PAGE_THRESHOLD_DEFAULT 50   /* records an origin/destination country
                                       needs for its own map */
#define PAGE_MAX_BYTES (16u << 20)  /* cap of one rendered page */
#define PAGE_INLINE_MAPS 2          /* route (and destination) maps drawn on the
                                       main page; further countries get a page
                                       of their own (/country/CC) */

/* The dashboard's filters as the URL gives them, validated. Strings are
 * canonical codes (a label like "Viet Nam" becomes "VN"), "" when unset. */
typedef struct page_filter {
    int year_from, year_to;     /* 0: open */
    char region[64];            /* canonical M49 name; "" = all regions */
    char industry[64];
    char gender[64];
    char nationality[8];
} page_filter;

/* Defaults: org_region Asia, everything else open. */
void page_filter_default(page_filter *pf);
/* One setting: key year_from|year_to|org_region|industry|gender|nationality
 * (dashes allowed). An empty value clears it (org_region "" or "all": all
 * regions). Bad key or value: SP_EINPUT with a sentence in err. */
int page_filter_set(page_filter *pf, const sp_codebook *cb, const char *key,
                    const char *value, sp_err *err);
/* The stats filter for pf (sf initialised by the caller). */
int page_filter_stats(const page_filter *pf, const sp_codebook *cb, stats_filter *sf,
                      sp_err *err);

/* Static mode: each standalone SVG ("svg/scope.svg"), each table the
 * page links to (name as stats or stats_extra know it) and each country
 * page it links to is handed over. */
typedef struct page_sink {
    int (*svg)(void *ud, const char *relpath, const char *data, size_t len);
    int (*table)(void *ud, const char *table);   /* called once per table */
    int (*country)(void *ud, const char *alpha2); /* a country page is linked
                                                      (country-CC.html) */
    void *ud;
} page_sink;

typedef struct page_ctx {
    sp_store *store;
    const sp_codebook *cb;
    const sp_gazetteer *gaz;
    const sp_geo *geo;          /* NULL: maps are replaced by a sentence */
    page_filter filter;
    long long threshold;        /* 0: PAGE_THRESHOLD_DEFAULT */
    int static_mode;            /* 1: report (relative links, no form) */
    const page_sink *sink;      /* static mode; may be NULL */
    const char *generated;      /* static mode: timestamp shown; may be NULL */
    const char *country;        /* alpha-2: render that country's page (its
                                   route and destination maps); NULL: the
                                   dashboard */
} page_ctx;

/* Renders the whole dashboard into out (appended). On error, err says why
 * and out may hold part of a page. */
int page_render(const page_ctx *pc, sp_buf *out, sp_err *err);

/* Computes a table by name: stats.h's tables, then stats_extra.h's. */
int page_table_compute(sp_store *s, const sp_codebook *cb, const char *table,
                       const sp_filter *f, stats_table **out, sp_err *err);

/* ---- routes (serve.h handlers) */
/* "/": the dashboard for the query's filters. A bad filter value is a 400
 * page that says which and why. */
int page_home(serve_ctx *ctx, const http_request *req, serve_reply *out);
/* "/country/CC": one country's route and destination maps, same filters. */
int page_country(serve_ctx *ctx, const http_request *req, serve_reply *out);
/* "/data/TABLE.csv|.json": the extra tables (stats_extra.h) the API does
 * not serve, with the same query parameters as the page. */
int page_data(serve_ctx *ctx, const http_request *req, serve_reply *out);

#endif
