/* test_encode.c -- match keys (known answer against libsodium called
 * here directly), key files, spotlight encode on small files (what is
 * replaced, what is dropped, all or nothing), and the hub side: import
 * refuses clear identifying columns, checks encodings, and gives a value
 * shared in the clear the same match key as the partner's encoding. */
#include "test.h"
#include "encode.h"
#include "import.h"
#include "store.h"

#include <sodium.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

static const uint8_t KEY[32] = {
    1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
    17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32};

typedef struct fixture {
    sp_gazetteer *gaz;
    sp_codebook *cb;
    sp_store *s;
    char db[64];
    sp_buf out;
    sp_err err;
} fixture;

static void setup(fixture *fx, int with_store)
{
    memset(fx, 0, sizeof *fx);
    sp_err_init(&fx->err);
    sp_buf_init(&fx->out, 1 << 24);
    ASSERT_EQ(sodium_init() >= 0, 1);
    ASSERT_EQ(gazetteer_load(&fx->gaz, NULL, &fx->err), SP_OK);
    ASSERT_EQ(codebook_load_default(&fx->cb, fx->gaz, &fx->err), SP_OK);
    if (with_store) {
        snprintf(fx->db, sizeof fx->db, "/tmp/sp_encode_XXXXXX");
        int fd = mkstemp(fx->db);
        ASSERT(fd >= 0);
        close(fd);
        unlink(fx->db);
        if (store_open(&fx->s, fx->db, fx->cb, 1, &fx->err) != SP_OK) {
            sp_err_print(&fx->err, stderr);
            TFAIL("store_open");
        }
    }
}

static void teardown(fixture *fx)
{
    char p[96];
    store_close(fx->s);
    if (fx->db[0]) {
        unlink(fx->db);
        snprintf(p, sizeof p, "%s-wal", fx->db);
        unlink(p);
        snprintf(p, sizeof p, "%s-shm", fx->db);
        unlink(p);
    }
    codebook_free(fx->cb);
    gazetteer_free(fx->gaz);
    sp_buf_free(&fx->out);
    sp_err_free(&fx->err);
    import_set_key(NULL);
}

/* The expected match key, computed here with libsodium's one-shot call
 * over the message built byte by byte. */
static void expect_hash(const char *type, const char *canon, char out[72])
{
    uint8_t msg[512], h[32];
    size_t n = 0;
    const char *dom = "spotlight/indicator/v1";
    memcpy(msg + n, dom, strlen(dom)), n += strlen(dom);
    msg[n++] = 0;
    memcpy(msg + n, type, strlen(type)), n += strlen(type);
    msg[n++] = 0;
    memcpy(msg + n, canon, strlen(canon)), n += strlen(canon);
    ASSERT_EQ(crypto_generichash(h, 32, msg, n, KEY, 32), 0);
    memcpy(out, "h1:", 3);
    sodium_bin2hex(out + 3, 69, h, 32);
}

static int has_bytes(const sp_buf *b, const char *needle)
{
    size_t n = strlen(needle);
    for (size_t i = 0; i + n <= b->len; i++)
        if (memcmp(b->data + i, needle, n) == 0) return 1;
    return 0;
}

static const sp_problem *problem(const sp_err *e, const char *rule)
{
    for (size_t i = 0; i < e->n; i++)
        if (strcmp(e->items[i].rule, rule) == 0) return &e->items[i];
    return NULL;
}

/* ------------------------------------------------------------ match keys */

TEST(enc_hash_known_answer)
{
    char want[72], got[ENCODE_HASH_CAP];
    ASSERT_EQ(sodium_init() >= 0, 1);
    expect_hash("phone", "+84912345678", want);
    encode_hash(KEY, "phone", "+84912345678", 1, got);
    ASSERT_STR_EQ(got, want);
    ASSERT_EQ(strlen(got), 67);
    encode_hash(KEY, "phone", "+84912345678", 0, got);
    ASSERT(strncmp(got, "h1x:", 4) == 0);
    ASSERT_STR_EQ(got + 4, want + 3);
    /* the type is part of what is hashed */
    encode_hash(KEY, "email", "+84912345678", 1, got);
    ASSERT(strcmp(got, want) != 0);
    /* and so is the key */
    uint8_t k2[32];
    memcpy(k2, KEY, 32);
    k2[31] ^= 1;
    encode_hash(k2, "phone", "+84912345678", 1, got);
    ASSERT(strcmp(got, want) != 0);
}

