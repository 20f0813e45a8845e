/* store.h -- the only module that speaks SQL.
 *
 * SQLite now (WAL, foreign keys, STRICT tables); a PostgreSQL back end
 * would be a second implementation of these same functions.
 *
 * Tables (see docs/store.md):
 *   meta(key, value)                           hub settings, codebook version
 *   org(id, name, country, region, subregion, created)
 *   submission(id, org_id, created, filename, sha256, rows, status,
 *              codebook_version, synthetic)
 *   record(id, submission_id, org_id, codebook_version, synthetic,
 *          <one column per single-valued codebook field; an age field is
 *           two columns NAME_lo, NAME_hi>)
 *   record_multi(record_id, field, value)       multiple-valued fields
 *   g_<group>(record_id, seq, is_last, <one column per sub-field>)
 * The record, multi and group columns follow the codebook: opening a store
 * with a codebook that has new fields adds their columns (a migration);
 * columns are never dropped, since old records keep old fields.
 *
 * Outside input reaches SQL only as bound parameters. Field names in SQL
 * come from the codebook, which the store checks against [a-z][a-z0-9_]*. */
#ifndef SP_STORE_H
#define SP_STORE_H

#include "record.h"

typedef struct sp_store sp_store;

/* Opens (and with `create`, creates) the hub at path, migrating its schema
 * to this program's version. The codebook is borrowed. */
int store_open(sp_store **out, const char *path, const sp_codebook *cb,
               int create, sp_err *err);
void store_close(sp_store *s);
/* The schema version (PRAGMA user_version) this program migrates hubs to. */
int store_schema_version(void);
const char *store_errmsg(const sp_store *s);   /* last SQLite message */

/* Transactions. begin is BEGIN IMMEDIATE: one writer at a time. */
int store_begin(sp_store *s);
/* The same for a transaction that only adds new records (an import without
 * --replace): SQLite's foreign-key checks are off until it ends, because
 * every reference it writes is one the store has just made (the record id
 * it inserted, the submission and organisation it added or found in the
 * same transaction), and the checks were a seventh of an import's time.
 * Deleting a record in it is refused (its cascades would not run). */
int store_begin_bulk(sp_store *s);
int store_commit(sp_store *s);
int store_rollback(sp_store *s);

/* ---- settings */
int store_meta_get(sp_store *s, const char *key, char **value); /* NULL if unset */
int store_meta_set(sp_store *s, const char *key, const char *value);

/* ---- organisations */
typedef struct sp_org {
    long long id;
    char *name;
    char *country;             /* alpha-2 or NULL (unknown) */
    char *region;              /* M49 region of the country, or NULL */
    char *subregion;
    char *created;
    long long records;         /* filled by store_org_list */
} sp_org;
void store_org_free(sp_org *o);
/* Adds; SP_EEXIST if the name (case-insensitive) is taken. */
int store_org_add(sp_store *s, const char *name, const char *country, long long *id);
/* Looks up by name (case-insensitive); SP_EOF if there is none. */
int store_org_find(sp_store *s, const char *name, sp_org *out);
int store_org_set_country(sp_store *s, long long id, const char *country);
int store_org_list(sp_store *s, sp_org **out, size_t *n);

/* ---- submissions */
typedef struct sp_submission {
    long long id, org_id;
    char *org_name;
    char *created;
    char *filename;
    char sha256[65];
    long long rows;
    char *status;              /* "stored", "withdrawn" */
    int synthetic;
} sp_submission;
void store_submission_free(sp_submission *x);
/* Finds a stored submission of this org with the same SHA-256; SP_EOF if none. */
int store_submission_find_sha(sp_store *s, long long org_id, const char *sha256,
                              long long *id);
int store_submission_add(sp_store *s, long long org_id, const char *filename,
                         const char *sha256, int synthetic, long long *id);
int store_submission_set_rows(sp_store *s, long long id, long long rows);
int store_submission_list(sp_store *s, long long org_id /* 0: all */,
                          sp_submission **out, size_t *n);

/* ---- records */
/* Stores one validated record in the submission (inside a transaction). */
int store_record_add(sp_store *s, long long submission_id, long long org_id,
                     const sp_record *r, int synthetic, long long *record_id);
