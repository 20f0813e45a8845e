/* api.c -- see api.h. Query parameters map one to one onto
 * stats_filter_set; the JSON is stats_to_json's, dumped compact.
 *
 * Everything served is public: a table goes through
 * privacy_apply_filtered with the hub's k and is checked with
 * privacy_check before a byte of it is written (docs/privacy.md); a hidden
 * count is null in JSON and "<k" in CSV. */
#include "api.h"
#include "export.h"
#include "privacy.h"
#include "stats.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define API_JSON "application/json; charset=utf-8"
#define API_PREFIX "/api/v1/stats/"

/* Sets out to a JSON error: {"error": msg, "parameter": param} (param may
 * be NULL: left out). */
static int json_error(serve_reply *out, int status, const char *msg, const char *param)
{
    json_t *o = json_object();
    json_object_set_new(o, "error", json_string(msg));
    if (param) {
        json_t *p = json_string(param);
        json_object_set_new(o, "parameter", p ? p : json_null());
    }
    char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(o);
    out->status = status;
    out->content_type = API_JSON;
    sp_buf_reset(&out->body);
    int rc = s ? sp_buf_adds(&out->body, s) : SP_ENOMEM;
    if (!rc) rc = sp_buf_addc(&out->body, '\n');
    free(s);
    return rc;
}

static int json_reply(serve_reply *out, json_t *o)
{
    char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10));
    if (!s) return SP_ENOMEM;
    out->status = 200;
    out->content_type = API_JSON;
    int rc = sp_buf_adds(&out->body, s);
    if (!rc) rc = sp_buf_addc(&out->body, '\n');
    free(s);
    return rc;
}

typedef struct years_ud { long long lo, hi; int k; } years_ud;

/* The years spanned, counting only years with at least k records (a year
 * with a handful of records is not named). */
static int years_cb(const char *const *vals, long long count, void *ud)
{
    years_ud *y = ud;
    long long v;
    if (!vals[0] || count < y->k || sp_parse_int(vals[0], strlen(vals[0]), &v)) return 0;
    if (y->lo == 0 || v < y->lo) y->lo = v;
    if (y->hi == 0 || v > y->hi) y->hi = v;
    return 0;
}

int api_meta(serve_ctx *ctx, const http_request *req, serve_reply *out)
{
    if (req->nparams)
        return json_error(out, 400, "/api/v1/meta takes no query parameters", req->params[0].key);
    long long records = 0, dups = 0;
    sp_org *orgs = NULL;
    size_t norgs = 0;
    sp_submission *subs = NULL;
    size_t nsubs = 0;
    years_ud y = {0, 0, PRIVACY_K_DEFAULT};
    const char *dims[] = {"year_identified"};
    int rc;
    if ((rc = privacy_k(ctx->store, &y.k))) {
        rc = json_error(out, 500, "the hub's suppression threshold k is unreadable or out of range", NULL);
        out->no_store = 1;
        goto done;
    }
    if ((rc = store_count_records(ctx->store, NULL, &records)) ||
        (rc = store_org_list(ctx->store, &orgs, &norgs)) ||
        (rc = store_submission_list(ctx->store, 0, &subs, &nsubs)) ||
        (rc = store_count(ctx->store, NULL, dims, 1, years_cb, &y)) ||
        (rc = store_dup_count(ctx->store, &dups))) {
        rc = json_error(out, 500, "the hub could not be read", NULL);
        out->no_store = 1;
        goto done;
    }
    int synthetic = 0;
    for (size_t i = 0; i < nsubs; i++)
        if (subs[i].synthetic && subs[i].rows > 0 && strcmp(subs[i].status, "stored") == 0)
            synthetic = 1;
    json_t *o = json_object();
    int records_hidden = records > 0 && records < y.k;
    json_object_set_new(o, "records", records_hidden ? json_null() : json_integer(records));
    json_object_set_new(o, "organisations", json_integer((json_int_t)norgs));
    /* records counted once because the same person was linked across
     * organisations (docs/linkage.md); from 1 to k-1 it is hidden */
    int dups_hidden = dups > 0 && dups < y.k;
    json_object_set_new(o, "duplicates_merged", dups_hidden ? json_null() : json_integer(dups));
    json_t *yr = json_array();
    json_array_append_new(yr, y.lo ? json_integer(y.lo) : json_null());
    json_array_append_new(yr, y.hi ? json_integer(y.hi) : json_null());
    json_object_set_new(o, "years", yr);
    json_object_set_new(o, "generation", json_integer(ctx->generation));
    json_object_set_new(o, "codebook_version", json_string(ctx->cb->version));
    json_t *tabs = json_array();
    size_t nt;
    const char *const *names = stats_table_names(&nt);
    for (size_t i = 0; i < nt; i++) json_array_append_new(tabs, json_string(names[i]));
    json_object_set_new(o, "tables", tabs);
    json_object_set_new(o, "synthetic", json_boolean(synthetic));
    json_t *sup = json_object();
    json_object_set_new(sup, "k", json_integer(y.k));
    json_object_set_new(sup, "records_suppressed", json_boolean(records_hidden));
    json_object_set_new(sup, "duplicates_merged_suppressed", json_boolean(dups_hidden));
    json_object_set_new(o, "suppression", sup);
    rc = json_reply(out, o);
    json_decref(o);
done:
    for (size_t i = 0; i < norgs; i++) store_org_free(&orgs[i]);
    free(orgs);
    for (size_t i = 0; i < nsubs; i++) store_submission_free(&subs[i]);
    free(subs);
    return rc;
}

