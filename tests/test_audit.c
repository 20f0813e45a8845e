/* test_audit.c -- the audit log: append and verify, tampering found
 * (changed detail, deleted middle entry, cut tail against a noted head,
 * changed secret), triggers that refuse UPDATE and DELETE, entries that
 * commit or roll back with the surrounding transaction, caps and cleaning,
 * the thread's context, and the backup/restore round trip at store level. */
#include "test.h"
#include "audit.h"
#include "codebook.h"
#include "gazetteer.h"

#include <sqlite3.h>
#include <sys/stat.h>

/* ---------------------------------------------------------------- fixture */

static sp_gazetteer *gaz;
static sp_codebook *cb;
static char dbpath[64];

static void rm_db(const char *path)
{
    const char *sfx[] = {"", "-wal", "-shm", "-journal", ".tmp"};
    char p[160];
    for (size_t i = 0; i < 5; i++) {
        snprintf(p, sizeof p, "%s%s", path, sfx[i]);
        unlink(p);
    }
}

static sp_store *open_path(const char *path, int create)
{
    sp_store *s = NULL;
    sp_err e;
    sp_err_init(&e);
    int rc = store_open(&s, path, cb, create, &e);
    if (rc) { sp_err_print(&e, stderr); TFAIL("store_open: %d", rc); }
    sp_err_free(&e);
    return s;
}

static sp_store *open_new(void)
{
    sp_err e;
    sp_err_init(&e);
    if (gazetteer_load(&gaz, NULL, &e) != SP_OK) { sp_err_print(&e, stderr); TFAIL("gazetteer"); }
    if (codebook_load_default(&cb, gaz, &e) != SP_OK) { sp_err_print(&e, stderr); TFAIL("codebook"); }
    sp_err_free(&e);
    snprintf(dbpath, sizeof dbpath, "/tmp/sp_audit_XXXXXX");
    int fd = mkstemp(dbpath);
    ASSERT(fd >= 0);
    close(fd);
    unlink(dbpath);
    return open_path(dbpath, 1);
}

static void finish(sp_store *s)
{
    store_close(s);
    rm_db(dbpath);
    codebook_free(cb);
    gazetteer_free(gaz);
}

/* Runs sql over a second, raw connection (the tamperer's); returns the
 * SQLite result and the message in msg. */
static int raw(const char *sql, char *msg, size_t msgsz)
{
    sqlite3 *db = NULL;
    char *e = NULL;
    ASSERT_EQ(sqlite3_open(dbpath, &db), SQLITE_OK);
    int r = sqlite3_exec(db, sql, NULL, NULL, &e);
    if (msg) snprintf(msg, msgsz, "%s", e ? e : "");
    sqlite3_free(e);
    sqlite3_close(db);
    return r;
}

static long long q1(const char *sql)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    long long v = -1;
    ASSERT_EQ(sqlite3_open(dbpath, &db), SQLITE_OK);
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) TFAIL("%s: %s", sql, sqlite3_errmsg(db));
    if (sqlite3_step(st) == SQLITE_ROW) v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

static void append_n(sp_store *s, int n)
{
    for (int i = 1; i <= n; i++) {
        char det[64], tgt[32];
        snprintf(det, sizeof det, "{\"n\":%d}", i);
        snprintf(tgt, sizeof tgt, "submission %d", i);
        ASSERT_EQ(audit_append(s, "admin@example.org", i, "upload", tgt, "127.0.0.1", det), SP_OK);
    }
}

/* verify; returns the rc, fills r, and keeps the last error message */
static int verify(sp_store *s, const unsigned char *noted, audit_report *r, char *msg, size_t msgsz)
{
    sp_err e;
    sp_err_init(&e);
    int rc = audit_verify(s, noted, r, &e);
    snprintf(msg, msgsz, "%s", sp_err_last(&e));
    sp_err_free(&e);
    return rc;
}

/* ---------------------------------------------------------------- tests */

