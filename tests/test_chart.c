/* test_chart.c -- the SVG writer and the dashboard's charts: every chart
 * parsed back with expat (well-formed XML), its numbers read back out of
 * the drawn text and tooltips and compared with the input, hostile labels,
 * empty data, caps, suppression, truncation and output size.
 *
 * SP_CHART_DUMP=dir writes every chart drawn to dir/NAME.svg (for looking
 * at them rendered; not needed by the tests). */
#include "test.h"
#include "chart.h"
#include "svg.h"

#include <expat.h>
#include <math.h>
#include <stdarg.h>

/* ------------------------------------------------------------ parsed SVG */

#define MAXS 4096
typedef struct parsed {
    char *texts[MAXS];      /* visible text of each <text> (no <title> child) */
    size_t ntexts;
    char *titles[MAXS];     /* every <title>'s content */
    size_t ntitles;
    char *desc;
    char *ids[MAXS];
    size_t nids;
    char *labelledby;
    char *viewbox;
    int depth, in_title, in_text, in_desc, nsvg, nrect, nhatched;
    sp_buf cur;             /* text being collected */
    int ok;
    char err[256];
} parsed;

static void XMLCALL on_start(void *ud, const XML_Char *name, const XML_Char **atts)
{
    parsed *p = ud;
    p->depth++;
    if (!strcmp(name, "svg")) {
        p->nsvg++;
        for (int i = 0; atts[i]; i += 2) {
            if (!strcmp(atts[i], "aria-labelledby")) p->labelledby = strdup(atts[i + 1]);
            if (!strcmp(atts[i], "viewBox")) p->viewbox = strdup(atts[i + 1]);
        }
    }
    for (int i = 0; atts[i]; i += 2) {
        if (!strcmp(atts[i], "id") && p->nids < MAXS) p->ids[p->nids++] = strdup(atts[i + 1]);
        if (!strcmp(atts[i], "style")) { p->ok = 0; snprintf(p->err, sizeof p->err, "style attribute"); }
        if (!strcmp(atts[i], "fill") && strstr(atts[i + 1], "-sup)")) p->nhatched++;
        /* legible on phones: nothing under 11 units at the 640-unit width */
        if (!strcmp(atts[i], "font-size") && atof(atts[i + 1]) < 11) {
            p->ok = 0;
            snprintf(p->err, sizeof p->err, "font-size %s < 11", atts[i + 1]);
        }
    }
    if (!strcmp(name, "rect")) p->nrect++;
    if (!strcmp(name, "title")) { p->in_title = 1; sp_buf_reset(&p->cur); }
    else if (!strcmp(name, "desc")) { p->in_desc = 1; sp_buf_reset(&p->cur); }
    else if (!strcmp(name, "text")) { p->in_text = 1; sp_buf_reset(&p->cur); }
}

static void XMLCALL on_end(void *ud, const XML_Char *name)
{
    parsed *p = ud;
    p->depth--;
    if (!strcmp(name, "title")) {
        if (p->ntitles < MAXS) p->titles[p->ntitles++] = strdup(p->cur.data);
        p->in_title = 0;
        sp_buf_reset(&p->cur);
    } else if (!strcmp(name, "desc")) {
        free(p->desc);
        p->desc = strdup(p->cur.data);
        p->in_desc = 0;
    } else if (!strcmp(name, "text")) {
        if (p->ntexts < MAXS) p->texts[p->ntexts++] = strdup(p->cur.data);
        p->in_text = 0;
    }
}

static void XMLCALL on_chars(void *ud, const XML_Char *s, int len)
{
    parsed *p = ud;
    if (p->in_title || p->in_desc || p->in_text) (void)sp_buf_add(&p->cur, s, (size_t)len);
}

/* Parses an SVG; fails the test if it is not well-formed XML. */
static void parse_svg(parsed *p, const char *svg, size_t len)
{
    memset(p, 0, sizeof *p);
    p->ok = 1;
    sp_buf_init(&p->cur, 1 << 20);
    XML_Parser xp = XML_ParserCreate("UTF-8");
    XML_SetUserData(xp, p);
    XML_SetElementHandler(xp, on_start, on_end);
    XML_SetCharacterDataHandler(xp, on_chars);
    if (XML_Parse(xp, svg, (int)len, 1) != XML_STATUS_OK) {
        fprintf(stderr, "%.*s\n", (int)(len > 3000 ? 3000 : len), svg);
        TFAIL("not well-formed XML: %s at line %lu col %lu",
              XML_ErrorString(XML_GetErrorCode(xp)),
              (unsigned long)XML_GetCurrentLineNumber(xp),
              (unsigned long)XML_GetCurrentColumnNumber(xp));
    }
    XML_ParserFree(xp);
    if (!p->ok) TFAIL("bad SVG: %s", p->err);
    ASSERT_EQ(p->nsvg, 1);
    ASSERT_NOT_NULL(p->desc);
    /* aria-labelledby names ids that exist, ids are unique */
    ASSERT_NOT_NULL(p->labelledby);
    char *lb = strdup(p->labelledby), *save = NULL;
    for (char *t = strtok_r(lb, " ", &save); t; t = strtok_r(NULL, " ", &save)) {
        int found = 0;
        for (size_t i = 0; i < p->nids; i++) found += !strcmp(p->ids[i], t);
        if (found != 1) TFAIL("aria-labelledby id %s found %d times", t, found);
    }
    free(lb);
    for (size_t i = 0; i < p->nids; i++)
        for (size_t j = i + 1; j < p->nids; j++)
            if (!strcmp(p->ids[i], p->ids[j])) TFAIL("duplicate id %s", p->ids[i]);
}

