/* link.c -- the hub's linking run (see link.h): loads the encodings of
 * live records, blocks and compares them across organisations one to one
 * per pair of organisations (pprl_link_orgs), keeps the analyst's
 * decisions, stores the proposals and the duplicates. */
#include "link.h"
#include "pprl.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

int link_decode_clk(const char *b64, uint64_t out[PPRL_WORDS], uint16_t *pc)
{
    unsigned char raw[PPRL_BITS / 8 + 4];
    size_t len = 0;
    const char *end = NULL;
    if (!b64 || strlen(b64) != 172) return -1;
    if (sodium_base642bin(raw, sizeof raw, b64, 172, NULL, &len, &end,
                          sodium_base64_VARIANT_ORIGINAL) != 0 ||
        len != PPRL_BITS / 8 || !end || *end)
        return -1;
    /* only the one spelling: libsodium's decoder lets some bytes outside
     * the alphabet and non-zero trailing bits through (found by
     * fuzz_links), so the bytes must encode back to exactly the input */
    char back[PPRL_BITS / 8 * 4 / 3 + 8];
    sodium_bin2base64(back, sizeof back, raw, PPRL_BITS / 8, sodium_base64_VARIANT_ORIGINAL);
    if (strcmp(back, b64) != 0) return -1;
    for (int w = 0; w < PPRL_WORDS; w++) {
        uint64_t v = 0;
        for (int k = 0; k < 8; k++) v |= (uint64_t)raw[w * 8 + k] << (8 * k);
        out[w] = v;
    }
    *pc = (uint16_t)pprl_popcount(out);
    return 0;
}

int link_decode_block(const char *hex, uint64_t *out)
{
    uint64_t v = 0;
    if (!hex || strlen(hex) != 16) return -1;
    for (int i = 0; i < 16; i++) {
        char c = hex[i];
        int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
              : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
        if (d < 0) return -1;
        v = v << 4 | (uint64_t)d;
    }
    *out = v;
    return 0;
}

static int parse_id(const char *s, size_t len, long long *v)
{
    long long x = 0;
    if (len == 0 || len > 16 || s[0] == '0') return -1;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9') return -1;
        x = x * 10 + (s[i] - '0');
    }
    if (x > (1LL << 53)) return -1;
    *v = x;
    return 0;
}

int link_parse_pair(const char *s, size_t len, long long *a, long long *b)
{
    const char *dash = s ? memchr(s, '-', len) : NULL;
    if (!dash) return -1;
    size_t la = (size_t)(dash - s);
    if (parse_id(s, la, a) || parse_id(dash + 1, len - la - 1, b) || *a == *b) return -1;
    return 0;
}

static int cmp_ll(const void *x, const void *y)
{
    long long a = *(const long long *)x, b = *(const long long *)y;
    return a < b ? -1 : a > b;
}

/* Index of record id among the usable ones (ids sorted), or -1. */
static long long index_of(const long long *ids, size_t n, long long id)
{
    const long long *p = bsearch(&id, ids, n, sizeof *ids, cmp_ll);
    return p ? (long long)(p - ids) : -1;
}

