/* auth.c -- see auth.h and docs/auth.md.
 *
 * Keys: the hub's 32-byte secret (meta "secret", hex) is never used
 * directly; each purpose gets its own key, BLAKE2b keyed by the secret over
 * a label, so a CSRF tag can never be confused with a token hash. */
#include "auth.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define KEYLEN 32
#define RAWLEN 32                  /* random bytes in a session id or token */
#define TOKEN_PREFIX "sp_"

struct auth {
    sp_store *store;
    long long clock;               /* 0: real time */
    unsigned char k_token[KEYLEN], k_session[KEYLEN], k_csrf[crypto_auth_KEYBYTES],
        k_throttle[KEYLEN];
    char dummy[crypto_pwhash_STRBYTES];   /* hash that unknown accounts are checked against */
    int have_dummy;
};

/* ------------------------------------------------------------ roles */

static const char *const role_names[] = {"anonymous", "contributor", "analyst", "admin"};

const char *auth_role_name(auth_role r)
{
    return (r >= AUTH_ANONYMOUS && r <= AUTH_ADMIN) ? role_names[r] : "anonymous";
}

int auth_role_parse(const char *s, auth_role *out)
{
    for (int r = AUTH_CONTRIBUTOR; r <= AUTH_ADMIN; r++) {
        if (s && strcmp(s, role_names[r]) == 0) {
            *out = (auth_role)r;
            return SP_OK;
        }
    }
    return SP_EUSAGE;
}

/* The whole policy (docs/auth.md has it as a table). Anything not granted
 * here is refused: unknown roles and actions fall to "no". */
int auth_can(const auth_principal *p, auth_action a, long long resource_org_id)
{
    if (a == AUTH_VIEW_PUBLIC) return 1;
    if (!p || p->user_id <= 0 || p->org_id <= 0) return 0;
    int own = resource_org_id > 0 && resource_org_id == p->org_id;
    int any_org = resource_org_id > 0;
    switch (p->role) {
    case AUTH_CONTRIBUTOR:
        switch (a) {
        case AUTH_VIEW_OWN_RECORDS: case AUTH_EDIT_OWN_RECORDS: case AUTH_UPLOAD:
        case AUTH_WITHDRAW: case AUTH_EXPORT_OWN:
            return own;
        default:
            return 0;
        }
    case AUTH_ANALYST:
        switch (a) {
        case AUTH_VIEW_LINKS: return 1;
        case AUTH_VIEW_OWN_RECORDS: case AUTH_EXPORT_OWN: return own;
        default: return 0;
        }
    case AUTH_ADMIN:
        switch (a) {
        case AUTH_VIEW_LINKS: case AUTH_MANAGE_ORGS: case AUTH_MANAGE_USERS: case AUTH_EXPORT_ALL:
            return 1;
        /* an administrator reads and withdraws for any organisation (as
         * EXPORT_ALL already reads everything) but submits and edits only
         * for its own: records carry who reported them */
        case AUTH_VIEW_OWN_RECORDS: case AUTH_EXPORT_OWN: case AUTH_WITHDRAW:
            return any_org;
        case AUTH_EDIT_OWN_RECORDS: case AUTH_UPLOAD:
            return own;
        default:
            return 0;
        }
    default:
        return 0;
    }
}

/* ------------------------------------------------------------ helpers */

static int b64_encode(const unsigned char *raw, char *out, size_t outsz)
{
    sodium_bin2base64(out, outsz, raw, RAWLEN, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    return SP_OK;
}

/* Decodes exactly RAWLEN bytes from exactly 43 base64url characters
 * (canonical: libsodium refuses stray bits). */
static int b64_decode(const char *s, size_t n, unsigned char raw[RAWLEN])
{
    size_t bl = 0;
    const char *end = NULL;
    if (!s || n != AUTH_SESSION_CHARS) return SP_EINPUT;
    /* libsodium's decoder reads a byte >= 0x80 through a signed char and
     * takes some as aliases of '-' and '_' (found by fuzz_auth): only the
     * 64 base64url characters may reach it */
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
              c == '_'))
            return SP_EINPUT;
    }
    if (sodium_base642bin(raw, RAWLEN, s, n, NULL, &bl, &end,
                          sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
        bl != RAWLEN || end != s + n)
        return SP_EINPUT;
    return SP_OK;
}

