/* test_xlsx.c -- the XLSX reader (xlsx.c) and writer (xlsxw.c).
 *
 * Real workbooks from the shared data folder, hand-built zips (libzip) with
 * hand-written XML for the edge cases, and round trips through the
 * writer. Counts for the real files were established independently with
 * Python's zipfile + ElementTree, not with this reader. */
#include "test.h"
#include "reader.h"
#include "xlsxw.h"

#include <math.h>
#include <stdint.h>
#include <zip.h>

/* ------------------------------------------------------------ helpers */

typedef struct { const char *name; const char *data; size_t len; } part;

/* Builds a zip in memory from parts (len 0: strlen). Caller frees. */
static char *make_zip(const part *parts, size_t n, size_t *len)
{
    char path[] = "/tmp/test_xlsx_zip_XXXXXX";
    int fd = mkstemp(path);
    ASSERT(fd >= 0);
    close(fd);
    int ze = 0;
    zip_t *za = zip_open(path, ZIP_CREATE | ZIP_TRUNCATE, &ze);
    ASSERT_NOT_NULL(za);
    for (size_t i = 0; i < n; i++) {
        size_t l = parts[i].len ? parts[i].len : strlen(parts[i].data);
        zip_source_t *s = zip_source_buffer(za, parts[i].data, l, 0);
        ASSERT_NOT_NULL(s);
        ASSERT(zip_file_add(za, parts[i].name, s, 0) >= 0);
    }
    ASSERT_EQ(zip_close(za), 0);
    char *d = test_slurp(path, len);
    unlink(path);
    ASSERT_NOT_NULL(d);
    return d;
}

#define NS "xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\" " \
           "xmlns:r=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships\""
static const char WB_DEFAULT[] =
    "<workbook " NS "><sheets><sheet name=\"Data\" sheetId=\"1\" r:id=\"rId1\"/></sheets></workbook>";
static const char RELS_DEFAULT[] =
    "<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">"
    "<Relationship Id=\"rId1\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet\" Target=\"worksheets/sheet1.xml\"/>"
    "<Relationship Id=\"rId2\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings\" Target=\"sharedStrings.xml\"/>"
    "<Relationship Id=\"rId3\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles\" Target=\"styles.xml\"/>"
    "</Relationships>";
/* styles: xf 0 general, 1 built-in date 14, 2 custom date 164, 3 custom
 * non-date 165 (quoted letters), 4 datetime 22, 5 [Red] non-date 166 */
static const char STYLES_DEFAULT[] =
    "<styleSheet " NS "><numFmts count=\"3\">"
    "<numFmt numFmtId=\"164\" formatCode=\"yyyy\\-mm\\-dd\"/>"
    "<numFmt numFmtId=\"165\" formatCode=\"0.00&quot; days&quot;\"/>"
    "<numFmt numFmtId=\"166\" formatCode=\"[Red]0.00;[Blue]\\-0.00\"/></numFmts>"
    "<cellStyleXfs count=\"1\"><xf numFmtId=\"14\"/></cellStyleXfs>"
    "<cellXfs count=\"6\"><xf numFmtId=\"0\"/><xf numFmtId=\"14\"/><xf numFmtId=\"164\"/>"
    "<xf numFmtId=\"165\"/><xf numFmtId=\"22\"/><xf numFmtId=\"166\"/></cellXfs></styleSheet>";

/* A workbook from a sheet body (inside <sheetData>) and optional shared
 * strings (inside <sst>) and workbook XML. */
static char *book(const char *rows, const char *sst, const char *wb, size_t *len)
{
    size_t n1 = strlen(rows) + 256, n2 = (sst ? strlen(sst) : 0) + 256;
    char *sheet = malloc(n1), *ss = malloc(n2);
    snprintf(sheet, n1, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<worksheet " NS
             "><sheetData>%s</sheetData></worksheet>", rows);
    snprintf(ss, n2, "<sst " NS ">%s</sst>", sst ? sst : "");
    part p[] = {
        { "[Content_Types].xml", "<Types/>", 0 },
        { "xl/workbook.xml", wb ? wb : WB_DEFAULT, 0 },
        { "xl/_rels/workbook.xml.rels", RELS_DEFAULT, 0 },
        { "xl/styles.xml", STYLES_DEFAULT, 0 },
        { "xl/sharedStrings.xml", ss, 0 },
        { "xl/worksheets/sheet1.xml", sheet, 0 },
    };
    char *z = make_zip(p, sizeof p / sizeof p[0], len);
    free(sheet);
    free(ss);
    return z;
}

/* Reads every row as "row:cell|cell\n" text. Returns the reader's final
 * code (SP_EOF when all went well); *out always set. */
static int read_all(const void *d, size_t n, const char *sheet, char **out, sp_err *e)
{
    void *st = NULL;
    const sp_reader_ops *ops = NULL;
    sp_buf b;
    sp_buf_init(&b, 64 * 1024 * 1024);
    sp_buf_adds(&b, "");
    int rc = xlsx_open_mem(&st, &ops, d, n, "t.xlsx", sheet, e);
    if (rc == SP_OK) {
        sp_row r;
        while ((rc = ops->next(st, &r, e)) == SP_OK) {
            sp_buf_printf(&b, "%ld:", r.row);
            for (size_t i = 0; i < r.ncells; i++) {
                ASSERT_EQ(strlen(r.cell[i]), r.len[i]);
                if (i) sp_buf_addc(&b, '|');
                sp_buf_add(&b, r.cell[i], r.len[i]);
            }
            sp_buf_addc(&b, '\n');
        }
        ops->close(st);
    }
    *out = sp_buf_steal(&b);
    return rc;
}

