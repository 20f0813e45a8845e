/* analyst.c -- the analyst's investigation pages (analyst.h). Reads only
 * through store_inv_* and invest_*; writes HTML only escaped; audits
 * every view and export before it answers. */
#include "analyst.h"

#include <stdlib.h>
#include <string.h>

#include "invest.h"

#define TOP_INDICATORS 20      /* on the overview */
#define TOP_CLUSTERS 10
#define LIST_MAX 500           /* /analyst/indicators */

/* Reads the query into p: every parameter must be known and valid. */
static int read_params(const http_request *req, inv_params *p, const char **why)
{
    invest_params_init(p);
    for (size_t i = 0; i < req->nparams; i++)
        if (invest_param(p, req->params[i].key, req->params[i].value, why)) return -1;
    return 0;
}

/* "?min_orgs=2&min_cases=1&type=T": the same listing on another page. */
static void params_query(sp_buf *b, const inv_params *p)
{
    sp_buf_printf(b, "?min_orgs=%d&amp;min_cases=%d", p->min_orgs, p->min_cases);
    if (p->type[0]) sp_buf_printf(b, "&amp;type=%s", p->type);   /* [a-z_] only */
}

/* One audit entry for what is about to be shown. */
static int audit_view(const portal_req *r, const char *action, const char *target,
                      const inv_params *p, long long shown, int truncated)
{
    sp_buf d;
    sp_buf_init(&d, AUDIT_DETAIL_MAX);
    if (p) {
        audit_detail_int(&d, "min_orgs", p->min_orgs);
        audit_detail_int(&d, "min_cases", p->min_cases);
        if (p->type[0]) audit_detail_str(&d, "type", p->type);
    }
    audit_detail_int(&d, "shown", shown);
    if (truncated) audit_detail_int(&d, "truncated", 1);
    int rc = audit_append(r->ctx->store, r->who->actor, r->who->p.org_id, action, target, r->remote,
                          audit_detail_end(&d));
    sp_buf_free(&d);
    return rc;
}

static void nav(sp_buf *b)
{
    sp_buf_adds(b, "<nav><a href=\"/portal\">Portal</a> &middot; <a href=\"/analyst\">Overview</a>"
                   " &middot; <a href=\"/analyst/indicators\">Shared indicators</a>"
                   " &middot; <a href=\"/analyst/network\">Network</a>"
                   " &middot; <a href=\"/analyst/export.csv\">CSV</a>"
                   " &middot; <a href=\"/analyst/export.ftm.json\">FtM entities</a></nav>\n");
}

static void hash_link(sp_buf *b, const char *type, const char *hash)
{
    char sh[9];
    const char *c = strchr(hash, ':');
    const char *h = c ? c + 1 : hash;
    size_t n = strnlen(h, 8);
    memcpy(sh, h, n);
    sh[n] = '\0';
    sp_buf_adds(b, "<a href=\"/analyst/indicators/");
    sp_buf_add_htmls(b, type);
    sp_buf_addc(b, '/');
    sp_buf_add_htmls(b, hash);
    sp_buf_adds(b, "\"><code>");
    sp_buf_add_htmls(b, sh);
    sp_buf_adds(b, "</code></a>");
}

/* "a,b" as "a, b" (codes: no escaping needed beyond the usual) */
static void roles_html(sp_buf *b, const char *roles)
{
    if (!roles) return;
    for (const char *p = roles; *p;) {
        size_t n = strcspn(p, ",");
        sp_buf_add_html(b, p, n);
        p += n;
        if (*p == ',') {
            sp_buf_adds(b, ", ");
            p++;
        }
    }
}

static void years(sp_buf *b, int first, int last)
{
    if (!first) sp_buf_adds(b, "&ndash;");
    else if (first == last) sp_buf_printf(b, "%d", first);
    else sp_buf_printf(b, "%d&ndash;%d", first, last);
}

