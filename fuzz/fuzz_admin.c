/* fuzz_admin.c -- libFuzzer target for the audit page's query parser
 * (admin_audit_filter_parse): the whole input is the raw query string.
 * Invariants: a refusal says why and leaves the filter empty; an accepted
 * filter has NUL-terminated fields within their caps, an actor without
 * control characters, an action of a-z 0-9 . _ -, dates of the form
 * YYYY-MM-DD with from <= to, and before >= 0; parsing is deterministic. */
#include "admin.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_date(const char *d)
{
    size_t n = strlen(d);
    if (n != 0 && n != 10) abort();
    if (n == 10 && (d[4] != '-' || d[7] != '-')) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *q = (const char *)data;
    admin_audit_filter f, g;
    const char *why = NULL, *why2 = NULL;
    int rc = admin_audit_filter_parse(q, size, &f, &why);
    int rc2 = admin_audit_filter_parse(q, size, &g, &why2);
    if (rc != rc2 || memcmp(&f, &g, sizeof f) != 0) abort();
    if (rc != 0) {
        if (rc != -1 || !why || !*why) abort();
        if (f.actor[0] || f.action[0] || f.from[0] || f.to[0] || f.before) abort();
        return 0;
    }
    if (memchr(f.actor, '\0', sizeof f.actor) == NULL) abort();
    if (memchr(f.action, '\0', sizeof f.action) == NULL) abort();
    if (memchr(f.from, '\0', sizeof f.from) == NULL || memchr(f.to, '\0', sizeof f.to) == NULL) abort();
    for (const unsigned char *p = (const unsigned char *)f.actor; *p; p++)
        if (*p < 0x20 || *p == 0x7f) abort();
    if (!sp_utf8_valid(f.actor, strlen(f.actor))) abort();
    for (const char *p = f.action; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '.' || *p == '_' || *p == '-'))
            abort();
    check_date(f.from);
    check_date(f.to);
    if (f.from[0] && f.to[0] && strcmp(f.from, f.to) > 0) abort();
    if (f.before < 0) abort();
    return 0;
}
