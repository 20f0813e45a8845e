/* report.h -- `spotlight report`: the dashboard (page.h) written as static
 * files that open from disk without a server.
 *
 *   DIR/index.html          the page, links relative, no form
 *   DIR/app.css             the stylesheet (copied from the binary)
 *   DIR/svg/ID.svg          every chart and map as a standalone SVG
 *   DIR/data/TABLE.csv      every table a chart links to, as the API
 *   DIR/data/TABLE.json     writes it (same filter as the page)
 *
 * Files are written in place (DIR and its folders are created when
 * missing); an existing index.html is replaced. */
#ifndef SP_REPORT_H
#define SP_REPORT_H

#include "page.h"

/* Writes the report for filter pf into dir. err says what failed. */
int report_write(sp_store *s, const sp_codebook *cb, const sp_gazetteer *gaz,
                 const sp_geo *geo, const page_filter *pf, long long threshold,
                 const char *dir, sp_err *err);

/* The command: spotlight report --out DIR [--year-from Y] [--year-to Y]
 * [--org-region R|all] [--industry X] [--gender X] [--nationality X]
 * [--threshold N]. Returns an exit code (cli.h). */
int report_main(const char *db, int argc, char **argv);

#endif
