/* test_csv.c -- the CSV reader: RFC 4180 details, row numbers, errors that
 * say where, caps, and the two real CTDC files. */
#include "reader.h"
#include "test.h"

/* Reads every row of data[0..len) and renders them as
 * "row:cell|cell\n..." into out. Returns the rc that ended the loop
 * (SP_EOF when all went well) or the open error. */
static int dump_n(const char *data, size_t len, char delim, sp_buf *out, sp_err *err)
{
    void *st = NULL;
    const sp_reader_ops *ops = NULL;
    int rc = csv_open_mem(&st, &ops, data, len, "t.csv", delim, err);
    if (rc != SP_OK) return rc;
    sp_row row;
    while ((rc = ops->next(st, &row, err)) == SP_OK) {
        sp_buf_printf(out, "%ld:", row.row);
        for (size_t i = 0; i < row.ncells; i++) {
            ASSERT_EQ(strlen(row.cell[i]), row.len[i]);
            sp_buf_printf(out, "%s%s", i ? "|" : "", row.cell[i]);
        }
        sp_buf_adds(out, "\n");
    }
    ops->close(st);
    return rc;
}

/* Dumps a NUL-terminated string; returns a malloc'd rendering, and the
 * final rc in *rc. */
static char *dump(const char *s, char delim, int *rc, sp_err *err)
{
    sp_buf b;
    sp_buf_init(&b, 1 << 26);
    *rc = dump_n(s, strlen(s), delim, &b, err);
    return sp_buf_steal(&b);
}

/* Expects success with the given rendering. */
#define EXPECT_CSV(input, delim, expected) do { \
    sp_err er_; sp_err_init(&er_); int r_; \
    char *got__ = dump((input), (delim), &r_, &er_); \
    if (r_ != SP_EOF) { sp_err_print(&er_, stderr); } \
    ASSERT_EQ(r_, SP_EOF); \
    ASSERT_STR_EQ(got__, (expected)); \
    free(got__); sp_err_free(&er_); } while (0)

/* Expects an error rc with a message containing `msg` at row `erow`. */
#define EXPECT_CSV_ERR(input, len, erc, erow, msg) do { \
    sp_err er_; sp_err_init(&er_); sp_buf buf_; sp_buf_init(&buf_, 1 << 26); \
    int r_ = dump_n((input), (len), 0, &buf_, &er_); \
    ASSERT_EQ(r_, (erc)); \
    ASSERT_EQ(er_.n, 1); \
    ASSERT_EQ(er_.items[0].row, (erow)); \
    ASSERT_STR_EQ(er_.items[0].file, "t.csv"); \
    ASSERT_CONTAINS(sp_err_last(&er_), (msg)); \
    sp_buf_free(&buf_); sp_err_free(&er_); } while (0)

TEST(csv_simple)
{
    EXPECT_CSV("a,b,c\n1,2,3\n4,5,6\n", 0, "1:a|b|c\n2:1|2|3\n3:4|5|6\n");
}

TEST(csv_no_final_newline)
{
    EXPECT_CSV("a,b\n1,2", 0, "1:a|b\n2:1|2\n");
}

TEST(csv_quoted_newline_and_row_numbers)
{
    /* the quoted newline stays in the cell and does not add a row number */
    EXPECT_CSV("name,note\nx,\"line one\nline two\"\ny,z\n", 0,
               "1:name|note\n2:x|line one\nline two\n3:y|z\n");
    /* CRLF inside quotes is kept as written */
    EXPECT_CSV("a\r\n\"p\r\nq\"\r\nr\r\n", 0, "1:a\n2:p\r\nq\n3:r\n");
}

TEST(csv_row_number_after_quoted_newline_in_error)
{
    const char *s = "a,b\n\"1\n2\n3\",x\nok,ok\nbad\"q,1\n";
    EXPECT_CSV_ERR(s, strlen(s), SP_EINPUT, 4, "column 1: a quote");
}

TEST(csv_doubled_quotes)
{
    EXPECT_CSV("a,b\n\"say \"\"hi\"\"\",\"\"\"\"\n", 0, "1:a|b\n2:say \"hi\"|\"\n");
    EXPECT_CSV("a\n\"\"\"x\"\"\"\n", 0, "1:a\n2:\"x\"\n");
}

TEST(csv_quoted_delimiters)
{
    EXPECT_CSV("a,b\n\"1,5\",\"x;y\"\n", 0, "1:a|b\n2:1,5|x;y\n");
}

