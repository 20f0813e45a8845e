/* audit.c -- see audit.h and docs/audit.md. The hash of entry n is
 *   BLAKE2b-256 keyed with the hub secret over
 *   "spotlight-audit-v1\0" || prev_hash(32) || field(seq) || field(at) ||
 *   field(actor) || field(org_id) || field(action) || field(target) ||
 *   field(remote) || field(detail)
 * where field(x) is one tag byte (0 NULL, 1 text, 2 integer), an 8-byte
 * big-endian length and the bytes (an integer as 8 big-endian bytes). The
 * lengths make the encoding unambiguous: no two different entries encode
 * alike. prev_hash of the first entry is 32 zero bytes. */
#include "audit.h"

#include <jansson.h>
#include <pwd.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DOMAIN "spotlight-audit-v1"

/* ------------------------------------------------------------ context */

static _Thread_local char ctx_actor[AUDIT_ACTOR_MAX + 1];
static _Thread_local char ctx_remote[AUDIT_TEXT_MAX + 1];
static _Thread_local int ctx_has_remote;

/* Copies s into out (outsz bytes with the NUL), whole UTF-8 characters
 * only; control characters and invalid bytes become '?'. */
static void clean_into(const char *s, char *out, size_t outsz)
{
    size_t o = 0, n = strlen(s);
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)s[i];
        size_t k = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3
                 : (c & 0xF8) == 0xF0 ? 4 : 0;
        int ok = k > 0 && i + k <= n && (k == 1 ? (c >= 0x20 && c != 0x7f) : sp_utf8_valid(s + i, k));
        if (!ok) k = 1;
        size_t w = ok ? k : 1;
        if (o + w + 1 > outsz) break;
        if (ok) memcpy(out + o, s + i, k);
        else out[o] = '?';
        o += w;
        i += k;
    }
    out[o] = '\0';
}

/* A cleaned, capped copy (caller frees), or NULL for NULL. */
static char *clean_dup(const char *s, size_t cap)
{
    if (!s) return NULL;
    char *out = sp_xmalloc(cap + 1);
    clean_into(s, out, cap + 1);
    return out;
}

void audit_context_set(const char *actor, const char *remote)
{
    ctx_actor[0] = '\0';
    ctx_remote[0] = '\0';
    ctx_has_remote = remote != NULL;
    if (actor) clean_into(actor, ctx_actor, sizeof ctx_actor);
    if (remote) clean_into(remote, ctx_remote, sizeof ctx_remote);
}

void audit_context_cli(void)
{
    char who[128];
    const struct passwd *pw = getpwuid(getuid());
    if (pw && pw->pw_name && *pw->pw_name) snprintf(who, sizeof who, "cli:%s", pw->pw_name);
    else snprintf(who, sizeof who, "cli:uid%lu", (unsigned long)getuid());
    audit_context_set(who, NULL);
}

const char *audit_context_actor(void)
{
    return ctx_actor[0] ? ctx_actor : "anonymous";
}

/* ------------------------------------------------------------ hashing */

void audit_hex(const unsigned char h[AUDIT_HASH_LEN], char out[2 * AUDIT_HASH_LEN + 1])
{
    sodium_bin2hex(out, 2 * AUDIT_HASH_LEN + 1, h, AUDIT_HASH_LEN);
}

int audit_parse_hex(const char *hex, unsigned char h[AUDIT_HASH_LEN])
{
    size_t got = 0;
    if (!hex || strlen(hex) != 2 * AUDIT_HASH_LEN) return -1;
    if (sodium_hex2bin(h, AUDIT_HASH_LEN, hex, strlen(hex), NULL, &got, NULL) != 0 ||
        got != AUDIT_HASH_LEN)
        return -1;
    return 0;
}

static void put_len(crypto_generichash_state *st, int tag, unsigned long long len)
{
    unsigned char b[9];
    b[0] = (unsigned char)tag;
    for (int i = 0; i < 8; i++) b[1 + i] = (unsigned char)(len >> (56 - 8 * i));
    crypto_generichash_update(st, b, sizeof b);
}

static void put_text(crypto_generichash_state *st, const char *s)
{
    if (!s) {
        put_len(st, 0, 0);
        return;
    }
    size_t n = strlen(s);
    put_len(st, 1, n);
    crypto_generichash_update(st, (const unsigned char *)s, n);
}

static void put_int(crypto_generichash_state *st, long long v, int null)
{
    if (null) {
        put_len(st, 0, 0);
        return;
    }
    unsigned char b[8];
    unsigned long long u = (unsigned long long)v;
    put_len(st, 2, 8);
    for (int i = 0; i < 8; i++) b[i] = (unsigned char)(u >> (56 - 8 * i));
    crypto_generichash_update(st, b, sizeof b);
}

