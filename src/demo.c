/* demo.c -- see demo.h. All values below are invented; the weights only
 * give the demo the broad shape described in demo.h. */
#include "demo.h"

#include <stdlib.h>
#include <string.h>

#include "layout.h"

/* ---- PRNG: splitmix64 to seed, xoshiro256** to draw */
typedef struct { uint64_t s[4]; } rng;

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static void rng_seed(rng *r, uint64_t seed, uint64_t stream)
{
    uint64_t x = seed ^ (stream * 0xd1342543de82ef95ULL);
    for (int i = 0; i < 4; i++) r->s[i] = splitmix64(&x);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static uint64_t rng_next(rng *r)
{
    uint64_t *s = r->s;
    uint64_t res = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0]; s[3] ^= s[1]; s[1] ^= s[2]; s[0] ^= s[3];
    s[2] ^= t; s[3] = rotl(s[3], 45);
    return res;
}

/* Uniform in [0, n) (Lemire's multiply; the tiny bias is irrelevant). */
static unsigned rng_below(rng *r, unsigned n)
{
    return (unsigned)(((rng_next(r) >> 32) * (uint64_t)n) >> 32);
}
static int rng_pct(rng *r, unsigned pct) { return rng_below(r, 100) < pct; }
static int rng_range(rng *r, int lo, int hi) { return lo + (int)rng_below(r, (unsigned)(hi - lo + 1)); }

/* weighted tables: {code, weight} and places {country, province, locality, w} */
typedef struct { const char *code; unsigned w; } wcode;
typedef struct { const char *country, *province, *locality; unsigned w; } wplace;

#define N(a) (sizeof(a) / sizeof((a)[0]))

static size_t pick_idx(rng *r, const unsigned *w, size_t n)
{
    unsigned tot = 0;
    for (size_t i = 0; i < n; i++) tot += w[i];
    unsigned x = rng_below(r, tot);
    for (size_t i = 0; i < n; i++) {
        if (x < w[i]) return i;
        x -= w[i];
    }
    return n - 1;
}
static const char *pick_code(rng *r, const wcode *t, size_t n)
{
    unsigned tot = 0;
    for (size_t i = 0; i < n; i++) tot += t[i].w;
    unsigned x = rng_below(r, tot);
    for (size_t i = 0; i < n; i++) {
        if (x < t[i].w) return t[i].code;
        x -= t[i].w;
    }
    return t[n - 1].code;
}
static const wplace *pick_place(rng *r, const wplace *t, size_t n)
{
    unsigned tot = 0;
    for (size_t i = 0; i < n; i++) tot += t[i].w;
    unsigned x = rng_below(r, tot);
    for (size_t i = 0; i < n; i++) {
        if (x < t[i].w) return &t[i];
        x -= t[i].w;
    }
    return &t[n - 1];
}
#define PICK(r, t) pick_code(r, t, N(t))
#define PICKP(r, t) pick_place(r, t, N(t))

/* ---- organisations and where their cases come from */
enum { KIND_ASIA, KIND_AFRICA, KIND_GLOBAL };

static const wcode nat_mrn[] = {{"VN",25},{"LA",20},{"MM",15},{"KH",15},{"TH",15},{"CN",5},{"ID",3},{"PH",2}};
static const wcode nat_rrs[] = {{"VN",85},{"LA",5},{"CN",5},{"KH",5}};
static const wcode nat_lsh[] = {{"LA",70},{"VN",10},{"MM",6},{"TH",5},{"CN",5},{"KH",4}};
static const wcode nat_amc[] = {{"ID",80},{"PH",8},{"MY",6},{"LK",3},{"IN",3}};
static const wcode nat_vat[] = {{"PH",85},{"ID",7},{"MY",4},{"CN",4}};
static const wcode nat_tsl[] = {{"KH",50},{"VN",20},{"TH",10},{"CN",10},{"MM",5},{"LA",5}};
static const wcode nat_ear[] = {{"KE",55},{"UG",25},{"ET",15},{"TZ",3},{"BI",2}};
static const wcode nat_gcp[] = {{"IN",14},{"LK",10},{"CN",12},{"VN",8},{"ID",8},{"PH",8},{"MY",6},
                                {"TH",4},{"KE",8},{"UG",6},{"ET",5},{"BD",4},{"NP",4},{"PK",3},{"BR",2},{"TR",2}};

typedef struct {
    demo_org o;
    int kind;
    unsigned w;                /* share of records */
    const wcode *nat;
    size_t nnat;
} org_def;

static const org_def ORGS[] = {
    {{"MRN", "Demo: Mekong Return Network", "TH"}, KIND_ASIA, 20, nat_mrn, N(nat_mrn)},
    {{"RRS", "Demo: Red River Survivors Alliance", "VN"}, KIND_ASIA, 18, nat_rrs, N(nat_rrs)},
    {{"LSH", "Demo: Lao Safe Homecoming", "LA"}, KIND_ASIA, 12, nat_lsh, N(nat_lsh)},
    {{"AMC", "Demo: Archipelago Migrant Care", "ID"}, KIND_ASIA, 12, nat_amc, N(nat_amc)},
    {{"VAT", "Demo: Visayas Anti-Trafficking Desk", "PH"}, KIND_ASIA, 10, nat_vat, N(nat_vat)},
    {{"TSL", "Demo: Tonle Sap Legal Aid", "KH"}, KIND_ASIA, 10, nat_tsl, N(nat_tsl)},
    {{"EAR", "Demo: East Africa Return Desk", "KE"}, KIND_AFRICA, 8, nat_ear, N(nat_ear)},
    {{"GCP", "Demo: Global Case Pool (CTDC-style)", NULL}, KIND_GLOBAL, 10, nat_gcp, N(nat_gcp)},
};