static void keyed_hash(const unsigned char key[KEYLEN], const void *msg, size_t n,
                       unsigned char out[STORE_AUTH_HASH_LEN])
{
    crypto_generichash(out, STORE_AUTH_HASH_LEN, msg, n, key, KEYLEN);
}

static int role_from_db(const char *s, auth_role *r)
{
    if (auth_role_parse(s, r) != SP_OK) {
        *r = AUTH_ANONYMOUS;
        return SP_EDB;
    }
    return SP_OK;
}

static void anonymous(auth_principal *p)
{
    if (p) memset(p, 0, sizeof *p);
}

/* ------------------------------------------------------------ the handle */

int auth_open(auth **out, sp_store *s, sp_err *err)
{
    char *hex = NULL;
    unsigned char secret[KEYLEN];
    size_t bl = 0;
    int rc;
    *out = NULL;
    if (sodium_init() < 0)
        return sp_err_add(err, NULL, 0, NULL, NULL, 0, "auth", "libsodium failed to start"), SP_EUSAGE;
    if ((rc = store_meta_get(s, "secret", &hex)) != SP_OK)
        return sp_err_add(err, NULL, 0, NULL, NULL, 0, "auth", "cannot read the hub's secret: %s",
                          store_errmsg(s)), rc;
    if (!hex || strlen(hex) != 2 * KEYLEN ||
        sodium_hex2bin(secret, sizeof secret, hex, strlen(hex), NULL, &bl, NULL) != 0 || bl != KEYLEN) {
        if (hex) sodium_memzero(hex, strlen(hex));
        free(hex);
        return sp_err_add(err, NULL, 0, NULL, NULL, 0, "no-secret",
                          "the hub has no valid secret; run `spotlight init` first"), SP_EUSAGE;
    }
    sodium_memzero(hex, strlen(hex));
    free(hex);
    auth *a = sp_xcalloc(1, sizeof *a);
    a->store = s;
    static const char *const labels[] = {"spotlight api token v1", "spotlight session v1",
                                         "spotlight csrf v1", "spotlight login throttle v1"};
    unsigned char *keys[] = {a->k_token, a->k_session, a->k_csrf, a->k_throttle};
    for (int i = 0; i < 4; i++)
        crypto_generichash(keys[i], KEYLEN, (const unsigned char *)labels[i], strlen(labels[i]),
                           secret, KEYLEN);
    sodium_memzero(secret, sizeof secret);
    *out = a;
    return SP_OK;
}

void auth_close(auth *a)
{
    if (!a) return;
    sodium_memzero(a, sizeof *a);
    free(a);
}

void auth_set_clock(auth *a, long long now) { a->clock = now; }

long long auth_now(const auth *a)
{
    return a->clock ? a->clock : (long long)time(NULL);
}

/* ------------------------------------------------------------ accounts */

void auth_user_free(auth_user *u)
{
    if (!u) return;
    free(u->email);
    free(u->org_name);
    memset(u, 0, sizeof *u);
}

static int email_ok(const char *e)
{
    size_t n = e ? strlen(e) : 0, at = 0, nat = 0;
    if (n < 3 || n > AUTH_EMAIL_MAX || !sp_utf8_valid(e, n)) return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)e[i];
        if (c <= 0x20 || c == 0x7f || c == '"' || c == '<' || c == '>' || c == ',' || c == ';')
            return 0;
        if (c == '@') at = i, nat++;
    }
    return nat == 1 && at > 0 && at + 1 < n;
}

static size_t utf8_chars(const char *s)
{
    size_t k = 0;
    for (; *s; s++)
        if (((unsigned char)*s & 0xC0) != 0x80) k++;
    return k;
}

