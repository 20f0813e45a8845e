/* portal.c -- see portal.h. */
#define _GNU_SOURCE 1   /* memmem, mkstemp */
#include "portal_int.h"
#include "analyst.h"
#include "analyst_links.h"
#include "admin.h"
#include "import.h"
#include "template.h"
#include "xlsform.h"

#include <jansson.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define LOGIN_COOKIE "sp_login"
#define LOGIN_TOKEN_CHARS 43
#define PART_HEAD_MAX 4096         /* header bytes of one multipart part */
#define FILENAME_MAX_BYTES 255
#define BOUNDARY_MAX 70
#define IDEM_KEY_MAX 128
#define IDEM_PENDING_STALE 600     /* seconds: a pending key older than this was abandoned */

struct portal {
    auth *auth;
    sp_store *store;
    int secure;                /* behind TLS: cookies carry Secure */
};

auth *portal_auth(portal *pt) { return pt->auth; }
void portal_set_behind_tls(portal *p, int on) { p->secure = on != 0; }

int portal_open(portal **out, sp_store *s, sp_err *err)
{
    *out = NULL;
    auth *a = NULL;
    int rc = auth_open(&a, s, err);
    if (rc) return rc;
    portal *p = sp_xcalloc(1, sizeof *p);
    p->auth = a;
    p->store = s;
    *out = p;
    return SP_OK;
}

void portal_close(portal *p)
{
    if (!p) return;
    auth_close(p->auth);
    free(p);
}

/* ------------------------------------------------------------ forms */

void portal_form_free(portal_form *f)
{
    free(f->scratch);
    memset(f, 0, sizeof *f);
}

static void form_reset(portal_form *f, size_t need)
{
    free(f->scratch);
    memset(f, 0, sizeof *f);
    f->scap = need + 2 * PORTAL_FIELDS_MAX + 16;
    f->scratch = sp_xmalloc(f->scap);
}

/* Copies s[0..n) into the scratch with a NUL; NULL if it does not fit. */
static char *scratch_put(portal_form *f, const char *s, size_t n)
{
    if (f->slen + n + 1 > f->scap) return NULL;
    char *d = f->scratch + f->slen;
    if (n) memcpy(d, s, n);
    d[n] = '\0';
    f->slen += n + 1;
    return d;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Decodes s[0..n) ('+' and %XX) into the scratch. */
static char *url_decode(portal_form *f, const char *s, size_t n, size_t *outlen, const char **why)
{
    if (f->slen + n + 1 > f->scap) {
        *why = "the form is too large";
        return NULL;
    }
    char *d = f->scratch + f->slen;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '+') c = ' ';
        else if (c == '%') {
            int h = i + 2 < n ? hexval(s[i + 1]) : -1, l = i + 2 < n ? hexval(s[i + 2]) : -1;
            if (h < 0 || l < 0) {
                *why = "a bad %-escape in the form";
                return NULL;
            }
            c = (char)(h * 16 + l);
            i += 2;
        }
        if (c == '\0') {
            *why = "a NUL byte in the form";
            return NULL;
        }
        d[k++] = c;
    }
    d[k] = '\0';
    if (!sp_utf8_valid(d, k)) {
        *why = "the form is not valid UTF-8";
        return NULL;
    }
    f->slen += k + 1;
    *outlen = k;
    return d;
}

int portal_form_urlencoded(const char *body, size_t n, portal_form *f, const char **why)
{
    form_reset(f, n);
    size_t i = 0;
    while (i < n) {
        const char *amp = memchr(body + i, '&', n - i);
        size_t end = amp ? (size_t)(amp - body) : n;
        if (end > i) {
            const char *eq = memchr(body + i, '=', end - i);
            size_t kend = eq ? (size_t)(eq - body) : end;
            if (kend == i) {
                *why = "a form field without a name";
                return -1;
            }
            if (f->n == PORTAL_FIELDS_MAX) {
                *why = "too many form fields";
                return -1;
            }
            portal_field *fl = &f->f[f->n];
            size_t kl;
            memset(fl, 0, sizeof *fl);
            if (!(fl->name = url_decode(f, body + i, kend - i, &kl, why))) return -1;
            const char *v = eq ? eq + 1 : body + end;
            fl->value = url_decode(f, v, (size_t)(body + end - v), &fl->vlen, why);
            if (!fl->value) return -1;
            f->n++;
        }
        i = end + 1;
    }
    return 0;
}

/* As portal_form_urlencoded, into a growing array of http_param with its
 * own cap: the names and values are decoded into f's scratch, sized for
 * the body plus one NUL per name and value. */
int portal_form_pairs(const char *body, size_t n, size_t max_pairs, portal_pairs *pp,
                      const char **why)
{
    portal_pairs_free(pp);
    size_t amps = 1;
    for (size_t i = 0; i < n; i++) amps += body[i] == '&';
    pp->sc.scap = n + 2 * amps + 16;
    pp->sc.scratch = sp_xmalloc(pp->sc.scap);
    size_t alloc = 0, i = 0;
    while (i < n) {
        const char *amp = memchr(body + i, '&', n - i);
        size_t end = amp ? (size_t)(amp - body) : n;
        if (end > i) {
            const char *eq = memchr(body + i, '=', end - i);
            size_t kend = eq ? (size_t)(eq - body) : end;
            if (kend == i) {
                *why = "a form field without a name";
                return -1;
            }
            if (pp->n == max_pairs) {
                *why = "too many form fields";
                return -2;
            }
            if (pp->n == alloc) {
                alloc = alloc ? alloc * 2 : 64;
                pp->p = sp_xrealloc(pp->p, alloc * sizeof *pp->p);
            }
            http_param *x = &pp->p[pp->n];
            memset(x, 0, sizeof *x);
            if (!(x->key = url_decode(&pp->sc, body + i, kend - i, &x->klen, why))) return -1;
            const char *v = eq ? eq + 1 : body + end;
            if (!(x->value = url_decode(&pp->sc, v, (size_t)(body + end - v), &x->vlen, why)))
                return -1;
            pp->n++;
        }
        i = end + 1;
    }
    return 0;
}