size_t demo_norgs(void) { return N(ORGS); }
const demo_org *demo_org_at(size_t i) { return i < N(ORGS) ? &ORGS[i].o : NULL; }

/* origin provinces, weighted (ISO 3166-2; test_demo checks each against
 * the gazetteer) */
static const wcode prov_vn[] = {{"VN-22",12},{"VN-23",10},{"VN-21",8},{"VN-24",5},{"VN-HN",6},
    {"VN-SG",6},{"VN-44",5},{"VN-45",4},{"VN-41",3},{"VN-37",4},{"VN-02",3},{"VN-03",3},
    {"VN-05",3},{"VN-71",2},{"VN-CT",3},{"VN-52",2},{"VN-59",2},{"VN-HP",2},{"VN-DN",2},{"VN-33",2}};
static const wcode prov_la[] = {{"LA-SV",10},{"LA-CH",8},{"LA-VT",8},{"LA-LP",6},{"LA-BK",5},
    {"LA-LM",4},{"LA-OU",4},{"LA-KH",5},{"LA-SL",4},{"LA-XA",3},{"LA-AT",2},{"LA-PH",2},
    {"LA-XI",2},{"LA-BL",3}};
static const wcode prov_kh[] = {{"KH-12",6},{"KH-3",6},{"KH-14",6},{"KH-2",5},{"KH-17",5},
    {"KH-25",4},{"KH-20",4},{"KH-21",4},{"KH-8",4},{"KH-1",3}};
static const wcode prov_th[] = {{"TH-57",6},{"TH-50",5},{"TH-34",4},{"TH-40",4},{"TH-41",4},
    {"TH-30",4},{"TH-10",5},{"TH-31",3},{"TH-33",3},{"TH-63",3}};
static const wcode prov_mm[] = {{"MM-06",6},{"MM-04",5},{"MM-02",4},{"MM-01",3},{"MM-13",4},
    {"MM-17",4},{"MM-15",3},{"MM-07",3},{"MM-11",2}};
static const wcode prov_id[] = {{"ID-JB",8},{"ID-JT",7},{"ID-JI",7},{"ID-NB",5},{"ID-NT",4},
    {"ID-SU",4},{"ID-JK",3},{"ID-BT",3},{"ID-SN",3},{"ID-KB",2}};
static const wcode prov_ph[] = {{"PH-00",8},{"PH-CEB",5},{"PH-PAM",4},{"PH-CAV",4},{"PH-LAG",4},
    {"PH-BUL",3},{"PH-ILI",3},{"PH-DAS",3},{"PH-LEY",3},{"PH-PAN",3}};

static const char *origin_province(rng *r, const char *cc)
{
    if (!strcmp(cc, "VN")) return PICK(r, prov_vn);
    if (!strcmp(cc, "LA")) return PICK(r, prov_la);
    if (!strcmp(cc, "KH")) return PICK(r, prov_kh);
    if (!strcmp(cc, "TH")) return PICK(r, prov_th);
    if (!strcmp(cc, "MM")) return PICK(r, prov_mm);
    if (!strcmp(cc, "ID")) return PICK(r, prov_id);
    if (!strcmp(cc, "PH")) return PICK(r, prov_ph);
    return NULL;
}

/* ---- places of exploitation */
static const wplace pl_scam[] = {
    {"MM","MM-13","Shwe Kokko",14},{"MM","MM-13","KK Park, Myawaddy",12},{"MM","MM-17","Tachileik",8},
    {"KH","KH-18","Sihanoukville",14},{"KH","KH-20","Bavet",8},{"KH","KH-12","Phnom Penh",6},
    {"LA","LA-BK","Golden Triangle SEZ",10},{"LA","LA-VT","Vientiane",3},{"TH","TH-63","Mae Sot",2},
    {"PH","PH-TAR","Bamban",2}};
static const wplace pl_sex[] = {{"TH","TH-10","Bangkok",5},{"TH","TH-20","Pattaya",3},
    {"MY","MY-14","Kuala Lumpur",4},{"CN","CN-GD",NULL,3},{"KH","KH-12",NULL,2},
    {"LA","LA-BK","Golden Triangle SEZ",3},{"AE",NULL,NULL,1}};
static const wplace pl_fish[] = {{"TH","TH-74","Samut Sakhon",5},{"TH","TH-85","Ranong",3},
    {"ID","ID-MA","Benjina",2},{"MY","MY-12",NULL,1},{"TW",NULL,NULL,2}};
static const wplace pl_constr[] = {{"MY","MY-10",NULL,4},{"TH","TH-10",NULL,3},{"SA",NULL,NULL,2},
    {"AE",NULL,NULL,2},{"QA",NULL,NULL,1}};
static const wplace pl_dom[] = {{"SA",NULL,NULL,5},{"AE",NULL,NULL,3},{"QA",NULL,NULL,2},
    {"LB",NULL,NULL,2},{"MY","MY-14",NULL,3},{"SG",NULL,NULL,2},{"HK",NULL,NULL,2}};
static const wplace pl_manu[] = {{"MY","MY-01",NULL,4},{"TH","TH-11",NULL,3},{"CN","CN-GD",NULL,2},
    {"KR",NULL,NULL,1}};
static const wplace pl_agri[] = {{"TH","TH-50",NULL,3},{"MY","MY-06",NULL,3},{"TH","TH-22",NULL,2}};
static const wplace pl_beg[] = {{"TH","TH-10","Bangkok",4},{"MY","MY-14",NULL,2},{"VN","VN-SG",NULL,1}};
static const wplace pl_marr[] = {{"CN","CN-HA",NULL,3},{"CN","CN-SD",NULL,3},{"CN","CN-HE",NULL,2},
    {"CN","CN-JS",NULL,2},{"CN","CN-YN",NULL,2}};