int auth_password_check(const char *pw, const char *email, const char *org_name, sp_err *err)
{
    size_t n = pw ? strlen(pw) : 0;
    if (n > AUTH_PASSWORD_MAX)
        return sp_err_add(err, NULL, 0, "password", NULL, 0, "password-too-long",
                          "a password is at most %d bytes", AUTH_PASSWORD_MAX);
    if (!sp_utf8_valid(pw ? pw : "", n))
        return sp_err_add(err, NULL, 0, "password", NULL, 0, "password-encoding",
                          "a password must be UTF-8 text");
    if (utf8_chars(pw ? pw : "") < AUTH_PASSWORD_MIN)
        return sp_err_add(err, NULL, 0, "password", NULL, 0, "password-too-short",
                          "a password needs at least %d characters", AUTH_PASSWORD_MIN);
    int same = 1;
    for (size_t i = 1; i < n; i++) same &= pw[i] == pw[0];
    if (same)
        return sp_err_add(err, NULL, 0, "password", NULL, 0, "password-weak",
                          "a password of one repeated character is too easy to guess");
    /* folded: letters lower-cased, everything but letters and digits dropped */
    char fpw[AUTH_PASSWORD_MAX + 1], fx[AUTH_PASSWORD_MAX + 1];
    size_t fn = sp_fold(pw, n, fpw, sizeof fpw);
    fpw[fn] = '\0';
    const char *parts[3] = {NULL, NULL, NULL};
    size_t lens[3] = {0, 0, 0};
    const char *what[3] = {"email address", "email address", "organisation's name"};
    if (email) {
        const char *at = strchr(email, '@');
        parts[0] = email, lens[0] = at ? (size_t)(at - email) : strlen(email);
        parts[1] = email, lens[1] = strlen(email);
    }
    if (org_name) parts[2] = org_name, lens[2] = strlen(org_name);
    for (int i = 0; i < 3; i++) {
        if (!parts[i]) continue;
        size_t k = sp_fold(parts[i], lens[i] < AUTH_PASSWORD_MAX ? lens[i] : AUTH_PASSWORD_MAX, fx,
                           sizeof fx);
        fx[k] = '\0';
        if (k >= 4 && strstr(fpw, fx))
            return sp_err_add(err, NULL, 0, "password", NULL, 0, "password-weak",
                              "a password must not contain the account's %s", what[i]);
    }
    return SP_OK;
}