TEST(csv_bom_stripped)
{
    EXPECT_CSV("\xEF\xBB\xBFid,name\n1,\xC3\xA9t\xC3\xA9\n", 0, "1:id|name\n2:1|\xC3\xA9t\xC3\xA9\n");
}

TEST(csv_delimiter_detection)
{
    EXPECT_CSV("a;b;c\n1;2,5;3\n", 0, "1:a|b|c\n2:1|2,5|3\n");
    EXPECT_CSV("a\tb\tc\n1\t2,5\t3\n", 0, "1:a|b|c\n2:1|2,5|3\n");
    EXPECT_CSV("a,b,c\n1;2,5,3\n", 0, "1:a|b|c\n2:1;2|5|3\n");
    /* delimiters inside quotes do not count: 2 ';' outside, 3 ',' inside */
    EXPECT_CSV("\"x,y,z,w\";b;c\n1;2;3\n", 0, "1:x,y,z,w|b|c\n2:1|2|3\n");
    /* a single column has no delimiter: comma by default */
    EXPECT_CSV("name\nAn; Binh\n", 0, "1:name\n2:An; Binh\n");
}

TEST(csv_delimiter_given)
{
    EXPECT_CSV("a;b,c\n1;2,3\n", ',', "1:a;b|c\n2:1;2|3\n");
    EXPECT_CSV("a;b,c\n1;2,3\n", ';', "1:a|b,c\n2:1|2,3\n");
    EXPECT_CSV("a,b\tc\n", '\t', "1:a,b|c\n");
}

TEST(csv_bad_delimiter_refused)
{
    sp_err e; sp_err_init(&e);
    void *st = NULL; const sp_reader_ops *ops = NULL;
    ASSERT_EQ(csv_open_mem(&st, &ops, "a", 1, "t.csv", '"', &e), SP_EUSAGE);
    ASSERT_NULL(st);
    sp_err_free(&e);
}

TEST(csv_line_endings)
{
    EXPECT_CSV("a,b\r\n1,2\r\n3,4\r\n", 0, "1:a|b\n2:1|2\n3:3|4\n");
    EXPECT_CSV("a,b\r1,2\r3,4\r", 0, "1:a|b\n2:1|2\n3:3|4\n");
    EXPECT_CSV("a,b\r1,2\n3,4\r\n5,6", 0, "1:a|b\n2:1|2\n3:3|4\n4:5|6\n");
}

TEST(csv_blank_lines_skipped_but_counted)
{
    EXPECT_CSV("a,b\n\n1,2\n\r\n\r3,4\n\n\n", 0, "1:a|b\n3:1|2\n6:3|4\n");
    /* leading blank lines: the header is on the row the spreadsheet shows */
    EXPECT_CSV("\n\na,b\n1,2\n", 0, "3:a|b\n4:1|2\n");
    /* rows of only empty cells are blank spreadsheet rows */
    EXPECT_CSV("a,b\n,\n1,2\n,,,\n", 0, "1:a|b\n3:1|2\n");
}

TEST(csv_empty_cells_and_trailing_delimiter)
{
    EXPECT_CSV("a,b,c\n,,x\n1,,\n", 0, "1:a|b|c\n2:||x\n3:1||\n");
    EXPECT_CSV("a,b,\n1,2,\n", 0, "1:a|b|\n2:1|2|\n");
    EXPECT_CSV("a,b\n1,\"\"\n", 0, "1:a|b\n2:1|\n");
    /* trailing delimiter at EOF gives a final empty cell */
    EXPECT_CSV("a,b\n1,", 0, "1:a|b\n2:1|\n");
}

TEST(csv_ragged_rows_ok)
{
    EXPECT_CSV("a,b\n1\n1,2,3\n", 0, "1:a|b\n2:1\n3:1|2|3\n");
}

TEST(csv_header_only)
{
    EXPECT_CSV("a,b,c\n", 0, "1:a|b|c\n");
    EXPECT_CSV("a,b,c", 0, "1:a|b|c\n");
}

TEST(csv_empty_file)
{
    EXPECT_CSV_ERR("", 0, SP_EINPUT, 0, "the file is empty");
    EXPECT_CSV_ERR("\xEF\xBB\xBF", 3, SP_EINPUT, 0, "the file is empty");
    EXPECT_CSV_ERR("\n\r\n\n", 4, SP_EINPUT, 0, "the file is empty");
}