static void parsed_free(parsed *p)
{
    for (size_t i = 0; i < p->ntexts; i++) free(p->texts[i]);
    for (size_t i = 0; i < p->ntitles; i++) free(p->titles[i]);
    for (size_t i = 0; i < p->nids; i++) free(p->ids[i]);
    free(p->desc);
    free(p->labelledby);
    free(p->viewbox);
    sp_buf_free(&p->cur);
}

static int has_text(const parsed *p, const char *s)
{
    for (size_t i = 0; i < p->ntexts; i++)
        if (!strcmp(p->texts[i], s)) return 1;
    return 0;
}

static int has_title(const parsed *p, const char *s)
{
    for (size_t i = 0; i < p->ntitles; i++)
        if (!strcmp(p->titles[i], s)) return 1;
    return 0;
}

/* Reads "12,345" at s (commas between digits): the number, end in *end. */
static long long read_count(const char *s, const char **end)
{
    long long v = 0;
    int any = 0;
    while ((*s >= '0' && *s <= '9') || (*s == ',' && any)) {
        if (*s != ',') { v = v * 10 + (*s - '0'); any = 1; }
        s++;
    }
    if (!any) TFAIL("no number at \"%s\"", s);
    *end = s;
    return v;
}

/* Reads "37.1%" at s: the percentage. */
static double read_pct(const char *s)
{
    char *e = NULL;
    double v = strtod(s, &e);
    if (e == s || *e != '%') TFAIL("no percentage at \"%s\"", s);
    return v;
}

static void dump(const char *name, const sp_buf *b)
{
    const char *dir = getenv("SP_CHART_DUMP");
    if (!dir || !*dir) return;
    char path[1024];
    snprintf(path, sizeof path, "%s/%s.svg", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f) return;
    fwrite(b->data, 1, b->len, f);
    fclose(f);
}

/* ------------------------------------------------------------ data */

static const char *const IND_CODE[] = {
    "online_scam", "forced_criminality_other", "sexual_exploitation", "labour_fishing",
    "labour_construction", "labour_manufacturing", "labour_agriculture", "labour_domestic",
    "labour_hospitality", "labour_begging", "labour_other", "forced_marriage",
    "organ_removal", "other", "unknown" };
static const char *const IND_LABEL[] = {
    "Online scams and fraud", "Other forced criminality", "Sexual exploitation",
    "Fishing", "Construction", "Manufacturing", "Agriculture", "Domestic work",
    "Hospitality", "Begging", "Other labour", "Forced marriage", "Organ removal",
    "Other", "Unknown" };
#define NIND 15
#define NYEARS 8

typedef struct ind_data {
    chart_item items[NYEARS][NIND];
    chart_bar bars[NYEARS];
    char labels[NYEARS][16];
} ind_data;

/* Industries by year 2018..2025, shares as stats gives them (4 decimals). */
static void ind_fill(ind_data *d)
{
    for (int y = 0; y < NYEARS; y++) {
        long long total = 0;
        for (int j = 0; j < NIND; j++) {
            long long c = (j == 0) ? 40 + 50LL * y * y : (j * 7 + y * 13) % 29;
            if (j == 12) c = 0;
            if (y == 7 && j == 0) c = 301;
            d->items[y][j] = (chart_item){ .code = IND_CODE[j], .label = IND_LABEL[j], .count = c };
            total += c;
        }
        for (int j = 0; j < NIND; j++)
            d->items[y][j].share = round((double)d->items[y][j].count / (double)total * 1e4) / 1e4;
        snprintf(d->labels[y], sizeof d->labels[y], "%d", 2018 + y);
        d->bars[y] = (chart_bar){ .label = d->labels[y], .total = total,
                                  .items = d->items[y], .nitems = NIND };
    }
}

static const chart_opts OPTS = { .id = "c1", .title = "Industries by year" };

/* ------------------------------------------------------------ svg.h */

TEST(svg_num_formats)
{
    sp_buf b;
    sp_buf_init(&b, 1024);
    const double v[] = { 0, 12, 12.5, 12.54, 12.55, -3.14, -0.04, 1e20, NAN, 640, 0.96 };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        ASSERT_EQ(svg_num(&b, v[i]), SP_OK);
        sp_buf_addc(&b, ' ');
    }
    ASSERT_STR_EQ(b.data, "0 12 12.5 12.5 12.6 -3.1 0 0 0 640 1 ");
    sp_buf_free(&b);
}

TEST(svg_fmt_numbers)
{
    char o[32];
    svg_fmt_int(0, o); ASSERT_STR_EQ(o, "0");
    svg_fmt_int(999, o); ASSERT_STR_EQ(o, "999");
    svg_fmt_int(1000, o); ASSERT_STR_EQ(o, "1,000");
    svg_fmt_int(12345, o); ASSERT_STR_EQ(o, "12,345");
    svg_fmt_int(1234567, o); ASSERT_STR_EQ(o, "1,234,567");
    svg_fmt_int(-1234, o); ASSERT_STR_EQ(o, "-1,234");
    svg_fmt_int(-9223372036854775807LL - 1, o); ASSERT_STR_EQ(o, "-9,223,372,036,854,775,808");
    char p[16];
    svg_fmt_pct(0.3707, p); ASSERT_STR_EQ(p, "37.1%");
    svg_fmt_pct(301.0 / 812.0, p); ASSERT_STR_EQ(p, "37.1%");
    svg_fmt_pct(0.12, p); ASSERT_STR_EQ(p, "12.0%");
    svg_fmt_pct(0, p); ASSERT_STR_EQ(p, "0%");
    svg_fmt_pct(1, p); ASSERT_STR_EQ(p, "100%");
    svg_fmt_pct(0.0004, p); ASSERT_STR_EQ(p, "<0.1%");
    svg_fmt_pct(0.0005, p); ASSERT_STR_EQ(p, "0.1%");
    svg_fmt_pct(0.9996, p); ASSERT_STR_EQ(p, ">99.9%");
    svg_fmt_pct(NAN, p); ASSERT_STR_EQ(p, "-");
    svg_fmt_pct(-0.5, p); ASSERT_STR_EQ(p, "-");
    svg_fmt_pct(1.5, p); ASSERT_STR_EQ(p, "150.0%");
}

