/* test_map.c -- boundary data (geo.c) and the SVG maps (map.c).
 * Every map is parsed back with expat (well-formed XML) and its tooltips
 * read back; sizes are bounded. Set MAP_DUMP=dir to write each SVG there
 * (to render with rsvg-convert and look at). */
#include "test.h"
#include "geo.h"
#include "map.h"
#include "gazetteer.h"

#include <expat.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static sp_gazetteer *gaz;
static sp_geo *geo;

static void setup(void)
{
    sp_err err;
    sp_err_init(&err);
    if (gazetteer_load(&gaz, NULL, &err) != SP_OK) { sp_err_print(&err, stderr); exit(1); }
    if (geo_load(&geo, gaz, &err) != SP_OK) { sp_err_print(&err, stderr); exit(1); }
    sp_err_free(&err);
}

static void teardown(void)
{
    geo_free(geo);
    gazetteer_free(gaz);
}

static void dump(const char *name, const sp_buf *b)
{
    const char *dir = getenv("MAP_DUMP");
    if (!dir) return;
    char path[512];
    snprintf(path, sizeof path, "%s/%s.svg", dir, name);
    FILE *f = fopen(path, "w");
    if (f) { fwrite(b->data, 1, b->len, f); fclose(f); }
}

/* ---- XML check: well-formed, one <svg> root, titles collected */
typedef struct xstate {
    int depth, svgs, in_title;
    int titles, paths, circles;
    sp_buf text;               /* all <title> texts, one per line */
} xstate;

static void XMLCALL on_start(void *ud, const XML_Char *name, const XML_Char **atts)
{
    (void)atts;
    xstate *x = ud;
    if (x->depth == 0 && strcmp(name, "svg") == 0) x->svgs++;
    if (strcmp(name, "title") == 0) { x->in_title = 1; x->titles++; }
    if (strcmp(name, "path") == 0) x->paths++;
    if (strcmp(name, "circle") == 0) x->circles++;
    x->depth++;
}
static void XMLCALL on_end(void *ud, const XML_Char *name)
{
    xstate *x = ud;
    x->depth--;
    if (strcmp(name, "title") == 0) { x->in_title = 0; sp_buf_addc(&x->text, '\n'); }
}
static void XMLCALL on_chars(void *ud, const XML_Char *s, int len)
{
    xstate *x = ud;
    if (x->in_title) sp_buf_add(&x->text, s, (size_t)len);
}

static int parse_xml(const sp_buf *b, xstate *x)
{
    memset(x, 0, sizeof *x);
    sp_buf_init(&x->text, 4u << 20);
    XML_Parser p = XML_ParserCreate("UTF-8");
    XML_SetUserData(p, x);
    XML_SetElementHandler(p, on_start, on_end);
    XML_SetCharacterDataHandler(p, on_chars);
    int ok = XML_Parse(p, b->data, (int)b->len, 1) == XML_STATUS_OK;
    if (!ok) fprintf(stderr, "XML error line %lu: %s\n", (unsigned long)XML_GetCurrentLineNumber(p),
                     XML_ErrorString(XML_GetErrorCode(p)));
    XML_ParserFree(p);
    return ok && x->svgs == 1 && x->depth == 0;
}

/* ---- geo */
TEST(geo_loads_layers)
{
    setup();
    ASSERT_GE(geo_ncountries(geo, GEO_WORLD), 170);
    ASSERT_GE(geo_ncountries(geo, GEO_REGION), 60);
    ASSERT_GE(geo_nprovinces(geo), 500);
    const geo_feature *vn = geo_country(geo, "vn", GEO_REGION);
    ASSERT_NOT_NULL(vn);
    ASSERT_STR_EQ(vn->code, "VN");
    /* Viet Nam: 102-110E, 8.5-23.4N */
    ASSERT(vn->bbox[0] > 101 && vn->bbox[0] < 103 && vn->bbox[2] > 109 && vn->bbox[2] < 110);
    ASSERT(vn->bbox[1] > 8 && vn->bbox[1] < 9 && vn->bbox[3] > 23 && vn->bbox[3] < 23.6);
    ASSERT(vn->label.lon > vn->bbox[0] && vn->label.lon < vn->bbox[2]);
    /* a country outside the region layer falls back to the world layer */
    const geo_feature *br = geo_country(geo, "BR", GEO_REGION);
    ASSERT_NOT_NULL(br);
    ASSERT(br->bbox[0] < -60);
    ASSERT_NULL(geo_country(geo, "AQ", GEO_WORLD));   /* Antarctica cropped */
    ASSERT_NULL(geo_country(geo, "ZZ", GEO_WORLD));
    ASSERT_NULL(geo_province(geo, "VN-99"));
    ASSERT_NULL(geo_province(geo, NULL));
    ASSERT(geo_has_provinces(geo, "KH"));
    ASSERT(!geo_has_provinces(geo, "FR"));
    teardown();
}