TEST(csv_unterminated_quote)
{
    const char *s = "a,b\n1,2\n3,\"never closed\n4,5\n6,7\n";
    EXPECT_CSV_ERR(s, strlen(s), SP_EINPUT, 3, "column 2: a quoted cell opened here is never closed");
}

TEST(csv_stray_quote)
{
    const char *s = "a,b,c\n1,2,3\n4,5 \"inches\",6\n";
    EXPECT_CSV_ERR(s, strlen(s), SP_EINPUT, 3, "column 2: a quote");
    sp_err e; sp_err_init(&e);
    sp_buf b; sp_buf_init(&b, 1 << 20);
    ASSERT_EQ(dump_n(s, strlen(s), 0, &b, &e), SP_EINPUT);
    ASSERT_STR_EQ(e.items[0].column, "b");   /* named by its header */
    ASSERT_STR_EQ(e.items[0].rule, "stray-quote");
    sp_buf_free(&b); sp_err_free(&e);
}

TEST(csv_text_after_closing_quote)
{
    const char *s = "a,b\n\"x\"y,2\n";
    EXPECT_CSV_ERR(s, strlen(s), SP_EINPUT, 2, "column 1: text after the closing quote");
}

TEST(csv_invalid_utf8)
{
    /* Latin-1 'é' (0xE9) in row 3, column 2 */
    const char *s = "id,name\n1,ok\n2,caf\xE9\n";
    EXPECT_CSV_ERR(s, strlen(s), SP_EINPUT, 3, "column 2: not UTF-8");
    EXPECT_CSV_ERR(s, strlen(s), SP_EINPUT, 3, "save the file as UTF-8");
    EXPECT_CSV_ERR(s, strlen(s), SP_EINPUT, 3, "byte 4 of the cell");
    /* inside a quoted cell; overlong encodings and surrogates too */
    const char *q = "a\n\"x\xC0\xAFy\"\n";
    EXPECT_CSV_ERR(q, strlen(q), SP_EINPUT, 2, "not UTF-8");
    const char *sur = "a\n\xED\xA0\x80\n";
    EXPECT_CSV_ERR(sur, strlen(sur), SP_EINPUT, 2, "not UTF-8");
    /* truncated sequence at the very end of the file */
    const char *t = "a\nx\xE2\x82";
    EXPECT_CSV_ERR(t, strlen(t), SP_EINPUT, 2, "not UTF-8");
    /* in the header, row 1 */
    const char *h = "a\xFF,b\n";
    EXPECT_CSV_ERR(h, strlen(h), SP_EINPUT, 1, "column 1: not UTF-8");
}

TEST(csv_valid_multibyte_utf8)
{
    /* Vietnamese, Thai, Chinese and an emoji */
    EXPECT_CSV("t\xC3\xAAn,\xE0\xB8\x8A\xE0\xB8\xB7\xE0\xB9\x88\xE0\xB8\xAD\n"
               "\"\xE4\xB8\xAD\xE6\x96\x87\",\xF0\x9F\x98\x80\n", 0,
               "1:t\xC3\xAAn|\xE0\xB8\x8A\xE0\xB8\xB7\xE0\xB9\x88\xE0\xB8\xAD\n"
               "2:\xE4\xB8\xAD\xE6\x96\x87|\xF0\x9F\x98\x80\n");
}

TEST(csv_utf16_bom)
{
    const char le[] = "\xFF\xFE" "a\0,\0b\0\n\0";
    EXPECT_CSV_ERR(le, sizeof le - 1, SP_EINPUT, 0, "UTF-16");
    const char be[] = "\xFE\xFF" "\0a\0,\0b\0\n";
    EXPECT_CSV_ERR(be, sizeof be - 1, SP_EINPUT, 0, "save it as UTF-8");
}

TEST(csv_nul_byte)
{
    const char s[] = "a,b\n1,x\0y\n";
    EXPECT_CSV_ERR(s, sizeof s - 1, SP_EINPUT, 2, "column 2: a NUL byte");
    const char q[] = "a,b\n1,\"x\0y\"\n";
    EXPECT_CSV_ERR(q, sizeof q - 1, SP_EINPUT, 2, "NUL byte");
}