/* The table of indicators. */
static void indicator_table(sp_buf *b, const sp_inv_indicator *v, size_t n)
{
    sp_buf_adds(b, "<table class=\"indicators\">\n<thead><tr><th>#</th><th>Type</th><th>Hash</th>"
                   "<th>Organisations</th><th>Cases</th><th>Cases per organisation</th>"
                   "<th>Roles</th><th>Years</th></tr></thead>\n<tbody>\n");
    for (size_t i = 0; i < n; i++) {
        const sp_inv_indicator *x = &v[i];
        sp_buf_printf(b, "<tr><td>%zu</td><td>", i + 1);
        sp_buf_add_htmls(b, x->type);
        sp_buf_adds(b, "</td><td>");
        hash_link(b, x->type, x->hash);
        sp_buf_printf(b, "</td><td>%zu</td><td>%lld</td><td>", x->norgs, x->cases);
        for (size_t j = 0; j < x->norgs; j++) {
            if (j) sp_buf_adds(b, ", ");
            sp_buf_add_htmls(b, x->orgs[j].org_name);
            sp_buf_printf(b, ": %lld", x->orgs[j].cases);
        }
        sp_buf_adds(b, "</td><td>");
        roles_html(b, x->roles);
        sp_buf_adds(b, "</td><td>");
        years(b, x->year_first, x->year_last);
        sp_buf_adds(b, "</td></tr>\n");
    }
    sp_buf_adds(b, "</tbody>\n</table>\n");
}

/* Clusters ordered by `by_orgs` (rank by organisations) or by size. */
static void cluster_table(sp_buf *b, const inv_graph *g, int by_orgs, size_t max)
{
    size_t n = g->nclusters < max ? g->nclusters : max;
    sp_buf_printf(b, "<table class=\"clusters\" id=\"clusters-by-%s\">\n<thead><tr><th>Rank</th>"
                     "<th>Cases</th><th>Indicators</th><th>Organisations</th></tr></thead>\n<tbody>\n",
                  by_orgs ? "orgs" : "size");
    for (size_t k = 0; k < n; k++) {
        const inv_cluster *c = NULL;
        if (!by_orgs) c = &g->clusters[k];
        else
            for (size_t j = 0; j < g->nclusters; j++)
                if (g->clusters[j].rank_orgs == k + 1) c = &g->clusters[j];
        if (!c) break;
        sp_buf_printf(b, "<tr><td>%zu</td><td>%zu</td><td>%zu</td><td>%zu</td></tr>\n", k + 1,
                      c->ncases, c->nindicators, c->norgs);
    }
    sp_buf_adds(b, "</tbody>\n</table>\n");
}

static int refuse_query(serve_reply *out, const char *why)
{
    return portal_message(out, 400, "Bad request", why);
}

/* ------------------------------------------------------------ pages */

