/* store_link.c -- person links between records of different
 * organisations and the duplicates they make (see store.h and
 * docs/linkage.md). The tables are person_link(a < b, score, status,
 * decided_by, decided_at) and record_dup(record_id, kept) of schema step 6.
 *
 * record_dup is derived, never edited by hand: store_i_dup_recompute
 * rebuilds it from the links that are not rejected between live records
 * (union-find; every person keeps its lowest-numbered live record), and
 * runs inside the transaction of every write that can change it (links,
 * decisions, withdrawals, replaced or deleted cases), whose commit bumps
 * the generation so the cube and the dashboard cache follow. Every value
 * is a bound parameter. */
#include "store_int.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

/* A live record is one whose submission is stored, as LIVE_RECORD in
 * store.c says it; here for records under an alias. */
#define LIVE_AS(t) t ".submission_id NOT IN (SELECT id FROM submission WHERE status <> 'stored')"

static int has_person_fields(sp_store *s)
{
    return codebook_field(s->cb, "person_clk") && codebook_field(s->cb, "person_block");
}

static char *dup_text(sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    return t ? sp_xstrdup((const char *)t) : NULL;
}

int store_person_load(sp_store *s, sp_person_enc **out, size_t *n)
{
    sqlite3_stmt *st = NULL;
    size_t alloc = 0;
    int rc, r;
    *out = NULL;
    *n = 0;
    if (!has_person_fields(s)) {
        snprintf(s->msg, sizeof s->msg,
                 "the codebook has no person_clk and person_block fields: nothing to link");
        return SP_EUSAGE;
    }
    rc = store_i_prep(s, "SELECT record.id, record.org_id, record.person_clk, record.person_block"
                         " FROM record WHERE record.person_clk IS NOT NULL AND "
                         LIVE_AS("record") " ORDER BY record.id", &st);
    if (rc) return rc;
    while ((r = sqlite3_step(st)) == SQLITE_ROW) {
        if (*n == alloc) {
            alloc = alloc ? alloc * 2 : 64;
            *out = sp_xrealloc(*out, alloc * sizeof **out);
        }
        sp_person_enc *p = &(*out)[(*n)++];
        p->record_id = sqlite3_column_int64(st, 0);
        p->org_id = sqlite3_column_int64(st, 1);
        p->clk = dup_text(st, 2);
        p->block = dup_text(st, 3);
    }
    if (r != SQLITE_DONE) rc = store_i_dberr(s, "reading the person encodings");
    sqlite3_finalize(st);
    if (rc) { store_person_free(*out, *n); *out = NULL; *n = 0; }
    return rc;
}

void store_person_free(sp_person_enc *v, size_t n)
{
    for (size_t i = 0; v && i < n; i++) {
        free(v[i].clk);
        free(v[i].block);
    }
    free(v);
}

/* ---- duplicates */

static int cmp_ll(const void *x, const void *y)
{
    long long a = *(const long long *)x, b = *(const long long *)y;
    return a < b ? -1 : a > b;
}

static size_t find_idx(const long long *ids, size_t n, long long id)
{
    const long long *p = bsearch(&id, ids, n, sizeof *ids, cmp_ll);
    return (size_t)(p - ids);
}

static size_t uf_root(size_t *parent, size_t i)
{
    while (parent[i] != i) {
        parent[i] = parent[parent[i]];
        i = parent[i];
    }
    return i;
}

