/* report.c -- see report.h. The page is page.c's, rendered with
 * static_mode = 1; its sink receives each chart's SVG and the name of each
 * table a link points to, and writes them as files. */
#include "report.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "embed.h"

#define REPORT_PATH_MAX 4096

typedef struct rctx {
    sp_store *s;
    const sp_codebook *cb;
    const sp_filter *f;
    const char *dir;
    sp_err *err;
    char (*countries)[3];      /* country pages to write */
    size_t ncountries, alloc;
} rctx;

/* A relative path the report may write: folders and names of
 * [A-Za-z0-9._-], no "..", no leading '/'. */
static int rel_ok(const char *rel)
{
    if (!rel || !*rel || rel[0] == '/' || strstr(rel, "..")) return 0;
    for (const char *p = rel; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '.' || *p == '_' || *p == '-' || *p == '/'))
            return 0;
    return 1;
}

static int mkdir_p1(const char *path, sp_err *err)
{
    if (mkdir(path, 0755) == 0 || errno == EEXIST) {
        struct stat st;
        if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) return SP_OK;
    }
    sp_err_add(err, path, 0, NULL, NULL, 0, "io", "cannot create the folder %s: %s", path,
               strerror(errno ? errno : ENOTDIR));
    return SP_EIO;
}

/* Writes data to DIR/rel (whole file). */
static int write_file(const char *dir, const char *rel, const char *data, size_t len, sp_err *err)
{
    char path[REPORT_PATH_MAX];
    if (!rel_ok(rel))
        return sp_err_add(err, rel, 0, NULL, NULL, 0, "bad-path", "refusing to write %s", rel);
    int n = snprintf(path, sizeof path, "%s/%s", dir, rel);
    if (n < 0 || (size_t)n >= sizeof path) {
        sp_err_add(err, rel, 0, NULL, NULL, 0, "too-long", "the output path is too long");
        return SP_ELIMIT;
    }
    FILE *fp = fopen(path, "wb");
    if (!fp) {
        sp_err_add(err, path, 0, NULL, NULL, 0, "io", "cannot write %s: %s", path, strerror(errno));
        return SP_EIO;
    }
    int rc = SP_OK;
    if (len && fwrite(data, 1, len, fp) != len) rc = SP_EIO;
    if (fclose(fp) != 0) rc = SP_EIO;
    if (rc) sp_err_add(err, path, 0, NULL, NULL, 0, "io", "writing %s failed: %s", path, strerror(errno));
    return rc;
}