/* --replace: deletes this org's records with the given case reference,
 * setting *deleted to how many went. */
int store_record_delete_case(sp_store *s, long long org_id, const char *case_ref,
                             long long *deleted);
long long store_record_count(sp_store *s);

/* ---- filters, shared by export and stats. Values are canonical codes
 * (the caller normalises through the codebook). */
#define SP_MAX_WHERE 16
typedef struct sp_where {
    const char *field;         /* top-level field, or "group.sub" (any row) */
    const char *value;
} sp_where;

typedef struct sp_filter {
    int year_from, year_to;    /* 0: open */
    const char *org_region;    /* M49 region of the reporting org, or NULL */
    long long org_id;          /* 0: all organisations */
    sp_where where[SP_MAX_WHERE];
    size_t nwhere;
} sp_filter;

/* Streams every record matching f in id order, calling cb with the record
 * filled in (valid only during the call) and its provenance. Constant
 * memory. cb returns nonzero to stop (that value is returned). */
typedef struct sp_record_meta {
    long long id, submission_id, org_id;
    const char *org_name;
    const char *codebook_version;
    int synthetic;
} sp_record_meta;
typedef int (*store_record_cb)(const sp_record *r, const sp_record_meta *m, void *ud);
int store_scan(sp_store *s, const sp_filter *f, store_record_cb cb, void *ud);

/* Counts records matching f, grouped by up to 4 dimensions. A dimension is
 *   a top-level single field ("gender", "nationality", "year_identified"),
 *   an age field's bound ("age.lo", "age.hi"),
 *   a multiple field ("control_means": a record counts once per value),
 *   a group sub-field at the final row ("exploitation.country") or at any
 *   row ("exploitation[].country": once per distinct value),
 *   "org", "org_region".
 * cb gets the values (NULL where missing) and the count, in order of the
 * dimensions' values. Returns SP_EUSAGE for an unknown dimension. */
typedef int (*store_count_cb)(const char *const *vals, long long count, void *ud);
int store_count(sp_store *s, const sp_filter *f, const char *const *dims,
                size_t ndims, store_count_cb cb, void *ud);
/* Records matching f (distinct records, whatever the dimensions). */
int store_count_records(sp_store *s, const sp_filter *f, long long *n);

/* Is the dimension or filter field name one the store understands? */
int store_dim_valid(const sp_store *s, const char *dim);

/* ---- added after the first contract */
/* Sets a submission's status: "stored" or "withdrawn". Records of a
 * withdrawn submission stay in the hub but are left out of every scan and
 * count. SP_EUSAGE for another status or an unknown id. */
int store_submission_set_status(sp_store *s, long long id, const char *status);

/* ---- the count cube (docs/store.md, "The cube") */
/* The hub's generation: a number in meta bumped inside every commit that
 * changes which records are counted or how (records added or deleted,
 * submissions withdrawn or restored, an org's region). One cheap SELECT;
 * sees commits of other connections and processes. 0 for a new hub. */
int store_generation(sp_store *s, long long *gen);
/* How store_count and store_count_records answer: -1 (default) from the
 * in-memory cube when the hub has more than 20,000 live records, else SQL;
 * 0 always SQL; 1 always the cube. The environment variable
 * SPOTLIGHT_CUBE=0 or =1, read by store_open, sets the same. Inside a
 * write transaction SQL always answers. */
void store_set_cube_mode(sp_store *s, int mode);
/* The process-wide cube of this handle's hub, for tests and benchmarks. */
typedef struct store_cube_stats {
    long long builds;          /* cubes built for this hub since its first open handle */
    long long generation;      /* of the current cube */
    long long records;         /* live records in it */
    size_t bytes;              /* memory it holds */
    int handles;               /* open handles sharing it */
} store_cube_stats;
int store_cube_info(sp_store *s, store_cube_stats *out);

/* ---- audit log and backup (docs/audit.md). The hashing and the rules
 * are audit.c's; these only move rows and pages. */
