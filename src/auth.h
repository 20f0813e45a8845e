/* auth.h -- accounts, roles, API tokens, sessions, CSRF, login throttling
 * and the one authorisation function every door uses (docs/auth.md).
 *
 * An auth handle borrows an open store and holds keys derived from the
 * hub's secret (meta "secret", made by `spotlight init`). Nothing secret is
 * stored in clear: passwords as Argon2id strings, API tokens and session
 * ids as keyed BLAKE2b hashes, throttle keys (email, address) hashed too.
 *
 * Time is whole Unix seconds from a clock the tests can set
 * (auth_set_clock); 0 means the real clock. */
#ifndef SP_AUTH_H
#define SP_AUTH_H

#include "store.h"

/* ---- roles and the authorisation matrix */
typedef enum auth_role {
    AUTH_ANONYMOUS = 0,
    AUTH_CONTRIBUTOR = 1,
    AUTH_ANALYST = 2,
    AUTH_ADMIN = 3,
} auth_role;

typedef enum auth_action {
    AUTH_VIEW_PUBLIC = 0,      /* suppressed aggregates: everyone */
    AUTH_VIEW_OWN_RECORDS,     /* raw records and submissions of resource_org_id */
    AUTH_EDIT_OWN_RECORDS,     /* change records of resource_org_id */
    AUTH_UPLOAD,               /* submit a file for resource_org_id */
    AUTH_WITHDRAW,             /* withdraw a submission of resource_org_id */
    AUTH_VIEW_LINKS,           /* cross-organisation link results (no raw records) */
    AUTH_MANAGE_ORGS,
    AUTH_MANAGE_USERS,
    AUTH_EXPORT_OWN,           /* raw export of resource_org_id's records */
    AUTH_EXPORT_ALL,           /* raw export of every organisation's records */
    AUTH_NACTIONS
} auth_action;

/* Who is asking. An all-zero principal is anonymous. */
typedef struct auth_principal {
    long long user_id;         /* 0: anonymous */
    long long org_id;
    auth_role role;
} auth_principal;

/* 1 if p (NULL: anonymous) may do a on something of organisation
 * resource_org_id (ignored by actions not tied to one organisation; 0 or
 * negative matches no organisation). The matrix is in docs/auth.md; every
 * HTTP and CLI door asks here, nowhere else. */
int auth_can(const auth_principal *p, auth_action a, long long resource_org_id);

const char *auth_role_name(auth_role r);          /* "contributor", ... */
/* Parses "contributor", "analyst" or "admin"; SP_EUSAGE otherwise. */
int auth_role_parse(const char *s, auth_role *out);

/* ---- the handle */
typedef struct auth auth;
/* Borrows s (which must outlive the handle). SP_EUSAGE with a sentence in
 * err when the hub has no valid secret (run `spotlight init`). */
int auth_open(auth **out, sp_store *s, sp_err *err);
void auth_close(auth *a);
void auth_set_clock(auth *a, long long now);      /* 0: real time */
long long auth_now(const auth *a);

/* ---- accounts */
#define AUTH_PASSWORD_MIN 12        /* characters (UTF-8 code points) */
#define AUTH_PASSWORD_MAX 1024      /* bytes */
#define AUTH_EMAIL_MAX 254

typedef struct auth_user {
    long long id, org_id;
    char *email;
    char *org_name;
    auth_role role;
    int disabled;
    long long created;         /* Unix seconds */
} auth_user;
void auth_user_free(auth_user *u);

/* Checks a new password for `email` of organisation `org_name`: length,
 * UTF-8, not built from the email or the organisation's name. SP_EINPUT
 * with the reason in err. */
int auth_password_check(const char *password, const char *email, const char *org_name,
                        sp_err *err);
/* Adds an account of organisation `org_name` (which must exist: SP_EUSAGE)
 * with the password hashed by Argon2id. SP_EINPUT for a bad email or weak
 * password, SP_EEXIST for a taken email; reasons in err. */
int auth_user_add(auth *a, const char *email, const char *org_name, auth_role role,
                  const char *password, long long *id, sp_err *err);
/* Looks up by email (case-insensitive); SP_EOF if none. */
int auth_user_find(auth *a, const char *email, auth_user *out);
int auth_user_list(auth *a, auth_user **out, size_t *n);   /* free each, then the array */
/* Disables (or enables) an account; disabling ends its sessions. Tokens
 * stay but are refused while it is disabled. SP_EOF if no such email. */
int auth_user_set_disabled(auth *a, const char *email, int disabled);