TEST(audit_append_verify)
{
    sp_store *s = open_new();
    audit_report r;
    char msg[512];
    ASSERT_EQ(verify(s, NULL, &r, msg, sizeof msg), SP_OK);     /* empty log */
    ASSERT_EQ(r.count, 0);
    append_n(s, 5);
    ASSERT_EQ(verify(s, NULL, &r, msg, sizeof msg), SP_OK);
    ASSERT_EQ(r.count, 5);
    ASSERT_EQ(r.first_bad, 0);
    ASSERT_EQ(r.head_seq, 5);
    long long seq;
    unsigned char h[AUDIT_HASH_LEN];
    ASSERT_EQ(store_audit_head(s, &seq, h), SP_OK);
    ASSERT_EQ(seq, 5);
    ASSERT(memcmp(h, r.head, AUDIT_HASH_LEN) == 0);
    ASSERT_EQ(q1("SELECT count(*) FROM audit WHERE length(hash) = 32 AND length(prev_hash) = 32"), 5);
    ASSERT_EQ(q1("SELECT count(*) FROM audit a JOIN audit b ON b.seq = a.seq + 1 WHERE b.prev_hash = a.hash"), 4);
    char hex[2 * AUDIT_HASH_LEN + 1];
    unsigned char back[AUDIT_HASH_LEN];
    audit_hex(h, hex);
    ASSERT_EQ(audit_parse_hex(hex, back), 0);
    ASSERT(memcmp(back, h, AUDIT_HASH_LEN) == 0);
    ASSERT(audit_parse_hex("abc", back) != 0);
    ASSERT(audit_parse_hex("zz00000000000000000000000000000000000000000000000000000000000000", back) != 0);
    finish(s);
}

TEST(audit_triggers_refuse)
{
    sp_store *s = open_new();
    char msg[256];
    append_n(s, 2);
    ASSERT(raw("UPDATE audit SET detail = '{}' WHERE seq = 1", msg, sizeof msg) != SQLITE_OK);
    ASSERT_CONTAINS(msg, "append-only");
    ASSERT(raw("DELETE FROM audit WHERE seq = 2", msg, sizeof msg) != SQLITE_OK);
    ASSERT_CONTAINS(msg, "append-only");
    ASSERT_EQ(q1("SELECT count(*) FROM audit"), 2);
    ASSERT_EQ(q1("SELECT detail = '{\"n\":1}' FROM audit WHERE seq = 1"), 1);
    finish(s);
}

TEST(audit_tamper_detail)
{
    sp_store *s = open_new();
    audit_report r;
    char msg[512];
    append_n(s, 5);
    ASSERT_EQ(raw("DROP TRIGGER audit_no_update; UPDATE audit SET detail = '{\"n\":30}' WHERE seq = 3",
                  NULL, 0), SQLITE_OK);
    ASSERT_EQ(verify(s, NULL, &r, msg, sizeof msg), SP_EINPUT);
    ASSERT_EQ(r.first_bad, 3);
    ASSERT_EQ(r.count, 5);
    ASSERT_CONTAINS(msg, "audit entry 3");
    ASSERT_CONTAINS(msg, "changed");
    finish(s);
}

/* A tamperer who also recomputes the hash without the key (plain BLAKE2b
 * or SHA-256 of the same fields) still fails: the hash is keyed. Here the
 * tamperer copies a valid hash from another entry. */
TEST(audit_tamper_hash_copied)
{
    sp_store *s = open_new();
    audit_report r;
    char msg[512];
    append_n(s, 4);
    ASSERT_EQ(raw("DROP TRIGGER audit_no_update;"
                  "UPDATE audit SET actor = 'someone@else', hash = (SELECT hash FROM audit WHERE seq = 4)"
                  " WHERE seq = 2", NULL, 0), SQLITE_OK);
    ASSERT_EQ(verify(s, NULL, &r, msg, sizeof msg), SP_EINPUT);
    ASSERT_EQ(r.first_bad, 2);
    finish(s);
}

TEST(audit_delete_middle)
{
    sp_store *s = open_new();
    audit_report r;
    char msg[512];
    append_n(s, 5);
    ASSERT_EQ(raw("DROP TRIGGER audit_no_delete; DELETE FROM audit WHERE seq = 3", NULL, 0), SQLITE_OK);
    ASSERT_EQ(verify(s, NULL, &r, msg, sizeof msg), SP_EINPUT);
    ASSERT_EQ(r.first_bad, 3);
    ASSERT_CONTAINS(msg, "missing");
    finish(s);
}