TEST(svg_utf8_counting)
{
    const char *s = "H\xC3\xA0 N\xE1\xBB\x99i";   /* "Hà Nội": 6 code points */
    ASSERT_EQ(svg_utf8_len(s, strlen(s)), 6);
    ASSERT_EQ(svg_utf8_prefix(s, strlen(s), 2), 3);
    const char *bad = "a\xFF\xC3";                 /* invalid bytes count one each */
    ASSERT_EQ(svg_utf8_len(bad, 3), 3);
}

TEST(svg_doc_and_escaping)
{
    sp_buf b;
    sp_buf_init(&b, 1 << 16);
    sp_buf_adds(&b, "<p>before</p>");
    svg_doc d;
    svg_begin(&d, &b, "9 bad\"id", 640, 100, "T<i>\"&", "D'");
    svg_group_open(&d, "g\"x", "group & tip");
    svg_rect(&d, 1.25, 2, 3, 4, "#0072B2", "a", "<script>alert(1)</script>");
    svg_circle(&d, 1, 1, 2, "red", NULL, NULL);
    double xy[] = { 0, 0, 10.06, 5.55 };
    svg_polyline(&d, xy, 2, NULL, 2, NULL, NULL);
    svg_path_begin(&d, "#fff", "#000", 0.5, "land");
    svg_path_move(&d, 1, 2);
    svg_path_line(&d, 3.33, 4);
    svg_path_close(&d);
    svg_path_end(&d, "Kayin");
    svg_group_close(&d);
    svg_text_opts t = { .anchor = SVG_END, .max_cp = 5 };
    svg_text(&d, 0, 0, &t, "H\xC3\xA0 N\xE1\xBB\x99i Long");
    ASSERT_EQ(svg_end(&d), SP_OK);
    const char *svg = strstr(b.data, "<svg");
    ASSERT_NOT_NULL(svg);
    parsed p;
    parse_svg(&p, svg, strlen(svg));
    ASSERT_STR_EQ(p.labelledby, "s9-bad-id-title s9-bad-id-desc");
    ASSERT_STR_EQ(p.viewbox, "0 0 640 100");
    ASSERT(has_title(&p, "T<i>\"&"));
    ASSERT(has_title(&p, "<script>alert(1)</script>"));
    ASSERT(has_title(&p, "Kayin"));
    ASSERT_STR_EQ(p.desc, "D'");
    /* cut to 5 code points: 4 + ellipsis, full text in the tooltip */
    ASSERT(has_text(&p, "H\xC3\xA0 N\xE2\x80\xA6"));
    ASSERT(has_title(&p, "H\xC3\xA0 N\xE1\xBB\x99i Long"));
    ASSERT_CONTAINS(b.data, "x=\"1.3\"");
    ASSERT_CONTAINS(b.data, "points=\"0,0 10.1,5.6\"");
    ASSERT_CONTAINS(b.data, "d=\"M1 2L3.3 4Z\"");
    ASSERT(!strstr(b.data, "<script>"));
    parsed_free(&p);
    sp_buf_free(&b);
}

TEST(svg_cap_rolls_back)
{
    sp_buf b;
    sp_buf_init(&b, 600);
    sp_buf_adds(&b, "<p>kept</p>");
    svg_doc d;
    svg_begin(&d, &b, "x", 100, 100, "t", "d");
    for (int i = 0; i < 100; i++) svg_rect(&d, i, i, 1, 1, "#000000", NULL, "tip");
    ASSERT_EQ(svg_end(&d), SP_ELIMIT);
    ASSERT_STR_EQ(b.data, "<p>kept</p>");
    /* a path call outside a path is a usage error, not a crash */
    sp_buf_reset(&b);
    svg_begin(&d, &b, "x", 100, 100, NULL, NULL);
    svg_path_line(&d, 1, 1);
    ASSERT_EQ(svg_end(&d), SP_EUSAGE);
    ASSERT_EQ(b.len, 0);
    sp_buf_free(&b);
}

TEST(svg_colours)
{
    ASSERT_STR_EQ(svg_cat_color(0), "#0072B2");
    ASSERT_STR_EQ(svg_cat_color(8), "#0072B2");
    ASSERT_STR_EQ(svg_text_on("#000000"), "#FFFFFF");
    ASSERT_STR_EQ(svg_text_on("#F0E442"), "#000000");
    ASSERT_STR_EQ(svg_text_on("#0072B2"), "#FFFFFF");
    ASSERT_STR_EQ(svg_text_on("bogus"), "#000000");
    ASSERT_STR_EQ(svg_seq_color(0), "#EFF3FF");
    ASSERT_STR_EQ(svg_seq_color(1), "#084594");
    ASSERT_STR_EQ(svg_seq_color(-3), "#EFF3FF");
    ASSERT_STR_EQ(svg_seq_color(NAN), SVG_NODATA);
    ASSERT_STR_EQ(svg_seq_class_color(4, 5), "#08519C");
    ASSERT_STR_EQ(svg_seq_class_color(9, 5), "#08519C");
    ASSERT_STR_EQ(svg_seq_class_color(0, 1), "#DEEBF7");
}