/* Reads a one-sheet book built from `rows` and checks the text. */
static void expect(const char *rows, const char *sst, const char *want)
{
    size_t n;
    char *z = book(rows, sst, NULL, &n);
    sp_err e;
    sp_err_init(&e);
    char *got;
    int rc = read_all(z, n, NULL, &got, &e);
    if (rc != SP_EOF) sp_err_print(&e, stderr);
    ASSERT_EQ(rc, SP_EOF);
    ASSERT_STR_EQ(got, want);
    free(got);
    free(z);
    sp_err_free(&e);
}

/* Reads a book that must fail; returns the last message (static copy). */
static const char *expect_fail(const char *rows, const char *sst, int want_rc)
{
    static char msg[2048];
    size_t n;
    char *z = book(rows, sst, NULL, &n);
    sp_err e;
    sp_err_init(&e);
    char *got;
    int rc = read_all(z, n, NULL, &got, &e);
    ASSERT_EQ(rc, want_rc);
    ASSERT_GE(e.count, 1);
    snprintf(msg, sizeof msg, "%s", sp_err_last(&e));
    free(got);
    free(z);
    sp_err_free(&e);
    return msg;
}

/* ------------------------------------------------------------ real files */

TEST(real_glotip)
{
    size_t n;
    char *d = test_slurp(shared_path("unodc/data_glotip.xlsx"), &n);
    ASSERT_NOT_NULL(d);
    sp_err e;
    sp_err_init(&e);
    void *st;
    const sp_reader_ops *ops;
    ASSERT_EQ(xlsx_open_mem(&st, &ops, d, n, "data_glotip.xlsx", NULL, &e), SP_OK);
    sp_row r;
    long rows = 0, lt5 = 0, y2020 = 0, last = 0;
    int rc;
    double t0 = sp_now();
    while ((rc = ops->next(st, &r, &e)) == SP_OK) {
        rows++;
        ASSERT(r.row > last);
        last = r.row;
        if (r.row == 1) {
            ASSERT_EQ(r.ncells, 1);   /* B1 is a formula without a cached value */
            ASSERT_STR_EQ(r.cell[0], "UNODC");
        } else if (r.row == 3) {
            static const char *hdr[] = { "Iso3_code", "Country", "Region", "Subregion",
                "Indicator", "Dimension", "Category", "Sex", "Age", "Year",
                "Unit of measurement", "txtVALUE", "Source" };
            ASSERT_EQ(r.ncells, 13);
            for (int i = 0; i < 13; i++) ASSERT_STR_EQ(r.cell[i], hdr[i]);
        } else if (r.row == 100) {
            ASSERT_STR_EQ(r.cell[0], "AGO");
            ASSERT_STR_EQ(r.cell[8], "18 years or over");
            ASSERT_STR_EQ(r.cell[9], "2018");
            ASSERT_STR_EQ(r.cell[11], "<5");
        }
        if (r.row > 3) {
            ASSERT_EQ(r.ncells, 13);
            if (strcmp(r.cell[11], "<5") == 0) lt5++;
            if (strcmp(r.cell[9], "2020") == 0) y2020++;
        }
    }
    double dt = sp_now() - t0;
    ASSERT_EQ(rc, SP_EOF);
    ASSERT_EQ(rows, 58772);           /* 2 title rows + header + 58,769 */
    ASSERT_EQ(last, 58772);
    ASSERT_EQ(lt5, 29558);
    ASSERT_EQ(y2020, 7251);
    uint64_t done, total;
    ops->progress(st, &done, &total);
    ASSERT_EQ(done, total);
    ASSERT_EQ(total, 26671186);
    fprintf(stderr, "  glotip: %ld rows in %.2fs (sanitized build)\n", rows, dt);
    ops->close(st);
    sp_err_free(&e);
    free(d);
}

TEST(real_ctdc_sheets)
{
    size_t n;
    char *d = test_slurp(shared_path("ctdc/ctdc_data_dictionary_15082018.xlsx"), &n);
    ASSERT_NOT_NULL(d);
    sp_err e;
    sp_err_init(&e);
    char **names;
    size_t nn;
    ASSERT_EQ(xlsx_sheet_names(d, n, &names, &nn, &e), SP_OK);
    ASSERT_EQ(nn, 3);
    ASSERT_STR_EQ(names[0], "Main");
    ASSERT_STR_EQ(names[1], "Lookups ");
    ASSERT_STR_EQ(names[2], "Notes ");
    for (size_t i = 0; i < nn; i++) free(names[i]);
    free(names);

    char *got;
    ASSERT_EQ(read_all(d, n, NULL, &got, &e), SP_EOF);
    ASSERT(strncmp(got, "1:Variable name |Data type|Length/Size|", 39) == 0);
    long lines = 0;
    for (char *p = got; *p; p++) lines += *p == '\n';
    ASSERT_EQ(lines, 63);
    free(got);

    /* by name, forgiving case and the trailing space */
    ASSERT_EQ(read_all(d, n, "lookups", &got, &e), SP_EOF);
    ASSERT(strncmp(got, "1:Lookup |Code |Description ", 28) == 0);
    lines = 0;
    for (char *p = got; *p; p++) lines += *p == '\n';
    ASSERT_EQ(lines, 272);
    ASSERT_CONTAINS(got, "\n283:");
    free(got);

    ASSERT_EQ(read_all(d, n, "Nope", &got, &e), SP_EUSAGE);
    ASSERT_CONTAINS(sp_err_last(&e), "no sheet named 'Nope'");
    ASSERT_CONTAINS(sp_err_last(&e), "'Main', 'Lookups ', 'Notes '");
    free(got);
    sp_err_free(&e);
    free(d);
}