TEST(geo_provinces_by_code)
{
    setup();
    static const char *codes[] = {
        "VN-01", "VN-22", "VN-22", "VN-44", "VN-HN", "VN-SG", "VN-CT", "VN-DN", "VN-HP", "VN-73",
        "LA-VT", "LA-VI", "LA-XS", "LA-BK", "LA-AT", "LA-OU", "LA-CH",
        "KH-12", "KH-18", "KH-3", "KH-1", "KH-24", "KH-9",
        "MM-01", "MM-04", "MM-11", "MM-13", "MM-17", "MM-03",
        "TH-10", "TH-57", "TH-63", "TH-96", "TH-20",
        "PH-00", "PH-CEB", "PH-NEC", "TW-NWT", "MV-MLE", "PK-KP", "MY-12", "ID-JK", "CN-YN",
    };
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
        const geo_feature *f = geo_province(geo, codes[i]);
        if (!f) TFAIL("no geometry for %s", codes[i]);
        ASSERT_STR_EQ(f->code, codes[i]);
        ASSERT(f->nrings >= 1);
        ASSERT(f->label.lon >= f->bbox[0] && f->label.lon <= f->bbox[2]);
        ASSERT(f->label.lat >= f->bbox[1] && f->label.lat <= f->bbox[3]);
        /* the province lies within its country's box (1 degree slack) */
        const geo_feature *c = geo_country(geo, f->country, GEO_REGION);
        ASSERT_NOT_NULL(c);
        ASSERT(f->bbox[0] >= c->bbox[0] - 1 && f->bbox[2] <= c->bbox[2] + 1);
    }
    /* names come from iso-codes; lower case works */
    ASSERT_STR_EQ(geo_province(geo, "vn-22")->name, "Nghệ An");
    ASSERT_STR_EQ(geo_province(geo, "LA-VT")->name, "Viangchan");
    /* codes replaced on purpose are gone */
    ASSERT_NULL(geo_province(geo, "PH-MNL"));
    ASSERT_NULL(geo_province(geo, "TW-TPQ"));
    ASSERT_NULL(geo_province(geo, "LA-XN"));
    ASSERT_NULL(geo_province(geo, "PK-TA"));
    teardown();
}

TEST(geo_missing_provinces_known)
{
    setup();
    const gz_province **miss = NULL;
    size_t n = geo_missing_provinces(geo, gaz, &miss);
    sp_buf b;
    sp_buf_init(&b, 1 << 16);
    for (size_t i = 0; i < n; i++) { sp_buf_adds(&b, miss[i]->code); sp_buf_addc(&b, ' '); }
    /* the units the sources lack (geo/SOURCES.md); a change here means
     * the data changed: update SOURCES.md and docs/maps.md with it */
    ASSERT_STR_EQ(b.data, "AF-DAY AF-PAN BD-H CN-HK CN-MO CN-TW ID-KU KH-25 MM-18 PH-DIN PH-DVO TH-S TW-LIE ");
    for (size_t i = 0; i < n; i++) ASSERT_NULL(geo_province(geo, miss[i]->code));
    sp_buf_free(&b);
    free(miss);
    teardown();
}

