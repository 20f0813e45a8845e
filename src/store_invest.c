/* store_invest.c -- queries over indicator match keys across organisations
 * (docs/investigations.md): the indicators that cases of two or more
 * organisations share, the per-organisation counts of one indicator, and
 * the record-indicator links the network view and the investigators'
 * exports are built from (invest.c).
 *
 * What leaves here never carries another organisation's records: an
 * indicator is its type and keyed hash; a case is a record id (which the
 * callers turn into an opaque token) with its organisation, year and the
 * roles the indicator had; a case reference is filled in only for records
 * of the viewer's own organisation (the SQL itself decides, so no caller
 * can forget). Clear values in g_indicators are never read. Only live
 * records (submission 'stored') count, and only keys with a hash. */
#include "store_int.h"

#include <stdlib.h>
#include <string.h>

/* The same rule as store.c's LIVE_RECORD: withdrawn submissions' records
 * are left out of every read. */
#define INV_LIVE "record.submission_id NOT IN (SELECT id FROM submission WHERE status <> 'stored')"

#define INV_DEFAULT_MAX 1000
#define INV_HARD_MAX 100000

static size_t cap_of(size_t max)
{
    if (max == 0) return INV_DEFAULT_MAX;
    return max > INV_HARD_MAX ? INV_HARD_MAX : max;
}

/* The common table expression "k(type, hash, rid, org_id, role, y,
 * case_ref)": one row per (indicator, live record) with the roles it had
 * there (distinct, comma-separated) and the record's year. ?1 = type or
 * NULL, ?4 = the viewer's organisation (case_ref only for its records). */
static void links_cte(const sp_store *s, sp_buf *q)
{
    sp_buf_adds(q, "WITH k AS (SELECT ik.type AS type, ik.hash AS hash, record.id AS rid,"
                   " record.org_id AS org_id, group_concat(DISTINCT g.role) AS role, ");
    sp_buf_adds(q, s->has_year ? "record.year_identified" : "NULL");
    sp_buf_adds(q, " AS y, ");
    sp_buf_adds(q, s->has_case_ref ? "CASE WHEN record.org_id = ?4 THEN record.case_ref END" : "NULL");
    sp_buf_adds(q, " AS case_ref FROM indicator_key ik JOIN record ON record.id = ik.record_id"
                   " LEFT JOIN g_indicators g ON g.record_id = ik.record_id AND g.seq = ik.seq"
                   " WHERE ik.hash IS NOT NULL AND (?1 IS NULL OR ik.type = ?1) AND " INV_LIVE
                   " GROUP BY ik.type, ik.hash, record.id),"
                   " s AS (SELECT type, hash FROM k GROUP BY type, hash"
                   " HAVING count(DISTINCT org_id) >= ?2 AND count(*) >= ?3) ");
}

static void bind_query(sqlite3_stmt *st, const sp_inv_query *q)
{
    if (q->type && q->type[0]) sqlite3_bind_text(st, 1, q->type, -1, SQLITE_TRANSIENT);
    else sqlite3_bind_null(st, 1);
    sqlite3_bind_int(st, 2, q->min_orgs > 1 ? q->min_orgs : 1);
    sqlite3_bind_int(st, 3, q->min_cases > 1 ? q->min_cases : 1);
    sqlite3_bind_int64(st, 4, q->viewer_org > 0 ? q->viewer_org : -1);
}

static void copy_col(char *out, size_t cap, sqlite3_stmt *st, int col)
{
    const char *v = (const char *)sqlite3_column_text(st, col);
    snprintf(out, cap, "%s", v ? v : "");
}

static char *dup_col(sqlite3_stmt *st, int col)
{
    const char *v = (const char *)sqlite3_column_text(st, col);
    return v ? sp_xstrdup(v) : NULL;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Rewrites a comma-separated list of codes sorted and without repeats
 * (group_concat's order is SQLite's choice), in place. */
static void sort_roles(char *list)
{
    if (!list || !*list) return;
    size_t n = 1;
    for (const char *p = list; *p; p++) n += *p == ',';
    char **v = sp_xmalloc(n * sizeof *v);
    char *tmp = sp_xstrdup(list);
    size_t k = 0;
    for (char *save = NULL, *t = strtok_r(tmp, ",", &save); t && k < n; t = strtok_r(NULL, ",", &save))
        v[k++] = t;
    qsort(v, k, sizeof *v, cmp_str);
    size_t o = 0;
    for (size_t i = 0; i < k; i++) {
        if (i && strcmp(v[i], v[i - 1]) == 0) continue;
        size_t l = strlen(v[i]);
        if (o) list[o++] = ',';
        memcpy(list + o, v[i], l);
        o += l;
    }
    list[o] = '\0';
    free(tmp);
    free(v);
}

void store_inv_indicators_free(sp_inv_indicator *v, size_t n)
{
    if (!v) return;
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < v[i].norgs; j++) free(v[i].orgs[j].org_name);
        free(v[i].orgs);
        free(v[i].roles);
    }
    free(v);
}

