/* cli.c -- see cli.h. Every command is a function `cmd_NAME(hub path,
 * argc, argv)` returning an exit code; options are parsed by one small
 * table-driven parser so that every command says the same things the same
 * way about a wrong command line. */
#include "cli.h"
#include "audit.h"
#include "auth.h"
#include "codebook.h"
#include "demo.h"
#include "embed.h"
#include "encode.h"
#include "export.h"
#include "gazetteer.h"
#include "import.h"
#include "link.h"
#include "invest.h"
#include "privacy.h"
#include "report.h"
#include "serve.h"
#include "stats.h"
#include "store.h"
#include "template.h"
#include "xlsform.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <termios.h>
#include <time.h>
#include <sys/stat.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SPOTLIGHT_VERSION "0.1.0"

/* ------------------------------------------------------------ help */

typedef struct command {
    const char *name;
    int (*fn)(const char *db, int argc, char **argv);
    const char *summary;
    const char *usage;
} command;

static const char *filter_help =
    "Filters (stats and export):\n"
    "  --year-from YEAR      records identified in YEAR or later\n"
    "  --year-to YEAR        records identified in YEAR or earlier\n"
    "  --org-region REGION   reporting organisations in this UN region (Asia, Africa, ...)\n"
    "  --where FIELD=VALUE   only records whose FIELD has VALUE (repeatable);\n"
    "                        FIELD is a codebook field or group.sub (exploitation.country)\n";

/* ------------------------------------------------------------ options */

typedef struct opt {
    const char *name;          /* "--org" */
    int takes_value;
    const char **value;        /* where a value goes */
    int *flag;                 /* where a flag goes */
} opt;

/* Parses argv against opts; positionals are collected in pos (argv order,
 * at most poscap of them: more is a usage error, never an overflow).
 * Filter options (stats_filter_is_option) are collected in filt when
 * filt is not NULL (filt has room for argc entries). Returns 0, or prints a
 * usage error and returns EXIT_USAGE. */
/* Elements of a fixed-size array (never a pointer). */
#define NELEM(a) ((int)(sizeof(a) / sizeof *(a)))

static int add_pos(const char *cmd, char *a, char **pos, int poscap, int *npos)
{
    if (*npos >= poscap) {
        fprintf(stderr, "spotlight %s: too many arguments (at '%s'; see: spotlight help %s)\n",
                cmd, a, cmd);
        return EXIT_USAGE;
    }
    pos[(*npos)++] = a;
    return 0;
}

static int parse_opts(const char *cmd, int argc, char **argv, const opt *opts,
                          char **pos, int poscap, int *npos, char **filt, int *nfilt)
{
    *npos = 0;
    if (nfilt) *nfilt = 0;
    for (int i = 0; i < argc; i++) {
        char *a = argv[i];
        if (a[0] != '-' || a[1] == '\0') {
            if (add_pos(cmd, a, pos, poscap, npos)) return EXIT_USAGE;
            continue;
        }
        if (strcmp(a, "--") == 0) {
            while (++i < argc)
                if (add_pos(cmd, argv[i], pos, poscap, npos)) return EXIT_USAGE;
            break;
        }
        if (filt) {
            int k = stats_filter_is_option(a);
            if (k == 1 || k == 2) {
                filt[(*nfilt)++] = a;
                if (k == 2) {
                    if (i + 1 >= argc) {
                        fprintf(stderr, "spotlight %s: %s needs a value\n", cmd, a);
                        return EXIT_USAGE;
                    }
                    filt[(*nfilt)++] = argv[++i];
                }
                continue;
            }
        }
        const char *eq = strchr(a, '=');
        size_t nlen = eq ? (size_t)(eq - a) : strlen(a);
        const opt *o = NULL;
        for (const opt *p = opts; p && p->name; p++)
            if (strlen(p->name) == nlen && strncmp(p->name, a, nlen) == 0) o = p;
        if (!o) {
            fprintf(stderr, "spotlight %s: unknown option '%s' (see: spotlight help %s)\n",
                    cmd, a, cmd);
            return EXIT_USAGE;
        }
        if (o->takes_value) {
            if (eq) *o->value = eq + 1;
            else if (i + 1 < argc) *o->value = argv[++i];
            else {
                fprintf(stderr, "spotlight %s: %s needs a value\n", cmd, o->name);
                return EXIT_USAGE;
            }
        } else {
            if (eq) {
                fprintf(stderr, "spotlight %s: %s takes no value\n", cmd, o->name);
                return EXIT_USAGE;
            }
            *o->flag = 1;
        }
    }
    return 0;
}

static int parse_count(const char *cmd, const char *what, const char *s, long long lo,
                       long long hi, long long *out)
{
    long long v;
    if (!s || sp_parse_int(s, strlen(s), &v) || v < lo || v > hi) {
        fprintf(stderr, "spotlight %s: %s must be a whole number from %lld to %lld, not '%s'\n",
                cmd, what, lo, hi, s ? s : "");
        return EXIT_USAGE;
    }
    *out = v;
    return 0;
}

/* ------------------------------------------------------------ the hub */

typedef struct hub {
    sp_gazetteer *gaz;
    sp_codebook *cb;
    sp_store *store;
} hub;

static void hub_close(hub *h)
{
    store_close(h->store);
    codebook_free(h->cb);
    gazetteer_free(h->gaz);
    memset(h, 0, sizeof *h);
}

/* Loads the standard and, when db is not NULL, opens the hub. Prints what
 * went wrong and returns an exit code. */
static int hub_open(hub *h, const char *db, int create)
{
    sp_err err;
    int rc = EXIT_DONE;
    memset(h, 0, sizeof *h);
    sp_err_init(&err);
    if (gazetteer_load(&h->gaz, NULL, &err) || codebook_load_default(&h->cb, h->gaz, &err)) {
        sp_err_print(&err, stderr);
        rc = EXIT_OTHER;
        goto done;
    }
    if (db) {
        if (!create && access(db, F_OK) != 0) {
            fprintf(stderr, "spotlight: no hub at %s (create one with: spotlight init --db %s)\n",
                    db, db);
            rc = EXIT_USAGE;
            goto done;
        }
        if (store_open(&h->store, db, h->cb, create, &err)) {
            fprintf(stderr, "spotlight: cannot open the hub %s\n", db);
            sp_err_print(&err, stderr);
            rc = EXIT_OTHER;
            goto done;
        }
    }
done:
    sp_err_free(&err);
    if (rc) hub_close(h);
    return rc;
}

static int report_err(const char *cmd, sp_err *err, int rc)
{
    sp_err_print(err, stderr);
    if (rc == SP_EINPUT || rc == SP_EEXIST || rc == SP_ELIMIT) return EXIT_REFUSED;
    if (rc == SP_EUSAGE) return EXIT_USAGE;
    (void)cmd;
    return EXIT_OTHER;
}

/* ------------------------------------------------------------ init */

static int cmd_init(const char *db, int argc, char **argv)
{
    char *pos[8];
    int npos;
    (void)argv;
    if (argc > 8 || parse_opts("init", argc, argv, NULL, pos, NELEM(pos), &npos, NULL, NULL)) return EXIT_USAGE;
    if (npos) {
        fprintf(stderr, "spotlight init: unexpected argument '%s' (the hub is given with --db)\n", pos[0]);
        return EXIT_USAGE;
    }
    int existed = access(db, F_OK) == 0;
    hub h;
    int rc = hub_open(&h, db, 1);
    if (rc) return rc;
    char *secret = NULL;
    if (store_meta_get(h.store, "secret", &secret) == SP_OK && !secret) {
        /* the server's own secret (session keys, keyed hashes): generated
         * here, never a default */
        unsigned char key[32];
        char hex[65];
        randombytes_buf(key, sizeof key);
        sodium_bin2hex(hex, sizeof hex, key, sizeof key);
        sodium_memzero(key, sizeof key);
        if (store_meta_set(h.store, "secret", hex)) {
            fprintf(stderr, "spotlight init: cannot write the hub's secret: %s\n", store_errmsg(h.store));
            rc = EXIT_OTHER;
        }
        sodium_memzero(hex, sizeof hex);
    }
    free(secret);
    if (!rc)
        printf("%s %s (codebook %s)\n", existed ? "hub is ready:" : "created hub", db, h.cb->version);
    hub_close(&h);
    return rc;
}

/* ------------------------------------------------------------ audit helpers */

/* An import that stored nothing is recorded too (who tried what). */
static void audit_refused_upload(sp_store *s, const char *org, const char *file, int r,
                                 const sp_err *err, const import_result *res)
{
    sp_buf d;
    sp_buf_init(&d, 16384);
    audit_detail_str(&d, "org", org);
    audit_detail_str(&d, "sha256", res->sha256[0] ? res->sha256 : NULL);
    audit_detail_str(&d, "result", sp_rc_str(r));
    audit_detail_int(&d, "errors", (long long)err->count);
    audit_detail_str(&d, "first_error", err->n ? err->items[0].message : NULL);
    if (audit_append(s, NULL, 0, "upload_refused", file, NULL, audit_detail_end(&d)))
        fprintf(stderr, "spotlight import: could not write the audit log: %s\n", store_errmsg(s));
    sp_buf_free(&d);
}

static int audit_org(sp_store *s, const char *action, long long id, const char *name,
                     const char *country)
{
    sp_buf d;
    sp_buf_init(&d, 4096);
    audit_detail_str(&d, "country", country);
    int r = audit_append(s, NULL, id, action, name, NULL, audit_detail_end(&d));
    sp_buf_free(&d);
    return r;
}

static int audit_export(sp_store *s, const char *format, const char *mapping, int sensitive,
                        const char *out_path, int nfilt, char **filt)
{
    sp_buf d, f;
    sp_buf_init(&d, 16384);
    sp_buf_init(&f, 4096);
    for (int i = 0; i < nfilt; i++) sp_buf_printf(&f, "%s%s", i ? " " : "", filt[i]);
    audit_detail_str(&d, "format", format);
    audit_detail_str(&d, "mapping", mapping);
    audit_detail_int(&d, "include_sensitive", sensitive);
    audit_detail_str(&d, "filter", f.data);
    int r = audit_append(s, NULL, 0, "export", strcmp(out_path, "-") == 0 ? "(standard output)" : out_path,
                         NULL, audit_detail_end(&d));
    sp_buf_free(&d);
    sp_buf_free(&f);
    return r;
}

/* ------------------------------------------------------------ import */

/* Reads the organisations' key for the hub's own hashing of indicator
 * values shared in the clear (import, serve); the key stays in memory. */
static int load_hub_key(const char *cmd, const char *path)
{
    uint8_t key[ENCODE_KEY_BYTES];
    sp_err err;
    sp_err_init(&err);
    int r = encode_key_load(path, key, &err);
    if (r) {
        fprintf(stderr, "spotlight %s: cannot use the key file\n", cmd);
        r = report_err(cmd, &err, r);
    } else {
        import_set_key(key);
    }
    sodium_memzero(key, sizeof key);
    sp_err_free(&err);
    return r;
}

