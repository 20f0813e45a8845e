/* test_invest.c -- indicators shared across organisations: the store's
 * queries (store_invest.c), the network and its clusters, the SVG, the CSV
 * and FollowTheMoney exports (invest.c), and the analyst's pages
 * (analyst.c through portal_handle, in process).
 *
 * Three organisations submit overlapping cases through the normal import
 * path: Alpha and Gamma with indicators in the clear, Beta encoded at the
 * partner ("h1:" hashes). The hub hashes clear values only when it holds
 * the key; the keys still missing after import (all of them before import
 * wrote indicator_key) are filled with store_inv_keys_fill and the
 * contract's hash (keyed BLAKE2b over "spotlight/indicator/v1" NUL type NUL
 * the stored canonical value), so clear and encoded values meet on the
 * same key. The test's values are already canonical. */
#include "test.h"

#include "audit.h"
#include "auth.h"
#include "embed.h"
#include "import.h"
#include "invest.h"
#include "portal_int.h"

#include <expat.h>
#include <jansson.h>
#include <sodium.h>

static const uint8_t KEY[32] = {7, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
                                16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31};

#define W1 "0x52908400098527886e0f7030069857d2e4169ee7"   /* canonical: lower case */
#define W2 "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"
#define P1 "+85512345678"
#define P2 "+66812345678"
#define P3 "+959123456789"
#define E1 "boss@compound.example"

static void h1(const char *type, const char *value, char out[SP_INV_HASH_MAX + 1])
{
    static const char ctx[] = "spotlight/indicator/v1";
    crypto_generichash_state st;
    unsigned char h[32];
    crypto_generichash_init(&st, KEY, sizeof KEY, sizeof h);
    crypto_generichash_update(&st, (const unsigned char *)ctx, sizeof ctx);
    crypto_generichash_update(&st, (const unsigned char *)type, strlen(type) + 1);
    crypto_generichash_update(&st, (const unsigned char *)value, strlen(value));
    crypto_generichash_final(&st, h, sizeof h);
    memcpy(out, "h1:", 3);
    for (size_t i = 0; i < 32; i++) sprintf(out + 3 + 2 * i, "%02x", h[i]);
}

static int fill_cb(const char *type, const char *value, char out[SP_INV_HASH_MAX + 1], void *ud)
{
    (void)ud;
    if (strncmp(value, "h1:", 3) == 0) {
        snprintf(out, SP_INV_HASH_MAX + 1, "%s", value);
        return 0;
    }
    h1(type, value, out);
    return 0;
}

typedef struct fx {
    sp_gazetteer *gaz;
    sp_codebook *cb;
    sp_store *s;
    char path[64];
    long long alpha, beta, gamma;
} fx;

static void import_csv(fx *f, const char *org, const char *csv)
{
    sp_err e;
    sp_err_init(&e);
    import_opts o = {0};
    o.org = org;
    import_result r;
    memset(&r, 0, sizeof r);
    int rc = import_buffer(f->s, f->cb, csv, strlen(csv), "test.csv", &o, &r, &e);
    if (rc) {
        sp_err_print(&e, stderr);
        TFAIL("import for %s: %d", org, rc);
    }
    sp_err_free(&e);
}

static long long org_id(fx *f, const char *name)
{
    sp_org o;
    ASSERT_EQ(store_org_find(f->s, name, &o), SP_OK);
    long long id = o.id;
    store_org_free(&o);
    return id;
}

#define HEAD "case_ref,year_identified,indicators_1_type,indicators_1_value,indicators_1_role," \
             "indicators_2_type,indicators_2_value,indicators_2_role\n"