static const wplace pl_crim[] = {{"MM","MM-17","Tachileik",3},{"TH","TH-10",NULL,2},
    {"KH","KH-12","Phnom Penh",2},{"MY","MY-14",NULL,1}};
static const wplace pl_hosp[] = {{"TH","TH-83","Phuket",3},{"MY","MY-14",NULL,2},{"AE",NULL,NULL,2}};

/* ---- industries */
enum { I_SCAM, I_CRIM, I_SEX, I_FISH, I_CONSTR, I_MANU, I_AGRI, I_DOM, I_HOSP, I_BEG,
       I_LABOTHER, I_MARR, I_OTHER, I_UNKNOWN, I_N };
static const char *const IND_CODE[I_N] = {
    "online_scam", "forced_criminality_other", "sexual_exploitation", "labour_fishing",
    "labour_construction", "labour_manufacturing", "labour_agriculture", "labour_domestic",
    "labour_hospitality", "labour_begging", "labour_other", "forced_marriage", "other", "unknown"};
/* non-scam industries, by organisation kind */
static const unsigned IND_W_ASIA[I_N] = {0, 4, 22, 14, 12, 10, 8, 10, 4, 4, 3, 7, 1, 1};
static const unsigned IND_W_AFRICA[I_N] = {0, 3, 10, 2, 10, 4, 6, 45, 8, 2, 4, 2, 2, 2};
static const unsigned IND_W_GLOBAL[I_N] = {0, 4, 28, 8, 12, 10, 8, 14, 5, 3, 3, 3, 1, 1};

/* scam share in percent by year, from 2022 (index 0) */
static unsigned scam_pct(int kind, int year)
{
    static const unsigned asia[] = {18, 34, 50, 58}, africa[] = {10, 24, 34, 40},
                          global[] = {6, 12, 20, 25};
    if (year < 2022) return 0;
    int k = year > 2025 ? 3 : year - 2022;
    return kind == KIND_ASIA ? asia[k] : kind == KIND_AFRICA ? africa[k] : global[k];
}

/* ---- indicators */
#define POOL_N 24
typedef struct { const char *type, *chain, *platform, *role; char value[80]; } indic;

static const char B58[] = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
static const char *const WORDS[] = {"golden", "lucky", "sunrise", "mekong", "lotus", "dragon",
    "pearl", "jade", "royal", "star", "ocean", "phoenix", "tiger", "silk", "crown", "harbor"};

static void make_indicator(rng *r, indic *x)
{
    static const unsigned tw[] = {22, 26, 18, 18, 5, 6, 5};
    size_t t = pick_idx(r, tw, N(tw));
    char *v = x->value;
    size_t cap = sizeof x->value;
    x->chain = x->platform = NULL;
    switch (t) {
    case 0: {       /* phone, E.164 */
        static const char *const pre[] = {"+85597", "+8559", "+95 9", "+85620", "+668", "+849", "+6281"};
        const char *p = pre[rng_below(r, N(pre))];
        int n = snprintf(v, cap, "%s", p);
        for (int i = 0; i < 8 && (size_t)n + 1 < cap; i++) v[n++] = (char)('0' + rng_below(r, 10));
        v[n] = '\0';
        x->type = "phone";
        static const char *const pf[] = {"telegram", "whatsapp", "line", "zalo", "wechat"};
        if (rng_pct(r, 70)) x->platform = pf[rng_below(r, N(pf))];
        x->role = rng_pct(r, 70) ? "recruiter_contact" : "compound_operator";
        break;
    }
    case 1:         /* crypto wallet: TRON (T + 33 base58) or Ethereum */
        x->type = "crypto_wallet";
        if (rng_pct(r, 80)) {
            v[0] = 'T';
            for (int i = 1; i < 34; i++) v[i] = B58[rng_below(r, 58)];
            v[34] = '\0';
            x->chain = "tron";
        } else {
            v[0] = '0'; v[1] = 'x';
            for (int i = 2; i < 42; i++) v[i] = "0123456789abcdef"[rng_below(r, 16)];
            v[42] = '\0';
            x->chain = "ethereum";
        }
        x->role = rng_pct(r, 60) ? "ransom_payment" : "scam_victim_payment";
        break;
    case 2: {       /* bank account number */
        int len = rng_range(r, 10, 14);
        for (int i = 0; i < len; i++) v[i] = (char)('0' + rng_below(r, 10));
        v[len] = '\0';
        x->type = "bank_account";
        x->role = rng_pct(r, 60) ? "ransom_payment" : "salary";
        break;
    }
    case 3:         /* social handle */
        snprintf(v, cap, "@%s_%s%u", WORDS[rng_below(r, N(WORDS))], rng_pct(r, 50) ? "jobs" : "hr",
                 rng_below(r, 1000));
        x->type = "social_handle";
        x->platform = rng_pct(r, 65) ? "telegram" : rng_pct(r, 50) ? "facebook" : "tiktok";
        x->role = "recruiter_contact";
        break;
    case 4:
        snprintf(v, cap, "https://%s-%s-recruit.example", WORDS[rng_below(r, N(WORDS))],
                 WORDS[rng_below(r, N(WORDS))]);
        x->type = "website";
        x->role = "recruiter_contact";
        break;
    case 5:
        snprintf(v, cap, "Demo %s %s Co., Ltd.", WORDS[rng_below(r, N(WORDS))],
                 rng_pct(r, 50) ? "Technology" : "Trading");
        v[5] = (char)(v[5] - 'a' + 'A');
        x->type = "company";
        x->role = "compound_operator";
        break;
    default:
        snprintf(v, cap, "Demo compound %c%u", (char)('A' + rng_below(r, 26)), rng_below(r, 100));
        x->type = "compound";
        x->role = "compound_operator";
        break;
    }
}

