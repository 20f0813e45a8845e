/* store_int.h -- what the store's own files share (store.c, store_*.c).
 * Not for any other module: everything else goes through store.h.
 *
 * The store is split by subject so that each file stays readable: store.c
 * (schema, records, stats, the cube, accounts, audit), store_ident.c
 * (indicator match keys), store_link.c (person links and duplicates).
 * All SQL of the program lives in these files; every value is a bound
 * parameter. */
#ifndef SP_STORE_INT_H
#define SP_STORE_INT_H

#include "store.h"

#include <sqlite3.h>

#define IDENT_MAX 60
#define MSG_MAX 512

struct sp_store {
    sqlite3 *db;
    const sp_codebook *cb;
    sqlite3_stmt *ins_record;
    sqlite3_stmt *ins_multi;
    sqlite3_stmt **ins_group;  /* [cb->nfields], NULL except groups */
    sqlite3_stmt *del_case;
    int *param;                /* [cb->nfields] */
    int has_case_ref, has_year;
    int dirty;                 /* records changed in the open transaction */
    int bulk;                  /* in store_begin_bulk's transaction */
    int cube_mode;             /* -1 auto (by size), 0 always SQL, 1 cube */
    sqlite3_stmt *gen_st;      /* reads meta('generation') */
    sqlite3_stmt *ins_ident;   /* store_ident_add's, prepared on first use */
    struct cube_entry *entry;  /* the process-wide cube of this hub, or NULL */
    /* the records the last filter selected in the cube numbered sel_serial */
    unsigned long long sel_serial;
    sp_buf sel_key;
    uint32_t *sel;
    size_t nsel;
    char msg[MSG_MAX];
};

/* Keeps "what: SQLite's message" for store_errmsg; returns SP_EDB. */
int store_i_dberr(sp_store *s, const char *what);
/* Prepares sql into *st (NULL on failure, with the message kept). */
int store_i_prep(sp_store *s, const char *sql, sqlite3_stmt **st);
/* Runs SQL text without parameters (literals of the program only). */
int store_i_exec(sp_store *s, const char *sql);
/* A change to what is counted: inside the caller's transaction
 * (store_begin) it marks it for store_commit's generation bump; outside
 * one, store_i_write_begin opens a transaction (*own = 1) that
 * store_i_write_end commits with the bump, or rolls back when rc != 0.
 * store_i_write_end returns rc, or the commit's error. */
int store_i_write_begin(sp_store *s, int *own);
int store_i_write_end(sp_store *s, int own, int rc);
int store_i_bulk(const sp_store *s);   /* in store_begin_bulk's transaction */

/* ---- person links (store_link.c), for the store's write paths. Each runs
 * inside the caller's write transaction. */
/* Rebuilds record_dup from the links that are not rejected between live
 * records (the lowest-numbered record of each person is kept). Call it
 * after anything that changes which records are live or linked. */
int store_i_dup_recompute(sp_store *s);
/* *yes = 1 when a record of org_id with this case_ref is in a link (so
 * deleting it must be followed by store_i_dup_recompute). */
int store_i_links_of_case(sp_store *s, long long org_id, const char *case_ref, int *yes);
/* Drops the links of a record whose cells were replaced (its encoding may
 * have changed) and recomputes the duplicates. */
int store_i_links_forget(sp_store *s, long long record_id);

/* The record's columns as store_scan reads them (store_cases.c reads one
 * record by id): is the field one column of record (or two, an age)?
 * Its column names; a cell from column i (copied into r's arena; 0 when
 * NULL); a multiple value's cell from its stored text. */
int store_i_is_single(const cb_field *f);
int store_i_col_names(const cb_field *f, char names[2][IDENT_MAX + 8]);
int store_i_cell_from_col(sp_record *r, sqlite3_stmt *st, int i, const cb_field *f, cb_cell *c);
void store_i_cell_from_text(sp_record *r, const cb_field *f, const char *t, size_t n, cb_cell *c);

/* Steps an audit SELECT of the columns seq, at, actor, org_id, action,
 * target, remote, detail, prev_hash, hash, calling cb per row (a non-zero
 * return stops and is returned); finalizes st. */
int store_i_audit_rows(sp_store *s, sqlite3_stmt *st, store_audit_cb cb, void *ud);

#endif