#define STORE_HASH_LEN 32
typedef struct sp_audit_row {
    long long seq;
    const char *at, *actor;
    long long org_id;          /* 0: none */
    const char *action, *target, *remote, *detail;   /* NULL: none */
    unsigned char prev_hash[STORE_HASH_LEN], hash[STORE_HASH_LEN];
    int hash_len, prev_len;    /* as stored (32 unless tampered with) */
} sp_audit_row;
/* Is a transaction open on this handle? */
int store_in_transaction(sp_store *s);
/* The last entry's seq and hash (seq 0 and zero hash for an empty log). */
int store_audit_head(sp_store *s, long long *seq, unsigned char hash[STORE_HASH_LEN]);
/* Inserts one entry exactly as given (the caller computed the hash). */
int store_audit_insert(sp_store *s, const sp_audit_row *r);
/* Entries in seq order (newest first with `newest_first`), optionally only
 * from `since` (an ISO date or time, compared as text) and of `action`, at
 * most `limit` (0: all). The row is valid during the call; cb returns
 * nonzero to stop (that value is returned). */
typedef struct sp_audit_query {
    const char *since, *action;
    long long limit;
    int newest_first;
} sp_audit_query;
typedef int (*store_audit_cb)(const sp_audit_row *r, void *ud);
int store_audit_scan(sp_store *s, const sp_audit_query *q, store_audit_cb cb, void *ud);
/* One page of the admin audit page (store_admin.c), newest first: only
 * entries of `actor` and `action` (exact; NULL: any), dated from `from`
 * and up to `to` (dates or times compared as text, `to` inclusive of its
 * prefix: "2026-11-25" takes that whole day; NULL: open), and with seq
 * below `before` (0: from the newest); at most `limit` (0: all). */
typedef struct sp_audit_page {
    const char *actor, *action, *from, *to;
    long long before, limit;
} sp_audit_page;
int store_audit_page(sp_store *s, const sp_audit_page *q, store_audit_cb cb, void *ud);

typedef struct store_backup_info {
    long long bytes;           /* size of the file */
    long long records;         /* rows in record */
    int schema;                /* PRAGMA user_version */
} store_backup_info;
/* Copies the open hub to `path` with SQLite's online backup API, a few
 * pages per step with short sleeps so that a running server and writers
 * are not held up; writes path.tmp, fsyncs, renames. Refuses (SP_EEXIST)
 * an existing path unless `force`. Then checks the copy (store_backup_check). */
int store_backup_to(sp_store *s, const char *path, int force, store_backup_info *info,
                    sp_err *err);
/* Read-only checks of a file that should be a spotlight hub: SQLite,
 * integrity_check ok, a known schema version, the hub's tables. SP_EINPUT
 * with a sentence in err when it is not. */
int store_backup_check(const char *path, store_backup_info *info, sp_err *err);
/* Copies the hub at `from` (read-only) to `to` with the backup API (to is
 * replaced; fsynced). The caller checks the copy, then installs it with
 * store_restore_install. */
int store_restore_copy(const char *from, const char *to, sp_err *err);
/* Renames `tmp` over `hub`. When hub exists its WAL is checkpointed first;
 * if another process still has it open (its -wal or -shm remain), refuses
 * with SP_EEXIST: a stale WAL would be replayed into the restored file. */
int store_restore_install(const char *tmp, const char *hub, sp_err *err);

/* ---- accounts, API tokens, sessions and login throttling (auth.c,
 * docs/auth.md). Times are Unix seconds (0: never); hashes are the
 * STORE_AUTH_HASH_LEN-byte keyed hashes auth.c computed: no secret value
 * reaches the store. */
#define STORE_AUTH_HASH_LEN 32
typedef struct sp_account {
    long long id, org_id;
    char *email, *org_name, *role, *pwhash;
    int disabled;
    long long created;
} sp_account;
void store_account_free(sp_account *a);
/* SP_EEXIST if the email (case-insensitive) is taken. */
int store_account_add(sp_store *s, const char *email, long long org_id, const char *role,
                      const char *pwhash, long long created, long long *id);