/* ---- the generator */
struct demo_gen {
    const sp_codebook *cb;
    uint64_t seed;
    indic pool[POOL_N];
    /* field indices (-1: absent from the codebook; then left empty) */
    int case_ref, year, date, idstat, consent, gender, age, nationality, ocountry,
        oprovince, transit, expl, industry, months, rmethod, rplatform, promised,
        control, rd_amount, rd_cur, rp_amount, rp_cur, exit_method, indicators;
    int ex_country, ex_province, ex_locality;
    int in_type, in_value, in_chain, in_platform, in_role;
};

static int fidx(const sp_codebook *cb, const char *name)
{
    const cb_field *f = codebook_field(cb, name);
    return f && !f->deprecated ? f->index : -1;
}
static int sidx(const sp_codebook *cb, int g, const char *name)
{
    if (g < 0) return -1;
    const cb_field *f = codebook_subfield(&cb->fields[g], name);
    return f && !f->deprecated ? f->index : -1;
}

int demo_gen_new(demo_gen **out, const sp_codebook *cb, uint64_t seed, sp_err *err)
{
    demo_gen *g = sp_xcalloc(1, sizeof *g);
    g->cb = cb;
    g->seed = seed;
    g->case_ref = fidx(cb, "case_ref");
    g->year = fidx(cb, "year_identified");
    g->date = fidx(cb, "date_identified");
    g->idstat = fidx(cb, "identification_status");
    g->consent = fidx(cb, "consent");
    g->gender = fidx(cb, "gender");
    g->age = fidx(cb, "age");
    g->nationality = fidx(cb, "nationality");
    g->ocountry = fidx(cb, "origin_country");
    g->oprovince = fidx(cb, "origin_province");
    g->transit = fidx(cb, "transit_countries");
    g->expl = fidx(cb, "exploitation");
    g->industry = fidx(cb, "industry");
    g->months = fidx(cb, "months_exploited");
    g->rmethod = fidx(cb, "recruitment_method");
    g->rplatform = fidx(cb, "recruitment_platform");
    g->promised = fidx(cb, "promised_job");
    g->control = fidx(cb, "control_means");
    g->rd_amount = fidx(cb, "ransom_demanded_amount");
    g->rd_cur = fidx(cb, "ransom_demanded_currency");
    g->rp_amount = fidx(cb, "ransom_paid_amount");
    g->rp_cur = fidx(cb, "ransom_paid_currency");
    g->exit_method = fidx(cb, "exit_method");
    g->indicators = fidx(cb, "indicators");
    g->ex_country = sidx(cb, g->expl, "country");
    g->ex_province = sidx(cb, g->expl, "province");
    g->ex_locality = sidx(cb, g->expl, "locality");
    g->in_type = sidx(cb, g->indicators, "type");
    g->in_value = sidx(cb, g->indicators, "value");
    g->in_chain = sidx(cb, g->indicators, "chain");
    g->in_platform = sidx(cb, g->indicators, "platform");
    g->in_role = sidx(cb, g->indicators, "role");
    if (g->case_ref < 0 || g->expl < 0 || g->ex_country < 0 || g->industry < 0) {
        sp_err_add(err, NULL, 0, NULL, NULL, 0, "codebook-mismatch",
                   "the codebook lacks a field the demo generator needs "
                   "(case_ref, exploitation.country or industry)");
        free(g);
        return SP_EUSAGE;
    }
    rng r;
    rng_seed(&r, seed, UINT64_MAX);
    for (size_t i = 0; i < POOL_N; i++) make_indicator(&r, &g->pool[i]);
    *out = g;
    return SP_OK;
}

void demo_gen_free(demo_gen *g) { free(g); }

/* Cells: text is a code (static) or arena text; numbers in i/d/lo/hi. */
static void put(sp_record *rec, int f, const char *text)
{
    if (f < 0 || !text) return;
    cb_cell c = {0};
    c.text = text;
    record_add(rec, f, &c);
}
static void put_int(sp_record *rec, int f, long long v)
{
    if (f < 0) return;
    cb_cell c = {0};
    char tmp[24];
    snprintf(tmp, sizeof tmp, "%lld", v);
    c.text = sp_arena_strdup(&rec->arena, tmp);
    c.i = v;
    c.d = (double)v;
    record_add(rec, f, &c);
}
static void put_dec(sp_record *rec, int f, double v)
{
    if (f < 0) return;
    cb_cell c = {0};
    char tmp[40];
    snprintf(tmp, sizeof tmp, "%.15g", v);
    c.text = sp_arena_strdup(&rec->arena, tmp);
    c.d = v;
    c.i = (long long)v;
    record_add(rec, f, &c);
}
static void put_age(sp_record *rec, int f, int lo, int hi)
{
    if (f < 0) return;
    cb_cell c = {0};
    char tmp[24];
    snprintf(tmp, sizeof tmp, "%d-%d", lo, hi);
    c.text = sp_arena_strdup(&rec->arena, tmp);
    c.lo = lo;
    c.hi = hi;
    c.i = lo;
    record_add(rec, f, &c);
}
static void gput(sp_record *rec, int f, size_t row, int sub, const char *text)
{
    if (f < 0 || sub < 0 || !text) return;
    cb_cell *c = record_group_cell(rec, f, row, sub);
    if (c) c->text = text;
}