int store_i_dup_recompute(sp_store *s)
{
    sqlite3_stmt *st = NULL;
    long long *pairs = NULL, *ids = NULL;
    size_t *parent = NULL;
    size_t np = 0, ap = 0, nid = 0;
    int rc, r, any = 0;
    /* most hubs have no links at all: nothing to do then */
    if ((rc = store_i_prep(s, "SELECT EXISTS (SELECT 1 FROM person_link) OR "
                              "EXISTS (SELECT 1 FROM record_dup)", &st)))
        return rc;
    if (sqlite3_step(st) == SQLITE_ROW) any = sqlite3_column_int(st, 0);
    else rc = store_i_dberr(s, "reading person links");
    sqlite3_finalize(st);
    st = NULL;
    if (rc || !any) return rc;

    if ((rc = store_i_prep(s, "SELECT l.a, l.b FROM person_link l"
                              " JOIN record ra ON ra.id = l.a JOIN record rb ON rb.id = l.b"
                              " WHERE l.status <> 'rejected' AND " LIVE_AS("ra")
                              " AND " LIVE_AS("rb"), &st)))
        return rc;
    while ((r = sqlite3_step(st)) == SQLITE_ROW) {
        if (np == ap) {
            ap = ap ? ap * 2 : 64;
            pairs = sp_xrealloc(pairs, ap * 2 * sizeof *pairs);
        }
        pairs[2 * np] = sqlite3_column_int64(st, 0);
        pairs[2 * np + 1] = sqlite3_column_int64(st, 1);
        np++;
    }
    if (r != SQLITE_DONE) { rc = store_i_dberr(s, "reading person links"); goto done; }
    sqlite3_finalize(st);
    st = NULL;

    /* the records in links, sorted and unique; index order is id order, so
     * the union keeps the smaller index as the root: the lowest id */
    ids = sp_xmalloc((2 * np + 1) * sizeof *ids);
    if (np) memcpy(ids, pairs, 2 * np * sizeof *ids);
    qsort(ids, 2 * np, sizeof *ids, cmp_ll);
    for (size_t i = 0; i < 2 * np; i++)
        if (nid == 0 || ids[nid - 1] != ids[i]) ids[nid++] = ids[i];
    parent = sp_xmalloc((nid + 1) * sizeof *parent);
    for (size_t i = 0; i < nid; i++) parent[i] = i;
    for (size_t k = 0; k < np; k++) {
        size_t x = uf_root(parent, find_idx(ids, nid, pairs[2 * k]));
        size_t y = uf_root(parent, find_idx(ids, nid, pairs[2 * k + 1]));
        if (x < y) parent[y] = x;
        else if (y < x) parent[x] = y;
    }

    if ((rc = store_i_exec(s, "DELETE FROM record_dup"))) goto done;
    if ((rc = store_i_prep(s, "INSERT INTO record_dup(record_id, kept) VALUES (?1, ?2)", &st)))
        goto done;
    for (size_t i = 0; i < nid; i++) {
        size_t root = uf_root(parent, i);
        if (root == i) continue;
        sqlite3_bind_int64(st, 1, ids[i]);
        sqlite3_bind_int64(st, 2, ids[root]);
        if (sqlite3_step(st) != SQLITE_DONE) { rc = store_i_dberr(s, "storing a duplicate"); goto done; }
        sqlite3_reset(st);
    }
done:
    sqlite3_finalize(st);
    free(pairs);
    free(ids);
    free(parent);
    return rc;
}

int store_i_links_of_case(sp_store *s, long long org_id, const char *case_ref, int *yes)
{
    sqlite3_stmt *st = NULL;
    *yes = 0;
    int rc = store_i_prep(s, "SELECT EXISTS (SELECT 1 FROM person_link l JOIN record r"
                             " ON r.id IN (l.a, l.b) WHERE r.org_id = ?1 AND r.case_ref = ?2)",
                          &st);
    if (rc) return rc;
    sqlite3_bind_int64(st, 1, org_id);
    sqlite3_bind_text(st, 2, case_ref, -1, SQLITE_TRANSIENT);
    if (sqlite3_step(st) == SQLITE_ROW) *yes = sqlite3_column_int(st, 0);
    else rc = store_i_dberr(s, "reading person links");
    sqlite3_finalize(st);
    return rc;
}