int link_run(sp_store *s, double threshold, int dry_run, link_report *rep, sp_err *err)
{
    sp_person_enc *enc = NULL;
    sp_link_row *dec = NULL;
    size_t nenc = 0, ndec = 0, nrec = 0, nkeep = 0, nban = 0, nout = 0;
    uint64_t *bits = NULL;
    long long *ids = NULL;
    pprl_rec *recs = NULL;
    pprl_pair *keep = NULL, *ban = NULL, *out = NULL;
    sp_link_new *nl = NULL;
    pprl_link_stats st = {0, 0, 0};
    int rc, tx = 0;
    memset(rep, 0, sizeof *rep);
    if (!(threshold > 0.0 && threshold <= 1.0)) {
        rc = sp_err_add(err, NULL, 0, "threshold", NULL, 0, "link-threshold",
                        "the threshold must be above 0 and at most 1");
        rc = SP_EUSAGE;
        goto done;
    }
    if ((rc = store_person_load(s, &enc, &nenc)) ||
        (rc = store_link_list(s, NULL, &dec, &ndec))) {
        sp_err_add(err, NULL, 0, NULL, NULL, 0, "link-store", "%s", store_errmsg(s));
        goto done;
    }
    rep->records = nenc;
    bits = sp_xmalloc((nenc ? nenc : 1) * PPRL_WORDS * sizeof *bits);
    ids = sp_xmalloc((nenc ? nenc : 1) * sizeof *ids);
    recs = sp_xmalloc((nenc ? nenc : 1) * sizeof *recs);
    for (size_t i = 0; i < nenc; i++) {
        uint64_t *w = bits + nrec * PPRL_WORDS, blk;
        uint16_t pc;
        if (enc[i].org_id < 0 || enc[i].org_id > UINT32_MAX ||
            link_decode_clk(enc[i].clk, w, &pc) || link_decode_block(enc[i].block, &blk)) {
            rep->unusable++;
            continue;
        }
        recs[nrec].org = (uint32_t)enc[i].org_id;
        recs[nrec].block = blk;
        recs[nrec].bits = w;
        recs[nrec].pc = pc;
        ids[nrec++] = enc[i].record_id;   /* id order: ids stays sorted */
    }
    /* the analyst's decisions, as pairs of indices */
    keep = sp_xmalloc((ndec ? ndec : 1) * sizeof *keep);
    ban = sp_xmalloc((ndec ? ndec : 1) * sizeof *ban);
    for (size_t i = 0; i < ndec; i++) {
        if (strcmp(dec[i].status, "proposed") == 0) continue;
        rep->decided++;
        long long x = index_of(ids, nrec, dec[i].a), y = index_of(ids, nrec, dec[i].b);
        if (x < 0 || y < 0) continue;
        pprl_pair p = { (uint32_t)x, (uint32_t)y, (float)dec[i].score };
        if (strcmp(dec[i].status, "confirmed") == 0) keep[nkeep++] = p;
        else ban[nban++] = p;
    }
    pprl_link_decided d = { keep, nkeep, ban, nban };
    if ((rc = pprl_link_orgs(recs, nrec, (float)threshold, LINK_MAX_CANDIDATES, &d, &out, &nout,
                             &st, err)))
        goto done;
    rep->blocks = st.blocks;
    rep->comparisons = st.comparisons;
    rep->candidates = st.candidates;
    rep->links = nout;
    nl = sp_xmalloc((nout ? nout : 1) * sizeof *nl);
    for (size_t i = 0; i < nout; i++) {
        nl[i].a = ids[out[i].a];
        nl[i].b = ids[out[i].b];
        nl[i].score = out[i].score;
    }
    /* a dry run stores inside a transaction it rolls back, so the count of
     * duplicates it reports is the one a real run would make */
    if (dry_run) {
        if (store_in_transaction(s)) {
            rc = sp_err_add(err, NULL, 0, NULL, NULL, 0, "link-dry-run",
                            "a dry run needs the hub without an open transaction");
            rc = SP_EUSAGE;
            goto done;
        }
        if ((rc = store_begin(s))) goto store_failed;
        tx = 1;
    }
    if ((rc = store_link_propose(s, nl, nout, &rep->dups))) goto store_failed;
    if (tx) { tx = 0; if ((rc = store_rollback(s))) goto store_failed; }
    goto done;
store_failed:
    sp_err_add(err, NULL, 0, NULL, NULL, 0, "link-store", "storing the links failed: %s",
               store_errmsg(s));
done:
    if (tx) store_rollback(s);
    store_person_free(enc, nenc);
    store_link_list_free(dec, ndec);
    free(bits);
    free(ids);
    free(recs);
    free(keep);
    free(ban);
    free(out);
    free(nl);
    return rc;
}
