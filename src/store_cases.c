/* store_cases.c -- the case form's records (see store.h): one record as a
 * submission of its own, one record read back by id, replaced in place,
 * an organisation's records page by page; and the reservation of an
 * Idempotency-Key before an API import runs. Every value is a bound
 * parameter; table and column names come from the codebook, which the
 * store checked against [a-z][a-z0-9_]*. */
#include "store_int.h"

#include <stdlib.h>
#include <string.h>

int store_case_add(sp_store *s, long long org_id, const sp_record *r, const char *sha256,
                   long long *submission_id, long long *record_id)
{
    long long sub = 0;
    int rc = store_submission_add(s, org_id, "web form", sha256, 0, &sub);
    if (!rc) rc = store_record_add(s, sub, org_id, r, 0, record_id);
    if (!rc) rc = store_submission_set_rows(s, sub, 1);
    if (!rc && submission_id) *submission_id = sub;
    return rc;
}

/* Copies column i (text) into out[cap], "" when NULL. */
static void col_copy(sqlite3_stmt *st, int i, char *out, size_t cap)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    snprintf(out, cap, "%s", t ? (const char *)t : "");
}

/* The record's own columns, then its multiple values, then each group's
 * rows in order; all reads in one read transaction (one snapshot). */
static int case_read(sp_store *s, long long id, sp_record *r, sp_case_info *info)
{
    const sp_codebook *cb = s->cb;
    sp_buf sql;
    sqlite3_stmt *st = NULL;
    int *colof = sp_xcalloc(cb->nfields ? cb->nfields : 1, sizeof *colof);
    char nm[2][IDENT_MAX + 8];
    int rc, col = 7, q;
    sp_buf_init(&sql, 1 << 18);
    sp_buf_adds(&sql, "SELECT record.id, record.submission_id, record.org_id, record.synthetic, "
                      "submission.status, submission.filename, submission.created");
    for (size_t i = 0; i < cb->nfields; i++) {
        const cb_field *f = &cb->fields[i];
        if (!store_i_is_single(f)) continue;
        colof[i] = col;
        int nc = store_i_col_names(f, nm);
        for (int c = 0; c < nc; c++, col++) sp_buf_printf(&sql, ", record.%s", nm[c]);
    }
    sp_buf_adds(&sql, " FROM record JOIN submission ON submission.id = record.submission_id "
                      "WHERE record.id = ?1");
    if ((rc = store_i_prep(s, sql.data, &st))) goto done;
    sqlite3_bind_int64(st, 1, id);
    q = sqlite3_step(st);
    if (q == SQLITE_DONE) {
        rc = SP_EOF;
        goto done;
    }
    if (q != SQLITE_ROW) {
        rc = store_i_dberr(s, "reading the record");
        goto done;
    }
    if (info) {
        memset(info, 0, sizeof *info);
        info->id = sqlite3_column_int64(st, 0);
        info->submission_id = sqlite3_column_int64(st, 1);
        info->org_id = sqlite3_column_int64(st, 2);
        info->synthetic = sqlite3_column_int(st, 3);
        const unsigned char *stt = sqlite3_column_text(st, 4);
        info->withdrawn = !stt || strcmp((const char *)stt, "stored") != 0;
        col_copy(st, 5, info->filename, sizeof info->filename);
        col_copy(st, 6, info->created, sizeof info->created);
    }
    for (size_t i = 0; i < cb->nfields; i++) {
        cb_cell c;
        if (colof[i] && store_i_cell_from_col(r, st, colof[i], &cb->fields[i], &c))
            record_add(r, (int)i, &c);
    }
    sqlite3_finalize(st);
    st = NULL;

    if ((rc = store_i_prep(s, "SELECT field, value FROM record_multi WHERE record_id = ?1 "
                              "ORDER BY field, value", &st)))
        goto done;
    sqlite3_bind_int64(st, 1, id);
    while ((q = sqlite3_step(st)) == SQLITE_ROW) {
        const char *fname = (const char *)sqlite3_column_text(st, 0);
        const cb_field *f = fname ? codebook_field(cb, fname) : NULL;
        /* a field the codebook no longer has is not shown (as store_scan) */
        if (!f || !f->multiple || f->type == CB_GROUP) continue;
        const char *v = (const char *)sqlite3_column_text(st, 1);
        cb_cell c;
        store_i_cell_from_text(r, f, v ? v : "", (size_t)sqlite3_column_bytes(st, 1), &c);
        record_add(r, f->index, &c);
    }
    if (q != SQLITE_DONE) {
        rc = store_i_dberr(s, "reading the record's multiple values");
        goto done;
    }
    sqlite3_finalize(st);
    st = NULL;

    for (size_t i = 0; i < cb->nfields; i++) {
        const cb_field *f = &cb->fields[i];
        if (f->type != CB_GROUP) continue;
        sp_buf_reset(&sql);
        sp_buf_adds(&sql, "SELECT seq");
        for (size_t k = 0; k < f->nsub; k++) {
            int nc = store_i_col_names(&f->sub[k], nm);
            for (int c = 0; c < nc; c++) sp_buf_printf(&sql, ", %s", nm[c]);
        }
        sp_buf_printf(&sql, " FROM g_%s WHERE record_id = ?1 ORDER BY seq", f->name);
        if ((rc = store_i_prep(s, sql.data, &st))) goto done;
        sqlite3_bind_int64(st, 1, id);
        size_t row = 0;
        while ((q = sqlite3_step(st)) == SQLITE_ROW) {
            int gc = 1;
            for (size_t k = 0; k < f->nsub; k++) {
                cb_cell c;
                const cb_field *sub = &f->sub[k];
                if (store_i_cell_from_col(r, st, gc, sub, &c)) {
                    cb_cell *dst = record_group_cell(r, (int)i, row, (int)k);
                    if (dst) *dst = c;
                } else {
                    record_group_cell(r, (int)i, row, (int)k);
                }
                gc += sub->type == CB_AGE ? 2 : 1;
            }
            row++;
        }
        if (q != SQLITE_DONE) {
            rc = store_i_dberr(s, "reading the record's group rows");
            goto done;
        }
        sqlite3_finalize(st);
        st = NULL;
    }
    rc = SP_OK;
done:
    sqlite3_finalize(st);
    sp_buf_free(&sql);
    free(colof);
    return rc;
}