/* ---- logins and sessions */
typedef enum auth_refusal {
    AUTH_R_NONE = 0,
    AUTH_R_BAD_CREDENTIALS,    /* unknown email or wrong password (never told apart) */
    AUTH_R_DISABLED,           /* right password, account disabled */
    AUTH_R_THROTTLED,          /* too many failures; retry_after says when */
} auth_refusal;

#define AUTH_SESSION_IDLE 1800      /* seconds without a request */
#define AUTH_SESSION_ABSOLUTE 43200 /* seconds after login, whatever happens */
#define AUTH_THROTTLE_FREE 5        /* failures allowed before delays start */
#define AUTH_THROTTLE_CAP 900       /* longest delay, seconds */
/* Session ids and CSRF tokens: 32 random bytes as unpadded base64url. */
#define AUTH_SESSION_CHARS 43
#define AUTH_CSRF_CHARS 43
#define AUTH_COOKIE_NAME "sp_session"

typedef struct auth_login_result {
    auth_refusal refusal;      /* AUTH_R_NONE: logged in */
    long long retry_after;     /* seconds, with AUTH_R_THROTTLED */
    char session[AUTH_SESSION_CHARS + 1];   /* the cookie value when logged in */
    auth_principal who;
} auth_login_result;
/* Checks email and password; remote_addr (may be NULL or "") is the
 * client's address for throttling. The password hash runs for unknown
 * accounts too. Returns SP_OK with r->refusal telling the outcome, or an
 * error code when the store fails. */
int auth_login(auth *a, const char *email, const char *password, const char *remote_addr,
               auth_login_result *r);
/* The principal of a session cookie value; refreshes its idle clock.
 * Returns 1 and fills p for a live session of an enabled account, else 0
 * (p anonymous). Expired sessions are deleted. */
int auth_session_check(auth *a, const char *session, size_t n, auth_principal *p);
/* Ends the session (nothing happens for an unknown one). */
int auth_logout(auth *a, const char *session, size_t n);
/* Set-Cookie value for a new session (secure: the request came over TLS),
 * and the one that clears it. Into out[256]. */
void auth_session_cookie(const char *session, int secure, char out[256]);
void auth_session_cookie_clear(int secure, char out[256]);

/* ---- CSRF: HMAC (crypto_auth) of the session id under a key derived from
 * the hub secret; checked in constant time. */
int auth_csrf_token(const auth *a, const char *session, size_t n, char out[AUTH_CSRF_CHARS + 1]);
/* 1 if `token` is the CSRF token of `session`, else 0. */
int auth_csrf_check(const auth *a, const char *session, size_t sn, const char *token, size_t tn);

/* ---- API tokens: "sp_" + 43 base64url characters */
#define AUTH_TOKEN_CHARS 46
typedef struct auth_token_info {
    long long id, user_id;
    char *email;
    char *name;                /* label or NULL */
    long long created, last_used, revoked;   /* Unix seconds; 0: never */
} auth_token_info;
void auth_token_info_free(auth_token_info *t);
/* Makes a token for the account `email` (SP_EOF if none, SP_EINPUT if
 * disabled); the value goes into out and is never stored. */
int auth_token_create(auth *a, const char *email, const char *name, long long *id,
                      char out[AUTH_TOKEN_CHARS + 1]);
/* SP_EOF if there is no such live token. */
int auth_token_revoke(auth *a, long long id);
int auth_token_list(auth *a, auth_token_info **out, size_t *n);
/* 1 and p filled for a live token of an enabled account; records its use. */
int auth_token_check(auth *a, const char *token, size_t n, auth_principal *p);

/* ---- header parsing (values as the HTTP module received them) */
#define AUTH_HEADER_MAX 8192        /* longer headers are refused */
#define AUTH_COOKIE_PAIRS_MAX 64
/* "Bearer TOKEN" (scheme case-insensitive, token68 characters). Points
 * *tok into v. SP_EINPUT when it is not that. */
int auth_parse_bearer(const char *v, size_t n, const char **tok, size_t *tn);
/* Finds cookie `name` in a Cookie header ("a=b; c=\"d\""). Points *val
 * into v (without quotes). SP_EOF if absent; SP_EINPUT if the header is
 * malformed, too long, or names the cookie twice. */
int auth_parse_cookie(const char *v, size_t n, const char *name, const char **val, size_t *vn);
/* The principal of a request: a bearer token when Authorization is given
 * (a bad one gives anonymous, never the cookie's), else the session
 * cookie. Either header may be NULL. *via_session is set to 1 when the
 * session cookie decided (state-changing forms then need CSRF). */
int auth_request(auth *a, const char *authorization, const char *cookie, auth_principal *p,
                 int *via_session);

#endif
