/* store.c -- see store.h and docs/store.md. With store_*.c (which share
 * store_int.h), the only code that speaks SQL.
 *
 * Every identifier that goes into SQL text is either a literal here or a
 * codebook name checked against [a-z][a-z0-9_]* (ident_ok); every value is
 * a bound parameter. */
#include "store_int.h"

#include <limits.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Schema versions this program knows. Each step runs once, in order, in one
 * transaction with the codebook columns; PRAGMA user_version = number of
 * steps applied. Append new steps; never edit a published one. */
static const char *const migrations[] = {
    /* 1: base tables */
    "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT) STRICT;"
    "CREATE TABLE org("
    " id INTEGER PRIMARY KEY,"
    " name TEXT NOT NULL UNIQUE COLLATE NOCASE,"
    " country TEXT, region TEXT, subregion TEXT,"
    " created TEXT NOT NULL) STRICT;"
    "CREATE TABLE submission("
    " id INTEGER PRIMARY KEY,"
    " org_id INTEGER NOT NULL REFERENCES org(id),"
    " created TEXT NOT NULL,"
    " filename TEXT, sha256 TEXT,"
    " rows INTEGER NOT NULL DEFAULT 0,"
    " status TEXT NOT NULL DEFAULT 'stored' CHECK (status IN ('stored', 'withdrawn')),"
    " codebook_version TEXT,"
    " synthetic INTEGER NOT NULL DEFAULT 0) STRICT;"
    "CREATE INDEX submission_org_sha ON submission(org_id, sha256);"
    "CREATE TABLE record("
    " id INTEGER PRIMARY KEY,"
    " submission_id INTEGER NOT NULL REFERENCES submission(id) ON DELETE CASCADE,"
    " org_id INTEGER NOT NULL REFERENCES org(id),"
    " codebook_version TEXT,"
    " synthetic INTEGER NOT NULL DEFAULT 0) STRICT;"
    "CREATE INDEX record_submission ON record(submission_id);"
    "CREATE TABLE record_multi("
    " record_id INTEGER NOT NULL REFERENCES record(id) ON DELETE CASCADE,"
    " field TEXT NOT NULL,"
    " value TEXT NOT NULL,"
    " PRIMARY KEY (record_id, field, value)) WITHOUT ROWID, STRICT;",
    /* 2: the append-only, hash-chained audit log (audit.c, docs/audit.md).
     * The triggers refuse every UPDATE and DELETE; the keyed hash chain
     * detects what a person who drops them changes anyway. */
    "CREATE TABLE audit("
    " seq INTEGER PRIMARY KEY,"
    " at TEXT NOT NULL,"
    " actor TEXT NOT NULL,"
    " org_id INTEGER,"
    " action TEXT NOT NULL,"
    " target TEXT, remote TEXT, detail TEXT,"
    " prev_hash BLOB NOT NULL,"
    " hash BLOB NOT NULL) STRICT;"
    "CREATE INDEX audit_at ON audit(at);"
    "CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit"
    " BEGIN SELECT RAISE(ABORT, 'the audit log is append-only: entries cannot be changed'); END;"
    "CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit"
    " BEGIN SELECT RAISE(ABORT, 'the audit log is append-only: entries cannot be deleted'); END;",
    /* 3: accounts, API tokens, sessions and login throttling (auth.c,
     * docs/auth.md). Secrets are stored only as Argon2id strings or keyed
     * hashes. */
    "CREATE TABLE account("
    " id INTEGER PRIMARY KEY,"
    " email TEXT NOT NULL UNIQUE COLLATE NOCASE,"
    " org_id INTEGER NOT NULL REFERENCES org(id),"
    " role TEXT NOT NULL CHECK (role IN ('contributor', 'analyst', 'admin')),"
    " pwhash TEXT NOT NULL,"
    " disabled INTEGER NOT NULL DEFAULT 0,"
    " created INTEGER NOT NULL) STRICT;"
    "CREATE TABLE api_token("
    " id INTEGER PRIMARY KEY,"
    " account_id INTEGER NOT NULL REFERENCES account(id),"
    " name TEXT,"
    " hash BLOB NOT NULL UNIQUE,"
    " created INTEGER NOT NULL,"
    " last_used INTEGER, revoked INTEGER) STRICT;"
    "CREATE TABLE session("
    " hash BLOB PRIMARY KEY,"
    " account_id INTEGER NOT NULL REFERENCES account(id) ON DELETE CASCADE,"
    " created INTEGER NOT NULL,"
    " last_seen INTEGER NOT NULL) WITHOUT ROWID, STRICT;"
    "CREATE INDEX session_account ON session(account_id);"
    "CREATE TABLE login_throttle("
    " key BLOB PRIMARY KEY,"
    " failures INTEGER NOT NULL,"
    " last_failure INTEGER NOT NULL) WITHOUT ROWID, STRICT;",
    /* 4: stored replies of POST /api/v1/submissions by (account,
     * Idempotency-Key), with the body's hash (portal.c) */
    "CREATE TABLE idempotency("
    " account_id INTEGER NOT NULL REFERENCES account(id) ON DELETE CASCADE,"
    " key TEXT NOT NULL,"
    " body_hash BLOB NOT NULL,"
    " status INTEGER NOT NULL,"
    " response TEXT NOT NULL,"
    " created INTEGER NOT NULL,"
    " PRIMARY KEY (account_id, key)) WITHOUT ROWID, STRICT;",
    /* 5: match keys of investigative indicators (store_ident.c,
     * docs/investigations.md): one per row of g_indicators. hash is the
     * keyed BLAKE2b form "h1:<64 hex>", made at the partner by spotlight
     * encode or by the hub from a value shared in the clear; NULL while a
     * clear value waits for a key. valid: 1 checked, 0 flagged invalid
     * (kept, with the reason in note). */
    "CREATE TABLE indicator_key("
    " record_id INTEGER NOT NULL REFERENCES record(id) ON DELETE CASCADE,"
    " seq INTEGER NOT NULL,"
    " type TEXT NOT NULL,"
    " hash TEXT,"
    " valid INTEGER NOT NULL CHECK (valid IN (0, 1)),"
    " note TEXT,"
    " PRIMARY KEY (record_id, seq)) WITHOUT ROWID, STRICT;"
    "CREATE INDEX indicator_key_hash ON indicator_key(hash, type);",
    /* 6: person links between records of different organisations
     * (store_link.c, docs/linkage.md). a < b. A link that is not rejected
     * joins its records into one person; record_dup lists every record
     * but the lowest-numbered live one of each such person, and is what
     * the aggregates leave out, so a person is counted once. */
    "CREATE TABLE person_link("
    " a INTEGER NOT NULL REFERENCES record(id) ON DELETE CASCADE,"
    " b INTEGER NOT NULL REFERENCES record(id) ON DELETE CASCADE,"
    " score REAL NOT NULL,"
    " status TEXT NOT NULL DEFAULT 'proposed'"
    "  CHECK (status IN ('proposed', 'confirmed', 'rejected')),"
    " decided_by TEXT, decided_at TEXT,"
    " CHECK (a < b),"
    " PRIMARY KEY (a, b)) WITHOUT ROWID, STRICT;"
    "CREATE INDEX person_link_b ON person_link(b);"
    "CREATE TABLE record_dup("
    " record_id INTEGER PRIMARY KEY REFERENCES record(id) ON DELETE CASCADE,"
    " kept INTEGER NOT NULL REFERENCES record(id) ON DELETE CASCADE) STRICT;",
};
#define NMIGRATIONS ((int)(sizeof migrations / sizeof migrations[0]))

int store_schema_version(void)
{
    return NMIGRATIONS;
}

static void cube_detach(sp_store *s);
static void cube_attach(sp_store *s, const char *path);

/* ------------------------------------------------------------ helpers */

static int ident_ok(const char *s)
{
    size_t n = 0;
    if (!s || !(s[0] >= 'a' && s[0] <= 'z')) return 0;
    for (; s[n]; n++) {
        char c = s[n];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return 0;
        if (n >= IDENT_MAX) return 0;
    }
    return 1;
}

/* Keeps a message for store_errmsg: `what` and SQLite's own words. */
static int dberr(sp_store *s, const char *what)
{
    snprintf(s->msg, sizeof s->msg, "%s: %s", what, sqlite3_errmsg(s->db));
    return SP_EDB;
}

static int usage(sp_store *s, int rc, const char *fmt, const char *arg)
{
    snprintf(s->msg, sizeof s->msg, fmt, arg ? arg : "");
    return rc;
}

static int prep(sp_store *s, const char *sql, sqlite3_stmt **st)
{
    if (sqlite3_prepare_v2(s->db, sql, -1, st, NULL) != SQLITE_OK) {
        *st = NULL;
        return dberr(s, "preparing a statement");
    }
    return SP_OK;
}

static int exec(sp_store *s, const char *sql)
{
    char *e = NULL;
    if (sqlite3_exec(s->db, sql, NULL, NULL, &e) != SQLITE_OK) {
        snprintf(s->msg, sizeof s->msg, "%s", e ? e : sqlite3_errmsg(s->db));
        sqlite3_free(e);
        return SP_EDB;
    }
    return SP_OK;
}

static void bind_text_or_null(sqlite3_stmt *st, int i, const char *v)
{
    if (v) sqlite3_bind_text(st, i, v, -1, SQLITE_TRANSIENT);
    else sqlite3_bind_null(st, i);
}

static char *col_dup(sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    return t ? sp_xstrdup((const char *)t) : NULL;
}

/* SQL column type of a (non-group) field. */
static const char *col_type(const cb_field *f)
{
    switch (f->type) {
    case CB_INTEGER: case CB_YEAR: case CB_AGE: return "INTEGER";
    case CB_DECIMAL: return "REAL";
    default: return "TEXT";
    }
}

/* Column names of a field into names[2]; returns how many (age: 2). */
static int col_names(const cb_field *f, char names[2][IDENT_MAX + 8])
{
    if (f->type == CB_AGE) {
        snprintf(names[0], IDENT_MAX + 8, "%s_lo", f->name);
        snprintf(names[1], IDENT_MAX + 8, "%s_hi", f->name);
        return 2;
    }
    snprintf(names[0], IDENT_MAX + 8, "%s", f->name);
    return 1;
}

static int is_single(const cb_field *f)
{
    return f->type != CB_GROUP && !f->multiple;
}

/* ------------------------------------------------------------ schema */

/* Names reserved by the base tables: a codebook field may not take them. */
static int reserved_record(const char *n)
{
    static const char *const r[] = {"id", "submission_id", "org_id",
                                    "codebook_version", "synthetic"};
    for (size_t i = 0; i < sizeof r / sizeof r[0]; i++)
        if (strcmp(n, r[i]) == 0) return 1;
    return 0;
}
static int reserved_group(const char *n)
{
    return strcmp(n, "record_id") == 0 || strcmp(n, "seq") == 0 ||
           strcmp(n, "is_last") == 0;
}

/* Checks every name the codebook would put into SQL. */
static int check_codebook(const sp_codebook *cb, sp_err *err)
{
    sp_map seen;
    int rc = SP_OK;
    sp_map_init(&seen);
    for (size_t i = 0; i < cb->nfields && rc == SP_OK; i++) {
        const cb_field *f = &cb->fields[i];
        if (!ident_ok(f->name)) {
            rc = sp_err_add(err, NULL, 0, NULL, f->name, strlen(f->name), "bad-identifier",
                            "codebook field name is not [a-z][a-z0-9_]* (at most %d characters)",
                            IDENT_MAX);
            break;
        }
        if (f->type == CB_GROUP) {
            sp_map subs;
            sp_map_init(&subs);
            for (size_t k = 0; k < f->nsub && rc == SP_OK; k++) {
                const cb_field *u = &f->sub[k];
                char nm[2][IDENT_MAX + 8];
                int dummy;
                if (!ident_ok(u->name) || u->type == CB_GROUP || u->multiple) {
                    rc = sp_err_add(err, NULL, 0, f->name, u->name, strlen(u->name),
                                    "bad-identifier",
                                    "group sub-field must be a single field named [a-z][a-z0-9_]*");
                    break;
                }
                int nc = col_names(u, nm);
                for (int c = 0; c < nc && rc == SP_OK; c++) {
                    if (reserved_group(nm[c]) || sp_map_get(&subs, nm[c], strlen(nm[c]), &dummy))
                        rc = sp_err_add(err, NULL, 0, f->name, nm[c], strlen(nm[c]),
                                        "bad-identifier",
                                        "group column name is reserved or used twice");
                    sp_map_put(&subs, nm[c], strlen(nm[c]), 1);
                }
            }
            sp_map_free(&subs);
            continue;
        }
        if (f->multiple) continue;
        char nm[2][IDENT_MAX + 8];
        int nc = col_names(f, nm), dummy;
        for (int c = 0; c < nc && rc == SP_OK; c++) {
            if (reserved_record(nm[c]) || sp_map_get(&seen, nm[c], strlen(nm[c]), &dummy))
                rc = sp_err_add(err, NULL, 0, NULL, nm[c], strlen(nm[c]), "bad-identifier",
                                "record column name is reserved or used twice");
            sp_map_put(&seen, nm[c], strlen(nm[c]), 1);
        }
    }
    sp_map_free(&seen);
    return rc;
}

/* Declared type of column `col` of `table`: 1 and type into out, 0 if the
 * column does not exist, SP_EDB on failure. */
static int column_type(sp_store *s, const char *table, const char *col, char *out,
                       size_t outsz)
{
    sqlite3_stmt *st = NULL;
    int rc = prep(s, "SELECT type FROM pragma_table_info(?1) WHERE name = ?2", &st);
    if (rc) return rc;
    sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, col, -1, SQLITE_STATIC);
    int r = sqlite3_step(st);
    if (r == SQLITE_ROW) {
        const unsigned char *t = sqlite3_column_text(st, 0);
        snprintf(out, outsz, "%s", t ? (const char *)t : "");
        rc = 1;
    } else if (r == SQLITE_DONE) {
        rc = 0;
    } else {
        rc = dberr(s, "reading the table layout");
    }
    sqlite3_finalize(st);
    return rc;
}

static int table_exists(sp_store *s, const char *table)
{
    sqlite3_stmt *st = NULL;
    int rc = prep(s, "SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = ?1", &st);
    if (rc) return rc;
    sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC);
    int r = sqlite3_step(st);
    rc = r == SQLITE_ROW ? 1 : r == SQLITE_DONE ? 0 : dberr(s, "reading the schema");
    sqlite3_finalize(st);
    return rc;
}

/* Makes sure `table` has the columns of field f; with apply 0 only counts
 * what is missing (into *todo). A column of another type is an error. */
static int sync_field(sp_store *s, const char *table, const cb_field *f, int apply,
                      int *todo, sp_err *err)
{
    char nm[2][IDENT_MAX + 8], type[32], sql[256];
    int nc = col_names(f, nm);
    for (int c = 0; c < nc; c++) {
        int rc = column_type(s, table, nm[c], type, sizeof type);
        if (rc < 0) return rc;
        if (rc == 1) {
            if (!sp_streq_nocase(type, col_type(f)))
                return sp_err_add(err, NULL, 0, table, nm[c], strlen(nm[c]), "schema-mismatch",
                                  "the hub stores this column as %s but the codebook "
                                  "makes it %s; a field's type cannot change",
                                  type, col_type(f));
            continue;
        }
        (*todo)++;
        if (!apply) continue;
        snprintf(sql, sizeof sql, "ALTER TABLE %s ADD COLUMN %s %s", table, nm[c], col_type(f));
        if (exec(s, sql))
            return sp_err_add(err, NULL, 0, table, nm[c], strlen(nm[c]), "migration",
                              "cannot add column: %s", s->msg);
    }
    return SP_OK;
}

/* Brings the codebook columns, group tables and indexes up to date. */
static int sync_codebook(sp_store *s, int apply, int *todo, sp_err *err)
{
    const sp_codebook *cb = s->cb;
    char table[IDENT_MAX + 8], sql[512];
    int rc;
    for (size_t i = 0; i < cb->nfields; i++) {
        const cb_field *f = &cb->fields[i];
        if (f->multiple) continue;
        if (f->type != CB_GROUP) {
            if ((rc = sync_field(s, "record", f, apply, todo, err))) return rc;
            continue;
        }
        snprintf(table, sizeof table, "g_%s", f->name);
        rc = table_exists(s, table);
        if (rc < 0) return rc;
        if (rc == 0) {
            (*todo)++;
            if (!apply) { (*todo) += (int)f->nsub; continue; }
            snprintf(sql, sizeof sql,
                     "CREATE TABLE %s("
                     " record_id INTEGER NOT NULL REFERENCES record(id) ON DELETE CASCADE,"
                     " seq INTEGER NOT NULL, is_last INTEGER NOT NULL,"
                     " PRIMARY KEY (record_id, seq)) WITHOUT ROWID, STRICT", table);
            if (exec(s, sql))
                return sp_err_add(err, NULL, 0, NULL, table, strlen(table), "migration",
                                  "cannot create group table: %s", s->msg);
        }
        for (size_t k = 0; k < f->nsub; k++)
            if ((rc = sync_field(s, table, &f->sub[k], apply, todo, err))) return rc;
    }
    rc = column_type(s, "record", "case_ref", table, sizeof table);
    if (rc < 0) return rc;
    s->has_case_ref = rc;
    if (rc == 1) {
        int have = 0;
        sqlite3_stmt *st = NULL;
        if ((rc = prep(s, "SELECT 1 FROM sqlite_schema WHERE name = 'record_case'", &st)))
            return rc;
        have = sqlite3_step(st) == SQLITE_ROW;
        sqlite3_finalize(st);
        if (!have) {
            (*todo)++;
            if (apply && exec(s, "CREATE INDEX record_case ON record(org_id, case_ref)"))
                return sp_err_add(err, NULL, 0, NULL, NULL, 0, "migration",
                                  "cannot create index: %s", s->msg);
        }
    }
    rc = column_type(s, "record", "year_identified", table, sizeof table);
    if (rc < 0) return rc;
    s->has_year = rc;
    return SP_OK;
}

static int get_user_version(sp_store *s, int *v)
{
    sqlite3_stmt *st = NULL;
    int rc = prep(s, "PRAGMA user_version", &st);
    if (rc) return rc;
    if (sqlite3_step(st) == SQLITE_ROW) *v = sqlite3_column_int(st, 0);
    else rc = dberr(s, "reading the schema version");
    sqlite3_finalize(st);
    return rc;
}

/* Runs the missing migration steps and codebook columns in one
 * transaction; does nothing (and takes no write lock) when up to date. */