static int cmd_import(const char *db, int argc, char **argv)
{
    const char *org = NULL, *mapping = NULL, *sheet = NULL, *format = NULL, *keyf = NULL;
    int dry = 0, replace = 0, quiet = 0;
    opt opts[] = {{"--org", 1, &org, NULL},         {"--mapping", 1, &mapping, NULL},
                  {"--sheet", 1, &sheet, NULL},     {"--format", 1, &format, NULL},
                  {"--dry-run", 0, NULL, &dry},     {"--replace", 0, NULL, &replace},
                  {"--quiet", 0, NULL, &quiet},     {"--key", 1, &keyf, NULL},
                  {NULL, 0, NULL, NULL}};
    char **pos = sp_xcalloc((size_t)argc + 1, sizeof *pos);
    int npos, rc = parse_opts("import", argc, argv, opts, pos, argc + 1, &npos, NULL, NULL);
    if (rc) goto out;
    if (!org || !*org) {
        fprintf(stderr, "spotlight import: say which organisation reports the records: --org NAME\n");
        rc = EXIT_USAGE;
        goto out;
    }
    if (npos == 0) {
        fprintf(stderr, "spotlight import: name at least one file (CSV, XLSX or JSON; - for standard input)\n");
        rc = EXIT_USAGE;
        goto out;
    }
    sp_format fmt = SP_FMT_AUTO;
    if (format) {
        if (strcmp(format, "csv") == 0) fmt = SP_FMT_CSV;
        else if (strcmp(format, "xlsx") == 0) fmt = SP_FMT_XLSX;
        else if (strcmp(format, "json") == 0) fmt = SP_FMT_JSON;
        else {
            fprintf(stderr, "spotlight import: --format is csv, xlsx or json, not '%s'\n", format);
            rc = EXIT_USAGE;
            goto out;
        }
    }
    if (keyf && (rc = load_hub_key("import", keyf))) goto out;
    hub h;
    if ((rc = hub_open(&h, db, 0))) goto out;
    import_opts io = {org, mapping, sheet, fmt, dry, replace, !quiet && isatty(2), 0};
    audit_context_cli();
    for (int i = 0; i < npos; i++) {
        sp_err err;
        import_result res;
        sp_err_init(&err);
        int r = import_file(h.store, h.cb, pos[i], &io, &res, &err);
        if (err.n) sp_err_print(&err, stderr);
        if (r == SP_OK) {
            if (dry)
                printf("%s: %lld rows checked, no errors (dry run: nothing stored)\n", pos[i], res.rows);
            else
                printf("%s: %lld records stored as submission %lld for %s%s\n", pos[i], res.stored,
                       res.submission_id, org, res.org_created ? " (new organisation)" : "");
            if (res.replaced) printf("%s: %lld earlier records replaced\n", pos[i], res.replaced);
        } else {
            if (r == SP_EINPUT || r == SP_ELIMIT)
                fprintf(stderr, "%s: refused: %zu error%s in %lld rows; nothing was stored\n", pos[i],
                        err.count, err.count == 1 ? "" : "s", res.rows);
            if (!dry) audit_refused_upload(h.store, org, pos[i], r, &err, &res);
            if (rc != EXIT_OTHER)
                rc = (r == SP_EINPUT || r == SP_EEXIST || r == SP_ELIMIT) ? EXIT_REFUSED : EXIT_OTHER;
        }
        sp_err_free(&err);
    }
    hub_close(&h);
out:
    free(pos);
    return rc;
}

/* ------------------------------------------------------------ org */

static int cmd_org(const char *db, int argc, char **argv)
{
    const char *country = NULL;
    opt opts[] = {{"--country", 1, &country, NULL}, {NULL, 0, NULL, NULL}};
    char **pos = sp_xcalloc((size_t)argc + 1, sizeof *pos);
    int npos, rc = parse_opts("org", argc, argv, opts, pos, argc + 1, &npos, NULL, NULL);
    hub h;
    int opened = 0;
    if (rc) goto out;
    const char *sub = npos ? pos[0] : "list";
    if (!((strcmp(sub, "add") == 0 && npos == 2) || (strcmp(sub, "list") == 0 && npos <= 1) ||
          (strcmp(sub, "set-country") == 0 && npos == 3))) {
        fprintf(stderr, "usage: spotlight org add NAME [--country CC] | org list | "
                        "org set-country NAME CC\n");
        rc = EXIT_USAGE;
        goto out;
    }
    if ((rc = hub_open(&h, db, 0))) goto out;
    opened = 1;
    const char *cc_in = strcmp(sub, "set-country") == 0 ? pos[2] : country;
    const gz_country *gc = NULL;
    if (cc_in) {
        gc = gazetteer_country(h.gaz, cc_in, strlen(cc_in));
        if (!gc) {
            fprintf(stderr, "spotlight org: '%s' is not a country (use an ISO 3166-1 code such as TH or a name)\n",
                    cc_in);
            rc = EXIT_USAGE;
            goto out;
        }
    }
    if (strcmp(sub, "add") == 0) {
        long long id;
        const char *name = pos[1];
        size_t nl = strlen(name);
        if (nl == 0 || nl > 200 || !sp_utf8_valid(name, nl)) {
            fprintf(stderr, "spotlight org add: a name is 1 to 200 bytes of UTF-8\n");
            rc = EXIT_USAGE;
            goto out;
        }
        audit_context_cli();
        int r = store_begin(h.store);
        if (r == SP_OK) r = store_org_add(h.store, name, gc ? gc->alpha2 : NULL, &id);
        if (r == SP_OK) r = audit_org(h.store, "org_add", id, name, gc ? gc->alpha2 : NULL);
        if (r == SP_OK) r = store_commit(h.store);
        if (r != SP_OK) store_rollback(h.store);
        if (r == SP_EEXIST) {
            fprintf(stderr, "spotlight org add: '%s' already exists\n", name);
            rc = EXIT_REFUSED;
        } else if (r) {
            fprintf(stderr, "spotlight org add: %s\n", store_errmsg(h.store));
            rc = EXIT_OTHER;
        } else {
            printf("added organisation %lld: %s%s%s%s\n", id, name, gc ? " (" : "",
                   gc ? gc->name : "", gc ? (gc->region && *gc->region ? ", " : ")") : "");
            if (gc && gc->region && *gc->region) printf("%s)\n", gc->region);
        }
    } else if (strcmp(sub, "set-country") == 0) {
        sp_org o;
        if (store_org_find(h.store, pos[1], &o) != SP_OK) {
            fprintf(stderr, "spotlight org set-country: no organisation named '%s'\n", pos[1]);
            rc = EXIT_REFUSED;
            goto out;
        }
        audit_context_cli();
        int r = store_begin(h.store);
        if (r == SP_OK) r = store_org_set_country(h.store, o.id, gc->alpha2);
        if (r == SP_OK) r = audit_org(h.store, "org_set_country", o.id, o.name, gc->alpha2);
        if (r == SP_OK) r = store_commit(h.store);
        if (r != SP_OK) store_rollback(h.store);
        if (r) {
            fprintf(stderr, "spotlight org set-country: %s\n", store_errmsg(h.store));
            rc = EXIT_OTHER;
        } else {
            printf("%s: country %s (%s)\n", o.name, gc->alpha2, gc->name);
        }
        store_org_free(&o);
    } else {
        sp_org *list = NULL;
        size_t n = 0;
        if (store_org_list(h.store, &list, &n)) {
            fprintf(stderr, "spotlight org list: %s\n", store_errmsg(h.store));
            rc = EXIT_OTHER;
            goto out;
        }
        printf("%-4s  %-40s  %-7s  %-10s  %s\n", "id", "organisation", "country", "region", "records");
        for (size_t i = 0; i < n; i++) {
            printf("%-4lld  %-40s  %-7s  %-10s  %lld\n", list[i].id, list[i].name,
                   list[i].country ? list[i].country : "?", list[i].region ? list[i].region : "?",
                   list[i].records);
            store_org_free(&list[i]);
        }
        free(list);
    }
out:
    if (opened) hub_close(&h);
    free(pos);
    return rc;
}

/* ------------------------------------------------------------ submissions */

static int cmd_submissions(const char *db, int argc, char **argv)
{
    const char *org = NULL;
    opt opts[] = {{"--org", 1, &org, NULL}, {NULL, 0, NULL, NULL}};
    char **pos = sp_xcalloc((size_t)argc + 1, sizeof *pos);
    int npos, rc = parse_opts("submissions", argc, argv, opts, pos, argc + 1, &npos, NULL, NULL);
    free(pos);
    if (rc) return rc;
    hub h;
    if ((rc = hub_open(&h, db, 0))) return rc;
    long long org_id = 0;
    if (org) {
        sp_org o;
        if (store_org_find(h.store, org, &o) != SP_OK) {
            fprintf(stderr, "spotlight submissions: no organisation named '%s'\n", org);
            hub_close(&h);
            return EXIT_REFUSED;
        }
        org_id = o.id;
        store_org_free(&o);
    }
    sp_submission *list = NULL;
    size_t n = 0;
    if (store_submission_list(h.store, org_id, &list, &n)) {
        fprintf(stderr, "spotlight submissions: %s\n", store_errmsg(h.store));
        rc = EXIT_OTHER;
    } else {
        printf("%-5s  %-20s  %-30s  %8s  %-9s  %s\n", "id", "when", "organisation", "records", "status", "file");
        for (size_t i = 0; i < n; i++) {
            printf("%-5lld  %-20s  %-30s  %8lld  %-9s  %s%s\n", list[i].id, list[i].created,
                   list[i].org_name, list[i].rows, list[i].status, list[i].filename,
                   list[i].synthetic ? " (synthetic)" : "");
            store_submission_free(&list[i]);
        }
        free(list);
    }
    hub_close(&h);
    return rc;
}

/* ------------------------------------------------------------ stats */

static int cmd_stats(const char *db, int argc, char **argv)
{
    const char *bands = NULL;
    int json = 0, public = 0;
    opt opts[] = {{"--json", 0, NULL, &json}, {"--bands", 1, &bands, NULL},
                  {"--public", 0, NULL, &public}, {NULL, 0, NULL, NULL}};
    char **pos = sp_xcalloc((size_t)argc + 1, sizeof *pos);
    char **filt = sp_xcalloc((size_t)argc + 1, sizeof *filt);
    int npos, nfilt, rc = parse_opts("stats", argc, argv, opts, pos, argc + 1, &npos, filt, &nfilt);
    hub h;
    int opened = 0;
    stats_filter sf;
    stats_filter_init(&sf);
    sp_err err;
    sp_err_init(&err);
    stats_table *t = NULL;
    if (rc) goto out;
    size_t ntables;
    const char *const *names = stats_table_names(&ntables);
    if (npos != 1) {
        fprintf(stderr, "usage: spotlight stats [--json] [--public] [--bands default|ctdc] [filters] TABLE\ntables:");
        for (size_t i = 0; i < ntables; i++) fprintf(stderr, " %s", names[i]);
        fprintf(stderr, "\n");
        rc = EXIT_USAGE;
        goto out;
    }
    stats_opts so = {STATS_BANDS_DEFAULT};
    if (bands && stats_bands_parse(bands, &so.bands)) {
        fprintf(stderr, "spotlight stats: --bands is default or ctdc, not '%s'\n", bands);
        rc = EXIT_USAGE;
        goto out;
    }
    if ((rc = hub_open(&h, db, 0))) goto out;
    opened = 1;
    int r = stats_filter_parse(&sf, h.cb, nfilt, filt, &err);
    if (r) {
        sp_err_print(&err, stderr);
        rc = EXIT_USAGE;
        goto out;
    }
    r = stats_compute(h.store, h.cb, pos[0], &sf.f, &so, &t, &err);
    if (r) {
        sp_err_print(&err, stderr);
        rc = r == SP_EUSAGE ? EXIT_USAGE : EXIT_OTHER;
        goto out;
    }
    if (public) {
        /* exactly what the dashboard, API and report publish */
        int k = 0;
        if ((r = privacy_k(h.store, &k)) == SP_OK)
            r = privacy_apply_filtered(h.store, h.cb, t, &sf.f, k, &err);
        if (r) {
            sp_err_print(&err, stderr);
            rc = EXIT_OTHER;
            goto out;
        }
    }
    r = json ? stats_print_json(t, stdout) : stats_print_text(t, stdout);
    if (r) rc = EXIT_OTHER;
out:
    stats_table_free(t);
    stats_filter_free(&sf);
    sp_err_free(&err);
    if (opened) hub_close(&h);
    free(pos);
    free(filt);
    return rc;
}

/* ------------------------------------------------------------ export */

