/* test_json.c -- JSON input: shapes, the key union header, value text,
 * nested-object and syntax errors with where they are. */
#include "reader.h"
#include "test.h"

/* Renders every row as "row:cell|cell\n"; returns the rc ending the loop
 * (SP_EOF when all is well) or the open error. */
static int jdump(const char *s, sp_buf *out, sp_err *err)
{
    void *st = NULL;
    const sp_reader_ops *ops = NULL;
    int rc = json_open_mem(&st, &ops, s, strlen(s), "t.json", err);
    if (rc != SP_OK) { ASSERT_NULL(st); return rc; }
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

#define EXPECT_JSON(input, expected) do { \
    sp_err er_; sp_err_init(&er_); sp_buf buf_; sp_buf_init(&buf_, 1 << 24); \
    int r_ = jdump((input), &buf_, &er_); \
    if (r_ != SP_EOF) sp_err_print(&er_, stderr); \
    ASSERT_EQ(r_, SP_EOF); \
    ASSERT_STR_EQ(buf_.data ? buf_.data : "", (expected)); \
    sp_buf_free(&buf_); sp_err_free(&er_); } while (0)

#define EXPECT_JSON_ERR(input, erc, erow, ecol, msg) do { \
    sp_err er_; sp_err_init(&er_); sp_buf buf_; sp_buf_init(&buf_, 1 << 24); \
    int r_ = jdump((input), &buf_, &er_); \
    ASSERT_EQ(r_, (erc)); \
    ASSERT_EQ(er_.n, 1); \
    ASSERT_EQ(er_.items[0].row, (erow)); \
    if (ecol) ASSERT_STR_EQ(er_.items[0].column, (const char *)(ecol)); \
    else ASSERT_NULL(er_.items[0].column); \
    ASSERT_STR_EQ(er_.items[0].file, "t.json"); \
    ASSERT_CONTAINS(sp_err_last(&er_), (msg)); \
    sp_buf_free(&buf_); sp_err_free(&er_); } while (0)

TEST(json_array_of_objects)
{
    EXPECT_JSON("[{\"id\":\"a1\",\"gender\":\"Female\"},{\"id\":\"a2\",\"gender\":\"Male\"}]",
                "1:id|gender\n2:a1|Female\n3:a2|Male\n");
}

TEST(json_records_wrapper)
{
    EXPECT_JSON("{\"source\":\"org\",\"records\":[{\"x\":1},{\"x\":2}]}",
                "1:x\n2:1\n3:2\n");
}

TEST(json_key_union_in_order_of_first_appearance)
{
    /* keys keep their order within an object (not sorted), new keys are
     * appended as they first appear; missing keys are empty cells */
    EXPECT_JSON("[{\"z\":1,\"a\":2},{\"m\":3,\"z\":4},{\"a\":5,\"q\":6}]",
                "1:z|a|m|q\n2:1|2||\n3:4||3|\n4:|5||6\n");
}

TEST(json_numbers)
{
    EXPECT_JSON("[{\"i\":2016,\"n\":-7,\"r\":0.1,\"w\":2016.0,\"e\":1e300,\"t\":1.5,"
                "\"p\":3.141592653589793,\"big\":9007199254740993}]",
                "1:i|n|r|w|e|t|p|big\n"
                "2:2016|-7|0.1|2016|1e+300|1.5|3.141592653589793|9007199254740993\n");
    /* a real that needs 17 digits to round-trip keeps them */
    EXPECT_JSON("[{\"v\":0.30000000000000004}]", "1:v\n2:0.30000000000000004\n");
}

TEST(json_booleans_null_arrays)
{
    EXPECT_JSON("[{\"b\":true,\"f\":false,\"n\":null,\"l\":[\"Female\",\"Male\"],"
                "\"m\":[1,2.5,true,null,\"x\"],\"e\":[]}]",
                "1:b|f|n|l|m|e\n2:true|false||Female;Male|1;2.5;true;x|\n");
}

TEST(json_strings_unicode)
{
    EXPECT_JSON("[{\"t\\u00ean\":\"Nguy\\u1ec5n\",\"s\":\"a\\\"b\\nc\"}]",
                "1:t\xC3\xAAn|s\n2:Nguy\xE1\xBB\x85n|a\"b\nc\n");
}

TEST(json_nested_object_error)
{
    EXPECT_JSON_ERR("[{\"a\":1},{\"a\":2},{\"a\":3,\"addr\":{\"city\":\"X\"}}]",
                    SP_EINPUT, 4, "addr", "a nested object");
    EXPECT_JSON_ERR("[{\"a\":[1,{\"b\":2}]}]", SP_EINPUT, 2, "a", "a list holding an object");
    EXPECT_JSON_ERR("[{\"a\":[[1]]}]", SP_EINPUT, 2, "a", "a list holding an object or a list");
}