static void setup(fx *f)
{
    sp_err e;
    sp_err_init(&e);
    memset(f, 0, sizeof *f);
    if (gazetteer_load(&f->gaz, NULL, &e) || codebook_load_default(&f->cb, f->gaz, &e)) {
        sp_err_print(&e, stderr);
        TFAIL("codebook");
    }
    snprintf(f->path, sizeof f->path, "/tmp/sp_invest_XXXXXX");
    int fd = mkstemp(f->path);
    ASSERT(fd >= 0);
    close(fd);
    unlink(f->path);
    if (store_open(&f->s, f->path, f->cb, 1, &e)) {
        sp_err_print(&e, stderr);
        TFAIL("store_open");
    }
    sp_err_free(&e);
    /* Beta encodes at the partner: its file carries hashes only */
    char bw1[80], bp1[80], bp2[80];
    h1("crypto_wallet", W1, bw1);
    h1("phone", P1, bp1);
    h1("phone", P2, bp2);
    /* cluster 1: W1 (A:2, B:1, G:1), P1 (A:1, B:1), E1 (A-7 only);
     * cluster 2: P2 (B:1, G:1); W2 only Alpha's (2 cases); P3 only Gamma's */
    import_csv(f, "Alpha", HEAD
               "A-1,2023,crypto_wallet," W1 ",ransom_payment,phone," P1 ",recruiter_contact\n"
               "A-2,2024,crypto_wallet," W1 ",ransom_payment,,,\n"
               "A-3,2024,crypto_wallet," W2 ",ransom_payment,,,\n"
               "A-4,2024,crypto_wallet," W2 ",salary,,,\n"
               "A-7,2022,phone," P1 ",recruiter_contact,email," E1 ",compound_operator\n");
    char csv[2048];
    snprintf(csv, sizeof csv, HEAD "B-1,2024,crypto_wallet,%s,scam_victim_payment,,,\n"
                                   "B-2,2023,phone,%s,recruiter_contact,,,\n"
                                   "B-3,2025,phone,%s,recruiter_contact,,,\n",
             bw1, bp1, bp2);
    import_csv(f, "Beta", csv);
    import_csv(f, "Gamma", HEAD "G-1,2025,crypto_wallet," W1 ",ransom_payment,,,\n"
                                "G-2,2025,phone," P2 ",recruiter_contact,,,\n"
                                "G-3,2025,phone," P3 ",recruiter_contact,,,\n");
    ASSERT_EQ(store_inv_keys_fill(f->s, fill_cb, NULL), SP_OK);
    f->alpha = org_id(f, "Alpha");
    f->beta = org_id(f, "Beta");
    f->gamma = org_id(f, "Gamma");
}

static void teardown(fx *f)
{
    store_close(f->s);
    char p[96];
    unlink(f->path);
    snprintf(p, sizeof p, "%s-wal", f->path);
    unlink(p);
    snprintf(p, sizeof p, "%s-shm", f->path);
    unlink(p);
    codebook_free(f->cb);
    gazetteer_free(f->gaz);
}

static long long cases_of(const sp_inv_indicator *x, long long org)
{
    for (size_t i = 0; i < x->norgs; i++)
        if (x->orgs[i].org_id == org) return x->orgs[i].cases;
    return 0;
}

static const sp_inv_indicator *find_ind(const sp_inv_indicator *v, size_t n, const char *type,
                                        const char *value)
{
    char h[80];
    h1(type, value, h);
    for (size_t i = 0; i < n; i++)
        if (strcmp(v[i].type, type) == 0 && strcmp(v[i].hash, h) == 0) return &v[i];
    return NULL;
}

/* ------------------------------------------------------------ the store */

TEST(shared_indicators_counted_per_org)
{
    fx f;
    setup(&f);
    sp_inv_indicator *v = NULL;
    size_t n = 0;
    int trunc = 0;
    sp_inv_query q = {2, 1, NULL, 0, 0};
    ASSERT_EQ(store_inv_indicators(f.s, &q, &v, &n, &trunc), SP_OK);
    ASSERT_EQ(trunc, 0);
    ASSERT_EQ(n, 3);   /* W1, P1, P2 */
    const sp_inv_indicator *w1 = find_ind(v, n, "crypto_wallet", W1);
    ASSERT_NOT_NULL(w1);
    ASSERT(w1 == &v[0]);     /* three organisations: first */
    ASSERT_EQ(w1->norgs, 3);
    ASSERT_EQ(w1->cases, 4);
    ASSERT_EQ(cases_of(w1, f.alpha), 2);
    ASSERT_EQ(cases_of(w1, f.beta), 1);
    ASSERT_EQ(cases_of(w1, f.gamma), 1);
    ASSERT_STR_EQ(w1->orgs[0].org_name, "Alpha");
    ASSERT_STR_EQ(w1->roles, "ransom_payment,scam_victim_payment");
    ASSERT_EQ(w1->year_first, 2023);
    ASSERT_EQ(w1->year_last, 2025);
    const sp_inv_indicator *p1 = find_ind(v, n, "phone", P1);
    ASSERT_NOT_NULL(p1);
    ASSERT_EQ(p1->norgs, 2);
    ASSERT_EQ(cases_of(p1, f.alpha), 2);
    ASSERT_EQ(cases_of(p1, f.beta), 1);
    ASSERT_EQ(cases_of(p1, f.gamma), 0);
    /* one organisation's indicators are not listed */
    ASSERT_NULL(find_ind(v, n, "crypto_wallet", W2));
    ASSERT_NULL(find_ind(v, n, "phone", P3));
    ASSERT_NULL(find_ind(v, n, "email", E1));
    store_inv_indicators_free(v, n);
    /* the >= 2 cases mode takes W2 (two cases of Alpha), not P3 or E1 */
    sp_inv_query qc = {1, 2, NULL, 0, 0};
    ASSERT_EQ(store_inv_indicators(f.s, &qc, &v, &n, &trunc), SP_OK);
    ASSERT_EQ(n, 4);
    ASSERT_NOT_NULL(find_ind(v, n, "crypto_wallet", W2));
    ASSERT_NULL(find_ind(v, n, "phone", P3));
    store_inv_indicators_free(v, n);
    /* a type filter, and a cap that says it cut */
    sp_inv_query qt = {2, 1, "phone", 0, 0};
    ASSERT_EQ(store_inv_indicators(f.s, &qt, &v, &n, &trunc), SP_OK);
    ASSERT_EQ(n, 2);
    for (size_t i = 0; i < n; i++) ASSERT_STR_EQ(v[i].type, "phone");
    store_inv_indicators_free(v, n);
    sp_inv_query q1 = {2, 1, NULL, 0, 1};
    ASSERT_EQ(store_inv_indicators(f.s, &q1, &v, &n, &trunc), SP_OK);
    ASSERT_EQ(n, 1);
    ASSERT_EQ(trunc, 1);
    store_inv_indicators_free(v, n);
    teardown(&f);
}