TEST(real_htcds)
{
    size_t n;
    char *d = test_slurp(shared_path("htcds/htcds_v2.xlsx"), &n);
    ASSERT_NOT_NULL(d);
    sp_err e;
    sp_err_init(&e);
    char *got;
    ASSERT_EQ(read_all(d, n, NULL, &got, &e), SP_EOF);
    /* row 1 starts at column B: an empty first cell */
    ASSERT(strncmp(got, "1:|cas_CaseOwner|prs_Salutation|", 32) == 0);
    ASSERT_CONTAINS(got, "\n2:|Case Owner|Salutation|First Name|");
    ASSERT_CONTAINS(got, "\n3:1\n4:2\n");
    long lines = 0;
    for (char *p = got; *p; p++) lines += *p == '\n';
    ASSERT_EQ(lines, 1002);
    free(got);
    sp_err_free(&e);
    free(d);
}

/* ------------------------------------------------------------ cell kinds */

TEST(shared_strings_rich_and_escapes)
{
    expect("<row r=\"1\"><c r=\"A1\" t=\"s\"><v>0</v></c><c r=\"B1\" t=\"s\"><v>1</v></c>"
           "<c r=\"C1\" t=\"s\"><v>2</v></c><c r=\"D1\" t=\"s\"><v>3</v></c></row>",
           "<si><t xml:space=\"preserve\"> padded </t></si>"
           "<si><r><rPr><b/></rPr><t>Bold</t></r><r><t xml:space=\"preserve\"> and plain</t></r>"
           "<rPh sb=\"0\" eb=\"1\"><t>PHONETIC</t></rPh></si>"
           "<si><t>line_x000D_break a_x005F_x0041_b _x0041_ &amp; &lt;ok&gt;</t></si>"
           "<si><t>Nghệ An _xD800_ _x00e9_</t></si>",
           "1: padded |Bold and plain|line\rbreak a_x0041_b A & <ok>|Nghệ An _xD800_ é\n");
}

TEST(inline_str_and_formula_results)
{
    expect("<row r=\"1\"><c r=\"A1\" t=\"inlineStr\"><is><t>inline</t></is></c>"
           "<c r=\"B1\" t=\"inlineStr\"><is><r><t>ri</t></r><r><t>ch</t></r></is></c>"
           "<c r=\"C1\" t=\"str\"><f>A1&amp;\"x\"</f><v>inlinex</v></c>"
           "<c r=\"D1\"><f>1+1</f><v>2</v></c>"
           "<c r=\"E1\" t=\"str\"><f>NOW()</f></c></row>",
           NULL, "1:inline|rich|inlinex|2\n");
}

TEST(booleans_errors)
{
    expect("<row r=\"1\"><c r=\"A1\" t=\"b\"><v>1</v></c><c r=\"B1\" t=\"b\"><v>0</v></c>"
           "<c r=\"C1\" t=\"e\"><v>#N/A</v></c><c r=\"D1\" t=\"e\"><f>1/0</f><v>#DIV/0!</v></c>"
           "<c r=\"E1\" t=\"d\"><v>2024-03-01T00:00:00</v></c></row>",
           NULL, "1:TRUE|FALSE|#N/A|#DIV/0!|2024-03-01T00:00:00\n");
}

TEST(numbers)
{
    expect("<row r=\"1\"><c r=\"A1\"><v>2016</v></c><c r=\"B1\" t=\"n\"><v>0.1</v></c>"
           "<c r=\"C1\"><v>1.5E-3</v></c><c r=\"D1\"><v>3.0</v></c><c r=\"E1\"><v>1E+20</v></c>"
           "<c r=\"F1\"><v>-0</v></c><c r=\"G1\"><v>0.30000000000000004</v></c>"
           "<c r=\"H1\"><v>-42</v></c><c r=\"I1\"><v>007</v></c><c r=\"J1\"><v>123456789012345678</v></c>"
           "<c r=\"K1\"><v>abc</v></c><c r=\"L1\"><v>2016.5</v></c>"
           "<c r=\"M1\" s=\"3\"><v>1.25</v></c><c r=\"N1\" s=\"5\"><v>7</v></c></row>",
           NULL, "1:2016|0.1|0.0015|3|1e+20|0|0.3|-42|7|1.23456789012346e+17|abc|2016.5|1.25|7\n");
}