TEST(enc_hash_shapes)
{
    int v = -1;
    char h[ENCODE_HASH_CAP];
    encode_hash(KEY, "email", "a@b.org", 1, h);
    ASSERT_EQ(encode_is_hash(h, strlen(h), &v), 1);
    ASSERT_EQ(v, 1);
    encode_hash(KEY, "email", "a@b.org", 0, h);
    ASSERT_EQ(encode_is_hash(h, strlen(h), &v), 1);
    ASSERT_EQ(v, 0);
    ASSERT_EQ(encode_is_hash("foo@example.org", 15, &v), 0);
    ASSERT_EQ(encode_is_hash("h1:abc", 6, &v), -1);
    char up[ENCODE_HASH_CAP];
    encode_hash(KEY, "email", "a@b.org", 1, up);
    for (char *p = up + 3; *p; p++)
        if (*p >= 'a' && *p <= 'f') { *p = (char)(*p - 32); break; }
    ASSERT_EQ(encode_is_hash(up, strlen(up), &v), -1);     /* uppercase hex */
    h[strlen(h) - 1] = 0;
    ASSERT_EQ(encode_is_hash(h, strlen(h), &v), -1);       /* 63 hex */
    ASSERT_EQ(encode_is_block("00000000000012ab", 16), 1);
    ASSERT_EQ(encode_is_block("00000000000012AB", 16), 0);
    ASSERT_EQ(encode_is_block("12ab", 4), 0);
    char clk[173];
    uint8_t raw[128] = {0};
    raw[5] = 7;
    sodium_bin2base64(clk, sizeof clk, raw, sizeof raw, sodium_base64_VARIANT_ORIGINAL);
    ASSERT_EQ(strlen(clk), 172);
    ASSERT_EQ(encode_is_clk(clk, 172), 1);
    /* a byte outside the alphabet that libsodium's decoder lets through
     * (found by fuzz_links): refused, as the linker refuses it */
    clk[160] = (char)0x80;
    ASSERT_EQ(encode_is_clk(clk, 172), 0);
    clk[160] = 'A';
    ASSERT_EQ(encode_is_clk(clk, 172), 1);
    clk[10] = '*';
    ASSERT_EQ(encode_is_clk(clk, 172), 0);
    ASSERT_EQ(encode_is_clk(clk, 100), 0);
    ASSERT_STR_EQ(encode_clear_column("Given name", 10), "given_name");
    ASSERT_STR_EQ(encode_clear_column("DOB", 3), "birth_date");
    ASSERT_STR_EQ(encode_clear_column("passport_number", 15), "document_number");
    ASSERT_NULL(encode_clear_column("nationality", 11));
}

/* ------------------------------------------------------------ key files */