/* ------------------------------------------------------------ 1. stacked */

TEST(stacked_industries_by_year)
{
    ind_data *d = calloc(1, sizeof *d);
    ind_fill(d);
    /* the example of the brief: 2025, 301 of 812 */
    long long rest = 812 - 301;
    for (int j = 1; j < NIND; j++) d->items[7][j].count = 0;
    d->items[7][2].count = rest - 12;
    d->items[7][14].count = 12;
    d->bars[7].total = 812;
    for (int j = 0; j < NIND; j++)
        d->items[7][j].share = round((double)d->items[7][j].count / 812.0 * 1e4) / 1e4;
    sp_buf b;
    sp_buf_init(&b, 1 << 20);
    ASSERT_EQ(chart_stacked100(&b, &OPTS, d->bars, NYEARS), SP_OK);
    dump("stacked", &b);
    parsed p;
    parse_svg(&p, b.data, b.len);
    ASSERT(has_title(&p, "2025 \xC2\xB7 Online scams and fraud: 301 of 812 (37.1%)"));
    ASSERT(has_text(&p, "n=812"));
    /* every segment with a count has a tooltip whose numbers are the input */
    for (int y = 0; y < NYEARS; y++) {
        char nb[40];
        snprintf(nb, sizeof nb, "n=%lld", d->bars[y].total);
        if (d->bars[y].total < 1000) ASSERT(has_text(&p, nb));
        for (int j = 0; j < NIND; j++) {
            const chart_item *it = &d->items[y][j];
            if (it->count == 0) continue;
            char prefix[128];
            snprintf(prefix, sizeof prefix, "%s \xC2\xB7 %s: ", d->labels[y], it->label);
            const char *tip = NULL;
            for (size_t i = 0; i < p.ntitles; i++)
                if (!strncmp(p.titles[i], prefix, strlen(prefix))) tip = p.titles[i];
            if (!tip) TFAIL("no tooltip for %s", prefix);
            const char *e;
            ASSERT_EQ(read_count(tip + strlen(prefix), &e), it->count);
            ASSERT(!strncmp(e, " of ", 4));
            ASSERT_EQ(read_count(e + 4, &e), d->bars[y].total);
            ASSERT(!strncmp(e, " (", 2));
            ASSERT_DBL_EQ(read_pct(e + 2), it->share * 100, 0.05 + 1e-9);
        }
    }
    /* the legend names every category counted (not organ removal: 0) */
    ASSERT(has_text(&p, "Online scams and fraud"));
    ASSERT(has_text(&p, "Unknown"));
    ASSERT(!has_text(&p, "Organ removal"));
    /* desc: range and top 3 of the last bar */
    ASSERT_CONTAINS(p.desc, "2018 to 2025");
    ASSERT_CONTAINS(p.desc, "In 2025 (812): Sexual exploitation 61.5%, Online scams and fraud 37.1%, Unknown 1.5%.");
    ASSERT_LE(b.len, 80000);
    parsed_free(&p);

    /* a narrow rendering (phones): same numbers, one legend column */
    chart_opts narrow = OPTS;
    narrow.width = 400;
    sp_buf_reset(&b);
    ASSERT_EQ(chart_stacked100(&b, &narrow, d->bars, NYEARS), SP_OK);
    dump("stacked_400", &b);
    parse_svg(&p, b.data, b.len);
    ASSERT_STR_EQ(p.viewbox, "0 0 400 600"); /* legend in one column */
    ASSERT(has_title(&p, "2025 \xC2\xB7 Online scams and fraud: 301 of 812 (37.1%)"));
    parsed_free(&p);
    sp_buf_free(&b);
    free(d);
}

TEST(stacked_suppressed_cells)
{
    ind_data *d = calloc(1, sizeof *d);
    ind_fill(d);
    d->items[3][2].count = CHART_SUPPRESSED;
    d->items[3][2].share = -1;
    d->bars[5].total = CHART_SUPPRESSED;
    sp_buf b;
    sp_buf_init(&b, 1 << 20);
    ASSERT_EQ(chart_stacked100(&b, &OPTS, d->bars, NYEARS), SP_OK);
    dump("stacked_suppressed", &b);
    parsed p;
    parse_svg(&p, b.data, b.len);
    char tip[200];
    snprintf(tip, sizeof tip, "2021 \xC2\xB7 Sexual exploitation: <10 of %lld (suppressed: fewer than 10)",
             d->bars[3].total);
    ASSERT(has_title(&p, tip));
    ASSERT(has_text(&p, "n<10"));
    ASSERT_GE(p.nhatched, 1);
    ASSERT(!strstr(b.data, "<10")); /* always escaped */
    parsed_free(&p);
    sp_buf_free(&b);
    free(d);
}

TEST(stacked_empty_and_single)
{
    sp_buf b;
    sp_buf_init(&b, 1 << 16);
    ASSERT_EQ(chart_stacked100(&b, &OPTS, NULL, 0), SP_OK);
    parsed p;
    parse_svg(&p, b.data, b.len);
    ASSERT(has_text(&p, "No records match these filters"));
    parsed_free(&p);
    /* bars with only zeros: also empty, no division by zero */
    chart_item z[2] = { { .code = "a", .label = "A", .share = -1 }, { .code = "b", .label = "B", .share = -1 } };
    chart_bar zb = { .label = "2020", .total = 0, .items = z, .nitems = 2 };
    sp_buf_reset(&b);
    ASSERT_EQ(chart_stacked100(&b, &OPTS, &zb, 1), SP_OK);
    parse_svg(&p, b.data, b.len);
    ASSERT(has_text(&p, "No records match these filters"));
    parsed_free(&p);
    /* one bar, one category: 100% */
    chart_item one = { .code = "online_scam", .label = "Online scams and fraud", .count = 7, .share = -1 };
    chart_bar ob = { .label = "2024", .total = 7, .items = &one, .nitems = 1 };
    sp_buf_reset(&b);
    ASSERT_EQ(chart_stacked100(&b, &OPTS, &ob, 1), SP_OK);
    dump("stacked_single", &b);
    parse_svg(&p, b.data, b.len);
    ASSERT(has_title(&p, "2024 \xC2\xB7 Online scams and fraud: 7 of 7 (100%)"));
    ASSERT(has_text(&p, "100%"));
    ASSERT(has_text(&p, "n=7"));
    parsed_free(&p);
    sp_buf_free(&b);
}