static int sink_svg(void *ud, const char *rel, const char *data, size_t len)
{
    rctx *x = ud;
    sp_buf b;
    sp_buf_init(&b, PAGE_MAX_BYTES);
    int rc = sp_buf_adds(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    if (!rc) rc = sp_buf_add(&b, data, len);
    if (!rc) rc = sp_buf_addc(&b, '\n');
    if (!rc) rc = write_file(x->dir, rel, b.data, b.len, x->err);
    sp_buf_free(&b);
    return rc;
}

static int sink_table(void *ud, const char *table)
{
    rctx *x = ud;
    stats_table *t = NULL;
    int rc = page_table_compute(x->s, x->cb, table, x->f, &t, x->err);
    if (rc) return rc;
    char rel[128];
    sp_buf b;
    sp_buf_init(&b, 256u << 20);
    rc = stats_to_csv(t, &b);
    if (!rc) {
        snprintf(rel, sizeof rel, "data/%s.csv", table);
        rc = write_file(x->dir, rel, b.data, b.len, x->err);
    }
    if (!rc) {
        json_t *o = stats_to_json(t);
        char *s = o ? json_dumps(o, JSON_INDENT(1) | JSON_REAL_PRECISION(10)) : NULL;
        if (!s) rc = SP_ENOMEM;
        else {
            snprintf(rel, sizeof rel, "data/%s.json", table);
            sp_buf_reset(&b);
            rc = sp_buf_adds(&b, s);
            if (!rc) rc = sp_buf_addc(&b, '\n');
            if (!rc) rc = write_file(x->dir, rel, b.data, b.len, x->err);
        }
        free(s);
        json_decref(o);
    }
    sp_buf_free(&b);
    stats_table_free(t);
    return rc;
}

static int sink_country(void *ud, const char *cc)
{
    rctx *x = ud;
    if (!cc || strlen(cc) != 2) return SP_OK;
    for (size_t i = 0; i < x->ncountries; i++)
        if (strcmp(x->countries[i], cc) == 0) return SP_OK;
    if (x->ncountries == x->alloc) {
        x->alloc = x->alloc ? x->alloc * 2 : 16;
        x->countries = sp_xrealloc(x->countries, x->alloc * sizeof *x->countries);
    }
    memcpy(x->countries[x->ncountries++], cc, 3);
    return SP_OK;
}

int report_write(sp_store *s, const sp_codebook *cb, const sp_gazetteer *gaz,
                 const sp_geo *geo, const page_filter *pf, long long threshold,
                 const char *dir, sp_err *err)
{
    char sub[REPORT_PATH_MAX];
    int rc = mkdir_p1(dir, err);
    if (!rc && (size_t)snprintf(sub, sizeof sub, "%s/svg", dir) >= sizeof sub) rc = SP_ELIMIT;
    if (!rc) rc = mkdir_p1(sub, err);
    if (!rc && (size_t)snprintf(sub, sizeof sub, "%s/data", dir) >= sizeof sub) rc = SP_ELIMIT;
    if (!rc) rc = mkdir_p1(sub, err);
    if (rc) return rc;
    size_t csslen = 0;
    const char *css = embed_get("static/app.css", &csslen);
    if (!css)
        return sp_err_add(err, NULL, 0, NULL, NULL, 0, "no-css",
                          "the stylesheet static/app.css is not in this binary");
    if ((rc = write_file(dir, "app.css", css, csslen, err))) return rc;

    stats_filter sf;
    stats_filter_init(&sf);
    rc = page_filter_stats(pf, cb, &sf, err);
    if (rc) { stats_filter_free(&sf); return rc; }
    rctx x = { s, cb, &sf.f, dir, err, NULL, 0, 0 };
    page_sink sink = { sink_svg, sink_table, sink_country, &x };
    char now[21];
    sp_utc_now(now);
    page_ctx pc;
    memset(&pc, 0, sizeof pc);
    pc.store = s;
    pc.cb = cb;
    pc.gaz = gaz;
    pc.geo = geo;
    pc.filter = *pf;
    pc.threshold = threshold;
    pc.static_mode = 1;
    pc.sink = &sink;
    pc.generated = now;
    sp_buf b;
    sp_buf_init(&b, PAGE_MAX_BYTES);
    rc = page_render(&pc, &b, err);
    if (!rc) rc = write_file(dir, "index.html", b.data, b.len, err);
    /* the country pages the dashboard links to */
    for (size_t i = 0; i < x.ncountries && !rc; i++) {
        char rel[32];
        pc.country = x.countries[i];
        sp_buf_reset(&b);
        rc = page_render(&pc, &b, err);
        snprintf(rel, sizeof rel, "country-%s.html", x.countries[i]);
        if (!rc) rc = write_file(dir, rel, b.data, b.len, err);
    }
    free(x.countries);
    sp_buf_free(&b);
    stats_filter_free(&sf);
    return rc;
}

int report_main(const char *db, int argc, char **argv)
{
    static const char *const keys[] = { "--year-from", "--year-to", "--org-region", "--industry",
                                        "--gender", "--nationality" };
    const char *outdir = NULL, *threshold_s = NULL;
    sp_gazetteer *gaz = NULL;
    sp_codebook *cb = NULL;
    sp_store *st = NULL;
    sp_geo *geo = NULL;
    sp_err err;
    sp_err_init(&err);
    int rc = EXIT_DONE;
    /* options first (values later, once the codebook is loaded) */
    const char *vals[6] = { NULL };
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        const char *eq = strchr(a, '=');
        size_t nl = eq ? (size_t)(eq - a) : strlen(a);
        const char **dst = NULL;
        if (nl == 5 && strncmp(a, "--out", 5) == 0) dst = &outdir;
        else if (nl == 11 && strncmp(a, "--threshold", 11) == 0) dst = &threshold_s;
        for (size_t k = 0; k < 6 && !dst; k++)
            if (strlen(keys[k]) == nl && strncmp(a, keys[k], nl) == 0) dst = &vals[k];
        if (!dst) {
            fprintf(stderr, "spotlight report: unknown argument '%s' (see: spotlight help report)\n", a);
            return EXIT_USAGE;
        }
        if (eq) *dst = eq + 1;
        else if (i + 1 < argc) *dst = argv[++i];
        else {
            fprintf(stderr, "spotlight report: %.*s needs a value\n", (int)nl, a);
            return EXIT_USAGE;
        }
    }
    if (!outdir || !*outdir) {
        fprintf(stderr, "usage: spotlight report --out DIR [--year-from Y] [--year-to Y] "
                        "[--org-region REGION|all] [--industry X] [--gender X] [--nationality X] "
                        "[--threshold N]\n");
        return EXIT_USAGE;
    }
    long long threshold = PAGE_THRESHOLD_DEFAULT;
    if (threshold_s && (sp_parse_int(threshold_s, strlen(threshold_s), &threshold) ||
                        threshold < 1 || threshold > 1000000000)) {
        fprintf(stderr, "spotlight report: --threshold must be a whole number from 1, not '%s'\n",
                threshold_s);
        return EXIT_USAGE;
    }
    if (access(db, F_OK) != 0) {
        fprintf(stderr, "spotlight: no hub at %s (create one with: spotlight init --db %s)\n", db, db);
        return EXIT_USAGE;
    }
    if (gazetteer_load(&gaz, NULL, &err) || codebook_load_default(&cb, gaz, &err) ||
        store_open(&st, db, cb, 0, &err)) {
        sp_err_print(&err, stderr);
        rc = EXIT_OTHER;
        goto done;
    }
    page_filter pf;
    page_filter_default(&pf);
    for (size_t k = 0; k < 6; k++) {
        if (!vals[k]) continue;
        if (page_filter_set(&pf, cb, keys[k] + 2, vals[k], &err)) {
            sp_err_print(&err, stderr);
            rc = EXIT_USAGE;
            goto done;
        }
    }
    if (geo_load(&geo, gaz, &err)) {
        fprintf(stderr, "spotlight report: maps left out: %s\n", sp_err_last(&err));
        sp_err_clear(&err);
        geo = NULL;
    }
    int r = report_write(st, cb, gaz, geo, &pf, threshold, outdir, &err);
    if (r) {
        sp_err_print(&err, stderr);
        rc = r == SP_EUSAGE || r == SP_EINPUT ? EXIT_USAGE : EXIT_OTHER;
        goto done;
    }
    printf("report written to %s/index.html\n", outdir);
done:
    geo_free(geo);
    store_close(st);
    codebook_free(cb);
    gazetteer_free(gaz);
    sp_err_free(&err);
    return rc;
}