static void entry_hash(const unsigned char key[32], const sp_audit_row *r,
                       const unsigned char prev[AUDIT_HASH_LEN], unsigned char out[AUDIT_HASH_LEN])
{
    crypto_generichash_state st;
    crypto_generichash_init(&st, key, 32, AUDIT_HASH_LEN);
    crypto_generichash_update(&st, (const unsigned char *)DOMAIN, sizeof DOMAIN);
    crypto_generichash_update(&st, prev, AUDIT_HASH_LEN);
    put_int(&st, r->seq, 0);
    put_text(&st, r->at);
    put_text(&st, r->actor);
    put_int(&st, r->org_id, r->org_id == 0);
    put_text(&st, r->action);
    put_text(&st, r->target);
    put_text(&st, r->remote);
    put_text(&st, r->detail);
    crypto_generichash_final(&st, out, AUDIT_HASH_LEN);
    sodium_memzero(&st, sizeof st);
}

/* The hub's key. With `create`, a hub without a secret gets one (inside
 * the caller's transaction). SP_EOF: there is none. */
static int hub_key(sp_store *s, int create, unsigned char key[32])
{
    char *hex = NULL;
    int rc = store_meta_get(s, "secret", &hex);
    if (rc) return rc;
    if (!hex) {
        if (!create) return SP_EOF;
        char h[65];
        randombytes_buf(key, 32);
        sodium_bin2hex(h, sizeof h, key, 32);
        rc = store_meta_set(s, "secret", h);
        sodium_memzero(h, sizeof h);
        return rc;
    }
    size_t got = 0;
    if (sodium_hex2bin(key, 32, hex, strlen(hex), NULL, &got, NULL) != 0 || got != 32) {
        /* a secret of another shape still keys the hash: its own hash */
        crypto_generichash(key, 32, (const unsigned char *)hex, strlen(hex), NULL, 0);
    }
    sodium_memzero(hex, strlen(hex));
    free(hex);
    return SP_OK;
}

/* ------------------------------------------------------------ detail */

static void detail_key(sp_buf *b, const char *key)
{
    sp_buf_adds(b, b->len ? "," : "{");
    sp_buf_printf(b, "\"%s\":", key);
}

void audit_detail_str(sp_buf *b, const char *key, const char *val)
{
    detail_key(b, key);
    if (!val) {
        sp_buf_adds(b, "null");
        return;
    }
    char *c = clean_dup(val, AUDIT_TEXT_MAX);
    sp_buf_addc(b, '"');
    for (const char *p = c; *p; p++) {
        if (*p == '"' || *p == '\\') sp_buf_addc(b, '\\');
        sp_buf_addc(b, *p);
    }
    sp_buf_addc(b, '"');
    free(c);
}

void audit_detail_int(sp_buf *b, const char *key, long long val)
{
    detail_key(b, key);
    sp_buf_printf(b, "%lld", val);
}

const char *audit_detail_end(sp_buf *b)
{
    sp_buf_adds(b, b->len ? "}" : "{}");
    return b->data;
}

/* ------------------------------------------------------------ append */

int audit_append(sp_store *s, const char *actor, long long org_id, const char *action,
                 const char *target, const char *remote, const char *detail_json)
{
    if (!s || !action || !*action) return SP_EUSAGE;
    char *det = NULL, *act = NULL, *tgt = NULL, *rem = NULL, *acn = NULL;
    unsigned char key[32];
    int rc = SP_OK, own = 0;
    if (detail_json) {
        json_error_t je;
        size_t dl = strlen(detail_json);
        json_t *j = json_loadb(detail_json, dl, JSON_DECODE_ANY, &je);
        if (!j) return SP_EUSAGE;
        json_decref(j);
        if (dl > AUDIT_DETAIL_MAX) {
            char hex[65];
            sp_sha256_hex(detail_json, dl, hex);
            sp_buf b;
            sp_buf_init(&b, 256);
            sp_buf_printf(&b, "{\"truncated\":true,\"bytes\":%zu,\"sha256\":\"%s\"}", dl, hex);
            det = sp_buf_steal(&b);
        } else {
            det = sp_xstrdup(detail_json);
        }
    }
    act = clean_dup(actor ? actor : audit_context_actor(), AUDIT_ACTOR_MAX);
    acn = clean_dup(action, 64);
    tgt = clean_dup(target, AUDIT_TEXT_MAX);
    rem = clean_dup(remote ? remote : (ctx_has_remote ? ctx_remote : NULL), AUDIT_TEXT_MAX);
    if (!store_in_transaction(s)) {
        if ((rc = store_begin(s))) goto done;
        own = 1;
    }
    if ((rc = hub_key(s, 1, key))) goto done;
    sp_audit_row r;
    memset(&r, 0, sizeof r);
    long long last = 0;
    if ((rc = store_audit_head(s, &last, r.prev_hash))) goto done;
    char at[21];
    sp_utc_now(at);
    r.seq = last + 1;
    r.at = at;
    r.actor = act;
    r.org_id = org_id > 0 ? org_id : 0;
    r.action = acn;
    r.target = tgt;
    r.remote = rem;
    r.detail = det;
    entry_hash(key, &r, r.prev_hash, r.hash);
    rc = store_audit_insert(s, &r);
done:
    sodium_memzero(key, sizeof key);
    if (own) {
        if (rc == SP_OK) rc = store_commit(s);
        if (rc != SP_OK) store_rollback(s);
    }
    free(det);
    free(act);
    free(acn);
    free(tgt);
    free(rem);
    return rc;
}