TEST(dates_1900)
{
    expect("<row r=\"1\"><c r=\"A1\" s=\"1\"><v>43101</v></c><c r=\"B1\" s=\"1\"><v>60</v></c>"
           "<c r=\"C1\" s=\"1\"><v>61</v></c><c r=\"D1\" s=\"1\"><v>59</v></c><c r=\"E1\" s=\"1\"><v>1</v></c>"
           "<c r=\"F1\" s=\"4\"><v>43101.5</v></c><c r=\"G1\" s=\"4\"><v>0.25</v></c>"
           "<c r=\"H1\" s=\"2\"><v>45658</v></c><c r=\"I1\" s=\"1\"><v>-3</v></c>"
           "<c r=\"J1\" s=\"1\"><v>2958465</v></c><c r=\"K1\" s=\"4\"><v>43101.99999999</v></c>"
           "<c r=\"L1\" s=\"99\"><v>43101</v></c></row>",
           NULL, "1:2018-01-01|1900-02-29|1900-03-01|1900-02-28|1900-01-01|"
                 "2018-01-01T12:00:00|06:00:00|2025-01-01|-3|9999-12-31|2018-01-02|43101\n");
}

TEST(dates_1904)
{
    size_t n;
    char *z = book("<row r=\"1\"><c r=\"A1\" s=\"1\"><v>0</v></c><c r=\"B1\" s=\"1\"><v>41639</v></c>"
                   "<c r=\"C1\" s=\"4\"><v>41639.75</v></c></row>", NULL,
                   "<workbook " NS "><workbookPr date1904=\"1\"/><sheets>"
                   "<sheet name=\"Data\" sheetId=\"1\" r:id=\"rId1\"/></sheets></workbook>", &n);
    sp_err e;
    sp_err_init(&e);
    char *got;
    ASSERT_EQ(read_all(z, n, NULL, &got, &e), SP_EOF);
    ASSERT_STR_EQ(got, "1:1904-01-01|2018-01-01|2018-01-01T18:00:00\n");
    free(got);
    free(z);
    sp_err_free(&e);
}

TEST(gaps_missing_refs_empty_rows)
{
    expect("<row r=\"2\"><c r=\"A2\" t=\"inlineStr\"><is><t>a</t></is></c>"
           "<c r=\"D2\"><v>4</v></c><c r=\"F2\" s=\"1\"/></row>"
           "<row r=\"3\"><c r=\"B3\"/></row>"                       /* empty: skipped */
           "<row r=\"4\"><c r=\"A4\" t=\"inlineStr\"><is><t></t></is></c></row>"
           "<row><c><v>1</v></c><c><v>2</v></c><c r=\"E5\"><v>5</v></c><c><v>6</v></c></row>"
           "<row r=\"9\"><c r=\"b9\"><v>9</v></c></row>"
           "<row><c t=\"inlineStr\"><is><t>last</t></is></c></row>",
           NULL, "2:a|||4\n5:1|2|||5|6\n9:|9\n10:last\n");
}

TEST(prefixed_names_and_absolute_target)
{
    const char *sheet =
        "<x:worksheet xmlns:x=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\">"
        "<x:sheetData><x:row r=\"1\"><x:c r=\"A1\" t=\"inlineStr\"><x:is><x:t>p</x:t></x:is></x:c>"
        "</x:row></x:sheetData></x:worksheet>";
    const char *rels =
        "<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">"
        "<Relationship Id=\"rIdA\" Type=\"http://x/worksheet\" Target=\"/xl/worksheets/other.xml\"/>"
        "<Relationship Id=\"rIdB\" Type=\"http://x/worksheet\" Target=\"../xl/./worksheets/sheet1.xml\"/>"
        "</Relationships>";
    const char *wb = "<workbook " NS "><sheets><sheet name=\"One\" sheetId=\"1\" r:id=\"rIdA\"/>"
                     "<sheet name=\"Two\" sheetId=\"2\" r:id=\"rIdB\"/></sheets></workbook>";
    part p[] = {
        { "xl/workbook.xml", wb, 0 },
        { "xl/_rels/workbook.xml.rels", rels, 0 },
        { "xl/worksheets/other.xml", sheet, 0 },
        { "xl/worksheets/sheet1.xml", "<worksheet><sheetData><row><c><v>2</v></c></row></sheetData></worksheet>", 0 },
    };
    size_t n;
    char *z = make_zip(p, 4, &n);
    sp_err e;
    sp_err_init(&e);
    char *got;
    ASSERT_EQ(read_all(z, n, NULL, &got, &e), SP_EOF);
    ASSERT_STR_EQ(got, "1:p\n");
    free(got);
    ASSERT_EQ(read_all(z, n, "Two", &got, &e), SP_EOF);
    ASSERT_STR_EQ(got, "1:2\n");
    free(got);
    free(z);
    sp_err_free(&e);
}

/* ------------------------------------------------------------ bad input */

TEST(not_zip_not_xlsx)
{
    sp_err e;
    sp_err_init(&e);
    char *got;
    const char *csv = "a,b,c\n1,2,3\n4,5,6\n7,8,9\n10,11,12\n";
    ASSERT_EQ(read_all(csv, strlen(csv), NULL, &got, &e), SP_EINPUT);
    ASSERT_CONTAINS(sp_err_last(&e), "not a valid zip");
    free(got);
    ASSERT_EQ(read_all("", 0, NULL, &got, &e), SP_EINPUT);
    ASSERT_CONTAINS(sp_err_last(&e), "too short");
    free(got);

    part p[] = { { "word/document.xml", "<w/>", 0 } };
    size_t n;
    char *z = make_zip(p, 1, &n);
    ASSERT_EQ(read_all(z, n, NULL, &got, &e), SP_EINPUT);
    ASSERT_CONTAINS(sp_err_last(&e), "no xl/workbook.xml");
    free(got);
    char **names;
    size_t nn;
    ASSERT_EQ(xlsx_sheet_names(z, n, &names, &nn, &e), SP_EINPUT);
    free(z);

    /* a zip cut in half */
    size_t gn;
    char *g = test_slurp(shared_path("htcds/htcds_v2.xlsx"), &gn);
    ASSERT_NOT_NULL(g);
    ASSERT_NE(read_all(g, gn / 2, NULL, &got, &e), SP_EOF);
    free(got);
    free(g);
    ASSERT_EQ(e.items[0].row, 0);
    ASSERT_STR_EQ(e.items[0].file, "t.xlsx");
    sp_err_free(&e);
}