TEST(geo_rejects_bad_data)
{
    setup();
    sp_err err;
    sp_err_init(&err);
    sp_geo *g2 = NULL;
    const char *bad[] = {
        "not json",
        "{\"format\":\"other\"}",
        "{\"format\":\"spotlight-geo 1\",\"level\":\"country\",\"scale\":[0.01,0.01],\"translate\":[-180,-90],\"features\":[{\"id\":\"704\"}]}",
        "{\"format\":\"spotlight-geo 1\",\"level\":\"country\",\"scale\":[0.01,0.01],\"translate\":[-180,-90],\"features\":[{\"id\":\"704\",\"name\":\"x\",\"bbox\":[0,0,1,1],\"label\":[0,0],\"rings\":[[0,0,1,1]]}]}",
        "{\"format\":\"spotlight-geo 1\",\"level\":\"country\",\"scale\":[0.01,0.01],\"translate\":[-180,-90],\"features\":[{\"id\":\"704\",\"name\":\"x\",\"bbox\":[0,0,1,1],\"label\":[0,0],\"rings\":[[0,0,90000,0,0,1]]}]}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ASSERT_EQ(geo_load_texts(&g2, gaz, bad[i], NULL, NULL, 0, &err), SP_EINPUT);
        ASSERT_NULL(g2);
        ASSERT(strlen(sp_err_last(&err)) > 0);
    }
    /* a good tiny file loads */
    const char *ok = "{\"format\":\"spotlight-geo 1\",\"level\":\"country\",\"scale\":[0.01,0.01],\"translate\":[-180,-90],"
                     "\"features\":[{\"id\":\"704\",\"name\":\"x\",\"bbox\":[102,8,110,23],\"label\":[105,15],\"rings\":[[28200,9800,800,0,0,1500,-800,0]]}]}";
    ASSERT_EQ(geo_load_texts(&g2, gaz, ok, NULL, NULL, 0, &err), SP_OK);
    ASSERT_NOT_NULL(geo_country(g2, "VN", GEO_WORLD));
    ASSERT_EQ(geo_country(g2, "VN", GEO_WORLD)->rings[0].n, 5);   /* closed */
    geo_free(g2);
    sp_err_free(&err);
    teardown();
}

/* ---- maps */
/* viewBox "0 0 W H" of the output */
static void viewbox(const char *s, double *w, double *h)
{
    const char *p = strstr(s, "viewBox=\"0 0 ");
    *w = *h = 0;
    if (p) sscanf(p + 13, "%lf %lf", w, h);
}

static const map_value SEA_PROV[] = {
    { "VN-22", 1234 }, { "VN-44", 310 }, { "VN-HN", 90 }, { "VN-21", 12 }, { "VN-SG", 45 },
    { "LA-VT", 60 }, { "LA-XS", 3 }, { "LA-BK", 22 }, { "KH-12", 140 }, { "KH-18", 87 },
    { "MM-13", 400 }, { "MM-17", 55 }, { "TH-57", 75 }, { "TH-10", 18 }, { "TH-63", 9 },
    { "XX-99", 5 },            /* unknown code: counted as not drawn */
};
static const char *SEA5[] = { "VN", "LA", "KH", "MM", "TH" };

TEST(map_choropleth_sea_provinces)
{
    setup();
    sp_buf b;
    sp_buf_init(&b, 1u << 20);
    map_opts o = { .id = "sea", .title = "Origin provinces", .frame = MAP_FRAME_SEA };
    ASSERT_EQ(map_choropleth(&b, geo, &o, NULL, 0, SEA5, 5, SEA_PROV, sizeof SEA_PROV / sizeof SEA_PROV[0]), SP_OK);
    dump("choropleth_sea", &b);
    xstate x;
    ASSERT(parse_xml(&b, &x));
    ASSERT_CONTAINS(x.text.data, "Nghệ An (VN-22): 1,234 records");
    ASSERT_CONTAINS(x.text.data, "Preah Sihanouk (KH-18): 87 records");
    ASSERT_CONTAINS(x.text.data, "Viangchan (LA-VT): 60 records");
    ASSERT_CONTAINS(x.text.data, "(TH-20): no records");
    ASSERT_CONTAINS(b.data, "role=\"img\"");
    ASSERT_CONTAINS(b.data, "1 codes without a boundary not drawn");
    ASSERT_CONTAINS(b.data, "no data");
    ASSERT_CONTAINS(b.data, "OpenStreetMap");            /* Laos is drawn: credit */
    /* every province of the five countries has a shape with a tooltip */
    ASSERT_GE(x.paths, 63 + 18 + 24 + 14 + 77);
    ASSERT_LE(b.len, 150000);
    /* the SEA frame: Hà Nội and Bangkok inside, Bangkok west of Hà Nội, south */
    double w, h;
    viewbox(b.data, &w, &h);
    ASSERT_EQ(w, 800);
    ASSERT(h > 500 && h < 1000);
    sp_buf_free(&x.text);
    sp_buf_free(&b);
    teardown();
}