TEST(csv_oversize_cell)
{
    size_t n = SP_MAX_CELL + 1;
    char *s = malloc(n + 16);
    memcpy(s, "a,b\n1,", 6);
    memset(s + 6, 'x', n);
    memcpy(s + 6 + n, "\n", 1);
    EXPECT_CSV_ERR(s, 7 + n, SP_ELIMIT, 2, "column 2: a cell longer than");
    /* quoted, with doubled quotes counting as one byte each */
    s[6] = '"';
    memcpy(s + 6 + n - 2, "\"\n", 2);   /* cell of n - 3 bytes: fits */
    sp_err e; sp_err_init(&e); sp_buf b; sp_buf_init(&b, 1 << 26);
    ASSERT_EQ(dump_n(s, 6 + n, 0, &b, &e), SP_EOF);
    sp_buf_free(&b); sp_err_free(&e);
    /* exactly SP_MAX_CELL bytes is fine */
    memset(s + 6, 'y', SP_MAX_CELL);
    sp_err_init(&e); sp_buf_init(&b, 1 << 26);
    ASSERT_EQ(dump_n(s, 6 + SP_MAX_CELL, 0, &b, &e), SP_EOF);
    sp_buf_free(&b); sp_err_free(&e);
    /* quoted and over the cap */
    s[6] = '"';
    memset(s + 7, 'z', n);
    memcpy(s + 7 + n, "\"\n", 2);
    EXPECT_CSV_ERR(s, 9 + n, SP_ELIMIT, 2, "a cell longer than");
    free(s);
}

TEST(csv_too_many_columns)
{
    sp_buf in; sp_buf_init(&in, 1 << 20);
    sp_buf_adds(&in, "a\n");
    for (int i = 0; i < SP_MAX_COLS; i++) sp_buf_adds(&in, "x,");
    sp_buf_adds(&in, "x\n");   /* SP_MAX_COLS + 1 cells */
    EXPECT_CSV_ERR(in.data, in.len, SP_ELIMIT, 2, "more than 1024 cells");
    /* exactly SP_MAX_COLS cells is fine */
    sp_buf_reset(&in);
    sp_buf_adds(&in, "a\n");
    for (int i = 0; i < SP_MAX_COLS - 1; i++) sp_buf_adds(&in, "x,");
    sp_buf_adds(&in, "x\n");
    sp_err e; sp_err_init(&e); sp_buf b; sp_buf_init(&b, 1 << 26);
    ASSERT_EQ(dump_n(in.data, in.len, 0, &b, &e), SP_EOF);
    sp_buf_free(&b); sp_err_free(&e); sp_buf_free(&in);
}

TEST(csv_error_is_sticky)
{
    const char *s = "a\n\"x\n";
    sp_err e; sp_err_init(&e);
    void *st; const sp_reader_ops *ops;
    ASSERT_EQ(csv_open_mem(&st, &ops, s, strlen(s), "t.csv", 0, &e), SP_OK);
    sp_row row;
    ASSERT_EQ(ops->next(st, &row, &e), SP_OK);
    ASSERT_EQ(ops->next(st, &row, &e), SP_EINPUT);
    ASSERT_EQ(ops->next(st, &row, &e), SP_EINPUT);
    ASSERT_EQ(e.n, 1);   /* reported once */
    ops->close(st);
    sp_err_free(&e);
}

TEST(csv_progress)
{
    const char *s = "a,b\n1,2\n3,4\n";
    sp_err e; sp_err_init(&e);
    void *st; const sp_reader_ops *ops;
    ASSERT_EQ(csv_open_mem(&st, &ops, s, strlen(s), "t.csv", 0, &e), SP_OK);
    uint64_t done, total;
    sp_row row;
    ASSERT_EQ(ops->next(st, &row, &e), SP_OK);
    ops->progress(st, &done, &total);
    ASSERT_EQ(done, 4);
    ASSERT_EQ(total, strlen(s));
    while (ops->next(st, &row, &e) == SP_OK) {}
    ops->progress(st, &done, &total);
    ASSERT_EQ(done, total);
    ops->close(st);
    sp_err_free(&e);
}

/* Counts the lines of a file whose field `col` (0-based) equals `want`, by
 * a naive split on ',' and '\n' (valid for files without quotes). */
static long naive_count(const char *data, size_t len, size_t col, const char *want, long *lines)
{
    long hits = 0, n = 0;
    size_t i = 0, wl = strlen(want);
    while (i < len) {
        size_t e = i;
        while (e < len && data[e] != '\n') e++;
        size_t f = 0, s = i;
        for (size_t k = i; k <= e; k++) {
            if (k == e || data[k] == ',') {
                size_t fl = k - s;
                if (fl && data[s + fl - 1] == '\r') fl--;
                if (f == col && fl == wl && memcmp(data + s, want, wl) == 0) hits++;
                f++;
                s = k + 1;
            }
        }
        n++;
        i = e + 1;
    }
    *lines = n;
    return hits;
}