static int page_overview(const portal_req *r, serve_reply *out)
{
    inv_params p;
    const char *why = NULL;
    sp_inv_indicator *v = NULL;
    size_t n = 0;
    int trunc = 0, rc;
    inv_view view = {0};
    if (read_params(r->req, &p, &why)) return refuse_query(out, why);
    sp_inv_query q = {p.min_orgs, p.min_cases, p.type[0] ? p.type : NULL, 0, TOP_INDICATORS};
    if ((rc = store_inv_indicators(r->ctx->store, &q, &v, &n, &trunc))) goto done;
    if ((rc = invest_view_load(r->ctx->store, &p, 0, &view))) goto done;
    if ((rc = audit_view(r, "investigate.overview", NULL, &p, (long long)n, trunc || view.g.truncated)))
        goto done;
    portal_page_start(out, "Investigations");
    sp_buf *b = &out->body;
    sp_buf_adds(b, "<h1>Investigations</h1>\n");
    nav(b);
    sp_buf_printf(b, "<p>Indicators (keyed hashes, never values) found in cases of at least %d "
                     "organisation%s. Counts are per organisation; no other organisation's "
                     "records are shown. This view is recorded in the audit log.</p>\n",
                  p.min_orgs, p.min_orgs == 1 ? "" : "s");
    sp_buf_printf(b, "<h2>Shared indicators</h2>\n");
    if (n == 0) sp_buf_adds(b, "<p id=\"none\">No indicator is shared yet.</p>\n");
    else indicator_table(b, v, n);
    if (trunc)
        sp_buf_printf(b, "<p class=\"note\">The first %d are shown: <a href=\"/analyst/indicators\">"
                         "all shared indicators</a>.</p>\n", TOP_INDICATORS);
    size_t ncases = 0;
    for (size_t i = 0; i < view.g.nnodes; i++) ncases += view.g.nodes[i].is_case;
    sp_buf_printf(b, "<h2>Clusters of connected cases</h2>\n<p>%zu cluster%s, %zu cases, %zu "
                     "indicators.%s <a href=\"/analyst/network\">See the network</a>.</p>\n",
                  view.g.nclusters, view.g.nclusters == 1 ? "" : "s", ncases,
                  view.g.nnodes - ncases, view.g.truncated ? " (truncated)" : "");
    sp_buf_adds(b, "<h3>By size</h3>\n");
    cluster_table(b, &view.g, 0, TOP_CLUSTERS);
    sp_buf_adds(b, "<h3>By organisations involved</h3>\n");
    cluster_table(b, &view.g, 1, TOP_CLUSTERS);
    rc = portal_page_end(out);
done:
    store_inv_indicators_free(v, n);
    invest_view_free(&view);
    return rc;
}

static int page_indicators(const portal_req *r, serve_reply *out)
{
    inv_params p;
    const char *why = NULL;
    sp_inv_indicator *v = NULL;
    size_t n = 0;
    int trunc = 0, rc;
    if (read_params(r->req, &p, &why)) return refuse_query(out, why);
    sp_inv_query q = {p.min_orgs, p.min_cases, p.type[0] ? p.type : NULL, 0, LIST_MAX};
    if ((rc = store_inv_indicators(r->ctx->store, &q, &v, &n, &trunc))) goto done;
    if ((rc = audit_view(r, "investigate.indicators", NULL, &p, (long long)n, trunc))) goto done;
    portal_page_start(out, "Shared indicators");
    sp_buf *b = &out->body;
    sp_buf_adds(b, "<h1>Shared indicators</h1>\n");
    nav(b);
    sp_buf_adds(b, "<form method=\"get\" action=\"/analyst/indicators\">"
                   "<label>Organisations at least <input name=\"min_orgs\" type=\"number\" min=\"1\" "
                   "max=\"100\" value=\"");
    sp_buf_printf(b, "%d\"></label> <label>Cases at least <input name=\"min_cases\" type=\"number\" "
                     "min=\"1\" max=\"100000\" value=\"%d\"></label> <label>Type <input name=\"type\" "
                     "value=\"", p.min_orgs, p.min_cases);
    sp_buf_add_htmls(b, p.type);
    sp_buf_adds(b, "\"></label> <button type=\"submit\">Show</button></form>\n");
    if (n == 0) sp_buf_adds(b, "<p id=\"none\">No indicator matches.</p>\n");
    else indicator_table(b, v, n);
    if (trunc) sp_buf_printf(b, "<p class=\"note\">Truncated: the first %d are shown.</p>\n", LIST_MAX);
    rc = portal_page_end(out);
done:
    store_inv_indicators_free(v, n);
    return rc;
}