TEST(one_indicator_own_cases_only)
{
    fx f;
    setup(&f);
    char h[80];
    h1("crypto_wallet", W1, h);
    sp_inv_indicator x;
    sp_inv_link *own = NULL;
    size_t nown = 0;
    int trunc = 0;
    ASSERT_EQ(store_inv_indicator(f.s, "crypto_wallet", h, f.beta, &x, &own, &nown, &trunc), SP_OK);
    ASSERT_EQ(x.cases, 4);
    ASSERT_EQ(x.norgs, 3);
    ASSERT_EQ(nown, 1);
    ASSERT_EQ(own[0].org_id, f.beta);
    ASSERT_STR_EQ(own[0].case_ref, "B-1");
    store_inv_links_free(own, nown);
    store_inv_indicator_clear(&x);
    /* Alpha sees its two */
    ASSERT_EQ(store_inv_indicator(f.s, "crypto_wallet", h, f.alpha, &x, &own, &nown, &trunc), SP_OK);
    ASSERT_EQ(nown, 2);
    ASSERT_STR_EQ(own[0].case_ref, "A-1");
    ASSERT_STR_EQ(own[1].case_ref, "A-2");
    store_inv_links_free(own, nown);
    store_inv_indicator_clear(&x);
    /* an unknown hash, and the same hash under another type */
    ASSERT_EQ(store_inv_indicator(f.s, "phone", h, f.alpha, &x, &own, &nown, &trunc), SP_EOF);
    ASSERT_EQ(nown, 0);
    /* a withdrawn submission's cases no longer count */
    sp_submission *subs = NULL;
    size_t ns = 0;
    ASSERT_EQ(store_submission_list(f.s, f.gamma, &subs, &ns), SP_OK);
    ASSERT_EQ(ns, 1);
    ASSERT_EQ(store_submission_set_status(f.s, subs[0].id, "withdrawn"), SP_OK);
    for (size_t i = 0; i < ns; i++) store_submission_free(&subs[i]);
    free(subs);
    ASSERT_EQ(store_inv_indicator(f.s, "crypto_wallet", h, 0, &x, &own, &nown, &trunc), SP_OK);
    ASSERT_EQ(x.norgs, 2);
    ASSERT_EQ(x.cases, 3);
    ASSERT_NULL(own);
    store_inv_indicator_clear(&x);
    teardown(&f);
}

/* ------------------------------------------------------------ the network */

static void links_of(fx *f, long long viewer, sp_inv_link **l, size_t *n)
{
    int trunc = 0;
    sp_inv_query q = {2, 1, NULL, viewer, 0};
    ASSERT_EQ(store_inv_links(f->s, &q, l, n, &trunc), SP_OK);
    ASSERT_EQ(trunc, 0);
}