/* Deleting a middle entry and renumbering the ones after it: the link of
 * the moved entry no longer matches. */
TEST(audit_delete_and_renumber)
{
    sp_store *s = open_new();
    audit_report r;
    char msg[512];
    append_n(s, 5);
    ASSERT_EQ(raw("DROP TRIGGER audit_no_delete; DROP TRIGGER audit_no_update;"
                  "DELETE FROM audit WHERE seq = 3; UPDATE audit SET seq = seq - 1 WHERE seq > 3",
                  NULL, 0), SQLITE_OK);
    ASSERT_EQ(verify(s, NULL, &r, msg, sizeof msg), SP_EINPUT);
    ASSERT_EQ(r.first_bad, 3);
    finish(s);
}

/* The documented limit: a log cut at its end looks like a shorter log,
 * unless it is checked against a head noted earlier. */
TEST(audit_truncate_tail_needs_head)
{
    sp_store *s = open_new();
    audit_report r;
    char msg[512];
    append_n(s, 3);
    unsigned char noted3[AUDIT_HASH_LEN];
    ASSERT_EQ(verify(s, NULL, &r, msg, sizeof msg), SP_OK);
    memcpy(noted3, r.head, AUDIT_HASH_LEN);
    append_n(s, 2);
    unsigned char noted5[AUDIT_HASH_LEN];
    ASSERT_EQ(verify(s, NULL, &r, msg, sizeof msg), SP_OK);
    memcpy(noted5, r.head, AUDIT_HASH_LEN);
    /* a head noted earlier is still in a grown log */
    ASSERT_EQ(verify(s, noted3, &r, msg, sizeof msg), SP_OK);
    ASSERT_EQ(r.noted_seq, 3);
    ASSERT_EQ(raw("DROP TRIGGER audit_no_delete; DELETE FROM audit WHERE seq >= 4", NULL, 0), SQLITE_OK);
    ASSERT_EQ(verify(s, NULL, &r, msg, sizeof msg), SP_OK);   /* the limit */
    ASSERT_EQ(r.count, 3);
    ASSERT_EQ(verify(s, noted5, &r, msg, sizeof msg), SP_EINPUT);
    ASSERT_EQ(r.noted_seq, 0);
    ASSERT_CONTAINS(msg, "noted head");
    ASSERT_EQ(verify(s, noted3, &r, msg, sizeof msg), SP_OK);
    finish(s);
}

TEST(audit_secret_changed)
{
    sp_store *s = open_new();
    audit_report r;
    char msg[512];
    append_n(s, 2);
    ASSERT_EQ(store_meta_set(s, "secret", "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"),
              SP_OK);
    ASSERT_EQ(verify(s, NULL, &r, msg, sizeof msg), SP_EINPUT);
    ASSERT_EQ(r.first_bad, 1);
    ASSERT_EQ(raw("DELETE FROM meta WHERE key = 'secret'", NULL, 0), SQLITE_OK);
    ASSERT_EQ(verify(s, NULL, &r, msg, sizeof msg), SP_EINPUT);
    ASSERT_CONTAINS(msg, "secret");
    finish(s);
}

TEST(audit_transaction)
{
    sp_store *s = open_new();
    audit_report r;
    char msg[512];
    ASSERT_EQ(store_begin(s), SP_OK);
    ASSERT_EQ(audit_append(s, "a@x", 0, "upload", "gone", NULL, NULL), SP_OK);
    ASSERT_EQ(store_rollback(s), SP_OK);
    ASSERT_EQ(q1("SELECT count(*) FROM audit"), 0);
    ASSERT_EQ(store_begin(s), SP_OK);
    long long org = 0;
    ASSERT_EQ(store_org_add(s, "Org A", NULL, &org), SP_OK);
    ASSERT_EQ(audit_append(s, "a@x", org, "org_add", "Org A", NULL, NULL), SP_OK);
    ASSERT_EQ(q1("SELECT count(*) FROM audit"), 0);   /* not yet visible to others */
    ASSERT_EQ(store_commit(s), SP_OK);
    ASSERT_EQ(q1("SELECT count(*) FROM audit"), 1);
    ASSERT_EQ(q1("SELECT count(*) FROM org"), 1);
    ASSERT_EQ(q1("SELECT seq FROM audit"), 1);        /* the rolled-back one left no gap */
    ASSERT_EQ(verify(s, NULL, &r, msg, sizeof msg), SP_OK);
    ASSERT_EQ(r.count, 1);
    finish(s);
}