static int page_indicator(const portal_req *r, const char *rest, serve_reply *out)
{
    char type[SP_INV_TYPE_MAX + 1], hash[SP_INV_HASH_MAX + 1], target[SP_INV_TYPE_MAX + SP_INV_HASH_MAX + 2];
    const char *why = NULL;
    sp_inv_indicator x;
    sp_inv_link *own = NULL;
    size_t nown = 0;
    int trunc = 0, rc;
    if (r->req->nparams) return refuse_query(out, "this address takes no parameters");
    if (invest_path_indicator(rest, type, hash, &why)) return refuse_query(out, why);
    snprintf(target, sizeof target, "%s/%s", type, hash);
    rc = store_inv_indicator(r->ctx->store, type, hash, r->who->p.org_id, &x, &own, &nown, &trunc);
    if (rc == SP_EOF) {
        /* asking is recorded too: a probe for a hash is an investigative act */
        if ((rc = audit_view(r, "investigate.indicator", target, NULL, 0, 0))) return rc;
        return portal_message(out, 404, "Not found", "no live case has this indicator");
    }
    if (rc) return rc;
    if ((rc = audit_view(r, "investigate.indicator", target, NULL, (long long)nown, trunc))) goto done;
    portal_page_start(out, "Indicator");
    sp_buf *b = &out->body;
    sp_buf_adds(b, "<h1>Indicator <code>");
    sp_buf_add_htmls(b, type);
    sp_buf_adds(b, "</code></h1>\n");
    nav(b);
    sp_buf_adds(b, "<p>Match key <code id=\"hash\">");
    sp_buf_add_htmls(b, hash);
    sp_buf_printf(b, "</code>: %lld case%s in %zu organisation%s; roles ", x.cases,
                  x.cases == 1 ? "" : "s", x.norgs, x.norgs == 1 ? "" : "s");
    if (x.roles) roles_html(b, x.roles);
    else sp_buf_adds(b, "not recorded");
    sp_buf_adds(b, "; years ");
    years(b, x.year_first, x.year_last);
    sp_buf_adds(b, ".</p>\n<h2>Cases per organisation</h2>\n<table id=\"per-org\">\n<thead><tr>"
                   "<th>Organisation</th><th>Cases</th></tr></thead>\n<tbody>\n");
    for (size_t i = 0; i < x.norgs; i++) {
        sp_buf_adds(b, "<tr><td>");
        sp_buf_add_htmls(b, x.orgs[i].org_name);
        sp_buf_printf(b, "</td><td>%lld</td></tr>\n", x.orgs[i].cases);
    }
    sp_buf_adds(b, "</tbody>\n</table>\n<h2>Your organisation's cases</h2>\n");
    if (nown == 0) {
        sp_buf_adds(b, "<p id=\"own-none\">None of your organisation's cases has it. Other "
                       "organisations' cases are never shown: ask them through the usual "
                       "channel.</p>\n");
    } else {
        sp_buf_adds(b, "<table id=\"own\">\n<thead><tr><th>Record</th><th>Case reference</th>"
                       "<th>Year</th><th>Roles</th></tr></thead>\n<tbody>\n");
        for (size_t i = 0; i < nown; i++) {
            sp_buf_printf(b, "<tr><td>%lld</td><td>", own[i].record_id);
            sp_buf_add_htmls(b, own[i].case_ref ? own[i].case_ref : "");
            sp_buf_adds(b, "</td><td>");
            if (own[i].year) sp_buf_printf(b, "%d", own[i].year);
            sp_buf_adds(b, "</td><td>");
            roles_html(b, own[i].roles);
            sp_buf_adds(b, "</td></tr>\n");
        }
        sp_buf_adds(b, "</tbody>\n</table>\n");
        if (trunc) sp_buf_adds(b, "<p class=\"note\">Truncated.</p>\n");
    }
    rc = portal_page_end(out);
done:
    store_inv_links_free(own, nown);
    store_inv_indicator_clear(&x);
    return rc;
}