static int migrate(sp_store *s, int create, const char *path, sp_err *err)
{
    int v = 0, todo = 0, rc;
    if ((rc = get_user_version(s, &v)))
        return sp_err_add(err, path, 0, NULL, NULL, 0, "not-a-hub",
                          "cannot read the hub: %s", s->msg);
    if (v > NMIGRATIONS)
        return sp_err_add(err, path, 0, NULL, NULL, 0, "newer-schema",
                          "this hub was made by a newer spotlight (schema version %d; this "
                          "program knows up to %d): upgrade spotlight to open it",
                          v, NMIGRATIONS);
    if (v == 0 && !create)
        return sp_err_add(err, path, 0, NULL, NULL, 0, "not-a-hub",
                          "not a spotlight hub (no schema): create it first (spotlight init)");
    if (v == NMIGRATIONS) {
        if ((rc = sync_codebook(s, 0, &todo, err))) return rc < 0 ? rc : SP_EDB;
        char *cv = NULL;
        if ((rc = store_meta_get(s, "codebook_version", &cv)))
            return sp_err_add(err, path, 0, NULL, NULL, 0, "db", "%s", s->msg);
        if (!cv || strcmp(cv, s->cb->version) != 0) todo++;
        free(cv);
        if (todo == 0) return SP_OK;
    }
    if (exec(s, "BEGIN IMMEDIATE"))
        return sp_err_add(err, path, 0, NULL, NULL, 0, "db", "cannot lock the hub: %s", s->msg);
    /* re-read under the lock: another process may have migrated meanwhile */
    rc = get_user_version(s, &v);
    for (; rc == SP_OK && v < NMIGRATIONS; v++) {
        char sql[64];
        if (exec(s, migrations[v])) {
            rc = sp_err_add(err, path, 0, NULL, NULL, 0, "migration",
                            "schema step %d failed: %s", v + 1, s->msg);
            break;
        }
        snprintf(sql, sizeof sql, "PRAGMA user_version = %d", v + 1);
        if (exec(s, sql)) rc = sp_err_add(err, path, 0, NULL, NULL, 0, "migration", "%s", s->msg);
    }
    todo = 0;
    if (rc == SP_OK) rc = sync_codebook(s, 1, &todo, err);
    if (rc == SP_OK && store_meta_set(s, "codebook_version", s->cb->version))
        rc = sp_err_add(err, path, 0, NULL, NULL, 0, "db", "%s", s->msg);
    if (rc == SP_OK && exec(s, "COMMIT"))
        rc = sp_err_add(err, path, 0, NULL, NULL, 0, "db", "cannot commit the schema: %s", s->msg);
    if (rc != SP_OK) {
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
        return rc < 0 ? rc : SP_EDB;
    }
    return SP_OK;
}

/* Prepares the cached INSERTs, built from the codebook once. */
static int prepare_inserts(sp_store *s)
{
    const sp_codebook *cb = s->cb;
    sp_buf sql, vals;
    int rc = SP_OK, p = 5;
    char nm[2][IDENT_MAX + 8];
    sp_buf_init(&sql, 1 << 20);
    sp_buf_init(&vals, 1 << 20);
    sp_buf_adds(&sql, "INSERT INTO record(submission_id, org_id, codebook_version, synthetic");
    sp_buf_adds(&vals, "?1, ?2, ?3, ?4");
    for (size_t i = 0; i < cb->nfields; i++) {
        const cb_field *f = &cb->fields[i];
        if (!is_single(f)) continue;
        s->param[i] = p;
        int nc = col_names(f, nm);
        for (int c = 0; c < nc; c++) {
            sp_buf_printf(&sql, ", %s", nm[c]);
            sp_buf_printf(&vals, ", ?%d", p++);
        }
    }
    sp_buf_printf(&sql, ") VALUES (%s)", vals.data);
    rc = prep(s, sql.data, &s->ins_record);
    if (!rc)
        rc = prep(s, "INSERT OR IGNORE INTO record_multi(record_id, field, value) VALUES (?1, ?2, ?3)",
                  &s->ins_multi);
    for (size_t i = 0; i < cb->nfields && !rc; i++) {
        const cb_field *f = &cb->fields[i];
        if (f->type != CB_GROUP) continue;
        sp_buf_reset(&sql);
        sp_buf_reset(&vals);
        sp_buf_printf(&sql, "INSERT INTO g_%s(record_id, seq, is_last", f->name);
        sp_buf_adds(&vals, "?1, ?2, ?3");
        p = 4;
        for (size_t k = 0; k < f->nsub; k++) {
            int nc = col_names(&f->sub[k], nm);
            for (int c = 0; c < nc; c++) {
                sp_buf_printf(&sql, ", %s", nm[c]);
                sp_buf_printf(&vals, ", ?%d", p++);
            }
        }
        sp_buf_printf(&sql, ") VALUES (%s)", vals.data);
        rc = prep(s, sql.data, &s->ins_group[i]);
    }
    if (!rc && s->has_case_ref)
        rc = prep(s, "DELETE FROM record WHERE org_id = ?1 AND case_ref = ?2", &s->del_case);
    sp_buf_free(&sql);
    sp_buf_free(&vals);
    return rc;
}

/* ------------------------------------------------------------ open/close */

/* Process-wide SQLite settings, before its first use: no statistics of its
 * memory use (nothing reads them, and keeping them takes a global mutex on
 * every allocation). sqlite3_config refuses once SQLite is initialised,
 * which leaves the defaults: slower, not wrong. */