static int is_mainland_sea(const char *cc)
{
    static const char *const s[] = {"TH", "MM", "LA", "KH", "VN", "CN"};
    for (size_t i = 0; i < N(s); i++)
        if (!strcmp(cc, s[i])) return 1;
    return 0;
}

static const char *gender_for(rng *r, int ind)
{
    unsigned male;
    switch (ind) {
    case I_SCAM: male = 65; break;
    case I_SEX: case I_MARR: male = 4; break;
    case I_FISH: male = 97; break;
    case I_CONSTR: male = 85; break;
    case I_DOM: male = 12; break;
    case I_MANU: male = 45; break;
    case I_AGRI: male = 60; break;
    case I_CRIM: male = 70; break;
    default: male = 50; break;
    }
    unsigned x = rng_below(r, 1000);
    if (x < 15) return "unknown";
    if (x < 22) return "transgender";
    if (x < 25) return "nonbinary_other";
    if (x < 45) return NULL;                       /* missing */
    return rng_below(r, 100) < male ? "male" : "female";
}

static void add_age(rng *r, sp_record *rec, int f, int ind)
{
    unsigned x = rng_below(r, 100);
    int a;
    unsigned minors = ind == I_SCAM ? 4 : ind == I_SEX || ind == I_BEG ? 14 : 7;
    if (x < 5) return;                              /* unknown */
    if (x < 5 + minors) a = rng_range(r, 12, 17);
    else if (x < 90) a = rng_range(r, 18, 34);
    else if (x < 95) a = rng_range(r, 35, 40);
    else a = rng_range(r, 41, 62);
    if (rng_pct(r, 65)) { put_age(rec, f, a, a); return; }
    static const int band[][2] = {{0, 11}, {12, 17}, {18, 24}, {25, 34}, {35, 44}, {45, 54}, {55, 64}};
    for (size_t i = 0; i < N(band); i++)
        if (a >= band[i][0] && a <= band[i][1]) { put_age(rec, f, band[i][0], band[i][1]); return; }
}

static const wplace *place_for(rng *r, int ind)
{
    switch (ind) {
    case I_SCAM: return PICKP(r, pl_scam);
    case I_CRIM: return PICKP(r, pl_crim);
    case I_SEX: return PICKP(r, pl_sex);
    case I_FISH: return PICKP(r, pl_fish);
    case I_CONSTR: return PICKP(r, pl_constr);
    case I_MANU: return PICKP(r, pl_manu);
    case I_AGRI: return PICKP(r, pl_agri);
    case I_DOM: return PICKP(r, pl_dom);
    case I_BEG: return PICKP(r, pl_beg);
    case I_MARR: return PICKP(r, pl_marr);
    case I_HOSP: return PICKP(r, pl_hosp);
    default: return PICKP(r, pl_constr);
    }
}

static void add_place(rng *r, demo_gen *g, sp_record *rec, size_t row, const char *cc,
                      const char *prov, const char *loc)
{
    gput(rec, g->expl, row, g->ex_country, cc);
    if (prov && rng_pct(r, 90)) gput(rec, g->expl, row, g->ex_province, prov);
    if (loc && rng_pct(r, 70)) gput(rec, g->expl, row, g->ex_locality, loc);
}

