/* test_gazetteer.c -- countries, provinces, currencies and M49 regions
 * from Debian's iso-codes 4.15 and codebook/m49.tsv. */
#include "test.h"
#include "gazetteer.h"

#include <stdlib.h>

static sp_gazetteer *load(void)
{
    sp_err err;
    sp_gazetteer *g = NULL;
    sp_err_init(&err);
    int rc = gazetteer_load(&g, NULL, &err);
    if (rc != SP_OK) { sp_err_print(&err, stderr); TFAIL("gazetteer_load: %d", rc); }
    sp_err_free(&err);
    return g;
}

static const char *a2(const sp_gazetteer *g, const char *s)
{
    const gz_country *c = gazetteer_country(g, s, strlen(s));
    return c ? c->alpha2 : NULL;
}

static const char *prov(const sp_gazetteer *g, const char *country, const char *s)
{
    const gz_country *c = country ? gazetteer_alpha2(g, country) : NULL;
    if (country && !c) TFAIL("no country %s", country);
    const gz_province *p = gazetteer_province(g, c, s, strlen(s));
    return p ? p->code : NULL;
}

TEST(gaz_counts)
{
    sp_gazetteer *g = load();
    ASSERT_EQ(gazetteer_ncountries(g), 249);
    ASSERT_GE(gazetteer_nprovinces(g), 5000);
    const gz_country *c = gazetteer_country_at(g, 0);
    ASSERT_NOT_NULL(c);
    ASSERT_EQ(c->index, 0);
    ASSERT_NULL(gazetteer_country_at(g, 249));
    ASSERT_NULL(gazetteer_province_at(g, gazetteer_nprovinces(g)));
    gazetteer_free(g);
}

TEST(gaz_codes)
{
    sp_gazetteer *g = load();
    ASSERT_STR_EQ(a2(g, "VN"), "VN");
    ASSERT_STR_EQ(a2(g, "vn"), "VN");
    ASSERT_STR_EQ(a2(g, " VNM "), "VN");
    ASSERT_STR_EQ(a2(g, "704"), "VN");
    ASSERT_STR_EQ(a2(g, "704.0"), "VN");
    ASSERT_STR_EQ(a2(g, "4"), "AF");        /* numeric 004 */
    ASSERT_STR_EQ(a2(g, "004"), "AF");
    ASSERT_STR_EQ(a2(g, "KHM"), "KH");
    ASSERT_NULL(a2(g, "999"));
    ASSERT_NULL(a2(g, "1000"));
    ASSERT_NULL(a2(g, "QQ"));
    const gz_country *vn = gazetteer_alpha2(g, "VN");
    ASSERT_NOT_NULL(vn);
    ASSERT_STR_EQ(vn->alpha3, "VNM");
    ASSERT_EQ(vn->numeric, 704);
    ASSERT_STR_EQ(vn->name, "Viet Nam");
    ASSERT(gazetteer_country_at(g, (size_t)vn->index) == vn);
    ASSERT_NULL(gazetteer_alpha2(g, "UK"));  /* a synonym, not a code */
    ASSERT_NULL(gazetteer_alpha2(g, "VNM"));
    ASSERT_NULL(gazetteer_alpha2(g, ""));
    ASSERT(gazetteer_alpha2(g, "vn") == vn);
    gazetteer_free(g);
}

