/* fuzz_invest.c -- libFuzzer target for what the investigation views read
 * from outside (invest.h): the TYPE/HASH path segments of
 * /analyst/indicators/TYPE/HASH and the min_orgs, min_cases and type
 * query parameters (the same checks the CLI options go through), and the
 * drawing and exports of a graph made from the input.
 *
 * Input: "REST\nKEY=VALUE\nKEY=VALUE..." then, after a NUL, bytes that
 * make links (each 4 bytes: type, hash seed, record, organisation).
 * Invariants: a refusal says why; an accepted path gives a type and hash
 * that pass invest_type_ok/invest_hash_ok and rebuild REST exactly; an
 * accepted parameter leaves the parameters in range; the graph has every
 * link as an edge and each node in exactly one cluster; the CSV has one
 * line per link plus its header; the FtM output is one object per line;
 * the SVG either fits or leaves the buffer empty. */
#include "invest.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_params(const inv_params *p)
{
    if (p->min_orgs < 1 || p->min_orgs > 100) abort();
    if (p->min_cases < 1 || p->min_cases > 100000) abort();
    if (p->type[0] && !invest_type_ok(p->type)) abort();
}

static void text_part(const char *in, size_t n)
{
    char *s = malloc(n + 1);
    memcpy(s, in, n);
    s[n] = '\0';
    size_t len = strlen(s);   /* a NUL inside ends the text */
    char *nl = strchr(s, '\n');
    if (nl) *nl = '\0';
    char type[SP_INV_TYPE_MAX + 1], hash[SP_INV_HASH_MAX + 1];
    const char *why = NULL;
    if (invest_path_indicator(s, type, hash, &why) == SP_OK) {
        if (!invest_type_ok(type) || !invest_hash_ok(hash)) abort();
        char back[SP_INV_TYPE_MAX + SP_INV_HASH_MAX + 2];
        snprintf(back, sizeof back, "%s/%s", type, hash);
        if (strcmp(back, s) != 0) abort();
    } else if (!why || !*why) {
        abort();
    }
    inv_params p;
    invest_params_init(&p);
    check_params(&p);
    for (char *line = nl ? nl + 1 : s + len; line && line < s + len;) {
        char *next = strchr(line, '\n');
        if (next) *next = '\0';
        char *eq = strchr(line, '=');
        if (eq) {
            *eq = '\0';
            why = NULL;
            if (invest_param(&p, line, eq + 1, &why) != SP_OK && (!why || !*why)) abort();
            check_params(&p);
        }
        line = next ? next + 1 : NULL;
    }
    free(s);
}

static void graph_part(const uint8_t *d, size_t n)
{
    static const char *const types[] = {"crypto_wallet", "phone", "email", "iban",
                                        "bank_account", "social_handle", "website", "company"};
    static const char *const names[] = {"Alpha", "Beta & <Gamma>", "\"Delta\"", "=Eps,ilon"};
    static const uint8_t key[32] = {1};
    size_t nl = n / 4 > 300 ? 300 : n / 4;
    sp_inv_link *l = calloc(nl ? nl : 1, sizeof *l);
    for (size_t i = 0; i < nl; i++) {
        const uint8_t *b = d + 4 * i;
        snprintf(l[i].type, sizeof l[i].type, "%s", types[b[0] & 7]);
        snprintf(l[i].hash, sizeof l[i].hash, "h1:%064u", (unsigned)(b[1] & 31));
        l[i].record_id = b[2] & 63;
        l[i].org_id = 1 + (b[3] & 3);
        l[i].org_name = (char *)names[b[3] & 3];
        l[i].roles = (b[0] & 8) ? (char *)"ransom_payment" : NULL;
        l[i].year = (b[0] & 16) ? 2020 + (b[3] >> 4) : 0;
    }
    /* the store's order: by type, hash, record; one link per pair */
    for (size_t i = 1; i < nl; i++)
        for (size_t j = i; j > 0; j--) {
            int c = strcmp(l[j - 1].type, l[j].type);
            if (!c) c = strcmp(l[j - 1].hash, l[j].hash);
            if (!c) c = (l[j - 1].record_id > l[j].record_id) - (l[j - 1].record_id < l[j].record_id);
            if (c <= 0) break;
            sp_inv_link t = l[j];
            l[j] = l[j - 1];
            l[j - 1] = t;
        }
    size_t m = 0;
    for (size_t i = 0; i < nl; i++) {
        if (m && strcmp(l[m - 1].type, l[i].type) == 0 && strcmp(l[m - 1].hash, l[i].hash) == 0 &&
            l[m - 1].record_id == l[i].record_id)
            continue;
        /* one organisation per record, as in the hub */
        l[i].org_id = 1 + (l[i].record_id & 3);
        l[i].org_name = (char *)names[l[i].record_id & 3];
        l[m++] = l[i];
    }
    inv_graph g;
    if (invest_graph_build(l, m, 0, key, &g) != SP_OK) abort();
    if (g.nedges != m) abort();
    size_t in = 0;
    for (size_t k = 0; k < g.nclusters; k++) {
        in += g.clusters[k].nnodes;
        if (g.clusters[k].rank_orgs < 1 || g.clusters[k].rank_orgs > g.nclusters) abort();
        if (k && g.clusters[k].ncases > g.clusters[k - 1].ncases) abort();
    }
    if (in != g.nnodes) abort();
    sp_buf b;
    sp_buf_init(&b, 1u << 22);
    if (invest_csv(&g, l, m, &b) != SP_OK) abort();
    size_t lines = 0;
    for (size_t i = 0; i < b.len; i++) lines += b.data[i] == '\n';
    if (lines != m + 1) abort();
    sp_buf_reset(&b);
    if (invest_ftm(&g, l, m, &b) != SP_OK) abort();
    for (size_t i = 0; i < b.len; i++)
        if (b.data[i] == '\n' && i + 1 < b.len && b.data[i + 1] != '{') abort();
    sp_buf_free(&b);
    sp_buf_init(&b, 4096 + (size_t)d[0] * 256);
    int rc = invest_svg(&g, 0, &b);
    if (rc != SP_OK && (rc != SP_ELIMIT || b.len != 0)) abort();
    sp_buf_free(&b);
    invest_graph_free(&g);
    free(l);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 65536) return 0;
    const uint8_t *z = memchr(data, 0, size);
    size_t tn = z ? (size_t)(z - data) : size;
    text_part((const char *)data, tn);
    if (z && size - tn - 1 >= 4) graph_part(z + 1, size - tn - 1);
    return 0;
}