/* The API's parameter names, canonical first. */
static const char *param_canonical(const char *k)
{
    static const char *const names[][2] = {
        {"year_from", "year-from"}, {"year_to", "year-to"}, {"org_region", "org-region"},
        {"where", "where"},         {"bands", "bands"},
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(k, names[i][0]) == 0 || strcmp(k, names[i][1]) == 0) return names[i][0];
    return NULL;
}

/* "gender:male" -> "gender=male" (the first ':' or '=' separates; field
 * names hold neither). */
static void where_value(const char *v, char *out, size_t cap)
{
    snprintf(out, cap, "%s", v);
    char *sep = strpbrk(out, ":=");
    if (sep) *sep = '=';
}

int api_stats(serve_ctx *ctx, const http_request *req, serve_reply *out)
{
    char table[128];
    const char *name = req->path + strlen(API_PREFIX);
    size_t nl = strlen(name);
    int csv = 0;
    if (nl > 4 && strcmp(name + nl - 4, ".csv") == 0) {
        csv = 1;
        nl -= 4;
    }
    size_t nt;
    const char *const *names = stats_table_names(&nt);
    int known = 0;
    if (nl < sizeof table) {
        memcpy(table, name, nl);
        table[nl] = '\0';
        for (size_t i = 0; i < nt; i++) known |= strcmp(names[i], table) == 0;
    }
    if (!known) {
        json_t *o = json_object();
        json_object_set_new(o, "error", json_string("no such table"));
        json_t *tabs = json_array();
        for (size_t i = 0; i < nt; i++) json_array_append_new(tabs, json_string(names[i]));
        json_object_set_new(o, "tables", tabs);
        int rc = json_reply(out, o);
        json_decref(o);
        out->status = 404;
        return rc;
    }
    stats_filter sf;
    stats_filter_init(&sf);
    sp_err err;
    sp_err_init(&err);
    stats_opts so = {STATS_BANDS_DEFAULT};
    stats_table *t = NULL;
    int rc = SP_OK, seen_once = 0;
    static const char *const once[] = {"year_from", "year_to", "org_region", "bands"};
    for (size_t i = 0; i < req->nparams; i++) {
        const http_param *p = &req->params[i];
        const char *k = param_canonical(p->key);
        if (!k) {
            rc = json_error(out, 400, "unknown parameter: the parameters are year_from, year_to, "
                                      "org_region, where and bands", p->key);
            goto done;
        }
        for (size_t j = 0; j < 4; j++) {
            if (strcmp(k, once[j]) != 0) continue;
            if (seen_once & (1 << j)) {
                rc = json_error(out, 400, "this parameter may be given only once", k);
                goto done;
            }
            seen_once |= 1 << j;
        }
        if (strcmp(k, "bands") == 0) {
            if (stats_bands_parse(p->value, &so.bands)) {
                rc = json_error(out, 400, "bands is default or ctdc", k);
                goto done;
            }
            continue;
        }
        char wv[HTTP_MAX_LINE];
        const char *v = p->value;
        if (strcmp(k, "where") == 0) {
            where_value(p->value, wv, sizeof wv);
            v = wv;
        }
        sp_err_clear(&err);
        if (stats_filter_set(&sf, ctx->cb, k, v, &err)) {
            rc = json_error(out, 400, err.n ? sp_err_last(&err) : "bad value", k);
            goto done;
        }
    }
    sp_err_clear(&err);
    int k = PRIVACY_K_DEFAULT;
    int r = privacy_k(ctx->store, &k);
    if (r) sp_err_add(&err, NULL, 0, NULL, NULL, 0, "bad-k",
                      "the hub's suppression threshold k is unreadable or out of range");
    if (!r) r = stats_compute(ctx->store, ctx->cb, table, &sf.f, &so, &t, &err);
    if (!r) r = privacy_apply_filtered(ctx->store, ctx->cb, t, &sf.f, k, &err);
    if (!r && privacy_check(t, k) != 0) {
        /* fail closed: a table the check finds fault with is not served */
        r = SP_EINPUT;
        sp_err_add(&err, NULL, 0, NULL, table, strlen(table), "suppression-check",
                   "the table failed the small-cell check and is not published");
    }
    if (r) {
        rc = json_error(out, r == SP_EUSAGE ? 400 : 500,
                        err.n ? sp_err_last(&err) : "the table could not be computed", NULL);
        out->no_store = 1;
        goto done;
    }
    if (csv) {
        out->status = 200;
        out->content_type = "text/csv; charset=utf-8";
        snprintf(out->extra, sizeof out->extra,
                 "Content-Disposition: attachment; filename=\"%s.csv\"\r\n", table);
        rc = stats_to_csv(t, &out->body);
    } else {
        json_t *o = stats_to_json(t);
        rc = o ? json_reply(out, o) : SP_ENOMEM;
        json_decref(o);
    }
done:
    stats_table_free(t);
    stats_filter_free(&sf);
    sp_err_free(&err);
    return rc;
}
