/* store_ident.c -- match keys of investigative indicators (see store.h and
 * docs/identifiers.md): the table indicator_key(record_id, seq, type,
 * hash, valid, note) of schema step 5, one row per stored row of
 * g_indicators that has a value. Written by import in its transaction
 * (so a refused import leaves no key), and by spotlight rehash, which
 * fills the hashes the hub could not make without a key, and adds the
 * keys of rows stored by other paths (the case form, records imported
 * before match keys existed). Every value is
 * a bound parameter. */
#include "store_int.h"

#include <stdlib.h>
#include <string.h>

int store_ident_add(sp_store *s, long long record_id, long long seq, const char *type,
                    const char *hash, int valid, const char *note)
{
    /* one statement for the store's life: import adds a key per indicator,
     * and preparing it each time was a measurable share of an import */
    int rc = SP_OK;
    if (!s->ins_ident &&
        (rc = store_i_prep(s,
                           "INSERT OR REPLACE INTO indicator_key(record_id, seq, type, hash, valid, note)"
                           " VALUES (?, ?, ?, ?, ?, ?)", &s->ins_ident)))
        return rc;
    sqlite3_stmt *st = s->ins_ident;
    sqlite3_bind_int64(st, 1, record_id);
    sqlite3_bind_int64(st, 2, seq);
    sqlite3_bind_text(st, 3, type ? type : "", -1, SQLITE_STATIC);
    if (hash) sqlite3_bind_text(st, 4, hash, -1, SQLITE_STATIC);
    else sqlite3_bind_null(st, 4);
    sqlite3_bind_int(st, 5, valid ? 1 : 0);
    if (note) sqlite3_bind_text(st, 6, note, -1, SQLITE_STATIC);
    else sqlite3_bind_null(st, 6);
    if (sqlite3_step(st) != SQLITE_DONE) rc = store_i_dberr(s, "storing an indicator key");
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc;
}

static char *col_dup(sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    return t ? sp_xstrdup((const char *)t) : NULL;
}

int store_ident_unhashed(sp_store *s, sp_ident_row **out, size_t *n)
{
    sqlite3_stmt *st = NULL;
    size_t alloc = 0;
    *out = NULL;
    *n = 0;
    int has_nat = codebook_field(s->cb, "nationality") != NULL;
    int has_origin = codebook_field(s->cb, "origin_country") != NULL;
    const cb_field *g = codebook_field(s->cb, "indicators");
    if (!g || g->type != CB_GROUP || !codebook_subfield(g, "type") ||
        !codebook_subfield(g, "value"))
        return SP_OK;   /* no indicators in this codebook: nothing to hash */
    int has_chain = codebook_subfield(g, "chain") != NULL;
    int has_platform = codebook_subfield(g, "platform") != NULL;
    char sql[700];
    /* the column names are the codebook's (checked by the schema sync) */
    snprintf(sql, sizeof sql,
             "SELECT g.record_id, g.seq, g.type, g.value, %s, %s, %s, %s"
             " FROM g_indicators g"
             " JOIN record r ON r.id = g.record_id"
             " LEFT JOIN indicator_key k ON k.record_id = g.record_id AND k.seq = g.seq"
             " WHERE g.value IS NOT NULL AND (k.record_id IS NULL OR k.hash IS NULL)"
             " ORDER BY g.record_id, g.seq",
             has_chain ? "g.chain" : "NULL", has_platform ? "g.platform" : "NULL",
             has_nat ? "r.nationality" : "NULL", has_origin ? "r.origin_country" : "NULL");
    int rc = store_i_prep(s, sql, &st);
    if (rc) return rc;
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        if (*n == alloc) {
            alloc = alloc ? alloc * 2 : 64;
            *out = sp_xrealloc(*out, alloc * sizeof **out);
        }
        sp_ident_row *r = &(*out)[(*n)++];
        r->record_id = sqlite3_column_int64(st, 0);
        r->seq = sqlite3_column_int64(st, 1);
        r->type = col_dup(st, 2);
        r->value = col_dup(st, 3);
        r->chain = col_dup(st, 4);
        r->platform = col_dup(st, 5);
        r->nationality = col_dup(st, 6);
        r->origin = col_dup(st, 7);
    }
    if (step != SQLITE_DONE) rc = store_i_dberr(s, "reading the indicators to hash");
    sqlite3_finalize(st);
    if (rc) {
        store_ident_rows_free(*out, *n);
        *out = NULL;
        *n = 0;
    }
    return rc;
}

void store_ident_rows_free(sp_ident_row *rows, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(rows[i].type);
        free(rows[i].value);
        free(rows[i].chain);
        free(rows[i].platform);
        free(rows[i].nationality);
        free(rows[i].origin);
    }
    free(rows);
}

int store_ident_count(sp_store *s, long long *total, long long *unhashed)
{
    sqlite3_stmt *st = NULL;
    int rc = store_i_prep(s, "SELECT count(*), count(*) - count(hash) FROM indicator_key", &st);
    if (rc) return rc;
    if (sqlite3_step(st) == SQLITE_ROW) {
        if (total) *total = sqlite3_column_int64(st, 0);
        if (unhashed) *unhashed = sqlite3_column_int64(st, 1);
    } else {
        rc = store_i_dberr(s, "counting indicator keys");
    }
    sqlite3_finalize(st);
    return rc;
}