void portal_pairs_free(portal_pairs *pp)
{
    free(pp->p);
    portal_form_free(&pp->sc);
    memset(pp, 0, sizeof *pp);
}

/* The value of parameter `key` (case-insensitive) in a header value like
 * `form-data; name="a"; filename="b"`, unquoted, into out. 1 if found,
 * 0 if not, -1 if malformed or too long. */
static int header_param(const char *v, size_t n, const char *key, char *out, size_t cap,
                        size_t *outlen)
{
    size_t kl = strlen(key);
    size_t i = 0;
    /* skip the first token (the disposition type or media type) */
    while (i < n && v[i] != ';') i++;
    while (i < n) {
        i++;                                   /* ';' */
        while (i < n && (v[i] == ' ' || v[i] == '\t')) i++;
        size_t ks = i;
        while (i < n && v[i] != '=' && v[i] != ';') i++;
        if (i >= n || v[i] != '=') return -1;
        size_t klen = i - ks;
        while (klen && (v[ks + klen - 1] == ' ')) klen--;
        i++;
        size_t o = 0;
        int match = klen == kl && strncasecmp(v + ks, key, kl) == 0;
        if (i < n && v[i] == '"') {
            i++;
            while (i < n && v[i] != '"') {
                char c = v[i];
                if (c == '\\' && i + 1 < n) c = v[++i];
                if (match) {
                    if (o + 1 >= cap) return -1;
                    out[o++] = c;
                }
                i++;
            }
            if (i >= n) return -1;
            i++;
        } else {
            while (i < n && v[i] != ';' && v[i] != ' ') {
                if (match) {
                    if (o + 1 >= cap) return -1;
                    out[o++] = v[i];
                }
                i++;
            }
        }
        while (i < n && v[i] == ' ') i++;
        if (i < n && v[i] != ';') return -1;
        if (match) {
            out[o] = '\0';
            *outlen = o;
            return 1;
        }
    }
    return 0;
}

int portal_form_multipart(const char *ct, size_t ctn, const char *body, size_t n,
                          portal_form *f, const char **why)
{
    form_reset(f, n);
    char bnd[BOUNDARY_MAX + 3];
    size_t bl = 0;
    if (ctn < 19 || strncasecmp(ct, "multipart/form-data", 19) != 0) {
        *why = "the body is not multipart/form-data";
        return -1;
    }
    if (header_param(ct, ctn, "boundary", bnd + 2, BOUNDARY_MAX + 1, &bl) != 1 || bl == 0) {
        *why = "multipart/form-data without a valid boundary";
        return -1;
    }
    bnd[0] = bnd[1] = '-';
    bl += 2;                                   /* "--boundary" */
    if (n < bl || memcmp(body, bnd, bl) != 0) {
        *why = "the body does not start with the multipart boundary";
        return -1;
    }
    size_t i = bl;
    int files = 0;
    for (;;) {
        if (n - i >= 2 && body[i] == '-' && body[i + 1] == '-') return 0;   /* the end */
        if (n - i < 2 || body[i] != '\r' || body[i + 1] != '\n') {
            *why = "a malformed multipart boundary line";
            return -1;
        }
        i += 2;
        const char *he = memmem(body + i, n - i < PART_HEAD_MAX ? n - i : PART_HEAD_MAX,
                                "\r\n\r\n", 4);
        /* a part with no headers at all starts with the blank line */
        if (n - i >= 2 && body[i] == '\r' && body[i + 1] == '\n') he = body + i - 2;
        if (!he) {
            *why = "a multipart part's headers are missing or too long";
            return -1;
        }
        char name[256], fname[FILENAME_MAX_BYTES + 1];
        size_t nl = 0, fl = 0;
        int has_name = 0, has_file = 0;
        for (size_t p = i; p < (size_t)(he - body);) {
            const char *le = memmem(body + p, (size_t)(he - body) + 2 - p, "\r\n", 2);
            size_t lend = le ? (size_t)(le - body) : (size_t)(he - body);
            const char *line = body + p;
            size_t ll = lend - p;
            if (ll > 20 && strncasecmp(line, "content-disposition:", 20) == 0) {
                const char *v = line + 20;
                size_t vn = ll - 20;
                while (vn && *v == ' ') v++, vn--;
                if (vn < 9 || strncasecmp(v, "form-data", 9) != 0) {
                    *why = "a multipart part that is not form-data";
                    return -1;
                }
                int r1 = header_param(v, vn, "name", name, sizeof name, &nl);
                int r2 = header_param(v, vn, "filename", fname, sizeof fname, &fl);
                if (r1 < 0 || r2 < 0) {
                    *why = "a malformed or too long Content-Disposition in a multipart part";
                    return -1;
                }
                has_name = r1 == 1;
                has_file = r2 == 1;
            }
            p = lend + 2;
        }
        if (!has_name || nl == 0 || !sp_utf8_valid(name, nl) || memchr(name, '\0', nl)) {
            *why = "a multipart part without a valid name";
            return -1;
        }
        size_t ds = (size_t)(he - body) + 4;
        if (ds > n) {
            *why = "a truncated multipart part";
            return -1;
        }
        /* the part ends at CRLF "--boundary" */
        const char *end = NULL;
        for (size_t s = ds; s + 2 + bl <= n;) {
            const char *cr = memmem(body + s, n - s, "\r\n", 2);
            if (!cr || (size_t)(cr - body) + 2 + bl > n) break;
            if (memcmp(cr + 2, bnd, bl) == 0) {
                end = cr;
                break;
            }
            s = (size_t)(cr - body) + 1;
        }
        if (!end) {
            *why = "a multipart part without its closing boundary";
            return -1;
        }
        if (f->n == PORTAL_FIELDS_MAX) {
            *why = "too many form fields";
            return -1;
        }
        portal_field *fd = &f->f[f->n];
        memset(fd, 0, sizeof *fd);
        fd->name = scratch_put(f, name, nl);
        size_t vlen = (size_t)(end - body) - ds;
        if (has_file) {
            if (files++) {
                *why = "more than one file in the form";
                return -1;
            }
            if (memchr(fname, '\0', fl) || !sp_utf8_valid(fname, fl)) {
                *why = "the file name is not valid UTF-8";
                return -1;
            }
            fd->filename = scratch_put(f, fname, fl);
            fd->is_file = 1;
            fd->value = body + ds;
            fd->vlen = vlen;
        } else {
            if (memchr(body + ds, '\0', vlen) || !sp_utf8_valid(body + ds, vlen)) {
                *why = "a form field is not valid UTF-8 text";
                return -1;
            }
            fd->value = scratch_put(f, body + ds, vlen);
            fd->vlen = vlen;
        }
        if (!fd->name || !fd->value || (has_file && !fd->filename)) {
            *why = "the form is too large";
            return -1;
        }
        f->n++;
        i = (size_t)(end - body) + 2 + bl;
    }
}