TEST(clusters_ranked)
{
    fx f;
    setup(&f);
    sp_inv_link *l = NULL;
    size_t n = 0;
    links_of(&f, 0, &l, &n);
    /* W1: 4 cases, P1: 3 (A-1, A-7, B-2), P2: 2 */
    ASSERT_EQ(n, 9);
    for (size_t i = 0; i < n; i++) ASSERT_NULL(l[i].case_ref);   /* no viewer: no case_ref */
    inv_graph g;
    ASSERT_EQ(invest_graph_build(l, n, 0, KEY, &g), SP_OK);
    ASSERT_EQ(g.norgs, 3);
    ASSERT_EQ(g.nedges, 9);
    ASSERT_EQ(g.nclusters, 2);
    /* the first: W1 and P1 with, B-1, B-2, G-1 */
    ASSERT_EQ(g.clusters[0].nindicators, 2);
    ASSERT_EQ(g.clusters[0].ncases, 6);
    ASSERT_EQ(g.clusters[0].nnodes, 8);
    ASSERT_EQ(g.clusters[0].norgs, 3);
    ASSERT_EQ(g.clusters[0].rank_orgs, 1);
    ASSERT_EQ(g.clusters[1].nindicators, 1);
    ASSERT_EQ(g.clusters[1].ncases, 2);
    ASSERT_EQ(g.clusters[1].norgs, 2);
    ASSERT_EQ(g.clusters[1].rank_orgs, 2);
    invest_graph_free(&g);
    /* size and organisations rank differently: five cases of one
     * organisation around one wallet, two cases of two around a phone */
    sp_inv_link ls[7];
    memset(ls, 0, sizeof ls);
    for (int i = 0; i < 7; i++) {
        snprintf(ls[i].type, sizeof ls[i].type, "%s", i < 2 ? "phone" : "crypto_wallet");
        snprintf(ls[i].hash, sizeof ls[i].hash, "h1:%064d", i < 2 ? 1 : 2);
        ls[i].record_id = 100 + i;
        ls[i].org_id = i == 0 ? 2 : 1;
        ls[i].org_name = i == 0 ? "Two" : "One";
    }
    ASSERT_EQ(invest_graph_build(ls, 7, 0, KEY, &g), SP_OK);
    ASSERT_EQ(g.nclusters, 2);
    ASSERT_EQ(g.clusters[0].ncases, 5);
    ASSERT_EQ(g.clusters[0].norgs, 1);
    ASSERT_EQ(g.clusters[0].rank_orgs, 2);
    ASSERT_EQ(g.clusters[1].ncases, 2);
    ASSERT_EQ(g.clusters[1].norgs, 2);
    ASSERT_EQ(g.clusters[1].rank_orgs, 1);
    ASSERT_STR_EQ(g.orgs[0].name, "One");   /* by name: colours do not follow link order */
    /* the tokens are opaque and stable */
    char t1[INV_TOKEN_LEN + 1], t2[INV_TOKEN_LEN + 1];
    invest_case_token(KEY, 5, t1);
    invest_case_token(KEY, 5, t2);
    ASSERT_STR_EQ(t1, t2);
    ASSERT_EQ(strlen(t1), INV_TOKEN_LEN);
    invest_case_token(KEY, 6, t2);
    ASSERT(strcmp(t1, t2) != 0);
    invest_graph_free(&g);
    store_inv_links_free(l, n);
    teardown(&f);
}

typedef struct xml_ck {
    int circles, rects, depth, maxdepth;
    sp_buf text;
} xml_ck;

static void XMLCALL x_start(void *ud, const XML_Char *name, const XML_Char **atts)
{
    xml_ck *c = ud;
    (void)atts;
    if (strcmp(name, "circle") == 0) c->circles++;
    if (strcmp(name, "rect") == 0) c->rects++;
    if (++c->depth > c->maxdepth) c->maxdepth = c->depth;
}

static void XMLCALL x_end(void *ud, const XML_Char *name)
{
    (void)name;
    ((xml_ck *)ud)->depth--;
}

static void XMLCALL x_text(void *ud, const XML_Char *s, int len)
{
    sp_buf_add(&((xml_ck *)ud)->text, s, (size_t)len);
}