static pthread_once_t sqlite_once = PTHREAD_ONCE_INIT;
static void sqlite_setup(void)
{
    (void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

int store_open(sp_store **out, const char *path, const sp_codebook *cb, int create,
               sp_err *err)
{
    *out = NULL;
    if (!path || !cb) return SP_EUSAGE;
    int rc = check_codebook(cb, err);
    if (rc) return rc;
    sp_store *s = sp_xcalloc(1, sizeof *s);
    s->cb = cb;
    s->param = sp_xcalloc(cb->nfields, sizeof *s->param);
    s->ins_group = sp_xcalloc(cb->nfields, sizeof *s->ins_group);
    sp_buf_init(&s->sel_key, 1 << 16);
    pthread_once(&sqlite_once, sqlite_setup);
    /* a connection belongs to one thread (each server worker opens its
     * own), so SQLite's per-call locking is only cost: about a tenth of an
     * import's time was spent taking and releasing its mutexes */
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (create ? SQLITE_OPEN_CREATE : 0);
    if (sqlite3_open_v2(path, &s->db, flags, NULL) != SQLITE_OK) {
        rc = sp_err_add(err, path, 0, NULL, NULL, 0, "open",
                        "cannot open the hub: %s", s->db ? sqlite3_errmsg(s->db) : "out of memory");
        rc = SP_EDB;
        goto done;
    }
    sqlite3_extended_result_codes(s->db, 1);
    sqlite3_busy_timeout(s->db, 5000);
    /* journal_mode answers with a row; a failure here is a real problem */
    if (exec(s, "PRAGMA foreign_keys = ON; PRAGMA journal_mode = WAL;"
                "PRAGMA synchronous = NORMAL; PRAGMA cache_size = -65536;"
                "PRAGMA temp_store = MEMORY")) {
        rc = sp_err_add(err, path, 0, NULL, NULL, 0, "open", "cannot open the hub: %s", s->msg);
        rc = SP_EDB;
        goto done;
    }
    size_t before = err->count;
    if ((rc = migrate(s, create, path, err))) {
        if (err->count == before)
            sp_err_add(err, path, 0, NULL, NULL, 0, "db", "cannot open the hub: %s", s->msg);
        goto done;
    }
    if ((rc = prepare_inserts(s))) {
        sp_err_add(err, path, 0, NULL, NULL, 0, "db", "%s", s->msg);
        goto done;
    }
    if ((rc = prep(s, "SELECT value FROM meta WHERE key = 'generation'", &s->gen_st))) {
        sp_err_add(err, path, 0, NULL, NULL, 0, "db", "%s", s->msg);
        goto done;
    }
    {
        const char *m = getenv("SPOTLIGHT_CUBE");
        s->cube_mode = m && strcmp(m, "1") == 0 ? 1 : m && strcmp(m, "0") == 0 ? 0 : -1;
    }
    cube_attach(s, path);
done:
    if (rc) {
        store_close(s);
        return rc < 0 ? rc : SP_EDB;
    }
    *out = s;
    return SP_OK;
}

void store_close(sp_store *s)
{
    if (!s) return;
    cube_detach(s);
    free(s->sel);
    sp_buf_free(&s->sel_key);
    sqlite3_finalize(s->gen_st);
    sqlite3_finalize(s->ins_ident);
    sqlite3_finalize(s->ins_record);
    sqlite3_finalize(s->ins_multi);
    sqlite3_finalize(s->del_case);
    if (s->ins_group)
        for (size_t i = 0; i < s->cb->nfields; i++) sqlite3_finalize(s->ins_group[i]);
    free(s->ins_group);
    free(s->param);
    if (s->db) sqlite3_close(s->db);
    free(s);
}

const char *store_errmsg(const sp_store *s)
{
    if (!s) return "no hub";
    if (s->msg[0]) return s->msg;
    return s->db ? sqlite3_errmsg(s->db) : "no hub";
}

int store_begin(sp_store *s)
{
    s->dirty = 0;
    return exec(s, "BEGIN IMMEDIATE");
}

/* foreign_keys can only change outside a transaction: off before BEGIN,
 * on again as soon as it ends, whichever way (bulk_end) */
int store_begin_bulk(sp_store *s)
{
    if (!sqlite3_get_autocommit(s->db)) return usage(s, SP_EUSAGE, "a transaction is already open%s", "");
    int rc = exec(s, "PRAGMA foreign_keys = OFF");
    if (rc) return rc;
    s->bulk = 1;
    if ((rc = store_begin(s))) {
        s->bulk = 0;
        (void)exec(s, "PRAGMA foreign_keys = ON");
    }
    return rc;
}

static int bulk_end(sp_store *s, int rc)
{
    if (!s->bulk || !sqlite3_get_autocommit(s->db)) return rc;
    s->bulk = 0;
    int r2 = exec(s, "PRAGMA foreign_keys = ON");
    return rc ? rc : r2;
}

/* The generation counts the commits that changed which records are
 * counted (records, withdrawals, org regions). It lives in meta, so every
 * connection and process sees it, and it is bumped inside the writing
 * transaction, so a reader's snapshot has data and number that agree. */
static int gen_bump(sp_store *s)
{
    return exec(s, "INSERT INTO meta(key, value) VALUES ('generation', '1') "
                   "ON CONFLICT(key) DO UPDATE SET "
                   "value = CAST(CAST(value AS INTEGER) + 1 AS TEXT)");
}

int store_commit(sp_store *s)
{
    int rc;
    if (s->dirty && !sqlite3_get_autocommit(s->db) && (rc = gen_bump(s))) return rc;
    if ((rc = exec(s, "COMMIT"))) return rc;
    s->dirty = 0;
    return bulk_end(s, SP_OK);
}

int store_rollback(sp_store *s)
{
    s->dirty = 0;
    if (sqlite3_get_autocommit(s->db)) return bulk_end(s, SP_OK);  /* nothing open */
    return bulk_end(s, exec(s, "ROLLBACK"));
}

/* A change to the counted records: inside the caller's transaction it
 * marks it for store_commit; outside one, write_begin opened a transaction
 * of its own (*own) which write_end closes with the bump. */
static int write_begin(sp_store *s, int *own)
{
    *own = sqlite3_get_autocommit(s->db);
    return *own ? exec(s, "BEGIN IMMEDIATE") : SP_OK;
}

static int write_end(sp_store *s, int own, int rc)
{
    if (!own) {
        if (rc == SP_OK) s->dirty = 1;
        return rc;
    }
    if (rc == SP_OK && (rc = gen_bump(s)) == SP_OK && (rc = exec(s, "COMMIT")) == SP_OK)
        return SP_OK;
    sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

int store_generation(sp_store *s, long long *gen)
{
    *gen = 0;
    int r = sqlite3_step(s->gen_st);
    if (r == SQLITE_ROW) {
        const unsigned char *t = sqlite3_column_text(s->gen_st, 0);
        *gen = t ? atoll((const char *)t) : 0;
    }
    sqlite3_reset(s->gen_st);
    if (r != SQLITE_ROW && r != SQLITE_DONE) return dberr(s, "reading the generation");
    return SP_OK;
}

/* ------------------------------------------------------------ meta */

int store_meta_get(sp_store *s, const char *key, char **value)
{
    sqlite3_stmt *st = NULL;
    *value = NULL;
    int rc = prep(s, "SELECT value FROM meta WHERE key = ?1", &st);
    if (rc) return rc;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    int r = sqlite3_step(st);
    if (r == SQLITE_ROW) *value = col_dup(st, 0);
    else if (r != SQLITE_DONE) rc = dberr(s, "reading a setting");
    sqlite3_finalize(st);
    return rc;
}

int store_meta_set(sp_store *s, const char *key, const char *value)
{
    sqlite3_stmt *st = NULL;
    int rc = prep(s, "INSERT INTO meta(key, value) VALUES (?1, ?2) "
                     "ON CONFLICT(key) DO UPDATE SET value = excluded.value", &st);
    if (rc) return rc;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    bind_text_or_null(st, 2, value);
    if (sqlite3_step(st) != SQLITE_DONE) rc = dberr(s, "writing a setting");
    sqlite3_finalize(st);
    return rc;
}

/* ------------------------------------------------------------ orgs */

void store_org_free(sp_org *o)
{
    if (!o) return;
    free(o->name);
    free(o->country);
    free(o->region);
    free(o->subregion);
    free(o->created);
    memset(o, 0, sizeof *o);
}

/* Resolves a country given by the caller to the gazetteer's alpha-2 and
 * its M49 region; NULL country means unknown. */
static int org_country(sp_store *s, const char *country, const gz_country **c)
{
    *c = NULL;
    if (!country || !*country) return SP_OK;
    if (!s->cb->gaz)
        return usage(s, SP_EUSAGE, "no gazetteer to look up country '%s'", country);
    *c = gazetteer_country(s->cb->gaz, country, strlen(country));
    if (!*c) return usage(s, SP_EINPUT, "unknown country '%.80s'", country);
    return SP_OK;
}

static const char *nonempty(const char *s)
{
    return s && *s ? s : NULL;
}

int store_org_add(sp_store *s, const char *name, const char *country, long long *id)
{
    const gz_country *c;
    sqlite3_stmt *st = NULL;
    char now[21];
    if (!name || !*name) return usage(s, SP_EUSAGE, "an organisation needs a name%s", NULL);
    int rc = org_country(s, country, &c);
    if (rc) return rc;
    if ((rc = prep(s, "INSERT INTO org(name, country, region, subregion, created) "
                      "VALUES (?1, ?2, ?3, ?4, ?5)", &st)))
        return rc;
    sp_utc_now(now);
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    bind_text_or_null(st, 2, c ? c->alpha2 : NULL);
    bind_text_or_null(st, 3, c ? nonempty(c->region) : NULL);
    bind_text_or_null(st, 4, c ? nonempty(c->subregion) : NULL);
    sqlite3_bind_text(st, 5, now, -1, SQLITE_STATIC);
    int r = sqlite3_step(st);
    if (r == SQLITE_DONE) {
        if (id) *id = sqlite3_last_insert_rowid(s->db);
    } else if (r == SQLITE_CONSTRAINT_UNIQUE) {
        rc = usage(s, SP_EEXIST, "an organisation named '%.200s' already exists", name);
    } else {
        rc = dberr(s, "adding the organisation");
    }
    sqlite3_finalize(st);
    return rc;
}

static void org_from_row(sqlite3_stmt *st, sp_org *o)
{
    o->id = sqlite3_column_int64(st, 0);
    o->name = col_dup(st, 1);
    o->country = col_dup(st, 2);
    o->region = col_dup(st, 3);
    o->subregion = col_dup(st, 4);
    o->created = col_dup(st, 5);
    o->records = 0;
}

int store_org_find(sp_store *s, const char *name, sp_org *out)
{
    sqlite3_stmt *st = NULL;
    memset(out, 0, sizeof *out);
    int rc = prep(s, "SELECT id, name, country, region, subregion, created FROM org "
                     "WHERE name = ?1", &st);   /* the column is COLLATE NOCASE */
    if (rc) return rc;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    int r = sqlite3_step(st);
    if (r == SQLITE_ROW) org_from_row(st, out);
    else if (r == SQLITE_DONE) rc = SP_EOF;
    else rc = dberr(s, "looking up the organisation");
    sqlite3_finalize(st);
    return rc;
}

int store_org_set_country(sp_store *s, long long id, const char *country)
{
    const gz_country *c;
    sqlite3_stmt *st = NULL;
    int own, rc = org_country(s, country, &c);
    if (rc) return rc;
    if ((rc = prep(s, "UPDATE org SET country = ?2, region = ?3, subregion = ?4 WHERE id = ?1", &st)))
        return rc;
    /* the region filter and dimension read org.region: a new generation */
    if ((rc = write_begin(s, &own))) { sqlite3_finalize(st); return rc; }
    sqlite3_bind_int64(st, 1, id);
    bind_text_or_null(st, 2, c ? c->alpha2 : NULL);
    bind_text_or_null(st, 3, c ? nonempty(c->region) : NULL);
    bind_text_or_null(st, 4, c ? nonempty(c->subregion) : NULL);
    if (sqlite3_step(st) != SQLITE_DONE) rc = dberr(s, "updating the organisation");
    else if (sqlite3_changes(s->db) == 0) rc = usage(s, SP_EUSAGE, "no such organisation%s", NULL);
    sqlite3_finalize(st);
    return write_end(s, own, rc);
}

/* Withdrawn submissions' records are left out of every read. */
#define LIVE_RECORD "record.submission_id NOT IN (SELECT id FROM submission WHERE status <> 'stored')"
/* What the aggregates count: live records that are not a duplicate of a
 * person counted through another record (record_dup, store_link.c). */
#define COUNTED_RECORD LIVE_RECORD " AND record.id NOT IN (SELECT record_id FROM record_dup)"

int store_org_list(sp_store *s, sp_org **out, size_t *n)
{
    sqlite3_stmt *st = NULL;
    size_t alloc = 0;
    *out = NULL;
    *n = 0;
    int rc = prep(s, "SELECT id, name, country, region, subregion, created, "
                     "(SELECT count(*) FROM record WHERE record.org_id = org.id AND "
                     LIVE_RECORD ") FROM org ORDER BY name", &st);
    if (rc) return rc;
    int r;
    while ((r = sqlite3_step(st)) == SQLITE_ROW) {
        if (*n == alloc) {
            alloc = alloc ? alloc * 2 : 8;
            *out = sp_xrealloc(*out, alloc * sizeof **out);
        }
        org_from_row(st, &(*out)[*n]);
        (*out)[*n].records = sqlite3_column_int64(st, 6);
        (*n)++;
    }
    if (r != SQLITE_DONE) {
        rc = dberr(s, "listing organisations");
        for (size_t i = 0; i < *n; i++) store_org_free(&(*out)[i]);
        free(*out);
        *out = NULL;
        *n = 0;
    }
    sqlite3_finalize(st);
    return rc;
}

/* ------------------------------------------------------------ submissions */

void store_submission_free(sp_submission *x)
{
    if (!x) return;
    free(x->org_name);
    free(x->created);
    free(x->filename);
    free(x->status);
    memset(x, 0, sizeof *x);
}

int store_submission_find_sha(sp_store *s, long long org_id, const char *sha256, long long *id)
{
    sqlite3_stmt *st = NULL;
    int rc = prep(s, "SELECT id FROM submission WHERE org_id = ?1 AND sha256 = ?2 "
                     "AND status = 'stored' ORDER BY id LIMIT 1", &st);
    if (rc) return rc;
    sqlite3_bind_int64(st, 1, org_id);
    sqlite3_bind_text(st, 2, sha256, -1, SQLITE_STATIC);
    int r = sqlite3_step(st);
    if (r == SQLITE_ROW) { if (id) *id = sqlite3_column_int64(st, 0); }
    else if (r == SQLITE_DONE) rc = SP_EOF;
    else rc = dberr(s, "looking up the submission");
    sqlite3_finalize(st);
    return rc;
}

int store_submission_add(sp_store *s, long long org_id, const char *filename,
                         const char *sha256, int synthetic, long long *id)
{
    sqlite3_stmt *st = NULL;
    char now[21];
    int rc = prep(s, "INSERT INTO submission(org_id, created, filename, sha256, "
                     "codebook_version, synthetic) VALUES (?1, ?2, ?3, ?4, ?5, ?6)", &st);
    if (rc) return rc;
    sp_utc_now(now);
    sqlite3_bind_int64(st, 1, org_id);
    sqlite3_bind_text(st, 2, now, -1, SQLITE_STATIC);
    bind_text_or_null(st, 3, filename);
    bind_text_or_null(st, 4, sha256);
    sqlite3_bind_text(st, 5, s->cb->version, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 6, synthetic ? 1 : 0);
    int r = sqlite3_step(st);
    if (r == SQLITE_DONE) { if (id) *id = sqlite3_last_insert_rowid(s->db); }
    else if (r == SQLITE_CONSTRAINT_FOREIGNKEY) rc = usage(s, SP_EUSAGE, "no such organisation%s", NULL);
    else rc = dberr(s, "adding the submission");
    sqlite3_finalize(st);
    return rc;
}

/* Runs a prepared UPDATE of submission `id` (?1) and finalizes it. */
static int submission_update(sp_store *s, long long id, sqlite3_stmt **pst)
{
    sqlite3_stmt *st = *pst;
    int rc = SP_OK;
    sqlite3_bind_int64(st, 1, id);
    if (sqlite3_step(st) != SQLITE_DONE) rc = dberr(s, "updating the submission");
    else if (sqlite3_changes(s->db) == 0) rc = usage(s, SP_EUSAGE, "no such submission%s", NULL);
    sqlite3_finalize(st);
    *pst = NULL;
    return rc;
}

int store_submission_set_rows(sp_store *s, long long id, long long rows)
{
    static const char sql[] = "UPDATE submission SET rows = ?2 WHERE id = ?1";
    sqlite3_stmt *st = NULL;
    int rc = prep(s, sql, &st);
    if (rc) return rc;
    sqlite3_bind_int64(st, 2, rows);
    return submission_update(s, id, &st);
}

int store_submission_set_status(sp_store *s, long long id, const char *status)
{
    static const char sql[] = "UPDATE submission SET status = ?2 WHERE id = ?1";
    sqlite3_stmt *st = NULL;
    if (!status || (strcmp(status, "stored") != 0 && strcmp(status, "withdrawn") != 0))
        return usage(s, SP_EUSAGE, "unknown submission status '%.40s'", status);
    int own, rc = prep(s, sql, &st);
    if (rc) return rc;
    if ((rc = write_begin(s, &own))) { sqlite3_finalize(st); return rc; }
    sqlite3_bind_text(st, 2, status, -1, SQLITE_STATIC);
    rc = submission_update(s, id, &st);
    /* which records are live changed: so may who is counted once */
    if (!rc) rc = store_i_dup_recompute(s);
    return write_end(s, own, rc);
}

int store_submission_list(sp_store *s, long long org_id, sp_submission **out, size_t *n)
{
    sqlite3_stmt *st = NULL;
    size_t alloc = 0;
    *out = NULL;
    *n = 0;
    int rc = prep(s, "SELECT submission.id, org_id, org.name, submission.created, filename, "
                     "sha256, rows, status, synthetic FROM submission "
                     "JOIN org ON org.id = submission.org_id "
                     "WHERE ?1 = 0 OR org_id = ?1 ORDER BY submission.id", &st);
    if (rc) return rc;
    sqlite3_bind_int64(st, 1, org_id);
    int r;
    while ((r = sqlite3_step(st)) == SQLITE_ROW) {
        if (*n == alloc) {
            alloc = alloc ? alloc * 2 : 8;
            *out = sp_xrealloc(*out, alloc * sizeof **out);
        }
        sp_submission *x = &(*out)[(*n)++];
        memset(x, 0, sizeof *x);
        x->id = sqlite3_column_int64(st, 0);
        x->org_id = sqlite3_column_int64(st, 1);
        x->org_name = col_dup(st, 2);
        x->created = col_dup(st, 3);
        x->filename = col_dup(st, 4);
        const unsigned char *sha = sqlite3_column_text(st, 5);
        snprintf(x->sha256, sizeof x->sha256, "%s", sha ? (const char *)sha : "");
        x->rows = sqlite3_column_int64(st, 6);
        x->status = col_dup(st, 7);
        x->synthetic = sqlite3_column_int(st, 8);
    }
    if (r != SQLITE_DONE) {
        rc = dberr(s, "listing submissions");
        for (size_t i = 0; i < *n; i++) store_submission_free(&(*out)[i]);
        free(*out);
        *out = NULL;
        *n = 0;
    }
    sqlite3_finalize(st);
    return rc;
}

/* ------------------------------------------------------------ records */

/* Binds one cell at parameter p (an age takes p and p+1); missing: NULL.
 * Strings are the record's and outlive the step, so SQLITE_STATIC. */
static void bind_cell(sqlite3_stmt *st, int p, const cb_field *f, const cb_cell *c)
{
    if (!c || !c->text) {
        sqlite3_bind_null(st, p);
        if (f->type == CB_AGE) sqlite3_bind_null(st, p + 1);
        return;
    }
    switch (f->type) {
    case CB_INTEGER: case CB_YEAR:
        sqlite3_bind_int64(st, p, c->i);
        break;
    case CB_DECIMAL:
        sqlite3_bind_double(st, p, c->d);
        break;
    case CB_AGE:
        sqlite3_bind_int(st, p, c->lo);
        sqlite3_bind_int(st, p + 1, c->hi);
        break;
    default:
        sqlite3_bind_text(st, p, c->text, -1, SQLITE_STATIC);
    }
}

static int step_done(sp_store *s, sqlite3_stmt *st, const char *what)
{
    int r = sqlite3_step(st);
    sqlite3_reset(st);
    if (r != SQLITE_DONE) return dberr(s, what);
    return SP_OK;
}

static int record_add_tx(sp_store *s, long long submission_id, long long org_id,
                         const sp_record *r, int synthetic, long long *record_id);

int store_record_add(sp_store *s, long long submission_id, long long org_id,
                     const sp_record *r, int synthetic, long long *record_id)
{
    int own, rc = write_begin(s, &own);
    if (rc) return rc;
    return write_end(s, own, record_add_tx(s, submission_id, org_id, r, synthetic, record_id));
}

/* The record and its multiple values and group rows. */
static int record_add_tx(sp_store *s, long long submission_id, long long org_id,
                         const sp_record *r, int synthetic, long long *record_id)
{
    const sp_codebook *cb = s->cb;
    sqlite3_stmt *st = s->ins_record;
    int rc;
    if (r->cb != cb) return usage(s, SP_EUSAGE, "record made with another codebook%s", NULL);
    sqlite3_bind_int64(st, 1, submission_id);
    sqlite3_bind_int64(st, 2, org_id);
    sqlite3_bind_text(st, 3, cb->version, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 4, synthetic ? 1 : 0);
    for (size_t i = 0; i < cb->nfields; i++)
        if (s->param[i]) bind_cell(st, s->param[i], &cb->fields[i], record_get(r, (int)i));
    if ((rc = step_done(s, st, "storing the record"))) return rc;
    sqlite3_int64 id = sqlite3_last_insert_rowid(s->db);
    if (record_id) *record_id = id;

    for (size_t i = 0; i < cb->nfields; i++) {
        const cb_field *f = &cb->fields[i];
        if (f->multiple && f->type != CB_GROUP) {
            const rec_values *rv = &r->vals[i];
            for (size_t k = 0; k < rv->n; k++) {
                if (!rv->v[k].text) continue;
                sqlite3_bind_int64(s->ins_multi, 1, id);
                sqlite3_bind_text(s->ins_multi, 2, f->name, -1, SQLITE_STATIC);
                sqlite3_bind_text(s->ins_multi, 3, rv->v[k].text, -1, SQLITE_STATIC);
                if ((rc = step_done(s, s->ins_multi, "storing a multiple value"))) return rc;
            }
        } else if (f->type == CB_GROUP) {
            const rec_group *g = &r->groups[i];
            sqlite3_stmt *gs = s->ins_group[i];
            size_t last = 0, seq = 0;
            /* rows with every cell missing are not stored; is_last marks
             * the last stored row */
            for (size_t row = 0; row < g->nrows; row++)
                for (size_t k = 0; k < f->nsub; k++)
                    if (g->cells[row * f->nsub + k].text) { last = row + 1; break; }
            for (size_t row = 0; row < last; row++) {
                const cb_cell *cells = &g->cells[row * f->nsub];
                int any = 0, p = 4;
                for (size_t k = 0; k < f->nsub; k++) any |= cells[k].text != NULL;
                if (!any) continue;
                sqlite3_bind_int64(gs, 1, id);
                sqlite3_bind_int64(gs, 2, (sqlite3_int64)++seq);
                sqlite3_bind_int(gs, 3, row + 1 == last);
                for (size_t k = 0; k < f->nsub; k++) {
                    bind_cell(gs, p, &f->sub[k], &cells[k]);
                    p += f->sub[k].type == CB_AGE ? 2 : 1;
                }
                if ((rc = step_done(s, gs, "storing a group row"))) return rc;
            }
        }
    }
    return SP_OK;
}

int store_record_delete_case(sp_store *s, long long org_id, const char *case_ref,
                             long long *deleted)
{
    if (deleted) *deleted = 0;
    if (!s->del_case) return usage(s, SP_EUSAGE, "the codebook has no case_ref field%s", NULL);
    if (s->bulk) return usage(s, SP_EUSAGE, "cannot delete in a transaction that only adds%s", NULL);
    int own, linked = 0, rc = write_begin(s, &own);
    if (rc) return rc;
    /* a linked record going away changes who is counted once */
    if ((rc = store_i_links_of_case(s, org_id, case_ref, &linked))) return write_end(s, own, rc);
    sqlite3_bind_int64(s->del_case, 1, org_id);
    sqlite3_bind_text(s->del_case, 2, case_ref, -1, SQLITE_STATIC);
    rc = step_done(s, s->del_case, "deleting the case");
    if (!rc && deleted) *deleted = sqlite3_changes64(s->db);
    if (!rc && linked) rc = store_i_dup_recompute(s);
    return write_end(s, own, rc);
}

long long store_record_count(sp_store *s)
{
    sqlite3_stmt *st = NULL;
    long long n = -1;
    if (prep(s, "SELECT count(*) FROM record WHERE " LIVE_RECORD, &st)) return -1;
    if (sqlite3_step(st) == SQLITE_ROW) n = sqlite3_column_int64(st, 0);
    else dberr(s, "counting records");
    sqlite3_finalize(st);
    return n;
}

/* ------------------------------------------------------------ dimensions */

typedef enum { D_COL, D_AGE, D_MULTI, D_GFINAL, D_GANY, D_ORG, D_REGION, D_SYNTH } dkind;

typedef struct dimref {
    dkind kind;
    const cb_field *f, *sub;
    char col[IDENT_MAX + 8];   /* record column or group sub column */
} dimref;

/* Resolves a dimension or filter name:
 *   field, age.lo/age.hi, group.sub (final row), group[].sub (any row),
 *   org, org_region, synthetic ("0"/"1": the record's flag).
 * Returns 0 on success, -1 if unknown. */
static int dim_resolve(const sp_codebook *cb, const char *name, dimref *d)
{
    memset(d, 0, sizeof *d);
    if (!name) return -1;
    if (strcmp(name, "org") == 0) { d->kind = D_ORG; return 0; }
    if (strcmp(name, "org_region") == 0) { d->kind = D_REGION; return 0; }
    if (strcmp(name, "synthetic") == 0) { d->kind = D_SYNTH; return 0; }
    const char *dot = strchr(name, '.');
    char head[IDENT_MAX + 8];
    if (!dot) {
        const cb_field *f = codebook_field(cb, name);
        if (!f || f->type == CB_GROUP) return -1;
        d->f = f;
        if (f->multiple) { d->kind = D_MULTI; return 0; }
        if (f->type == CB_AGE) { d->kind = D_AGE; return 0; }   /* filter "lo-hi" */
        d->kind = D_COL;
        snprintf(d->col, sizeof d->col, "%s", f->name);
        return 0;
    }
    size_t hl = (size_t)(dot - name);
    int any = 0;
    if (hl >= 2 && name[hl - 2] == '[' && name[hl - 1] == ']') { any = 1; hl -= 2; }
    if (hl == 0 || hl > IDENT_MAX) return -1;
    memcpy(head, name, hl);
    head[hl] = '\0';
    const char *tail = dot + 1;
    const cb_field *f = codebook_field(cb, head);
    if (!f) return -1;
    d->f = f;
    if (f->type == CB_AGE && !any && !f->multiple &&
        (strcmp(tail, "lo") == 0 || strcmp(tail, "hi") == 0)) {
        d->kind = D_COL;
        snprintf(d->col, sizeof d->col, "%s_%s", f->name, tail);
        return 0;
    }
    if (f->type != CB_GROUP) return -1;
    const cb_field *u = codebook_subfield(f, tail);
    if (!u || u->type == CB_AGE) return -1;
    d->sub = u;
    d->kind = any ? D_GANY : D_GFINAL;
    snprintf(d->col, sizeof d->col, "%s", u->name);
    return 0;
}

int store_dim_valid(const sp_store *s, const char *dim)
{
    dimref d;
    return s && dim_resolve(s->cb, dim, &d) == 0;
}

/* Parameters collected while SQL text is built, bound in the same order. */
#define MAX_BINDS (SP_MAX_WHERE * 2 + 16)
typedef struct binds {
    struct { const char *t; long long i; int is_int; } v[MAX_BINDS];
    int n;
} binds;

static int bind_add_text(binds *b, const char *t)
{
    if (b->n >= MAX_BINDS) return SP_ELIMIT;
    b->v[b->n].t = t;
    b->v[b->n].is_int = 0;
    b->n++;
    return SP_OK;
}
static int bind_add_int(binds *b, long long i)
{
    if (b->n >= MAX_BINDS) return SP_ELIMIT;
    b->v[b->n].i = i;
    b->v[b->n].is_int = 1;
    b->n++;
    return SP_OK;
}
static void bind_all(sqlite3_stmt *st, const binds *b)
{
    for (int k = 0; k < b->n; k++) {
        if (b->v[k].is_int) sqlite3_bind_int64(st, k + 1, b->v[k].i);
        else if (b->v[k].t) sqlite3_bind_text(st, k + 1, b->v[k].t, -1, SQLITE_STATIC);
        else sqlite3_bind_null(st, k + 1);
    }
}

/* Parses "25", "18-24" or "lo-hi" into two ints. */
static int parse_age(const char *v, long long *lo, long long *hi)
{
    const char *dash = v ? strchr(v, '-') : NULL;
    if (!v) return -1;
    if (!dash) {
        if (sp_parse_int(v, strlen(v), lo)) return -1;
        *hi = *lo;
        return 0;
    }
    if (sp_parse_int(v, (size_t)(dash - v), lo) || sp_parse_int(dash + 1, strlen(dash + 1), hi))
        return -1;
    return 0;
}

/* *yes: some record is not counted (withdrawn, or a linked duplicate). */
static int any_withdrawn(sp_store *s, int *yes)
{
    sqlite3_stmt *st = NULL;
    int rc = prep(s, "SELECT EXISTS (SELECT 1 FROM submission WHERE status <> 'stored') OR "
                     "EXISTS (SELECT 1 FROM record_dup)", &st);
    if (rc) return rc;
    if (sqlite3_step(st) == SQLITE_ROW) *yes = sqlite3_column_int(st, 0);
    else rc = dberr(s, "reading submissions");
    sqlite3_finalize(st);
    return rc;
}

/* Appends " WHERE ..." for filter f (over table `record`) to sql and its
 * values to b. Values are borrowed from f. counted: leave out linked
 * duplicates too (every aggregate); 0: every live record (store_scan). */
static int build_filter(sp_store *s, const sp_filter *f, sp_buf *sql, binds *b, int counted)
{
    int withdrawn = 0, rc;
    const char *and = " WHERE ";
    if ((rc = any_withdrawn(s, &withdrawn))) return rc;
    /* most hubs never withdraw or link anything: skip the test then */
    if (withdrawn) {
        sp_buf_printf(sql, "%s%s", and, counted ? COUNTED_RECORD : LIVE_RECORD);
        and = " AND ";
    }
    if (!f) return SP_OK;
    if ((f->year_from || f->year_to) && !s->has_year)
        return usage(s, SP_EUSAGE, "the codebook has no year_identified field%s", NULL);
    if (f->year_from) {
        sp_buf_printf(sql, "%srecord.year_identified >= ?", and);
        and = " AND ";
        if ((rc = bind_add_int(b, f->year_from))) return rc;
    }
    if (f->year_to) {
        sp_buf_printf(sql, "%srecord.year_identified <= ?", and);
        and = " AND ";
        if ((rc = bind_add_int(b, f->year_to))) return rc;
    }
    if (f->org_region) {
        sp_buf_printf(sql, "%srecord.org_id IN (SELECT id FROM org WHERE region = ?)", and);
        and = " AND ";
        if ((rc = bind_add_text(b, f->org_region))) return rc;
    }
    if (f->org_id) {
        sp_buf_printf(sql, "%srecord.org_id = ?", and);
        and = " AND ";
        if ((rc = bind_add_int(b, f->org_id))) return rc;
    }
    if (f->nwhere > SP_MAX_WHERE) return usage(s, SP_EUSAGE, "too many filters%s", NULL);
    for (size_t i = 0; i < f->nwhere; i++) {
        const sp_where *w = &f->where[i];
        dimref d;
        if (dim_resolve(s->cb, w->field, &d))
            return usage(s, SP_EUSAGE, "unknown filter field '%.80s'", w->field);
        if (!w->value)
            return usage(s, SP_EUSAGE, "filter on '%.80s' has no value", w->field);
        sp_buf_adds(sql, and);
        and = " AND ";
        switch (d.kind) {
        case D_COL:
            sp_buf_printf(sql, "record.%s = ?", d.col);
            rc = bind_add_text(b, w->value);
            break;
        case D_AGE: {
            long long lo, hi;
            if (parse_age(w->value, &lo, &hi))
                return usage(s, SP_EUSAGE, "age filter '%.40s' is not N or LO-HI", w->value);
            sp_buf_printf(sql, "record.%s_lo = ? AND record.%s_hi = ?", d.f->name, d.f->name);
            if ((rc = bind_add_int(b, lo)) == SP_OK) rc = bind_add_int(b, hi);
            break;
        }
        case D_MULTI:
            sp_buf_adds(sql, "EXISTS (SELECT 1 FROM record_multi WHERE record_id = record.id "
                             "AND field = ? AND value = ?)");
            if ((rc = bind_add_text(b, d.f->name)) == SP_OK) rc = bind_add_text(b, w->value);
            break;
        case D_GFINAL: case D_GANY:
            sp_buf_printf(sql, "EXISTS (SELECT 1 FROM g_%s WHERE record_id = record.id "
                               "AND %s = ?)", d.f->name, d.col);
            rc = bind_add_text(b, w->value);
            break;
        case D_ORG:
            sp_buf_adds(sql, "record.org_id IN (SELECT id FROM org WHERE name = ?)");
            rc = bind_add_text(b, w->value);
            break;
        case D_REGION:
            sp_buf_adds(sql, "record.org_id IN (SELECT id FROM org WHERE region = ?)");
            rc = bind_add_text(b, w->value);
            break;
        case D_SYNTH:
            sp_buf_adds(sql, "record.synthetic = ?");
            rc = bind_add_text(b, w->value);
            break;
        }
        if (rc) return usage(s, rc, "too many filter values%s", NULL);
    }
    return SP_OK;
}

static int count_records_sql(sp_store *s, const sp_filter *f, long long *n)
{
    sp_buf sql;
    binds b;
    sqlite3_stmt *st = NULL;
    int rc;
    b.n = 0;
    *n = 0;
    sp_buf_init(&sql, 1 << 16);
    sp_buf_adds(&sql, "SELECT count(*) FROM record");
    if ((rc = build_filter(s, f, &sql, &b, 1))) goto done;
    if ((rc = prep(s, sql.data, &st))) goto done;
    bind_all(st, &b);
    if (sqlite3_step(st) == SQLITE_ROW) *n = sqlite3_column_int64(st, 0);
    else rc = dberr(s, "counting records");
done:
    sqlite3_finalize(st);
    sp_buf_free(&sql);
    return rc;
}

#define MAX_DIMS 4
#define MAX_GROUPS 2000000     /* distinct value combinations kept in memory */

/* One dimension while counting: its column in the main statement, or its
 * own cursor (multi/group) walked in record id order beside it. */
typedef struct dimwalk {
    dimref d;
    int numeric;               /* sort values as numbers */
    int nocase;                /* sort case-insensitively (org names) */
    int maincol;               /* column in the main statement, or -1 */
    sqlite3_stmt *st;          /* cursor, or NULL */
    int row;                   /* cursor has a row */
    const char **vals;         /* this record's values (NULL entry: missing) */
    size_t nvals, alloc;
} dimwalk;

typedef struct cgroup {
    const char *key;           /* encoded values, in the arena */
    size_t klen;
    long long count;
    const dimwalk *w;          /* for the comparison */
    size_t ndims;
} cgroup;

/* Key encoding: per dimension, 0 for missing, or 1 + the value + NUL. */
static const char *key_next(const char *k, const char **val)
{
    if (*k == 0) { *val = NULL; return k + 1; }
    *val = k + 1;
    return k + 1 + strlen(k + 1) + 1;
}

static int cmp_val(const dimwalk *w, const char *a, const char *b)
{
    if (!a || !b) return a ? 1 : b ? -1 : 0;            /* missing first */
    if (w->numeric) {
        double x = strtod(a, NULL), y = strtod(b, NULL);
        if (x != y) return x < y ? -1 : 1;
    }
    if (w->nocase) {
        for (const char *p = a, *q = b;; p++, q++) {
            int x = (*p >= 'A' && *p <= 'Z') ? *p + 32 : (unsigned char)*p;
            int y = (*q >= 'A' && *q <= 'Z') ? *q + 32 : (unsigned char)*q;
            if (x != y) return x < y ? -1 : 1;
            if (!*p) break;
        }
    }
    return strcmp(a, b);
}

static int cmp_group(const void *pa, const void *pb)
{
    const cgroup *a = pa, *b = pb;
    const char *ka = a->key, *kb = b->key;
    for (size_t i = 0; i < a->ndims; i++) {
        const char *va, *vb;
        ka = key_next(ka, &va);
        kb = key_next(kb, &vb);
        int c = cmp_val(&a->w[i], va, vb);
        if (c) return c;
    }
    return 0;
}

/* How the values of a dimension sort: numbers as numbers, org names
 * case-insensitively (both paths share this). */
static void dim_sortflags(dimwalk *x)
{
    const cb_field *sf = x->d.sub ? x->d.sub : x->d.f;
    x->numeric = x->d.kind == D_SYNTH ||
                 (sf && (sf->type == CB_INTEGER || sf->type == CB_YEAR ||
                         sf->type == CB_DECIMAL || sf->type == CB_AGE));
    x->nocase = x->d.kind == D_ORG;
}

static void walk_push(dimwalk *w, const char *v)
{
    if (w->nvals == w->alloc) {
        w->alloc = w->alloc ? w->alloc * 2 : 8;
        w->vals = sp_xrealloc(w->vals, w->alloc * sizeof *w->vals);
    }
    w->vals[w->nvals++] = v;
}

static int walk_step(sp_store *s, dimwalk *w)
{
    int r = sqlite3_step(w->st);
    w->row = r == SQLITE_ROW;
    if (r == SQLITE_ROW || r == SQLITE_DONE) return SP_OK;
    return dberr(s, "counting");
}

/* Counts by walking the records of f once in id order (the main statement)
 * with one cursor per multiple/group dimension over its whole table in
 * primary-key order (a merge join: sequential reads, no per-record seeks),
 * adding each record's combinations of values to a hash map; only the
 * groups are sorted at the end. SQLite's GROUP BY would sort every row and
 * seek into record_multi once per record: several times slower at 1M. */
static int count_sql(sp_store *s, const sp_filter *f, const char *const *dims, size_t ndims,
                     store_count_cb cb, void *ud)
{
    dimwalk w[MAX_DIMS];
    sp_buf sql, key;
    binds b;
    sp_map map;
    sp_arena keys, recvals;
    cgroup *groups = NULL;
    size_t ngroups = 0, galloc = 0;
    sqlite3_stmt *main_st = NULL;
    int rc = SP_OK, need_org = 0, own_tx = 0, ncols = 1;
    if (ndims > MAX_DIMS || ndims == 0)
        return usage(s, SP_EUSAGE, "count by 1 to 4 dimensions%s", NULL);
    memset(w, 0, sizeof w);
    for (size_t i = 0; i < ndims; i++) {
        if (dim_resolve(s->cb, dims[i], &w[i].d) || w[i].d.kind == D_AGE)
            return usage(s, SP_EUSAGE, "unknown dimension '%.80s'", dims[i]);
        need_org |= w[i].d.kind == D_ORG || w[i].d.kind == D_REGION;
    }
    b.n = 0;
    sp_buf_init(&sql, 1 << 17);
    sp_buf_init(&key, 1 << 20);
    sp_map_init(&map);
    sp_arena_init(&keys);
    sp_arena_init(&recvals);
    if (sqlite3_get_autocommit(s->db)) {      /* one snapshot for all cursors */
        if ((rc = exec(s, "BEGIN"))) goto done;
        own_tx = 1;
    }
    sp_buf_adds(&sql, "SELECT record.id");
    for (size_t i = 0; i < ndims; i++) {
        dimwalk *x = &w[i];
        x->maincol = -1;
        dim_sortflags(x);
        switch (x->d.kind) {
        case D_COL: sp_buf_printf(&sql, ", record.%s", x->d.col); x->maincol = ncols++; break;
        case D_SYNTH: sp_buf_adds(&sql, ", record.synthetic"); x->maincol = ncols++; break;
        case D_ORG: sp_buf_adds(&sql, ", o.name"); x->maincol = ncols++; break;
        case D_REGION: sp_buf_adds(&sql, ", o.region"); x->maincol = ncols++; break;
        default: break;
        }
    }
    sp_buf_adds(&sql, need_org ? " FROM record CROSS JOIN org o ON o.id = record.org_id"
                               : " FROM record");
    if ((rc = build_filter(s, f, &sql, &b, 1))) goto done;
    sp_buf_adds(&sql, " ORDER BY record.id");
    if ((rc = prep(s, sql.data, &main_st))) goto done;
    bind_all(main_st, &b);

    for (size_t i = 0; i < ndims; i++) {
        dimwalk *x = &w[i];
        sp_buf_reset(&sql);
        switch (x->d.kind) {
        case D_MULTI:
            sp_buf_adds(&sql, "SELECT record_id, value FROM record_multi WHERE field = ?1 "
                              "ORDER BY record_id");
            break;
        case D_GFINAL:
            sp_buf_printf(&sql, "SELECT record_id, %s FROM g_%s WHERE is_last = 1 "
                                "ORDER BY record_id", x->d.col, x->d.f->name);
            break;
        case D_GANY:
            sp_buf_printf(&sql, "SELECT record_id, %s FROM g_%s ORDER BY record_id",
                          x->d.col, x->d.f->name);
            break;
        default: continue;
        }
        if ((rc = prep(s, sql.data, &x->st))) goto done;
        if (x->d.kind == D_MULTI)
            sqlite3_bind_text(x->st, 1, x->d.f->name, -1, SQLITE_STATIC);
        if ((rc = walk_step(s, x))) goto done;
    }

    int r;
    while ((r = sqlite3_step(main_st)) == SQLITE_ROW) {
        sqlite3_int64 id = sqlite3_column_int64(main_st, 0);
        sp_arena_reset(&recvals);
        for (size_t i = 0; i < ndims; i++) {
            dimwalk *x = &w[i];
            x->nvals = 0;
            if (x->maincol >= 0) {
                const char *t = (const char *)sqlite3_column_text(main_st, x->maincol);
                walk_push(x, t);   /* valid until the main statement steps */
                continue;
            }
            while (x->row && sqlite3_column_int64(x->st, 0) < id)
                if ((rc = walk_step(s, x))) goto done;
            while (x->row && sqlite3_column_int64(x->st, 0) == id) {
                const char *t = (const char *)sqlite3_column_text(x->st, 1);
                int dup = 0;
                if (t) t = sp_arena_strdup(&recvals, t);
                /* "group[].sub" counts a record once per distinct value */
                for (size_t k = 0; k < x->nvals && !dup; k++)
                    dup = (!t && !x->vals[k]) || (t && x->vals[k] && strcmp(t, x->vals[k]) == 0);
                if (!dup) walk_push(x, t);
                if ((rc = walk_step(s, x))) goto done;
            }
            if (x->nvals == 0) walk_push(x, NULL);
        }
        /* every combination of this record's values: an odometer */
        size_t idx[MAX_DIMS] = {0};
        for (;;) {
            sp_buf_reset(&key);
            for (size_t i = 0; i < ndims; i++) {
                const char *v = w[i].vals[idx[i]];
                if (!v) { rc = sp_buf_addc(&key, 0); }
                else if ((rc = sp_buf_addc(&key, 1)) == SP_OK)
                    rc = sp_buf_add(&key, v, strlen(v) + 1);
                if (rc) { rc = usage(s, SP_ELIMIT, "value too long to count by%s", NULL); goto done; }
            }
            int g;
            if (sp_map_get(&map, key.data, key.len, &g)) {
                groups[g].count++;
            } else {
                if (ngroups >= MAX_GROUPS) {
                    rc = usage(s, SP_ELIMIT, "too many distinct values to count by%s", NULL);
                    goto done;
                }
                if (ngroups == galloc) {
                    galloc = galloc ? galloc * 2 : 64;
                    groups = sp_xrealloc(groups, galloc * sizeof *groups);
                }
                char *k = sp_arena_alloc(&keys, key.len ? key.len : 1);
                memcpy(k, key.data, key.len);
                groups[ngroups] = (cgroup){k, key.len, 1, w, ndims};
                sp_map_put(&map, key.data, key.len, (int)ngroups);
                ngroups++;
            }
            size_t i = ndims;
            while (i > 0 && ++idx[i - 1] == w[i - 1].nvals) idx[--i] = 0;
            if (i == 0) break;
        }
    }
    if (r != SQLITE_DONE) { rc = dberr(s, "counting"); goto done; }

    if (ngroups) qsort(groups, ngroups, sizeof *groups, cmp_group);
    for (size_t gi = 0; gi < ngroups; gi++) {
        const char *vals[MAX_DIMS + 1];
        const char *k = groups[gi].key;
        for (size_t i = 0; i < ndims; i++) k = key_next(k, &vals[i]);
        vals[ndims] = NULL;
        if ((rc = cb(vals, groups[gi].count, ud))) goto done;
    }
done:
    for (size_t i = 0; i < ndims; i++) {
        sqlite3_finalize(w[i].st);
        free(w[i].vals);
    }
    sqlite3_finalize(main_st);
    if (own_tx) sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL);
    free(groups);
    sp_map_free(&map);
    sp_arena_free(&keys);
    sp_arena_free(&recvals);
    sp_buf_free(&sql);
    sp_buf_free(&key);
    return rc;
}

/* ============================================================ the cube
 *
 * An immutable in-memory columnar copy of everything store_count and the
 * filters read, built by plain sequential scans and shared by every handle
 * of the same hub in the process (see docs/store.md, "The cube"). Each
 * value is a small integer code into a per-column dictionary of the
 * distinct values (0: missing), so a count is one pass over arrays. */

#define CUBE_THRESHOLD 20000       /* live records; below it SQL is fast enough */
#define CUBE_DENSE_MAX (1u << 20)  /* value combinations counted in a dense array */
#define CUBE_MAX_CODES 0x7fffffffu

typedef struct cdict {
    char **str;                /* [n + 1], str[0] = NULL: the value as SQL reads it */
    long long *inum;           /* numeric column: the value of each code */
    double *dnum;
    unsigned char *isint;      /* 1: an INTEGER value (inum exact) */
    uint32_t n, alloc;
} cdict;

typedef struct ccol {
    int present;               /* the column is in the cube */
    int numeric;               /* INTEGER or REAL column: filters compare numbers */
    uint16_t *c16;             /* the codes: c16 when the dictionary is small */
    uint32_t *c32;
    size_t len, alloc;
    const uint32_t *off;       /* list column: values of record i at off[i]..off[i+1]-1 */
    uint32_t maxlist;          /* longest list of one record */
    cdict d;
    sp_map *map;               /* value -> code while building */
} ccol;

static inline uint32_t ccode(const ccol *c, size_t i)
{
    return c->c16 ? c->c16[i] : c->c32[i];
}

typedef struct u32vec { uint32_t *p; size_t n, alloc; } u32vec;

static void u32_push(u32vec *v, uint32_t x)
{
    if (v->n == v->alloc) {
        v->alloc = v->alloc ? v->alloc * 2 : 1024;
        v->p = sp_xrealloc(v->p, v->alloc * sizeof *v->p);
    }
    v->p[v->n++] = x;
}

typedef struct cgrp {
    int present;
    u32vec off;                /* rows of record i: off[i] .. off[i+1]-1 */
    ccol *sub;                 /* [f->nsub] */
    int irregular;             /* is_last not exactly on the last row: finals from SQL */
} cgrp;

typedef struct cube {
    long long gen;
    unsigned long long serial; /* unique per build in this process */
    size_t n;                  /* live records */
    int refs;
    size_t bytes;
    const sp_codebook *cb;
    ccol *fcol;                /* [nfields * 2]: single field (age: lo, hi) */
    ccol *mcol;                /* [nfields]: multiple field */
    u32vec *moff;              /* [nfields] */
    cgrp *grp;                 /* [nfields] */
    ccol org, region, synth;   /* per record */
    long long *org_id;         /* [org.d.n + 1] */
    sp_arena strings;
} cube;

/* One hub (real path) and codebook in this process. */
typedef struct cube_entry {
    char *path;
    const sp_codebook *cb;
    int handles;
    cube *cur;                 /* newest cube (holds one reference) */
    int building;
    long long builds;
    long long decided_gen;     /* generation the size test was made at */
    int big;                   /* its answer: more than CUBE_THRESHOLD records */
    struct cube_entry *next;
} cube_entry;

static pthread_mutex_t reg_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t reg_cv = PTHREAD_COND_INITIALIZER;
static cube_entry *reg_head;
static unsigned long long reg_serial;

static int field_in_cube(const cb_field *f)
{
    return !f->sensitive && !(f->parent && f->parent->sensitive);
}

static void col_free(ccol *c)
{
    free(c->c16);
    free(c->c32);
    free(c->d.str);
    free(c->d.inum);
    free(c->d.dnum);
    free(c->d.isint);
    if (c->map) { sp_map_free(c->map); free(c->map); }
    memset(c, 0, sizeof *c);
}

static void cube_free(cube *c)
{
    if (!c) return;
    const sp_codebook *cb = c->cb;
    for (size_t i = 0; i < cb->nfields * 2; i++) col_free(&c->fcol[i]);
    for (size_t i = 0; i < cb->nfields; i++) {
        col_free(&c->mcol[i]);
        free(c->moff[i].p);
        if (c->grp[i].sub)
            for (size_t k = 0; k < cb->fields[i].nsub; k++) col_free(&c->grp[i].sub[k]);
        free(c->grp[i].sub);
        free(c->grp[i].off.p);
    }
    free(c->fcol);
    free(c->mcol);
    free(c->moff);
    free(c->grp);
    col_free(&c->org);
    col_free(&c->region);
    col_free(&c->synth);
    free(c->org_id);
    sp_arena_free(&c->strings);
    free(c);
}

static void col_init(ccol *c, int numeric)
{
    memset(c, 0, sizeof *c);
    c->present = 1;
    c->numeric = numeric;
    c->map = sp_xcalloc(1, sizeof *c->map);
    sp_map_init(c->map);
    c->d.alloc = 16;
    c->d.n = 0;
    c->d.str = sp_xcalloc(c->d.alloc, sizeof *c->d.str);
    c->d.inum = sp_xcalloc(c->d.alloc, sizeof *c->d.inum);
    c->d.dnum = sp_xcalloc(c->d.alloc, sizeof *c->d.dnum);
    c->d.isint = sp_xcalloc(c->d.alloc, 1);
}

/* The code of column i of st in c's dictionary, added if new; 0 for NULL.
 * Numbers are keyed by their exact value, text by its bytes. */
static int col_code(cube *cu, ccol *c, sqlite3_stmt *st, int i, uint32_t *code)
{
    int t = sqlite3_column_type(st, i);
    char kb[1 + sizeof(double)];
    const char *key;
    size_t kl;
    long long iv = 0;
    double dv = 0;
    *code = 0;
    if (t == SQLITE_NULL) return SP_OK;
    if (t == SQLITE_INTEGER) {
        iv = sqlite3_column_int64(st, i);
        dv = (double)iv;
        kb[0] = 'i';
        memcpy(kb + 1, &iv, sizeof iv);
        key = kb;
        kl = sizeof kb;
    } else if (t == SQLITE_FLOAT) {
        dv = sqlite3_column_double(st, i);
        kb[0] = 'f';
        memcpy(kb + 1, &dv, sizeof dv);
        key = kb;
        kl = sizeof kb;
    } else {
        key = (const char *)sqlite3_column_text(st, i);
        kl = (size_t)sqlite3_column_bytes(st, i);
        if (!key) return SP_ENOMEM;
    }
    int v;
    if (sp_map_get(c->map, key, kl, &v)) { *code = (uint32_t)v; return SP_OK; }
    if (c->d.n + 1 >= CUBE_MAX_CODES) return SP_ELIMIT;
    uint32_t k = ++c->d.n;
    if (k >= c->d.alloc) {
        c->d.alloc *= 2;
        c->d.str = sp_xrealloc(c->d.str, c->d.alloc * sizeof *c->d.str);
        c->d.inum = sp_xrealloc(c->d.inum, c->d.alloc * sizeof *c->d.inum);
        c->d.dnum = sp_xrealloc(c->d.dnum, c->d.alloc * sizeof *c->d.dnum);
        c->d.isint = sp_xrealloc(c->d.isint, c->d.alloc);
    }
    c->d.inum[k] = iv;
    c->d.dnum[k] = dv;
    c->d.isint[k] = t == SQLITE_INTEGER;
    sp_map_put(c->map, key, kl, (int)k);
    /* the text exactly as the SQL path reads it (numbers rendered by SQLite) */
    const char *txt = (const char *)sqlite3_column_text(st, i);
    c->d.str[k] = sp_arena_strndup(&cu->strings, txt ? txt : "",
                                   (size_t)sqlite3_column_bytes(st, i));
    *code = k;
    return SP_OK;
}

static void col_push(ccol *c, uint32_t code)
{
    if (c->len == c->alloc) {
        c->alloc = c->alloc ? c->alloc * 2 : 1024;
        c->c32 = sp_xrealloc(c->c32, c->alloc * sizeof *c->c32);
    }
    c->c32[c->len++] = code;
}

/* After the build: codes shrink to 16 bits where they fit; the build map
 * goes; returns the bytes the column keeps. */
static size_t col_seal(ccol *c)
{
    size_t bytes = 0;
    if (!c->present) return 0;
    if (c->map) { sp_map_free(c->map); free(c->map); c->map = NULL; }
    if (c->d.n < 0xffff) {
        c->c16 = sp_xmalloc((c->len ? c->len : 1) * sizeof *c->c16);
        for (size_t i = 0; i < c->len; i++) c->c16[i] = (uint16_t)c->c32[i];
        free(c->c32);
        c->c32 = NULL;
        bytes += c->len * 2;
    } else {
        bytes += c->len * 4;
    }
    bytes += (size_t)(c->d.n + 1) * (sizeof(char *) + 2 * sizeof(double) + 1);
    for (uint32_t k = 1; k <= c->d.n; k++) bytes += strlen(c->d.str[k]) + 1;
    return bytes;
}

static int numeric_type(const cb_field *f)
{
    return f->type == CB_INTEGER || f->type == CB_YEAR || f->type == CB_AGE ||
           f->type == CB_DECIMAL;
}

/* Builds a cube of the live records by sequential scans in record id order
 * (the main statement, record_multi and each g_* table walked in step),
 * in one read transaction so the generation and the data agree. */
static int cube_build(sp_store *s, cube **out)
{
    const sp_codebook *cb = s->cb;
    cube *c = sp_xcalloc(1, sizeof *c);
    sqlite3_stmt *main_st = NULL, *org_st = NULL, *multi_st = NULL;
    sqlite3_stmt **gst = sp_xcalloc(cb->nfields, sizeof *gst);
    int *growok = sp_xcalloc(cb->nfields, sizeof *growok);
    sp_buf sql;
    int rc, own_tx = 0, any_multi = 0, r;
    char nm[2][IDENT_MAX + 8];
    *out = NULL;
    c->cb = cb;
    sp_arena_init(&c->strings);
    c->fcol = sp_xcalloc(cb->nfields * 2, sizeof *c->fcol);
    c->mcol = sp_xcalloc(cb->nfields, sizeof *c->mcol);
    c->moff = sp_xcalloc(cb->nfields, sizeof *c->moff);
    c->grp = sp_xcalloc(cb->nfields, sizeof *c->grp);
    sp_buf_init(&sql, 1 << 18);
    if ((rc = exec(s, "BEGIN"))) goto done;
    own_tx = 1;
    if ((rc = store_generation(s, &c->gen))) goto done;

    /* organisations: code k is the k-th org by id */
    col_init(&c->org, 0);
    col_init(&c->region, 0);
    col_init(&c->synth, 1);
    size_t oalloc = 16;
    c->org_id = sp_xcalloc(oalloc, sizeof *c->org_id);
    uint32_t *oreg = sp_xcalloc(oalloc, sizeof *oreg);
    if ((rc = prep(s, "SELECT id, name, region FROM org ORDER BY id", &org_st))) { free(oreg); goto done; }
    while ((r = sqlite3_step(org_st)) == SQLITE_ROW) {
        uint32_t k, rg;
        if ((rc = col_code(c, &c->org, org_st, 1, &k)) ||
            (rc = col_code(c, &c->region, org_st, 2, &rg)))
            break;
        while (k >= oalloc) {
            oalloc *= 2;
            c->org_id = sp_xrealloc(c->org_id, oalloc * sizeof *c->org_id);
            oreg = sp_xrealloc(oreg, oalloc * sizeof *oreg);
        }
        c->org_id[k] = sqlite3_column_int64(org_st, 0);
        oreg[k] = rg;
    }
    if (!rc && r != SQLITE_DONE) rc = dberr(s, "reading organisations");
    /* names are unique (NOCASE), so codes are 1..n in id order */
    if (!rc && c->org.d.n == 0) c->org_id[0] = 0;
    if (rc) { free(oreg); goto done; }

    sp_buf_adds(&sql, "SELECT record.id, record.org_id, record.synthetic");
    for (size_t i = 0; i < cb->nfields; i++) {
        const cb_field *fd = &cb->fields[i];
        if (fd->multiple && fd->type != CB_GROUP && field_in_cube(fd)) {
            col_init(&c->mcol[i], numeric_type(fd));
            any_multi = 1;
        }
        if (!is_single(fd) || !field_in_cube(fd)) continue;
        int nc = col_names(fd, nm);
        for (int k = 0; k < nc; k++) {
            sp_buf_printf(&sql, ", record.%s", nm[k]);
            col_init(&c->fcol[i * 2 + (size_t)k], numeric_type(fd));
        }
    }
    sp_buf_adds(&sql, " FROM record");
    int withdrawn = 0;
    if ((rc = any_withdrawn(s, &withdrawn))) { free(oreg); goto done; }
    if (withdrawn) sp_buf_adds(&sql, " WHERE " COUNTED_RECORD);
    sp_buf_adds(&sql, " ORDER BY record.id");
    if ((rc = prep(s, sql.data, &main_st))) { free(oreg); goto done; }
    if (any_multi &&
        (rc = prep(s, "SELECT record_id, field, value FROM record_multi ORDER BY record_id",
                   &multi_st))) { free(oreg); goto done; }
    for (size_t i = 0; i < cb->nfields; i++) {
        const cb_field *fd = &cb->fields[i];
        if (fd->type != CB_GROUP || !field_in_cube(fd)) continue;
        cgrp *g = &c->grp[i];
        g->sub = sp_xcalloc(fd->nsub, sizeof *g->sub);
        sp_buf_reset(&sql);
        sp_buf_adds(&sql, "SELECT record_id, is_last");
        int any = 0;
        for (size_t k = 0; k < fd->nsub; k++) {
            const cb_field *u = &fd->sub[k];
            if (!field_in_cube(u) || u->type == CB_AGE) continue;
            sp_buf_printf(&sql, ", %s", u->name);
            col_init(&g->sub[k], numeric_type(u));
            any = 1;
        }
        if (!any) continue;
        g->present = 1;
        sp_buf_printf(&sql, " FROM g_%s ORDER BY record_id, seq", fd->name);
        if ((rc = prep(s, sql.data, &gst[i]))) { free(oreg); goto done; }
        growok[i] = sqlite3_step(gst[i]) == SQLITE_ROW;
        u32_push(&g->off, 0);
    }
    int mrow = multi_st ? sqlite3_step(multi_st) == SQLITE_ROW : 0;
    for (size_t i = 0; i < cb->nfields; i++) if (c->mcol[i].present) u32_push(&c->moff[i], 0);

    while ((r = sqlite3_step(main_st)) == SQLITE_ROW) {
        sqlite3_int64 id = sqlite3_column_int64(main_st, 0);
        long long oid = sqlite3_column_int64(main_st, 1);
        uint32_t k, lo = 1, hi = c->org.d.n, ok = 0;
        while (lo <= hi) {          /* org code by id (codes are in id order) */
            uint32_t mid = lo + (hi - lo) / 2;
            if (c->org_id[mid] == oid) { ok = mid; break; }
            if (c->org_id[mid] < oid) lo = mid + 1; else hi = mid - 1;
        }
        if (!ok) { rc = usage(s, SP_EDB, "a record names an organisation that does not exist%s", NULL); break; }
        col_push(&c->org, ok);
        col_push(&c->region, oreg[ok]);
        if ((rc = col_code(c, &c->synth, main_st, 2, &k))) break;
        col_push(&c->synth, k);
        int ci = 3;
        for (size_t i = 0; i < cb->nfields * 2 && !rc; i++) {
            if (!c->fcol[i].present) continue;
            if ((rc = col_code(c, &c->fcol[i], main_st, ci++, &k))) break;
            col_push(&c->fcol[i], k);
        }
        if (rc) break;
        /* multiple values: rows of records left out are skipped */
        while (mrow && sqlite3_column_int64(multi_st, 0) < id)
            mrow = sqlite3_step(multi_st) == SQLITE_ROW;
        while (mrow && sqlite3_column_int64(multi_st, 0) == id) {
            const char *fname = (const char *)sqlite3_column_text(multi_st, 1);
            const cb_field *fd = fname ? codebook_field(cb, fname) : NULL;
            if (fd && c->mcol[fd->index].present) {
                if ((rc = col_code(c, &c->mcol[fd->index], multi_st, 2, &k))) break;
                col_push(&c->mcol[fd->index], k);
            }
            mrow = sqlite3_step(multi_st) == SQLITE_ROW;
        }
        if (rc) break;
        for (size_t i = 0; i < cb->nfields; i++) {
            ccol *m = &c->mcol[i];
            if (!m->present) continue;
            uint32_t prev = c->moff[i].p[c->moff[i].n - 1];
            if (m->len >= UINT32_MAX) { rc = SP_ELIMIT; break; }
            if (m->len - prev > m->maxlist) m->maxlist = (uint32_t)(m->len - prev);
            u32_push(&c->moff[i], (uint32_t)m->len);
        }
        for (size_t i = 0; i < cb->nfields && !rc; i++) {
            cgrp *g = &c->grp[i];
            if (!g->present) continue;
            const cb_field *fd = &cb->fields[i];
            sqlite3_stmt *gs = gst[i];
            size_t rows = 0;
            int lastflag = 0, nlast = 0;
            while (growok[i] && sqlite3_column_int64(gs, 0) < id)
                growok[i] = sqlite3_step(gs) == SQLITE_ROW;
            while (growok[i] && sqlite3_column_int64(gs, 0) == id) {
                lastflag = sqlite3_column_int(gs, 1);
                nlast += lastflag != 0;
                int gc = 2;
                for (size_t u = 0; u < fd->nsub; u++) {
                    if (!g->sub[u].present) continue;
                    if ((rc = col_code(c, &g->sub[u], gs, gc++, &k))) break;
                    col_push(&g->sub[u], k);
                }
                if (rc) break;
                rows++;
                growok[i] = sqlite3_step(gs) == SQLITE_ROW;
            }
            if (rows && (!lastflag || nlast != 1)) g->irregular = 1;
            if (rows > UINT32_MAX / 2 || g->off.p[g->off.n - 1] + rows >= UINT32_MAX) { rc = SP_ELIMIT; break; }
            uint32_t end = g->off.p[g->off.n - 1] + (uint32_t)rows;
            for (size_t u = 0; u < fd->nsub; u++)
                if (g->sub[u].present && rows > g->sub[u].maxlist) g->sub[u].maxlist = (uint32_t)rows;
            u32_push(&g->off, end);
        }
        if (rc) break;
        c->n++;
    }
    if (!rc && r != SQLITE_DONE) rc = dberr(s, "reading records for the cube");
    free(oreg);
    if (rc) goto done;

    /* seal: 16-bit codes where they fit, offsets borrowed by the columns */
    c->bytes = sizeof *c + col_seal(&c->org) + col_seal(&c->region) + col_seal(&c->synth) +
               (size_t)(c->org.d.n + 1) * sizeof *c->org_id;
    for (size_t i = 0; i < cb->nfields * 2; i++) c->bytes += col_seal(&c->fcol[i]);
    for (size_t i = 0; i < cb->nfields; i++) {
        if (c->mcol[i].present) {
            c->bytes += col_seal(&c->mcol[i]) + c->moff[i].n * 4;
            c->mcol[i].off = c->moff[i].p;
        }
        cgrp *g = &c->grp[i];
        if (!g->present) continue;
        c->bytes += g->off.n * 4;
        for (size_t u = 0; u < cb->fields[i].nsub; u++) {
            c->bytes += col_seal(&g->sub[u]);
            g->sub[u].off = g->off.p;
        }
    }
done:
    sqlite3_finalize(main_st);
    sqlite3_finalize(org_st);
    sqlite3_finalize(multi_st);
    for (size_t i = 0; i < cb->nfields; i++) sqlite3_finalize(gst[i]);
    free(gst);
    free(growok);
    if (own_tx) sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL);
    sp_buf_free(&sql);
    if (rc) { cube_free(c); return rc; }
    *out = c;
    return SP_OK;
}

/* ---- the registry: one cube per hub file and codebook in the process */

static void cube_attach(sp_store *s, const char *path)
{
    char *rp = realpath(path, NULL);
    if (!rp) return;                 /* no file (":memory:"): SQL only */
    pthread_mutex_lock(&reg_mu);
    cube_entry *e = reg_head;
    while (e && !(e->cb == s->cb && strcmp(e->path, rp) == 0)) e = e->next;
    if (!e) {
        e = sp_xcalloc(1, sizeof *e);
        e->path = rp;
        rp = NULL;
        e->cb = s->cb;
        e->decided_gen = -1;
        e->next = reg_head;
        reg_head = e;
    }
    e->handles++;
    s->entry = e;
    pthread_mutex_unlock(&reg_mu);
    free(rp);
}

/* With reg_mu held. */
static void cube_unref_locked(cube *c)
{
    if (c && --c->refs == 0) cube_free(c);
}

static void cube_release(cube *c)
{
    pthread_mutex_lock(&reg_mu);
    cube_unref_locked(c);
    pthread_mutex_unlock(&reg_mu);
}

static void cube_detach(sp_store *s)
{
    cube_entry *e = s->entry;
    if (!e) return;
    s->entry = NULL;
    pthread_mutex_lock(&reg_mu);
    if (--e->handles == 0) {
        cube_entry **pp = &reg_head;
        while (*pp != e) pp = &(*pp)->next;
        *pp = e->next;
        cube_unref_locked(e->cur);
        free(e->path);
        free(e);
    }
    pthread_mutex_unlock(&reg_mu);
}

/* The cube to answer from (a reference the caller releases), or NULL when
 * SQL answers: in a write transaction (the caller may count its own
 * uncommitted records), below the size threshold, forced off, or when a
 * build failed. The first caller after a change rebuilds; others wait for
 * that build instead of making their own. */
static cube *cube_for(sp_store *s)
{
    cube_entry *e = s->entry;
    long long gen;
    if (!e || s->cube_mode == 0 || !sqlite3_get_autocommit(s->db)) return NULL;
    if (store_generation(s, &gen)) return NULL;
    if (s->cube_mode < 0) {
        pthread_mutex_lock(&reg_mu);
        int known = e->decided_gen == gen, big = e->big;
        pthread_mutex_unlock(&reg_mu);
        if (!known) {
            long long n = store_record_count(s);
            if (n < 0) return NULL;
            big = n > CUBE_THRESHOLD;
            pthread_mutex_lock(&reg_mu);
            e->decided_gen = gen;
            e->big = big;
            pthread_mutex_unlock(&reg_mu);
        }
        if (!big) return NULL;
    }
    cube *c = NULL;
    pthread_mutex_lock(&reg_mu);
    for (;;) {
        if (e->cur && e->cur->gen >= gen) { c = e->cur; c->refs++; break; }
        if (e->building) { pthread_cond_wait(&reg_cv, &reg_mu); continue; }
        e->building = 1;
        pthread_mutex_unlock(&reg_mu);
        cube *nc = NULL;
        int rc = cube_build(s, &nc);
        pthread_mutex_lock(&reg_mu);
        e->building = 0;
        if (rc == SP_OK) {
            cube_unref_locked(e->cur);
            nc->refs = 1;
            nc->serial = ++reg_serial;
            e->cur = nc;
            e->builds++;
            c = nc;
            c->refs++;
        }
        pthread_cond_broadcast(&reg_cv);
        break;
    }
    pthread_mutex_unlock(&reg_mu);
    return c;
}

void store_set_cube_mode(sp_store *s, int mode)
{
    s->cube_mode = mode < 0 ? -1 : mode ? 1 : 0;
}

int store_cube_info(sp_store *s, store_cube_stats *out)
{
    memset(out, 0, sizeof *out);
    if (!s->entry) return SP_OK;
    pthread_mutex_lock(&reg_mu);
    out->builds = s->entry->builds;
    out->handles = s->entry->handles;
    if (s->entry->cur) {
        out->generation = s->entry->cur->gen;
        out->records = (long long)s->entry->cur->n;
        out->bytes = s->entry->cur->bytes;
    }
    pthread_mutex_unlock(&reg_mu);
    return SP_OK;
}

/* ---- answering from the cube */

/* A filter value as SQLite compares it with a number column: a plain
 * integer or decimal (1 int, 2 real); 0 for any other text, which the SQL
 * path answers (its affinity rules are not worth copying here). */
static int plain_number(const char *v, long long *iv, double *dv)
{
    const char *p = v;
    size_t digits = 0, frac = 0;
    if (*p == '-') p++;
    for (; *p >= '0' && *p <= '9'; p++) digits++;
    if (digits == 0 || digits > 18) return 0;
    if (*p == '.') {
        for (p++; *p >= '0' && *p <= '9'; p++) frac++;
        if (frac == 0 || frac > 15 || digits > 15 || *p) return 0;
        *dv = strtod(v, NULL);
        return 2;
    }
    if (*p) return 0;
    *iv = strtoll(v, NULL, 10);
    *dv = (double)*iv;
    return 1;
}

typedef struct cpred {
    const ccol *col;
    unsigned char *mask;       /* [d.n + 1]: codes that pass */
    int list;                  /* any value of the record's list passes */
} cpred;

/* Marks in p the codes of col equal to value v as the SQL filter compares
 * them; returns 0, or -1 when the SQL path must answer. */
static int pred_eq(cpred *p, const ccol *col, int list, const char *v, int nocase)
{
    long long iv = 0;
    double dv = 0;
    int num = 0;
    if (!col->present || !v) return -1;
    if (col->numeric && (num = plain_number(v, &iv, &dv)) == 0) return -1;
    p->col = col;
    p->list = list;
    p->mask = sp_xcalloc(col->d.n + 1, 1);
    for (uint32_t k = 1; k <= col->d.n; k++) {
        if (col->numeric) {
            if (num == 1 && col->d.isint[k]) p->mask[k] = col->d.inum[k] == iv;
            else p->mask[k] = col->d.dnum[k] == dv;
        } else if (nocase) {
            p->mask[k] = sqlite3_stricmp(col->d.str[k], v) == 0;
        } else {
            p->mask[k] = strcmp(col->d.str[k], v) == 0;
        }
    }
    return 0;
}

#define MAX_PREDS (SP_MAX_WHERE * 2 + 4)

/* The filter as predicates over cube columns; -1: the SQL path answers
 * (a field outside the cube, an odd value, or an error SQL reports). */
static int cube_preds(sp_store *s, const cube *c, const sp_filter *f, cpred *p, size_t *np)
{
    *np = 0;
    if (!f) return 0;
    if (f->nwhere > SP_MAX_WHERE) return -1;
    if (f->year_from || f->year_to) {
        const cb_field *y = codebook_field(s->cb, "year_identified");
        if (!s->has_year || !y || !is_single(y)) return -1;
        const ccol *col = &c->fcol[y->index * 2];
        if (!col->present || !col->numeric) return -1;
        p[*np].col = col;
        p[*np].list = 0;
        p[*np].mask = sp_xcalloc(col->d.n + 1, 1);
        for (uint32_t k = 1; k <= col->d.n; k++) {
            double x = col->d.isint[k] ? (double)col->d.inum[k] : col->d.dnum[k];
            p[*np].mask[k] = (!f->year_from || x >= f->year_from) && (!f->year_to || x <= f->year_to);
        }
        (*np)++;
    }
    if (f->org_region) {
        if (pred_eq(&p[*np], &c->region, 0, f->org_region, 0)) return -1;
        (*np)++;
    }
    if (f->org_id) {
        p[*np].col = &c->org;
        p[*np].list = 0;
        p[*np].mask = sp_xcalloc(c->org.d.n + 1, 1);
        for (uint32_t k = 1; k <= c->org.d.n; k++) p[*np].mask[k] = c->org_id[k] == f->org_id;
        (*np)++;
    }
    for (size_t i = 0; i < f->nwhere; i++) {
        const sp_where *w = &f->where[i];
        dimref d;
        if (dim_resolve(s->cb, w->field, &d) || !w->value) return -1;
        switch (d.kind) {
        case D_COL: {
            int age_hi = d.f->type == CB_AGE && strcmp(d.col + strlen(d.col) - 3, "_hi") == 0;
            if (pred_eq(&p[*np], &c->fcol[d.f->index * 2 + age_hi], 0, w->value, 0)) return -1;
            break;
        }
        case D_AGE: {
            long long lo, hi;
            char b[32];
            if (parse_age(w->value, &lo, &hi)) return -1;
            snprintf(b, sizeof b, "%lld", lo);
            if (pred_eq(&p[*np], &c->fcol[d.f->index * 2], 0, b, 0)) return -1;
            (*np)++;
            snprintf(b, sizeof b, "%lld", hi);
            if (pred_eq(&p[*np], &c->fcol[d.f->index * 2 + 1], 0, b, 0)) return -1;
            break;
        }
        case D_MULTI:
            if (pred_eq(&p[*np], &c->mcol[d.f->index], 1, w->value, 0)) return -1;
            break;
        case D_GFINAL: case D_GANY:  /* SQL: any row of the group */
            if (!c->grp[d.f->index].present ||
                pred_eq(&p[*np], &c->grp[d.f->index].sub[d.sub->index], 1, w->value, 0))
                return -1;
            break;
        case D_ORG:
            if (pred_eq(&p[*np], &c->org, 0, w->value, 1)) return -1;
            break;
        case D_REGION:
            if (pred_eq(&p[*np], &c->region, 0, w->value, 0)) return -1;
            break;
        case D_SYNTH:
            if (pred_eq(&p[*np], &c->synth, 0, w->value, 0)) return -1;
            break;
        }
        (*np)++;
    }
    return 0;
}

/* The filter as bytes, to recognise it again. */
static void filter_key(const sp_filter *f, sp_buf *b)
{
    sp_buf_reset(b);
    if (!f) { sp_buf_adds(b, "-"); return; }
    sp_buf_printf(b, "%d|%d|%lld|", f->year_from, f->year_to, f->org_id);
    const char *parts[2 * SP_MAX_WHERE + 1];
    size_t np = 0;
    parts[np++] = f->org_region;
    for (size_t i = 0; i < f->nwhere && i < SP_MAX_WHERE; i++) {
        parts[np++] = f->where[i].field;
        parts[np++] = f->where[i].value;
    }
    for (size_t i = 0; i < np; i++) {
        if (!parts[i]) sp_buf_adds(b, "N");
        else sp_buf_printf(b, "%zu:%s", strlen(parts[i]), parts[i]);
    }
}

/* Selects the records of f into s->sel (NULL: all), reusing the last
 * selection when the cube and filter are the same (a dashboard asks for
 * many tables under one filter). -1: the SQL path answers. */
static int cube_select(sp_store *s, const cube *c, const sp_filter *f)
{
    cpred p[MAX_PREDS];
    size_t np = 0;
    sp_buf key;
    sp_buf_init(&key, 1 << 16);
    filter_key(f, &key);
    if (s->sel_serial == c->serial && key.data && s->sel_key.data &&
        strcmp(key.data, s->sel_key.data) == 0) {
        sp_buf_free(&key);
        return 0;
    }
    memset(p, 0, sizeof p);
    int rc = cube_preds(s, c, f, p, &np);
    if (rc == 0) {
        free(s->sel);
        s->sel = NULL;
        s->nsel = c->n;
        if (np) {
            s->sel = sp_xmalloc((c->n ? c->n : 1) * sizeof *s->sel);
            s->nsel = 0;
            for (size_t i = 0; i < c->n; i++) {
                size_t k = 0;
                for (; k < np; k++) {
                    const cpred *q = &p[k];
                    if (!q->list) {
                        if (!q->mask[ccode(q->col, i)]) break;
                    } else {
                        uint32_t a = q->col->off[i], e = q->col->off[i + 1], hit = 0;
                        for (; a < e && !hit; a++) hit = q->mask[ccode(q->col, a)];
                        if (!hit) break;
                    }
                }
                if (k == np) s->sel[s->nsel++] = (uint32_t)i;
            }
        }
        s->sel_serial = c->serial;
        sp_buf_reset(&s->sel_key);
        if (sp_buf_adds(&s->sel_key, key.data) != SP_OK) s->sel_serial = 0;
    }
    for (size_t k = 0; k < MAX_PREDS; k++) free(p[k].mask);
    sp_buf_free(&key);
    return rc;
}

enum { Q_REC, Q_FINAL, Q_LIST, Q_LISTU };
typedef struct qdim {
    int mode;                  /* one code, last row, list, list of distinct */
    const ccol *col;
    uint64_t radix, stride;
    uint32_t *buf;             /* this record's codes */
    size_t nbuf;
} qdim;

/* u64 -> count, open addressing (key + 1 stored; 0 is empty). */
typedef struct cmap { uint64_t *k; uint32_t *v; size_t n, cap; } cmap;

static void cmap_add(cmap *m, uint64_t key)
{
    if ((m->n + 1) * 2 > m->cap) {
        size_t nc = m->cap ? m->cap * 2 : 1024;
        uint64_t *nk = sp_xcalloc(nc, sizeof *nk);
        uint32_t *nv = sp_xcalloc(nc, sizeof *nv);
        for (size_t i = 0; i < m->cap; i++) {
            if (!m->k[i]) continue;
            size_t j = (size_t)(m->k[i] * 0x9E3779B97F4A7C15ull >> 20) & (nc - 1);
            while (nk[j]) j = (j + 1) & (nc - 1);
            nk[j] = m->k[i];
            nv[j] = m->v[i];
        }
        free(m->k);
        free(m->v);
        m->k = nk;
        m->v = nv;
        m->cap = nc;
    }
    uint64_t kk = key + 1;
    size_t j = (size_t)(kk * 0x9E3779B97F4A7C15ull >> 20) & (m->cap - 1);
    while (m->k[j] && m->k[j] != kk) j = (j + 1) & (m->cap - 1);
    if (!m->k[j]) { m->k[j] = kk; m->n++; }
    m->v[j]++;
}

/* store_count from the cube. *handled 0: the SQL path answers instead
 * (a dimension or filter outside the cube); the result is the same. */
static int cube_count(sp_store *s, const cube *c, const sp_filter *f, const char *const *dims,
                      size_t ndims, store_count_cb cb, void *ud, int *handled)
{
    qdim q[MAX_DIMS];
    dimwalk w[MAX_DIMS];
    uint32_t *dense = NULL;
    cmap hm = {0};
    cgroup *groups = NULL;
    size_t ngroups = 0;
    sp_map map;
    sp_arena keys;
    sp_buf key;
    int rc = SP_OK, has_list = 0;
    uint64_t total = 1;
    *handled = 0;
    if (ndims == 0 || ndims > MAX_DIMS) return SP_OK;
    memset(q, 0, sizeof q);
    memset(w, 0, sizeof w);
    for (size_t i = 0; i < ndims; i++) {
        dimref *d = &w[i].d;
        if (dim_resolve(s->cb, dims[i], d)) return SP_OK;
        dim_sortflags(&w[i]);
        q[i].mode = Q_REC;
        switch (d->kind) {
        case D_COL: {
            int age_hi = d->f->type == CB_AGE && strcmp(d->col + strlen(d->col) - 3, "_hi") == 0;
            q[i].col = &c->fcol[d->f->index * 2 + age_hi];
            break;
        }
        case D_MULTI: q[i].col = &c->mcol[d->f->index]; q[i].mode = Q_LIST; break;
        case D_GFINAL: case D_GANY:
            if (!c->grp[d->f->index].present) return SP_OK;
            if (d->kind == D_GFINAL && c->grp[d->f->index].irregular) return SP_OK;
            q[i].col = &c->grp[d->f->index].sub[d->sub->index];
            q[i].mode = d->kind == D_GFINAL ? Q_FINAL : Q_LISTU;
            break;
        case D_ORG: q[i].col = &c->org; break;
        case D_REGION: q[i].col = &c->region; break;
        case D_SYNTH: q[i].col = &c->synth; break;
        default: return SP_OK;
        }
        if (!q[i].col->present) return SP_OK;
        q[i].radix = (uint64_t)q[i].col->d.n + 1;
        has_list |= q[i].mode == Q_LIST || q[i].mode == Q_LISTU;
    }
    /* mixed-radix index of a combination; the last dimension varies fastest */
    for (size_t i = ndims; i-- > 0;) {
        q[i].stride = total;
        if (total > (UINT64_MAX / 4) / q[i].radix) return SP_OK;
        total *= q[i].radix;
    }
    if (cube_select(s, c, f)) return SP_OK;
    *handled = 1;
    const uint32_t *sel = s->sel;
    size_t nsel = s->nsel;
    if (total <= CUBE_DENSE_MAX) dense = sp_xcalloc((size_t)total, sizeof *dense);
    for (size_t i = 0; i < ndims; i++)
        q[i].buf = sp_xmalloc(((size_t)q[i].col->maxlist + 1) * sizeof *q[i].buf);

    if (!has_list && dense) {
        /* the common case: one code per record and dimension */
        for (size_t t = 0; t < nsel; t++) {
            size_t r = sel ? sel[t] : t;
            uint64_t idx = 0;
            for (size_t i = 0; i < ndims; i++) {
                const ccol *col = q[i].col;
                uint32_t code;
                if (q[i].mode == Q_REC) code = ccode(col, r);
                else code = col->off[r + 1] > col->off[r] ? ccode(col, col->off[r + 1] - 1) : 0;
                idx += code * q[i].stride;
            }
            dense[idx]++;
        }
    } else {
        for (size_t t = 0; t < nsel; t++) {
            size_t r = sel ? sel[t] : t;
            for (size_t i = 0; i < ndims; i++) {
                qdim *x = &q[i];
                const ccol *col = x->col;
                x->nbuf = 0;
                switch (x->mode) {
                case Q_REC: x->buf[x->nbuf++] = ccode(col, r); break;
                case Q_FINAL:
                    x->buf[x->nbuf++] = col->off[r + 1] > col->off[r] ?
                                        ccode(col, col->off[r + 1] - 1) : 0;
                    break;
                default:
                    for (uint32_t a = col->off[r]; a < col->off[r + 1]; a++) {
                        uint32_t v = ccode(col, a);
                        int dup = 0;
                        if (x->mode == Q_LISTU)   /* once per distinct value */
                            for (size_t k = 0; k < x->nbuf && !dup; k++) dup = x->buf[k] == v;
                        if (!dup) x->buf[x->nbuf++] = v;
                    }
                    if (x->nbuf == 0) x->buf[x->nbuf++] = 0;
                }
            }
            size_t idx[MAX_DIMS] = {0};
            for (;;) {
                uint64_t k = 0;
                for (size_t i = 0; i < ndims; i++) k += q[i].buf[idx[i]] * q[i].stride;
                if (dense) dense[k]++;
                else cmap_add(&hm, k);
                size_t i = ndims;
                while (i > 0 && ++idx[i - 1] == q[i - 1].nbuf) idx[--i] = 0;
                if (i == 0) break;
            }
        }
    }

    /* the groups, keyed by their text as the SQL path keys them, then
     * sorted by the same comparison */
    sp_map_init(&map);
    sp_arena_init(&keys);
    sp_buf_init(&key, 1 << 20);
    size_t galloc = 0, ncells = dense ? (size_t)total : hm.cap;
    for (size_t j = 0; j < ncells && rc == SP_OK; j++) {
        uint64_t cell;
        long long n;
        if (dense) { if (!dense[j]) continue; cell = j; n = dense[j]; }
        else { if (!hm.k[j]) continue; cell = hm.k[j] - 1; n = hm.v[j]; }
        sp_buf_reset(&key);
        for (size_t i = 0; i < ndims && rc == SP_OK; i++) {
            uint32_t code = (uint32_t)((cell / q[i].stride) % q[i].radix);
            const char *v = q[i].col->d.str[code];
            if (!v) rc = sp_buf_addc(&key, 0);
            else if ((rc = sp_buf_addc(&key, 1)) == SP_OK) rc = sp_buf_add(&key, v, strlen(v) + 1);
        }
        if (rc) { rc = usage(s, SP_ELIMIT, "value too long to count by%s", NULL); break; }
        int g;
        if (sp_map_get(&map, key.data, key.len, &g)) { groups[g].count += n; continue; }
        if (ngroups >= MAX_GROUPS) {
            rc = usage(s, SP_ELIMIT, "too many distinct values to count by%s", NULL);
            break;
        }
        if (ngroups == galloc) {
            galloc = galloc ? galloc * 2 : 64;
            groups = sp_xrealloc(groups, galloc * sizeof *groups);
        }
        char *kp = sp_arena_alloc(&keys, key.len ? key.len : 1);
        memcpy(kp, key.data, key.len);
        groups[ngroups] = (cgroup){kp, key.len, n, w, ndims};
        sp_map_put(&map, key.data, key.len, (int)ngroups);
        ngroups++;
    }
    if (rc == SP_OK && ngroups) qsort(groups, ngroups, sizeof *groups, cmp_group);
    for (size_t gi = 0; gi < ngroups && rc == SP_OK; gi++) {
        const char *vals[MAX_DIMS + 1];
        const char *k = groups[gi].key;
        for (size_t i = 0; i < ndims; i++) k = key_next(k, &vals[i]);
        vals[ndims] = NULL;
        rc = cb(vals, groups[gi].count, ud);
    }
    for (size_t i = 0; i < ndims; i++) free(q[i].buf);
    free(dense);
    free(hm.k);
    free(hm.v);
    free(groups);
    sp_map_free(&map);
    sp_arena_free(&keys);
    sp_buf_free(&key);
    return rc;
}

int store_count(sp_store *s, const sp_filter *f, const char *const *dims, size_t ndims,
                store_count_cb cb, void *ud)
{
    cube *c = cube_for(s);
    if (c) {
        int handled = 0;
        int rc = cube_count(s, c, f, dims, ndims, cb, ud, &handled);
        cube_release(c);
        if (handled) return rc;
    }
    return count_sql(s, f, dims, ndims, cb, ud);
}

int store_count_records(sp_store *s, const sp_filter *f, long long *n)
{
    cube *c = cube_for(s);
    if (c) {
        int rc = cube_select(s, c, f);
        if (rc == 0) *n = (long long)s->nsel;
        cube_release(c);
        if (rc == 0) return SP_OK;
    }
    return count_records_sql(s, f, n);
}

/* ------------------------------------------------------------ scan */

/* The numbers codebook_parse puts beside the text, so a stored cell reads
 * back exactly as it was parsed (integer: i and d; decimal: d and i
 * truncated; year: i; date: i = YYYYMMDD; age: lo, hi and i = lo; code:
 * i = value index, text the codebook's own string; country: i = ISO
 * numeric). */
static void cell_numbers(const sp_codebook *cb, const cb_field *f, cb_cell *c)
{
    const char *t = c->text;
    switch (f->type) {
    case CB_CODE: {
        const cb_value *v = codebook_value(f, t, strlen(t));
        if (v && strcmp(v->code, t) == 0) {
            c->text = v->code;
            c->i = v - f->values;
        }
        break;
    }
    case CB_COUNTRY: {
        const gz_country *g = cb->gaz && strlen(t) == 2 ? gazetteer_alpha2(cb->gaz, t) : NULL;
        if (g) c->i = g->numeric;
        break;
    }
    case CB_INTEGER: c->d = (double)c->i; break;
    case CB_DECIMAL: c->i = (long long)c->d; break;
    case CB_AGE: c->i = c->lo; break;
    case CB_DATE:
        if (strlen(t) == 10 && t[4] == '-' && t[7] == '-')
            c->i = atoll(t) * 10000 + atoll(t + 5) * 100 + atoll(t + 8);
        break;
    default: break;
    }
}

/* Builds a cell from column i of st for field f (an age reads i, i+1);
 * strings are copied into the record's arena. Returns 0 if missing. */
static int cell_from_col(sp_record *r, sqlite3_stmt *st, int i, const cb_field *f, cb_cell *c)
{
    char tmp[64];
    memset(c, 0, sizeof *c);
    if (sqlite3_column_type(st, i) == SQLITE_NULL) return 0;
    switch (f->type) {
    case CB_INTEGER: case CB_YEAR:
        c->i = sqlite3_column_int64(st, i);
        snprintf(tmp, sizeof tmp, "%lld", c->i);
        c->text = sp_arena_strdup(&r->arena, tmp);
        break;
    case CB_DECIMAL:
        c->d = sqlite3_column_double(st, i);
        snprintf(tmp, sizeof tmp, "%.15g", c->d);
        c->text = sp_arena_strdup(&r->arena, tmp);
        break;
    case CB_AGE:
        c->lo = sqlite3_column_int(st, i);
        c->hi = sqlite3_column_type(st, i + 1) == SQLITE_NULL ? c->lo : sqlite3_column_int(st, i + 1);
        snprintf(tmp, sizeof tmp, "%d-%d", c->lo, c->hi);
        c->text = sp_arena_strdup(&r->arena, tmp);
        break;
    default: {
        const char *t = (const char *)sqlite3_column_text(st, i);
        c->text = sp_arena_strndup(&r->arena, t ? t : "", (size_t)sqlite3_column_bytes(st, i));
    }
    }
    cell_numbers(r->cb, f, c);
    return 1;
}

/* A multiple value is stored as text; numbers are parsed back. */
static void cell_from_text(sp_record *r, const cb_field *f, const char *t, size_t n, cb_cell *c)
{
    memset(c, 0, sizeof *c);
    c->text = sp_arena_strndup(&r->arena, t, n);
    if (f->type == CB_INTEGER || f->type == CB_YEAR) sp_parse_int(t, n, &c->i);
    else if (f->type == CB_DECIMAL) sp_parse_double(t, n, &c->d);
    else if (f->type == CB_AGE) {
        long long lo = 0, hi = 0;
        if (parse_age(c->text, &lo, &hi) == 0) { c->lo = (int)lo; c->hi = (int)hi; }
    }
    cell_numbers(r->cb, f, c);
}

typedef struct cursor {
    sqlite3_stmt *st;
    int field;                 /* group: field index; multi: -1 */
    int row;                   /* 1: has a row */
} cursor;

static int cursor_step(sp_store *s, cursor *c)
{
    int r = sqlite3_step(c->st);
    if (r == SQLITE_ROW) { c->row = 1; return SP_OK; }
    c->row = 0;
    if (r == SQLITE_DONE) return SP_OK;
    return dberr(s, "reading records");
}

/* Each statement over the records of f: the main one and one per
 * multiple/group table, all in record id order, walked in step (a merge
 * join) so memory stays constant whatever the number of records. */
int store_scan(sp_store *s, const sp_filter *f, store_record_cb cb, void *ud)
{
    const sp_codebook *cbk = s->cb;
    sp_buf sql, where;
    binds b;
    sqlite3_stmt *main_st = NULL;
    cursor *cur = sp_xcalloc(cbk->nfields + 1, sizeof *cur);
    size_t ncur = 0;
    int *colof = sp_xcalloc(cbk->nfields, sizeof *colof);
    int rc, own_tx = 0, has_multi = 0;
    sp_record rec;
    record_init(&rec, cbk);
    b.n = 0;
    sp_buf_init(&sql, 1 << 18);
    sp_buf_init(&where, 1 << 16);
    /* one read snapshot for all the cursors */
    if (sqlite3_get_autocommit(s->db)) {
        if ((rc = exec(s, "BEGIN"))) goto done;
        own_tx = 1;
    }
    if ((rc = build_filter(s, f, &where, &b, 0))) goto done;

    sp_buf_adds(&sql, "SELECT record.id, record.submission_id, record.org_id, o.name, "
                      "record.codebook_version, record.synthetic");
    int col = 6;
    char nm[2][IDENT_MAX + 8];
    for (size_t i = 0; i < cbk->nfields; i++) {
        const cb_field *fd = &cbk->fields[i];
        if (fd->multiple && fd->type != CB_GROUP) has_multi = 1;
        if (!is_single(fd)) continue;
        colof[i] = col;
        int nc = col_names(fd, nm);
        for (int c = 0; c < nc; c++, col++) sp_buf_printf(&sql, ", record.%s", nm[c]);
    }
    sp_buf_printf(&sql, " FROM record CROSS JOIN org o ON o.id = record.org_id%s ORDER BY record.id",
                  where.data);
    if ((rc = prep(s, sql.data, &main_st))) goto done;
    bind_all(main_st, &b);

    /* the cursors read their whole tables in primary-key order, which is
     * record id order: sequential reads, no per-record seek; rows of
     * records the filter left out are skipped in the merge */
    if (has_multi) {
        cur[ncur].field = -1;
        if ((rc = prep(s, "SELECT record_id, field, value FROM record_multi ORDER BY record_id",
                       &cur[ncur].st)))
            goto done;
        ncur++;
    }
    for (size_t i = 0; i < cbk->nfields; i++) {
        const cb_field *fd = &cbk->fields[i];
        if (fd->type != CB_GROUP) continue;
        sp_buf_reset(&sql);
        sp_buf_adds(&sql, "SELECT g.record_id, g.seq");
        for (size_t k = 0; k < fd->nsub; k++) {
            int nc = col_names(&fd->sub[k], nm);
            for (int c = 0; c < nc; c++) sp_buf_printf(&sql, ", g.%s", nm[c]);
        }
        sp_buf_printf(&sql, " FROM g_%s g ORDER BY g.record_id, g.seq", fd->name);
        cur[ncur].field = (int)i;
        if ((rc = prep(s, sql.data, &cur[ncur].st))) goto done;
        ncur++;
    }
    for (size_t k = 0; k < ncur; k++)
        if ((rc = cursor_step(s, &cur[k]))) goto done;

    int r;
    while ((r = sqlite3_step(main_st)) == SQLITE_ROW) {
        sp_record_meta m;
        record_reset(&rec);
        m.id = sqlite3_column_int64(main_st, 0);
        m.submission_id = sqlite3_column_int64(main_st, 1);
        m.org_id = sqlite3_column_int64(main_st, 2);
        const char *t = (const char *)sqlite3_column_text(main_st, 3);
        m.org_name = sp_arena_strdup(&rec.arena, t ? t : "");
        t = (const char *)sqlite3_column_text(main_st, 4);
        m.codebook_version = sp_arena_strdup(&rec.arena, t ? t : "");
        m.synthetic = sqlite3_column_int(main_st, 5);
        for (size_t i = 0; i < cbk->nfields; i++) {
            cb_cell c;
            if (colof[i] && cell_from_col(&rec, main_st, colof[i], &cbk->fields[i], &c))
                record_add(&rec, (int)i, &c);
        }
        for (size_t k = 0; k < ncur; k++) {
            cursor *cu = &cur[k];
            /* rows of records the filter left out */
            while (cu->row && sqlite3_column_int64(cu->st, 0) < m.id)
                if ((rc = cursor_step(s, cu))) goto done;
            size_t row = 0;
            while (cu->row && sqlite3_column_int64(cu->st, 0) == m.id) {
                if (cu->field < 0) {
                    const char *fname = (const char *)sqlite3_column_text(cu->st, 1);
                    const cb_field *fd = fname ? codebook_field(cbk, fname) : NULL;
                    /* a field the codebook no longer has is not shown */
                    if (fd && fd->multiple && fd->type != CB_GROUP) {
                        cb_cell c;
                        const char *v = (const char *)sqlite3_column_text(cu->st, 2);
                        cell_from_text(&rec, fd, v ? v : "",
                                       (size_t)sqlite3_column_bytes(cu->st, 2), &c);
                        record_add(&rec, fd->index, &c);
                    }
                } else {
                    const cb_field *fd = &cbk->fields[cu->field];
                    int gc = 2;
                    for (size_t u = 0; u < fd->nsub; u++) {
                        cb_cell c;
                        const cb_field *sub = &fd->sub[u];
                        if (cell_from_col(&rec, cu->st, gc, sub, &c)) {
                            cb_cell *dst = record_group_cell(&rec, cu->field, row, (int)u);
                            if (dst) *dst = c;
                        } else {
                            record_group_cell(&rec, cu->field, row, (int)u);
                        }
                        gc += sub->type == CB_AGE ? 2 : 1;
                    }
                    row++;
                }
                if ((rc = cursor_step(s, cu))) goto done;
            }
        }
        if ((rc = cb(&rec, &m, ud))) goto done;
    }
    if (r != SQLITE_DONE) rc = dberr(s, "reading records");
done:
    for (size_t k = 0; k < ncur; k++) sqlite3_finalize(cur[k].st);
    sqlite3_finalize(main_st);
    if (own_tx) sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL);
    record_free(&rec);
    free(cur);
    free(colof);
    sp_buf_free(&sql);
    sp_buf_free(&where);
    return rc;
}

