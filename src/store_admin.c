/* store_admin.c -- the admin pages' queries on the store (see store.h):
 * one page of the audit log with filters. Every value is a bound
 * parameter. */
#include "store_int.h"

#include <stdint.h>
#include <string.h>

static void bind_opt(sqlite3_stmt *st, int i, const char *v)
{
    if (v) sqlite3_bind_text(st, i, v, -1, SQLITE_TRANSIENT);
    else sqlite3_bind_null(st, i);
}

/* Walks the matching entries newest first; seq is the table's key, so
 * `before` makes a deep page as cheap as the first. */
int store_audit_page(sp_store *s, const sp_audit_page *q, store_audit_cb cb, void *ud)
{
    sqlite3_stmt *st = NULL;
    int rc = store_i_prep(s,
                          "SELECT seq, at, actor, org_id, action, target, remote, detail, prev_hash, hash"
                          " FROM audit WHERE (?1 IS NULL OR actor = ?1) AND (?2 IS NULL OR action = ?2)"
                          " AND (?3 IS NULL OR at >= ?3)"
                          " AND (?4 IS NULL OR substr(at, 1, length(?4)) <= ?4)"
                          " AND seq < ?5 ORDER BY seq DESC LIMIT ?6",
                          &st);
    if (rc) return rc;
    bind_opt(st, 1, q->actor);
    bind_opt(st, 2, q->action);
    bind_opt(st, 3, q->from);
    bind_opt(st, 4, q->to);
    /* a plain range on the key, so a deep page seeks instead of skipping */
    sqlite3_bind_int64(st, 5, q->before > 0 ? q->before : INT64_MAX);
    sqlite3_bind_int64(st, 6, q->limit > 0 ? q->limit : -1);
    return store_i_audit_rows(s, st, cb, ud);
}