/* kind: 0 the page, 1 the SVG alone, 2 CSV, 3 FtM */
static int network_or_export(const portal_req *r, int kind, serve_reply *out)
{
    static const char *const actions[] = {"investigate.network", "investigate.network",
                                          "investigate.export", "investigate.export"};
    static const char *const targets[] = {"html", "svg", "csv", "ftm"};
    inv_params p;
    const char *why = NULL;
    inv_view v = {0};
    int rc;
    if (read_params(r->req, &p, &why)) return refuse_query(out, why);
    long long viewer = kind >= 2 ? r->who->p.org_id : 0;
    if ((rc = invest_view_load(r->ctx->store, &p, viewer, &v))) goto done;
    if ((rc = audit_view(r, actions[kind], targets[kind], &p, (long long)v.nlinks, v.g.truncated)))
        goto done;
    sp_buf *b = &out->body;
    if (kind == 0) {
        portal_page_start(out, "Network");
        sp_buf_adds(b, "<h1>Network of cases and shared indicators</h1>\n");
        nav(b);
        sp_buf_adds(b, "<p>Cases (circles, coloured by organisation, shown only as opaque "
                       "tokens) joined to the indicators they share (squares). Clusters are "
                       "ranked by size. <a href=\"/analyst/network.svg");
        params_query(b, &p);
        sp_buf_adds(b, "\">The drawing alone (SVG)</a>.</p>\n<figure class=\"network\">\n");
        if (invest_svg(&v.g, 0, b)) sp_buf_adds(b, "<p class=\"error\">The network is too large to draw.</p>\n");
        sp_buf_adds(b, "</figure>\n");
        rc = portal_page_end(out);
    } else if (kind == 1) {
        out->content_type = "image/svg+xml";
        rc = invest_svg(&v.g, 0, b);
    } else if (kind == 2) {
        out->content_type = "text/csv; charset=utf-8";
        portal_add_extra(out, "Content-Disposition: attachment; filename=\"spotlight-indicators.csv\"\r\n");
        rc = invest_csv(&v.g, v.links, v.nlinks, b);
    } else {
        out->content_type = "application/json; charset=utf-8";
        portal_add_extra(out, "Content-Disposition: attachment; filename=\"spotlight-entities.ftm.json\"\r\n");
        rc = invest_ftm(&v.g, v.links, v.nlinks, b);
    }
    if (rc == SP_ELIMIT) {
        sp_buf_reset(b);
        rc = portal_message(out, 413, "Too large", "the answer is larger than the server sends: "
                                                   "narrow it with min_orgs, min_cases or type");
    }
done:
    invest_view_free(&v);
    return rc;
}

int analyst_owns(const char *path)
{
    static const char area[] = "/analyst";
    size_t n = sizeof area - 1;
    if (strncmp(path, area, n) != 0) return 0;
    if (path[n] == '\0') return 1;
    if (path[n] != '/') return 0;
    /* the person-link pages: a segment of their own */
    const char *seg = path + n + 1;
    if (strncmp(seg, "links", 5) == 0 && (seg[5] == '\0' || seg[5] == '/')) return 0;
    return 1;
}

int analyst_handle(const portal_req *r, serve_reply *out)
{
    const char *path = r->req->path;
    if (!analyst_owns(path))
        return portal_message(out, 404, "Not found", "there is nothing at this address");
    if (!auth_can(&r->who->p, AUTH_VIEW_LINKS, 0))
        return portal_message(out, 403, "Refused",
                              "the investigation pages are for analysts and administrators");
    if (r->req->method == HTTP_POST)
        return portal_message(out, 405, "Not allowed", "these pages only answer GET");
    if (strcmp(path, "/analyst") == 0) return page_overview(r, out);
    if (strcmp(path, "/analyst/indicators") == 0) return page_indicators(r, out);
    static const char pre[] = "/analyst/indicators/";
    if (strncmp(path, pre, sizeof pre - 1) == 0) return page_indicator(r, path + sizeof pre - 1, out);
    if (strcmp(path, "/analyst/network") == 0) return network_or_export(r, 0, out);
    if (strcmp(path, "/analyst/network.svg") == 0) return network_or_export(r, 1, out);
    if (strcmp(path, "/analyst/export.csv") == 0) return network_or_export(r, 2, out);
    if (strcmp(path, "/analyst/export.ftm.json") == 0) return network_or_export(r, 3, out);
    return portal_message(out, 404, "Not found", "there is nothing at this address");
}