TEST(malformed_xml_after_good_rows)
{
    size_t n;
    char *z = book("<row r=\"1\"><c><v>1</v></c></row>\n<row r=\"2\"><c><v>2</v></c></row>\n"
                   "<row r=\"3\"><c><v>3</v></x></row>", NULL, NULL, &n);
    sp_err e;
    sp_err_init(&e);
    void *st;
    const sp_reader_ops *ops;
    ASSERT_EQ(xlsx_open_mem(&st, &ops, z, n, "bad.xlsx", NULL, &e), SP_OK);
    sp_row r;
    ASSERT_EQ(ops->next(st, &r, &e), SP_OK);
    ASSERT_EQ(r.row, 1);
    ASSERT_EQ(ops->next(st, &r, &e), SP_OK);
    ASSERT_EQ(r.row, 2);
    ASSERT_EQ(ops->next(st, &r, &e), SP_EINPUT);
    ASSERT_CONTAINS(sp_err_last(&e), "xl/worksheets/sheet1.xml: malformed XML at line 4, column");
    ASSERT_CONTAINS(sp_err_last(&e), "mismatched tag");
    ASSERT_STR_EQ(e.items[0].file, "bad.xlsx");
    ASSERT_EQ(ops->next(st, &r, &e), SP_EUSAGE);   /* not to be used again */
    ops->close(st);
    free(z);
    sp_err_free(&e);

    /* malformed shared strings fail at open */
    const char *m = expect_fail("<row><c t=\"s\"><v>0</v></c></row>", "<si><t>a</si>", SP_EINPUT);
    ASSERT_CONTAINS(m, "xl/sharedStrings.xml: malformed XML at line 1");
}

TEST(bad_shared_string_index)
{
    const char *m = expect_fail("<row r=\"7\"><c r=\"C7\" t=\"s\"><v>5</v></c></row>",
                                "<si><t>a</t></si>", SP_EINPUT);
    ASSERT_CONTAINS(m, "cell C7 refers to shared string '5'");
    ASSERT_CONTAINS(m, "only 1 shared strings");
    m = expect_fail("<row r=\"7\"><c r=\"C7\" t=\"s\"><v>-1</v></c></row>", "<si><t>a</t></si>",
                    SP_EINPUT);
    ASSERT_CONTAINS(m, "cell C7");
    m = expect_fail("<row r=\"2\"><c r=\"A2!\"><v>1</v></c></row>", NULL, SP_EINPUT);
    ASSERT_CONTAINS(m, "malformed reference 'A2!'");
    m = expect_fail("<row r=\"0\"><c><v>1</v></c></row>", NULL, SP_EINPUT);
    ASSERT_CONTAINS(m, "invalid number '0'");
}

TEST(doctype_refused)
{
    size_t n;
    const char *sheet =
        "<?xml version=\"1.0\"?><!DOCTYPE lolz [<!ENTITY lol \"lol\">"
        "<!ENTITY lol2 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">]>"
        "<worksheet><sheetData><row><c t=\"inlineStr\"><is><t>&lol2;</t></is></c></row>"
        "</sheetData></worksheet>";
    part p[] = { { "xl/workbook.xml", WB_DEFAULT, 0 },
                 { "xl/_rels/workbook.xml.rels", RELS_DEFAULT, 0 },
                 { "xl/worksheets/sheet1.xml", sheet, 0 } };
    char *z = make_zip(p, 3, &n);
    sp_err e;
    sp_err_init(&e);
    char *got;
    ASSERT_EQ(read_all(z, n, NULL, &got, &e), SP_EINPUT);
    ASSERT_CONTAINS(sp_err_last(&e), "DOCTYPE declaration is not allowed");
    ASSERT_STR_EQ(got, "");
    free(got);
    free(z);
    sp_err_free(&e);
}

