/* test_reader.c -- the front door: format detection by magic bytes (then
 * extension), files through mmap, pipes, standard input, and the errors for
 * files that cannot be read. */
#include "reader.h"
#include "test.h"

#include <fcntl.h>
#include <sys/stat.h>

/* Opens a buffer with AUTO detection; returns the rc and the format. */
static int open_fmt(const char *data, size_t len, const char *name,
                    sp_format *fmt, sp_err *e)
{
    sp_reader *r = NULL;
    int rc = reader_open_mem(&r, data, len, name, NULL, e);
    if (rc == SP_OK) {
        *fmt = reader_format(r);
        reader_close(r);
    } else {
        ASSERT_NULL(r);
    }
    return rc;
}

#define EXPECT_FMT(data, name, want) do { \
    sp_err e_; sp_err_init(&e_); sp_format f_ = SP_FMT_AUTO; \
    int rc_ = open_fmt((data), strlen(data), (name), &f_, &e_); \
    if (rc_) sp_err_print(&e_, stderr); \
    ASSERT_EQ(rc_, SP_OK); ASSERT_EQ(f_, (want)); sp_err_free(&e_); } while (0)

TEST(reader_detects_by_magic)
{
    EXPECT_FMT("a,b\n1,2\n", "x.csv", SP_FMT_CSV);
    EXPECT_FMT("[{\"a\":1}]", "upload", SP_FMT_JSON);
    EXPECT_FMT("  \n\t{\"records\":[{\"a\":1}]}", NULL, SP_FMT_JSON);
    EXPECT_FMT("\xEF\xBB\xBF[{\"a\":1}]", "x", SP_FMT_JSON);
    /* magic beats a misleading extension */
    EXPECT_FMT("[{\"a\":1}]", "x.xlsx", SP_FMT_JSON);
    EXPECT_FMT("a,b\n", "data.json", SP_FMT_CSV);
}

TEST(reader_weak_magic_yields_to_csv_extension)
{
    /* a CSV whose header starts with '[' */
    EXPECT_FMT("[id],name\n1,x\n", "x.csv", SP_FMT_CSV);
    EXPECT_FMT("{a},b\n", "X.TSV", SP_FMT_CSV);
}

TEST(reader_zip_magic_is_xlsx)
{
    /* a zip signature goes to the XLSX reader, which refuses this one: the
     * CSV reader would have returned a row of binary junk instead */
    static const char junk[] = "PK\x03\x04garbage that is not a zip file at all";
    sp_err e; sp_err_init(&e);
    sp_format f;
    int rc = open_fmt(junk, sizeof junk - 1, "x.csv", &f, &e);
    ASSERT_NE(rc, SP_OK);
    ASSERT_GE(e.n, 1);
    sp_err_free(&e);
}

TEST(reader_real_xlsx_by_magic)
{
    sp_err e; sp_err_init(&e);
    sp_reader *r = NULL;
    int rc = reader_open(&r, shared_path("ctdc/ctdc_data_dictionary_15082018.xlsx"), NULL, &e);
    if (rc) sp_err_print(&e, stderr);
    ASSERT_EQ(rc, SP_OK);
    ASSERT_EQ(reader_format(r), SP_FMT_XLSX);
    sp_row row;
    ASSERT_EQ(reader_next(r, &row, &e), SP_OK);
    ASSERT_GE(row.ncells, 1);
    reader_close(r);
    sp_err_free(&e);
}

TEST(reader_old_xls_refused)
{
    static const char ole[] = "\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1 rest";
    sp_err e; sp_err_init(&e);
    sp_format f;
    ASSERT_EQ(open_fmt(ole, sizeof ole - 1, "x.xls", &f, &e), SP_EINPUT);
    ASSERT_CONTAINS(sp_err_last(&e), "old Excel .xls");
    ASSERT_STR_EQ(e.items[0].file, "x.xls");
    sp_err_free(&e);
}

TEST(reader_empty_buffer)
{
    /* no magic: the extension decides, and the reader says it is empty */
    sp_err e; sp_err_init(&e);
    sp_reader *r = NULL;
    ASSERT_EQ(reader_open_mem(&r, NULL, 0, "x.csv", NULL, &e), SP_OK);
    ASSERT_EQ(reader_format(r), SP_FMT_CSV);
    sp_row row;
    ASSERT_EQ(reader_next(r, &row, &e), SP_EINPUT);
    ASSERT_CONTAINS(sp_err_last(&e), "the file is empty");
    reader_close(r);
    sp_err_clear(&e);
    ASSERT_EQ(reader_open_mem(&r, "", 0, "x.json", NULL, &e), SP_EINPUT);
    ASSERT_CONTAINS(sp_err_last(&e), "not valid JSON");
    sp_err_free(&e);
}

TEST(reader_forced_format_and_delimiter)
{
    sp_reader_opts o = { .format = SP_FMT_CSV, .delimiter = ';' };
    sp_err e; sp_err_init(&e);
    sp_reader *r = NULL;
    const char *s = "[a,b];c\n";
    ASSERT_EQ(reader_open_mem(&r, s, strlen(s), "x.json", &o, &e), SP_OK);
    ASSERT_EQ(reader_format(r), SP_FMT_CSV);
    sp_row row;
    ASSERT_EQ(reader_next(r, &row, &e), SP_OK);
    ASSERT_EQ(row.ncells, 2);
    ASSERT_STR_EQ(row.cell[0], "[a,b]");
    ASSERT_STR_EQ(row.cell[1], "c");
    ASSERT_EQ(reader_next(r, &row, &e), SP_EOF);
    reader_close(r);
    sp_err_free(&e);
}