/* ------------------------------------------------------------ 2. hbar */

TEST(hbar_nationality_sorted)
{
    chart_item it[] = {
        { .code = "ID", .label = "Indonesia", .count = 2, .share = 0.1538 },
        { .code = "VN", .label = "Vietnam", .count = 12345, .share = 0.241 },
        { .code = "CN", .label = "China", .count = 1200, .share = 0.0234 },
        { .code = NULL, .label = "(not recorded)", .count = 20000, .share = 0.39 },
        { .code = "MM", .label = "Myanmar", .count = 1200, .share = 0.0234 },
    };
    chart_opts o = { .id = "nat", .title = "Nationality" };
    sp_buf b;
    sp_buf_init(&b, 1 << 20);
    ASSERT_EQ(chart_hbar(&b, &o, it, 5, 51234), SP_OK);
    dump("hbar", &b);
    parsed p;
    parse_svg(&p, b.data, b.len);
    ASSERT(has_text(&p, "12,345 \xC2\xB7 24.1%"));
    ASSERT(has_title(&p, "Vietnam: 12,345 of 51,234 (24.1%)"));
    /* every value read back equals its input */
    for (size_t i = 0; i < 5; i++) {
        char tip_prefix[64];
        snprintf(tip_prefix, sizeof tip_prefix, "%s: ", it[i].label);
        int found = 0;
        for (size_t t = 0; t < p.ntitles; t++) {
            if (strncmp(p.titles[t], tip_prefix, strlen(tip_prefix))) continue;
            const char *e;
            ASSERT_EQ(read_count(p.titles[t] + strlen(tip_prefix), &e), it[i].count);
            found = 1;
        }
        ASSERT(found);
    }
    /* sorted: Vietnam, China, Myanmar (tie keeps input order), Indonesia, not recorded last */
    const char *order[] = { "Vietnam", "China", "Myanmar", "Indonesia", "(not recorded)" };
    size_t k = 0;
    for (size_t t = 0; t < p.ntexts && k < 5; t++)
        if (!strcmp(p.texts[t], order[k])) k++;
    ASSERT_EQ(k, 5);
    ASSERT_CONTAINS(p.desc, "Vietnam 12,345 (24.1%), China 1,200 (2.3%)");
    ASSERT_LE(b.len, 20000);
    parsed_free(&p);
    sp_buf_free(&b);
}

TEST(hbar_hostile_labels)
{
    chart_item it[] = {
        { .code = "x", .label = "<script>alert('x')</script>", .count = 5, .share = -1 },
        { .code = "y", .label = "Tom & \"Jerry\" 'quoted'", .count = 4, .share = -1 },
        { .code = "z", .label = "bad \xFF\xFE utf8 \xC3", .count = 3, .share = -1 },
        { .code = "w", .label = "ctl\x01\x1b[0m", .count = 2, .share = -1 },
    };
    chart_opts o = { .id = "h\"><script>", .title = "</title><script>x</script>" };
    sp_buf b;
    sp_buf_init(&b, 1 << 20);
    ASSERT_EQ(chart_hbar(&b, &o, it, 4, 14), SP_OK);
    dump("hbar_hostile", &b);
    ASSERT(!strstr(b.data, "<script"));
    ASSERT(!strstr(b.data, "\x01"));
    ASSERT(sp_utf8_valid(b.data, b.len));
    parsed p;
    parse_svg(&p, b.data, b.len);
    ASSERT(has_text(&p, "<script>alert('x')</script>"));
    ASSERT(has_title(&p, "Tom & \"Jerry\" 'quoted': 4 of 14 (28.6%)"));
    ASSERT(has_text(&p, "bad \xEF\xBF\xBD\xEF\xBF\xBD utf8 \xEF\xBF\xBD"));
    ASSERT(has_title(&p, "</title><script>x</script>"));
    ASSERT(has_text(&p, "5 \xC2\xB7 35.7%"));
    parsed_free(&p);
    sp_buf_free(&b);
}