int store_i_links_forget(sp_store *s, long long record_id)
{
    sqlite3_stmt *st = NULL;
    int rc = store_i_prep(s, "DELETE FROM person_link WHERE a = ?1 OR b = ?1", &st);
    if (rc) return rc;
    sqlite3_bind_int64(st, 1, record_id);
    if (sqlite3_step(st) != SQLITE_DONE) rc = store_i_dberr(s, "dropping person links");
    sqlite3_finalize(st);
    return rc ? rc : store_i_dup_recompute(s);
}

int store_dup_recompute(sp_store *s)
{
    int own, rc = store_i_write_begin(s, &own);
    if (rc) return rc;
    return store_i_write_end(s, own, store_i_dup_recompute(s));
}

int store_dup_count(sp_store *s, long long *n)
{
    sqlite3_stmt *st = NULL;
    *n = 0;
    int rc = store_i_prep(s, "SELECT count(*) FROM record_dup", &st);
    if (rc) return rc;
    if (sqlite3_step(st) == SQLITE_ROW) *n = sqlite3_column_int64(st, 0);
    else rc = store_i_dberr(s, "counting duplicates");
    sqlite3_finalize(st);
    return rc;
}

/* ---- links */

int store_link_propose(sp_store *s, const sp_link_new *v, size_t n, long long *dups)
{
    sqlite3_stmt *st = NULL;
    int own, rc;
    if (dups) *dups = 0;
    if ((rc = store_i_write_begin(s, &own))) return rc;
    /* the proposals of the last run give way to this run's; decisions stay */
    if ((rc = store_i_exec(s, "DELETE FROM person_link WHERE status = 'proposed'"))) goto done;
    if ((rc = store_i_prep(s, "INSERT INTO person_link(a, b, score) VALUES (?1, ?2, ?3)"
                              " ON CONFLICT(a, b) DO NOTHING", &st)))
        goto done;
    for (size_t i = 0; i < n; i++) {
        long long a = v[i].a < v[i].b ? v[i].a : v[i].b, b = v[i].a < v[i].b ? v[i].b : v[i].a;
        if (a == b) continue;
        sqlite3_bind_int64(st, 1, a);
        sqlite3_bind_int64(st, 2, b);
        sqlite3_bind_double(st, 3, v[i].score);
        if (sqlite3_step(st) != SQLITE_DONE) { rc = store_i_dberr(s, "storing a person link"); goto done; }
        sqlite3_reset(st);
    }
    if ((rc = store_i_dup_recompute(s))) goto done;
    if (dups) rc = store_dup_count(s, dups);
done:
    sqlite3_finalize(st);
    return store_i_write_end(s, own, rc);
}

int store_link_decide(sp_store *s, long long a, long long b, const char *status,
                      const char *by, long long *dups)
{
    sqlite3_stmt *st = NULL;
    int own, rc;
    char at[32];
    time_t now = time(NULL);
    struct tm tm;
    if (dups) *dups = 0;
    if (!status || (strcmp(status, "confirmed") != 0 && strcmp(status, "rejected") != 0 &&
                    strcmp(status, "proposed") != 0)) {
        snprintf(s->msg, sizeof s->msg, "unknown link status '%.40s'", status ? status : "");
        return SP_EUSAGE;
    }
    if (a > b) { long long t = a; a = b; b = t; }
    gmtime_r(&now, &tm);
    strftime(at, sizeof at, "%Y-%m-%dT%H:%M:%SZ", &tm);
    if ((rc = store_i_prep(s, "UPDATE person_link SET status = ?3, decided_by = ?4,"
                              " decided_at = ?5 WHERE a = ?1 AND b = ?2", &st)))
        return rc;
    if ((rc = store_i_write_begin(s, &own))) { sqlite3_finalize(st); return rc; }
    sqlite3_bind_int64(st, 1, a);
    sqlite3_bind_int64(st, 2, b);
    sqlite3_bind_text(st, 3, status, -1, SQLITE_STATIC);
    int undecided = strcmp(status, "proposed") == 0;
    if (by && !undecided) sqlite3_bind_text(st, 4, by, -1, SQLITE_TRANSIENT);
    else sqlite3_bind_null(st, 4);
    if (!undecided) sqlite3_bind_text(st, 5, at, -1, SQLITE_TRANSIENT);
    else sqlite3_bind_null(st, 5);
    if (sqlite3_step(st) != SQLITE_DONE) rc = store_i_dberr(s, "deciding a person link");
    else if (sqlite3_changes(s->db) == 0) {
        snprintf(s->msg, sizeof s->msg, "no link between records %lld and %lld", a, b);
        rc = SP_EOF;
    }
    sqlite3_finalize(st);
    if (!rc) rc = store_i_dup_recompute(s);
    if (!rc && dups) rc = store_dup_count(s, dups);
    return store_i_write_end(s, own, rc);
}