static int cmd_export(const char *db, int argc, char **argv)
{
    const char *format = "csv", *mapping = NULL, *out_path = "-";
    int sensitive = 0;
    opt opts[] = {{"--format", 1, &format, NULL},
                  {"--mapping", 1, &mapping, NULL},
                  {"--out", 1, &out_path, NULL},
                  {"--include-sensitive", 0, NULL, &sensitive},
                  {NULL, 0, NULL, NULL}};
    char **pos = sp_xcalloc((size_t)argc + 1, sizeof *pos);
    char **filt = sp_xcalloc((size_t)argc + 1, sizeof *filt);
    int npos, nfilt, rc = parse_opts("export", argc, argv, opts, pos, argc + 1, &npos, filt, &nfilt);
    hub h;
    int opened = 0;
    stats_filter sf;
    stats_filter_init(&sf);
    sp_err err;
    sp_err_init(&err);
    if (rc) goto out;
    if (npos) {
        fprintf(stderr, "spotlight export: unexpected argument '%s' (write to a file with --out FILE)\n", pos[0]);
        rc = EXIT_USAGE;
        goto out;
    }
    export_format fmt;
    if (strcmp(format, "csv") == 0) fmt = EXPORT_CSV;
    else if (strcmp(format, "json") == 0) fmt = EXPORT_JSON;
    else if (strcmp(format, "xlsx") == 0) fmt = EXPORT_XLSX;
    else {
        fprintf(stderr, "spotlight export: --format is csv, json or xlsx, not '%s'\n", format);
        rc = EXIT_USAGE;
        goto out;
    }
    if (fmt == EXPORT_XLSX && strcmp(out_path, "-") == 0 && isatty(1)) {
        fprintf(stderr, "spotlight export: an XLSX file is binary; write it with --out FILE.xlsx\n");
        rc = EXIT_USAGE;
        goto out;
    }
    if ((rc = hub_open(&h, db, 0))) goto out;
    opened = 1;
    if (stats_filter_parse(&sf, h.cb, nfilt, filt, &err)) {
        sp_err_print(&err, stderr);
        rc = EXIT_USAGE;
        goto out;
    }
    audit_context_cli();
    if (audit_export(h.store, format, mapping, sensitive, out_path, nfilt, filt)) {
        fprintf(stderr, "spotlight export: cannot write the audit log, so nothing is exported: %s\n",
                store_errmsg(h.store));
        rc = EXIT_OTHER;
        goto out;
    }
    int r = export_records(h.store, h.cb, &sf.f, fmt, mapping, sensitive, out_path, &err);
    if (r) rc = report_err("export", &err, r);
out:
    stats_filter_free(&sf);
    sp_err_free(&err);
    if (opened) hub_close(&h);
    free(pos);
    free(filt);
    return rc;
}

/* ------------------------------------------------------------ demo */

static int cmd_demo(const char *db, int argc, char **argv)
{
    const char *records = NULL, *seed_s = NULL, *csv = NULL;
    opt opts[] = {{"--records", 1, &records, NULL},
                  {"--seed", 1, &seed_s, NULL},
                  {"--export-csv", 1, &csv, NULL},
                  {NULL, 0, NULL, NULL}};
    char *pos[4];
    int npos, rc;
    if (argc > 8) {
        fprintf(stderr, "usage: spotlight demo [--records N] [--seed S] [--export-csv FILE]\n");
        return EXIT_USAGE;
    }
    if ((rc = parse_opts("demo", argc, argv, opts, pos, NELEM(pos), &npos, NULL, NULL))) return rc;
    if (npos) {
        fprintf(stderr, "spotlight demo: unexpected argument '%s'\n", pos[0]);
        return EXIT_USAGE;
    }
    long long n = 5000, seed = 1;
    if (records && (rc = parse_count("demo", "--records", records, 1, 100000000LL, &n))) return rc;
    if (seed_s && (rc = parse_count("demo", "--seed", seed_s, 0, 0x7fffffffffffffffLL, &seed))) return rc;
    sp_err err;
    sp_err_init(&err);
    hub h;
    if (csv) {
        if ((rc = hub_open(&h, NULL, 0))) return rc;
        FILE *out = strcmp(csv, "-") == 0 ? stdout : fopen(csv, "wb");
        if (!out) {
            fprintf(stderr, "spotlight demo: cannot write %s: %s\n", csv, strerror(errno));
            hub_close(&h);
            return EXIT_OTHER;
        }
        int r = demo_write_csv(out, h.cb, n, (uint64_t)seed, &err);
        if (out != stdout && fclose(out) != 0 && !r) r = SP_EIO;
        if (r) rc = report_err("demo", &err, r);
        else if (out != stdout)
            fprintf(stderr, "wrote %lld synthetic records to %s\n", n, csv);
    } else {
        if ((rc = hub_open(&h, db, 1))) return rc;
        int r = demo_fill(h.store, h.cb, n, (uint64_t)seed, &err);
        if (r) rc = report_err("demo", &err, r);
        else printf("added %lld synthetic demo records to %s\n", n, db);
    }
    sp_err_free(&err);
    hub_close(&h);
    return rc;
}

/* ------------------------------------------------------------ codebook */

static int cmd_codebook(const char *db, int argc, char **argv)
{
    int md = 0, json = 0;
    opt opts[] = {{"--markdown", 0, NULL, &md}, {"--json", 0, NULL, &json}, {NULL, 0, NULL, NULL}};
    char *pos[4];
    int npos, rc;
    (void)db;
    if (argc > 4) return EXIT_USAGE;
    if ((rc = parse_opts("codebook", argc, argv, opts, pos, NELEM(pos), &npos, NULL, NULL))) return rc;
    int cur = npos == 1 && strcmp(pos[0], "currencies") == 0;
    if (npos > 1 || (npos == 1 && !cur) || (cur && (md || json))) {
        fprintf(stderr, "usage: spotlight codebook [--markdown | --json] | codebook currencies\n");
        return EXIT_USAGE;
    }
    hub h;
    if ((rc = hub_open(&h, NULL, 0))) return rc;
    if (cur) {
        /* ISO 4217 as iso-codes lists it: the codes the currency fields take */
        const char *code, *name;
        for (size_t i = 0; gazetteer_currency_at(h.gaz, i, &code, &name) == SP_OK; i++)
            printf("%s  %s\n", code, name);
    } else if (json) {
        size_t len;
        const char *data = embed_get("codebook/codebook.json", &len);
        fwrite(data, 1, len, stdout);
    } else if (md) {
        if (codebook_write_markdown(h.cb, stdout)) rc = EXIT_OTHER;
    } else {
        printf("codebook %s: %zu fields\n", h.cb->version, h.cb->nfields);
        for (size_t i = 0; i < h.cb->nfields; i++) {
            const cb_field *f = &h.cb->fields[i];
            printf("  %-26s %-9s %s%s%s\n", f->name, codebook_type_name(f->type), f->label,
                   f->required ? " (required)" : "", f->sensitive ? " (sensitive)" : "");
        }
        printf("(spotlight codebook --markdown for the full standard)\n");
    }
    hub_close(&h);
    return rc;
}

/* ------------------------------------------------------------ serve */

static int cmd_serve(const char *db, int argc, char **argv)
{
    const char *listen = "127.0.0.1:8080", *threads = NULL, *keyf = getenv("SPOTLIGHT_KEY_FILE");
    int quiet = 0, tls = 0;
    opt opts[] = {{"--listen", 1, &listen, NULL},
                  {"--key", 1, &keyf, NULL},
                  {"--threads", 1, &threads, NULL},
                  {"--quiet", 0, NULL, &quiet},
                  {"--behind-tls", 0, NULL, &tls},
                  {NULL, 0, NULL, NULL}};
    char *pos[10];
    int npos, rc;
    if (argc > 10) {
        fprintf(stderr, "usage: spotlight serve [--listen ADDR:PORT] [--threads N] [--quiet] "
                        "[--behind-tls] [--key FILE]\n");
        return EXIT_USAGE;
    }
    if ((rc = parse_opts("serve", argc, argv, opts, pos, NELEM(pos), &npos, NULL, NULL))) return rc;
    if (npos) {
        fprintf(stderr, "spotlight serve: unexpected argument '%s'\n", pos[0]);
        return EXIT_USAGE;
    }
    long long nt = 0;
    if (threads && (rc = parse_count("serve", "--threads", threads, 1, 64, &nt))) return rc;
    if (keyf && *keyf && (rc = load_hub_key("serve", keyf))) return rc;
    serve_opts so = {db, listen, (int)nt, quiet, tls};
    return serve_run(&so);
}

/* ------------------------------------------------------------ encode */

/* spotlight encode --new-key FILE | encode --key FILE [--mapping M]
 * [--sheet S] [--format F] [--out FILE] IN. Runs at the partner: needs no
 * hub. The output is written only when every row encoded. */
static int cmd_encode(const char *db, int argc, char **argv)
{
    const char *newkey = NULL, *keyf = NULL, *mapping = NULL, *sheet = NULL, *format = NULL,
               *out = NULL;
    opt opts[] = {{"--new-key", 1, &newkey, NULL}, {"--key", 1, &keyf, NULL},
                  {"--mapping", 1, &mapping, NULL}, {"--sheet", 1, &sheet, NULL},
                  {"--format", 1, &format, NULL},   {"--out", 1, &out, NULL},
                  {NULL, 0, NULL, NULL}};
    char *pos[4];
    int npos, rc;
    uint8_t key[ENCODE_KEY_BYTES];
    sp_err err;
    (void)db;
    if ((rc = parse_opts("encode", argc, argv, opts, pos, NELEM(pos), &npos, NULL, NULL))) return rc;
    sp_err_init(&err);
    if (newkey) {
        if (keyf || npos) {
            fprintf(stderr, "usage: spotlight encode --new-key FILE\n");
            return EXIT_USAGE;
        }
        int r = encode_key_new(newkey, &err);
        if (r) rc = report_err("encode", &err, r);
        else
            fprintf(stderr, "spotlight encode: a new key is in %s (mode 0600). Share it only with "
                            "the organisations that take part, never with the hub's users.\n",
                    newkey);
        sp_err_free(&err);
        return rc;
    }
    if (!keyf || npos != 1) {
        fprintf(stderr, "usage: spotlight encode --key FILE [--mapping M] [--sheet S] "
                        "[--format csv|xlsx|json] [--out FILE] IN\n"
                        "       spotlight encode --new-key FILE\n");
        return EXIT_USAGE;
    }
    sp_format fmt = SP_FMT_AUTO;
    if (format) {
        if (strcmp(format, "csv") == 0) fmt = SP_FMT_CSV;
        else if (strcmp(format, "xlsx") == 0) fmt = SP_FMT_XLSX;
        else if (strcmp(format, "json") == 0) fmt = SP_FMT_JSON;
        else {
            fprintf(stderr, "spotlight encode: --format is csv, xlsx or json, not '%s'\n", format);
            return EXIT_USAGE;
        }
    }
    int r = encode_key_load(keyf, key, &err);
    if (r) {
        rc = report_err("encode", &err, r);
        sp_err_free(&err);
        return rc;
    }
    hub h;
    if ((rc = hub_open(&h, NULL, 0))) {
        sodium_memzero(key, sizeof key);
        sp_err_free(&err);
        return rc;
    }
    encode_opts eo = {mapping, sheet, fmt};
    FILE *f = stdout;
    char *tmp = NULL;
    if (out && strcmp(out, "-") != 0) {
        /* written beside the target and renamed: no half file under its name */
        size_t n = strlen(out) + 16;
        tmp = sp_xmalloc(n);
        snprintf(tmp, n, "%s.partial", out);
        int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        f = fd >= 0 ? fdopen(fd, "wb") : NULL;
        if (!f) {
            fprintf(stderr, "spotlight encode: cannot create %s: %s\n", tmp, strerror(errno));
            if (fd >= 0) close(fd);
            rc = EXIT_OTHER;
            goto done;
        }
    }
    r = encode_file(key, h.cb, pos[0], &eo, f, &err);
    if (err.n) sp_err_print(&err, stderr);
    if (tmp) {
        if (fclose(f) != 0 && r == SP_OK) r = SP_EIO;
        if (r == SP_OK && rename(tmp, out) != 0) r = SP_EIO;
        if (r) unlink(tmp);
    }
    if (r) {
        fprintf(stderr, "%s: not encoded: %zu error%s; nothing was written\n", pos[0], err.count,
                err.count == 1 ? "" : "s");
        rc = r == SP_EINPUT || r == SP_ELIMIT ? EXIT_REFUSED : r == SP_EUSAGE ? EXIT_USAGE
                                                                            : EXIT_OTHER;
    }
done:
    free(tmp);
    sodium_memzero(key, sizeof key);
    sp_err_free(&err);
    hub_close(&h);
    return rc;
}

/* spotlight rehash --key FILE: the hub hashes the indicator values it
 * holds in the clear and has no match key for yet (audited). */
static int cmd_rehash(const char *db, int argc, char **argv)
{
    const char *keyf = NULL;
    opt opts[] = {{"--key", 1, &keyf, NULL}, {NULL, 0, NULL, NULL}};
    char *pos[2];
    int npos, rc;
    uint8_t key[ENCODE_KEY_BYTES];
    if ((rc = parse_opts("rehash", argc, argv, opts, pos, NELEM(pos), &npos, NULL, NULL))) return rc;
    if (!keyf || npos) {
        fprintf(stderr, "usage: spotlight rehash --key FILE\n");
        return EXIT_USAGE;
    }
    sp_err err;
    sp_err_init(&err);
    int r = encode_key_load(keyf, key, &err);
    if (r) {
        rc = report_err("rehash", &err, r);
        sp_err_free(&err);
        return rc;
    }
    hub h;
    if ((rc = hub_open(&h, db, 0))) {
        sodium_memzero(key, sizeof key);
        sp_err_free(&err);
        return rc;
    }
    audit_context_cli();
    long long n = 0, total = 0, left = 0;
    r = encode_rehash(h.store, key, &n, &err);
    sodium_memzero(key, sizeof key);
    if (r) rc = report_err("rehash", &err, r);
    else if (store_ident_count(h.store, &total, &left) == SP_OK)
        printf("%lld indicator values hashed; %lld match keys in all, %lld without a hash\n", n,
               total, left);
    sp_err_free(&err);
    hub_close(&h);
    return rc;
}

