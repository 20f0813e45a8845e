/* cube_bench.c -- store_count through the in-memory cube against SQL.
 *
 *   cube_bench HUB.db [N]
 * With N, (re)creates HUB.db with N demo records first (as store_bench
 * does); then times the cube build, its memory, and every count of the
 * stats tables (the dimensions stats.c asks for) through the cube and
 * through SQL, unfiltered and with a filter. Build: see docs/store.md. */
#include "demo.h"
#include "store.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int count_cb(const char *const *vals, long long n, void *ud)
{
    (void)vals; (void)n;
    (*(long long *)ud)++;
    return 0;
}

static int fill(sp_store *s, const sp_codebook *cb, long long n, sp_err *e)
{
    demo_gen *g = NULL;
    sp_record r;
    size_t norg = demo_norgs(), org;
    long long *orgid = calloc(norg, sizeof *orgid), *subid = calloc(norg, sizeof *subid);
    if (demo_gen_new(&g, cb, 42, e)) return 1;
    record_init(&r, cb);
    for (size_t i = 0; i < norg; i++) {
        const demo_org *o = demo_org_at(i);
        if (store_org_add(s, o->name, o->country, &orgid[i]) ||
            store_submission_add(s, orgid[i], "bench.csv", "x", 1, &subid[i]))
            return 1;
    }
    if (store_begin(s)) return 1;
    for (long long i = 0; i < n; i++) {
        demo_gen_record(g, i, &r, &org);
        if (store_record_add(s, subid[org], orgid[org], &r, 1, NULL)) return 1;
    }
    if (store_commit(s)) return 1;
    record_free(&r);
    demo_gen_free(g);
    free(orgid);
    free(subid);
    return 0;
}

/* The groupings the stats tables ask for (stats.c), plus the synthetic check. */
static const char *const tables[][4] = {
    {"year_identified", "industry", NULL, NULL},
    {"origin_country", "origin_province", NULL, NULL},
    {"exploitation.country", "exploitation.province", "exploitation.locality", NULL},
    {"origin_country", "origin_province", "exploitation.country", "exploitation.province"},
    {"nationality", NULL, NULL, NULL},
    {"gender", NULL, NULL, NULL},
    {"age.lo", "age.hi", NULL, NULL},
    {"recruitment_method", NULL, NULL, NULL},
    {"recruitment_platform", NULL, NULL, NULL},
    {"control_means", NULL, NULL, NULL},
    {"synthetic", NULL, NULL, NULL},
};
#define NT (sizeof tables / sizeof tables[0])

/* One pass over every table (and store_count_records per table, as stats
 * does); returns the seconds, printing each with `label`. */
static double page(sp_store *s, const sp_filter *f, const char *label, int verbose)
{
    double total = 0;
    for (size_t i = 0; i < NT; i++) {
        size_t nd = 0;
        while (nd < 4 && tables[i][nd]) nd++;
        long long rows = 0, recs = 0;
        double t0 = sp_now();
        if (store_count_records(s, f, &recs) ||
            store_count(s, f, tables[i], nd, count_cb, &rows)) {
            fprintf(stderr, "%s\n", store_errmsg(s));
            exit(1);
        }
        double t = sp_now() - t0;
        total += t;
        if (verbose)
            printf("  %-5s %-22s %-22s %8.2f ms  (%lld rows, %lld records)\n", label,
                   tables[i][0], nd > 1 ? tables[i][1] : "", t * 1e3, rows, recs);
    }
    printf("  %-5s whole page (%zu tables)  %8.2f ms\n", label, NT, total * 1e3);
    return total;
}

int main(int argc, char **argv)
{
    if (argc < 2) { fprintf(stderr, "usage: cube_bench HUB.db [N]\n"); return 2; }
    sp_err e;
    sp_gazetteer *gaz = NULL;
    sp_codebook *cb = NULL;
    sp_store *s = NULL;
    sp_err_init(&e);
    if (argc > 2) unlink(argv[1]);
    if (gazetteer_load(&gaz, NULL, &e) || codebook_load_default(&cb, gaz, &e) ||
        store_open(&s, argv[1], cb, argc > 2, &e)) {
        sp_err_print(&e, stderr);
        return 1;
    }
    if (argc > 2) {
        double t0 = sp_now();
        if (fill(s, cb, atoll(argv[2]), &e)) { fprintf(stderr, "fill: %s\n", store_errmsg(s)); return 1; }
        printf("filled %s records in %.1f s\n", argv[2], sp_now() - t0);
    }
    printf("records: %lld\n", store_record_count(s));
    sp_filter f;
    memset(&f, 0, sizeof f);
    f.year_from = 2022;
    f.where[0] = (sp_where){"nationality", "VN"};
    f.nwhere = 1;

    store_set_cube_mode(s, 1);
    long long n = 0;
    double t0 = sp_now();
    store_count_records(s, NULL, &n);
    store_cube_stats st;
    store_cube_info(s, &st);
    printf("cube build %.2f s, %lld records, %.1f MiB (%.0f bytes/record)\n", sp_now() - t0,
           st.records, (double)st.bytes / 1048576.0, (double)st.bytes / (double)(st.records ? st.records : 1));
    printf("cube, unfiltered:\n");
    page(s, NULL, "cube", 1);
    printf("cube, year>=2022 and nationality=VN (first time: selects):\n");
    page(s, &f, "cube", 1);
    printf("cube, same filter again:\n");
    page(s, &f, "cube", 0);
    store_set_cube_mode(s, 0);
    printf("SQL, unfiltered:\n");
    page(s, NULL, "sql", 1);
    printf("SQL, year>=2022 and nationality=VN:\n");
    page(s, &f, "sql", 0);
    store_close(s);
    codebook_free(cb);
    gazetteer_free(gaz);
    sp_err_free(&e);
    return 0;
}