/* By email when it is not NULL, else by id; SP_EOF if none. */
int store_account_find(sp_store *s, const char *email, long long id, sp_account *out);
int store_account_list(sp_store *s, sp_account **out, size_t *n);
/* SP_EOF if no such account. */
int store_account_set_disabled(sp_store *s, long long id, int disabled);
int store_account_set_pwhash(sp_store *s, long long id, const char *pwhash);

typedef struct sp_token_row {
    long long id, account_id;
    char *email, *name;
    long long created, last_used, revoked;
} sp_token_row;
void store_token_free(sp_token_row *t);
int store_token_add(sp_store *s, long long account_id, const char *name,
                    const unsigned char hash[STORE_AUTH_HASH_LEN], long long created, long long *id);
/* A token that is not revoked; SP_EOF if none. */
int store_token_lookup(sp_store *s, const unsigned char hash[STORE_AUTH_HASH_LEN], long long *id,
                       long long *account_id);
int store_token_touch(sp_store *s, long long id, long long now);
/* SP_EOF if there is no such token or it is already revoked. */
int store_token_revoke(sp_store *s, long long id, long long now);
int store_token_list(sp_store *s, sp_token_row **out, size_t *n);

int store_session_add(sp_store *s, const unsigned char hash[STORE_AUTH_HASH_LEN],
                      long long account_id, long long now);
/* SP_EOF if none. */
int store_session_get(sp_store *s, const unsigned char hash[STORE_AUTH_HASH_LEN],
                      long long *account_id, long long *created, long long *last_seen);
int store_session_touch(sp_store *s, const unsigned char hash[STORE_AUTH_HASH_LEN], long long now);
int store_session_delete(sp_store *s, const unsigned char hash[STORE_AUTH_HASH_LEN]);
int store_session_delete_account(sp_store *s, long long account_id);
/* Deletes sessions created before `created_before` or last seen before
 * `seen_before`. */
int store_session_prune(sp_store *s, long long created_before, long long seen_before);

/* Failed-login counters by hashed key (0 and 0 when none). */
int store_throttle_get(sp_store *s, const unsigned char key[STORE_AUTH_HASH_LEN],
                       long long *failures, long long *last_failure);
int store_throttle_fail(sp_store *s, const unsigned char key[STORE_AUTH_HASH_LEN], long long now);
int store_throttle_clear(sp_store *s, const unsigned char key[STORE_AUTH_HASH_LEN]);
int store_throttle_prune(sp_store *s, long long before);

/* ---- idempotency keys of POST /api/v1/submissions (portal.c): the reply
 * (status and body) stored under (account, key) with the body's hash.
 * get: SP_EOF if none; *response is the caller's to free. put: SP_EDB if
 * the key is already stored (a concurrent first request). */
int store_idem_get(sp_store *s, long long account_id, const char *key,
                   unsigned char body_hash[STORE_AUTH_HASH_LEN], int *status, char **response);
int store_idem_put(sp_store *s, long long account_id, const char *key,
                   const unsigned char body_hash[STORE_AUTH_HASH_LEN], int status,
                   const char *response, long long now);

/* ---- person links and duplicates (store_link.c, docs/linkage.md).
 * A link joins two records of different organisations that are the same
 * person (a < b); its status is proposed, confirmed or rejected. Links
 * that are not rejected, between live records, make record_dup: every
 * person keeps its lowest-numbered live record, the others are left out
 * of every count (store_count, store_count_records, the cube), so a person
 * is counted once. Writes recompute record_dup in their transaction and
 * bump the generation. */
typedef struct sp_person_enc {
    long long record_id, org_id;
    char *clk;                 /* person_clk as stored (base64), or NULL */
    char *block;               /* person_block as stored (16 hex), or NULL */
} sp_person_enc;
/* The live records with a person_clk, in id order (caller frees with
 * store_person_free). SP_EUSAGE when the codebook has no person fields. */
int store_person_load(sp_store *s, sp_person_enc **out, size_t *n);
void store_person_free(sp_person_enc *v, size_t n);
typedef struct sp_link_new {
    long long a, b;            /* record ids, either order */
    double score;
} sp_link_new;
/* Replaces the proposed links by v (a pair already decided keeps its
 * status and score), recomputes the duplicates; *dups (may be NULL) gets
 * how many records are now counted in another's place. */