TEST(map_choropleth_world)
{
    setup();
    map_value v[] = { { "MM", 800 }, { "KH", 640 }, { "LA", 120 }, { "TH", 90 }, { "PH", 30 },
                      { "AE", 12 }, { "BR", 3 }, { "ET", 20 }, { "US", 1 }, { "KE", 7 }, { "CN", 200 } };
    sp_buf b;
    sp_buf_init(&b, 1u << 20);
    map_opts o = { .id = "world", .frame = MAP_FRAME_WORLD, .title = "Destinations" };
    ASSERT_EQ(map_choropleth(&b, geo, &o, v, sizeof v / sizeof v[0], NULL, 0, NULL, 0), SP_OK);
    dump("choropleth_world", &b);
    xstate x;
    ASSERT(parse_xml(&b, &x));
    ASSERT_CONTAINS(x.text.data, "Myanmar (MM): 800 records");
    ASSERT_CONTAINS(x.text.data, "Brazil (BR): 3 records");
    ASSERT_CONTAINS(x.text.data, "United States (US): 1 records");
    ASSERT_GE(x.paths, 150);
    ASSERT_LE(b.len, 150000);
    double w, h;
    viewbox(b.data, &w, &h);
    ASSERT(h > 330 && h < 500);    /* Equal Earth is about 2:1 */
    sp_buf_free(&x.text);
    sp_buf_free(&b);
    teardown();
}

TEST(map_choropleth_empty)
{
    setup();
    sp_buf b;
    sp_buf_init(&b, 1u << 20);
    map_opts o = { 0 };
    ASSERT_EQ(map_choropleth(&b, geo, &o, NULL, 0, SEA5, 1, NULL, 0), SP_OK);
    dump("choropleth_empty", &b);
    xstate x;
    ASSERT(parse_xml(&b, &x));
    ASSERT_CONTAINS(b.data, "no data");
    ASSERT_CONTAINS(x.text.data, "(VN-22): no records");
    sp_buf_free(&x.text);
    sp_buf_reset(&b);
    /* nothing at all: still a map (the SEA frame), no division by zero */
    ASSERT_EQ(map_choropleth(&b, geo, &o, NULL, 0, NULL, 0, NULL, 0), SP_OK);
    ASSERT(parse_xml(&b, &x));
    ASSERT_CONTAINS(b.data, "no data");
    ASSERT(!strstr(b.data, "nan") && !strstr(b.data, "inf"));
    sp_buf_free(&x.text);
    sp_buf_free(&b);
    teardown();
}

static const map_flow FLOWS[] = {
    { "VN", "VN-22", "KH", "KH-18", 87 },
    { "VN", "VN-22", "MM", "MM-13", 140 },
    { "VN", "VN-44", "KH", NULL, 33 },
    { "VN", NULL, "LA", "LA-BK", 21 },
    { "VN", "VN-HN", "PH", "PH-00", 9 },
    { "VN", "VN-SG", "KH", "KH-12", 64 },
    { "VN", "VN-22", "VN", "VN-SG", 5 },
    { "VN", "VN-99", "KH", "KH-18", 4 },   /* bad province: country point */
    { "QQ", NULL, "KH", NULL, 2 },         /* unknown country: not drawn */
};

TEST(map_routes_vietnam)
{
    setup();
    map_value ov[] = { { "VN-22", 232 }, { "VN-44", 33 }, { "VN-HN", 9 }, { "VN-SG", 64 } };
    sp_buf b;
    sp_buf_init(&b, 1u << 20);
    map_opts o = { .id = "routes" };
    ASSERT_EQ(map_routes(&b, geo, &o, "VN", ov, 4, FLOWS, sizeof FLOWS / sizeof FLOWS[0]), SP_OK);
    dump("routes", &b);
    xstate x;
    ASSERT(parse_xml(&b, &x));
    ASSERT_CONTAINS(x.text.data, "Nghệ An → Cambodia (Preah Sihanouk): 87 records");
    ASSERT_CONTAINS(x.text.data, "An Giang → Cambodia: 33 records");
    ASSERT_CONTAINS(x.text.data, "Vietnam → Laos (Bokèo): 21 records");
    ASSERT_CONTAINS(x.text.data, "Vietnam → Cambodia (Preah Sihanouk): 4 records");
    ASSERT_CONTAINS(b.data, "1 flows without a known place not drawn");
    ASSERT_LE(b.len, 150000);
    sp_buf_free(&x.text);
    sp_buf_reset(&b);
    ASSERT_EQ(map_routes(&b, geo, &o, "VN", NULL, 0, NULL, 0), SP_OK);   /* empty */
    ASSERT(parse_xml(&b, &x));
    ASSERT_CONTAINS(b.data, "no data");
    sp_buf_free(&x.text);
    sp_buf_free(&b);
    teardown();
}