static int collect(const sp_audit_row *row, void *ud)
{
    sp_buf *b = ud;
    sp_buf_printf(b, "%lld|%s|%s|%s|%s|%s|%lld\n", row->seq, row->actor, row->action,
                  row->target ? row->target : "-", row->remote ? row->remote : "-",
                  row->detail ? row->detail : "-", row->org_id);
    return 0;
}

TEST(audit_caps_and_context)
{
    sp_store *s = open_new();
    audit_report r;
    char msg[512];
    ASSERT_EQ(audit_append(s, NULL, 0, "x", NULL, NULL, "{not json"), SP_EUSAGE);
    ASSERT_EQ(audit_append(s, NULL, 0, "", NULL, NULL, NULL), SP_EUSAGE);
    audit_context_set("ana@example.org", "203.0.113.9");
    ASSERT_EQ(audit_append(s, NULL, 7, "login", NULL, NULL, NULL), SP_OK);
    audit_context_set(NULL, NULL);
    ASSERT_EQ(audit_append(s, NULL, 0, "view_records", NULL, NULL, NULL), SP_OK);
    /* invalid UTF-8 and a newline in the actor; an over-long target and detail */
    char *big = malloc(AUDIT_DETAIL_MAX + 100);
    memset(big, 'a', AUDIT_DETAIL_MAX + 99);
    big[AUDIT_DETAIL_MAX + 99] = '\0';
    char *bigjson = malloc(AUDIT_DETAIL_MAX + 200);
    snprintf(bigjson, AUDIT_DETAIL_MAX + 200, "{\"s\":\"%s\"}", big);
    ASSERT_EQ(audit_append(s, "bad\xff\nname", 0, "export", big, NULL, bigjson), SP_OK);
    free(big);
    free(bigjson);
    sp_buf b;
    sp_buf_init(&b, 1 << 20);
    sp_audit_query q = {NULL, NULL, 0, 0};
    ASSERT_EQ(audit_scan(s, &q, collect, &b), SP_OK);
    ASSERT_CONTAINS(b.data, "1|ana@example.org|login|-|203.0.113.9|-|7\n");
    ASSERT_CONTAINS(b.data, "2|anonymous|view_records|-|-|-|0\n");
    ASSERT_CONTAINS(b.data, "3|bad??name|export|");
    ASSERT_CONTAINS(b.data, "{\"truncated\":true,\"bytes\":");
    ASSERT_EQ(q1("SELECT length(target) FROM audit WHERE seq = 3"), AUDIT_TEXT_MAX);
    /* filters: action, limit, newest first */
    sp_buf_reset(&b);
    sp_audit_query q2 = {NULL, "login", 0, 0};
    ASSERT_EQ(audit_scan(s, &q2, collect, &b), SP_OK);
    ASSERT(strncmp(b.data, "1|", 2) == 0 && !strstr(b.data, "\n2|"));
    sp_buf_reset(&b);
    sp_audit_query q3 = {NULL, NULL, 1, 1};
    ASSERT_EQ(audit_scan(s, &q3, collect, &b), SP_OK);
    ASSERT(strncmp(b.data, "3|", 2) == 0 && !strchr(strchr(b.data, '\n') + 1, '|'));
    sp_buf_reset(&b);
    sp_audit_query q4 = {"2999-01-01", NULL, 0, 0};
    ASSERT_EQ(audit_scan(s, &q4, collect, &b), SP_OK);
    ASSERT_EQ(b.len, 0);
    sp_buf_free(&b);
    ASSERT_EQ(verify(s, NULL, &r, msg, sizeof msg), SP_OK);
    ASSERT_EQ(r.count, 3);
    audit_context_cli();
    ASSERT(strncmp(audit_context_actor(), "cli:", 4) == 0);
    finish(s);
}