TEST(json_element_not_object)
{
    EXPECT_JSON_ERR("[{\"a\":1},\"oops\"]", SP_EINPUT, 3, NULL, "record 2 of the array is not an object");
}

TEST(json_bad_syntax_has_line)
{
    EXPECT_JSON_ERR("[\n  {\"a\": 1},\n  {\"a\": 2,}\n]", SP_EINPUT, 0, NULL, "not valid JSON at line 3");
    EXPECT_JSON_ERR("[{\"a\": 1}", SP_EINPUT, 0, NULL, "not valid JSON");
    EXPECT_JSON_ERR("", SP_EINPUT, 0, NULL, "not valid JSON");
    /* invalid UTF-8 is caught by jansson */
    EXPECT_JSON_ERR("[{\"a\": \"caf\xE9\"}]", SP_EINPUT, 0, NULL, "not valid JSON");
}

TEST(json_duplicate_key_refused)
{
    EXPECT_JSON_ERR("[{\"a\":1,\"a\":2}]", SP_EINPUT, 0, NULL, "duplicate");
}

TEST(json_wrong_shapes)
{
    EXPECT_JSON_ERR("{\"a\":1}", SP_EINPUT, 0, NULL, "{\"records\": [ ... ]}");
    EXPECT_JSON_ERR("{\"records\":{}}", SP_EINPUT, 0, NULL, "expected an array");
    EXPECT_JSON_ERR("42", SP_EINPUT, 0, NULL, "not valid JSON");  /* jansson wants array/object */
    EXPECT_JSON_ERR("[]", SP_EINPUT, 0, NULL, "the file is empty");
    EXPECT_JSON_ERR("[{}]", SP_EINPUT, 0, NULL, "no keys");
}

TEST(json_bom_accepted)
{
    EXPECT_JSON("\xEF\xBB\xBF[{\"a\":\"b\"}]", "1:a\n2:b\n");
}

TEST(json_oversize_value)
{
    size_t n = SP_MAX_CELL + 1;
    char *s = malloc(n + 32);
    memcpy(s, "[{\"a\":\"", 7);
    memset(s + 7, 'x', n);
    memcpy(s + 7 + n, "\"}]", 4);
    EXPECT_JSON_ERR(s, SP_ELIMIT, 2, "a", "longer than");
    /* an array joined over the cap */
    sp_buf in; sp_buf_init(&in, 1 << 22);
    sp_buf_adds(&in, "[{\"a\":[");
    for (int i = 0; i < 20000; i++) sp_buf_printf(&in, "%s\"abcd\"", i ? "," : "");
    sp_buf_adds(&in, "]}]");
    EXPECT_JSON_ERR(in.data, SP_ELIMIT, 2, "a", "longer than");
    sp_buf_free(&in);
    free(s);
}

TEST(json_too_many_keys)
{
    sp_buf in; sp_buf_init(&in, 1 << 22);
    sp_buf_adds(&in, "[{\"k0\":1}");
    for (int i = 1; i <= SP_MAX_COLS; i++) sp_buf_printf(&in, ",{\"k%d\":1}", i);
    sp_buf_adds(&in, "]");
    /* key number SP_MAX_COLS + 1 first appears in record SP_MAX_COLS + 1 */
    EXPECT_JSON_ERR(in.data, SP_ELIMIT, SP_MAX_COLS + 2, NULL, "more than 1024 different keys");
    sp_buf_free(&in);
}

TEST(json_progress_and_sticky_error)
{
    const char *s = "[{\"a\":1},{\"a\":{}},{\"a\":3}]";
    sp_err e; sp_err_init(&e);
    void *st; const sp_reader_ops *ops;
    ASSERT_EQ(json_open_mem(&st, &ops, s, strlen(s), "t.json", &e), SP_OK);
    uint64_t done, total;
    sp_row row;
    ASSERT_EQ(ops->next(st, &row, &e), SP_OK);   /* header */
    ASSERT_EQ(ops->next(st, &row, &e), SP_OK);
    ops->progress(st, &done, &total);
    ASSERT_EQ(done, 1);
    ASSERT_EQ(total, 3);
    ASSERT_EQ(ops->next(st, &row, &e), SP_EINPUT);
    ASSERT_EQ(ops->next(st, &row, &e), SP_EINPUT);
    ASSERT_EQ(e.n, 1);
    ops->close(st);
    sp_err_free(&e);
}

TEST_LIST(json_array_of_objects, json_records_wrapper,
          json_key_union_in_order_of_first_appearance, json_numbers,
          json_booleans_null_arrays, json_strings_unicode,
          json_nested_object_error, json_element_not_object,
          json_bad_syntax_has_line, json_duplicate_key_refused,
          json_wrong_shapes, json_bom_accepted, json_oversize_value,
          json_too_many_keys, json_progress_and_sticky_error)