/* Reads a real file through reader_open (mmap path); checks the shape and
 * a count against an independent naive scan. */
static void check_real(const char *rel, long want_rows, size_t want_cols,
                       const char *const *head, size_t nhead, size_t col,
                       const char *value)
{
    const char *path = shared_path(rel);
    size_t len = 0;
    char *raw = test_slurp(path, &len);
    ASSERT_NOT_NULL(raw);
    ASSERT(memchr(raw, '"', len) == NULL);   /* precondition of naive_count */
    long lines = 0;
    long want_hits = naive_count(raw, len, col, value, &lines);
    ASSERT_EQ(lines, want_rows + 1);
    ASSERT_GE(want_hits, 1);

    sp_err e; sp_err_init(&e);
    sp_reader *r = NULL;
    int rc = reader_open(&r, path, NULL, &e);
    if (rc) sp_err_print(&e, stderr);
    ASSERT_EQ(rc, SP_OK);
    ASSERT_EQ(reader_format(r), SP_FMT_CSV);
    sp_row row;
    ASSERT_EQ(reader_next(r, &row, &e), SP_OK);
    ASSERT_EQ(row.row, 1);
    ASSERT_EQ(row.ncells, want_cols);
    for (size_t i = 0; i < nhead; i++) ASSERT_STR_EQ(row.cell[i], head[i]);
    long n = 0, hits = 0, last = 0;
    while ((rc = reader_next(r, &row, &e)) == SP_OK) {
        n++;
        ASSERT_EQ(row.ncells, want_cols);
        ASSERT_EQ(row.row, n + 1);
        if (strcmp(row.cell[col], value) == 0) hits++;
        last = row.row;
    }
    if (rc != SP_EOF) sp_err_print(&e, stderr);
    ASSERT_EQ(rc, SP_EOF);
    ASSERT_EQ(n, want_rows);
    ASSERT_EQ(last, want_rows + 1);
    ASSERT_EQ(hits, want_hits);
    uint64_t done, total;
    reader_progress(r, &done, &total);
    ASSERT_EQ(total, len);
    ASSERT_EQ(done, len);
    reader_close(r);
    sp_err_free(&e);
    free(raw);
}

TEST(csv_real_ctdc_global)
{
    static const char *const head[] = {
        "", "yearOfRegistration", "Datasource", "gender", "ageBroad",
        "citizenship", "isForcedLabour", "control_category",
        "RecruiterCategory", "ExploitType", "Labor_Type" };
    check_real("ctdc/ctdc_global_2020_reduced.csv", 48801, 11, head, 11, 3, "Male");
}

TEST(csv_real_ctdc_synthetic)
{
    static const char *const head[] = {
        "yearRegister", "gender", "majorityStatus", "isForcedLabour",
        "isSexualExploit", "UN_COO_Region", "UN_COE_Region", "IP_Exploiter",
        "IP_Gender", "IP_ageBroad", "IP_citizen_UNRegion", "IP_Relation",
        "IP_PayMoney", "IP_RecruiterBroker", "IP_TransactionProcess",
        "IP_ControlAbuseKidnap" };
    /* shared/data/README.md says 21,194 rows: that is `wc -l` minus the
     * header, but the file has no final newline, so its last record
     * ("2014-2018" and 15 empty cells) is one more. Python's csv module and
     * the naive scan here both count 21,195. */
    check_real("ctdc/CTDC_VPsynthetic_condensed.csv", 21195, 16, head, 16, 8, "Female;Male");
}

TEST_LIST(csv_simple, csv_no_final_newline, csv_quoted_newline_and_row_numbers,
          csv_row_number_after_quoted_newline_in_error, csv_doubled_quotes,
          csv_quoted_delimiters, csv_bom_stripped, csv_delimiter_detection,
          csv_delimiter_given, csv_bad_delimiter_refused, csv_line_endings,
          csv_blank_lines_skipped_but_counted,
          csv_empty_cells_and_trailing_delimiter, csv_ragged_rows_ok,
          csv_header_only, csv_empty_file, csv_unterminated_quote,
          csv_stray_quote, csv_text_after_closing_quote, csv_invalid_utf8,
          csv_valid_multibyte_utf8, csv_utf16_bom, csv_nul_byte,
          csv_oversize_cell, csv_too_many_columns, csv_error_is_sticky,
          csv_progress, csv_real_ctdc_global, csv_real_ctdc_synthetic)