int store_case_get(sp_store *s, long long id, sp_record *r, sp_case_info *info)
{
    int own = !store_in_transaction(s), rc;
    record_reset(r);
    if (r->cb != s->cb) return SP_EUSAGE;
    if (own && (rc = store_i_exec(s, "BEGIN"))) return rc;
    rc = case_read(s, id, r, info);
    if (own) store_i_exec(s, "COMMIT");
    return rc;
}

/* Runs `sql` with ?1 and ?2 bound to two record ids (a move: to, from). */
static int run_two_ids(sp_store *s, const char *sql, long long to, long long from)
{
    sqlite3_stmt *st = NULL;
    int rc = store_i_prep(s, sql, &st);
    if (rc) return rc;
    sqlite3_bind_int64(st, 1, to);
    sqlite3_bind_int64(st, 2, from);
    if (sqlite3_step(st) != SQLITE_DONE) rc = store_i_dberr(s, "moving the record's rows");
    sqlite3_finalize(st);
    return rc;
}

/* The new cells are stored as a new record (the normal insert path), the
 * old record is deleted (its multiple values, group rows and derived rows
 * cascade), and the new one takes the old id: with foreign keys deferred
 * to the commit, its multiple values and group rows are moved along. */
static int case_replace_tx(sp_store *s, long long id, const sp_record *r)
{
    const sp_codebook *cb = s->cb;
    sqlite3_stmt *st = NULL;
    long long sub = 0, org = 0, nid = 0;
    int synthetic = 0, q;
    int rc = store_i_prep(s, "SELECT submission_id, org_id, synthetic FROM record WHERE id = ?1", &st);
    if (rc) return rc;
    sqlite3_bind_int64(st, 1, id);
    q = sqlite3_step(st);
    if (q == SQLITE_ROW) {
        sub = sqlite3_column_int64(st, 0);
        org = sqlite3_column_int64(st, 1);
        synthetic = sqlite3_column_int(st, 2);
    } else {
        rc = q == SQLITE_DONE ? SP_EOF : store_i_dberr(s, "finding the record");
    }
    sqlite3_finalize(st);
    if (rc) return rc;
    if ((rc = store_record_add(s, sub, org, r, synthetic, &nid))) return rc;
    /* the record's person links, with the analyst's decisions, are kept
     * aside while the old row goes (ON DELETE CASCADE) and put back on the
     * same id: an edit of the case does not change who the person is */
    if ((rc = store_i_exec(s, "CREATE TEMP TABLE IF NOT EXISTS keep_link("
                              " a INTEGER, b INTEGER, score REAL, status TEXT,"
                              " decided_by TEXT, decided_at TEXT)")) ||
        (rc = store_i_exec(s, "DELETE FROM temp.keep_link")))
        return rc;
    int has_clk = 0;
    for (size_t i = 0; i < cb->nfields; i++)
        if (strcmp(cb->fields[i].name, "person_clk") == 0) has_clk = 1;
    /* only while the encoding is the same: another encoding is another
     * person, whose links a new linking run finds */
    if (has_clk &&
        (rc = run_two_ids(s, "INSERT INTO temp.keep_link SELECT a, b, score, status, decided_by,"
                         " decided_at FROM person_link WHERE (a = ?1 OR b = ?1)"
                         " AND (SELECT person_clk FROM record WHERE id = ?1)"
                         " IS (SELECT person_clk FROM record WHERE id = ?2)",
                      id, nid)))
        return rc;
    if ((rc = store_i_prep(s, "DELETE FROM record WHERE id = ?1", &st))) return rc;
    sqlite3_bind_int64(st, 1, id);
    if (sqlite3_step(st) != SQLITE_DONE) rc = store_i_dberr(s, "deleting the old record");
    sqlite3_finalize(st);
    if (rc) return rc;
    if ((rc = store_i_exec(s, "PRAGMA defer_foreign_keys = ON"))) return rc;
    rc = run_two_ids(s, "UPDATE record SET id = ?1 WHERE id = ?2", id, nid);
    if (!rc) rc = run_two_ids(s, "UPDATE record_multi SET record_id = ?1 WHERE record_id = ?2", id, nid);
    sp_buf sql;
    sp_buf_init(&sql, 1024);
    for (size_t i = 0; i < cb->nfields && !rc; i++) {
        const cb_field *f = &cb->fields[i];
        if (f->type != CB_GROUP) continue;
        sp_buf_reset(&sql);
        sp_buf_printf(&sql, "UPDATE g_%s SET record_id = ?1 WHERE record_id = ?2", f->name);
        rc = run_two_ids(s, sql.data, id, nid);
    }
    sp_buf_free(&sql);
    if (!rc)
        rc = store_i_exec(s, "INSERT INTO person_link(a, b, score, status, decided_by, decided_at)"
                             " SELECT a, b, score, status, decided_by, decided_at FROM temp.keep_link;"
                             "DELETE FROM temp.keep_link");
    /* which record a person is counted through may have changed */
    if (!rc) rc = store_i_dup_recompute(s);
    return rc;
}