TEST(gaz_names_and_synonyms)
{
    sp_gazetteer *g = load();
    static const char *const cases[][2] = {
        {"Viet Nam", "VN"}, {"Vietnam", "VN"}, {"VIETNAM", "VN"}, {"Việt Nam", "VN"},
        {"Laos", "LA"}, {"Lao PDR", "LA"}, {"Lao People's Democratic Republic", "LA"},
        {"Burma", "MM"}, {"Myanmar (Burma)", "MM"}, {"Myanmar", "MM"},
        {"Cambodia", "KH"}, {"Kampuchea", "KH"}, {"South Korea", "KR"},
        {"Korea, Republic of", "KR"}, {"North Korea", "KP"}, {"Russia", "RU"},
        {"Russian Federation", "RU"}, {"Iran", "IR"}, {"Syria", "SY"},
        {"Tanzania", "TZ"}, {"Bolivia", "BO"}, {"Venezuela", "VE"}, {"Moldova", "MD"},
        {"Taiwan", "TW"}, {"Czech Republic", "CZ"}, {"Czechia", "CZ"},
        {"Turkey", "TR"}, {"Türkiye", "TR"}, {"Ivory Coast", "CI"},
        {"Côte d'Ivoire", "CI"}, {"Cote d’Ivoire", "CI"}, {"UK", "GB"},
        {"Great Britain", "GB"}, {"United Kingdom", "GB"}, {"USA", "US"},
        {"United States of America", "US"}, {"United States", "US"},
        {"Philippines", "PH"}, {"the Philippines", "PH"}, {"DR Congo", "CD"},
        {"Republic of the Philippines", "PH"}, {"Kingdom of Thailand", "TH"},
        {"Thai", "TH"}, {"Filipino", "PH"}, {"Kenya", "KE"}, {"Ukraine", "UA"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        const char *got = a2(g, cases[i][0]);
        if (!got || strcmp(got, cases[i][1]) != 0)
            TFAIL("'%s' gave %s, want %s", cases[i][0], got ? got : "NULL", cases[i][1]);
    }
    gazetteer_free(g);
}

TEST(gaz_unknown_markers)
{
    sp_gazetteer *g = load();
    static const char *const markers[] = {
        "", "  ", "ZZ", "zz", "00", "XX", "-99", "unknown", "Unknown", "N/K?",
    };
    for (size_t i = 0; i < sizeof markers / sizeof *markers; i++)
        if (a2(g, markers[i]) && strcmp(markers[i], "N/K?") != 0)
            TFAIL("'%s' should be unknown", markers[i]);
    ASSERT_NULL(a2(g, "N/K?"));
    ASSERT_NULL(a2(g, "Atlantis"));
    ASSERT_STR_EQ(a2(g, "NA"), "NA");          /* Namibia, not "n/a" */
    char big[600];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    ASSERT_NULL(a2(g, big));
    ASSERT_NULL(gazetteer_country(g, NULL, 0));
    gazetteer_free(g);
}

TEST(gaz_provinces_by_code)
{
    sp_gazetteer *g = load();
    ASSERT_STR_EQ(prov(g, NULL, "VN-44"), "VN-44");
    ASSERT_STR_EQ(prov(g, NULL, "vn-44"), "VN-44");
    ASSERT_STR_EQ(prov(g, "VN", "44"), "VN-44");
    ASSERT_STR_EQ(prov(g, "VN", "VN-44"), "VN-44");
    ASSERT_STR_EQ(prov(g, "LA", "VT"), "LA-VT");
    ASSERT_STR_EQ(prov(g, "TH", "10"), "TH-10");
    ASSERT_NULL(prov(g, NULL, "44"));          /* no country: code needed */
    ASSERT_NULL(prov(g, "VN", "99"));
    ASSERT_NULL(prov(g, NULL, "VN-99"));
    /* a full code of another country is returned: the caller checks */
    const gz_province *p = gazetteer_province(g, gazetteer_alpha2(g, "VN"), "TH-10", 5);
    ASSERT_NOT_NULL(p);
    ASSERT_STR_EQ(p->country->alpha2, "TH");
    ASSERT_STR_EQ(p->type, "Metropolitan administration");
    ASSERT(gazetteer_province_at(g, (size_t)p->index) == p);
    gazetteer_free(g);
}

TEST(gaz_provinces_by_name)
{
    sp_gazetteer *g = load();
    ASSERT_STR_EQ(prov(g, "VN", "Nghệ An"), "VN-22");
    ASSERT_STR_EQ(prov(g, "VN", "Nghe An"), "VN-22");
    ASSERT_STR_EQ(prov(g, "VN", "NGHE AN PROVINCE"), "VN-22");
    ASSERT_STR_EQ(prov(g, "VN", "Tinh Nghe An"), "VN-22");
    ASSERT_STR_EQ(prov(g, "VN", "Đà Nẵng"), "VN-DN");
    ASSERT_STR_EQ(prov(g, "VN", "Da Nang"), "VN-DN");
    ASSERT_STR_EQ(prov(g, "VN", "Ho Chi Minh City"), "VN-SG");
    ASSERT_STR_EQ(prov(g, "VN", "Hồ Chí Minh"), "VN-SG");
    ASSERT_STR_EQ(prov(g, "VN", "Hanoi"), "VN-HN");
    ASSERT_STR_EQ(prov(g, "VN", "Thừa Thiên-Huế"), "VN-26");
    ASSERT_STR_EQ(prov(g, "LA", "Vientiane Capital"), "LA-VT");
    ASSERT_STR_EQ(prov(g, "LA", "Vientiane Prefecture"), "LA-VT");
    ASSERT_STR_EQ(prov(g, "LA", "Vientiane Province"), "LA-VI");
    ASSERT_NULL(prov(g, "LA", "Viangchan"));   /* province and prefecture */
    ASSERT_STR_EQ(prov(g, "LA", "Bokèo"), "LA-BK");
    ASSERT_STR_EQ(prov(g, "LA", "bokeo"), "LA-BK");
    ASSERT_STR_EQ(prov(g, "PH", "Metro Manila"), "PH-00");
    ASSERT_STR_EQ(prov(g, "MM", "Shan State"), "MM-17");
    ASSERT_STR_EQ(prov(g, "MM", "Shan"), "MM-17");
    ASSERT_STR_EQ(prov(g, "TH", "Bangkok"), "TH-10");
    ASSERT_STR_EQ(prov(g, "KH", "Phnom Penh"), "KH-12");
    ASSERT_STR_EQ(prov(g, "CN", "Yunnan"), "CN-YN");
    ASSERT_STR_EQ(prov(g, "BD", "Dhaka"), "BD-C");   /* division over district */
    ASSERT_NULL(prov(g, "TH", "Nghe An"));           /* name in another country */
    ASSERT_NULL(prov(g, NULL, "Nghe An"));
    gazetteer_free(g);
}

TEST(gaz_vietnam_has_63)
{
    sp_gazetteer *g = load();
    size_t n = 0, municipalities = 0;
    for (size_t i = 0; i < gazetteer_nprovinces(g); i++) {
        const gz_province *p = gazetteer_province_at(g, i);
        if (strcmp(p->country->alpha2, "VN") != 0) continue;
        n++;
        if (strcmp(p->type, "Municipality") == 0) municipalities++;
    }
    ASSERT_EQ(n, 63);              /* iso-codes 4.15: 58 provinces + 5 cities */
    ASSERT_EQ(municipalities, 5);
    gazetteer_free(g);
}

TEST(gaz_regions)
{
    sp_gazetteer *g = load();
    const gz_country *c = gazetteer_alpha2(g, "VN");
    ASSERT_STR_EQ(c->region, "Asia");
    ASSERT_STR_EQ(c->subregion, "South-eastern Asia");
    c = gazetteer_alpha2(g, "KE");
    ASSERT_STR_EQ(c->region, "Africa");
    ASSERT_STR_EQ(c->subregion, "Eastern Africa");
    c = gazetteer_alpha2(g, "UA");
    ASSERT_STR_EQ(c->region, "Europe");
    ASSERT_STR_EQ(c->subregion, "Eastern Europe");
    c = gazetteer_alpha2(g, "US");
    ASSERT_STR_EQ(c->region, "Americas");
    ASSERT_STR_EQ(c->subregion, "Northern America");
    c = gazetteer_alpha2(g, "AQ");
    ASSERT_STR_EQ(c->region, "");
    /* every other country has a region */
    for (size_t i = 0; i < gazetteer_ncountries(g); i++) {
        c = gazetteer_country_at(g, i);
        if (strcmp(c->alpha2, "AQ") == 0) continue;
        if (!gazetteer_region(c->region)) TFAIL("%s has no region", c->alpha2);
        if (!c->subregion[0]) TFAIL("%s has no sub-region", c->alpha2);
    }
    ASSERT_EQ(gazetteer_nregions(), 5);
    ASSERT_STR_EQ(gazetteer_region_at(0), "Africa");
    ASSERT_STR_EQ(gazetteer_region_at(4), "Oceania");
    ASSERT_NULL(gazetteer_region_at(5));
    ASSERT_STR_EQ(gazetteer_region("  asia "), "Asia");
    ASSERT_STR_EQ(gazetteer_region("AMERICAS"), "Americas");
    ASSERT_NULL(gazetteer_region("Asai"));
    ASSERT_NULL(gazetteer_region(""));
    gazetteer_free(g);
}

TEST(gaz_currency)
{
    sp_gazetteer *g = load();
    ASSERT_STR_EQ(gazetteer_currency(g, "usd", 3), "USD");
    ASSERT_STR_EQ(gazetteer_currency(g, " THB ", 5), "THB");
    ASSERT_STR_EQ(gazetteer_currency(g, "840", 3), "USD");
    ASSERT_STR_EQ(gazetteer_currency(g, "704", 3), "VND");
    ASSERT_STR_EQ(gazetteer_currency(g, "USDT", 4), "USD");
    ASSERT_STR_EQ(gazetteer_currency(g, "Baht", 4), "THB");
    ASSERT_STR_EQ(gazetteer_currency(g, "RMB", 3), "CNY");
    ASSERT_NULL(gazetteer_currency(g, "XYZ", 3));
    ASSERT_NULL(gazetteer_currency(g, "", 0));
    ASSERT_NULL(gazetteer_currency(g, "1", 1));
    gazetteer_free(g);
}

/* The listing for menus: every iso-codes currency, each code found again
 * by gazetteer_currency, the names as iso-codes has them. */
TEST(gaz_currency_list)
{
    sp_gazetteer *g = load();
    size_t n = gazetteer_ncurrencies(g);
    ASSERT_GE(n, 150);
    const char *code, *name;
    int usd = 0, thb = 0;
    for (size_t i = 0; i < n; i++) {
        ASSERT_EQ(gazetteer_currency_at(g, i, &code, &name), SP_OK);
        ASSERT_EQ(strlen(code), 3);
        for (int k = 0; k < 3; k++) ASSERT(code[k] >= 'A' && code[k] <= 'Z');
        ASSERT(name && *name);
        ASSERT_STR_EQ(gazetteer_currency(g, code, 3), code);
        if (strcmp(code, "USD") == 0) {
            usd = 1;
            ASSERT_STR_EQ(name, "US Dollar");
        }
        if (strcmp(code, "THB") == 0) {
            thb = 1;
            ASSERT_STR_EQ(name, "Baht");
        }
    }
    ASSERT(usd && thb);
    ASSERT_EQ(gazetteer_currency_at(g, n, &code, &name), SP_EOF);
    gazetteer_free(g);
}

TEST(gaz_bad_dir)
{
    sp_err err;
    sp_err_init(&err);
    sp_gazetteer *g = (sp_gazetteer *)1;
    int rc = gazetteer_load(&g, "/nonexistent/iso", &err);
    ASSERT_NE(rc, SP_OK);
    ASSERT_NULL(g);
    ASSERT_CONTAINS(sp_err_last(&err), "iso-codes");
    sp_err_free(&err);
}

TEST(gaz_env_dir)
{
    setenv("SPOTLIGHT_ISO_CODES", "/nonexistent/iso", 1);
    sp_err err;
    sp_err_init(&err);
    sp_gazetteer *g = NULL;
    ASSERT_NE(gazetteer_load(&g, NULL, &err), SP_OK);
    sp_err_free(&err);
    unsetenv("SPOTLIGHT_ISO_CODES");
}

TEST(gaz_invalid_utf8_and_odd_bytes)
{
    sp_gazetteer *g = load();
    const char bad[] = "\xff\xfe\xc3";
    ASSERT_NULL(gazetteer_country(g, bad, 3));
    ASSERT_NULL(gazetteer_province(g, gazetteer_alpha2(g, "VN"), bad, 3));
    ASSERT_NULL(gazetteer_currency(g, bad, 3));
    const char nul[] = "V\0N";
    ASSERT_STR_EQ(gazetteer_country(g, nul, 3)->alpha2, "VN");  /* NUL dropped */
    gazetteer_free(g);
}

TEST_LIST(gaz_counts, gaz_codes, gaz_names_and_synonyms, gaz_unknown_markers,
          gaz_provinces_by_code, gaz_provinces_by_name, gaz_vietnam_has_63,
          gaz_regions, gaz_currency, gaz_currency_list, gaz_bad_dir, gaz_env_dir,
          gaz_invalid_utf8_and_odd_bytes)