/* ============================================================ audit, backup
 * (docs/audit.md) -- the audit log's rows and the online backup. The
 * hashing is audit.c's; here rows and pages only move. */

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int store_in_transaction(sp_store *s)
{
    return !sqlite3_get_autocommit(s->db);
}

int store_audit_head(sp_store *s, long long *seq, unsigned char hash[STORE_HASH_LEN])
{
    sqlite3_stmt *st = NULL;
    *seq = 0;
    memset(hash, 0, STORE_HASH_LEN);
    int rc = prep(s, "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1", &st);
    if (rc) return rc;
    int r = sqlite3_step(st);
    if (r == SQLITE_ROW) {
        *seq = sqlite3_column_int64(st, 0);
        const void *h = sqlite3_column_blob(st, 1);
        int n = sqlite3_column_bytes(st, 1);
        if (h) memcpy(hash, h, n < STORE_HASH_LEN ? (size_t)n : STORE_HASH_LEN);
    } else if (r != SQLITE_DONE) {
        rc = dberr(s, "reading the audit log");
    }
    sqlite3_finalize(st);
    return rc;
}

int store_audit_insert(sp_store *s, const sp_audit_row *r)
{
    sqlite3_stmt *st = NULL;
    int rc = prep(s, "INSERT INTO audit(seq, at, actor, org_id, action, target, remote, detail,"
                     " prev_hash, hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)", &st);
    if (rc) return rc;
    sqlite3_bind_int64(st, 1, r->seq);
    bind_text_or_null(st, 2, r->at);
    bind_text_or_null(st, 3, r->actor);
    if (r->org_id) sqlite3_bind_int64(st, 4, r->org_id);
    else sqlite3_bind_null(st, 4);
    bind_text_or_null(st, 5, r->action);
    bind_text_or_null(st, 6, r->target);
    bind_text_or_null(st, 7, r->remote);
    bind_text_or_null(st, 8, r->detail);
    sqlite3_bind_blob(st, 9, r->prev_hash, STORE_HASH_LEN, SQLITE_TRANSIENT);
    sqlite3_bind_blob(st, 10, r->hash, STORE_HASH_LEN, SQLITE_TRANSIENT);
    if (sqlite3_step(st) != SQLITE_DONE) rc = dberr(s, "writing the audit log");
    sqlite3_finalize(st);
    return rc;
}