/* A hub made without `spotlight init` (no secret) gets one on its first entry. */
TEST(audit_creates_secret)
{
    sp_store *s = open_new();
    char *v = NULL;
    ASSERT_EQ(store_meta_get(s, "secret", &v), SP_OK);
    ASSERT_NULL(v);
    ASSERT_EQ(audit_append(s, "a", 0, "user_add", "b", NULL, NULL), SP_OK);
    ASSERT_EQ(store_meta_get(s, "secret", &v), SP_OK);
    ASSERT_NOT_NULL(v);
    ASSERT_EQ(strlen(v), 64);
    free(v);
    finish(s);
}

TEST(audit_backup_restore_roundtrip)
{
    sp_store *s = open_new();
    sp_err e;
    sp_err_init(&e);
    long long org = 0;
    ASSERT_EQ(store_org_add(s, "Org B", "TH", &org), SP_OK);
    append_n(s, 3);
    char bak[96], back[96], junk[96];
    snprintf(bak, sizeof bak, "%s.bak", dbpath);
    snprintf(back, sizeof back, "%s.back", dbpath);
    snprintf(junk, sizeof junk, "%s.junk", dbpath);
    store_backup_info info;
    ASSERT_EQ(store_backup_to(s, bak, 0, &info, &e), SP_OK);
    ASSERT(info.bytes > 0);
    ASSERT_EQ(info.records, 0);
    ASSERT_GE(info.schema, 2);
    struct stat sb;
    ASSERT(stat(bak, &sb) == 0);
    char tmp[112];
    snprintf(tmp, sizeof tmp, "%s.tmp", bak);
    ASSERT(stat(tmp, &sb) != 0);                           /* no temporary left */
    ASSERT_EQ(store_backup_to(s, bak, 0, &info, &e), SP_EEXIST);
    ASSERT_CONTAINS(sp_err_last(&e), "--force");
    ASSERT_EQ(store_backup_to(s, bak, 1, &info, &e), SP_OK);
    /* a restore copy, checked, installed at a new path */
    ASSERT_EQ(store_backup_check(bak, &info, &e), SP_OK);
    ASSERT_EQ(store_restore_copy(bak, tmp, &e), SP_OK);
    ASSERT_EQ(store_restore_install(tmp, back, &e), SP_OK);
    sp_store *r = open_path(back, 0);
    audit_report rep;
    char msg[512];
    ASSERT_EQ(verify(r, NULL, &rep, msg, sizeof msg), SP_OK);
    ASSERT_EQ(rep.count, 3);
    sp_org o;
    ASSERT_EQ(store_org_find(r, "Org B", &o), SP_OK);
    ASSERT_STR_EQ(o.country, "TH");
    store_org_free(&o);
    store_close(r);
    /* not a hub: text, an empty SQLite database, a missing file */
    FILE *f = fopen(junk, "w");
    ASSERT_NOT_NULL(f);
    fputs("this is not a database, it is text long enough to look like a file\n", f);
    fclose(f);
    ASSERT_EQ(store_backup_check(junk, &info, &e), SP_EINPUT);
    ASSERT_CONTAINS(sp_err_last(&e), "not a spotlight hub");
    sqlite3 *db = NULL;
    unlink(junk);
    ASSERT_EQ(sqlite3_open(junk, &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, "CREATE TABLE t(x)", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    ASSERT_EQ(store_backup_check(junk, &info, &e), SP_EINPUT);
    ASSERT_CONTAINS(sp_err_last(&e), "without the hub's schema");
    ASSERT_EQ(store_backup_check("/nonexistent/x.db", &info, &e), SP_EINPUT);
    sp_err_free(&e);
    rm_db(bak);
    rm_db(back);
    rm_db(junk);
    finish(s);
}

TEST_LIST(audit_append_verify, audit_triggers_refuse, audit_tamper_detail, audit_tamper_hash_copied,
          audit_delete_middle, audit_delete_and_renumber, audit_truncate_tail_needs_head,
          audit_secret_changed, audit_transaction, audit_caps_and_context, audit_creates_secret,
          audit_backup_restore_roundtrip)