void demo_gen_record(demo_gen *g, long long i, sp_record *rec, size_t *org_out)
{
    rng rr, *r = &rr;
    rng_seed(r, g->seed, (uint64_t)i);
    record_reset(rec);

    unsigned ow[N(ORGS)];
    for (size_t k = 0; k < N(ORGS); k++) ow[k] = ORGS[k].w;
    size_t oi = pick_idx(r, ow, N(ORGS));
    const org_def *od = &ORGS[oi];
    *org_out = oi;

    static const unsigned yw[] = {6, 7, 6, 7, 10, 15, 20, 20};
    int year = 2018 + (int)pick_idx(r, yw, N(yw));

    int ind;
    if (rng_below(r, 100) < scam_pct(od->kind, year)) ind = I_SCAM;
    else ind = (int)pick_idx(r, od->kind == KIND_ASIA ? IND_W_ASIA
                                : od->kind == KIND_AFRICA ? IND_W_AFRICA : IND_W_GLOBAL, I_N);
    const char *nat = pick_code(r, od->nat, od->nnat);

    char tmp[96];
    snprintf(tmp, sizeof tmp, "DEMO-%s-%06lld", od->o.code, i + 1);
    put(rec, g->case_ref, sp_arena_strdup(&rec->arena, tmp));
    /* a record without a year has no date either (import would otherwise
     * derive the year from the date, and the two paths would differ) */
    int has_year = !rng_pct(r, 1);
    if (has_year) put_int(rec, g->year, year);
    if (rng_pct(r, 60) && has_year && g->date >= 0) {
        static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
        int m = rng_range(r, 1, 12), d = rng_range(r, 1, mdays[m - 1]);
        snprintf(tmp, sizeof tmp, "%04d-%02d-%02d", year, m, d);
        put(rec, g->date, sp_arena_strdup(&rec->arena, tmp));
    }
    static const wcode idst[] = {{"formal", 45}, {"presumed", 48}, {"unknown", 4}, {NULL, 3}};
    put(rec, g->idstat, PICK(r, idst));
    static const wcode cons[] = {{"statistics", 50}, {"hub_analysts", 24}, {"investigators", 20},
                                 {"unknown", 4}, {NULL, 2}};
    put(rec, g->consent, PICK(r, cons));
    put(rec, g->gender, gender_for(r, ind));
    add_age(r, rec, g->age, ind);

    /* nationality and origin */
    if (!rng_pct(r, 2)) put(rec, g->nationality, nat);
    const char *ocountry = nat;
    unsigned x = rng_below(r, 100);
    if (x < 4) ocountry = NULL;
    else if (x < 7) ocountry = pick_code(r, od->nat, od->nnat);
    if (ocountry) {
        put(rec, g->ocountry, ocountry);
        if (rng_pct(r, 80)) put(rec, g->oprovince, origin_province(r, ocountry));
    }

    /* places: Lao victims are often exploited inside Laos (Golden Triangle);
     * other non-scam cases sometimes stay in their own country */
    const char *home = ocountry ? ocountry : nat;
    const char *final_cc = NULL;
    size_t nplaces = 0;
    if (!rng_pct(r, 4)) {
        if (!strcmp(home, "LA") && (ind == I_SCAM || ind == I_SEX) && rng_pct(r, 35)) {
            add_place(r, g, rec, 0, "LA", "LA-BK", "Golden Triangle SEZ");
            final_cc = "LA";
            nplaces = 1;
        } else if (ind != I_SCAM && ind != I_MARR && ind != I_DOM && rng_pct(r, 12) &&
                   origin_province(r, home)) {
            add_place(r, g, rec, 0, home, origin_province(r, home), NULL);
            final_cc = home;
            nplaces = 1;
        } else {
            const wplace *p = place_for(r, ind);
            if (!strcmp(p->country, home) && ind == I_SCAM) p = &pl_scam[0];
            add_place(r, g, rec, 0, p->country, p->province, p->locality);
            final_cc = p->country;
            nplaces = 1;
            /* moved or sold between compounds: the last place is the final one */
            if (ind == I_SCAM && rng_pct(r, 18)) {
                const wplace *q = PICKP(r, pl_scam);
                if (strcmp(q->locality, p->locality ? p->locality : "")) {
                    add_place(r, g, rec, 1, q->country, q->province, q->locality);
                    final_cc = q->country;
                    nplaces = 2;
                }
            }
        }
    }
    /* transit */
    if (final_cc && strcmp(final_cc, home) && g->transit >= 0) {
        int far = !is_mainland_sea(home);
        int to_compound = !strcmp(final_cc, "MM") || !strcmp(final_cc, "LA") ||
                          !strcmp(final_cc, "KH");
        if (to_compound && (far ? rng_pct(r, 70) : rng_pct(r, 25))) {
            if (!strcmp(home, "KE") || !strcmp(home, "UG") || !strcmp(home, "ET") ||
                !strcmp(home, "TZ") || !strcmp(home, "BI")) {
                if (rng_pct(r, 50)) put(rec, g->transit, "AE");
            } else if (far && rng_pct(r, 25)) put(rec, g->transit, "MY");
            if (strcmp(home, "TH") && strcmp(final_cc, "TH")) put(rec, g->transit, "TH");
        } else if (!to_compound && rng_pct(r, 8) && strcmp(final_cc, "MY") && strcmp(home, "MY")) {
            put(rec, g->transit, "MY");
        }
    }

    put(rec, g->industry, IND_CODE[ind]);
    if (rng_pct(r, 85)) put_int(rec, g->months, ind == I_SCAM ? rng_range(r, 1, 18)
                                                            : rng_range(r, 1, 60));

    /* recruitment */
    static const wcode rm_scam[] = {{"online_job_ad", 45}, {"social_media", 33}, {"friend", 12},
                                    {"broker", 5}, {"family", 2}, {"unknown", 1}, {NULL, 2}};
    static const wcode rm_other[] = {{"online_job_ad", 12}, {"social_media", 12}, {"friend", 25},
                                     {"broker", 25}, {"family", 15}, {"other", 3}, {"unknown", 4},
                                     {NULL, 4}};
    const char *rm = ind == I_SCAM ? PICK(r, rm_scam) : PICK(r, rm_other);
    put(rec, g->rmethod, rm);
    if (rm && (!strcmp(rm, "online_job_ad") || !strcmp(rm, "social_media")) && rng_pct(r, 85)) {
        wcode pf[] = {{"facebook", 35}, {"telegram", 25}, {"whatsapp", 12}, {"tiktok", 12},
                      {"line", 2}, {"wechat", 2}, {"zalo", 2}, {"job_website", 8}, {"other", 2}};
        if (!strcmp(home, "VN")) pf[6].w = 25;
        if (!strcmp(home, "TH") || !strcmp(home, "LA")) pf[4].w = 20;
        if (!strcmp(home, "CN")) pf[5].w = 40;
        int k = rng_pct(r, 65) ? 1 : rng_pct(r, 75) ? 2 : 3;
        for (int j = 0; j < k; j++) put(rec, g->rplatform, PICK(r, pf));
    }
    if (rng_pct(r, 55) && g->promised >= 0) {
        static const char *const pj_scam[] = {"customer service", "data entry",
            "online marketing", "casino staff", "translator", "IT support", "sales agent"};
        static const char *const pj_other[] = {"factory work", "restaurant work", "cleaner",
            "farm work", "construction work", "nanny", "waitress", "fishing crew"};
        put(rec, g->promised, ind == I_SCAM ? pj_scam[rng_below(r, N(pj_scam))]
                                            : pj_other[rng_below(r, N(pj_other))]);
    }

    /* control */
    int ransom = 0;
    if (g->control >= 0 && rng_pct(r, 92)) {
        static const char *const cm[] = {"confinement", "documents_confiscated", "quotas_penalties",
            "physical_violence", "threats", "debt_bondage", "sold", "ransom", "wages_withheld",
            "sexual_abuse", "other"};
        static const unsigned p_scam[] = {80, 60, 70, 50, 60, 30, 20, 22, 40, 5, 3};
        static const unsigned p_other[] = {30, 45, 10, 30, 50, 45, 8, 3, 45, 15, 5};
        const unsigned *p = ind == I_SCAM ? p_scam : p_other;
        size_t added = 0;
        for (size_t k = 0; k < N(cm); k++) {
            unsigned pk = p[k];
            if (k == 6 && nplaces > 1) pk = 70;       /* moved between compounds */
            if (k == 9 && ind == I_SEX) pk = 60;
            if (rng_pct(r, pk)) {
                put(rec, g->control, cm[k]);
                added++;
                if (k == 7) ransom = 1;
            }
        }
        if (!added) put(rec, g->control, "threats");
    }
    int paid = 0;
    if (ransom && rng_pct(r, 85)) {
        static const wcode cur[] = {{"USD", 60}, {"THB", 18}, {"VND", 12}, {"CNY", 6}, {"MYR", 4}};
        const char *c = PICK(r, cur);
        double amt;
        if (!strcmp(c, "USD")) amt = 500.0 * rng_range(r, 4, 30);
        else if (!strcmp(c, "THB")) amt = 10000.0 * rng_range(r, 5, 50);
        else if (!strcmp(c, "VND")) amt = 10000000.0 * rng_range(r, 5, 30);
        else if (!strcmp(c, "CNY")) amt = 1000.0 * rng_range(r, 10, 80);
        else amt = 1000.0 * rng_range(r, 5, 40);
        put_dec(rec, g->rd_amount, amt);
        put(rec, g->rd_cur, c);
        if (rng_pct(r, 50)) {
            paid = 1;
            put_dec(rec, g->rp_amount, rng_pct(r, 60) ? amt : amt / 2);
            put(rec, g->rp_cur, c);
        }
    }
    static const wcode ex_scam[] = {{"rescued", 25}, {"escaped", 20}, {"raid", 20}, {"deported", 15},
                                    {"released_other", 10}, {"other", 2}, {"unknown", 5}, {NULL, 3}};
    static const wcode ex_other[] = {{"rescued", 30}, {"escaped", 30}, {"raid", 10}, {"deported", 8},
                                     {"released_other", 10}, {"other", 4}, {"unknown", 5}, {NULL, 3}};
    put(rec, g->exit_method, paid && rng_pct(r, 80) ? "released_ransom"
                             : ind == I_SCAM ? PICK(r, ex_scam) : PICK(r, ex_other));

    /* indicators: ~20% of cases, 1-3 each, a third from the shared pool */
    if (g->indicators >= 0 && rng_pct(r, 20)) {
        int k = rng_pct(r, 60) ? 1 : rng_pct(r, 65) ? 2 : 3;
        for (int j = 0; j < k; j++) {
            indic own;
            const indic *ind_x;
            if (rng_pct(r, 35)) ind_x = &g->pool[rng_below(r, POOL_N)];
            else { make_indicator(r, &own); ind_x = &own; }
            int dup = 0;
            const rec_group *ig = &rec->groups[g->indicators];
            const cb_field *igf = &g->cb->fields[g->indicators];
            for (size_t q = 0; q < ig->nrows && g->in_value >= 0; q++) {
                const cb_cell *c = &ig->cells[q * igf->nsub + (size_t)g->in_value];
                if (c->text && !strcmp(c->text, ind_x->value)) dup = 1;
            }
            if (dup) continue;
            size_t row = rec->groups[g->indicators].nrows;
            gput(rec, g->indicators, row, g->in_type, ind_x->type);
            gput(rec, g->indicators, row, g->in_value, sp_arena_strdup(&rec->arena, ind_x->value));
            gput(rec, g->indicators, row, g->in_chain, ind_x->chain);
            gput(rec, g->indicators, row, g->in_platform, ind_x->platform);
            gput(rec, g->indicators, row, g->in_role, ind_x->role);
        }
    }
}