/* ------------------------------------------------------------ config */

static int cmd_config(const char *db, int argc, char **argv)
{
    char *pos[4];
    int npos, rc;
    if (argc > 4 || (rc = parse_opts("config", argc, argv, NULL, pos, NELEM(pos), &npos, NULL, NULL)))
        return EXIT_USAGE;
    int get = npos == 2 && strcmp(pos[0], "get") == 0;
    int set = npos == 3 && strcmp(pos[0], "set") == 0;
    if ((!get && !set) || strcmp(pos[1], "k") != 0) {
        fprintf(stderr, "usage: spotlight config get k | config set k N\n");
        return EXIT_USAGE;
    }
    long long k = 0;
    if (set && (rc = parse_count("config", "k", pos[2], 2, 1000, &k))) return rc;
    hub h;
    if ((rc = hub_open(&h, db, 0))) return rc;
    int cur = 0;
    if (set) {
        if (privacy_set_k(h.store, (int)k)) {
            fprintf(stderr, "spotlight config: %s\n", store_errmsg(h.store));
            rc = EXIT_OTHER;
        } else {
            printf("k = %lld: published counts from 1 to %lld are shown as \"<%lld\"\n", k, k - 1, k);
        }
    } else if (privacy_k(h.store, &cur)) {
        fprintf(stderr, "spotlight config: cannot read k: %s\n", store_errmsg(h.store));
        rc = EXIT_OTHER;
    } else {
        printf("%d\n", cur);
    }
    hub_close(&h);
    return rc;
}

/* ------------------------------------------------------------ forms */

/* spotlight xlsform --out FORM.xlsx: the codebook as a KoboToolbox/ODK form. */
static int cmd_xlsform(const char *db, int argc, char **argv)
{
    const char *out = NULL;
    opt opts[] = {{"--out", 1, &out, NULL}, {NULL, 0, NULL, NULL}};
    char *pos[4];
    int npos, rc;
    (void)db;
    if (argc > 4) return EXIT_USAGE;
    if ((rc = parse_opts("xlsform", argc, argv, opts, pos, NELEM(pos), &npos, NULL, NULL))) return rc;
    if (npos || !out || !*out) {
        fprintf(stderr, "usage: spotlight xlsform --out FORM.xlsx (- for standard output)\n");
        return EXIT_USAGE;
    }
    hub h;
    if ((rc = hub_open(&h, NULL, 0))) return rc;
    sp_err err;
    sp_err_init(&err);
    int r = xlsform_write(h.cb, out, &err);
    if (r) rc = report_err("xlsform", &err, r);
    else if (strcmp(out, "-") != 0)
        fprintf(stderr, "wrote the XLSForm of codebook %s to %s\n", h.cb->version, out);
    sp_err_free(&err);
    hub_close(&h);
    return rc;
}

/* spotlight template --format csv|xlsx --out FILE: a blank data-entry file. */
static int cmd_template(const char *db, int argc, char **argv)
{
    const char *out = NULL, *format = NULL;
    opt opts[] = {{"--out", 1, &out, NULL}, {"--format", 1, &format, NULL},
                  {NULL, 0, NULL, NULL}};
    char *pos[6];
    int npos, rc;
    (void)db;
    if (argc > 6) return EXIT_USAGE;
    if ((rc = parse_opts("template", argc, argv, opts, pos, NELEM(pos), &npos, NULL, NULL))) return rc;
    template_format tf;
    if (!format || strcmp(format, "csv") == 0) tf = TEMPLATE_CSV;
    else if (strcmp(format, "xlsx") == 0) tf = TEMPLATE_XLSX;
    else {
        fprintf(stderr, "spotlight template: --format is csv or xlsx, not '%s'\n", format);
        return EXIT_USAGE;
    }
    if (npos || !out || !*out) {
        fprintf(stderr, "usage: spotlight template [--format csv|xlsx] --out FILE (- for standard output)\n");
        return EXIT_USAGE;
    }
    hub h;
    if ((rc = hub_open(&h, NULL, 0))) return rc;
    sp_err err;
    sp_err_init(&err);
    int r = template_write(h.cb, tf, out, &err);
    if (r) rc = report_err("template", &err, r);
    sp_err_free(&err);
    hub_close(&h);
    return rc;
}

/* ------------------------------------------------------------ link */

static void link_audit_pair(sp_buf *d, long long a, long long b, const char *status)
{
    audit_detail_int(d, "a", a);
    audit_detail_int(d, "b", b);
    audit_detail_str(d, "status", status);
}

/* spotlight link [--threshold T] [--dry-run] | link list [--status S] |
 * link confirm|reject A B. Only record ids, scores and organisation
 * names are printed: never a record's cells. */
static int cmd_link(const char *db, int argc, char **argv)
{
    const char *thr_s = NULL, *status = NULL;
    int dry = 0;
    opt opts[] = {{"--threshold", 1, &thr_s, NULL}, {"--dry-run", 0, NULL, &dry},
                  {"--status", 1, &status, NULL}, {NULL, 0, NULL, NULL}};
    char *pos[3];
    int npos, rc = parse_opts("link", argc, argv, opts, pos, NELEM(pos), &npos, NULL, NULL);
    hub h;
    int opened = 0;
    sp_err err;
    sp_err_init(&err);
    if (rc) goto out;
    const char *sub = npos ? pos[0] : "run";
    int decide = strcmp(sub, "confirm") == 0 || strcmp(sub, "reject") == 0;
    if (!((strcmp(sub, "run") == 0 && npos <= 1 && !status) ||
          (strcmp(sub, "list") == 0 && npos == 1 && !thr_s && !dry) ||
          (decide && npos == 3 && !thr_s && !dry && !status))) {
        fprintf(stderr, "usage: spotlight link [--threshold T] [--dry-run] | link list [--status S] | "
                        "link confirm A B | link reject A B\n");
        rc = EXIT_USAGE;
        goto out;
    }
    double thr = LINK_THRESHOLD_DEFAULT;
    if (thr_s) {
        char *end = NULL;
        errno = 0;
        thr = strtod(thr_s, &end);
        if (errno || !end || *end || end == thr_s || !(thr > 0.0 && thr <= 1.0)) {
            fprintf(stderr, "spotlight link: --threshold is a number above 0 and at most 1 "
                            "(a Dice coefficient), not '%s'\n", thr_s);
            rc = EXIT_USAGE;
            goto out;
        }
    }
    if (status && strcmp(status, "proposed") != 0 && strcmp(status, "confirmed") != 0 &&
        strcmp(status, "rejected") != 0) {
        fprintf(stderr, "spotlight link list: --status is proposed, confirmed or rejected, not '%s'\n",
                status);
        rc = EXIT_USAGE;
        goto out;
    }
    long long a = 0, b = 0;
    if (decide && (sp_parse_int(pos[1], strlen(pos[1]), &a) || a <= 0 ||
                   sp_parse_int(pos[2], strlen(pos[2]), &b) || b <= 0 || a == b)) {
        fprintf(stderr, "spotlight link %s: A and B are two different record ids (see: spotlight "
                        "link list)\n", sub);
        rc = EXIT_USAGE;
        goto out;
    }
    if ((rc = hub_open(&h, db, 0))) goto out;
    opened = 1;
    if (strcmp(sub, "run") == 0) {
        link_report rep;
        audit_context_cli();
        int r = dry ? SP_OK : store_begin(h.store);
        if (r == SP_OK) r = link_run(h.store, thr, dry, &rep, &err);
        if (r == SP_OK && !dry) {
            sp_buf d;
            sp_buf_init(&d, 1024);
            char t[32];
            snprintf(t, sizeof t, "%.4f", thr);
            audit_detail_str(&d, "threshold", t);
            audit_detail_int(&d, "records", (long long)rep.records);
            audit_detail_int(&d, "links", (long long)rep.links);
            audit_detail_int(&d, "duplicates", rep.dups);
            r = audit_append(h.store, NULL, 0, "link.run", NULL, NULL, audit_detail_end(&d));
            sp_buf_free(&d);
            if (r == SP_OK) r = store_commit(h.store);
            if (r != SP_OK && !err.count)
                sp_err_add(&err, NULL, 0, NULL, NULL, 0, "link-store", "%s", store_errmsg(h.store));
        }
        if (r != SP_OK) {
            if (!dry) store_rollback(h.store);
            rc = report_err("link", &err, r);
            goto out;
        }
        printf("%srecords with an encoding: %zu", dry ? "dry run, nothing stored\n" : "",
               rep.records);
        if (rep.unusable) printf(" (%zu unusable, left out)", rep.unusable);
        printf("\nblocks: %zu\ncomparisons: %llu\ncandidates at or above %.2f: %llu\n"
               "links proposed: %zu (one to one per pair of organisations)\n"
               "decisions kept: %zu\nduplicates merged: %lld (records counted once through "
               "another organisation's record)\n",
               rep.blocks, (unsigned long long)rep.comparisons, thr,
               (unsigned long long)rep.candidates, rep.links, rep.decided, rep.dups);
    } else if (strcmp(sub, "list") == 0) {
        sp_link_row *l = NULL;
        size_t n = 0;
        if (store_link_list(h.store, status, &l, &n)) {
            fprintf(stderr, "spotlight link list: %s\n", store_errmsg(h.store));
            rc = EXIT_OTHER;
            goto out;
        }
        printf("%-8s  %-8s  %-5s  %-9s  %-24s  %-24s  %s\n", "a", "b", "score", "status",
               "organisation a", "organisation b", "decided");
        for (size_t i = 0; i < n; i++)
            printf("%-8lld  %-8lld  %.3f  %-9s  %-24s  %-24s  %s%s%s%s\n", l[i].a, l[i].b,
                   l[i].score, l[i].status, l[i].org_a_name ? l[i].org_a_name : "?",
                   l[i].org_b_name ? l[i].org_b_name : "?",
                   l[i].decided_by ? l[i].decided_by : "-", l[i].decided_at ? " " : "",
                   l[i].decided_at ? l[i].decided_at : "", l[i].live ? "" : " (a record is withdrawn)");
        store_link_list_free(l, n);
    } else {
        const char *st = strcmp(sub, "confirm") == 0 ? "confirmed" : "rejected";
        long long dups = 0;
        audit_context_cli();
        int r = store_begin(h.store);
        if (r == SP_OK) r = store_link_decide(h.store, a, b, st, audit_context_actor(), &dups);
        if (r == SP_OK) {
            sp_buf d;
            sp_buf_init(&d, 512);
            link_audit_pair(&d, a < b ? a : b, a < b ? b : a, st);
            char target[64];
            snprintf(target, sizeof target, "%lld-%lld", a < b ? a : b, a < b ? b : a);
            r = audit_append(h.store, NULL, 0, strcmp(st, "confirmed") == 0 ? "link.confirm"
                                                                           : "link.reject",
                             target, NULL, audit_detail_end(&d));
            sp_buf_free(&d);
        }
        if (r == SP_OK) r = store_commit(h.store);
        if (r != SP_OK) {
            store_rollback(h.store);
            fprintf(stderr, "spotlight link %s: %s\n", sub, store_errmsg(h.store));
            rc = r == SP_EOF ? EXIT_REFUSED : EXIT_OTHER;
            goto out;
        }
        printf("link %lld-%lld %s; duplicates merged: %lld\n", a < b ? a : b, a < b ? b : a, st,
               dups);
    }
out:
    sp_err_free(&err);
    if (opened) hub_close(&h);
    return rc;
}

/* ------------------------------------------------------------ audit */