int store_link_propose(sp_store *s, const sp_link_new *v, size_t n, long long *dups);
/* Sets a link's status ("confirmed", "rejected", or "proposed" to undo),
 * by whom and when (UTC now); SP_EOF when there is no such link. */
int store_link_decide(sp_store *s, long long a, long long b, const char *status,
                      const char *by, long long *dups);
typedef struct sp_link_row {
    long long a, b;
    double score;
    char status[12];
    char *decided_by, *decided_at;         /* NULL while proposed */
    long long org_a, org_b;
    char *org_a_name, *org_b_name;
    int live;                  /* both records are live */
    int merged;                /* one of them is in record_dup */
} sp_link_row;
/* Links (status NULL: all), proposed first, then by score. Organisation
 * names and record ids only: never a record's cells. */
int store_link_list(sp_store *s, const char *status, sp_link_row **out, size_t *n);
void store_link_list_free(sp_link_row *v, size_t n);
/* Records counted in another's place (rows of record_dup). */
int store_dup_count(sp_store *s, long long *n);
/* Rebuilds record_dup in a write of its own (tests, repair). */
int store_dup_recompute(sp_store *s);

/* ---- investigations across organisations (store_invest.c,
 * docs/investigations.md). Reads indicator_key of live records only, keys
 * with a hash only; never a clear value. A case reference is returned
 * only for records of the viewer's own organisation. Lists are capped
 * (max; 0: 1000; at most 100000) and say when they were cut. */
#define SP_INV_TYPE_MAX 32
#define SP_INV_HASH_MAX 72     /* "h1:" + 64 hex fits */
typedef struct sp_inv_query {
    int min_orgs;              /* an indicator of cases of at least this many organisations */
    int min_cases;             /* ... and at least this many cases (records) */
    const char *type;          /* only this indicator type; NULL: all */
    long long viewer_org;      /* case_ref of this organisation's records; 0: none */
    size_t max;                /* rows returned at most */
} sp_inv_query;
typedef struct sp_inv_org_count {
    long long org_id;
    char *org_name;
    long long cases;
} sp_inv_org_count;
typedef struct sp_inv_indicator {
    char type[SP_INV_TYPE_MAX + 1], hash[SP_INV_HASH_MAX + 1];
    long long cases;           /* live records with it */
    sp_inv_org_count *orgs;    /* per organisation, most cases first */
    size_t norgs;
    char *roles;               /* distinct roles, sorted, comma-separated; NULL: none */
    int year_first, year_last; /* 0: unknown */
} sp_inv_indicator;
/* One (indicator, live record) pair. */
typedef struct sp_inv_link {
    char type[SP_INV_TYPE_MAX + 1], hash[SP_INV_HASH_MAX + 1];
    long long record_id, org_id;
    char *org_name;
    char *roles;               /* as above */
    int year;                  /* 0: unknown */
    char *case_ref;            /* only for the viewer's organisation; else NULL */
} sp_inv_link;
/* Indicators matching q, most organisations then most cases first. */
int store_inv_indicators(sp_store *s, const sp_inv_query *q, sp_inv_indicator **out,
                         size_t *n, int *truncated);
void store_inv_indicators_free(sp_inv_indicator *v, size_t n);
/* One indicator: counts per organisation, roles, years; and in *own the
 * viewer's own cases with it (viewer_org 0: none). SP_EOF when no live
 * record has it. Clear *out with store_inv_indicator_clear. */
int store_inv_indicator(sp_store *s, const char *type, const char *hash, long long viewer_org,
                        sp_inv_indicator *out, sp_inv_link **own, size_t *nown, int *truncated);
void store_inv_indicator_clear(sp_inv_indicator *x);
/* The links of the indicators matching q, by type, hash, record. */
int store_inv_links(sp_store *s, const sp_inv_query *q, sp_inv_link **out, size_t *n,
                    int *truncated);
void store_inv_links_free(sp_inv_link *v, size_t n);
/* Tests and tools: gives every indicator row without a hashed key one,
 * made by cb from its type and stored value (cb returns nonzero to skip
 * the row). Counted data do not change: no generation bump needed, but it
 * goes through the store's write path all the same. */
