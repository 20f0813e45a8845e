/* test_util.c -- capped buffers, escaping, parsing helpers, errors. */
#include "test.h"
#include "util.h"

TEST(buf_cap_refuses_and_keeps_contents)
{
    sp_buf b;
    sp_buf_init(&b, 8);
    ASSERT_STR_EQ(b.data, "");
    ASSERT_EQ(sp_buf_adds(&b, "12345"), SP_OK);
    ASSERT_EQ(sp_buf_adds(&b, "6789"), SP_ELIMIT);
    ASSERT_STR_EQ(b.data, "12345");
    ASSERT_EQ(sp_buf_adds(&b, "678"), SP_OK);
    ASSERT_EQ(b.len, 8);
    ASSERT_EQ(sp_buf_addc(&b, 'x'), SP_ELIMIT);
    sp_buf_free(&b);
}

TEST(html_escape_cases)
{
    sp_buf b;
    sp_buf_init(&b, 1024);
    sp_buf_add_htmls(&b, "<script>alert('x')</script> & \"q\"");
    ASSERT_STR_EQ(b.data, "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;");
    sp_buf_reset(&b);
    sp_buf_add_html(&b, "Ngh\xe1\xbb\x87 An\x01\xff!", 13);
    ASSERT_STR_EQ(b.data, "Ngh\xe1\xbb\x87 An\xEF\xBF\xBD!");
    sp_buf_reset(&b);
    sp_buf_add_html(&b, "\xe1\xbb", 2); /* truncated sequence */
    ASSERT_STR_EQ(b.data, "\xEF\xBF\xBD\xEF\xBF\xBD");
    sp_buf_free(&b);
}

TEST(parse_int_and_fold)
{
    long long v;
    ASSERT_EQ(sp_parse_int("2016.0", 6, &v), 0);
    ASSERT_EQ(v, 2016);
    ASSERT_EQ(sp_parse_int(" -7 ", 4, &v), 0);
    ASSERT_EQ(v, -7);
    ASSERT_NE(sp_parse_int("2016.5", 6, &v), 0);
    ASSERT_NE(sp_parse_int("99999999999999999999", 20, &v), 0);
    ASSERT_NE(sp_parse_int("", 0, &v), 0);
    char out[64];
    sp_fold("Year of  Registration!", 22, out, sizeof out);
    ASSERT_STR_EQ(out, "yearofregistration");
}

TEST(utf8_validation)
{
    ASSERT(sp_utf8_valid("abc", 3));
    ASSERT(sp_utf8_valid("\xe1\xbb\x87", 3));
    ASSERT(!sp_utf8_valid("\xe1\xbb", 2));
    ASSERT(!sp_utf8_valid("\xc0\xaf", 2));       /* overlong */
    ASSERT(!sp_utf8_valid("\xed\xa0\x80", 3));   /* surrogate */
    ASSERT(!sp_utf8_valid("\xf4\x90\x80\x80", 4)); /* > U+10FFFF */
}

TEST(errors_keep_cap_and_count)
{
    sp_err e;
    sp_err_init(&e);
    e.cap = 3;
    for (int i = 0; i < 10; i++)
        sp_err_add(&e, "f.csv", i + 2, "col", "v", 1, "rule", "problem %d", i);
    ASSERT_EQ(e.n, 3);
    ASSERT_EQ(e.count, 10);
    ASSERT_STR_EQ(e.items[2].message, "problem 2");
    ASSERT_EQ(e.items[0].row, 2);
    sp_err_free(&e);
}

TEST_LIST(buf_cap_refuses_and_keeps_contents, html_escape_cases, parse_int_and_fold,
          utf8_validation, errors_keep_cap_and_count)