/* Steps an audit SELECT (seq, at, actor, org_id, action, target, remote,
 * detail, prev_hash, hash), calling cb per row; finalizes st. */
int store_i_audit_rows(sp_store *s, sqlite3_stmt *st, store_audit_cb cb, void *ud)
{
    int rc = 0;
    int r;
    while ((r = sqlite3_step(st)) == SQLITE_ROW) {
        sp_audit_row row;
        memset(&row, 0, sizeof row);
        row.seq = sqlite3_column_int64(st, 0);
        row.at = (const char *)sqlite3_column_text(st, 1);
        row.actor = (const char *)sqlite3_column_text(st, 2);
        row.org_id = sqlite3_column_int64(st, 3);
        row.action = (const char *)sqlite3_column_text(st, 4);
        row.target = (const char *)sqlite3_column_text(st, 5);
        row.remote = (const char *)sqlite3_column_text(st, 6);
        row.detail = (const char *)sqlite3_column_text(st, 7);
        for (int k = 0; k < 2; k++) {
            const void *h = sqlite3_column_blob(st, 8 + k);
            int n = sqlite3_column_bytes(st, 8 + k);
            unsigned char *dst = k ? row.hash : row.prev_hash;
            if (h && n > 0) memcpy(dst, h, n < STORE_HASH_LEN ? (size_t)n : STORE_HASH_LEN);
            if (k) row.hash_len = n;
            else row.prev_len = n;
        }
        if ((rc = cb(&row, ud)) != 0) break;
    }
    if (rc == 0 && r != SQLITE_DONE) rc = dberr(s, "reading the audit log");
    sqlite3_finalize(st);
    return rc;
}