TEST(cell_too_long_and_too_many_columns)
{
    size_t big = SP_MAX_CELL + 10;
    char *rows = malloc(big + 200);
    int k = sprintf(rows, "<row r=\"2\"><c r=\"B2\" t=\"inlineStr\"><is><t>");
    memset(rows + k, 'x', big);
    strcpy(rows + k + big, "</t></is></c></row>");
    const char *m = expect_fail(rows, NULL, SP_ELIMIT);
    ASSERT_CONTAINS(m, "cell B2 is longer than 65536 bytes");
    /* the same through the shared strings */
    char *sst = malloc(big + 64);
    k = sprintf(sst, "<si><t>");
    memset(sst + k, 'y', big);
    strcpy(sst + k + big, "</t></si>");
    m = expect_fail("<row r=\"3\"><c r=\"D3\" t=\"s\"><v>0</v></c></row>", sst, SP_ELIMIT);
    ASSERT_CONTAINS(m, "cell D3 is longer");
    free(sst);
    /* exactly at the cap is fine */
    k = sprintf(rows, "<row r=\"2\"><c r=\"B2\" t=\"inlineStr\"><is><t>");
    memset(rows + k, 'x', SP_MAX_CELL);
    strcpy(rows + k + SP_MAX_CELL, "</t></is></c></row>");
    size_t n;
    char *z = book(rows, NULL, NULL, &n);
    sp_err e;
    sp_err_init(&e);
    char *got;
    ASSERT_EQ(read_all(z, n, NULL, &got, &e), SP_EOF);
    ASSERT_EQ(strlen(got), 2 + 1 + SP_MAX_CELL + 1);   /* "2:" "|" x... "\n" */
    free(got);
    free(z);
    sp_err_free(&e);
    free(rows);

    /* formatting-only cells far right are ignored; a value there is not */
    expect("<row r=\"1\"><c r=\"A1\"><v>1</v></c><c r=\"XFD1\" s=\"1\"/></row>", NULL, "1:1\n");
    char want[1100];
    k = sprintf(want, "1:");
    memset(want + k, '|', SP_MAX_COLS - 1);
    strcpy(want + k + SP_MAX_COLS - 1, "1024\n");
    expect("<row r=\"1\"><c r=\"AMJ1\"><v>1024</v></c></row>", NULL, want);
}

TEST(too_many_columns)
{
    const char *m = expect_fail("<row r=\"1\"><c r=\"A1\"><v>1</v></c><c r=\"AMK1\"><v>1</v></c></row>",
                                NULL, SP_ELIMIT);
    ASSERT_CONTAINS(m, "cell AMK1 is beyond the limit of 1024 columns");
}

/* Finds a zip entry's local and central headers and sets its declared
 * uncompressed size. */
static void patch_size(char *z, size_t n, const char *name, uint32_t size)
{
    size_t nl = strlen(name);
    int patched = 0;
    for (size_t i = 0; i + 46 + nl <= n; i++) {
        if (memcmp(z + i, "PK\3\4", 4) == 0 && memcmp(z + i + 30, name, nl) == 0) {
            memcpy(z + i + 22, &size, 4);
            patched++;
        } else if (memcmp(z + i, "PK\1\2", 4) == 0 && memcmp(z + i + 46, name, nl) == 0) {
            memcpy(z + i + 24, &size, 4);
            patched++;
        }
    }
    ASSERT_EQ(patched, 2);
}

TEST(zip_bomb_declared_size)
{
    sp_err e;
    sp_err_init(&e);
    size_t n;
    char *got;
    char *z = book("<row><c><v>1</v></c></row>", NULL, NULL, &n);
    patch_size(z, n, "xl/worksheets/sheet1.xml", 3u << 30);   /* 3 GiB */
    ASSERT_EQ(read_all(z, n, NULL, &got, &e), SP_ELIMIT);
    ASSERT_CONTAINS(sp_err_last(&e), "xl/worksheets/sheet1.xml would inflate to 3221225472 bytes");
    free(got);
    free(z);

    /* a part that inflates past what it declares */
    z = book("<row><c><v>1</v></c></row><row><c><v>2</v></c></row>", NULL, NULL, &n);
    patch_size(z, n, "xl/worksheets/sheet1.xml", 20);
    ASSERT_NE(read_all(z, n, NULL, &got, &e), SP_EOF);
    ASSERT_CONTAINS(sp_err_last(&e), "sheet1.xml");
    free(got);
    free(z);

    /* an honest but absurd ratio: 8 MiB of blanks in shared strings */
    size_t big = 8 << 20;
    char *sst = malloc(big + 64);
    memcpy(sst, "<si><t>", 7);
    memset(sst + 7, ' ', big);
    strcpy(sst + 7 + big, "</t></si>");
    z = book("<row><c><v>1</v></c></row>", sst, NULL, &n);
    free(sst);
    /* deflate tops out near 1030:1, so pretend it is 4 GiB - 1 */
    patch_size(z, n, "xl/sharedStrings.xml", 0xFFFFFFFEu);
    ASSERT_EQ(read_all(z, n, NULL, &got, &e), SP_ELIMIT);
    ASSERT_CONTAINS(sp_err_last(&e), "xl/sharedStrings.xml");
    free(got);
    free(z);
    sp_err_free(&e);
}

/* ------------------------------------------------------------ writer */

static char *tmp_path(const char *suffix)
{
    static int k;
    char *p = malloc(256);
    snprintf(p, 256, "/tmp/test_xlsxw_%d_%d%s", (int)getpid(), k++, suffix);
    return p;
}