TEST(hbar_cap_other_row)
{
    chart_item it[100];
    char labels[100][32];
    long long base = 0, folded = 0;
    for (int i = 0; i < 100; i++) {
        snprintf(labels[i], sizeof labels[i], "Place %03d", i);
        it[i] = (chart_item){ .code = labels[i], .label = labels[i], .count = 1000 - i * 7, .share = -1 };
        base += it[i].count;
        if (i >= 11) folded += it[i].count;
    }
    chart_opts o = { .id = "cap", .title = "Destinations", .max_bars = 12, .other_row = 1 };
    sp_buf b;
    sp_buf_init(&b, 1 << 20);
    ASSERT_EQ(chart_hbar(&b, &o, it, 100, base), SP_OK);
    dump("hbar_cap", &b);
    parsed p;
    parse_svg(&p, b.data, b.len);
    ASSERT(has_text(&p, "Place 010"));
    ASSERT(!has_text(&p, "Place 011"));
    ASSERT(has_text(&p, "Other (89)"));
    for (size_t t = 0; t < p.ntexts; t++) ASSERT(!strstr(p.texts[t], "more not shown"));
    char want[80], cnt[32], pct[16];
    svg_fmt_int(folded, cnt);
    svg_fmt_pct((double)folded / (double)base, pct);
    snprintf(want, sizeof want, "%s \xC2\xB7 %s", cnt, pct);
    ASSERT(has_text(&p, want));
    ASSERT_LE(b.len, 20000);
    parsed_free(&p);

    /* without the Other row: 12 rows and a "more not shown" line */
    o.other_row = 0;
    sp_buf_reset(&b);
    ASSERT_EQ(chart_hbar(&b, &o, it, 100, base), SP_OK);
    parse_svg(&p, b.data, b.len);
    ASSERT(has_text(&p, "Place 011"));
    ASSERT(!has_text(&p, "Place 012"));
    ASSERT(has_text(&p, "88 more not shown"));
    parsed_free(&p);

    /* mentions with a suppressed folded value: no share, "at least" */
    o.other_row = 1;
    o.mentions = 1;
    it[50].count = CHART_SUPPRESSED;
    sp_buf_reset(&b);
    ASSERT_EQ(chart_hbar(&b, &o, it, 100, base), SP_OK);
    parse_svg(&p, b.data, b.len);
    svg_fmt_int(folded - (1000 - 50 * 7), cnt);
    snprintf(want, sizeof want, "\xE2\x89\xA5%s", cnt);
    ASSERT(has_text(&p, want));
    parsed_free(&p);
    sp_buf_free(&b);
}

TEST(hbar_long_labels_and_suppressed)
{
    const char *lng = "Identity documents confiscated by the employer or the compound's "
                      "security staff, with \xC3\xA0\xC3\xA0\xC3\xA0 accents";
    chart_item it[] = {
        { .code = "documents", .label = lng, .count = 40, .share = 0.4 },
        { .code = "sold", .label = "Sold", .count = CHART_SUPPRESSED, .share = -1 },
        { .code = "debt", .label = "Debt bondage", .count = 60, .share = 0.6 },
    };
    chart_opts o = { .id = "ctl", .title = "Means of control", .mentions = 1, .suppress_k = 5 };
    sp_buf b;
    sp_buf_init(&b, 1 << 20);
    ASSERT_EQ(chart_hbar(&b, &o, it, 3, 100), SP_OK);
    dump("hbar_long", &b);
    parsed p;
    parse_svg(&p, b.data, b.len);
    int cut = 0;
    for (size_t t = 0; t < p.ntexts; t++) {
        size_t n = strlen(p.texts[t]);
        if (n > 3 && !strcmp(p.texts[t] + n - 3, "\xE2\x80\xA6") &&
            !strncmp(p.texts[t], "Identity documents", 18)) {
            cut = 1;
            ASSERT_LE(svg_utf8_len(p.texts[t], n), 40);
        }
    }
    ASSERT(cut);
    char full[300];
    snprintf(full, sizeof full, "%s: 40 of 100 (40.0%%)", lng);
    ASSERT(has_title(&p, full));
    ASSERT(has_text(&p, "<5"));
    ASSERT(has_title(&p, "Sold: <5 of 100 (suppressed: fewer than 5)"));
    ASSERT_GE(p.nhatched, 1);
    /* suppressed sorts after the counted ones */
    size_t i_sold = 0, i_doc = 0;
    for (size_t t = 0; t < p.ntexts; t++) {
        if (!strcmp(p.texts[t], "Sold")) i_sold = t;
        if (!strncmp(p.texts[t], "Identity", 8)) i_doc = t;
    }
    ASSERT(i_sold > i_doc);
    parsed_free(&p);
    sp_buf_free(&b);
}

TEST(charts_hostile_numbers)
{
    /* huge counts, shares that are not shares, missing labels and codes,
     * absurd widths: never a crash, always well-formed */
    chart_item it[] = {
        { .code = NULL, .label = NULL, .count = 9223372036854775807LL, .share = INFINITY },
        { .code = "", .label = "", .count = 9223372036854775807LL, .share = NAN },
        { .code = "a", .label = "A", .count = 5, .share = -INFINITY },
        { .code = "b", .label = "B", .count = -42, .share = 2.5 },
        { .code = "c", .label = "C", .count = 1, .share = 1e300 },
    };
    chart_bar bar = { .label = NULL, .total = 0, .items = it, .nitems = 5 };
    const double widths[] = { 0, NAN, -5, 1e12, 281 };
    sp_buf b;
    sp_buf_init(&b, 1 << 20);
    for (size_t w = 0; w < sizeof widths / sizeof widths[0]; w++) {
        chart_opts o = { .id = NULL, .title = NULL, .width = widths[w], .max_bars = 3, .other_row = 1,
                         .suppress_k = -3 };
        parsed p;
        for (int kind = 0; kind < 5; kind++) {
            sp_buf_reset(&b);
            int rc = kind == 0 ? chart_stacked100(&b, &o, &bar, 1)
                   : kind == 1 ? chart_hbar(&b, &o, it, 5, 0)
                   : kind == 2 ? chart_columns(&b, &o, it, 5, -1)
                   : kind == 3 ? chart_years(&b, &o, it, 5)
                   : chart_sharebar(&b, &o, it, 5, 7);
            ASSERT_EQ(rc, SP_OK);
            parse_svg(&p, b.data, b.len);
            int seen = 0;
            for (size_t t = 0; t < p.ntexts; t++)
                seen |= strstr(p.texts[t], "9,223,372,036,854,775,807") != NULL;
            for (size_t t = 0; t < p.ntitles; t++)
                seen |= strstr(p.titles[t], "9,223,372,036,854,775,807") != NULL;
            /* (stacked: no share and no total to divide by, so no segment) */
            if (!seen && kind != 0) TFAIL("kind %d width %g: the huge count is not drawn", kind, widths[w]);
            ASSERT(!strstr(b.data, "nan") && !strstr(b.data, "inf"));
            parsed_free(&p);
        }
    }
    sp_buf_free(&b);
}