TEST(enc_key_files)
{
    char dir[] = "/tmp/sp_key_XXXXXX", path[128];
    uint8_t k[32];
    sp_err e;
    struct stat st;
    ASSERT_NOT_NULL(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/partner.key", dir);
    sp_err_init(&e);
    ASSERT_EQ(encode_key_load(path, k, &e), SP_EUSAGE);        /* missing */
    ASSERT_CONTAINS(sp_err_last(&e), "no such key file");
    sp_err_clear(&e);
    ASSERT_EQ(encode_key_new(path, &e), SP_OK);
    ASSERT_EQ(stat(path, &st), 0);
    ASSERT_EQ(st.st_mode & 0777, 0600);
    ASSERT_EQ(st.st_size, 65);
    ASSERT_EQ(encode_key_load(path, k, &e), SP_OK);
    ASSERT_EQ(encode_key_new(path, &e), SP_EEXIST);             /* never overwritten */
    uint8_t k2[32];
    ASSERT_EQ(encode_key_load(path, k2, &e), SP_OK);
    ASSERT_EQ(memcmp(k, k2, 32), 0);
    sp_err_clear(&e);
    ASSERT_EQ(chmod(path, 0644), 0);                            /* readable by others */
    ASSERT_EQ(encode_key_load(path, k, &e), SP_EINPUT);
    ASSERT_NOT_NULL(problem(&e, "key-file-mode"));
    ASSERT_CONTAINS(sp_err_last(&e), "chmod 600");
    sp_err_clear(&e);
    static const char *const bad[] = {
        "0102\n",
        "0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20",     /* no newline */
        "0102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F20\n",   /* uppercase */
        "0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20\n\n",
        "zz02030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        unlink(path);
        FILE *f = fopen(path, "w");
        ASSERT_NOT_NULL(f);
        fputs(bad[i], f);
        fclose(f);
        ASSERT_EQ(chmod(path, 0600), 0);
        if (encode_key_load(path, k, &e) == SP_OK) TFAIL("accepted key file %zu", i);
        ASSERT_NOT_NULL(problem(&e, "key-file-format"));
        sp_err_clear(&e);
    }
    /* the right shape loads to the right bytes */
    unlink(path);
    FILE *f = fopen(path, "w");
    fputs("0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20\n", f);
    fclose(f);
    ASSERT_EQ(chmod(path, 0600), 0);
    ASSERT_EQ(encode_key_load(path, k, &e), SP_OK);
    ASSERT_EQ(memcmp(k, KEY, 32), 0);
    unlink(path);
    rmdir(dir);
    sp_err_free(&e);
}

/* ------------------------------------------------------------ encode */

static const char *PARTNER =
    "case_ref,year_identified,nationality,gender,given_name,family_name,birth_date,"
    "document_number,indicators_1_type,indicators_1_value,indicators_1_chain,"
    "indicators_2_type,indicators_2_value,promised_job\n"
    "A1,2023,Viet Nam,female,Thị Ánh,Nguyễn,1998-03-07,B 1234567,crypto_wallet,"
    "0x52908400098527886E0F7030069857D2E4169EE7,ethereum,phone,0912 345 678,\"call centre, Sihanoukville\"\n"
    "A2,2024,KH,male,Sokha,Chanthavong,1990,,email,Foo@Example.COM,,phone,notaphone,\n";

static int encode_str(fixture *fx, const char *csv, const char *mapping)
{
    encode_opts o = {mapping, NULL, SP_FMT_CSV};
    return encode_buffer(KEY, fx->cb, csv, strlen(csv), "partner.csv", &o, &fx->out, &fx->err);
}

TEST(enc_small_csv)
{
    fixture fx;
    setup(&fx, 0);
    if (encode_str(&fx, PARTNER, NULL) != SP_OK) {
        sp_err_print(&fx.err, stderr);
        TFAIL("encode failed");
    }
    const char *o = fx.out.data;
    ASSERT(strncmp(o, "case_ref,year_identified,nationality,gender,indicators_1_type,"
                      "indicators_1_value,indicators_1_chain,indicators_2_type,"
                      "indicators_2_value,promised_job,person_clk,person_block,person_doc\r\n",
                   strlen("case_ref,year_identified,nationality,gender,indicators_1_type,")) == 0);
    ASSERT_CONTAINS(o, ",promised_job,person_clk,person_block,person_doc\r\n");
    /* every other column as it came, quoted where CSV needs it */
    ASSERT_CONTAINS(o, "A1,2023,Viet Nam,female,crypto_wallet,h1:");
    ASSERT_CONTAINS(o, "\"call centre, Sihanoukville\"");
    /* the wallet: EIP-55 checked, hashed in its canonical (lower-case) form */
    char want[72];
    expect_hash("crypto_wallet", "0x52908400098527886e0f7030069857d2e4169ee7", want);
    ASSERT_CONTAINS(o, want);
    /* the phone, read in the nationality (Viet Nam, +84) */
    expect_hash("phone", "+84912345678", want);
    ASSERT_CONTAINS(o, want);
    /* an invalid value: h1x, with a warning that does not echo it */
    ASSERT_CONTAINS(o, ",phone,h1x:");
    const sp_problem *w = problem(&fx.err, "invalid-indicator");
    ASSERT_NOT_NULL(w);
    ASSERT_EQ(w->warning, 1);
    ASSERT_EQ(w->row, 3);
    ASSERT_NULL(w->value);
    ASSERT_EQ(fx.err.count, 0);
    /* two data rows, each with person columns of the right shapes */
    size_t lines = 0;
    for (const char *p = o; (p = strstr(p, "\r\n")); p += 2) lines++;
    ASSERT_EQ(lines, 3);
    const char *r1 = strstr(o, "\r\nA1,");
    ASSERT_NOT_NULL(r1);
    const char *eol = strstr(r1 + 2, "\r\n");
    const char *c = eol;
    int commas = 0;
    while (c > r1 && commas < 3) if (*--c == ',') commas++;
    /* c is at the comma before person_clk */
    const char *clk = c + 1, *blk = strchr(clk, ',') + 1, *doc = strchr(blk, ',') + 1;
    ASSERT_EQ(encode_is_clk(clk, (size_t)(blk - 1 - clk)), 1);
    ASSERT_EQ(encode_is_block(blk, (size_t)(doc - 1 - blk)), 1);
    expect_hash("document", "B1234567", want);
    ASSERT_EQ((size_t)(eol - doc), strlen(want));
    ASSERT_EQ(strncmp(doc, want, strlen(want)), 0);
    /* row 2 has no document: person_doc empty */
    ASSERT_CONTAINS(o, ",\r\n");
    teardown(&fx);
}

/* A birth date without a name gives no encoding (nothing a link could
 * rest on), not an all-zero one. */
TEST(enc_birth_date_alone_no_encoding)
{
    fixture fx;
    setup(&fx, 0);
    static const char in[] = "case_ref,year_identified,birth_date\r\nZ1,2023,1990-03-07\r\n";
    if (encode_str(&fx, in, NULL) != SP_OK) {
        sp_err_print(&fx.err, stderr);
        TFAIL("encode failed");
    }
    ASSERT_CONTAINS(fx.out.data, "\r\nZ1,2023,,,\r\n");
    ASSERT(strstr(fx.out.data, "AAAAAAAA") == NULL);
    ASSERT(strstr(fx.out.data, "1990") == NULL);
    teardown(&fx);
}

TEST(enc_clear_columns_dropped)
{
    fixture fx;
    setup(&fx, 0);
    ASSERT_EQ(encode_str(&fx, PARTNER, NULL), SP_OK);
    static const char *const clear[] = {
        "given_name", "family_name", "birth_date", "document_number", "Nguy", "Ánh", "Thị",
        "1998-03-07", "1998", "B 1234567", "1234567", "Sokha", "Chanthavong", "0912 345 678",
        "912345678", "Foo@Example", "foo@example", "52908400098527886", "notaphone"};
    for (size_t i = 0; i < sizeof clear / sizeof clear[0]; i++)
        if (has_bytes(&fx.out, clear[i])) TFAIL("'%s' is in the encoded output", clear[i]);
    teardown(&fx);
}

TEST(enc_row_error_writes_nothing)
{
    fixture fx;
    setup(&fx, 0);
    const char *csv = "case_ref,given_name,birth_date,indicators_1_type,indicators_1_value\n"
                      "A1,Lan,1999-02-03,email,lan@example.org\n"
                      "A2,Mai,1999-02-31,email,mai@example.org\n"
                      "A3,Hoa,1999-04-01,,hoa@example.org\n"
                      "A4,Hai,1999-05-01,email,h1:abcd\n";
    ASSERT_EQ(encode_str(&fx, csv, NULL), SP_EINPUT);
    ASSERT_EQ(fx.out.len, 0);
    int seen2 = 0, seen3 = 0, seen4 = 0;
    for (size_t i = 0; i < fx.err.n; i++) {
        const sp_problem *p = &fx.err.items[i];
        if (p->warning) continue;
        ASSERT_STR_EQ(p->file, "partner.csv");
        ASSERT_NULL(p->value);                      /* never echoes a clear value */
        ASSERT(!strstr(p->message, "1999"));        /* not even part of it */
        if (p->row == 3) seen2 = p->column && strcmp(p->column, "birth_date") == 0;
        if (p->row == 4) seen3 = strcmp(p->rule, "no-type") == 0;
        if (p->row == 5) seen4 = strcmp(p->rule, "bad-match-key") == 0;
        ASSERT(p->row != 2);
    }
    ASSERT(seen2 && seen3 && seen4);
    teardown(&fx);
}

TEST(enc_already_encoded_passes)
{
    fixture fx;
    setup(&fx, 0);
    ASSERT_EQ(encode_str(&fx, PARTNER, NULL), SP_OK);
    char *first = sp_xstrdup(fx.out.data);
    /* a second run over the output changes nothing: keys are kept as they are */
    sp_err_clear(&fx.err);
    ASSERT_EQ(encode_str(&fx, first, NULL), SP_OK);
    ASSERT_STR_EQ(fx.out.data, first);
    /* clear columns next to person columns: refused */
    const char *both = "case_ref,given_name,person_clk\nA1,Lan,\n";
    ASSERT_EQ(encode_str(&fx, both, NULL), SP_EINPUT);
    ASSERT_NOT_NULL(problem(&fx.err, "already-encoded"));
    free(first);
    teardown(&fx);
}

TEST(enc_unknown_columns_left_out)
{
    fixture fx;
    setup(&fx, 0);
    const char *csv = "case_ref,Nom,nationality,Remarks\nA1,Tran,VN,lives with her aunt\n";
    ASSERT_EQ(encode_str(&fx, csv, NULL), SP_OK);
    ASSERT_STR_EQ(fx.out.data, "case_ref,nationality\r\nA1,VN\r\n");
    const sp_problem *w = problem(&fx.err, "column-left-out");
    ASSERT_NOT_NULL(w);
    ASSERT_EQ(w->warning, 1);
    ASSERT_STR_EQ(w->column, "Nom");
    teardown(&fx);
}

/* ------------------------------------------------------------ the hub */

static int import_str(fixture *fx, const char *org, const char *csv, import_result *res)
{
    import_opts o = {org, NULL, NULL, SP_FMT_CSV, 0, 0, 0, 0};
    sp_err_clear(&fx->err);
    return import_buffer(fx->s, fx->cb, csv, strlen(csv), "up.csv", &o, res, &fx->err);
}

/* The hash of indicator_key row (record of case_ref, seq), or "" for NULL. */
static void key_of(fixture *fx, const char *case_ref, int seq, char out[80], int *valid)
{
    sqlite3 *db;
    sqlite3_stmt *st;
    ASSERT_EQ(sqlite3_open_v2(fx->db, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    ASSERT_EQ(sqlite3_prepare_v2(db, "SELECT k.hash, k.valid FROM indicator_key k JOIN record r"
                                     " ON r.id = k.record_id WHERE r.case_ref = ? AND k.seq = ?",
                                 -1, &st, NULL), SQLITE_OK);
    sqlite3_bind_text(st, 1, case_ref, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, seq);
    ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
    const unsigned char *h = sqlite3_column_text(st, 0);
    snprintf(out, 80, "%s", h ? (const char *)h : "");
    *valid = sqlite3_column_int(st, 1);
    sqlite3_finalize(st);
    sqlite3_close(db);
}

TEST(enc_hub_same_key_as_partner)
{
    fixture fx;
    import_result res;
    setup(&fx, 1);
    ASSERT_EQ(encode_str(&fx, PARTNER, NULL), SP_OK);
    if (import_str(&fx, "Partner A", fx.out.data, &res) != SP_OK) {
        sp_err_print(&fx.err, stderr);
        TFAIL("the encoded file did not import");
    }
    ASSERT_EQ(res.stored, 2);
    /* the same wallet and phone, shared in the clear by another organisation */
    import_set_key(KEY);
    const char *clear = "case_ref,nationality,indicators_1_type,indicators_1_value,"
                        "indicators_1_chain,indicators_2_type,indicators_2_value\n"
                        "B1,TH,Crypto wallet,0x52908400098527886e0f7030069857d2e4169ee7,ethereum,"
                        "phone,+84 91-234-5678\n";
    if (import_str(&fx, "Partner B", clear, &res) != SP_OK) {
        sp_err_print(&fx.err, stderr);
        TFAIL("the clear file did not import");
    }
    char a[80], b[80];
    int va, vb;
    key_of(&fx, "A1", 1, a, &va);
    key_of(&fx, "B1", 1, b, &vb);
    ASSERT_EQ(strlen(a), 67);
    ASSERT_STR_EQ(a, b);
    ASSERT_EQ(va, 1);
    ASSERT_EQ(vb, 1);
    key_of(&fx, "A1", 2, a, &va);
    key_of(&fx, "B1", 2, b, &vb);
    ASSERT_STR_EQ(a, b);
    /* the partner's h1x: is stored as the same hash, flagged invalid */
    key_of(&fx, "A2", 2, a, &va);
    ASSERT(strncmp(a, "h1:", 3) == 0);
    ASSERT_EQ(va, 0);
    teardown(&fx);
}

TEST(enc_hub_clear_value_canonical_and_rehash)
{
    fixture fx;
    import_result res;
    setup(&fx, 1);
    /* no key at the hub yet: the hash waits; an invalid value is kept, flagged */
    const char *clear = "case_ref,nationality,indicators_1_type,indicators_1_value,"
                        "indicators_2_type,indicators_2_value\n"
                        "C1,VN,email,Lan@Example.ORG,phone,12\n";
    if (import_str(&fx, "Partner C", clear, &res) != SP_OK) {
        sp_err_print(&fx.err, stderr);
        TFAIL("import");
    }
    const sp_problem *w = problem(&fx.err, "invalid-indicator");
    ASSERT_NOT_NULL(w);
    ASSERT_STR_EQ(w->column, "indicators_2_value");
    ASSERT_EQ(w->row, 2);
    char h[80];
    int v;
    key_of(&fx, "C1", 1, h, &v);
    ASSERT_STR_EQ(h, "");
    ASSERT_EQ(v, 1);
    key_of(&fx, "C1", 2, h, &v);
    ASSERT_EQ(v, 0);
    long long total = 0, left = 0, n = 0;
    ASSERT_EQ(store_ident_count(fx.s, &total, &left), SP_OK);
    ASSERT_EQ(total, 2);
    ASSERT_EQ(left, 2);
    sp_ident_row *rows;
    size_t nrows;
    ASSERT_EQ(store_ident_unhashed(fx.s, &rows, &nrows), SP_OK);
    ASSERT_EQ(nrows, 2);
    ASSERT_STR_EQ(rows[0].value, "lan@example.org");          /* stored canonical */
    ASSERT_STR_EQ(rows[1].value, "12");                       /* invalid: as it came */
    ASSERT_STR_EQ(rows[0].nationality, "VN");
    store_ident_rows_free(rows, nrows);
    ASSERT_EQ(encode_rehash(fx.s, KEY, &n, &fx.err), SP_OK);
    ASSERT_EQ(n, 2);
    ASSERT_EQ(store_ident_count(fx.s, &total, &left), SP_OK);
    ASSERT_EQ(left, 0);
    char want[72];
    expect_hash("email", "lan@example.org", want);
    key_of(&fx, "C1", 1, h, &v);
    ASSERT_STR_EQ(h, want);
    ASSERT_EQ(encode_rehash(fx.s, KEY, &n, &fx.err), SP_OK);  /* nothing left */
    ASSERT_EQ(n, 0);
    /* rows with no key at all (the case form's, older records') get one */
    sqlite3 *db;
    ASSERT_EQ(sqlite3_open(fx.db, &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, "DELETE FROM indicator_key", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    ASSERT_EQ(store_ident_count(fx.s, &total, &left), SP_OK);
    ASSERT_EQ(total, 0);
    ASSERT_EQ(encode_rehash(fx.s, KEY, &n, &fx.err), SP_OK);
    ASSERT_EQ(n, 2);
    key_of(&fx, "C1", 1, h, &v);
    ASSERT_STR_EQ(h, want);
    key_of(&fx, "C1", 2, h, &v);
    ASSERT_EQ(v, 0);
    teardown(&fx);
}

TEST(enc_hub_refuses_clear_and_bad_encodings)
{
    fixture fx;
    import_result res;
    setup(&fx, 1);
    const char *names = "case_ref,Given Name,date of birth\nX1,Lan,1999-01-01\n";
    ASSERT_EQ(import_str(&fx, "Partner D", names, &res), SP_EINPUT);
    ASSERT_EQ(res.stored, 0);
    size_t refused = 0;
    for (size_t i = 0; i < fx.err.n; i++)
        if (strcmp(fx.err.items[i].rule, "clear-identifier") == 0) {
            ASSERT_EQ(fx.err.items[i].row, 1);
            ASSERT_CONTAINS(fx.err.items[i].message, "must not reach the hub: run spotlight encode");
            refused++;
        }
    ASSERT_EQ(refused, 2);
    ASSERT_NULL(problem(&fx.err, "unknown-column"));
    const char *bad = "case_ref,person_clk,person_block,person_doc,indicators_1_type,"
                      "indicators_1_value\n"
                      "X2,AAAA,0123,h1:00,email,h1x:zz\n";
    ASSERT_EQ(import_str(&fx, "Partner D", bad, &res), SP_EINPUT);
    size_t enc = 0;
    for (size_t i = 0; i < fx.err.n; i++) {
        if (strcmp(fx.err.items[i].rule, "bad-encoding") == 0) enc++;
        if (strcmp(fx.err.items[i].rule, "bad-match-key") == 0)
            ASSERT_STR_EQ(fx.err.items[i].column, "indicators_1_value");
    }
    ASSERT_EQ(enc, 3);
    ASSERT_NOT_NULL(problem(&fx.err, "bad-match-key"));
    long long total = -1;
    ASSERT_EQ(store_ident_count(fx.s, &total, NULL), SP_OK);
    ASSERT_EQ(total, 0);                                       /* nothing left behind */
    teardown(&fx);
}

/* One mapping serves both: encode reads its clear targets, import skips them. */
TEST(enc_mapping_shared_with_import)
{
    fixture fx;
    import_result res;
    setup(&fx, 1);
    char path[] = "/tmp/sp_encmap_XXXXXX";
    int fd = mkstemp(path);
    ASSERT(fd >= 0);
    const char *m = "{\"name\":\"partner-x\",\"direction\":\"import\",\"fields\":{"
                    "\"case_ref\":\"Ref\",\"nationality\":\"Nat\",\"indicators_1_type\":\"Kind\","
                    "\"indicators_1_value\":\"Contact\",\"given_name\":\"Prenom\","
                    "\"family_name\":[\"Nom\",\"Nom2\"]},"
                    "\"values\":{\"indicators.type\":{\"Tel\":\"phone\"}}}";
    ASSERT_EQ(write(fd, m, strlen(m)), (long long)strlen(m));
    close(fd);
    const char *csv = "Ref,Nat,Kind,Contact,Prenom,Nom,Nom2\nR1,Viet Nam,Tel,0912 345 678,Lan,Tran,Le\n";
    encode_opts o = {path, NULL, SP_FMT_CSV};
    if (encode_buffer(KEY, fx.cb, csv, strlen(csv), "p.csv", &o, &fx.out, &fx.err) != SP_OK) {
        sp_err_print(&fx.err, stderr);
        TFAIL("encode with a mapping");
    }
    ASSERT(strncmp(fx.out.data, "Ref,Nat,Kind,Contact,person_clk,person_block,person_doc\r\n",
                   57) == 0);
    char want[72];
    expect_hash("phone", "+84912345678", want);
    ASSERT_CONTAINS(fx.out.data, want);
    ASSERT(!has_bytes(&fx.out, "Tran") && !has_bytes(&fx.out, "Lan,") && !has_bytes(&fx.out, "Le\r"));
    import_opts io = {"Partner X", path, NULL, SP_FMT_CSV, 0, 0, 0, 0};
    char *enc = sp_xstrdup(fx.out.data);
    sp_err_clear(&fx.err);
    if (import_buffer(fx.s, fx.cb, enc, strlen(enc), "p.enc.csv", &io, &res, &fx.err) != SP_OK) {
        sp_err_print(&fx.err, stderr);
        TFAIL("the encoded file did not import with the same mapping");
    }
    ASSERT_EQ(res.stored, 1);
    char h[80];
    int v;
    key_of(&fx, "R1", 1, h, &v);
    ASSERT_STR_EQ(h, want);
    free(enc);
    unlink(path);
    teardown(&fx);
}

TEST_LIST(enc_birth_date_alone_no_encoding, enc_hash_known_answer, enc_hash_shapes, enc_key_files, enc_small_csv,
          enc_clear_columns_dropped, enc_row_error_writes_nothing, enc_already_encoded_passes,
          enc_hub_same_key_as_partner, enc_hub_clear_value_canonical_and_rehash,
          enc_hub_refuses_clear_and_bad_encodings, enc_unknown_columns_left_out,
          enc_mapping_shared_with_import)
