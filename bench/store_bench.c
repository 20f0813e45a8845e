/* store_bench.c -- how long the store takes to import and to count.
 *
 *   store_bench N HUB.db CSV
 * Generates N demo records twice: once alone (the generator's own cost),
 * once stored through store_record_add in one transaction; the difference
 * is the store's cost. Then writes the same records as CSV (for comparing
 * with `sqlite3 X.db '.import --csv CSV t'`) and times a few counts and a
 * full scan. Build: see bench/run.sh or docs/store.md. */
#include "demo.h"
#include "store.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* CPU seconds of this process: the machine may be shared. */
static double cpu(void) { return (double)clock() / CLOCKS_PER_SEC; }

static int scan_cb(const sp_record *r, const sp_record_meta *m, void *ud)
{
    (void)r; (void)m;
    (*(long long *)ud)++;
    return 0;
}

static int count_cb(const char *const *vals, long long n, void *ud)
{
    (void)vals; (void)n;
    (*(long long *)ud)++;
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 4) { fprintf(stderr, "usage: store_bench N HUB.db CSV\n"); return 2; }
    long long n = atoll(argv[1]);
    sp_err e;
    sp_gazetteer *gaz = NULL;
    sp_codebook *cb = NULL;
    demo_gen *g = NULL;
    sp_store *s = NULL;
    sp_record r;
    sp_err_init(&e);
    unlink(argv[2]);
    if (gazetteer_load(&gaz, NULL, &e) || codebook_load_default(&cb, gaz, &e) ||
        demo_gen_new(&g, cb, 42, &e) || store_open(&s, argv[2], cb, 1, &e)) {
        sp_err_print(&e, stderr);
        return 1;
    }
    record_init(&r, cb);
    size_t norg = demo_norgs(), org;
    long long *orgid = calloc(norg, sizeof *orgid), *subid = calloc(norg, sizeof *subid);
    for (size_t i = 0; i < norg; i++) {
        const demo_org *o = demo_org_at(i);
        if (store_org_add(s, o->name, o->country, &orgid[i]) ||
            store_submission_add(s, orgid[i], "bench.csv", "x", 1, &subid[i])) {
            fprintf(stderr, "%s\n", store_errmsg(s));
            return 1;
        }
    }

    double t0 = sp_now(), c0 = cpu();
    for (long long i = 0; i < n; i++) demo_gen_record(g, i, &r, &org);
    double tgen = sp_now() - t0, cgen = cpu() - c0;

    t0 = sp_now();
    c0 = cpu();
    if (store_begin(s)) { fprintf(stderr, "%s\n", store_errmsg(s)); return 1; }
    for (long long i = 0; i < n; i++) {
        demo_gen_record(g, i, &r, &org);
        if (store_record_add(s, subid[org], orgid[org], &r, 1, NULL)) {
            fprintf(stderr, "record %lld: %s\n", i, store_errmsg(s));
            return 1;
        }
    }
    if (store_commit(s)) { fprintf(stderr, "%s\n", store_errmsg(s)); return 1; }
    double tall = sp_now() - t0, call = cpu() - c0;
    printf("generate only   %8.3f s\n", tgen);
    printf("generate+store  %8.3f s\n", tall);
    printf("store           %8.3f s  (%.2f us/record)\n", tall - tgen,
           (tall - tgen) * 1e6 / (double)n);
    printf("store CPU       %8.3f s  (%.2f us/record)\n", call - cgen,
           (call - cgen) * 1e6 / (double)n);

    static const char *const dims[][2] = {
        {"gender", NULL}, {"year_identified", "industry"}, {"exploitation.country", NULL},
        {"exploitation[].country", NULL}, {"control_means", NULL}, {"org_region", "gender"},
        {"nationality", "exploitation.country"}, {"age.lo", NULL},
    };
    for (size_t i = 0; i < sizeof dims / sizeof dims[0]; i++) {
        long long rows = 0;
        size_t nd = dims[i][1] ? 2 : 1;
        t0 = sp_now();
        c0 = cpu();
        if (store_count(s, NULL, dims[i], nd, count_cb, &rows)) {
            fprintf(stderr, "%s\n", store_errmsg(s));
            return 1;
        }
        printf("count %-24s %-22s %6.3f s  cpu %6.3f s (%lld rows)\n", dims[i][0],
               dims[i][1] ? dims[i][1] : "", sp_now() - t0, cpu() - c0, rows);
    }
    sp_filter f;
    memset(&f, 0, sizeof f);
    f.year_from = 2022;
    f.where[0] = (sp_where){"control_means", "confinement"};
    f.nwhere = 1;
    long long rows = 0;
    const char *d1[1] = {"gender"};
    t0 = sp_now();
    store_count(s, &f, d1, 1, count_cb, &rows);
    printf("count gender, year>=2022, control_means=confinement  %6.3f s\n", sp_now() - t0);
    long long seen = 0;
    t0 = sp_now();
    c0 = cpu();
    if (store_scan(s, NULL, scan_cb, &seen)) { fprintf(stderr, "%s\n", store_errmsg(s)); return 1; }
    printf("scan all        %8.3f s  cpu %6.3f s (%lld records)\n", sp_now() - t0, cpu() - c0, seen);

    FILE *out = fopen(argv[3], "w");
    if (!out || demo_write_csv(out, cb, n, 42, &e)) { sp_err_print(&e, stderr); return 1; }
    fclose(out);

    record_free(&r);
    store_close(s);
    demo_gen_free(g);
    codebook_free(cb);
    gazetteer_free(gaz);
    free(orgid);
    free(subid);
    sp_err_free(&e);
    return 0;
}