int store_audit_scan(sp_store *s, const sp_audit_query *q, store_audit_cb cb, void *ud)
{
    sqlite3_stmt *st = NULL;
    char sql[512];
    snprintf(sql, sizeof sql,
             "SELECT seq, at, actor, org_id, action, target, remote, detail, prev_hash, hash"
             " FROM audit WHERE (?1 IS NULL OR at >= ?1) AND (?2 IS NULL OR action = ?2)"
             " ORDER BY seq %s LIMIT ?3", q && q->newest_first ? "DESC" : "ASC");
    int rc = prep(s, sql, &st);
    if (rc) return rc;
    bind_text_or_null(st, 1, q ? q->since : NULL);
    bind_text_or_null(st, 2, q ? q->action : NULL);
    sqlite3_bind_int64(st, 3, q && q->limit > 0 ? q->limit : -1);
    return store_i_audit_rows(s, st, cb, ud);
}

/* fsyncs a file, or the directory holding it (dir = 1). */
static int fsync_path(const char *path, int dir)
{
    int fd;
    if (dir) {
        const char *slash = strrchr(path, '/');
        char *d = slash ? sp_xstrndup(path, slash == path ? 1 : (size_t)(slash - path))
                        : sp_xstrdup(".");
        fd = open(d, O_RDONLY | O_DIRECTORY);
        free(d);
    } else {
        fd = open(path, O_RDONLY);
    }
    if (fd < 0) return -1;
    int r = fsync(fd);
    close(fd);
    return r;
}