TEST(svg_well_formed_with_every_node_of_the_top_cluster)
{
    fx f;
    setup(&f);
    sp_inv_link *l = NULL;
    size_t n = 0;
    links_of(&f, 0, &l, &n);
    inv_graph g;
    ASSERT_EQ(invest_graph_build(l, n, 0, KEY, &g), SP_OK);
    sp_buf b;
    sp_buf_init(&b, 1u << 20);
    ASSERT_EQ(invest_svg(&g, 0, &b), SP_OK);
    xml_ck c = {0};
    sp_buf_init(&c.text, 1u << 20);
    XML_Parser p = XML_ParserCreate("UTF-8");
    XML_SetUserData(p, &c);
    XML_SetElementHandler(p, x_start, x_end);
    XML_SetCharacterDataHandler(p, x_text);
    if (XML_Parse(p, b.data, (int)b.len, 1) != XML_STATUS_OK)
        TFAIL("SVG not well-formed: %s at line %lu", XML_ErrorString(XML_GetErrorCode(p)),
              (unsigned long)XML_GetCurrentLineNumber(p));
    XML_ParserFree(p);
    ASSERT_EQ(c.depth, 0);
    /* every node of the top cluster: its cases' tokens and its indicators'
     * labels are in the text (tooltips), and the marks are drawn */
    const inv_cluster *top = &g.clusters[0];
    for (size_t j = 0; j < top->nnodes; j++) {
        const inv_node *x = &g.nodes[top->nodes[j]];
        if (x->is_case) ASSERT_CONTAINS(c.text.data, x->token);
        else ASSERT_CONTAINS(c.text.data, x->hash);
    }
    /* 8 + 4 nodes and 3 + 2 legend marks... circles: 6 + 2 cases + 3 org swatches + 1 */
    ASSERT_EQ(c.circles, 8 + 3 + 1);
    ASSERT_CONTAINS(c.text.data, "Cluster 1");
    ASSERT_CONTAINS(c.text.data, "6 cases, 2 indicators, 3 organisations");
    ASSERT_CONTAINS(c.text.data, "Gamma");
    ASSERT(strstr(c.text.data, W1) == NULL);
    sp_buf_free(&c.text);
    /* the same graph draws the same bytes */
    sp_buf b2;
    sp_buf_init(&b2, 1u << 20);
    ASSERT_EQ(invest_svg(&g, 0, &b2), SP_OK);
    ASSERT_EQ(b.len, b2.len);
    ASSERT_EQ(memcmp(b.data, b2.data, b.len), 0);
    /* a cap too small: an error, no half document */
    sp_buf small;
    sp_buf_init(&small, 2000);
    ASSERT_NE(invest_svg(&g, 0, &small), SP_OK);
    ASSERT_EQ(small.len, 0);
    sp_buf_free(&small);
    sp_buf_free(&b2);
    sp_buf_free(&b);
    invest_graph_free(&g);
    store_inv_links_free(l, n);
    teardown(&f);
}

/* No clear value, and no case reference of another organisation than
 * `mine` (0: none at all). */
static void assert_nothing_leaks(const char *out, const char *mine)
{
    static const char *const clear[] = {W1, W2, P1, P2, P3, E1, "85512345678", "66812345678"};
    for (size_t i = 0; i < sizeof clear / sizeof *clear; i++)
        if (strstr(out, clear[i])) TFAIL("a clear value is in the export: %s", clear[i]);
    static const char *const refs[] = {"A-1", "A-2", "A-7", "B-1", "B-2", "B-3", "G-1", "G-2"};
    for (size_t i = 0; i < sizeof refs / sizeof *refs; i++)
        if ((!mine || refs[i][0] != mine[0]) && strstr(out, refs[i]))
            TFAIL("another organisation's case reference is in the export: %s", refs[i]);
}

TEST(csv_and_ftm_exports)
{
    fx f;
    setup(&f);
    sp_inv_link *l = NULL;
    size_t n = 0;
    links_of(&f, f.beta, &l, &n);   /* Beta's analyst */
    inv_graph g;
    ASSERT_EQ(invest_graph_build(l, n, 0, KEY, &g), SP_OK);
    sp_buf b;
    sp_buf_init(&b, 1u << 20);
    ASSERT_EQ(invest_csv(&g, l, n, &b), SP_OK);
    assert_nothing_leaks(b.data, "B");
    ASSERT_CONTAINS(b.data, "type,hash,role,org,year,case,cluster,case_ref\r\n");
    ASSERT_CONTAINS(b.data, "B-1");    /* its own */
    size_t lines = 0;
    for (const char *p = b.data; *p; p++) lines += *p == '\n';
    ASSERT_EQ(lines, 1 + 9);
    char w1[80];
    h1("crypto_wallet", W1, w1);
    ASSERT_CONTAINS(b.data, w1);
    /* FtM: every line a JSON object with id, schema, properties */
    sp_buf_reset(&b);
    ASSERT_EQ(invest_ftm(&g, l, n, &b), SP_OK);
    assert_nothing_leaks(b.data, "B");
    size_t ents = 0, wallets = 0, links = 0, orgs = 0, events = 0;
    char *save = NULL, *copy = strdup(b.data);
    for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        json_error_t je;
        json_t *j = json_loads(line, 0, &je);
        if (!j) TFAIL("line %zu is not JSON: %s", ents + 1, je.text);
        const char *schema = json_string_value(json_object_get(j, "schema"));
        const char *id = json_string_value(json_object_get(j, "id"));
        ASSERT_NOT_NULL(schema);
        ASSERT_NOT_NULL(id);
        ASSERT_EQ(strncmp(id, "sp-", 3), 0);
        ASSERT(json_is_object(json_object_get(j, "properties")));
        if (strcmp(schema, "CryptoWallet") == 0) {
            wallets++;
            ASSERT_STR_EQ(json_string_value(json_array_get(
                              json_object_get(json_object_get(j, "properties"), "publicKey"), 0)),
                          w1);
        }
        if (strcmp(schema, "UnknownLink") == 0) links++;
        if (strcmp(schema, "Organization") == 0) orgs++;
        if (strcmp(schema, "Event") == 0) events++;
        json_decref(j);
        ents++;
    }
    free(copy);
    ASSERT_EQ(wallets, 1);
    ASSERT_EQ(orgs, 3);
    ASSERT_EQ(events, 8);
    ASSERT_EQ(links, 9 + 8);
    /* deterministic ids: the same export twice is the same bytes */
    sp_buf b2;
    sp_buf_init(&b2, 1u << 20);
    ASSERT_EQ(invest_ftm(&g, l, n, &b2), SP_OK);
    ASSERT_STR_EQ(b.data, b2.data);
    sp_buf_free(&b2);
    sp_buf_free(&b);
    invest_graph_free(&g);
    store_inv_links_free(l, n);
    teardown(&f);
}