/* ------------------------------------------------------------ verify */

typedef struct vstate {
    unsigned char key[32];
    unsigned char prev[AUDIT_HASH_LEN];
    long long last_seq;
    const unsigned char *noted;
    audit_report *out;
    sp_err *err;
} vstate;

static void bad(vstate *v, long long seq, const char *why)
{
    if (v->out->first_bad) return;
    v->out->first_bad = seq;
    sp_err_add(v->err, NULL, 0, NULL, NULL, 0, "audit-chain", "audit entry %lld: %s", seq, why);
}

static int verify_row(const sp_audit_row *r, void *ud)
{
    vstate *v = ud;
    unsigned char h[AUDIT_HASH_LEN];
    v->out->count++;
    if (r->seq != v->last_seq + 1)
        bad(v, v->last_seq + 1,
            r->seq > v->last_seq + 1 ? "is missing: the log jumps past it, entries were deleted"
                                     : "is out of order");
    else if (r->prev_len != AUDIT_HASH_LEN || sodium_memcmp(r->prev_hash, v->prev, AUDIT_HASH_LEN) != 0)
        bad(v, r->seq, "does not link to the entry before it: an entry before it was removed, "
                       "replaced or changed");
    else {
        entry_hash(v->key, r, r->prev_hash, h);
        if (r->hash_len != AUDIT_HASH_LEN || sodium_memcmp(h, r->hash, AUDIT_HASH_LEN) != 0)
            bad(v, r->seq, "was changed after it was written (its hash does not match its contents)");
    }
    if (v->noted && r->hash_len == AUDIT_HASH_LEN && memcmp(r->hash, v->noted, AUDIT_HASH_LEN) == 0 &&
        !v->out->noted_seq)
        v->out->noted_seq = r->seq;
    /* go on from what is stored, so that one change is reported once */
    memcpy(v->prev, r->hash, AUDIT_HASH_LEN);
    v->last_seq = r->seq;
    v->out->head_seq = r->seq;
    memcpy(v->out->head, r->hash, AUDIT_HASH_LEN);
    return 0;
}

int audit_verify(sp_store *s, const unsigned char *noted, audit_report *out, sp_err *err)
{
    vstate v;
    memset(&v, 0, sizeof v);
    memset(out, 0, sizeof *out);
    v.noted = noted;
    v.out = out;
    v.err = err;
    int rc = hub_key(s, 0, v.key);
    if (rc == SP_EOF) {
        long long seq;
        unsigned char h[AUDIT_HASH_LEN];
        if ((rc = store_audit_head(s, &seq, h))) goto done;
        if (seq) {
            out->first_bad = 1;
            rc = sp_err_add(err, NULL, 0, NULL, NULL, 0, "audit-chain",
                            "the hub's secret is gone, so no audit entry can be checked");
            goto done;
        }
        rc = SP_OK;  /* an empty log and no key yet */
    } else if (rc) {
        goto done;
    } else {
        sp_audit_query q = {NULL, NULL, 0, 0};
        if ((rc = store_audit_scan(s, &q, verify_row, &v))) goto done;
    }
    if (out->first_bad) {
        rc = SP_EINPUT;
    } else if (noted && !out->noted_seq) {
        rc = sp_err_add(err, NULL, 0, NULL, NULL, 0, "audit-head",
                        "the noted head is not in the audit log: entries were removed from its end, "
                        "or the log was replaced");
    }
done:
    sodium_memzero(v.key, sizeof v.key);
    return rc;
}

int audit_scan(sp_store *s, const sp_audit_query *q, store_audit_cb cb, void *ud)
{
    return store_audit_scan(s, q, cb, ud);
}