int auth_user_add(auth *a, const char *email, const char *org_name, auth_role role,
                  const char *password, long long *id, sp_err *err)
{
    sp_org o;
    char hash[crypto_pwhash_STRBYTES];
    int rc;
    if (!email_ok(email))
        return sp_err_add(err, NULL, 0, "email", email, email ? strlen(email) : 0, "bad-email",
                          "an email address is NAME@DOMAIN, at most %d bytes, without spaces",
                          AUTH_EMAIL_MAX);
    if (role < AUTH_CONTRIBUTOR || role > AUTH_ADMIN)
        return sp_err_add(err, NULL, 0, "role", NULL, 0, "bad-role",
                          "a role is contributor, analyst or admin"), SP_EUSAGE;
    rc = store_org_find(a->store, org_name ? org_name : "", &o);
    if (rc == SP_EOF)
        return sp_err_add(err, NULL, 0, "org", org_name, org_name ? strlen(org_name) : 0, "unknown-org",
                          "no organisation has this name (add it with: spotlight org add NAME)"),
               SP_EUSAGE;
    if (rc) return sp_err_add(err, NULL, 0, NULL, NULL, 0, "db", "%s", store_errmsg(a->store)), rc;
    if ((rc = auth_password_check(password, email, o.name, err)) != SP_OK) goto done;
    if (crypto_pwhash_str(hash, password, strlen(password), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                          crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0) {
        rc = sp_err_add(err, NULL, 0, NULL, NULL, 0, "pwhash", "out of memory hashing the password");
        rc = SP_ENOMEM;
        goto done;
    }
    rc = store_account_add(a->store, email, o.id, auth_role_name(role), hash, auth_now(a), id);
    if (rc == SP_EEXIST)
        sp_err_add(err, NULL, 0, "email", email, strlen(email), "account-exists",
                   "an account with this email exists");
    else if (rc)
        sp_err_add(err, NULL, 0, NULL, NULL, 0, "db", "%s", store_errmsg(a->store));
    sodium_memzero(hash, sizeof hash);
done:
    store_org_free(&o);
    return rc;
}

static void user_from_account(sp_account *x, auth_user *u)
{
    memset(u, 0, sizeof *u);
    u->id = x->id;
    u->org_id = x->org_id;
    u->email = x->email, x->email = NULL;
    u->org_name = x->org_name, x->org_name = NULL;
    role_from_db(x->role, &u->role);
    u->disabled = x->disabled;
    u->created = x->created;
}

int auth_user_find(auth *a, const char *email, auth_user *out)
{
    sp_account x;
    memset(out, 0, sizeof *out);
    if (!email || strlen(email) > AUTH_EMAIL_MAX) return SP_EOF;
    int rc = store_account_find(a->store, email, 0, &x);
    if (rc == SP_OK) user_from_account(&x, out);
    store_account_free(&x);
    return rc;
}

int auth_user_list(auth *a, auth_user **out, size_t *n)
{
    sp_account *xs = NULL;
    size_t k = 0;
    *out = NULL;
    *n = 0;
    int rc = store_account_list(a->store, &xs, &k);
    if (rc == SP_OK && k) {
        *out = sp_xcalloc(k, sizeof **out);
        for (size_t i = 0; i < k; i++) user_from_account(&xs[i], &(*out)[i]);
        *n = k;
    }
    for (size_t i = 0; i < k; i++) store_account_free(&xs[i]);
    free(xs);
    return rc;
}

int auth_user_set_disabled(auth *a, const char *email, int disabled)
{
    auth_user u;
    int rc = auth_user_find(a, email, &u);
    if (rc) return rc;
    /* inside the caller's transaction when there is one (the CLI adds its
     * audit entry to it), else in our own */
    int own = !store_in_transaction(a->store);
    if (!own || (rc = store_begin(a->store)) == SP_OK) {
        rc = store_account_set_disabled(a->store, u.id, disabled);
        if (rc == SP_OK && disabled) rc = store_session_delete_account(a->store, u.id);
        if (own) {
            if (rc == SP_OK) rc = store_commit(a->store);
            else store_rollback(a->store);
        }
    }
    auth_user_free(&u);
    return rc;
}

/* ------------------------------------------------------------ logins */

/* The throttle key of an account ('a') or address ('r'): keyed hash, so
 * the table does not keep the emails people typed. */
static void throttle_key(const auth *a, char kind, const char *s, unsigned char out[STORE_AUTH_HASH_LEN])
{
    char buf[AUTH_EMAIL_MAX + 3];
    size_t n = 0;
    buf[n++] = kind;
    buf[n++] = ':';
    for (; s && *s && n < sizeof buf; s++) {
        char c = *s;
        buf[n++] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
    }
    keyed_hash(a->k_throttle, buf, n, out);
    sodium_memzero(buf, sizeof buf);
}

/* Seconds until key may try again (0: now). */
static int throttle_wait(auth *a, const unsigned char key[STORE_AUTH_HASH_LEN], long long now,
                         long long *wait)
{
    long long failures, last;
    int rc = store_throttle_get(a->store, key, &failures, &last);
    *wait = 0;
    if (rc) return rc;
    if (failures > AUTH_THROTTLE_FREE) {
        long long delay = failures >= 10 ? AUTH_THROTTLE_CAP : (1LL << failures);
        if (delay > AUTH_THROTTLE_CAP) delay = AUTH_THROTTLE_CAP;
        if (last + delay > now) *wait = last + delay - now;
    }
    return SP_OK;
}

static int dummy_hash(auth *a)
{
    if (a->have_dummy) return SP_OK;
    unsigned char r[16];
    char pw[40];
    randombytes_buf(r, sizeof r);
    sodium_bin2hex(pw, sizeof pw, r, sizeof r);
    if (crypto_pwhash_str(a->dummy, pw, strlen(pw), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                          crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
        return SP_ENOMEM;
    a->have_dummy = 1;
    return SP_OK;
}

int auth_login(auth *a, const char *email, const char *password, const char *remote_addr,
               auth_login_result *r)
{
    unsigned char kacct[STORE_AUTH_HASH_LEN], kaddr[STORE_AUTH_HASH_LEN], raw[RAWLEN],
        h[STORE_AUTH_HASH_LEN];
    long long now = auth_now(a), w1 = 0, w2 = 0;
    int has_addr = remote_addr && *remote_addr, rc, found = 0, ok = 0;
    sp_account x;
    memset(r, 0, sizeof *r);
    memset(&x, 0, sizeof x);
    r->refusal = AUTH_R_BAD_CREDENTIALS;
    if (!email || !password || strlen(email) > AUTH_EMAIL_MAX || strlen(password) > AUTH_PASSWORD_MAX)
        return SP_OK;
    throttle_key(a, 'a', email, kacct);
    if (has_addr) throttle_key(a, 'r', remote_addr, kaddr);
    if ((rc = throttle_wait(a, kacct, now, &w1))) return rc;
    if (has_addr && (rc = throttle_wait(a, kaddr, now, &w2))) return rc;
    if (w1 || w2) {
        r->refusal = AUTH_R_THROTTLED;
        r->retry_after = w1 > w2 ? w1 : w2;
        return SP_OK;
    }
    rc = store_account_find(a->store, email, 0, &x);
    if (rc != SP_OK && rc != SP_EOF) return rc;
    found = rc == SP_OK;
    if (found) {
        ok = crypto_pwhash_str_verify(x.pwhash, password, strlen(password)) == 0;
    } else {
        /* the same work for an unknown email, so timing tells nothing */
        if ((rc = dummy_hash(a))) return rc;
        if (crypto_pwhash_str_verify(a->dummy, password, strlen(password)) == 0) ok = 0;
    }
    if (!ok) {
        rc = store_throttle_fail(a->store, kacct, now);
        if (rc == SP_OK && has_addr) rc = store_throttle_fail(a->store, kaddr, now);
        if (rc == SP_OK) rc = store_throttle_prune(a->store, now - 86400);
        goto done;
    }
    if (x.disabled) {
        r->refusal = AUTH_R_DISABLED;
        goto done;
    }
    if ((rc = store_throttle_clear(a->store, kacct))) goto done;
    if (has_addr && (rc = store_throttle_clear(a->store, kaddr))) goto done;
    if (crypto_pwhash_str_needs_rehash(x.pwhash, crypto_pwhash_OPSLIMIT_INTERACTIVE,
                                       crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0) {
        char nh[crypto_pwhash_STRBYTES];
        if (crypto_pwhash_str(nh, password, strlen(password), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                              crypto_pwhash_MEMLIMIT_INTERACTIVE) == 0)
            store_account_set_pwhash(a->store, x.id, nh);   /* best effort: the old one still works */
    }
    randombytes_buf(raw, sizeof raw);
    keyed_hash(a->k_session, raw, sizeof raw, h);
    if ((rc = store_session_prune(a->store, now - AUTH_SESSION_ABSOLUTE, now - AUTH_SESSION_IDLE)))
        goto done;
    if ((rc = store_session_add(a->store, h, x.id, now))) goto done;
    b64_encode(raw, r->session, sizeof r->session);
    r->refusal = AUTH_R_NONE;
    r->who.user_id = x.id;
    r->who.org_id = x.org_id;
    role_from_db(x.role, &r->who.role);
done:
    sodium_memzero(raw, sizeof raw);
    store_account_free(&x);
    return rc;
}

/* Fills p from the account `id` if it is enabled; 1 if so. */
static int principal_of(auth *a, long long id, auth_principal *p)
{
    sp_account x;
    int ok = 0;
    if (store_account_find(a->store, NULL, id, &x) == SP_OK && !x.disabled &&
        role_from_db(x.role, &p->role) == SP_OK) {
        p->user_id = x.id;
        p->org_id = x.org_id;
        ok = 1;
    }
    store_account_free(&x);
    if (!ok) anonymous(p);
    return ok;
}

int auth_session_check(auth *a, const char *session, size_t n, auth_principal *p)
{
    unsigned char raw[RAWLEN], h[STORE_AUTH_HASH_LEN];
    long long uid, created, seen, now = auth_now(a);
    anonymous(p);
    if (b64_decode(session, n, raw)) return 0;
    keyed_hash(a->k_session, raw, sizeof raw, h);
    sodium_memzero(raw, sizeof raw);
    if (store_session_get(a->store, h, &uid, &created, &seen) != SP_OK) return 0;
    if (now - created >= AUTH_SESSION_ABSOLUTE || now - seen >= AUTH_SESSION_IDLE || now < created) {
        store_session_delete(a->store, h);
        return 0;
    }
    if (!principal_of(a, uid, p)) return 0;
    if (now != seen && store_session_touch(a->store, h, now) != SP_OK) {
        anonymous(p);
        return 0;
    }
    return 1;
}

int auth_logout(auth *a, const char *session, size_t n)
{
    unsigned char raw[RAWLEN], h[STORE_AUTH_HASH_LEN];
    if (b64_decode(session, n, raw)) return SP_OK;
    keyed_hash(a->k_session, raw, sizeof raw, h);
    sodium_memzero(raw, sizeof raw);
    return store_session_delete(a->store, h);
}

void auth_session_cookie(const char *session, int secure, char out[256])
{
    snprintf(out, 256, "%s=%.*s; HttpOnly; SameSite=Strict; Path=/%s", AUTH_COOKIE_NAME,
             AUTH_SESSION_CHARS, session ? session : "", secure ? "; Secure" : "");
}

void auth_session_cookie_clear(int secure, char out[256])
{
    snprintf(out, 256, "%s=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0%s", AUTH_COOKIE_NAME,
             secure ? "; Secure" : "");
}

/* ------------------------------------------------------------ CSRF */

static int csrf_tag(const auth *a, const char *session, size_t n, unsigned char tag[crypto_auth_BYTES])
{
    unsigned char raw[RAWLEN];
    if (b64_decode(session, n, raw)) return SP_EINPUT;
    crypto_auth(tag, raw, sizeof raw, a->k_csrf);
    sodium_memzero(raw, sizeof raw);
    return SP_OK;
}

int auth_csrf_token(const auth *a, const char *session, size_t n, char out[AUTH_CSRF_CHARS + 1])
{
    unsigned char tag[crypto_auth_BYTES];
    out[0] = '\0';
    if (csrf_tag(a, session, n, tag)) return SP_EINPUT;
    b64_encode(tag, out, AUTH_CSRF_CHARS + 1);
    return SP_OK;
}

int auth_csrf_check(const auth *a, const char *session, size_t sn, const char *token, size_t tn)
{
    unsigned char want[crypto_auth_BYTES], got[RAWLEN];
    if (csrf_tag(a, session, sn, want)) return 0;
    if (b64_decode(token, tn, got)) return 0;
    return sodium_memcmp(want, got, RAWLEN) == 0;
}

/* ------------------------------------------------------------ API tokens */

void auth_token_info_free(auth_token_info *t)
{
    if (!t) return;
    free(t->email);
    free(t->name);
    memset(t, 0, sizeof *t);
}

int auth_token_create(auth *a, const char *email, const char *name, long long *id,
                      char out[AUTH_TOKEN_CHARS + 1])
{
    unsigned char raw[RAWLEN], h[STORE_AUTH_HASH_LEN];
    sp_account x;
    out[0] = '\0';
    if (name && (strlen(name) > 100 || !sp_utf8_valid(name, strlen(name)))) return SP_EINPUT;
    if (!email || strlen(email) > AUTH_EMAIL_MAX) return SP_EOF;
    int rc = store_account_find(a->store, email, 0, &x);
    if (rc) return rc;
    if (x.disabled) {
        store_account_free(&x);
        return SP_EINPUT;
    }
    randombytes_buf(raw, sizeof raw);
    keyed_hash(a->k_token, raw, sizeof raw, h);
    rc = store_token_add(a->store, x.id, name && *name ? name : NULL, h, auth_now(a), id);
    if (rc == SP_OK) {
        memcpy(out, TOKEN_PREFIX, 3);
        b64_encode(raw, out + 3, AUTH_TOKEN_CHARS + 1 - 3);
    }
    sodium_memzero(raw, sizeof raw);
    store_account_free(&x);
    return rc;
}

int auth_token_revoke(auth *a, long long id)
{
    return store_token_revoke(a->store, id, auth_now(a));
}

int auth_token_list(auth *a, auth_token_info **out, size_t *n)
{
    sp_token_row *rows = NULL;
    size_t k = 0;
    *out = NULL;
    *n = 0;
    int rc = store_token_list(a->store, &rows, &k);
    if (rc == SP_OK && k) {
        *out = sp_xcalloc(k, sizeof **out);
        for (size_t i = 0; i < k; i++) {
            auth_token_info *t = &(*out)[i];
            t->id = rows[i].id;
            t->user_id = rows[i].account_id;
            t->email = rows[i].email, rows[i].email = NULL;
            t->name = rows[i].name, rows[i].name = NULL;
            t->created = rows[i].created;
            t->last_used = rows[i].last_used;
            t->revoked = rows[i].revoked;
        }
        *n = k;
    }
    for (size_t i = 0; i < k; i++) store_token_free(&rows[i]);
    free(rows);
    return rc;
}

int auth_token_check(auth *a, const char *token, size_t n, auth_principal *p)
{
    unsigned char raw[RAWLEN], h[STORE_AUTH_HASH_LEN];
    long long id, uid;
    anonymous(p);
    if (!token || n != AUTH_TOKEN_CHARS || memcmp(token, TOKEN_PREFIX, 3) != 0) return 0;
    if (b64_decode(token + 3, n - 3, raw)) return 0;
    keyed_hash(a->k_token, raw, sizeof raw, h);
    sodium_memzero(raw, sizeof raw);
    if (store_token_lookup(a->store, h, &id, &uid) != SP_OK) return 0;
    if (!principal_of(a, uid, p)) return 0;
    if (store_token_touch(a->store, id, auth_now(a)) != SP_OK) {
        anonymous(p);
        return 0;
    }
    return 1;
}

/* ------------------------------------------------------------ headers */

static int is_ows(char c) { return c == ' ' || c == '\t'; }

static int is_token68(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~' || c == '+' || c == '/';
}

int auth_parse_bearer(const char *v, size_t n, const char **tok, size_t *tn)
{
    *tok = NULL;
    *tn = 0;
    if (!v || n > AUTH_HEADER_MAX) return SP_EINPUT;
    size_t i = 0, e = n;
    while (i < e && is_ows(v[i])) i++;
    while (e > i && is_ows(v[e - 1])) e--;
    if (e - i < 7 || strncasecmp(v + i, "bearer", 6) != 0 || !is_ows(v[i + 6])) return SP_EINPUT;
    i += 6;
    while (i < e && is_ows(v[i])) i++;
    size_t s = i;
    while (i < e && is_token68((unsigned char)v[i])) i++;
    if (i == s) return SP_EINPUT;
    while (i < e && v[i] == '=') i++;
    if (i != e) return SP_EINPUT;
    *tok = v + s;
    *tn = e - s;
    return SP_OK;
}

static int is_cookie_octet(unsigned char c)
{
    return c == 0x21 || (c >= 0x23 && c <= 0x2B) || (c >= 0x2D && c <= 0x3A) ||
           (c >= 0x3C && c <= 0x5B) || (c >= 0x5D && c <= 0x7E);
}

int auth_parse_cookie(const char *v, size_t n, const char *name, const char **val, size_t *vn)
{
    size_t nl = name ? strlen(name) : 0, pairs = 0;
    int found = 0;
    *val = NULL;
    *vn = 0;
    if (!v || !nl || n > AUTH_HEADER_MAX || memchr(v, '\0', n)) return SP_EINPUT;
    size_t i = 0;
    while (i < n) {
        size_t s = i;
        while (i < n && v[i] != ';') i++;
        size_t e = i;
        if (i < n) i++;                     /* past ';' */
        while (s < e && is_ows(v[s])) s++;
        while (e > s && is_ows(v[e - 1])) e--;
        if (s == e) continue;               /* "a=b;;c=d" or a trailing ';' */
        if (++pairs > AUTH_COOKIE_PAIRS_MAX) return SP_EINPUT;
        const char *eq = memchr(v + s, '=', e - s);
        if (!eq) continue;                  /* a nameless fragment: not ours */
        size_t ke = (size_t)(eq - v);
        while (ke > s && is_ows(v[ke - 1])) ke--;
        if (ke - s != nl || memcmp(v + s, name, nl) != 0) continue;
        if (found) return SP_EINPUT;        /* the same name twice: trust neither */
        size_t vs = (size_t)(eq - v) + 1;
        while (vs < e && is_ows(v[vs])) vs++;
        size_t ve = e;
        if (ve > vs && v[vs] == '"') {
            if (ve - vs < 2 || v[ve - 1] != '"') return SP_EINPUT;
            vs++, ve--;
        }
        for (size_t k = vs; k < ve; k++)
            if (!is_cookie_octet((unsigned char)v[k])) return SP_EINPUT;
        *val = v + vs;
        *vn = ve - vs;
        found = 1;
    }
    return found ? SP_OK : SP_EOF;
}

int auth_request(auth *a, const char *authorization, const char *cookie, auth_principal *p,
                 int *via_session)
{
    const char *t;
    size_t tn;
    anonymous(p);
    if (via_session) *via_session = 0;
    if (authorization && *authorization) {
        if (auth_parse_bearer(authorization, strlen(authorization), &t, &tn)) return 0;
        return auth_token_check(a, t, tn, p);
    }
    if (cookie && *cookie &&
        auth_parse_cookie(cookie, strnlen(cookie, AUTH_HEADER_MAX + 1), AUTH_COOKIE_NAME, &t, &tn) == SP_OK &&
        auth_session_check(a, t, tn, p)) {
        if (via_session) *via_session = 1;
        return 1;
    }
    return 0;
}