/* ---- the hub */
int demo_fill(sp_store *s, const sp_codebook *cb, long long nrecords, uint64_t seed,
              sp_err *err)
{
    demo_gen *g = NULL;
    long long org_id[N(ORGS)], sub_id[N(ORGS)], rows[N(ORGS)] = {0};
    sp_record rec;
    int rc, in_tx = 0, rec_init = 0;

    if (nrecords < 0) {
        return sp_err_add(err, NULL, 0, NULL, NULL, 0, "bad-count",
                          "the number of demo records must be 0 or more");
    }
    rc = demo_gen_new(&g, cb, seed, err);
    if (rc) return rc;
    record_init(&rec, cb);
    rec_init = 1;
    rc = store_begin(s);
    if (rc) {
        sp_err_add(err, NULL, 0, NULL, NULL, 0, "store", "cannot start a transaction: %s",
                   store_errmsg(s));
        goto done;
    }
    in_tx = 1;
    for (size_t k = 0; k < N(ORGS); k++) {
        rc = store_org_add(s, ORGS[k].o.name, ORGS[k].o.country, &org_id[k]);
        if (rc == SP_EEXIST) {
            sp_org o;
            memset(&o, 0, sizeof o);
            rc = store_org_find(s, ORGS[k].o.name, &o);
            org_id[k] = o.id;
            if (rc == SP_OK) store_org_free(&o);
        }
        if (rc) {
            sp_err_add(err, NULL, 0, NULL, ORGS[k].o.name, strlen(ORGS[k].o.name), "store",
                       "cannot add the demo organisation: %s", store_errmsg(s));
            goto done;
        }
        /* the hash names what was generated, so the same demo twice is
         * recognised as a duplicate submission */
        char desc[160], hex[65];
        snprintf(desc, sizeof desc, "spotlight demo v1|%s|seed=%llu|n=%lld|codebook=%s",
                 ORGS[k].o.code, (unsigned long long)seed, nrecords, cb->version ? cb->version : "");
        sp_sha256_hex(desc, strlen(desc), hex);
        long long prev;
        rc = store_submission_find_sha(s, org_id[k], hex, &prev);
        if (rc == SP_OK) {
            rc = SP_EEXIST;
            sp_err_add(err, NULL, 0, NULL, NULL, 0, "duplicate-submission",
                       "demo data with seed %llu and %lld records is already in this hub "
                       "(submission %lld); use another seed", (unsigned long long)seed,
                       nrecords, prev);
            goto done;
        }
        if (rc != SP_EOF) {
            sp_err_add(err, NULL, 0, NULL, NULL, 0, "store", "cannot look up submissions: %s",
                       store_errmsg(s));
            goto done;
        }
        rc = store_submission_add(s, org_id[k], "demo (synthetic)", hex, 1, &sub_id[k]);
        if (rc) {
            sp_err_add(err, NULL, 0, NULL, NULL, 0, "store", "cannot add the demo submission: %s",
                       store_errmsg(s));
            goto done;
        }
    }
    for (long long i = 0; i < nrecords; i++) {
        size_t k;
        long long rid;
        demo_gen_record(g, i, &rec, &k);
        rec.row = i + 2;
        rc = store_record_add(s, sub_id[k], org_id[k], &rec, 1, &rid);
        if (rc) {
            sp_err_add(err, NULL, i + 2, NULL, NULL, 0, "store",
                       "cannot store demo record %lld: %s", i + 1, store_errmsg(s));
            goto done;
        }
        rows[k]++;
    }
    for (size_t k = 0; k < N(ORGS); k++) {
        rc = store_submission_set_rows(s, sub_id[k], rows[k]);
        if (rc) {
            sp_err_add(err, NULL, 0, NULL, NULL, 0, "store", "cannot count demo rows: %s",
                       store_errmsg(s));
            goto done;
        }
    }
    rc = store_commit(s);
    if (rc)
        sp_err_add(err, NULL, 0, NULL, NULL, 0, "store", "cannot commit the demo data: %s",
                   store_errmsg(s));
    in_tx = rc != 0;   /* a failed COMMIT leaves the transaction open */
done:
    if (in_tx) store_rollback(s);
    if (rec_init) record_free(&rec);
    demo_gen_free(g);
    return rc;
}