TEST(validation_of_outside_names)
{
    char h[80];
    h1("phone", P1, h);
    ASSERT_EQ(invest_hash_ok(h), 1);
    h[5] = 'G';
    ASSERT_EQ(invest_hash_ok(h), 0);
    ASSERT_EQ(invest_hash_ok("h1:abc"), 0);
    ASSERT_EQ(invest_hash_ok(""), 0);
    ASSERT_EQ(invest_hash_ok(NULL), 0);
    ASSERT_EQ(invest_type_ok("crypto_wallet"), 1);
    ASSERT_EQ(invest_type_ok("Phone"), 0);
    ASSERT_EQ(invest_type_ok("a'b"), 0);
    ASSERT_EQ(invest_type_ok(""), 0);
}

/* ------------------------------------------------------------ the pages */

typedef struct web {
    fx f;
    portal *pt;
    char tok_an[AUTH_TOKEN_CHARS + 1], tok_co[AUTH_TOKEN_CHARS + 1], tok_ad[AUTH_TOKEN_CHARS + 1];
} web;

static void web_setup(web *w)
{
    setup(&w->f);
    /* the hub's secret: audit_append makes it */
    ASSERT_EQ(audit_append(w->f.s, "test", 0, "test.setup", NULL, NULL, NULL), SP_OK);
    sp_err e;
    sp_err_init(&e);
    if (portal_open(&w->pt, w->f.s, &e)) {
        sp_err_print(&e, stderr);
        TFAIL("portal_open");
    }
    auth *a = portal_auth(w->pt);
    static const char pw[] = "correct horse battery staple";
    long long id;
    ASSERT_EQ(auth_user_add(a, "an@beta.org", "Beta", AUTH_ANALYST, pw, &id, &e), SP_OK);
    ASSERT_EQ(auth_user_add(a, "co@beta.org", "Beta", AUTH_CONTRIBUTOR, pw, &id, &e), SP_OK);
    ASSERT_EQ(auth_user_add(a, "ad@gamma.org", "Gamma", AUTH_ADMIN, pw, &id, &e), SP_OK);
    ASSERT_EQ(auth_token_create(a, "an@beta.org", "t", &id, w->tok_an), SP_OK);
    ASSERT_EQ(auth_token_create(a, "co@beta.org", "t", &id, w->tok_co), SP_OK);
    ASSERT_EQ(auth_token_create(a, "ad@gamma.org", "t", &id, w->tok_ad), SP_OK);
    sp_err_free(&e);
}

static void web_teardown(web *w)
{
    portal_close(w->pt);
    teardown(&w->f);
}