int store_case_replace(sp_store *s, long long id, const sp_record *r)
{
    int own, rc;
    if (r->cb != s->cb || store_i_bulk(s)) return SP_EUSAGE;   /* bulk: no cascades */
    if ((rc = store_i_write_begin(s, &own))) return rc;
    return store_i_write_end(s, own, case_replace_tx(s, id, r));
}

int store_case_page(sp_store *s, long long org_id, long long offset, size_t cap,
                    long long *ids, size_t *n, long long *total)
{
    sqlite3_stmt *st = NULL;
    *n = 0;
    *total = 0;
    int rc = store_i_prep(s, "SELECT count(*) FROM record WHERE org_id = ?1", &st);
    if (rc) return rc;
    sqlite3_bind_int64(st, 1, org_id);
    if (sqlite3_step(st) == SQLITE_ROW) *total = sqlite3_column_int64(st, 0);
    else rc = store_i_dberr(s, "counting the organisation's records");
    sqlite3_finalize(st);
    st = NULL;
    if (rc || cap == 0) return rc;
    rc = store_i_prep(s, "SELECT id FROM record WHERE org_id = ?1 ORDER BY id DESC LIMIT ?2 OFFSET ?3",
                      &st);
    if (rc) return rc;
    sqlite3_bind_int64(st, 1, org_id);
    sqlite3_bind_int64(st, 2, (long long)cap);
    sqlite3_bind_int64(st, 3, offset > 0 ? offset : 0);
    int q;
    while ((q = sqlite3_step(st)) == SQLITE_ROW && *n < cap) ids[(*n)++] = sqlite3_column_int64(st, 0);
    if (q != SQLITE_ROW && q != SQLITE_DONE) rc = store_i_dberr(s, "listing the organisation's records");
    sqlite3_finalize(st);
    return rc;
}