typedef int (*store_inv_hash_cb)(const char *type, const char *value,
                                 char out[SP_INV_HASH_MAX + 1], void *ud);
int store_inv_keys_fill(sp_store *s, store_inv_hash_cb cb, void *ud);

/* ---- indicator match keys (store_ident.c, docs/identifiers.md): one row
 * of indicator_key per stored g_indicators row with a value. hash is
 * "h1:<64 hex>" or NULL while a clear value waits for the hub's key;
 * valid 0 is a value flagged invalid, with the reason in note. */
/* Adds (or replaces) the key of row seq of a record, inside the caller's
 * transaction. hash and note may be NULL. */
int store_ident_add(sp_store *s, long long record_id, long long seq, const char *type,
                    const char *hash, int valid, const char *note);
/* The indicator rows with a value and no hashed key yet (a key with no
 * hash, or no key row at all: stored by the case form, or before match
 * keys existed), with what hashing them needs: the stored value, its
 * type, chain and platform, and the record's nationality and origin
 * country (NULL when missing). Caller frees. Fill with store_ident_add. */
typedef struct sp_ident_row {
    long long record_id, seq;
    char *type, *value, *chain, *platform, *nationality, *origin;
} sp_ident_row;
int store_ident_unhashed(sp_store *s, sp_ident_row **out, size_t *n);
void store_ident_rows_free(sp_ident_row *rows, size_t n);
/* How many keys there are, and how many still have no hash. */
int store_ident_count(sp_store *s, long long *total, long long *unhashed);

/* ---- the case form's records (store_cases.c, docs/caseform.md): one
 * record typed in the portal, read back, replaced in place; an
 * organisation's records page by page; the Idempotency-Key reservation
 * of POST /api/v1/submissions. */
typedef struct sp_case_info {
    long long id, submission_id, org_id;
    int synthetic;
    int withdrawn;             /* 1: its submission is withdrawn */
    char filename[128];        /* the submission's (cut) */
    char created[24];          /* the submission's date */
} sp_case_info;
/* Stores r as a new submission of org_id ("web form", 1 row, sha256 of
 * what was sent) with its one record, inside the caller's transaction
 * (store_begin): the commit bumps the generation. */
int store_case_add(sp_store *s, long long org_id, const sp_record *r, const char *sha256,
                   long long *submission_id, long long *record_id);
/* Reads record `id` into r (record_init'ed for the store's codebook; reset
 * first) and, when info is not NULL, its provenance. Withdrawn ones too
 * (info says so). SP_EOF if there is no such record. */
int store_case_get(sp_store *s, long long id, sp_record *r, sp_case_info *info);
/* Replaces the cells of record `id` by r's, keeping its id, submission,
 * organisation and synthetic flag; what was derived from the old cells
 * (indicator keys, person links, duplicate marks) goes with them, as with
 * import --replace. Inside the caller's transaction or its own; bumps the
 * generation. SP_EOF if there is no such record. */
int store_case_replace(sp_store *s, long long id, const sp_record *r);
/* The ids of org_id's records (withdrawn ones too), newest first, from
 * `offset`, at most `cap` into ids; *total counts them all. */
int store_case_page(sp_store *s, long long org_id, long long offset, size_t cap,
                    long long *ids, size_t *n, long long *total);
/* Reserves (account, key) before the import runs: a 'pending' row (status
 * 0, empty response). SP_OK: reserved by this call; SP_EEXIST: another
 * request holds or answered it (store_idem_get tells which: status 0 is
 * pending). A pending row older than `stale_before` (Unix seconds) is an
 * abandoned one (its process died) and is taken over. */
int store_idem_reserve(sp_store *s, long long account_id, const char *key,
                       const unsigned char body_hash[STORE_AUTH_HASH_LEN], long long now,
                       long long stale_before);
/* Fills the pending row with the reply; SP_EOF if it is not pending. */
int store_idem_finish(sp_store *s, long long account_id, const char *key, int status,
                      const char *response);
/* Drops a pending row (the request failed without an answer to keep). */
int store_idem_release(sp_store *s, long long account_id, const char *key);

#endif