static void unlink_db(const char *path)
{
    static const char *const sfx[] = {"", "-wal", "-shm", "-journal"};
    for (size_t i = 0; i < sizeof sfx / sizeof sfx[0]; i++) {
        char *p = sqlite3_mprintf("%s%s", path, sfx[i]);
        if (p) unlink(p);
        sqlite3_free(p);
    }
}

/* Runs the backup from src to the (new) database file at `to`: a few pages
 * a step with a short sleep between, so the server's readers and a writer
 * get the lock in between. A write through another connection restarts
 * the copy; after a few restarts the rest is copied in one step (one read
 * transaction: in WAL mode it does not block writers). The destination is
 * closed in rollback-journal mode so that it is one self-contained file. */
static int backup_copy(sqlite3 *src, const char *to, char *msg, size_t msgsz)
{
    sqlite3 *dst = NULL;
    int rc = SP_OK;
    unlink_db(to);
    if (sqlite3_open_v2(to, &dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK) {
        snprintf(msg, msgsz, "cannot create %s: %s", to, dst ? sqlite3_errmsg(dst) : "out of memory");
        rc = SP_EIO;
        goto done;
    }
    sqlite3_backup *b = sqlite3_backup_init(dst, "main", src, "main");
    if (!b) {
        snprintf(msg, msgsz, "cannot start the backup: %s", sqlite3_errmsg(dst));
        rc = SP_EDB;
        goto done;
    }
    int r, restarts = 0, last_remaining = -1;
    struct timespec nap = {0, 5 * 1000 * 1000};
    for (;;) {
        r = sqlite3_backup_step(b, restarts >= 3 ? -1 : 256);
        if (r == SQLITE_DONE) break;
        if (r != SQLITE_OK && r != SQLITE_BUSY && r != SQLITE_LOCKED) break;
        int rem = sqlite3_backup_remaining(b);
        if (last_remaining >= 0 && rem > last_remaining) restarts++;
        last_remaining = rem;
        nanosleep(&nap, NULL);
    }
    if (sqlite3_backup_finish(b) != SQLITE_OK || r != SQLITE_DONE) {
        snprintf(msg, msgsz, "the backup failed: %s", sqlite3_errmsg(dst));
        rc = SP_EDB;
        goto done;
    }
    char *e = NULL;
    if (sqlite3_exec(dst, "PRAGMA journal_mode = DELETE", NULL, NULL, &e) != SQLITE_OK) {
        snprintf(msg, msgsz, "cannot finish the copy: %s", e ? e : sqlite3_errmsg(dst));
        sqlite3_free(e);
        rc = SP_EDB;
    }
done:
    if (dst && sqlite3_close(dst) != SQLITE_OK && rc == SP_OK) {
        snprintf(msg, msgsz, "cannot close the copy");
        rc = SP_EDB;
    }
    if (rc == SP_OK && fsync_path(to, 0) != 0) {
        snprintf(msg, msgsz, "cannot sync %s: %s", to, strerror(errno));
        rc = SP_EIO;
    }
    if (rc != SP_OK) unlink_db(to);
    return rc;
}

/* One value from a query on a raw connection; -1 when it failed. */
static int raw_text(sqlite3 *db, const char *sql, char *out, size_t outsz, char *msg, size_t msgsz)
{
    sqlite3_stmt *st = NULL;
    out[0] = '\0';
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
        snprintf(msg, msgsz, "%s", sqlite3_errmsg(db));
        return -1;
    }
    int r = sqlite3_step(st);
    if (r == SQLITE_ROW) {
        const unsigned char *t = sqlite3_column_text(st, 0);
        snprintf(out, outsz, "%s", t ? (const char *)t : "");
    }
    int ok = r == SQLITE_ROW || r == SQLITE_DONE;
    if (!ok) snprintf(msg, msgsz, "%s", sqlite3_errmsg(db));
    sqlite3_finalize(st);
    return ok ? 0 : -1;
}

int store_backup_check(const char *path, store_backup_info *info, sp_err *err)
{
    sqlite3 *db = NULL;
    char val[256], msg[MSG_MAX];
    int rc = SP_OK;
    struct stat sb;
    memset(info, 0, sizeof *info);
    if (stat(path, &sb) != 0)
        return sp_err_add(err, path, 0, NULL, NULL, 0, "no-file", "cannot read it: %s", strerror(errno));
    if (!S_ISREG(sb.st_mode))
        return sp_err_add(err, path, 0, NULL, NULL, 0, "not-a-hub", "not a regular file");
    info->bytes = (long long)sb.st_size;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        rc = sp_err_add(err, path, 0, NULL, NULL, 0, "not-a-hub", "cannot open it: %s",
                        db ? sqlite3_errmsg(db) : "out of memory");
        goto done;
    }
    if (raw_text(db, "PRAGMA user_version", val, sizeof val, msg, sizeof msg)) {
        rc = sp_err_add(err, path, 0, NULL, NULL, 0, "not-a-hub",
                        "not a spotlight hub (not an SQLite database: %s)", msg);
        goto done;
    }
    info->schema = atoi(val);
    if (info->schema < 1 || info->schema > NMIGRATIONS) {
        rc = sp_err_add(err, path, 0, NULL, NULL, 0, "not-a-hub",
                        info->schema < 1 ? "not a spotlight hub (an SQLite database without the hub's schema)"
                                         : "made by a newer spotlight (schema version %d; this program "
                                           "knows up to %d)", info->schema, NMIGRATIONS);
        goto done;
    }
    if (raw_text(db, "PRAGMA integrity_check(20)", val, sizeof val, msg, sizeof msg) ||
        strcmp(val, "ok") != 0) {
        rc = sp_err_add(err, path, 0, NULL, NULL, 0, "corrupt",
                        "the database is damaged (integrity_check: %s)", val[0] ? val : msg);
        goto done;
    }
    if (raw_text(db, "SELECT count(*) FROM record", val, sizeof val, msg, sizeof msg) ||
        raw_text(db, "SELECT count(*) FROM meta WHERE key = 'codebook_version'", val + 128, 128, msg,
                 sizeof msg)) {
        rc = sp_err_add(err, path, 0, NULL, NULL, 0, "not-a-hub",
                        "not a spotlight hub (the hub's tables are missing: %s)", msg);
        goto done;
    }
    info->records = atoll(val);
done:
    if (db) sqlite3_close(db);
    return rc;
}