/* GET path with a bearer token (NULL: anonymous) through portal_handle. */
static int get(web *w, const char *path, const char *tok, serve_reply *out)
{
    char raw[2048];
    if (tok) snprintf(raw, sizeof raw, "GET %s HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer %s\r\n\r\n", path, tok);
    else snprintf(raw, sizeof raw, "GET %s HTTP/1.1\r\nHost: t\r\n\r\n", path);
    static http_request req;
    const char *why = NULL;
    memset(&req, 0, sizeof req);
    if (http_parse_request(raw, strlen(raw), &req, &why) != HTTP_PARSE_OK) TFAIL("request %s: %s", path, why ? why : "?");
    if (http_query_parse(&req, &why)) TFAIL("query %s: %s", path, why ? why : "?");
    serve_ctx ctx = {w->f.s, w->f.cb, w->f.gaz, 0};
    memset(out, 0, sizeof *out);
    out->status = 200;
    sp_buf_init(&out->body, 8u << 20);
    int rc = portal_handle(w->pt, &ctx, &req, NULL, 0, "127.0.0.1", out);
    audit_context_set(NULL, NULL);
    return rc;
}

typedef struct acount {
    const char *action;
    long long n;
    char actor[64];
} acount;

static int acount_cb(const sp_audit_row *r, void *ud)
{
    acount *a = ud;
    if (strcmp(r->action, a->action) == 0) {
        a->n++;
        snprintf(a->actor, sizeof a->actor, "%s", r->actor);
    }
    return 0;
}

static long long audit_count(sp_store *s, const char *action, char *actor)
{
    acount a = {action, 0, ""};
    sp_audit_query q = {NULL, NULL, 0, 0};
    ASSERT_EQ(store_audit_scan(s, &q, acount_cb, &a), SP_OK);
    if (actor) snprintf(actor, 64, "%s", a.actor);
    return a.n;
}

TEST(pages_who_may_see_them)
{
    web w;
    web_setup(&w);
    serve_reply out;
    /* anonymous: to the sign-in page */
    ASSERT_EQ(get(&w, "/analyst", NULL, &out), SP_OK);
    ASSERT_EQ(out.status, 303);
    ASSERT_CONTAINS(out.extra, "Location: /login");
    sp_buf_free(&out.body);
    /* a contributor: refused, and nothing shown */
    static const char *const paths[] = {"/analyst", "/analyst/indicators", "/analyst/network",
                                        "/analyst/network.svg", "/analyst/export.csv",
                                        "/analyst/export.ftm.json"};
    for (size_t i = 0; i < sizeof paths / sizeof *paths; i++) {
        ASSERT_EQ(get(&w, paths[i], w.tok_co, &out), SP_OK);
        if (out.status != 403) TFAIL("%s for a contributor: %d", paths[i], out.status);
        ASSERT(strstr(out.body.data, "crypto_wallet") == NULL);
        sp_buf_free(&out.body);
    }
    /* an analyst and an admin: 200 */
    long long before = audit_count(w.f.s, "investigate.overview", NULL);
    ASSERT_EQ(get(&w, "/analyst", w.tok_an, &out), SP_OK);
    ASSERT_EQ(out.status, 200);
    ASSERT_CONTAINS(out.body.data, "Shared indicators");
    ASSERT_CONTAINS(out.body.data, "Alpha: 2");
    ASSERT_CONTAINS(out.body.data, "id=\"clusters-by-orgs\"");
    assert_nothing_leaks(out.body.data, NULL);
    sp_buf_free(&out.body);
    char actor[64];
    ASSERT_EQ(audit_count(w.f.s, "investigate.overview", actor), before + 1);
    ASSERT_CONTAINS(actor, "user:");
    for (size_t i = 0; i < sizeof paths / sizeof *paths; i++) {
        ASSERT_EQ(get(&w, paths[i], w.tok_ad, &out), SP_OK);
        if (out.status != 200) TFAIL("%s for an admin: %d", paths[i], out.status);
        assert_nothing_leaks(out.body.data, "G");
        sp_buf_free(&out.body);
    }
    ASSERT_EQ(audit_count(w.f.s, "investigate.export", NULL), 2);
    ASSERT_EQ(audit_count(w.f.s, "investigate.network", NULL), 2);
    web_teardown(&w);
}