/* ------------------------------------------------------------ idempotency */

int store_idem_reserve(sp_store *s, long long account_id, const char *key,
                       const unsigned char body_hash[STORE_AUTH_HASH_LEN], long long now,
                       long long stale_before)
{
    sqlite3_stmt *st = NULL;
    /* the primary key (account_id, key) lets one request in; a pending row
     * left by a request that died is taken over once it is stale */
    int rc = store_i_prep(s, "INSERT INTO idempotency(account_id, key, body_hash, status, response, created)"
                             " VALUES (?1, ?2, ?3, 0, '', ?4)"
                             " ON CONFLICT(account_id, key) DO UPDATE SET body_hash = excluded.body_hash,"
                             " created = excluded.created WHERE status = 0 AND created < ?5",
                          &st);
    if (rc) return rc;
    sqlite3_bind_int64(st, 1, account_id);
    sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 3, body_hash, STORE_AUTH_HASH_LEN, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, now);
    sqlite3_bind_int64(st, 5, stale_before);
    if (sqlite3_step(st) != SQLITE_DONE) rc = store_i_dberr(s, "reserving an idempotency key");
    else if (sqlite3_changes(s->db) == 0) rc = SP_EEXIST;
    sqlite3_finalize(st);
    return rc;
}

int store_idem_finish(sp_store *s, long long account_id, const char *key, int status,
                      const char *response)
{
    sqlite3_stmt *st = NULL;
    int rc = store_i_prep(s, "UPDATE idempotency SET status = ?3, response = ?4"
                             " WHERE account_id = ?1 AND key = ?2 AND status = 0", &st);
    if (rc) return rc;
    sqlite3_bind_int64(st, 1, account_id);
    sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 3, status);
    sqlite3_bind_text(st, 4, response ? response : "", -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE) rc = store_i_dberr(s, "storing an idempotent reply");
    else if (sqlite3_changes(s->db) == 0) rc = SP_EOF;
    sqlite3_finalize(st);
    return rc;
}

int store_idem_release(sp_store *s, long long account_id, const char *key)
{
    sqlite3_stmt *st = NULL;
    int rc = store_i_prep(s, "DELETE FROM idempotency WHERE account_id = ?1 AND key = ?2 AND status = 0",
                          &st);
    if (rc) return rc;
    sqlite3_bind_int64(st, 1, account_id);
    sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE) rc = store_i_dberr(s, "releasing an idempotency key");
    sqlite3_finalize(st);
    return rc;
}