/* Writes `s` to a fresh temporary file; returns its path (static). */
static const char *tmpfile_with(const char *s, size_t n, const char *suffix)
{
    static char path[256];
    snprintf(path, sizeof path, "/tmp/sp_test_reader_%d%s", (int)getpid(), suffix);
    FILE *f = fopen(path, "wb");
    ASSERT_NOT_NULL(f);
    ASSERT_EQ(fwrite(s, 1, n, f), n);
    fclose(f);
    return path;
}

TEST(reader_file_mmap)
{
    const char *s = "a;b\n1;2\n3;4\n";
    const char *p = tmpfile_with(s, strlen(s), ".csv");
    sp_err e; sp_err_init(&e);
    sp_reader *r = NULL;
    ASSERT_EQ(reader_open(&r, p, NULL, &e), SP_OK);
    sp_row row;
    int n = 0, rc;
    while ((rc = reader_next(r, &row, &e)) == SP_OK) {
        ASSERT_EQ(row.ncells, 2);
        n++;
    }
    ASSERT_EQ(rc, SP_EOF);
    ASSERT_EQ(n, 3);
    uint64_t done, total;
    reader_progress(r, &done, &total);
    ASSERT_EQ(total, strlen(s));
    ASSERT_EQ(done, total);
    reader_close(r);
    unlink(p);
    sp_err_free(&e);
}

TEST(reader_empty_file)
{
    const char *p = tmpfile_with("", 0, ".csv");
    sp_err e; sp_err_init(&e);
    sp_reader *r = NULL;
    ASSERT_EQ(reader_open(&r, p, NULL, &e), SP_OK);
    sp_row row;
    ASSERT_EQ(reader_next(r, &row, &e), SP_EINPUT);
    ASSERT_CONTAINS(sp_err_last(&e), "the file is empty");
    ASSERT_STR_EQ(e.items[0].file, p);
    reader_close(r);
    unlink(p);
    sp_err_free(&e);
}

TEST(reader_missing_file_and_folder)
{
    sp_err e; sp_err_init(&e);
    sp_reader *r = NULL;
    ASSERT_EQ(reader_open(&r, "/nonexistent/dir/x.csv", NULL, &e), SP_EUSAGE);
    ASSERT_NULL(r);
    ASSERT_CONTAINS(sp_err_last(&e), "No such file");
    ASSERT_STR_EQ(e.items[0].file, "/nonexistent/dir/x.csv");
    ASSERT_EQ(reader_open(&r, "/tmp", NULL, &e), SP_EIO);
    ASSERT_CONTAINS(sp_err_last(&e), "directory");
    sp_err_free(&e);
}

TEST(reader_stdin_json)
{
    const char *s = "[{\"k\":\"v\"},{\"k\":2}]";
    int fds[2];
    ASSERT_EQ(pipe(fds), 0);
    ASSERT_EQ(write(fds[1], s, strlen(s)), (long long)strlen(s));
    close(fds[1]);
    ASSERT_EQ(dup2(fds[0], 0), 0);
    close(fds[0]);
    sp_err e; sp_err_init(&e);
    sp_reader *r = NULL;
    ASSERT_EQ(reader_open(&r, "-", NULL, &e), SP_OK);
    ASSERT_EQ(reader_format(r), SP_FMT_JSON);
    sp_row row;
    ASSERT_EQ(reader_next(r, &row, &e), SP_OK);
    ASSERT_STR_EQ(row.cell[0], "k");
    ASSERT_EQ(reader_next(r, &row, &e), SP_OK);
    ASSERT_STR_EQ(row.cell[0], "v");
    ASSERT_EQ(row.row, 2);
    ASSERT_EQ(reader_next(r, &row, &e), SP_OK);
    ASSERT_STR_EQ(row.cell[0], "2");
    ASSERT_EQ(reader_next(r, &row, &e), SP_EOF);
    reader_close(r);
    sp_err_free(&e);
}

TEST(reader_stdin_error_named_stdin)
{
    const char *s = "a\n\"open\n";
    int fds[2];
    ASSERT_EQ(pipe(fds), 0);
    ASSERT_EQ(write(fds[1], s, strlen(s)), (long long)strlen(s));
    close(fds[1]);
    ASSERT_EQ(dup2(fds[0], 0), 0);
    close(fds[0]);
    sp_err e; sp_err_init(&e);
    sp_reader *r = NULL;
    ASSERT_EQ(reader_open(&r, "-", NULL, &e), SP_OK);
    sp_row row;
    ASSERT_EQ(reader_next(r, &row, &e), SP_OK);
    ASSERT_EQ(reader_next(r, &row, &e), SP_EINPUT);
    ASSERT_STR_EQ(e.items[0].file, "stdin");
    ASSERT_EQ(e.items[0].row, 2);
    reader_close(r);
    sp_err_free(&e);
}

TEST_LIST(reader_detects_by_magic, reader_weak_magic_yields_to_csv_extension,
          reader_zip_magic_is_xlsx, reader_real_xlsx_by_magic,
          reader_old_xls_refused, reader_empty_buffer,
          reader_forced_format_and_delimiter, reader_file_mmap,
          reader_empty_file, reader_missing_file_and_folder,
          reader_stdin_json, reader_stdin_error_named_stdin)