/* Fills x->orgs (cases per organisation, most cases first) and the totals
 * of one indicator with the prepared per-org statement. */
static int fill_orgs(sp_store *s, sqlite3_stmt *st, sp_inv_indicator *x)
{
    int rc = SP_OK, r;
    size_t alloc = 0;
    sqlite3_reset(st);
    sqlite3_bind_text(st, 1, x->type, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, x->hash, -1, SQLITE_TRANSIENT);
    x->cases = 0;
    while ((r = sqlite3_step(st)) == SQLITE_ROW) {
        if (x->norgs == alloc) {
            alloc = alloc ? alloc * 2 : 4;
            x->orgs = sp_xrealloc(x->orgs, alloc * sizeof *x->orgs);
        }
        sp_inv_org_count *o = &x->orgs[x->norgs++];
        o->org_id = sqlite3_column_int64(st, 0);
        o->org_name = dup_col(st, 1);
        if (!o->org_name) o->org_name = sp_xstrdup("");
        o->cases = sqlite3_column_int64(st, 2);
        x->cases += o->cases;
    }
    if (r != SQLITE_DONE) rc = store_i_dberr(s, "counting the cases of an indicator");
    return rc;
}

static const char per_org_sql[] =
    "SELECT record.org_id, org.name, count(DISTINCT record.id) FROM indicator_key ik"
    " JOIN record ON record.id = ik.record_id JOIN org ON org.id = record.org_id"
    " WHERE ik.hash = ?2 AND ik.type = ?1 AND " INV_LIVE
    " GROUP BY record.org_id ORDER BY 3 DESC, org.name";

int store_inv_indicators(sp_store *s, const sp_inv_query *q, sp_inv_indicator **out,
                         size_t *n, int *truncated)
{
    sqlite3_stmt *st = NULL, *po = NULL;
    sp_buf sql;
    size_t cap = cap_of(q->max), alloc = 0;
    int rc, r;
    *out = NULL;
    *n = 0;
    *truncated = 0;
    sp_buf_init(&sql, 1u << 14);
    links_cte(s, &sql);
    sp_buf_adds(&sql, "SELECT k.type, k.hash, count(DISTINCT k.org_id) AS no, count(*) AS nc,"
                      " group_concat(k.role), min(k.y), max(k.y) FROM k JOIN s USING (type, hash)"
                      " GROUP BY k.type, k.hash ORDER BY no DESC, nc DESC, k.type, k.hash LIMIT ?5");
    if ((rc = store_i_prep(s, sql.data, &st))) goto done;
    if ((rc = store_i_prep(s, per_org_sql, &po))) goto done;
    bind_query(st, q);
    sqlite3_bind_int64(st, 5, (sqlite3_int64)cap + 1);
    while ((r = sqlite3_step(st)) == SQLITE_ROW) {
        if (*n == cap) {
            *truncated = 1;
            break;
        }
        if (*n == alloc) {
            alloc = alloc ? alloc * 2 : 16;
            *out = sp_xrealloc(*out, alloc * sizeof **out);
        }
        sp_inv_indicator *x = &(*out)[(*n)++];
        memset(x, 0, sizeof *x);
        copy_col(x->type, sizeof x->type, st, 0);
        copy_col(x->hash, sizeof x->hash, st, 1);
        x->roles = dup_col(st, 4);
        sort_roles(x->roles);
        x->year_first = sqlite3_column_int(st, 5);
        x->year_last = sqlite3_column_int(st, 6);
    }
    if (r != SQLITE_DONE && r != SQLITE_ROW) {
        rc = store_i_dberr(s, "finding shared indicators");
        goto done;
    }
    for (size_t i = 0; i < *n && !rc; i++) rc = fill_orgs(s, po, &(*out)[i]);
done:
    sqlite3_finalize(st);
    sqlite3_finalize(po);
    sp_buf_free(&sql);
    if (rc) {
        store_inv_indicators_free(*out, *n);
        *out = NULL;
        *n = 0;
    }
    return rc;
}