int store_link_list(sp_store *s, const char *status, sp_link_row **out, size_t *n)
{
    sqlite3_stmt *st = NULL;
    size_t alloc = 0;
    int rc, r;
    *out = NULL;
    *n = 0;
    rc = store_i_prep(s,
                      "SELECT l.a, l.b, l.score, l.status, l.decided_by, l.decided_at,"
                      " ra.org_id, oa.name, rb.org_id, ob.name,"
                      " (" LIVE_AS("ra") ") AND (" LIVE_AS("rb") "),"
                      " EXISTS (SELECT 1 FROM record_dup d WHERE d.record_id IN (l.a, l.b))"
                      " FROM person_link l"
                      " JOIN record ra ON ra.id = l.a JOIN record rb ON rb.id = l.b"
                      " JOIN org oa ON oa.id = ra.org_id JOIN org ob ON ob.id = rb.org_id"
                      " WHERE ?1 IS NULL OR l.status = ?1"
                      " ORDER BY CASE l.status WHEN 'proposed' THEN 0 WHEN 'confirmed' THEN 1"
                      " ELSE 2 END, l.score DESC, l.a, l.b", &st);
    if (rc) return rc;
    if (status) sqlite3_bind_text(st, 1, status, -1, SQLITE_TRANSIENT);
    else sqlite3_bind_null(st, 1);
    while ((r = sqlite3_step(st)) == SQLITE_ROW) {
        if (*n == alloc) {
            alloc = alloc ? alloc * 2 : 32;
            *out = sp_xrealloc(*out, alloc * sizeof **out);
        }
        sp_link_row *l = &(*out)[(*n)++];
        memset(l, 0, sizeof *l);
        l->a = sqlite3_column_int64(st, 0);
        l->b = sqlite3_column_int64(st, 1);
        l->score = sqlite3_column_double(st, 2);
        const unsigned char *t = sqlite3_column_text(st, 3);
        snprintf(l->status, sizeof l->status, "%s", t ? (const char *)t : "");
        l->decided_by = dup_text(st, 4);
        l->decided_at = dup_text(st, 5);
        l->org_a = sqlite3_column_int64(st, 6);
        l->org_a_name = dup_text(st, 7);
        l->org_b = sqlite3_column_int64(st, 8);
        l->org_b_name = dup_text(st, 9);
        l->live = sqlite3_column_int(st, 10);
        l->merged = sqlite3_column_int(st, 11);
    }
    if (r != SQLITE_DONE) rc = store_i_dberr(s, "reading person links");
    sqlite3_finalize(st);
    if (rc) { store_link_list_free(*out, *n); *out = NULL; *n = 0; }
    return rc;
}

void store_link_list_free(sp_link_row *v, size_t n)
{
    for (size_t i = 0; v && i < n; i++) {
        free(v[i].decided_by);
        free(v[i].decided_at);
        free(v[i].org_a_name);
        free(v[i].org_b_name);
    }
    free(v);
}