TEST(page_of_one_indicator)
{
    web w;
    web_setup(&w);
    serve_reply out;
    char h[80], path[256];
    h1("crypto_wallet", W1, h);
    snprintf(path, sizeof path, "/analyst/indicators/crypto_wallet/%s", h);
    ASSERT_EQ(get(&w, path, w.tok_an, &out), SP_OK);   /* Beta's analyst */
    ASSERT_EQ(out.status, 200);
    ASSERT_CONTAINS(out.body.data, "4 cases in 3 organisations");
    ASSERT_CONTAINS(out.body.data, "<td>Alpha</td><td>2</td>");
    ASSERT_CONTAINS(out.body.data, "roles ransom_payment, scam_victim_payment;");
    ASSERT_CONTAINS(out.body.data, "B-1");
    assert_nothing_leaks(out.body.data, "B");
    sp_buf_free(&out.body);
    ASSERT_EQ(audit_count(w.f.s, "investigate.indicator", NULL), 1);
    /* bad names in the path or query: 400, nothing read */
    static const char *const bad[] = {
        "/analyst/indicators/crypto_wallet/h1:zz",
        "/analyst/indicators/Crypto/h1:0000000000000000000000000000000000000000000000000000000000000000",
        "/analyst/indicators/crypto_wallet",
        "/analyst/indicators?min_orgs=0",
        "/analyst/indicators?min_orgs=2x",
        "/analyst/indicators?type=a%27b",
        "/analyst/network?bogus=1",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        ASSERT_EQ(get(&w, bad[i], w.tok_an, &out), SP_OK);
        if (out.status != 400) TFAIL("%s: %d", bad[i], out.status);
        sp_buf_free(&out.body);
    }
    /* an unknown hash: 404, and the probe is audited */
    ASSERT_EQ(get(&w, "/analyst/indicators/phone/h1:0000000000000000000000000000000000000000000000000000000000000000",
                  w.tok_an, &out), SP_OK);
    ASSERT_EQ(out.status, 404);
    sp_buf_free(&out.body);
    ASSERT_EQ(audit_count(w.f.s, "investigate.indicator", NULL), 2);
    /* the type filter and the CSV of Beta's analyst */
    ASSERT_EQ(get(&w, "/analyst/export.csv?type=phone", w.tok_an, &out), SP_OK);
    ASSERT_EQ(out.status, 200);
    ASSERT(strstr(out.body.data, "crypto_wallet") == NULL);
    ASSERT_CONTAINS(out.body.data, "B-2");
    assert_nothing_leaks(out.body.data, "B");
    sp_buf_free(&out.body);
    web_teardown(&w);
}

/* A cluster larger than the drawing's room: its most connected indicator
 * and the cases around it are drawn, and the cell says how many are not. */
TEST(svg_of_a_large_cluster)
{
    enum { NC = 70, NB = 15 };
    sp_inv_link l[NC + NB];
    memset(l, 0, sizeof l);
    size_t n = 0;
    for (int i = 0; i < NC; i++, n++) {   /* hub: h1:99..9 with every case */
        snprintf(l[n].type, sizeof l[n].type, "phone");
        snprintf(l[n].hash, sizeof l[n].hash, "h1:%064d", 9);
        l[n].record_id = 1 + i;
    }
    for (int i = 0; i < NB; i++, n++) {   /* wallets of one case each */
        snprintf(l[n].type, sizeof l[n].type, "crypto_wallet");
        snprintf(l[n].hash, sizeof l[n].hash, "h1:%064d", 100 + i);
        l[n].record_id = 1 + i;
    }
    for (size_t i = 0; i < n; i++) {
        l[i].org_id = 1 + (l[i].record_id % 3);
        l[i].org_name = l[i].org_id == 1 ? "One" : l[i].org_id == 2 ? "Two" : "Three";
    }
    /* the store's order: type, hash, record */
    sp_inv_link sorted[NC + NB];
    memcpy(sorted, l + NC, NB * sizeof *l);
    memcpy(sorted + NB, l, NC * sizeof *l);
    inv_graph g;
    ASSERT_EQ(invest_graph_build(sorted, n, 0, KEY, &g), SP_OK);
    ASSERT_EQ(g.nclusters, 1);
    ASSERT_EQ(g.clusters[0].nnodes, NC + NB + 1);
    sp_buf b;
    sp_buf_init(&b, 1u << 20);
    ASSERT_EQ(invest_svg(&g, 0, &b), SP_OK);
    char h[80];
    snprintf(h, sizeof h, "h1:%064d", 9);
    ASSERT_CONTAINS(b.data, h);                          /* the hub indicator is drawn */
    ASSERT_CONTAINS(b.data, "26 more nodes not drawn");  /* 86 nodes, 60 drawn */
    size_t cases = 0, inds = 0;
    for (const char *p = b.data; (p = strstr(p, "class=\"case\"")); p++) cases++;
    for (const char *p = b.data; (p = strstr(p, "class=\"indicator\"")); p++) inds++;
    ASSERT_EQ(inds, 12);
    ASSERT_EQ(cases, 48);
    sp_buf_free(&b);
    invest_graph_free(&g);
}

TEST_LIST(shared_indicators_counted_per_org, one_indicator_own_cases_only, clusters_ranked,
          svg_well_formed_with_every_node_of_the_top_cluster, csv_and_ftm_exports,
          svg_of_a_large_cluster, validation_of_outside_names, pages_who_may_see_them,
          page_of_one_indicator)