TEST(writer_round_trip)
{
    char *path = tmp_path(".xlsx");
    sp_err e;
    sp_err_init(&e);
    xlsxw *w;
    ASSERT_EQ(xlsxw_open(&w, path, "Cases: 2024/25", &e), SP_OK);
    const char *strs[] = { "id", "name & <notes>", " lead \"q\" ", "=1+1", "tab\there",
                           "multi\nline", "ctl\x01\x02x\x7f", "bad\xff\xfeutf8", "Nghệ An 😀",
                           "_x0041_ literal", "cr\r\nlf" };
    size_t ns = sizeof strs / sizeof strs[0];
    ASSERT_EQ(xlsxw_row_begin(w), SP_OK);
    for (size_t i = 0; i < ns; i++) ASSERT_EQ(xlsxw_cell_str(w, strs[i], strlen(strs[i])), SP_OK);
    ASSERT_EQ(xlsxw_row_end(w), SP_OK);
    ASSERT_EQ(xlsxw_row_begin(w), SP_OK);
    ASSERT_EQ(xlsxw_cell_num(w, 2016), SP_OK);
    ASSERT_EQ(xlsxw_cell_empty(w), SP_OK);
    ASSERT_EQ(xlsxw_cell_num(w, 0.1), SP_OK);
    ASSERT_EQ(xlsxw_cell_num(w, -1.5e300), SP_OK);
    ASSERT_EQ(xlsxw_cell_num(w, NAN), SP_OK);
    ASSERT_EQ(xlsxw_cell_str(w, "", 0), SP_OK);
    ASSERT_EQ(xlsxw_cell_num(w, 1.0 / 3.0), SP_OK);
    ASSERT_EQ(xlsxw_row_end(w), SP_OK);
    ASSERT_EQ(xlsxw_row_begin(w), SP_OK);          /* an empty row */
    ASSERT_EQ(xlsxw_row_end(w), SP_OK);
    ASSERT_EQ(xlsxw_row_begin(w), SP_OK);
    ASSERT_EQ(xlsxw_cell_str(w, "end", 3), SP_OK);  /* left open: close ends it */
    ASSERT_EQ(xlsxw_close(w), SP_OK);

    size_t n;
    char *d = test_slurp(path, &n);
    ASSERT_NOT_NULL(d);
    char **names;
    size_t nn;
    ASSERT_EQ(xlsx_sheet_names(d, n, &names, &nn, &e), SP_OK);
    ASSERT_EQ(nn, 1);
    ASSERT_STR_EQ(names[0], "Cases_ 2024_25");
    free(names[0]);
    free(names);
    char *got;
    ASSERT_EQ(read_all(d, n, NULL, &got, &e), SP_EOF);
    ASSERT_STR_EQ(got,
        "1:id|name & <notes>| lead \"q\" |=1+1|tab\there|multi\nline|ctlx|bad\xEF\xBF\xBD\xEF\xBF\xBDutf8|"
        "Nghệ An 😀|_x0041_ literal|cr\nlf\n"
        "2:2016||0.1|-1.5e+300|#NUM!||0.333333333333333\n"
        "4:end\n");
    free(got);
    free(d);

    /* the zip is sound for other tools too, when they are here */
    char cmd[512];
    if (system("command -v unzip >/dev/null 2>&1") == 0) {
        snprintf(cmd, sizeof cmd, "unzip -tq %s >/dev/null", path);
        ASSERT_EQ(system(cmd), 0);
    }
    if (system("command -v python3 >/dev/null 2>&1") == 0) {
        snprintf(cmd, sizeof cmd,
                 "python3 -c \"import zipfile,sys,xml.dom.minidom as m;z=zipfile.ZipFile('%s');"
                 "assert z.testzip() is None;[m.parseString(z.read(n)) for n in z.namelist()]\"",
                 path);
        ASSERT_EQ(system(cmd), 0);
    }
    unlink(path);
    free(path);
    sp_err_free(&e);
}

TEST(writer_many_rows_constant_memory)
{
    char *path = tmp_path(".xlsx");
    sp_err e;
    sp_err_init(&e);
    xlsxw *w;
    ASSERT_EQ(xlsxw_open(&w, path, NULL, &e), SP_OK);
    char buf[64];
    long rows = 60000;
    for (long i = 0; i < rows; i++) {
        ASSERT_EQ(xlsxw_row_begin(w), SP_OK);
        int k = snprintf(buf, sizeof buf, "case-%ld", i);
        ASSERT_EQ(xlsxw_cell_str(w, buf, (size_t)k), SP_OK);
        ASSERT_EQ(xlsxw_cell_num(w, (double)i), SP_OK);
        ASSERT_EQ(xlsxw_cell_num(w, i / 8.0), SP_OK);
        ASSERT_EQ(xlsxw_row_end(w), SP_OK);
    }
    ASSERT_EQ(xlsxw_close(w), SP_OK);
    size_t n;
    char *d = test_slurp(path, &n);
    ASSERT_NOT_NULL(d);
    void *st;
    const sp_reader_ops *ops;
    ASSERT_EQ(xlsx_open_mem(&st, &ops, d, n, "big", "Sheet1", &e), SP_OK);
    sp_row r;
    long got = 0;
    int rc;
    while ((rc = ops->next(st, &r, &e)) == SP_OK) {
        ASSERT_EQ(r.row, got + 1);
        ASSERT_EQ(r.ncells, 3);
        snprintf(buf, sizeof buf, "case-%ld", got);
        ASSERT_STR_EQ(r.cell[0], buf);
        snprintf(buf, sizeof buf, "%ld", got);
        ASSERT_STR_EQ(r.cell[1], buf);
        double x = atof(r.cell[2]);
        ASSERT_DBL_EQ(x, got / 8.0, 1e-9);
        got++;
    }
    ASSERT_EQ(rc, SP_EOF);
    ASSERT_EQ(got, rows);
    ops->close(st);
    free(d);
    unlink(path);
    free(path);
    sp_err_free(&e);
}