void store_inv_links_free(sp_inv_link *v, size_t n)
{
    if (!v) return;
    for (size_t i = 0; i < n; i++) {
        free(v[i].org_name);
        free(v[i].roles);
        free(v[i].case_ref);
    }
    free(v);
}

/* Runs the links query sql (bound like bind_query, plus ?5 = cap + 1 and,
 * when one_type/one_hash are set, ?6/?7) into *out. */
static int run_links(sp_store *s, const char *sql, const sp_inv_query *q, size_t cap,
                     const char *one_hash, sp_inv_link **out, size_t *n, int *truncated)
{
    sqlite3_stmt *st = NULL;
    size_t alloc = 0;
    int rc, r;
    *out = NULL;
    *n = 0;
    *truncated = 0;
    if ((rc = store_i_prep(s, sql, &st))) return rc;
    bind_query(st, q);
    sqlite3_bind_int64(st, 5, (sqlite3_int64)cap + 1);
    if (one_hash) sqlite3_bind_text(st, 6, one_hash, -1, SQLITE_TRANSIENT);
    while ((r = sqlite3_step(st)) == SQLITE_ROW) {
        if (*n == cap) {
            *truncated = 1;
            break;
        }
        if (*n == alloc) {
            alloc = alloc ? alloc * 2 : 64;
            *out = sp_xrealloc(*out, alloc * sizeof **out);
        }
        sp_inv_link *x = &(*out)[(*n)++];
        memset(x, 0, sizeof *x);
        copy_col(x->type, sizeof x->type, st, 0);
        copy_col(x->hash, sizeof x->hash, st, 1);
        x->record_id = sqlite3_column_int64(st, 2);
        x->org_id = sqlite3_column_int64(st, 3);
        x->org_name = dup_col(st, 4);
        if (!x->org_name) x->org_name = sp_xstrdup("");
        x->roles = dup_col(st, 5);
        sort_roles(x->roles);
        x->year = sqlite3_column_int(st, 6);
        x->case_ref = dup_col(st, 7);
    }
    if (r != SQLITE_DONE && r != SQLITE_ROW) rc = store_i_dberr(s, "reading indicator links");
    sqlite3_finalize(st);
    if (rc) {
        store_inv_links_free(*out, *n);
        *out = NULL;
        *n = 0;
    }
    return rc;
}

int store_inv_links(sp_store *s, const sp_inv_query *q, sp_inv_link **out, size_t *n,
                    int *truncated)
{
    sp_buf sql;
    sp_buf_init(&sql, 1u << 14);
    links_cte(s, &sql);
    sp_buf_adds(&sql, "SELECT k.type, k.hash, k.rid, k.org_id, org.name, k.role, k.y, k.case_ref"
                      " FROM k JOIN s USING (type, hash) JOIN org ON org.id = k.org_id"
                      " ORDER BY k.type, k.hash, k.rid LIMIT ?5");
    int rc = run_links(s, sql.data, q, cap_of(q->max), NULL, out, n, truncated);
    sp_buf_free(&sql);
    return rc;
}