static int audit_print_row(const sp_audit_row *r, void *ud)
{
    char hex[2 * AUDIT_HASH_LEN + 1];
    (void)ud;
    audit_hex(r->hash, hex);
    printf("%-6lld %-20s %-28s %-16s %s", r->seq, r->at ? r->at : "?", r->actor ? r->actor : "?",
           r->action ? r->action : "?", r->target ? r->target : "-");
    if (r->org_id) printf("  org=%lld", r->org_id);
    if (r->remote) printf("  from=%s", r->remote);
    if (r->detail) printf("  %s", r->detail);
    printf("  #%.12s\n", hex);
    return 0;
}

static int cmd_audit(const char *db, int argc, char **argv)
{
    const char *since = NULL, *action = NULL, *limit_s = NULL, *head_s = NULL;
    opt opts[] = {{"--since", 1, &since, NULL}, {"--action", 1, &action, NULL},
                  {"--limit", 1, &limit_s, NULL}, {"--head", 1, &head_s, NULL},
                  {NULL, 0, NULL, NULL}};
    char *pos[4];
    int npos, rc;
    if (argc > 12) return EXIT_USAGE;
    if ((rc = parse_opts("audit", argc, argv, opts, pos, NELEM(pos), &npos, NULL, NULL))) return rc;
    int verify = npos == 1 && strcmp(pos[0], "verify") == 0;
    int list = npos == 1 && strcmp(pos[0], "list") == 0;
    if ((!verify && !list) || (verify && (since || action || limit_s)) || (list && head_s)) {
        fprintf(stderr, "usage: spotlight audit verify [--head HEX] | "
                        "audit list [--since DATE] [--action A] [--limit N]\n");
        return EXIT_USAGE;
    }
    unsigned char noted[AUDIT_HASH_LEN];
    if (head_s && audit_parse_hex(head_s, noted)) {
        fprintf(stderr, "spotlight audit verify: --head is the 64 hex digits that an earlier "
                        "verify printed, not '%s'\n", head_s);
        return EXIT_USAGE;
    }
    long long limit = 0;
    if (limit_s && (rc = parse_count("audit", "--limit", limit_s, 1, 1000000000LL, &limit))) return rc;
    if (since && (strlen(since) < 4 || strlen(since) > 20 || !(since[0] >= '0' && since[0] <= '9'))) {
        fprintf(stderr, "spotlight audit list: --since is a date such as 2026-01-31, not '%s'\n", since);
        return EXIT_USAGE;
    }
    hub h;
    if ((rc = hub_open(&h, db, 0))) return rc;
    if (verify) {
        sp_err err;
        audit_report rep;
        char hex[2 * AUDIT_HASH_LEN + 1];
        sp_err_init(&err);
        int r = audit_verify(h.store, head_s ? noted : NULL, &rep, &err);
        audit_hex(rep.head, hex);
        if (r == SP_OK) {
            printf("%lld entries, chain intact, head %s\n", rep.count, rep.count ? hex : "(none)");
            if (head_s) printf("the noted head is entry %lld\n", rep.noted_seq);
        } else if (r == SP_EINPUT) {
            sp_err_print(&err, stderr);
            if (rep.first_bad)
                fprintf(stderr, "spotlight audit verify: the chain is broken at entry %lld "
                                "(%lld entries read)\n", rep.first_bad, rep.count);
            rc = EXIT_REFUSED;
        } else {
            sp_err_print(&err, stderr);
            fprintf(stderr, "spotlight audit verify: %s\n", store_errmsg(h.store));
            rc = EXIT_OTHER;
        }
        sp_err_free(&err);
    } else {
        sp_audit_query q = {since, action, limit, 0};
        printf("%-6s %-20s %-28s %-16s %s\n", "seq", "at (UTC)", "actor", "action", "target");
        if (audit_scan(h.store, &q, audit_print_row, NULL)) {
            fprintf(stderr, "spotlight audit list: %s\n", store_errmsg(h.store));
            rc = EXIT_OTHER;
        }
    }
    hub_close(&h);
    return rc;
}

/* ------------------------------------------------------------ backup, restore */

static int cmd_backup(const char *db, int argc, char **argv)
{
    int force = 0;
    opt opts[] = {{"--force", 0, NULL, &force}, {NULL, 0, NULL, NULL}};
    char *pos[4];
    int npos, rc;
    if (argc > 4) return EXIT_USAGE;
    if ((rc = parse_opts("backup", argc, argv, opts, pos, NELEM(pos), &npos, NULL, NULL))) return rc;
    if (npos != 1 || !*pos[0]) {
        fprintf(stderr, "usage: spotlight backup [--db HUB] [--force] FILE\n");
        return EXIT_USAGE;
    }
    if (strcmp(pos[0], db) == 0) {
        fprintf(stderr, "spotlight backup: FILE is the hub itself\n");
        return EXIT_USAGE;
    }
    hub h;
    if ((rc = hub_open(&h, db, 0))) return rc;
    audit_context_cli();
    sp_err err;
    sp_err_init(&err);
    store_backup_info info;
    int r = store_backup_to(h.store, pos[0], force, &info, &err);
    sp_buf d;
    sp_buf_init(&d, 4096);
    audit_detail_int(&d, "ok", r == SP_OK);
    if (r == SP_OK) {
        audit_detail_int(&d, "bytes", info.bytes);
        audit_detail_int(&d, "records", info.records);
    } else {
        audit_detail_str(&d, "error", sp_err_last(&err));
    }
    int ar = audit_append(h.store, NULL, 0, "backup", pos[0], NULL, audit_detail_end(&d));
    sp_buf_free(&d);
    if (r) {
        rc = report_err("backup", &err, r);
    } else {
        printf("backed up %s to %s: %lld bytes, %lld records, integrity ok\n", db, pos[0], info.bytes,
               info.records);
        if (ar) {
            fprintf(stderr, "spotlight backup: the backup is good, but the audit entry could not be "
                            "written: %s\n", store_errmsg(h.store));
            rc = EXIT_OTHER;
        }
    }
    sp_err_free(&err);
    hub_close(&h);
    return rc;
}

static int cmd_restore(const char *db, int argc, char **argv)
{
    int force = 0;
    opt opts[] = {{"--force", 0, NULL, &force}, {NULL, 0, NULL, NULL}};
    char *pos[4];
    int npos, rc;
    if (argc > 4) return EXIT_USAGE;
    if ((rc = parse_opts("restore", argc, argv, opts, pos, NELEM(pos), &npos, NULL, NULL))) return rc;
    if (npos != 1 || !*pos[0]) {
        fprintf(stderr, "usage: spotlight restore [--db HUB] [--force] FILE\n");
        return EXIT_USAGE;
    }
    const char *from = pos[0];
    if (strcmp(from, db) == 0) {
        fprintf(stderr, "spotlight restore: FILE is the hub itself\n");
        return EXIT_USAGE;
    }
    sp_err err;
    sp_err_init(&err);
    store_backup_info info;
    char *tmp = NULL;
    hub h;
    int opened = 0;
    int r = store_backup_check(from, &info, &err);
    if (r) {
        sp_err_print(&err, stderr);
        fprintf(stderr, "spotlight restore: %s is not a usable spotlight hub; nothing was changed\n", from);
        rc = EXIT_REFUSED;
        goto out;
    }
    if (!force && access(db, F_OK) == 0) {
        fprintf(stderr, "spotlight restore: %s exists; nothing was changed (use --force to replace it)\n", db);
        rc = EXIT_REFUSED;
        goto out;
    }
    size_t n = strlen(db) + 5;
    tmp = sp_xmalloc(n);
    snprintf(tmp, n, "%s.tmp", db);
    if ((r = store_restore_copy(from, tmp, &err))) {
        rc = report_err("restore", &err, r);
        goto out;
    }
    /* the copy, not the backup file, is opened (and brought up to this
     * program's schema) and its audit chain checked */
    if ((rc = hub_open(&h, tmp, 0))) goto out;
    opened = 1;
    audit_report rep;
    if ((r = audit_verify(h.store, NULL, &rep, &err))) {
        sp_err_print(&err, stderr);
        fprintf(stderr, "spotlight restore: the audit log in %s does not verify; nothing was changed\n", from);
        rc = EXIT_REFUSED;
        goto out;
    }
    audit_context_cli();
    sp_buf d;
    sp_buf_init(&d, 4096);
    audit_detail_int(&d, "records", info.records);
    audit_detail_int(&d, "audit_entries", rep.count);
    audit_detail_str(&d, "into", db);
    r = audit_append(h.store, NULL, 0, "restore", from, NULL, audit_detail_end(&d));
    sp_buf_free(&d);
    if (r) {
        fprintf(stderr, "spotlight restore: cannot write the audit log: %s\n", store_errmsg(h.store));
        rc = EXIT_OTHER;
        goto out;
    }
    hub_close(&h);
    opened = 0;
    if ((r = store_restore_install(tmp, db, &err))) {
        rc = report_err("restore", &err, r);
        goto out;
    }
    printf("restored %s from %s: %lld records, %lld audit entries, chain intact\n", db, from,
           info.records, rep.count + 1);
out:
    if (opened) hub_close(&h);
    if (rc && tmp) {
        unlink(tmp);
        size_t m = strlen(tmp) + 6;
        char *side = sp_xmalloc(m);
        snprintf(side, m, "%s-wal", tmp);
        unlink(side);
        snprintf(side, m, "%s-shm", tmp);
        unlink(side);
        free(side);
    }
    free(tmp);
    sp_err_free(&err);
    return rc;
}

/* ------------------------------------------------------------ user, token */

/* Reads one line (the password) from f into out[AUTH_PASSWORD_MAX + 1],
 * dropping the line end. Returns 0, or -1 when the line is longer than
 * the cap or nothing could be read. */
static int read_secret_line(FILE *f, char *out)
{
    size_t n = 0;
    int c;
    while ((c = fgetc(f)) != EOF && c != '\n') {
        if (n >= AUTH_PASSWORD_MAX) {
            sodium_memzero(out, AUTH_PASSWORD_MAX + 1);
            return -1;
        }
        out[n++] = (char)c;
    }
    if (n == 0 && c == EOF) return -1;
    if (n && out[n - 1] == '\r') n--;
    out[n] = '\0';
    return 0;
}

/* Asks on the terminal, without echo. Returns 0, or -1 with no terminal. */
static int read_tty_password(const char *prompt, char *out)
{
    FILE *tty = fopen("/dev/tty", "r+");
    struct termios old, quiet;
    int rc = -1;
    if (!tty) return -1;
    if (tcgetattr(fileno(tty), &old) == 0) {
        quiet = old;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        quiet.c_lflag |= ECHONL;
        fputs(prompt, tty);
        fflush(tty);
        if (tcsetattr(fileno(tty), TCSAFLUSH, &quiet) == 0) {
            rc = read_secret_line(tty, out);
            tcsetattr(fileno(tty), TCSAFLUSH, &old);
        }
    }
    fclose(tty);
    return rc;
}

/* The new password of `email`: --password-file, --password-stdin, or the
 * terminal twice. Never from the command line. Returns an exit code. */
static int get_new_password(const char *email, const char *file, int use_stdin, char *pw)
{
    if (file && use_stdin) {
        fprintf(stderr, "spotlight user add: give --password-file or --password-stdin, not both\n");
        return EXIT_USAGE;
    }
    if (file || use_stdin) {
        FILE *f = use_stdin ? stdin : fopen(file, "r");
        if (!f) {
            fprintf(stderr, "spotlight user add: cannot read %s: %s\n", file, strerror(errno));
            return EXIT_USAGE;
        }
        int r = read_secret_line(f, pw);
        if (!use_stdin) fclose(f);
        if (r) {
            fprintf(stderr, "spotlight user add: no password in %s (one line of at most %d bytes)\n",
                    use_stdin ? "standard input" : file, AUTH_PASSWORD_MAX);
            return EXIT_REFUSED;
        }
        return EXIT_DONE;
    }
    char again[AUTH_PASSWORD_MAX + 1], prompt[AUTH_EMAIL_MAX + 64];
    snprintf(prompt, sizeof prompt, "New password for %s: ", email);
    if (read_tty_password(prompt, pw)) {
        fprintf(stderr, "spotlight user add: no terminal to ask for the password; "
                        "use --password-file FILE or --password-stdin\n");
        return EXIT_USAGE;
    }
    int rc = EXIT_DONE;
    if (read_tty_password("Again: ", again) || strcmp(pw, again) != 0) {
        fprintf(stderr, "spotlight user add: the two passwords differ; nothing was stored\n");
        rc = EXIT_REFUSED;
    }
    sodium_memzero(again, sizeof again);
    return rc;
}