TEST(map_hotspots_fan_and_escape)
{
    setup();
    map_place p[] = {
        { "MM", "MM-13", "KK Park", 400 },
        { "MM", "MM-13", "Shwe Kokko", 250 },
        { "MM", "MM-13", "<script>alert(1)</script> & \"Co\"", 7 },
        { "LA", "LA-BK", "Golden Triangle SEZ", 180 },
        { "KH", "KH-18", NULL, 300 },
        { "KH", NULL, NULL, 40 },
        { "PH", "PH-00", "Pasay", 15 },
        { "ZZ", NULL, "nowhere", 3 },
    };
    sp_buf b;
    sp_buf_init(&b, 1u << 20);
    map_opts o = { .id = "spots" };
    ASSERT_EQ(map_hotspots(&b, geo, &o, p, sizeof p / sizeof p[0]), SP_OK);
    dump("hotspots", &b);
    xstate x;
    ASSERT(parse_xml(&b, &x));
    ASSERT_EQ(x.circles - 2, 7);   /* 7 places + 2 legend circles */
    ASSERT_CONTAINS(x.text.data, "KK Park (Kayin): 400 records");
    ASSERT_CONTAINS(x.text.data, "<script>alert(1)</script> & \"Co\" (Kayin): 7 records");
    ASSERT(!strstr(b.data, "<script>"));
    ASSERT_CONTAINS(b.data, "&lt;script&gt;");
    /* three localities in MM-13 share one anchor: three distinct centres */
    const char *a = strstr(b.data, "KK Park"), *c = strstr(b.data, "Shwe Kokko");
    ASSERT(a && c);
    ASSERT_LE(b.len, 150000);
    sp_buf_free(&x.text);
    sp_buf_reset(&b);
    ASSERT_EQ(map_hotspots(&b, geo, &o, NULL, 0), SP_OK);
    ASSERT(parse_xml(&b, &x));
    ASSERT_CONTAINS(b.data, "no data");
    sp_buf_free(&x.text);
    sp_buf_free(&b);
    teardown();
}

TEST(map_destination_cambodia)
{
    setup();
    map_value pv[] = { { "KH-18", 300 }, { "KH-12", 120 }, { "KH-9", 40 }, { "KH-2", 5 }, { "KH-25", 3 } };
    map_flow f[] = {
        { "VN", "VN-22", "KH", "KH-18", 87 }, { "TH", NULL, "KH", "KH-9", 30 },
        { "CN", "CN-YN", "KH", "KH-18", 55 }, { "KH", "KH-12", "KH", "KH-18", 20 },
        { "ET", NULL, "KH", "KH-12", 12 }, { "ID", NULL, "KH", "KH-18", 9 },
        { "VN", "VN-22", "MM", "MM-13", 500 },   /* not to KH: ignored */
    };
    sp_buf b;
    sp_buf_init(&b, 1u << 20);
    map_opts o = { .id = "dest" };
    ASSERT_EQ(map_destination(&b, geo, &o, "KH", pv, 5, f, sizeof f / sizeof f[0]), SP_OK);
    dump("destination_kh", &b);
    xstate x;
    ASSERT(parse_xml(&b, &x));
    ASSERT_CONTAINS(x.text.data, "Preah Sihanouk (KH-18): 300 records");
    ASSERT_CONTAINS(x.text.data, "Nghệ An → Cambodia (Preah Sihanouk): 87 records");
    ASSERT_CONTAINS(x.text.data, "Ethiopia → Cambodia (Phnom Penh): 12 records");
    ASSERT(!strstr(x.text.data, "500 records"));
    ASSERT_CONTAINS(b.data, "Exploitation in Cambodia");
    /* the largest flows' origins are named, each once (Nghệ An starts two
     * flows), every label inside the frame */
    const char *lg = strstr(b.data, "<g class=\"map-labels map-origins\">");
    ASSERT(lg != NULL);
    const char *lge = strstr(lg, "</g>");
    ASSERT(lge != NULL);
    size_t nlab = 0, nnghe = 0;
    for (const char *q = strstr(lg, "<text x=\""); q && q < lge; q = strstr(q + 1, "<text x=\"")) {
        double lx = atof(q + 9);
        const char *gt = strchr(q, '>');
        ASSERT(lx > 0 && lx < 800);
        if (strncmp(gt + 1, "Nghệ An<", strlen("Nghệ An<")) == 0) nnghe++;
        nlab++;
    }
    ASSERT_EQ(nnghe, 1);
    ASSERT_GE(nlab, 3);
    ASSERT_LE(b.len, 150000);
    sp_buf_free(&x.text);
    sp_buf_free(&b);
    teardown();
}