/* ---- CSV */
typedef struct {
    FILE *f;
    char buf[1 << 16];
    size_t n;
    int failed;
} outbuf;

static void ob_flush(outbuf *o)
{
    if (o->n && !o->failed && fwrite(o->buf, 1, o->n, o->f) != o->n) o->failed = 1;
    o->n = 0;
}
static void ob_add(outbuf *o, const char *s, size_t n)
{
    if (o->n + n > sizeof o->buf) ob_flush(o);
    if (n > sizeof o->buf) {
        if (!o->failed && fwrite(s, 1, n, o->f) != n) o->failed = 1;
        return;
    }
    memcpy(o->buf + o->n, s, n);
    o->n += n;
}
static void ob_csv(outbuf *o, const char *s, size_t n)
{
    int q = n && (s[0] == ' ' || s[n - 1] == ' ');
    for (size_t i = 0; i < n && !q; i++)
        q = s[i] == ',' || s[i] == '"' || s[i] == '\n' || s[i] == '\r';
    if (!q) { ob_add(o, s, n); return; }
    ob_add(o, "\"", 1);
    size_t start = 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] == '"') {
            ob_add(o, s + start, i - start + 1);
            ob_add(o, "\"", 1);
            start = i + 1;
        }
    ob_add(o, s + start, n - start);
    ob_add(o, "\"", 1);
}

int demo_write_csv(FILE *out, const sp_codebook *cb, long long nrecords, uint64_t seed,
                   sp_err *err)
{
    demo_gen *g = NULL;
    sp_layout l;
    sp_record rec;
    sp_buf cell;
    int rc;
    if (nrecords < 0)
        return sp_err_add(err, NULL, 0, NULL, NULL, 0, "bad-count",
                          "the number of demo records must be 0 or more");
    rc = demo_gen_new(&g, cb, seed, err);
    if (rc) return rc;
    outbuf *o = sp_xmalloc(sizeof *o);
    o->f = out;
    o->n = 0;
    o->failed = 0;
    layout_build(&l, cb, 1);
    record_init(&rec, cb);
    sp_buf_init(&cell, 1 << 20);
    for (size_t c = 0; c < l.ncols; c++) {
        if (c) ob_add(o, ",", 1);
        ob_csv(o, l.cols[c].name, strlen(l.cols[c].name));
    }
    ob_add(o, "\n", 1);
    for (long long i = 0; i < nrecords && !o->failed; i++) {
        size_t k;
        demo_gen_record(g, i, &rec, &k);
        for (size_t c = 0; c < l.ncols; c++) {
            if (c) ob_add(o, ",", 1);
            rc = layout_cell_text(&l, c, &rec, &cell);
            if (rc) {
                sp_err_add(err, NULL, i + 2, l.cols[c].name, NULL, 0, "cell-too-long",
                           "a demo cell exceeds the cell cap");
                goto done;
            }
            ob_csv(o, cell.data ? cell.data : "", cell.len);
        }
        ob_add(o, "\n", 1);
    }
    ob_flush(o);
    if (!o->failed && fflush(out) != 0) o->failed = 1;
    if (o->failed) {
        rc = SP_EIO;
        sp_err_add(err, NULL, 0, NULL, NULL, 0, "write-failed", "cannot write the demo CSV");
    }
done:
    sp_buf_free(&cell);
    record_free(&rec);
    layout_free(&l);
    free(o);
    demo_gen_free(g);
    return rc;
}