TEST(hbar_empty)
{
    chart_item it[] = { { .code = "a", .label = "A", .count = 0, .share = 0 } };
    chart_opts o = { .id = "e", .title = "Recruitment" };
    sp_buf b;
    sp_buf_init(&b, 1 << 16);
    ASSERT_EQ(chart_hbar(&b, &o, it, 1, 0), SP_OK);
    dump("hbar_empty", &b);
    parsed p;
    parse_svg(&p, b.data, b.len);
    ASSERT(has_text(&p, "No records match these filters"));
    ASSERT_CONTAINS(p.desc, "No records match these filters");
    ASSERT_LE(b.len, 2500);
    parsed_free(&p);
    ASSERT_EQ(chart_hbar(NULL, &o, it, 1, 0), SP_EUSAGE);
    ASSERT_EQ(chart_hbar(&b, &o, NULL, 3, 0), SP_EUSAGE);
    sp_buf_free(&b);
}

/* ------------------------------------------------------------ 3/4/5 */

TEST(columns_age_bands)
{
    const char *bands[] = { "<18", "18-24", "25-34", "35-44", "45-54", "55+", "unknown" };
    long long counts[] = { 3, 2, 1234, 0, CHART_SUPPRESSED, 1, 4 };
    chart_item it[7];
    long long base = 1244;
    for (int i = 0; i < 7; i++)
        it[i] = (chart_item){ .code = i == 6 ? "unknown" : bands[i], .label = bands[i],
                              .count = counts[i], .share = -1 };
    chart_opts o = { .id = "age", .title = "Age when exploitation began" };
    sp_buf b;
    sp_buf_init(&b, 1 << 20);
    ASSERT_EQ(chart_columns(&b, &o, it, 7, base), SP_OK);
    dump("columns_age", &b);
    parsed p;
    parse_svg(&p, b.data, b.len);
    /* order kept: labels appear in band order */
    size_t k = 0;
    for (size_t t = 0; t < p.ntexts && k < 7; t++)
        if (!strcmp(p.texts[t], bands[k])) k++;
    ASSERT_EQ(k, 7);
    ASSERT(has_text(&p, "1,234"));
    ASSERT(has_text(&p, "99.2%"));
    ASSERT(has_text(&p, "<10"));
    ASSERT(has_title(&p, "<18: 3 of 1,244 (0.2%)"));
    ASSERT(has_title(&p, "35-44: 0 of 1,244 (0%)"));
    ASSERT_CONTAINS(p.desc, "<18 3 (0.2%), 18-24 2 (0.2%), 25-34 1,234 (99.2%)");
    ASSERT_LE(b.len, 20000);
    parsed_free(&p);
    sp_buf_free(&b);
}

TEST(years_columns_and_line)
{
    chart_item it[8];
    char lab[8][16];
    long long c[8] = { 12, 40, 95, 210, 480, 1301, CHART_SUPPRESSED, 812 };
    for (int i = 0; i < 8; i++) {
        snprintf(lab[i], sizeof lab[i], "%d", 2018 + i);
        it[i] = (chart_item){ .code = lab[i], .label = lab[i], .count = c[i], .share = -1 };
    }
    chart_opts o = { .id = "yr", .title = "Online-scam cases per year" };
    sp_buf b;
    sp_buf_init(&b, 1 << 20);
    for (int line = 0; line < 2; line++) {
        o.line = line;
        sp_buf_reset(&b);
        ASSERT_EQ(chart_years(&b, &o, it, 8), SP_OK);
        dump(line ? "years_line" : "years", &b);
        parsed p;
        parse_svg(&p, b.data, b.len);
        for (int i = 0; i < 8; i++) {
            if (c[i] < 0) continue;
            char tip[64];
            snprintf(tip, sizeof tip, "%s: ", lab[i]);
            int found = 0;
            for (size_t t = 0; t < p.ntitles; t++)
                if (!strncmp(p.titles[t], tip, strlen(tip))) {
                    const char *e;
                    ASSERT_EQ(read_count(p.titles[t] + strlen(tip), &e), c[i]);
                    ASSERT_EQ(*e, '\0');
                    found = 1;
                }
            ASSERT(found);
        }
        ASSERT(has_text(&p, "1,301"));
        ASSERT(has_text(&p, "<10"));
        ASSERT(has_title(&p, "2024: <10"));
        if (line) ASSERT_CONTAINS(b.data, "<polyline");
        ASSERT_LE(b.len, 20000);
        parsed_free(&p);
    }
    sp_buf_free(&b);
}

TEST(columns_many_categories)
{
    chart_item it[100];
    char lab[100][24];
    for (int i = 0; i < 100; i++) {
        snprintf(lab[i], sizeof lab[i], "Band %d", i);
        it[i] = (chart_item){ .code = lab[i], .label = lab[i], .count = i * 3 + 1, .share = -1 };
    }
    chart_opts o = { .id = "many", .title = "Many columns" };
    sp_buf b;
    sp_buf_init(&b, 1 << 20);
    ASSERT_EQ(chart_columns(&b, &o, it, 100, 15000), SP_OK);
    dump("columns_many", &b);
    parsed p;
    parse_svg(&p, b.data, b.len);
    /* labels thinned so they cannot overlap, but every column has its tooltip */
    size_t nlabels = 0;
    for (size_t t = 0; t < p.ntexts; t++) nlabels += !strncmp(p.texts[t], "Band", 4);
    ASSERT_LE(nlabels, 30);
    ASSERT_GE(nlabels, 5);
    ASSERT(has_title(&p, "Band 99: 298 of 15,000 (2.0%)"));
    ASSERT(has_title(&p, "Band 0: 1 of 15,000 (<0.1%)"));
    ASSERT_LE(b.len, 60000);
    parsed_free(&p);
    sp_buf_free(&b);
}