TEST(map_projection_frames)
{
    setup();
    /* Bangkok (100.5E, 13.75N) and Hà Nội (105.85E, 21.0N) on the SEA
     * frame: hotspots place circles at the province label points; read
     * the cx/cy back and check both lie inside, Hà Nội north-east. */
    map_place p[] = { { "TH", "TH-10", NULL, 10 }, { "VN", "VN-HN", NULL, 10 } };
    sp_buf b;
    sp_buf_init(&b, 1u << 20);
    map_opts o = { .frame = MAP_FRAME_SEA, .labels = -1 };
    ASSERT_EQ(map_hotspots(&b, geo, &o, p, 2), SP_OK);
    double w, h, x[2], y[2];
    viewbox(b.data, &w, &h);
    const char *s = strstr(b.data, "class=\"map-spots\"");
    ASSERT_NOT_NULL(s);
    for (int i = 0; i < 2; i++) {
        s = strstr(s, "<circle cx=\"");
        ASSERT_NOT_NULL(s);
        ASSERT_EQ(sscanf(s, "<circle cx=\"%lf\" cy=\"%lf\"", &x[i], &y[i]), 2);
        ASSERT(x[i] > 0 && x[i] < w && y[i] > 0 && y[i] < h - 46);
        s++;
    }
    /* same counts: order kept is unspecified; compare by x */
    double bx = fmin(x[0], x[1]), hx = fmax(x[0], x[1]);
    double by = x[0] < x[1] ? y[0] : y[1], hy = x[0] < x[1] ? y[1] : y[0];
    ASSERT(hx - bx > w * 0.15);     /* 5 degrees of longitude is a good share of the frame */
    ASSERT(hy < by);                /* Hà Nội is north */
    sp_buf_free(&b);

    /* automatic frame contains every feature framed: a choropleth of
     * Indonesia's and the Philippines' provinces keeps all labels' points in */
    sp_buf_init(&b, 1u << 20);
    const char *two[] = { "ID", "PH" };
    map_value v[] = { { "ID-PA", 5 }, { "ID-AC", 5 }, { "PH-BTN", 5 }, { "PH-TAW", 5 } };
    map_opts o2 = { .labels = 8 };
    ASSERT_EQ(map_choropleth(&b, geo, &o2, NULL, 0, two, 2, v, 4), SP_OK);
    dump("choropleth_id_ph", &b);
    viewbox(b.data, &w, &h);
    int nlab = 0;
    for (const char *q = strstr(b.data, "<text x=\""); q; q = strstr(q + 1, "<text x=\"")) {
        double tx, ty;
        if (sscanf(q, "<text x=\"%lf\" y=\"%lf\"", &tx, &ty) != 2) continue;
        ASSERT(tx >= 0 && tx <= w && ty >= 0 && ty <= h);
        nlab++;
    }
    ASSERT_GE(nlab, 3);
    sp_buf_free(&b);
    teardown();
}

TEST(map_cap_rolls_back)
{
    setup();
    sp_buf b;
    sp_buf_init(&b, 2000);           /* far too small */
    sp_buf_adds(&b, "<p>");
    map_opts o = { 0 };
    int rc = map_choropleth(&b, geo, &o, NULL, 0, SEA5, 5, SEA_PROV, 4);
    ASSERT_NE(rc, SP_OK);
    ASSERT_STR_EQ(b.data, "<p>");
    ASSERT_EQ(map_hotspots(NULL, geo, &o, NULL, 0), SP_EUSAGE);
    sp_buf_free(&b);
    teardown();
}

TEST_LIST(geo_loads_layers, geo_provinces_by_code, geo_missing_provinces_known, geo_rejects_bad_data,
          map_choropleth_sea_provinces, map_choropleth_world, map_choropleth_empty, map_routes_vietnam,
          map_hotspots_fan_and_escape, map_destination_cambodia, map_projection_frames, map_cap_rolls_back)