TEST(writer_stdout)
{
    char *path = tmp_path(".stdout");
    fflush(stdout);
    int saved = dup(1);
    FILE *f = fopen(path, "wb");
    ASSERT_NOT_NULL(f);
    dup2(fileno(f), 1);
    sp_err e;
    sp_err_init(&e);
    xlsxw *w;
    int rc = xlsxw_open(&w, "-", "S", &e);
    if (rc == SP_OK) {
        xlsxw_row_begin(w);
        xlsxw_cell_str(w, "to stdout", 9);
        xlsxw_row_end(w);
        rc = xlsxw_close(w);
    }
    fflush(stdout);
    dup2(saved, 1);
    close(saved);
    fclose(f);
    ASSERT_EQ(rc, SP_OK);
    size_t n;
    char *d = test_slurp(path, &n);
    ASSERT_NOT_NULL(d);
    char *got;
    ASSERT_EQ(read_all(d, n, "S", &got, &e), SP_EOF);
    ASSERT_STR_EQ(got, "1:to stdout\n");
    free(got);
    free(d);
    unlink(path);
    free(path);
    sp_err_free(&e);
}

TEST(writer_leaves_no_named_temp_file)
{
    char dir[] = "/tmp/test_xlsxw_dir_XXXXXX";
    ASSERT_NOT_NULL(mkdtemp(dir));
    char path[128], cmd[256];
    snprintf(path, sizeof path, "%s/out.xlsx", dir);
    sp_err e;
    sp_err_init(&e);
    xlsxw *w;
    ASSERT_EQ(xlsxw_open(&w, path, NULL, &e), SP_OK);
    ASSERT_EQ(xlsxw_row_begin(w), SP_OK);
    ASSERT_EQ(xlsxw_cell_str(w, "victim name", 11), SP_OK);
    ASSERT_EQ(xlsxw_row_end(w), SP_OK);
    snprintf(cmd, sizeof cmd, "test -z \"$(ls -A %s)\"", dir);   /* nothing named on disk */
    ASSERT_EQ(system(cmd), 0);
    ASSERT_EQ(xlsxw_close(w), SP_OK);
    snprintf(cmd, sizeof cmd, "test \"$(ls -A %s)\" = out.xlsx", dir);
    ASSERT_EQ(system(cmd), 0);
    unlink(path);
    rmdir(dir);
    sp_err_free(&e);
}

TEST(writer_errors)
{
    sp_err e;
    sp_err_init(&e);
    xlsxw *w;
    /* the directory does not exist: the temp file cannot be made */
    ASSERT_EQ(xlsxw_open(&w, "/nonexistent-dir-xyz/out.xlsx", NULL, &e), SP_EIO);
    ASSERT_CONTAINS(sp_err_last(&e), "/nonexistent-dir-xyz");

    char *path = tmp_path(".xlsx");
    ASSERT_EQ(xlsxw_open(&w, path, NULL, &e), SP_OK);
    ASSERT_EQ(xlsxw_cell_num(w, 1), SP_EUSAGE);     /* outside a row: sticky */
    ASSERT_EQ(xlsxw_row_begin(w), SP_EUSAGE);
    ASSERT_EQ(xlsxw_close(w), SP_EUSAGE);
    ASSERT_EQ(access(path, F_OK), -1);              /* nothing written */

    ASSERT_EQ(xlsxw_open(&w, path, NULL, &e), SP_OK);
    ASSERT_EQ(xlsxw_row_begin(w), SP_OK);
    size_t big = 40000;
    char *s = malloc(big);
    memset(s, 'a', big);
    ASSERT_EQ(xlsxw_cell_str(w, s, big), SP_ELIMIT);
    ASSERT_CONTAINS(sp_err_last(&e), "40000 characters");
    ASSERT_EQ(xlsxw_close(w), SP_ELIMIT);
    ASSERT_EQ(access(path, F_OK), -1);
    free(s);

    /* 32,767 characters of 2-byte UTF-8 fit */
    ASSERT_EQ(xlsxw_open(&w, path, NULL, &e), SP_OK);
    ASSERT_EQ(xlsxw_row_begin(w), SP_OK);
    s = malloc(2 * 32767);
    for (int i = 0; i < 32767; i++) { s[2 * i] = (char)0xC3; s[2 * i + 1] = (char)0xA9; }
    ASSERT_EQ(xlsxw_cell_str(w, s, 2 * 32767), SP_OK);
    ASSERT_EQ(xlsxw_close(w), SP_OK);
    free(s);
    unlink(path);
    /* no temporary files left behind */
    ASSERT_NE(system("ls -a /tmp | grep -q '^.spotlight-sheet-'"), 0);
    free(path);
    sp_err_free(&e);
}

TEST_LIST(real_glotip, real_ctdc_sheets, real_htcds, shared_strings_rich_and_escapes,
          inline_str_and_formula_results, booleans_errors, numbers, dates_1900, dates_1904,
          gaps_missing_refs_empty_rows, prefixed_names_and_absolute_target, not_zip_not_xlsx,
          malformed_xml_after_good_rows, bad_shared_string_index, doctype_refused,
          cell_too_long_and_too_many_columns, too_many_columns, zip_bomb_declared_size,
          writer_round_trip, writer_many_rows_constant_memory, writer_stdout,
          writer_leaves_no_named_temp_file, writer_errors)