const portal_field *portal_form_get(const portal_form *f, const char *name)
{
    for (size_t i = 0; i < f->n; i++)
        if (strcmp(f->f[i].name, name) == 0) return &f->f[i];
    return NULL;
}

/* ------------------------------------------------------------ helpers */

/* A header's value as a NUL-terminated string in buf (cut at cap-1, which
 * callers size beyond what the consumer accepts), or NULL if absent. */
static const char *hdr_str(const http_request *req, const char *name, char *buf, size_t cap)
{
    const http_header *h = http_header_get(req, name);
    if (!h) return NULL;
    size_t n = h->vlen < cap - 1 ? h->vlen : cap - 1;
    memcpy(buf, h->value, n);
    buf[n] = '\0';
    return buf;
}


static void find_principal(portal *pt, const http_request *req, int api, portal_who *w)
{
    static _Thread_local char az[AUTH_HEADER_MAX + 2], ck[AUTH_HEADER_MAX + 2];
    memset(w, 0, sizeof *w);
    const char *a = hdr_str(req, "Authorization", az, sizeof az);
    const char *c = api ? NULL : hdr_str(req, "Cookie", ck, sizeof ck);
    auth_request(pt->auth, a, c, &w->p, &w->via_session);
    if (w->via_session && c) {
        const char *v;
        size_t vn;
        if (auth_parse_cookie(c, strlen(c), AUTH_COOKIE_NAME, &v, &vn) == SP_OK &&
            vn <= AUTH_SESSION_CHARS) {
            memcpy(w->session, v, vn);
            w->session[vn] = '\0';
        }
    }
    if (w->p.user_id) snprintf(w->actor, sizeof w->actor, "user:%lld", w->p.user_id);
    else snprintf(w->actor, sizeof w->actor, "anonymous");
}

/* A state-changing request of a session must carry its CSRF token. */
int portal_csrf_ok(portal *pt, const portal_who *w, const portal_form *f)
{
    if (!w->via_session) return 1;          /* a bearer token: no ambient authority */
    const portal_field *t = portal_form_get(f, "csrf");
    if (!t || !w->session[0]) return 0;
    return auth_csrf_check(pt->auth, w->session, strlen(w->session), t->value, t->vlen);
}

int portal_org_name(sp_store *s, long long id, char *out, size_t cap)
{
    sp_org *orgs = NULL;
    size_t n = 0;
    int rc = store_org_list(s, &orgs, &n);
    if (rc) return rc;
    rc = SP_EOF;
    for (size_t i = 0; i < n; i++) {
        if (orgs[i].id == id && rc == SP_EOF) {
            snprintf(out, cap, "%s", orgs[i].name);
            rc = SP_OK;
        }
        store_org_free(&orgs[i]);
    }
    free(orgs);
    return rc;
}

void portal_page_start(serve_reply *out, const char *title)
{
    out->content_type = "text/html; charset=utf-8";
    sp_buf_adds(&out->body, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
                            "<title>");
    sp_buf_add_htmls(&out->body, title);
    sp_buf_adds(&out->body, "</title>\n<link rel=\"icon\" href=\"data:,\">\n"
                            "<link rel=\"stylesheet\" href=\"/static/app.css\">\n</head>\n<body>\n"
                            "<main class=\"portal\">\n");
}

int portal_page_end(serve_reply *out)
{
    return sp_buf_adds(&out->body, "</main>\n</body>\n</html>\n");
}

int portal_message(serve_reply *out, int status, const char *title, const char *msg)
{
    out->status = status;
    portal_page_start(out, title);
    sp_buf_adds(&out->body, "<h1>");
    sp_buf_add_htmls(&out->body, title);
    sp_buf_adds(&out->body, "</h1>\n<p class=\"error\">");
    sp_buf_add_htmls(&out->body, msg);
    sp_buf_adds(&out->body, "</p>\n<p><a href=\"/portal\">Back to the portal</a></p>\n");
    return portal_page_end(out);
}

int portal_redirect(serve_reply *out, const char *loc, const char *cookie)
{
    out->status = 303;
    size_t k = strlen(out->extra);
    if (cookie)
        k += (size_t)snprintf(out->extra + k, sizeof out->extra - k, "Set-Cookie: %s\r\n", cookie);
    if (k < sizeof out->extra)
        snprintf(out->extra + k, sizeof out->extra - k, "Location: %s\r\n", loc);
    return sp_buf_printf(&out->body, "see %s\n", loc);
}

void portal_add_extra(serve_reply *out, const char *line)
{
    size_t k = strlen(out->extra);
    if (k < sizeof out->extra) snprintf(out->extra + k, sizeof out->extra - k, "%s", line);
}

void portal_csrf_field(portal *pt, const portal_who *w, sp_buf *b)
{
    char tok[AUTH_CSRF_CHARS + 1] = "";
    if (w->session[0]) auth_csrf_token(pt->auth, w->session, strlen(w->session), tok);
    sp_buf_printf(b, "<input type=\"hidden\" name=\"csrf\" value=\"%s\">\n", tok);
}