int store_inv_indicator(sp_store *s, const char *type, const char *hash, long long viewer_org,
                        sp_inv_indicator *out, sp_inv_link **own, size_t *nown, int *truncated)
{
    sqlite3_stmt *po = NULL, *yr = NULL;
    sp_buf sql;
    int rc, r;
    memset(out, 0, sizeof *out);
    *own = NULL;
    *nown = 0;
    *truncated = 0;
    sp_buf_init(&sql, 1u << 14);
    snprintf(out->type, sizeof out->type, "%s", type);
    snprintf(out->hash, sizeof out->hash, "%s", hash);
    if ((rc = store_i_prep(s, per_org_sql, &po))) goto done;
    if ((rc = fill_orgs(s, po, out))) goto done;
    if (out->norgs == 0) {
        rc = SP_EOF;
        goto done;
    }
    /* the years and roles over every live case, without the cases */
    sp_buf_printf(&sql, "SELECT min(%s), max(%s), group_concat(DISTINCT g.role) FROM indicator_key ik"
                        " JOIN record ON record.id = ik.record_id"
                        " LEFT JOIN g_indicators g ON g.record_id = ik.record_id AND g.seq = ik.seq"
                        " WHERE ik.hash = ?2 AND ik.type = ?1 AND " INV_LIVE,
                  s->has_year ? "record.year_identified" : "NULL",
                  s->has_year ? "record.year_identified" : "NULL");
    if ((rc = store_i_prep(s, sql.data, &yr))) goto done;
    sqlite3_bind_text(yr, 1, type, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(yr, 2, hash, -1, SQLITE_TRANSIENT);
    if ((r = sqlite3_step(yr)) == SQLITE_ROW) {
        out->year_first = sqlite3_column_int(yr, 0);
        out->year_last = sqlite3_column_int(yr, 1);
        out->roles = dup_col(yr, 2);
        sort_roles(out->roles);
    } else if (r != SQLITE_DONE) {
        rc = store_i_dberr(s, "reading an indicator");
        goto done;
    }
    if (viewer_org > 0) {
        /* the viewer's own cases: the links of this one indicator, of the
         * viewer's organisation only */
        sp_inv_query q = {1, 1, type, viewer_org, 0};
        sp_buf_reset(&sql);
        links_cte(s, &sql);
        sp_buf_adds(&sql, "SELECT k.type, k.hash, k.rid, k.org_id, org.name, k.role, k.y, k.case_ref"
                          " FROM k JOIN org ON org.id = k.org_id WHERE k.hash = ?6 AND k.org_id = ?4"
                          " ORDER BY k.rid LIMIT ?5");
        rc = run_links(s, sql.data, &q, INV_DEFAULT_MAX, hash, own, nown, truncated);
    }
done:
    sqlite3_finalize(po);
    sqlite3_finalize(yr);
    sp_buf_free(&sql);
    if (rc) store_inv_indicator_clear(out);
    return rc;
}

void store_inv_indicator_clear(sp_inv_indicator *x)
{
    if (!x) return;
    for (size_t j = 0; j < x->norgs; j++) free(x->orgs[j].org_name);
    free(x->orgs);
    free(x->roles);
    memset(x, 0, sizeof *x);
}

int store_inv_keys_fill(sp_store *s, store_inv_hash_cb cb, void *ud)
{
    sqlite3_stmt *st = NULL, *ins = NULL;
    typedef struct row { long long rid, seq; char *type, *value; } row;
    row *rows = NULL;
    size_t n = 0, alloc = 0;
    int rc, r, own = 0, began = 0;
    if ((rc = store_i_prep(s, "SELECT g.record_id, g.seq, g.type, g.value FROM g_indicators g"
                              " LEFT JOIN indicator_key ik ON ik.record_id = g.record_id AND ik.seq = g.seq"
                              " WHERE g.type IS NOT NULL AND g.value IS NOT NULL AND ik.hash IS NULL"
                              " ORDER BY g.record_id, g.seq", &st)))
        goto done;
    while ((r = sqlite3_step(st)) == SQLITE_ROW) {
        if (n == alloc) {
            alloc = alloc ? alloc * 2 : 64;
            rows = sp_xrealloc(rows, alloc * sizeof *rows);
        }
        rows[n].rid = sqlite3_column_int64(st, 0);
        rows[n].seq = sqlite3_column_int64(st, 1);
        rows[n].type = dup_col(st, 2);
        rows[n].value = dup_col(st, 3);
        n++;
    }
    if (r != SQLITE_DONE) {
        rc = store_i_dberr(s, "reading indicators");
        goto done;
    }
    /* a row import already wrote keeps its valid flag and note */
    if ((rc = store_i_prep(s, "INSERT INTO indicator_key(record_id, seq, type, hash, valid)"
                              " VALUES (?1, ?2, ?3, ?4, 1) ON CONFLICT (record_id, seq)"
                              " DO UPDATE SET hash = excluded.hash", &ins)))
        goto done;
    if ((rc = store_i_write_begin(s, &own))) goto done;
    began = 1;
    for (size_t i = 0; i < n && !rc; i++) {
        char h[SP_INV_HASH_MAX + 1];
        if (cb(rows[i].type, rows[i].value, h, ud)) continue;
        sqlite3_reset(ins);
        sqlite3_bind_int64(ins, 1, rows[i].rid);
        sqlite3_bind_int64(ins, 2, rows[i].seq);
        sqlite3_bind_text(ins, 3, rows[i].type, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(ins, 4, h, -1, SQLITE_TRANSIENT);
        if (sqlite3_step(ins) != SQLITE_DONE) rc = store_i_dberr(s, "writing an indicator key");
    }
done:
    if (began) rc = store_i_write_end(s, own, rc);
    sqlite3_finalize(st);
    sqlite3_finalize(ins);
    for (size_t i = 0; i < n; i++) {
        free(rows[i].type);
        free(rows[i].value);
    }
    free(rows);
    return rc;
}