int store_backup_to(sp_store *s, const char *path, int force, store_backup_info *info, sp_err *err)
{
    char msg[MSG_MAX];
    memset(info, 0, sizeof *info);
    if (!force && access(path, F_OK) == 0)
        return sp_err_add(err, path, 0, NULL, NULL, 0, "exists",
                          "the file exists; nothing was written (use --force to replace it)"),
               SP_EEXIST;
    char *tmp = sqlite3_mprintf("%s.tmp", path);
    if (!tmp) return SP_ENOMEM;
    int rc = backup_copy(s->db, tmp, msg, sizeof msg);
    if (rc) {
        sp_err_add(err, path, 0, NULL, NULL, 0, "backup", "%s", msg);
    } else if ((rc = store_backup_check(tmp, info, err)) != SP_OK) {
        sp_err_add(err, path, 0, NULL, NULL, 0, "backup", "the copy failed its check; nothing was kept");
        unlink_db(tmp);
    } else if (rename(tmp, path) != 0) {
        rc = sp_err_add(err, path, 0, NULL, NULL, 0, "backup", "cannot rename %s to it: %s", tmp,
                        strerror(errno));
        rc = SP_EIO;
        unlink_db(tmp);
    } else {
        fsync_path(path, 1);
    }
    sqlite3_free(tmp);
    return rc;
}

int store_restore_copy(const char *from, const char *to, sp_err *err)
{
    sqlite3 *src = NULL;
    char msg[MSG_MAX];
    int rc = SP_OK;
    if (sqlite3_open_v2(from, &src, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        rc = sp_err_add(err, from, 0, NULL, NULL, 0, "restore", "cannot open it: %s",
                        src ? sqlite3_errmsg(src) : "out of memory");
        rc = SP_EIO;
    } else if ((rc = backup_copy(src, to, msg, sizeof msg)) != SP_OK) {
        sp_err_add(err, from, 0, NULL, NULL, 0, "restore", "%s", msg);
    }
    if (src) sqlite3_close(src);
    return rc;
}

int store_restore_install(const char *tmp, const char *hub, sp_err *err)
{
    if (access(hub, F_OK) == 0) {
        sqlite3 *db = NULL;
        if (sqlite3_open_v2(hub, &db, SQLITE_OPEN_READWRITE, NULL) == SQLITE_OK) {
            sqlite3_busy_timeout(db, 2000);
            sqlite3_exec(db, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL);
        }
        if (db) sqlite3_close(db);
        for (int i = 0; i < 2; i++) {
            char *p = sqlite3_mprintf("%s%s", hub, i ? "-shm" : "-wal");
            int there = p && access(p, F_OK) == 0;
            sqlite3_free(p);
            if (there)
                return sp_err_add(err, hub, 0, NULL, NULL, 0, "hub-in-use",
                                  "the hub is open in another process (a running `spotlight serve`?); "
                                  "stop it and restore again: nothing was changed"),
                       SP_EEXIST;
        }
    }
    if (rename(tmp, hub) != 0)
        return sp_err_add(err, hub, 0, NULL, NULL, 0, "restore", "cannot rename %s to it: %s", tmp,
                          strerror(errno)),
               SP_EIO;
    fsync_path(hub, 1);
    return SP_OK;
}

/* ------------------------------------------------------------ accounts,
 * API tokens, sessions, login throttling (auth.c owns the rules; these
 * only move rows). */

void store_account_free(sp_account *a)
{
    if (!a) return;
    free(a->email);
    free(a->org_name);
    free(a->role);
    free(a->pwhash);
    memset(a, 0, sizeof *a);
}

int store_account_add(sp_store *s, const char *email, long long org_id, const char *role,
                      const char *pwhash, long long created, long long *id)
{
    sqlite3_stmt *st = NULL;
    int rc = prep(s, "INSERT INTO account(email, org_id, role, pwhash, created)"
                     " VALUES (?1, ?2, ?3, ?4, ?5)", &st);
    if (rc) return rc;
    sqlite3_bind_text(st, 1, email, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, org_id);
    sqlite3_bind_text(st, 3, role, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, pwhash, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, created);
    int r = sqlite3_step(st);
    if (r == SQLITE_DONE) {
        if (id) *id = sqlite3_last_insert_rowid(s->db);
    } else if (sqlite3_extended_errcode(s->db) == SQLITE_CONSTRAINT_UNIQUE) {
        rc = usage(s, SP_EEXIST, "an account with the email '%s' exists", email);
    } else {
        rc = dberr(s, "adding an account");
    }
    sqlite3_finalize(st);
    return rc;
}

#define ACCOUNT_COLS "a.id, a.org_id, a.email, o.name, a.role, a.pwhash, a.disabled, a.created" \
                     " FROM account a JOIN org o ON o.id = a.org_id"

static void account_row(sqlite3_stmt *st, sp_account *a)
{
    a->id = sqlite3_column_int64(st, 0);
    a->org_id = sqlite3_column_int64(st, 1);
    a->email = col_dup(st, 2);
    a->org_name = col_dup(st, 3);
    a->role = col_dup(st, 4);
    a->pwhash = col_dup(st, 5);
    a->disabled = sqlite3_column_int(st, 6) != 0;
    a->created = sqlite3_column_int64(st, 7);
}

int store_account_find(sp_store *s, const char *email, long long id, sp_account *out)
{
    sqlite3_stmt *st = NULL;
    memset(out, 0, sizeof *out);
    int rc = prep(s, email ? "SELECT " ACCOUNT_COLS " WHERE a.email = ?1"
                           : "SELECT " ACCOUNT_COLS " WHERE a.id = ?2", &st);
    if (rc) return rc;
    if (email) sqlite3_bind_text(st, 1, email, -1, SQLITE_STATIC);
    else sqlite3_bind_int64(st, 2, id);
    int r = sqlite3_step(st);
    if (r == SQLITE_ROW) account_row(st, out);
    else if (r == SQLITE_DONE) rc = SP_EOF;
    else rc = dberr(s, "finding an account");
    sqlite3_finalize(st);
    return rc;
}

int store_account_list(sp_store *s, sp_account **out, size_t *n)
{
    sqlite3_stmt *st = NULL;
    size_t alloc = 0;
    *out = NULL;
    *n = 0;
    int rc = prep(s, "SELECT " ACCOUNT_COLS " ORDER BY a.id", &st);
    if (rc) return rc;
    int r;
    while ((r = sqlite3_step(st)) == SQLITE_ROW) {
        if (*n == alloc) {
            alloc = alloc ? alloc * 2 : 16;
            *out = sp_xrealloc(*out, alloc * sizeof **out);
        }
        sp_account *a = &(*out)[(*n)++];
        memset(a, 0, sizeof *a);
        account_row(st, a);
        free(a->pwhash);        /* a list never carries password hashes */
        a->pwhash = NULL;
    }
    if (r != SQLITE_DONE) rc = dberr(s, "listing accounts");
    sqlite3_finalize(st);
    return rc;
}

/* Runs one UPDATE or DELETE with up to two integer parameters and a blob;
 * SP_EOF when `need_change` and no row changed. */
static int auth_exec(sp_store *s, const char *sql, const unsigned char *blob, long long a,
                     long long b, int need_change, const char *what)
{
    sqlite3_stmt *st = NULL;
    int rc = prep(s, sql, &st);
    if (rc) return rc;
    if (blob) sqlite3_bind_blob(st, 1, blob, STORE_AUTH_HASH_LEN, SQLITE_STATIC);
    if (sqlite3_bind_parameter_index(st, "?2")) sqlite3_bind_int64(st, 2, a);
    if (sqlite3_bind_parameter_index(st, "?3")) sqlite3_bind_int64(st, 3, b);
    if (sqlite3_step(st) != SQLITE_DONE) rc = dberr(s, what);
    else if (need_change && sqlite3_changes(s->db) == 0) rc = SP_EOF;
    sqlite3_finalize(st);
    return rc;
}

int store_account_set_disabled(sp_store *s, long long id, int disabled)
{
    return auth_exec(s, "UPDATE account SET disabled = ?3 WHERE id = ?2", NULL, id, disabled != 0,
                     1, "disabling an account");
}

int store_account_set_pwhash(sp_store *s, long long id, const char *pwhash)
{
    sqlite3_stmt *st = NULL;
    int rc = prep(s, "UPDATE account SET pwhash = ?1 WHERE id = ?2", &st);
    if (rc) return rc;
    sqlite3_bind_text(st, 1, pwhash, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, id);
    if (sqlite3_step(st) != SQLITE_DONE) rc = dberr(s, "updating a password hash");
    else if (sqlite3_changes(s->db) == 0) rc = SP_EOF;
    sqlite3_finalize(st);
    return rc;
}

void store_token_free(sp_token_row *t)
{
    if (!t) return;
    free(t->email);
    free(t->name);
    memset(t, 0, sizeof *t);
}

int store_token_add(sp_store *s, long long account_id, const char *name,
                    const unsigned char hash[STORE_AUTH_HASH_LEN], long long created, long long *id)
{
    sqlite3_stmt *st = NULL;
    int rc = prep(s, "INSERT INTO api_token(account_id, name, hash, created) VALUES (?1, ?2, ?3, ?4)",
                  &st);
    if (rc) return rc;
    sqlite3_bind_int64(st, 1, account_id);
    bind_text_or_null(st, 2, name);
    sqlite3_bind_blob(st, 3, hash, STORE_AUTH_HASH_LEN, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, created);
    if (sqlite3_step(st) != SQLITE_DONE) rc = dberr(s, "adding an API token");
    else if (id) *id = sqlite3_last_insert_rowid(s->db);
    sqlite3_finalize(st);
    return rc;
}

int store_token_lookup(sp_store *s, const unsigned char hash[STORE_AUTH_HASH_LEN], long long *id,
                       long long *account_id)
{
    sqlite3_stmt *st = NULL;
    int rc = prep(s, "SELECT id, account_id FROM api_token WHERE hash = ?1 AND revoked IS NULL", &st);
    if (rc) return rc;
    sqlite3_bind_blob(st, 1, hash, STORE_AUTH_HASH_LEN, SQLITE_STATIC);
    int r = sqlite3_step(st);
    if (r == SQLITE_ROW) {
        *id = sqlite3_column_int64(st, 0);
        *account_id = sqlite3_column_int64(st, 1);
    } else if (r == SQLITE_DONE) {
        rc = SP_EOF;
    } else {
        rc = dberr(s, "finding an API token");
    }
    sqlite3_finalize(st);
    return rc;
}

int store_token_touch(sp_store *s, long long id, long long now)
{
    return auth_exec(s, "UPDATE api_token SET last_used = ?3 WHERE id = ?2", NULL, id, now, 0,
                     "recording a token's use");
}

int store_token_revoke(sp_store *s, long long id, long long now)
{
    return auth_exec(s, "UPDATE api_token SET revoked = ?3 WHERE id = ?2 AND revoked IS NULL", NULL,
                     id, now, 1, "revoking a token");
}

int store_token_list(sp_store *s, sp_token_row **out, size_t *n)
{
    sqlite3_stmt *st = NULL;
    size_t alloc = 0;
    *out = NULL;
    *n = 0;
    int rc = prep(s, "SELECT t.id, t.account_id, a.email, t.name, t.created, t.last_used, t.revoked"
                     " FROM api_token t JOIN account a ON a.id = t.account_id ORDER BY t.id", &st);
    if (rc) return rc;
    int r;
    while ((r = sqlite3_step(st)) == SQLITE_ROW) {
        if (*n == alloc) {
            alloc = alloc ? alloc * 2 : 16;
            *out = sp_xrealloc(*out, alloc * sizeof **out);
        }
        sp_token_row *t = &(*out)[(*n)++];
        t->id = sqlite3_column_int64(st, 0);
        t->account_id = sqlite3_column_int64(st, 1);
        t->email = col_dup(st, 2);
        t->name = col_dup(st, 3);
        t->created = sqlite3_column_int64(st, 4);
        t->last_used = sqlite3_column_int64(st, 5);
        t->revoked = sqlite3_column_int64(st, 6);
    }
    if (r != SQLITE_DONE) rc = dberr(s, "listing API tokens");
    sqlite3_finalize(st);
    return rc;
}

int store_session_add(sp_store *s, const unsigned char hash[STORE_AUTH_HASH_LEN],
                      long long account_id, long long now)
{
    return auth_exec(s, "INSERT INTO session(hash, account_id, created, last_seen)"
                        " VALUES (?1, ?2, ?3, ?3)", hash, account_id, now, 0, "adding a session");
}

int store_session_get(sp_store *s, const unsigned char hash[STORE_AUTH_HASH_LEN],
                      long long *account_id, long long *created, long long *last_seen)
{
    sqlite3_stmt *st = NULL;
    int rc = prep(s, "SELECT account_id, created, last_seen FROM session WHERE hash = ?1", &st);
    if (rc) return rc;
    sqlite3_bind_blob(st, 1, hash, STORE_AUTH_HASH_LEN, SQLITE_STATIC);
    int r = sqlite3_step(st);
    if (r == SQLITE_ROW) {
        *account_id = sqlite3_column_int64(st, 0);
        *created = sqlite3_column_int64(st, 1);
        *last_seen = sqlite3_column_int64(st, 2);
    } else if (r == SQLITE_DONE) {
        rc = SP_EOF;
    } else {
        rc = dberr(s, "finding a session");
    }
    sqlite3_finalize(st);
    return rc;
}

int store_session_touch(sp_store *s, const unsigned char hash[STORE_AUTH_HASH_LEN], long long now)
{
    return auth_exec(s, "UPDATE session SET last_seen = ?2 WHERE hash = ?1", hash, now, 0, 0,
                     "refreshing a session");
}

int store_session_delete(sp_store *s, const unsigned char hash[STORE_AUTH_HASH_LEN])
{
    return auth_exec(s, "DELETE FROM session WHERE hash = ?1", hash, 0, 0, 0, "ending a session");
}

int store_session_delete_account(sp_store *s, long long account_id)
{
    return auth_exec(s, "DELETE FROM session WHERE account_id = ?2", NULL, account_id, 0, 0,
                     "ending an account's sessions");
}

int store_session_prune(sp_store *s, long long created_before, long long seen_before)
{
    return auth_exec(s, "DELETE FROM session WHERE created < ?2 OR last_seen < ?3", NULL,
                     created_before, seen_before, 0, "deleting expired sessions");
}

int store_throttle_get(sp_store *s, const unsigned char key[STORE_AUTH_HASH_LEN],
                       long long *failures, long long *last_failure)
{
    sqlite3_stmt *st = NULL;
    *failures = 0;
    *last_failure = 0;
    int rc = prep(s, "SELECT failures, last_failure FROM login_throttle WHERE key = ?1", &st);
    if (rc) return rc;
    sqlite3_bind_blob(st, 1, key, STORE_AUTH_HASH_LEN, SQLITE_STATIC);
    int r = sqlite3_step(st);
    if (r == SQLITE_ROW) {
        *failures = sqlite3_column_int64(st, 0);
        *last_failure = sqlite3_column_int64(st, 1);
    } else if (r != SQLITE_DONE) {
        rc = dberr(s, "reading a login counter");
    }
    sqlite3_finalize(st);
    return rc;
}

int store_throttle_fail(sp_store *s, const unsigned char key[STORE_AUTH_HASH_LEN], long long now)
{
    return auth_exec(s, "INSERT INTO login_throttle(key, failures, last_failure) VALUES (?1, 1, ?2)"
                        " ON CONFLICT(key) DO UPDATE SET failures = failures + 1, last_failure = ?2",
                     key, now, 0, 0, "counting a failed login");
}

int store_throttle_clear(sp_store *s, const unsigned char key[STORE_AUTH_HASH_LEN])
{
    return auth_exec(s, "DELETE FROM login_throttle WHERE key = ?1", key, 0, 0, 0,
                     "clearing a login counter");
}

int store_throttle_prune(sp_store *s, long long before)
{
    return auth_exec(s, "DELETE FROM login_throttle WHERE last_failure < ?2", NULL, before, 0, 0,
                     "deleting old login counters");
}

/* ------------------------------------------------------------ idempotency keys */

int store_idem_get(sp_store *s, long long account_id, const char *key,
                   unsigned char body_hash[STORE_AUTH_HASH_LEN], int *status, char **response)
{
    sqlite3_stmt *st = NULL;
    *response = NULL;
    int rc = prep(s, "SELECT body_hash, status, response FROM idempotency"
                     " WHERE account_id = ?1 AND key = ?2", &st);
    if (rc) return rc;
    sqlite3_bind_int64(st, 1, account_id);
    sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
    int r = sqlite3_step(st);
    if (r == SQLITE_ROW) {
        const void *h = sqlite3_column_blob(st, 0);
        if (!h || sqlite3_column_bytes(st, 0) != STORE_AUTH_HASH_LEN) {
            rc = usage(s, SP_EDB, "a stored idempotency key has a bad hash%s", NULL);
        } else {
            memcpy(body_hash, h, STORE_AUTH_HASH_LEN);
            *status = sqlite3_column_int(st, 1);
            const char *t = (const char *)sqlite3_column_text(st, 2);
            *response = sp_xstrdup(t ? t : "");
        }
    } else if (r == SQLITE_DONE) {
        rc = SP_EOF;
    } else {
        rc = dberr(s, "finding an idempotency key");
    }
    sqlite3_finalize(st);
    return rc;
}

int store_idem_put(sp_store *s, long long account_id, const char *key,
                   const unsigned char body_hash[STORE_AUTH_HASH_LEN], int status,
                   const char *response, long long now)
{
    sqlite3_stmt *st = NULL;
    int rc = prep(s, "INSERT INTO idempotency(account_id, key, body_hash, status, response, created)"
                     " VALUES (?1, ?2, ?3, ?4, ?5, ?6)", &st);
    if (rc) return rc;
    sqlite3_bind_int64(st, 1, account_id);
    sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 3, body_hash, STORE_AUTH_HASH_LEN, SQLITE_STATIC);
    sqlite3_bind_int(st, 4, status);
    sqlite3_bind_text(st, 5, response, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 6, now);
    if (sqlite3_step(st) != SQLITE_DONE) rc = dberr(s, "storing an idempotency key");
    sqlite3_finalize(st);
    return rc;
}

/* ------------------------------------------------------------ for store_*.c */

int store_i_dberr(sp_store *s, const char *what) { return dberr(s, what); }
int store_i_prep(sp_store *s, const char *sql, sqlite3_stmt **st) { return prep(s, sql, st); }
int store_i_exec(sp_store *s, const char *sql) { return exec(s, sql); }
int store_i_write_begin(sp_store *s, int *own) { return write_begin(s, own); }
int store_i_bulk(const sp_store *s) { return s->bulk; }
int store_i_write_end(sp_store *s, int own, int rc) { return write_end(s, own, rc); }
/* for store_cases.c: reading one record back as store_scan does */
int store_i_is_single(const cb_field *f) { return is_single(f); }
int store_i_col_names(const cb_field *f, char names[2][IDENT_MAX + 8]) { return col_names(f, names); }
int store_i_cell_from_col(sp_record *r, sqlite3_stmt *st, int i, const cb_field *f, cb_cell *c)
{
    return cell_from_col(r, st, i, f, c);
}
void store_i_cell_from_text(sp_record *r, const cb_field *f, const char *t, size_t n, cb_cell *c)
{
    cell_from_text(r, f, t, n, c);
}