TEST(sharebar_gender)
{
    chart_item it[] = {
        { .code = "female", .label = "Female", .count = 5, .share = 0.3846 },
        { .code = "male", .label = "Male", .count = 6, .share = 0.4615 },
        { .code = "transgender", .label = "Transgender", .count = 1, .share = 0.0769 },
        { .code = "nonbinary_other", .label = "Non-binary or other", .count = 0, .share = 0 },
        { .code = "unknown", .label = "Unknown", .count = 1, .share = 0.0769 },
    };
    chart_opts o = { .id = "g", .title = "Gender" };
    sp_buf b;
    sp_buf_init(&b, 1 << 20);
    ASSERT_EQ(chart_sharebar(&b, &o, it, 5, 13), SP_OK);
    dump("sharebar", &b);
    parsed p;
    parse_svg(&p, b.data, b.len);
    ASSERT(has_text(&p, "Male 46.2%"));
    ASSERT(has_text(&p, "6 \xC2\xB7 46.2%"));
    ASSERT(has_text(&p, "0 \xC2\xB7 0%"));
    ASSERT(has_title(&p, "Female: 5 of 13 (38.5%)"));
    ASSERT_CONTAINS(p.desc, "Female 38.5%, Male 46.2%, Transgender 7.7%, Unknown 7.7%.");
    ASSERT_LE(b.len, 12000);
    parsed_free(&p);

    /* suppressed cells still fill the bar; share never printed for them */
    it[2].count = CHART_SUPPRESSED;
    it[4].count = CHART_SUPPRESSED;
    sp_buf_reset(&b);
    ASSERT_EQ(chart_sharebar(&b, &o, it, 5, 13), SP_OK);
    dump("sharebar_suppressed", &b);
    parse_svg(&p, b.data, b.len);
    ASSERT(has_title(&p, "Transgender: <10 of 13 (suppressed: fewer than 10)"));
    ASSERT_GE(p.nhatched, 2);
    parsed_free(&p);

    /* empty */
    chart_item z = { .code = "male", .label = "Male", .count = 0, .share = NAN };
    sp_buf_reset(&b);
    ASSERT_EQ(chart_sharebar(&b, &o, &z, 1, 0), SP_OK);
    parse_svg(&p, b.data, b.len);
    ASSERT(has_text(&p, "No records match these filters"));
    parsed_free(&p);
    sp_buf_free(&b);
}

TEST(chart_cap_hit_leaves_buffer)
{
    ind_data *d = calloc(1, sizeof *d);
    ind_fill(d);
    sp_buf b;
    sp_buf_init(&b, 4000);
    sp_buf_adds(&b, "<main>");
    ASSERT_EQ(chart_stacked100(&b, &OPTS, d->bars, NYEARS), SP_ELIMIT);
    ASSERT_STR_EQ(b.data, "<main>");
    sp_buf_free(&b);
    free(d);
}

TEST(two_charts_one_page_unique_ids)
{
    chart_item it[] = { { .code = "female", .label = "Female", .count = 5, .share = -1 } };
    chart_opts o1 = { .id = "a", .title = "One" }, o2 = { .id = "b", .title = "Two" };
    sp_buf b;
    sp_buf_init(&b, 1 << 16);
    sp_buf_adds(&b, "<div>");
    ASSERT_EQ(chart_sharebar(&b, &o1, it, 1, 5), SP_OK);
    ASSERT_EQ(chart_sharebar(&b, &o2, it, 1, 5), SP_OK);
    sp_buf_adds(&b, "</div>");
    /* parse as one document: every id on the page unique */
    XML_Parser xp = XML_ParserCreate("UTF-8");
    parsed p;
    memset(&p, 0, sizeof p);
    sp_buf_init(&p.cur, 1 << 16);
    p.ok = 1;
    XML_SetUserData(xp, &p);
    XML_SetElementHandler(xp, on_start, on_end);
    XML_SetCharacterDataHandler(xp, on_chars);
    ASSERT_EQ(XML_Parse(xp, b.data, (int)b.len, 1), XML_STATUS_OK);
    XML_ParserFree(xp);
    ASSERT_EQ(p.nsvg, 2);
    for (size_t i = 0; i < p.nids; i++)
        for (size_t j = i + 1; j < p.nids; j++)
            if (!strcmp(p.ids[i], p.ids[j])) TFAIL("duplicate id %s", p.ids[i]);
    parsed_free(&p);
    sp_buf_free(&b);
}

TEST_LIST(svg_num_formats, svg_fmt_numbers, svg_utf8_counting, svg_doc_and_escaping,
          svg_cap_rolls_back, svg_colours, stacked_industries_by_year,
          stacked_suppressed_cells, stacked_empty_and_single, hbar_nationality_sorted,
          hbar_hostile_labels, hbar_cap_other_row, hbar_long_labels_and_suppressed,
          charts_hostile_numbers, hbar_empty, columns_age_bands, columns_many_categories, years_columns_and_line, sharebar_gender,
          chart_cap_hit_leaves_buffer, two_charts_one_page_unique_ids)