static void fmt_time(long long t, char out[21])
{
    if (t <= 0) {
        snprintf(out, 21, "-");
        return;
    }
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(out, 21, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Opens the hub and its auth handle; prints and returns an exit code. */
static int auth_hub_open(hub *h, auth **a, const char *db, const char *cmd)
{
    sp_err err;
    int rc = hub_open(h, db, 0);
    if (rc) return rc;
    sp_err_init(&err);
    if (auth_open(a, h->store, &err)) {
        fprintf(stderr, "spotlight %s: ", cmd);
        sp_err_print(&err, stderr);
        hub_close(h);
        rc = EXIT_OTHER;
    }
    sp_err_free(&err);
    return rc;
}

static int audit_auth(sp_store *s, const char *action, long long org_id, const char *target,
                      const char *k1, const char *v1, const char *k2, long long v2)
{
    sp_buf d;
    sp_buf_init(&d, 4096);
    if (k1) audit_detail_str(&d, k1, v1);
    if (k2) audit_detail_int(&d, k2, v2);
    int r = audit_append(s, NULL, org_id, action, target, NULL, audit_detail_end(&d));
    sp_buf_free(&d);
    return r;
}

static int cmd_user(const char *db, int argc, char **argv)
{
    const char *org = NULL, *role_s = NULL, *pwfile = NULL;
    int pwstdin = 0, opened = 0;
    opt opts[] = {{"--org", 1, &org, NULL},
                  {"--role", 1, &role_s, NULL},
                  {"--password-file", 1, &pwfile, NULL},
                  {"--password-stdin", 0, NULL, &pwstdin},
                  {NULL, 0, NULL, NULL}};
    char **pos = sp_xcalloc((size_t)argc + 1, sizeof *pos);
    char pw[AUTH_PASSWORD_MAX + 1];
    hub h;
    auth *a = NULL;
    int npos, rc = parse_opts("user", argc, argv, opts, pos, argc + 1, &npos, NULL, NULL);
    pw[0] = '\0';
    if (rc) goto out;
    const char *sub = npos ? pos[0] : "list";
    int add = strcmp(sub, "add") == 0;
    if (!((add && npos == 2) || (strcmp(sub, "list") == 0 && npos <= 1) ||
          ((strcmp(sub, "disable") == 0 || strcmp(sub, "enable") == 0) && npos == 2))) {
        fprintf(stderr, "usage: spotlight user add EMAIL --org ORG --role contributor|analyst|admin\n"
                        "                          [--password-file FILE | --password-stdin]\n"
                        "       spotlight user list | user disable EMAIL | user enable EMAIL\n");
        rc = EXIT_USAGE;
        goto out;
    }
    auth_role role = AUTH_CONTRIBUTOR;
    if (add) {
        if (!org || !*org) {
            fprintf(stderr, "spotlight user add: say which organisation the account belongs to: --org NAME\n");
            rc = EXIT_USAGE;
            goto out;
        }
        if (!role_s || auth_role_parse(role_s, &role)) {
            fprintf(stderr, "spotlight user add: --role is contributor, analyst or admin, not '%s'\n",
                    role_s ? role_s : "");
            rc = EXIT_USAGE;
            goto out;
        }
    } else if (org || role_s || pwfile || pwstdin) {
        fprintf(stderr, "spotlight user %s: --org, --role and passwords go with user add\n", sub);
        rc = EXIT_USAGE;
        goto out;
    }
    if ((rc = auth_hub_open(&h, &a, db, "user"))) goto out;
    opened = 1;
    audit_context_cli();
    if (add) {
        sp_err err;
        long long id = 0;
        if ((rc = get_new_password(pos[1], pwfile, pwstdin, pw))) goto out;
        sp_err_init(&err);
        int r = store_begin(h.store);
        if (r == SP_OK) r = auth_user_add(a, pos[1], org, role, pw, &id, &err);
        sodium_memzero(pw, sizeof pw);
        auth_user u;
        memset(&u, 0, sizeof u);
        if (r == SP_OK) r = auth_user_find(a, pos[1], &u);
        if (r == SP_OK)
            r = audit_auth(h.store, "user_add", u.org_id, u.email, "role", auth_role_name(role), NULL, 0);
        if (r == SP_OK) r = store_commit(h.store);
        if (r != SP_OK) store_rollback(h.store);
        if (r == SP_OK) {
            printf("added user %lld: %s (%s, %s)\n", id, u.email, u.org_name, auth_role_name(role));
        } else if (err.n) {
            fprintf(stderr, "spotlight user add: ");
            sp_err_print(&err, stderr);
            rc = (r == SP_EINPUT || r == SP_EEXIST || r == SP_EUSAGE) ? EXIT_REFUSED : EXIT_OTHER;
        } else {
            fprintf(stderr, "spotlight user add: %s\n", store_errmsg(h.store));
            rc = EXIT_OTHER;
        }
        auth_user_free(&u);
        sp_err_free(&err);
    } else if (strcmp(sub, "list") == 0) {
        auth_user *list = NULL;
        size_t n = 0;
        if (auth_user_list(a, &list, &n)) {
            fprintf(stderr, "spotlight user list: %s\n", store_errmsg(h.store));
            rc = EXIT_OTHER;
            goto out;
        }
        printf("%-4s  %-32s  %-24s  %-11s  %-8s  %s\n", "id", "email", "organisation", "role", "status",
               "created");
        for (size_t i = 0; i < n; i++) {
            char t[21];
            fmt_time(list[i].created, t);
            printf("%-4lld  %-32s  %-24s  %-11s  %-8s  %s\n", list[i].id, list[i].email, list[i].org_name,
                   auth_role_name(list[i].role), list[i].disabled ? "disabled" : "active", t);
            auth_user_free(&list[i]);
        }
        free(list);
    } else {
        int dis = strcmp(sub, "disable") == 0;
        auth_user u;
        int r = auth_user_find(a, pos[1], &u);
        if (r == SP_EOF) {
            fprintf(stderr, "spotlight user %s: no account '%s'\n", sub, pos[1]);
            rc = EXIT_REFUSED;
            goto out;
        }
        if (r == SP_OK) r = store_begin(h.store);
        if (r == SP_OK) r = auth_user_set_disabled(a, pos[1], dis);
        if (r == SP_OK)
            r = audit_auth(h.store, dis ? "user_disable" : "user_enable", u.org_id, u.email, NULL, NULL,
                           NULL, 0);
        if (r == SP_OK) r = store_commit(h.store);
        else if (store_in_transaction(h.store)) store_rollback(h.store);
        if (r) {
            fprintf(stderr, "spotlight user %s: %s\n", sub, store_errmsg(h.store));
            rc = EXIT_OTHER;
        } else {
            printf("%s %s%s\n", dis ? "disabled" : "enabled", u.email,
                   dis ? " (its sessions ended; its API tokens are refused while disabled)" : "");
        }
        auth_user_free(&u);
    }
out:
    sodium_memzero(pw, sizeof pw);
    auth_close(a);
    if (opened) hub_close(&h);
    free(pos);
    return rc;
}

static int cmd_token(const char *db, int argc, char **argv)
{
    const char *user = NULL, *name = NULL;
    int opened = 0;
    opt opts[] = {{"--user", 1, &user, NULL}, {"--name", 1, &name, NULL}, {NULL, 0, NULL, NULL}};
    char **pos = sp_xcalloc((size_t)argc + 1, sizeof *pos);
    hub h;
    auth *a = NULL;
    int npos, rc = parse_opts("token", argc, argv, opts, pos, argc + 1, &npos, NULL, NULL);
    if (rc) goto out;
    const char *sub = npos ? pos[0] : "list";
    int create = strcmp(sub, "create") == 0, revoke = strcmp(sub, "revoke") == 0;
    long long id = 0;
    if (!((create && npos == 1 && user) || (revoke && npos == 2) ||
          (strcmp(sub, "list") == 0 && npos <= 1))) {
        fprintf(stderr, "usage: spotlight token create --user EMAIL [--name LABEL] | token revoke ID | "
                        "token list\n");
        rc = EXIT_USAGE;
        goto out;
    }
    if ((user || name) && !create) {
        fprintf(stderr, "spotlight token %s: --user and --name go with token create\n", sub);
        rc = EXIT_USAGE;
        goto out;
    }
    if (revoke && (rc = parse_count("token revoke", "ID", pos[1], 1, LLONG_MAX, &id))) goto out;
    if (name && (strlen(name) > 100 || !sp_utf8_valid(name, strlen(name)))) {
        fprintf(stderr, "spotlight token create: --name is at most 100 bytes of UTF-8\n");
        rc = EXIT_USAGE;
        goto out;
    }
    if ((rc = auth_hub_open(&h, &a, db, "token"))) goto out;
    opened = 1;
    audit_context_cli();
    if (create) {
        char tok[AUTH_TOKEN_CHARS + 1];
        auth_user u;
        int r = auth_user_find(a, user, &u);
        if (r == SP_EOF) {
            fprintf(stderr, "spotlight token create: no account '%s'\n", user);
            rc = EXIT_REFUSED;
            goto out;
        }
        if (r == SP_OK) r = store_begin(h.store);
        if (r == SP_OK) r = auth_token_create(a, user, name, &id, tok);
        if (r == SP_OK) r = audit_auth(h.store, "token_create", u.org_id, u.email, "name", name, "token", id);
        if (r == SP_OK) r = store_commit(h.store);
        else if (store_in_transaction(h.store)) store_rollback(h.store);
        if (r == SP_EINPUT) {
            fprintf(stderr, "spotlight token create: the account '%s' is disabled\n", u.email);
            rc = EXIT_REFUSED;
        } else if (r) {
            fprintf(stderr, "spotlight token create: %s\n", store_errmsg(h.store));
            rc = EXIT_OTHER;
        } else {
            fprintf(stderr, "token %lld for %s%s%s%s. It is shown only this once; keep it secret.\n"
                            "Send it as the header: Authorization: Bearer TOKEN\n",
                    id, u.email, name ? " (" : "", name ? name : "", name ? ")" : "");
            printf("%s\n", tok);
        }
        sodium_memzero(tok, sizeof tok);
        auth_user_free(&u);
    } else if (revoke) {
        int r = store_begin(h.store);
        if (r == SP_OK) r = auth_token_revoke(a, id);
        if (r == SP_OK) r = audit_auth(h.store, "token_revoke", 0, pos[1], NULL, NULL, "token", id);
        if (r == SP_OK) r = store_commit(h.store);
        else if (store_in_transaction(h.store)) store_rollback(h.store);
        if (r == SP_EOF) {
            fprintf(stderr, "spotlight token revoke: no live token %lld\n", id);
            rc = EXIT_REFUSED;
        } else if (r) {
            fprintf(stderr, "spotlight token revoke: %s\n", store_errmsg(h.store));
            rc = EXIT_OTHER;
        } else {
            printf("revoked token %lld\n", id);
        }
    } else {
        auth_token_info *list = NULL;
        size_t n = 0;
        if (auth_token_list(a, &list, &n)) {
            fprintf(stderr, "spotlight token list: %s\n", store_errmsg(h.store));
            rc = EXIT_OTHER;
            goto out;
        }
        printf("%-4s  %-32s  %-20s  %-20s  %-20s  %s\n", "id", "user", "name", "created", "last used",
               "status");
        for (size_t i = 0; i < n; i++) {
            char c[21], u[21], r[21], st[32];
            fmt_time(list[i].created, c);
            fmt_time(list[i].last_used, u);
            fmt_time(list[i].revoked, r);
            snprintf(st, sizeof st, list[i].revoked ? "revoked %s" : "active", r);
            printf("%-4lld  %-32s  %-20s  %-20s  %-20s  %s\n", list[i].id, list[i].email,
                   list[i].name ? list[i].name : "-", c, u, st);
            auth_token_info_free(&list[i]);
        }
        free(list);
    }
out:
    auth_close(a);
    if (opened) hub_close(&h);
    free(pos);
    return rc;
}

/* ------------------------------------------------------------ investigate */

/* Writes b to path ("-": standard output); 0 or an exit code. */
static int inv_write(const char *path, const sp_buf *b)
{
    FILE *f = strcmp(path, "-") == 0 ? stdout : fopen(path, "w");
    if (!f) {
        fprintf(stderr, "spotlight investigate: cannot write %s: %s\n", path, strerror(errno));
        return EXIT_OTHER;
    }
    int bad = fwrite(b->data, 1, b->len, f) != b->len;
    bad |= f == stdout ? fflush(f) != 0 : fclose(f) != 0;
    if (bad) {
        fprintf(stderr, "spotlight investigate: writing %s failed\n", path);
        return EXIT_OTHER;
    }
    return 0;
}

static void inv_audit_detail(sp_buf *d, const inv_params *p)
{
    audit_detail_int(d, "min_orgs", p->min_orgs);
    audit_detail_int(d, "min_cases", p->min_cases);
    if (p->type[0]) audit_detail_str(d, "type", p->type);
}

static int cmd_investigate(const char *db, int argc, char **argv)
{
    const char *min_orgs = NULL, *min_cases = NULL, *type = NULL, *format = NULL, *out = "-",
               *limit_s = NULL, *why = NULL;
    opt opts[] = {{"--min-orgs", 1, &min_orgs, NULL}, {"--min-cases", 1, &min_cases, NULL},
                  {"--type", 1, &type, NULL},         {"--format", 1, &format, NULL},
                  {"--out", 1, &out, NULL},           {"--limit", 1, &limit_s, NULL},
                  {NULL, 0, NULL, NULL}};
    char *pos[4];
    int npos, rc;
    inv_params p;
    if ((rc = parse_opts("investigate", argc, argv, opts, pos, NELEM(pos), &npos, NULL, NULL))) return rc;
    const char *sub = npos ? pos[0] : "";
    int k_list = strcmp(sub, "indicators") == 0 && npos == 1;
    int k_one = strcmp(sub, "indicator") == 0 && npos == 3;
    int k_net = strcmp(sub, "network") == 0 && npos == 1;
    int k_exp = strcmp(sub, "export") == 0 && npos == 1;
    if (!k_list && !k_one && !k_net && !k_exp) {
        fprintf(stderr, "usage: spotlight investigate indicators [--min-orgs N] [--min-cases N] "
                        "[--type T] [--limit N]\n"
                        "       spotlight investigate indicator TYPE HASH\n"
                        "       spotlight investigate network --out FILE.svg [--min-orgs N] ...\n"
                        "       spotlight investigate export --format csv|ftm [--out FILE] "
                        "[--min-orgs N] ...\n");
        return EXIT_USAGE;
    }
    invest_params_init(&p);
    if ((min_orgs && invest_param(&p, "min_orgs", min_orgs, &why)) ||
        (min_cases && invest_param(&p, "min_cases", min_cases, &why)) ||
        (type && invest_param(&p, "type", type, &why))) {
        fprintf(stderr, "spotlight investigate: %s\n", why);
        return EXIT_USAGE;
    }
    long long limit = 1000;
    if (limit_s && (rc = parse_count("investigate", "--limit", limit_s, 1, 100000, &limit))) return rc;
    if (k_exp && (!format || (strcmp(format, "csv") != 0 && strcmp(format, "ftm") != 0))) {
        fprintf(stderr, "spotlight investigate export: --format is csv or ftm\n");
        return EXIT_USAGE;
    }
    if (!k_exp && format) {
        fprintf(stderr, "spotlight investigate: --format is for export\n");
        return EXIT_USAGE;
    }
    char otype[SP_INV_TYPE_MAX + 1], ohash[SP_INV_HASH_MAX + 1];
    if (k_one) {
        char rest[SP_INV_TYPE_MAX + SP_INV_HASH_MAX + 2];
        if (strlen(pos[1]) > SP_INV_TYPE_MAX || strlen(pos[2]) > SP_INV_HASH_MAX) {
            fprintf(stderr, "spotlight investigate indicator: TYPE or HASH is too long\n");
            return EXIT_USAGE;
        }
        snprintf(rest, sizeof rest, "%s/%s", pos[1], pos[2]);
        if (invest_path_indicator(rest, otype, ohash, &why)) {
            fprintf(stderr, "spotlight investigate indicator: %s\n", why);
            return EXIT_USAGE;
        }
    }
    hub h;
    if ((rc = hub_open(&h, db, 0))) return rc;
    audit_context_cli();
    sp_buf d, b;
    sp_buf_init(&d, AUDIT_DETAIL_MAX);
    sp_buf_init(&b, 256u << 20);
    inv_view v = {0};
    sp_inv_indicator *list = NULL, one;
    size_t n = 0;
    int trunc = 0, r = SP_OK;
    memset(&one, 0, sizeof one);
    inv_audit_detail(&d, &p);
    if (k_list) {
        sp_inv_query q = {p.min_orgs, p.min_cases, p.type[0] ? p.type : NULL, 0, (size_t)limit};
        r = store_inv_indicators(h.store, &q, &list, &n, &trunc);
        audit_detail_int(&d, "shown", (long long)n);
        if (!r) r = audit_append(h.store, NULL, 0, "investigate.indicators", NULL, NULL, audit_detail_end(&d));
        if (!r) {
            printf("%-4s %-14s %-67s %4s %5s  %s\n", "#", "type", "hash", "orgs", "cases",
                   "cases per organisation; roles; years");
            for (size_t i = 0; i < n; i++) {
                const sp_inv_indicator *x = &list[i];
                printf("%-4zu %-14s %-67s %4zu %5lld  ", i + 1, x->type, x->hash, x->norgs, x->cases);
                for (size_t j = 0; j < x->norgs; j++)
                    printf("%s%s: %lld", j ? ", " : "", x->orgs[j].org_name, x->orgs[j].cases);
                printf("; %s; ", x->roles ? x->roles : "-");
                if (x->year_first) printf("%d-%d\n", x->year_first, x->year_last);
                else printf("-\n");
            }
            if (trunc) fprintf(stderr, "spotlight investigate: the first %zu are shown (--limit)\n", n);
            if (n == 0) fprintf(stderr, "spotlight investigate: no indicator matches\n");
        }
    } else if (k_one) {
        sp_inv_link *own = NULL;
        size_t nown = 0;
        r = store_inv_indicator(h.store, otype, ohash, 0, &one, &own, &nown, &trunc);
        store_inv_links_free(own, nown);
        char target[SP_INV_TYPE_MAX + SP_INV_HASH_MAX + 2];
        snprintf(target, sizeof target, "%s/%s", otype, ohash);
        int ra = audit_append(h.store, NULL, 0, "investigate.indicator", target, NULL, NULL);
        if (r == SP_EOF && !ra) {
            fprintf(stderr, "spotlight investigate indicator: no live case has this indicator\n");
            rc = EXIT_REFUSED;
            r = SP_OK;
        } else if (!r && !ra) {
            printf("%s %s: %lld case%s in %zu organisation%s; roles %s; years ", otype, ohash,
                   one.cases, one.cases == 1 ? "" : "s", one.norgs, one.norgs == 1 ? "" : "s",
                   one.roles ? one.roles : "-");
            if (one.year_first) printf("%d-%d\n", one.year_first, one.year_last);
            else printf("-\n");
            for (size_t j = 0; j < one.norgs; j++)
                printf("  %-40s %lld\n", one.orgs[j].org_name, one.orgs[j].cases);
        }
        if (!r) r = ra;
    } else {
        r = invest_view_load(h.store, &p, 0, &v);
        audit_detail_int(&d, "links", (long long)v.nlinks);
        if (v.g.truncated) audit_detail_int(&d, "truncated", 1);
        audit_detail_str(&d, "out", out);
        if (!r) r = audit_append(h.store, NULL, 0, k_net ? "investigate.network" : "investigate.export",
                                 k_net ? "svg" : format, NULL, audit_detail_end(&d));
        if (!r) {
            if (k_net) r = invest_svg(&v.g, 0, &b);
            else if (strcmp(format, "csv") == 0) r = invest_csv(&v.g, v.links, v.nlinks, &b);
            else r = invest_ftm(&v.g, v.links, v.nlinks, &b);
            if (!r) rc = inv_write(out, &b);
            if (!r && !rc)
                fprintf(stderr, "spotlight investigate: %zu links, %zu clusters%s\n", v.nlinks,
                        v.g.nclusters, v.g.truncated ? " (truncated at the caps)" : "");
        }
    }
    if (r == SP_EUSAGE) {
        fprintf(stderr, "spotlight investigate: this hub has no secret yet (run spotlight init)\n");
        rc = EXIT_USAGE;
    } else if (r == SP_ELIMIT) {
        fprintf(stderr, "spotlight investigate: the output is too large; narrow it with --min-orgs, "
                        "--min-cases or --type\n");
        rc = EXIT_REFUSED;
    } else if (r) {
        fprintf(stderr, "spotlight investigate: %s\n", store_errmsg(h.store));
        rc = EXIT_OTHER;
    }
    store_inv_indicators_free(list, n);
    store_inv_indicator_clear(&one);
    invest_view_free(&v);
    sp_buf_free(&b);
    sp_buf_free(&d);
    hub_close(&h);
    return rc;
}

/* ------------------------------------------------------------ dispatch */

static int cmd_help(const char *db, int argc, char **argv);
static int cmd_version(const char *db, int argc, char **argv)
{
    (void)db, (void)argc, (void)argv;
    printf("spotlight %s\n", SPOTLIGHT_VERSION);
    return EXIT_DONE;
}

static const command commands[] = {
    {"init", cmd_init, "create a hub, or bring an existing one up to date",
     "spotlight init [--db FILE]\n\n"
     "Creates the hub (a SQLite file) with its own secret, or upgrades an\n"
     "existing hub's schema. Safe to run again.\n"},
    {"import", cmd_import, "validate and store case records from CSV, XLSX or JSON files",
     "spotlight import --org NAME [--mapping NAME|FILE] [--sheet NAME] [--format csv|xlsx|json]\n"
     "                 [--dry-run] [--replace] [--quiet] FILE...\n\n"
     "Each file is one submission, stored whole or not at all. Every problem is\n"
     "reported as FILE:ROW: column 'C': value 'V': why [rule].\n"
     "  --org NAME       the reporting organisation (added if new, country unknown)\n"
     "  --mapping M      a built-in mapping (ctdc, ctdc-synthetic, kobo) or a mapping file\n"
     "                   (docs/mappings.md); without it columns match codebook names\n"
     "  --sheet NAME     the XLSX sheet to read (default: the first)\n"
     "  --dry-run        check everything, store nothing\n"
     "  --replace        accept a file already submitted, and replace this\n"
     "                   organisation's records that have the same case references\n"
     "  --quiet          no progress line\n"
     "  --key FILE       the organisations' key: hash indicator values shared in\n"
     "                   the clear now (else later, with spotlight rehash)\n"
     "Columns with names, birth dates or document numbers are refused: those\n"
     "go through spotlight encode at the organisation.\n"},
    {"org", cmd_org, "add and list organisations",
     "spotlight org add NAME [--country CC]\n"
     "spotlight org list\n"
     "spotlight org set-country NAME CC\n\n"
     "The country (ISO 3166-1 code or name) gives the organisation's UN region,\n"
     "which the --org-region filter uses.\n"},
    {"submissions", cmd_submissions, "list submissions",
     "spotlight submissions [--org NAME]\n"},
    {"stats", cmd_stats, "print an aggregate table (text, or the API's JSON)",
     "spotlight stats [--json] [--public] [--bands default|ctdc] [filters] TABLE\n\n"
     "Tables: industries-by-year, origins, destinations, flows, nationality,\n"
     "gender, age, recruitment, control. The JSON is the API's (docs/stats-json.md).\n"
     "Counts are exact; --public applies small-cell suppression (k: spotlight\n"
     "config get k) and prints exactly what the dashboard and API publish.\n"},
    {"export", cmd_export, "stream records as CSV, JSON or XLSX",
     "spotlight export [--format csv|json|xlsx] [--mapping htcds] [--out FILE]\n"
     "                 [--include-sensitive] [filters]\n\n"
     "Streams in constant memory. Cells that a spreadsheet would run as a\n"
     "formula (=, +, -, @) are neutralised. Sensitive fields (indicators,\n"
     "free text) are left out unless --include-sensitive.\n\n"
     "An administrator's tool, not a public output: it writes raw records,\n"
     "one per row, with no small-cell suppression. Never publish its output;\n"
     "public numbers come from the dashboard, the API or `spotlight report`,\n"
     "which hide counts under the hub's k (docs/privacy.md).\n"},
    {"demo", cmd_demo, "fill a hub with synthetic demo records, or write them as CSV",
     "spotlight demo [--records N] [--seed S]\n"
     "spotlight demo --export-csv FILE [--records N] [--seed S]\n\n"
     "Synthetic records are flagged as such in the store and in every output.\n"
     "The same seed gives the same records on every machine.\n"},
    {"serve", cmd_serve, "serve the dashboard and the JSON API over HTTP",
     "spotlight serve [--listen ADDR:PORT] [--threads N] [--quiet] [--behind-tls]\n"
     "                [--key FILE]\n\n"
     "Serves /api/v1/meta, /api/v1/stats/TABLE[.csv] (docs/api.md) and the\n"
     "dashboard. --listen defaults to 127.0.0.1:8080 ([::1]:PORT for IPv6;\n"
     "port 0 picks a free one); --threads to the number of cores. One log\n"
     "line per request on standard error unless --quiet. Stops on SIGINT or\n"
     "SIGTERM. --key FILE (or SPOTLIGHT_KEY_FILE): hash uploaded indicator\n"
     "values shared in the clear with the organisations' key. Answers are\n"
     "cached until the hub's data changes. --behind-tls:\n"
     "a TLS proxy serves the hub as https, so the portal's cookies carry Secure.\n"},
    {"report", report_main, "write the dashboard as static files (HTML, SVG, CSV, JSON)",
     "spotlight report --out DIR [--year-from Y] [--year-to Y] [--org-region REGION|all]\n"
     "                 [--industry X] [--gender X] [--nationality X] [--threshold N]\n\n"
     "Writes DIR/index.html (opens from disk, no server), DIR/app.css, every\n"
     "chart as DIR/svg/ID.svg and every table a chart links to as\n"
     "DIR/data/TABLE.csv and .json. --org-region defaults to Asia, as on the\n"
     "dashboard; --threshold (default 50) is the records a country needs for\n"
     "its own route or destination map.\n"},
    {"config", cmd_config, "hub settings: the suppression threshold k",
     "spotlight config get k\n"
     "spotlight config set k N\n\n"
     "k (default 10, 2 to 1000): no published count from 1 to k-1 is shown; it\n"
     "appears as \"<k\", and secondary suppression protects it (docs/privacy.md).\n"},
    {"codebook", cmd_codebook, "show the data standard",
     "spotlight codebook [--markdown | --json]\n"
     "spotlight codebook currencies\n\n"
     "currencies lists the ISO 4217 codes and names (from iso-codes) that the\n"
     "currency fields take.\n"},
    {"xlsform", cmd_xlsform, "write the codebook as an XLSForm for KoboToolbox / ODK",
     "spotlight xlsform --out FORM.xlsx\n\n"
     "Writes the standard's data-collection form (sheets survey, choices,\n"
     "settings; version = codebook version). Upload it to KoboToolbox or ODK\n"
     "Central; import its exports unchanged with --mapping kobo\n"
     "(docs/xlsform.md).\n"},
    {"encode", cmd_encode, "at a partner: hash identifiers and encode persons before upload",
     "spotlight encode --new-key FILE\n"
     "spotlight encode --key FILE [--mapping M] [--sheet S] [--format csv|xlsx|json]\n"
     "                 [--out FILE] IN > OUT.csv\n\n"
     "Runs at the organisation, never at the hub. Writes IN as CSV with every\n"
     "indicator value replaced by its keyed hash (h1:..., or h1x:... for a value\n"
     "that fails its check), and given_name, family_name, birth_date, sex and\n"
     "document_number replaced by person_clk, person_block and person_doc; those\n"
     "clear columns are dropped, and so is any column the hub would not read\n"
     "(with a warning); every other column is copied as it is. The\n"
     "output imports into the hub like any file (with the same --mapping).\n"
     "All or nothing: a row with a problem is reported FILE:ROW: column: why and\n"
     "nothing is written.\n"
     "  --new-key FILE   make a new random key (mode 0600; never overwrites)\n"
     "  --key FILE       the key shared by the participating organisations\n"
     "  --out FILE       write there (only when complete) instead of standard output\n"
     "See docs/investigations.md and docs/identifiers.md.\n"},
    {"rehash", cmd_rehash, "at the hub: hash the indicator values shared in the clear",
     "spotlight rehash --key FILE\n\n"
     "Fills the match key of every indicator value that was imported in the\n"
     "clear while the hub had no key (import and serve take --key too). Audited.\n"},
    {"template", cmd_template, "write a blank CSV or XLSX template to fill in",
     "spotlight template [--format csv|xlsx] --out FILE\n\n"
     "CSV: the header row of every column import reads. XLSX: the same header\n"
     "in sheet records, plus sheet help (one row per column: label, type,\n"
     "allowed values, help, required) and sheet values (codes and labels).\n"},
    {"investigate", cmd_investigate, "indicators shared across organisations, their network, exports",
     "spotlight investigate indicators [--min-orgs N] [--min-cases N] [--type T] [--limit N]\n"
     "spotlight investigate indicator TYPE HASH\n"
     "spotlight investigate network --out FILE.svg [--min-orgs N] [--min-cases N] [--type T]\n"
     "spotlight investigate export --format csv|ftm [--out FILE] [--min-orgs N] ...\n\n"
     "Reads the indicators' match keys (keyed hashes, never values) of live\n"
     "records. indicators: those found in cases of at least --min-orgs\n"
     "organisations (default 2) and --min-cases cases (default 1), with the\n"
     "cases per organisation, roles and years. indicator: one match key's\n"
     "counts per organisation. network: the cases connected through those\n"
     "indicators as an SVG graph, clusters ranked by size. export: one row\n"
     "per indicator-case link (csv), or FollowTheMoney entities, one JSON\n"
     "object per line (ftm). Cases appear only as opaque tokens, never with\n"
     "their organisation's case reference. Every run is audited\n"
     "(investigate.*). docs/investigations.md.\n"},
    {"link", cmd_link, "link the same person across organisations; count them once",
     "spotlight link [--threshold T] [--dry-run]\n"
     "spotlight link list [--status proposed|confirmed|rejected]\n"
     "spotlight link confirm A B\n"
     "spotlight link reject A B\n\n"
     "Compares the person encodings (person_clk, made by spotlight encode at each\n"
     "organisation) of live records within blocks (person_block), only across\n"
     "different organisations, and proposes links one to one per pair of\n"
     "organisations at Dice >= T (default 0.80). A linked person is counted once\n"
     "in every aggregate (the lowest-numbered record is kept). A confirmed or\n"
     "rejected link keeps its status on every later run; a rejected one is not\n"
     "counted as one person. Prints counts, record ids, scores and organisation\n"
     "names only, never a record's cells. Runs and decisions are audited\n"
     "(docs/linkage.md).\n"},
    {"audit", cmd_audit, "check or list the audit log",
     "spotlight audit verify [--head HEX]\n"
     "spotlight audit list [--since DATE] [--action A] [--limit N]\n\n"
     "Every upload, export, organisation change, backup and restore (and, on\n"
     "the server, every login and view of case-level data) appends one entry.\n"
     "Entries are hash-chained with the hub's secret: verify recomputes the\n"
     "chain, prints the number of entries and the head hash (note it somewhere\n"
     "else), and exits 1 naming the first changed or missing entry. A log cut\n"
     "short at its end is only detectable against a noted head: --head HEX\n"
     "checks that the noted entry is still there (docs/audit.md).\n"},
    {"backup", cmd_backup, "copy the hub to a file, safely while it is in use",
     "spotlight backup [--force] FILE\n\n"
     "Copies the hub with SQLite's online backup API (a running server and\n"
     "imports go on), to FILE.tmp first, then renames it; checks the copy\n"
     "(integrity_check) and prints its size and record count. Refuses an\n"
     "existing FILE unless --force. A backup holds case-level data and the\n"
     "hub's secret: keep it as safe as the hub.\n"},
    {"restore", cmd_restore, "replace the hub with a backup",
     "spotlight restore [--force] FILE\n\n"
     "Checks that FILE is a spotlight hub (schema, integrity_check, audit\n"
     "chain), copies it to the hub's path (via HUB.tmp and a rename). Refuses\n"
     "when the hub exists unless --force, and while another process (a\n"
     "server) has the hub open.\n"},
    {"user", cmd_user, "add, list and disable the people who sign in",
     "spotlight user add EMAIL --org ORG --role contributor|analyst|admin\n"
     "                  [--password-file FILE | --password-stdin]\n"
     "spotlight user list\n"
     "spotlight user disable EMAIL\n"
     "spotlight user enable EMAIL\n\n"
     "The password is asked twice on the terminal without echo, or read as the\n"
     "first line of FILE or of standard input (for scripts); never from the\n"
     "command line. At least 12 characters, not containing the email address or\n"
     "the organisation's name. Stored only as an Argon2id hash. A contributor sees\n"
     "and submits only its organisation's records; an analyst sees link results;\n"
     "an admin manages organisations and users (docs/auth.md). Disabling ends the\n"
     "account's sessions and refuses its API tokens.\n"},
    {"token", cmd_token, "create, list and revoke API tokens",
     "spotlight token create --user EMAIL [--name LABEL]\n"
     "spotlight token revoke ID\n"
     "spotlight token list\n\n"
     "create prints the token (sp_...) once on standard output; the hub keeps\n"
     "only a keyed hash of it. Send it as \"Authorization: Bearer TOKEN\". A token\n"
     "acts with its user's role and organisation.\n"},
    {"help", cmd_help, "help on a command", "spotlight help [COMMAND]\n"},
    {"version", cmd_version, "print the version", "spotlight version\n"},
};
#define NCOMMANDS (sizeof commands / sizeof commands[0])

static void usage(FILE *out)
{
    fprintf(out,
            "spotlight: pooled, privacy-safe case data on trafficking into scam compounds\n\n"
            "usage: spotlight [--db FILE] COMMAND [options]\n\n"
            "The hub is --db FILE, else $SPOTLIGHT_DB, else ./spotlight.db.\n\ncommands:\n");
    for (size_t i = 0; i < NCOMMANDS; i++)
        fprintf(out, "  %-12s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\nexit codes: 0 done, 1 input refused (nothing stored), 2 usage error, 3 other error\n"
                 "spotlight help COMMAND, and man ./docs/spotlight.1\n");
}

static int cmd_help(const char *db, int argc, char **argv)
{
    (void)db;
    if (argc == 0) {
        usage(stdout);
        return EXIT_DONE;
    }
    for (size_t i = 0; i < NCOMMANDS; i++) {
        if (strcmp(commands[i].name, argv[0]) == 0) {
            printf("%s", commands[i].usage);
            if (strcmp(argv[0], "stats") == 0 || strcmp(argv[0], "export") == 0)
                printf("\n%s", filter_help);
            return EXIT_DONE;
        }
    }
    fprintf(stderr, "spotlight help: no command '%s'\n", argv[0]);
    return EXIT_USAGE;
}

int cli_main(int argc, char **argv)
{
    const char *db = getenv("SPOTLIGHT_DB");
    if (!db || !*db) db = "spotlight.db";
    if (sodium_init() < 0) {
        fprintf(stderr, "spotlight: libsodium failed to start\n");
        return EXIT_OTHER;
    }
    /* --db may stand anywhere; take it out of argv */
    char **args = sp_xcalloc((size_t)argc + 1, sizeof *args);
    int n = 0, rc;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--db") == 0) {
            if (i + 1 >= argc) {
                fprintf(stderr, "spotlight: --db needs a file name\n");
                free(args);
                return EXIT_USAGE;
            }
            db = argv[++i];
        } else if (strncmp(argv[i], "--db=", 5) == 0) {
            db = argv[i] + 5;
        } else {
            args[n++] = argv[i];
        }
    }
    if (n == 0) {
        usage(stderr);
        free(args);
        return EXIT_USAGE;
    }
    if (strcmp(args[0], "--help") == 0 || strcmp(args[0], "-h") == 0) {
        usage(stdout);
        free(args);
        return EXIT_DONE;
    }
    if (strcmp(args[0], "--version") == 0) args[0] = "version";
    for (size_t i = 0; i < NCOMMANDS; i++) {
        if (strcmp(commands[i].name, args[0]) == 0) {
            /* "spotlight import --help" works like "spotlight help import" */
            for (int k = 1; k < n; k++) {
                if (strcmp(args[k], "--help") == 0 || strcmp(args[k], "-h") == 0) {
                    printf("%s", commands[i].usage);
                    free(args);
                    return EXIT_DONE;
                }
            }
            rc = commands[i].fn(db, n - 1, args + 1);
            free(args);
            return rc;
        }
    }
    fprintf(stderr, "spotlight: no command '%s' (spotlight help lists them)\n", args[0]);
    free(args);
    return EXIT_USAGE;
}