/* ------------------------------------------------------------ sign in and out */

static int login_form(serve_reply *out, int status, const char *error, int secure)
{
    unsigned char raw[32];
    char tok[LOGIN_TOKEN_CHARS + 2];
    randombytes_buf(raw, sizeof raw);
    sodium_bin2base64(tok, sizeof tok, raw, sizeof raw, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    out->status = status;
    char line[200];
    snprintf(line, sizeof line,
             "Set-Cookie: " LOGIN_COOKIE "=%s; HttpOnly; SameSite=Strict; Path=/login; Max-Age=3600%s\r\n",
             tok, secure ? "; Secure" : "");
    portal_add_extra(out, line);
    portal_page_start(out, "Sign in");
    sp_buf_adds(&out->body, "<h1>Sign in to the partner portal</h1>\n");
    if (error) {
        sp_buf_adds(&out->body, "<p class=\"error\" id=\"login-error\">");
        sp_buf_add_htmls(&out->body, error);
        sp_buf_adds(&out->body, "</p>\n");
    }
    sp_buf_printf(&out->body,
                  "<form method=\"post\" action=\"/login\">\n"
                  "<input type=\"hidden\" name=\"login_token\" value=\"%s\">\n"
                  "<label>Email <input type=\"email\" name=\"email\" autocomplete=\"username\" "
                  "required></label>\n"
                  "<label>Password <input type=\"password\" name=\"password\" "
                  "autocomplete=\"current-password\" required></label>\n"
                  "<button type=\"submit\">Sign in</button>\n</form>\n",
                  tok);
    return portal_page_end(out);
}

/* Is a cross-site Origin present? (Browsers send Origin with every POST;
 * when it names another site the request is refused.) */
static int origin_foreign(const http_request *req)
{
    const http_header *o = http_header_get(req, "Origin");
    if (!o) return 0;
    const char *v = o->value;
    size_t n = o->vlen, sl;
    /* "null" (an opaque origin) names no site: it is what Chromium and
     * Firefox send with a form of this very site under the server's
     * Referrer-Policy: no-referrer. A cross-site post still lacks the
     * SameSite=Strict sp_login cookie the form's token must match. */
    if (n == 4 && memcmp(v, "null", 4) == 0) return 0;
    if (n > 7 && strncasecmp(v, "http://", 7) == 0) sl = 7;
    else if (n > 8 && strncasecmp(v, "https://", 8) == 0) sl = 8;
    else return 1;
    return !(req->host && n - sl == req->host_len && strncasecmp(v + sl, req->host, req->host_len) == 0);
}

static int do_login(portal *pt, serve_ctx *ctx, const http_request *req, const char *body,
                    size_t blen, const char *remote, serve_reply *out)
{
    portal_form f = {0};
    const char *why = NULL;
    int rc = SP_OK;
    if (origin_foreign(req)) {
        rc = portal_message(out, 403, "Refused", "this sign-in came from another site");
        goto done;
    }
    if (portal_form_urlencoded(body, blen, &f, &why)) {
        rc = portal_message(out, 400, "Bad form", why);
        goto done;
    }
    const portal_field *em = portal_form_get(&f, "email"), *pw = portal_form_get(&f, "password"),
                       *lt = portal_form_get(&f, "login_token");
    /* the double-submit pre-session token: the cookie set with the form */
    char ck[AUTH_HEADER_MAX + 2];
    const char *cookie = hdr_str(req, "Cookie", ck, sizeof ck), *cv = NULL;
    size_t cvn = 0;
    if (!cookie || auth_parse_cookie(cookie, strlen(cookie), LOGIN_COOKIE, &cv, &cvn) != SP_OK ||
        !lt || lt->vlen != LOGIN_TOKEN_CHARS || cvn != LOGIN_TOKEN_CHARS ||
        sodium_memcmp(cv, lt->value, LOGIN_TOKEN_CHARS) != 0) {
        rc = login_form(out, 403, "the sign-in form expired; please try again", pt->secure);
        goto done;
    }
    if (!em || !pw || em->vlen == 0 || pw->vlen == 0) {
        rc = login_form(out, 400, "give your email and password", pt->secure);
        goto done;
    }
    auth_login_result r;
    rc = auth_login(pt->auth, em->value, pw->value, remote, &r);
    if (rc) goto done;
    sp_buf det;
    sp_buf_init(&det, 1024);
    if (r.refusal == AUTH_R_NONE) {
        char cookie_v[256];
        auth_session_cookie(r.session, pt->secure, cookie_v);
        rc = audit_append(ctx->store, em->value, r.who.org_id, "login", NULL, remote, NULL);
        if (!rc) rc = portal_redirect(out, "/portal", cookie_v);
    } else if (r.refusal == AUTH_R_THROTTLED) {
        long long mins = (r.retry_after + 59) / 60;
        char msg[128], ra[64];
        snprintf(msg, sizeof msg, "too many attempts, try again in %lld minute%s", mins,
                 mins == 1 ? "" : "s");
        snprintf(ra, sizeof ra, "Retry-After: %lld\r\n", r.retry_after);
        audit_detail_str(&det, "reason", "throttled");
        rc = audit_append(ctx->store, em->value, 0, "login_failed", NULL, remote,
                          audit_detail_end(&det));
        if (!rc) {
            rc = login_form(out, 429, msg, pt->secure);
            portal_add_extra(out, ra);
        }
    } else {
        audit_detail_str(&det, "reason",
                         r.refusal == AUTH_R_DISABLED ? "disabled" : "bad credentials");
        rc = audit_append(ctx->store, em->value, 0, "login_failed", NULL, remote,
                          audit_detail_end(&det));
        if (!rc) rc = login_form(out, 401, "wrong email or password", pt->secure);
    }
    sp_buf_free(&det);
done:
    portal_form_free(&f);
    return rc;
}

static int do_logout(portal *pt, serve_ctx *ctx, const portal_who *w, const char *body, size_t blen,
                     const char *remote, serve_reply *out)
{
    portal_form f = {0};
    const char *why = NULL;
    int rc;
    if (portal_form_urlencoded(body, blen, &f, &why)) rc = portal_message(out, 400, "Bad form", why);
    else if (!w->via_session || !portal_csrf_ok(pt, w, &f))
        rc = portal_message(out, 403, "Refused", "this form is not valid for your session");
    else {
        rc = auth_logout(pt->auth, w->session, strlen(w->session));
        if (!rc) rc = audit_append(ctx->store, w->actor, w->p.org_id, "logout", NULL, remote, NULL);
        char clear[256];
        auth_session_cookie_clear(pt->secure, clear);
        if (!rc) rc = portal_redirect(out, "/login", clear);
    }
    portal_form_free(&f);
    return rc;
}

/* ------------------------------------------------------------ the portal page */

static int portal_page(portal *pt, serve_ctx *ctx, const portal_who *w, serve_reply *out)
{
    char org[512] = "";
    portal_org_name(ctx->store, w->p.org_id, org, sizeof org);
    portal_page_start(out, "Partner portal");
    sp_buf *b = &out->body;
    sp_buf_adds(b, "<h1>Partner portal: ");
    sp_buf_add_htmls(b, org);
    sp_buf_printf(b, "</h1>\n<p>Signed in as a %s.</p>\n", auth_role_name(w->p.role));
    sp_buf_adds(b, "<form method=\"post\" action=\"/logout\">\n");
    portal_csrf_field(pt, w, b);
    sp_buf_adds(b, "<button type=\"submit\">Sign out</button>\n</form>\n");
    if (auth_can(&w->p, AUTH_VIEW_LINKS, 0))
        sp_buf_adds(b, "<p><a href=\"/analyst\" id=\"analyst-link\">Investigations</a>: "
                       "indicators shared across organisations, the network of cases, "
                       "exports.</p>\n");
    if (auth_can(&w->p, AUTH_VIEW_LINKS, 0))
        sp_buf_adds(b, "<p><a href=\"/analyst/links\" id=\"links-link\">Person links</a>: "
                       "the same person reported by several organisations, counted once; "
                       "confirm or reject.</p>\n");
    if (auth_can(&w->p, AUTH_MANAGE_USERS, 0))
        sp_buf_adds(b, "<p><a href=\"/admin\" id=\"admin-link\">Administration</a>: the audit "
                       "log, organisations and users.</p>\n");
    if (auth_can(&w->p, AUTH_UPLOAD, w->p.org_id)) {
        sp_buf_adds(b, "<h2>Submit a file</h2>\n<form method=\"post\" action=\"/portal/upload\" "
                       "enctype=\"multipart/form-data\">\n");
        portal_csrf_field(pt, w, b);
        sp_buf_adds(b, "<label>CSV, XLSX or JSON file <input type=\"file\" name=\"file\" "
                       "accept=\".csv,.xlsx,.json\" required></label>\n"
                       "<button type=\"submit\">Upload</button>\n</form>\n");
    }
    if (auth_can(&w->p, AUTH_UPLOAD, w->p.org_id))
        sp_buf_adds(b, "<p><a href=\"/portal/cases/new\" id=\"new-case\">New case</a>: type one "
                       "case into the form.</p>\n");
    if (auth_can(&w->p, AUTH_VIEW_OWN_RECORDS, w->p.org_id))
        sp_buf_adds(b, "<p><a href=\"/portal/records\" id=\"records\">Records</a>: your "
                       "organisation's records, to read and correct.</p>\n");
    sp_buf_adds(b, "<p>Blank templates: <a href=\"/portal/template.csv\">CSV</a>, "
                   "<a href=\"/portal/template.xlsx\">XLSX</a>; the "
                   "<a href=\"/portal/form.xlsx\">XLSForm</a> for KoboToolbox or ODK.</p>\n");
    if (auth_can(&w->p, AUTH_VIEW_OWN_RECORDS, w->p.org_id)) {
        sp_submission *subs = NULL;
        size_t n = 0;
        int rc = store_submission_list(ctx->store, w->p.org_id, &subs, &n);
        if (rc) return rc;
        sp_buf_printf(b, "<h2>Submissions</h2>\n<table id=\"submissions\">\n<thead><tr><th>Id</th>"
                         "<th>Date</th><th>File</th><th>Records</th><th>Status</th><th></th></tr>"
                         "</thead>\n<tbody>\n");
        for (size_t i = 0; i < n; i++) {
            sp_submission *s = &subs[i];
            if (s->org_id == w->p.org_id) {
                sp_buf_printf(b, "<tr><td>%lld</td><td>", s->id);
                sp_buf_add_htmls(b, s->created ? s->created : "");
                sp_buf_adds(b, "</td><td>");
                sp_buf_add_htmls(b, s->filename ? s->filename : "");
                sp_buf_printf(b, "</td><td>%lld</td><td>", s->rows);
                sp_buf_add_htmls(b, s->status ? s->status : "");
                sp_buf_adds(b, "</td><td>");
                if (s->status && strcmp(s->status, "stored") == 0 &&
                    auth_can(&w->p, AUTH_WITHDRAW, s->org_id)) {
                    sp_buf_printf(b, "<form method=\"post\" action=\"/portal/submissions/%lld/withdraw\">",
                                  s->id);
                    portal_csrf_field(pt, w, b);
                    sp_buf_adds(b, "<button type=\"submit\">Withdraw</button></form>");
                }
                sp_buf_adds(b, "</td></tr>\n");
            }
            store_submission_free(s);
        }
        free(subs);
        sp_buf_adds(b, "</tbody>\n</table>\n");
    }
    return portal_page_end(out);
}

/* ------------------------------------------------------------ upload */

/* The validation report: a table of the first PORTAL_REPORT_MAX problems. */
static int report_html(sp_buf *b, const sp_err *err)
{
    sp_buf_printf(b, "<h2>The file was not stored</h2>\n<p id=\"error-count\">%zu problem%s found; "
                     "nothing was stored. Fix them and upload the file again.</p>\n",
                  err->count, err->count == 1 ? "" : "s");
    if (err->count > PORTAL_REPORT_MAX || err->count > err->n)
        sp_buf_printf(b, "<p>The first %zu are shown.</p>\n",
                      err->n < PORTAL_REPORT_MAX ? err->n : (size_t)PORTAL_REPORT_MAX);
    sp_buf_adds(b, "<table id=\"report\">\n<thead><tr><th>Row</th><th>Column</th><th>Value</th>"
                   "<th>Problem</th><th>Rule</th></tr></thead>\n<tbody>\n");
    size_t shown = 0;
    for (size_t i = 0; i < err->n && shown < PORTAL_REPORT_MAX; i++) {
        const sp_problem *p = &err->items[i];
        if (p->warning) continue;
        shown++;
        sp_buf_adds(b, "<tr><td>");
        if (p->row > 0) sp_buf_printf(b, "%ld", p->row);
        sp_buf_adds(b, "</td><td>");
        sp_buf_add_htmls(b, p->column ? p->column : "");
        sp_buf_adds(b, "</td><td>");
        sp_buf_add_htmls(b, p->value ? p->value : "");
        sp_buf_adds(b, "</td><td>");
        sp_buf_add_htmls(b, p->message ? p->message : "");
        sp_buf_adds(b, "</td><td>");
        sp_buf_add_htmls(b, p->rule ? p->rule : "");
        sp_buf_adds(b, "</td></tr>\n");
    }
    return sp_buf_adds(b, "</tbody>\n</table>\n");
}

/* Imports data for w's organisation. Returns SP_OK (stored), SP_EINPUT
 * (problems in err) or another code. */
static int import_for(serve_ctx *ctx, const portal_who *w, const char *data, size_t len,
                      const char *filename, sp_format fmt, const char *remote,
                      import_result *res, sp_err *err)
{
    char org[512];
    int rc = portal_org_name(ctx->store, w->p.org_id, org, sizeof org);
    if (rc) return rc;
    import_opts o;
    memset(&o, 0, sizeof o);
    o.org = org;
    o.format = fmt;
    memset(res, 0, sizeof *res);
    audit_context_set(w->actor, remote);
    rc = import_buffer(ctx->store, ctx->cb, data, len, filename, &o, res, err);
    if (rc && err->count == 0)
        sp_err_add(err, filename, 0, NULL, NULL, 0, "import", "the file could not be imported");
    return rc;
}

static int do_upload(portal *pt, serve_ctx *ctx, const http_request *req, const portal_who *w,
                     const char *body, size_t blen, const char *remote, serve_reply *out)
{
    portal_form f = {0};
    const char *why = NULL;
    int rc;
    const http_header *ct = http_header_get(req, "Content-Type");
    if (!ct || portal_form_multipart(ct->value, ct->vlen, body, blen, &f, &why)) {
        rc = portal_message(out, 400, "Bad form", why ? why : "the upload must be multipart/form-data");
        goto done;
    }
    if (!portal_csrf_ok(pt, w, &f)) {
        rc = portal_message(out, 403, "Refused", "this form is not valid for your session");
        goto done;
    }
    if (!auth_can(&w->p, AUTH_UPLOAD, w->p.org_id)) {
        rc = portal_message(out, 403, "Refused", "your account may not submit files");
        goto done;
    }
    const portal_field *file = portal_form_get(&f, "file");
    if (!file || !file->is_file || file->vlen == 0) {
        rc = portal_message(out, 400, "No file", "choose a CSV, XLSX or JSON file to upload");
        goto done;
    }
    const char *fname = file->filename && *file->filename ? file->filename : "upload";
    sp_err err;
    sp_err_init(&err);
    import_result res;
    rc = import_for(ctx, w, file->value, file->vlen, fname, SP_FMT_AUTO, remote, &res, &err);
    portal_page_start(out, "Upload");
    sp_buf_adds(&out->body, "<h1>Upload of ");
    sp_buf_add_htmls(&out->body, fname);
    sp_buf_adds(&out->body, "</h1>\n");
    if (rc == SP_OK) {
        sp_buf_printf(&out->body, "<p id=\"stored\">%lld records stored as submission %lld.</p>\n",
                      res.stored, res.submission_id);
    } else {
        out->status = 422;
        report_html(&out->body, &err);
        rc = SP_OK;
    }
    sp_buf_adds(&out->body, "<p><a href=\"/portal\">Back to the portal</a></p>\n");
    rc = portal_page_end(out);
    sp_err_free(&err);
done:
    portal_form_free(&f);
    return rc;
}

/* ------------------------------------------------------------ withdraw */

static int do_withdraw(portal *pt, serve_ctx *ctx, const portal_who *w, long long id, const char *body,
                       size_t blen, const char *remote, serve_reply *out)
{
    portal_form f = {0};
    const char *why = NULL;
    int rc;
    if (portal_form_urlencoded(body, blen, &f, &why)) {
        rc = portal_message(out, 400, "Bad form", why);
        goto done;
    }
    if (!portal_csrf_ok(pt, w, &f)) {
        rc = portal_message(out, 403, "Refused", "this form is not valid for your session");
        goto done;
    }
    sp_submission *subs = NULL;
    size_t n = 0;
    rc = store_submission_list(ctx->store, 0, &subs, &n);
    if (rc) goto done;
    long long org = 0;
    int found = 0, stored = 0;
    for (size_t i = 0; i < n; i++) {
        if (subs[i].id == id) {
            found = 1;
            org = subs[i].org_id;
            stored = subs[i].status && strcmp(subs[i].status, "stored") == 0;
        }
        store_submission_free(&subs[i]);
    }
    free(subs);
    /* the same answer for another organisation's submission and none */
    if (!found || !auth_can(&w->p, AUTH_WITHDRAW, org)) {
        rc = portal_message(out, 403, "Refused", "you may not withdraw this submission");
        goto done;
    }
    if (stored) {
        char tgt[64];
        snprintf(tgt, sizeof tgt, "submission:%lld", id);
        rc = store_begin(ctx->store);
        if (!rc) rc = store_submission_set_status(ctx->store, id, "withdrawn");
        if (!rc) rc = audit_append(ctx->store, w->actor, org, "withdraw", tgt, remote, NULL);
        if (!rc) rc = store_commit(ctx->store);
        else store_rollback(ctx->store);
        if (rc) goto done;
    }
    rc = portal_redirect(out, "/portal", NULL);
done:
    portal_form_free(&f);
    return rc;
}

/* ------------------------------------------------------------ downloads */

static int send_file_of(serve_ctx *ctx, int kind, serve_reply *out)
{
    char path[] = "/tmp/spotlight-portal-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0) return SP_EIO;
    close(fd);
    sp_err err;
    sp_err_init(&err);
    int rc = kind == 0   ? template_write(ctx->cb, TEMPLATE_CSV, path, &err)
             : kind == 1 ? template_write(ctx->cb, TEMPLATE_XLSX, path, &err)
                         : xlsform_write(ctx->cb, path, &err);
    sp_err_free(&err);
    FILE *fp = rc ? NULL : fopen(path, "rb");
    if (fp) {
        char buf[65536];
        size_t k;
        while ((k = fread(buf, 1, sizeof buf, fp)) > 0 && !rc) rc = sp_buf_add(&out->body, buf, k);
        fclose(fp);
    } else if (!rc) {
        rc = SP_EIO;
    }
    unlink(path);
    static const char *const names[] = {"spotlight-template.csv", "spotlight-template.xlsx",
                                        "spotlight-form.xlsx"};
    out->content_type = kind == 0 ? "text/csv; charset=utf-8"
                                  : "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
    char line[160];
    snprintf(line, sizeof line, "Content-Disposition: attachment; filename=\"%s\"\r\n", names[kind]);
    portal_add_extra(out, line);
    return rc;
}

/* ------------------------------------------------------------ the API */

static int api_json(serve_reply *out, int status, json_t *j)
{
    out->status = status;
    out->content_type = "application/json; charset=utf-8";
    char *s = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    if (!s) return SP_ENOMEM;
    int rc = sp_buf_adds(&out->body, s);
    if (!rc) rc = sp_buf_addc(&out->body, '\n');
    free(s);
    return rc;
}

static int api_error(serve_reply *out, int status, const char *msg)
{
    return api_json(out, status, json_pack("{s:s}", "error", msg));
}

static int media_is(const http_header *ct, const char *type)
{
    size_t n = strlen(type);
    return ct && ct->vlen >= n && strncasecmp(ct->value, type, n) == 0 &&
           (ct->vlen == n || ct->value[n] == ';' || ct->value[n] == ' ');
}

static int api_submit(portal *pt, serve_ctx *ctx, const http_request *req, const char *body,
                      size_t blen, const char *remote, serve_reply *out)
{
    portal_who w;
    if (!http_header_get(req, "Authorization")) {
        portal_add_extra(out, "WWW-Authenticate: Bearer\r\n");
        return api_error(out, 401, "an API token is needed: Authorization: Bearer <token>");
    }
    find_principal(pt, req, 1, &w);
    if (!w.p.user_id) {
        portal_add_extra(out, "WWW-Authenticate: Bearer error=\"invalid_token\"\r\n");
        return api_error(out, 401, "the API token is not valid");
    }
    if (!auth_can(&w.p, AUTH_UPLOAD, w.p.org_id))
        return api_error(out, 403, "this account may not submit files");
    const http_header *ct = http_header_get(req, "Content-Type");
    sp_format fmt;
    const char *name;
    if (media_is(ct, "text/csv")) fmt = SP_FMT_CSV, name = "api.csv";
    else if (media_is(ct, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))
        fmt = SP_FMT_XLSX, name = "api.xlsx";
    else if (media_is(ct, "application/json")) fmt = SP_FMT_JSON, name = "api.json";
    else
        return api_error(out, 415, "Content-Type must be text/csv, application/json or the XLSX type");
    if (blen == 0) return api_error(out, 400, "the body is empty");
    /* Idempotency-Key: 1-128 printable ASCII; a retry with the same body
     * gets the stored reply, the same key with another body a 422 */
    const http_header *ik = http_header_get(req, "Idempotency-Key");
    char key[IDEM_KEY_MAX + 1] = "";
    unsigned char bh[STORE_AUTH_HASH_LEN];
    if (ik) {
        int ok = ik->vlen >= 1 && ik->vlen <= IDEM_KEY_MAX;
        for (size_t i = 0; ok && i < ik->vlen; i++)
            ok = ik->value[i] >= 0x20 && ik->value[i] <= 0x7e;
        if (!ok) return api_error(out, 400, "Idempotency-Key must be 1 to 128 printable ASCII characters");
        memcpy(key, ik->value, ik->vlen);
        key[ik->vlen] = '\0';
        crypto_generichash_state hs;
        crypto_generichash_init(&hs, NULL, 0, sizeof bh);
        crypto_generichash_update(&hs, (const unsigned char *)&fmt, sizeof fmt);
        crypto_generichash_update(&hs, (const unsigned char *)body, blen);
        crypto_generichash_final(&hs, bh, sizeof bh);
        /* the key is reserved (a pending row) before the import runs, so
         * of two concurrent requests with one key only one imports; the
         * other finds it pending (409) or answered (replayed) */
        for (int attempt = 0;; attempt++) {
            unsigned char sh[STORE_AUTH_HASH_LEN];
            int sst = 0;
            char *sresp = NULL;
            int grc = store_idem_get(ctx->store, w.p.user_id, key, sh, &sst, &sresp);
            if (grc == SP_OK) {
                if (sodium_memcmp(sh, bh, sizeof bh) != 0) {
                    free(sresp);
                    return api_error(out, 422, "key reused with a different body");
                }
                if (sst == 0 && attempt == 0) {
                    free(sresp);
                    /* pending: taken over only when abandoned (stale) */
                    long long now = auth_now(pt->auth);
                    int r = store_idem_reserve(ctx->store, w.p.user_id, key, bh, now,
                                               now - IDEM_PENDING_STALE);
                    if (r == SP_OK) break;
                    if (r != SP_EEXIST) return r;
                    continue;
                }
                if (sst == 0) {
                    free(sresp);
                    portal_add_extra(out, "Retry-After: 1\r\n");
                    return api_error(out, 409, "a request with this key is in progress");
                }
                out->status = sst;
                out->content_type = "application/json; charset=utf-8";
                portal_add_extra(out, "Idempotent-Replayed: true\r\n");
                int rc = sp_buf_adds(&out->body, sresp);
                free(sresp);
                return rc;
            }
            if (grc != SP_EOF) return grc;
            long long now = auth_now(pt->auth);
            int r = store_idem_reserve(ctx->store, w.p.user_id, key, bh, now, now - IDEM_PENDING_STALE);
            if (r == SP_OK) break;
            if (r != SP_EEXIST || attempt > 2) return r == SP_EEXIST ? SP_EDB : r;
            /* another request reserved it between the two reads: look again */
        }
    }
    sp_err err;
    sp_err_init(&err);
    import_result res;
    int rc = import_for(ctx, &w, body, blen, name, fmt, remote, &res, &err);
    if (rc == SP_OK) {
        char loc[96];
        snprintf(loc, sizeof loc, "Location: /api/v1/submissions/%lld\r\n", res.submission_id);
        portal_add_extra(out, loc);
        rc = api_json(out, 201, json_pack("{s:b,s:I,s:I}", "stored", 1, "submission",
                                          (json_int_t)res.submission_id, "records",
                                          (json_int_t)res.stored));
    } else {
        json_t *errs = json_array();
        for (size_t i = 0; i < err.n && i < PORTAL_REPORT_MAX; i++) {
            const sp_problem *p = &err.items[i];
            if (p->warning) continue;
            json_t *e = json_object();
            json_object_set_new(e, "row", json_integer(p->row));
            json_object_set_new(e, "column", p->column ? json_string(p->column) : json_null());
            json_object_set_new(e, "value", p->value ? json_string(p->value) : json_null());
            json_object_set_new(e, "rule", p->rule ? json_string(p->rule) : json_null());
            json_object_set_new(e, "message", p->message ? json_string(p->message) : json_null());
            json_array_append_new(errs, e);
        }
        rc = api_json(out, 422, json_pack("{s:b,s:o,s:I}", "stored", 0, "errors", errs,
                                          "error_count", (json_int_t)err.count));
    }
    sp_err_free(&err);
    /* the reserved key gets the reply; a failure with no reply to keep
     * frees it for a retry */
    if (key[0]) {
        if (!rc && (out->status == 201 || out->status == 422)) {
            int frc = store_idem_finish(ctx->store, w.p.user_id, key, out->status, out->body.data);
            if (frc && frc != SP_EOF) rc = frc;
        } else {
            store_idem_release(ctx->store, w.p.user_id, key);
        }
    }
    return rc;
}

/* ------------------------------------------------------------ dispatch */

int portal_handle(portal *pt, serve_ctx *ctx, const http_request *req, const char *body,
                  size_t blen, const char *remote, serve_reply *out)
{
    const char *path = req->path;
    int post = req->method == HTTP_POST;
    out->no_store = 1;
    out->cache_control = "no-store";
    audit_context_set(NULL, remote);
    if (strcmp(path, "/api/v1/submissions") == 0)
        return api_submit(pt, ctx, req, body, blen, remote, out);
    if (strcmp(path, "/login") == 0) {
        if (post) return do_login(pt, ctx, req, body, blen, remote, out);
        return login_form(out, 200, NULL, pt->secure);
    }
    portal_who w;
    find_principal(pt, req, 0, &w);
    audit_context_set(w.actor, remote);
    if (strcmp(path, "/logout") == 0) return do_logout(pt, ctx, &w, body, blen, remote, out);
    if (!w.p.user_id) {
        if (post) return portal_message(out, 403, "Refused", "sign in first");
        return portal_redirect(out, "/login", NULL);
    }
    portal_req pr = {pt, ctx, req, body, blen, remote, &w};
    if (portal_cases_owns(path)) return portal_cases_handle(&pr, out);
    if (strcmp(path, "/portal") == 0) return portal_page(pt, ctx, &w, out);
    if (strcmp(path, "/admin") == 0 || strncmp(path, "/admin/", 7) == 0)
        return admin_handle(&pr, out);
    if (strcmp(path, "/portal/upload") == 0)
        return do_upload(pt, ctx, req, &w, body, blen, remote, out);
    if (!post && strcmp(path, "/portal/template.csv") == 0) return send_file_of(ctx, 0, out);
    if (!post && strcmp(path, "/portal/template.xlsx") == 0) return send_file_of(ctx, 1, out);
    if (!post && strcmp(path, "/portal/form.xlsx") == 0) return send_file_of(ctx, 2, out);
    static const char pre[] = "/portal/submissions/", suf[] = "/withdraw";
    size_t pl = sizeof pre - 1, sl = sizeof suf - 1, n = strlen(path);
    if (post && n > pl + sl && strncmp(path, pre, pl) == 0 && strcmp(path + n - sl, suf) == 0) {
        long long id = 0;
        size_t i = pl;
        for (; i < n - sl && path[i] >= '0' && path[i] <= '9' && id < 1000000000000LL; i++)
            id = id * 10 + (path[i] - '0');
        if (i == n - sl && id > 0) return do_withdraw(pt, ctx, &w, id, body, blen, remote, out);
    }
    if (analyst_links_owns(path)) return analyst_links_handle(&pr, out);  /* person links */
    if (analyst_owns(path)) return analyst_handle(&pr, out);   /* investigations */
    return portal_message(out, 404, "Not found", "there is nothing at this address");
}
