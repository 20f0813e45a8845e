/* geo.c -- decodes the embedded boundary files (format "spotlight-geo 1",
 * written by scripts/geo/build.js) into lon/lat rings, and looks units up
 * by code. Everything a sp_geo holds lives in one arena, freed at once. */
#include "geo.h"
#include "embed.h"

#include <jansson.h>
#include <math.h>
#include <string.h>
#include <stdlib.h>
#include <ctype.h>

#define GEO_MAX_FEATURES 20000
#define GEO_MAX_POINTS   4000000   /* all layers together */
#define GEO_MAX_TEXT     (16u << 20)

typedef struct geo_layer {
    geo_feature *f;
    size_t n, alloc;
    sp_map index;              /* code -> position */
} geo_layer;

struct sp_geo {
    geo_layer layer[3];        /* GEO_WORLD, GEO_REGION, provinces */
    sp_arena arena;
    size_t points;
};

#define LAYER_PROV 2

static void layer_init(geo_layer *l) { memset(l, 0, sizeof *l); sp_map_init(&l->index); }

void geo_free(sp_geo *g)
{
    if (!g) return;
    for (int i = 0; i < 3; i++) { free(g->layer[i].f); sp_map_free(&g->layer[i].index); }
    sp_arena_free(&g->arena);
    free(g);
}

/* Reads a number array of exactly n entries into out. */
static int num_array(json_t *a, double *out, size_t n)
{
    if (!json_is_array(a) || json_array_size(a) != n) return -1;
    for (size_t i = 0; i < n; i++) {
        json_t *v = json_array_get(a, i);
        if (!json_is_number(v)) return -1;
        out[i] = json_number_value(v);
        if (!isfinite(out[i])) return -1;
    }
    return 0;
}

static size_t upper_copy(char *dst, size_t cap, const char *s)
{
    size_t i = 0;
    for (; s[i] && i + 1 < cap; i++) dst[i] = (char)toupper((unsigned char)s[i]);
    dst[i] = 0;
    return i;
}

/* Decodes one feature's rings; the deltas are integers in quanta. */
static int decode_rings(sp_geo *g, geo_feature *f, json_t *rings, const double sc[2],
                        const double tr[2], const char *where, sp_err *err)
{
    size_t nr = json_array_size(rings);
    geo_ring *rs = sp_arena_alloc(&g->arena, (nr ? nr : 1) * sizeof *rs);
    size_t kept = 0;
    double area = 0;
    for (size_t r = 0; r < nr; r++) {
        json_t *ring = json_array_get(rings, r);
        size_t nv = json_array_size(ring);
        if (!json_is_array(ring) || nv < 6 || nv % 2)
            return sp_err_add(err, where, 0, "rings", f->code, strlen(f->code), "geo-ring",
                              "ring %zu must be an even list of at least 3 points", r);
        size_t np = nv / 2;
        if (g->points + np + 1 > GEO_MAX_POINTS)
            return sp_err_add(err, where, 0, "rings", NULL, 0, "geo-limit",
                              "more than %d points in all", GEO_MAX_POINTS);
        geo_pt *pts = sp_arena_alloc(&g->arena, (np + 1) * sizeof *pts);
        long long x = 0, y = 0;
        for (size_t i = 0; i < np; i++) {
            json_t *jx = json_array_get(ring, 2 * i), *jy = json_array_get(ring, 2 * i + 1);
            if (!json_is_integer(jx) || !json_is_integer(jy))
                return sp_err_add(err, where, 0, "rings", f->code, strlen(f->code), "geo-ring",
                                  "ring %zu holds a value that is not an integer", r);
            long long dx = json_integer_value(jx), dy = json_integer_value(jy);
            if (llabs(dx) > 100000000LL || llabs(dy) > 100000000LL)
                return sp_err_add(err, where, 0, "rings", f->code, strlen(f->code), "geo-range",
                                  "ring %zu jumps too far", r);
            x = i ? x + dx : dx;
            y = i ? y + dy : dy;
            double lon = tr[0] + (double)x * sc[0], lat = tr[1] + (double)y * sc[1];
            if (lon < -180.001 || lon > 180.001 || lat < -90.001 || lat > 90.001)
                return sp_err_add(err, where, 0, "rings", f->code, strlen(f->code), "geo-range",
                                  "ring %zu leaves the globe (%.3f, %.3f)", r, lon, lat);
            pts[i].lon = lon; pts[i].lat = lat;
        }
        if (pts[np - 1].lon != pts[0].lon || pts[np - 1].lat != pts[0].lat) pts[np++] = pts[0];
        double a = 0, mlat = 0;
        for (size_t i = 0; i + 1 < np; i++) {
            a += (pts[i].lon - pts[i + 1].lon) * (pts[i].lat + pts[i + 1].lat);
            mlat += pts[i].lat;
        }
        mlat /= (double)(np - 1);
        area += fabs(a / 2) * cos(mlat * M_PI / 180);
        rs[kept].pts = pts; rs[kept].n = np; kept++;
        g->points += np;
    }
    f->rings = rs; f->nrings = kept; f->area = area;
    return SP_OK;
}

/* Parses one file into the layer (countries: 0/1, provinces: 2). */
static int load_text(sp_geo *g, const sp_gazetteer *gz, int li, const char *text,
                     const char *where, sp_err *err)
{
    json_error_t je;
    int rc = SP_EINPUT;
    size_t tlen = strlen(text);
    if (tlen > GEO_MAX_TEXT)
        return sp_err_add(err, where, 0, NULL, NULL, 0, "geo-limit", "boundary file larger than %u bytes", GEO_MAX_TEXT);
    json_t *root = json_loadb(text, tlen, 0, &je);
    if (!root)
        return sp_err_add(err, where, je.line, NULL, NULL, 0, "geo-json", "not JSON: %s", je.text);
    json_t *fmt = json_object_get(root, "format"), *level = json_object_get(root, "level");
    json_t *feats = json_object_get(root, "features");
    double sc[2], tr[2];
    const char *want = li == LAYER_PROV ? "province" : "country";
    if (!json_is_string(fmt) || strcmp(json_string_value(fmt), "spotlight-geo 1") != 0) {
        sp_err_add(err, where, 0, "format", NULL, 0, "geo-format", "format must be \"spotlight-geo 1\"");
        goto done;
    }
    if (!json_is_string(level) || strcmp(json_string_value(level), want) != 0) {
        sp_err_add(err, where, 0, "level", NULL, 0, "geo-format", "level must be \"%s\" here", want);
        goto done;
    }
    if (num_array(json_object_get(root, "scale"), sc, 2) || num_array(json_object_get(root, "translate"), tr, 2)
        || sc[0] <= 0 || sc[1] <= 0 || sc[0] > 1 || sc[1] > 1 || !json_is_array(feats)) {
        sp_err_add(err, where, 0, "scale", NULL, 0, "geo-format", "needs scale, translate and features");
        goto done;
    }
    geo_layer *L = &g->layer[li];
    size_t nf = json_array_size(feats);
    if (L->n + nf > GEO_MAX_FEATURES) {
        sp_err_add(err, where, 0, "features", NULL, 0, "geo-limit", "more than %d features", GEO_MAX_FEATURES);
        goto done;
    }
    if (L->n + nf > L->alloc) {
        L->alloc = L->n + nf;
        L->f = sp_xrealloc(L->f, L->alloc * sizeof *L->f);
    }
    for (size_t i = 0; i < nf; i++) {
        json_t *jf = json_array_get(feats, i);
        json_t *id = json_object_get(jf, "id"), *name = json_object_get(jf, "name");
        json_t *rings = json_object_get(jf, "rings");
        geo_feature *f = &L->f[L->n];
        memset(f, 0, sizeof *f);
        double lab[2];
        if (!json_is_string(id) || !json_is_string(name) || !json_is_array(rings)
            || num_array(json_object_get(jf, "bbox"), f->bbox, 4) || num_array(json_object_get(jf, "label"), lab, 2)) {
            sp_err_add(err, where, 0, "features", NULL, 0, "geo-format",
                       "feature %zu needs id, name, bbox, label and rings", i);
            goto done;
        }
        f->label.lon = lab[0]; f->label.lat = lab[1];
        const char *ids = json_string_value(id);
        const char *nm = json_string_value(name);
        if (li == LAYER_PROV) {
            const gz_province *p = gz ? gazetteer_province(gz, NULL, ids, strlen(ids)) : NULL;
            if (strlen(ids) >= sizeof f->code || strlen(ids) < 4 || ids[2] != '-') {
                sp_err_add(err, where, 0, "id", ids, strlen(ids), "geo-code", "not an ISO 3166-2 code");
                goto done;
            }
            upper_copy(f->code, sizeof f->code, ids);
            memcpy(f->country, f->code, 2);
            f->name = p ? p->name : sp_arena_strdup(&g->arena, nm);
        } else {
            /* world-atlas ids are ISO 3166-1 numeric; units without one
             * ("name:...") are drawn as context but cannot be looked up */
            const gz_country *c = gz && strncmp(ids, "name:", 5) != 0
                                  ? gazetteer_country(gz, ids, strlen(ids)) : NULL;
            if (c) {
                memcpy(f->code, c->alpha2, 3);
                memcpy(f->country, c->alpha2, 3);
                f->name = c->common_name ? c->common_name : c->name;
            } else {
                f->name = sp_arena_strdup(&g->arena, nm);
            }
        }
        if ((rc = decode_rings(g, f, rings, sc, tr, where, err)) != SP_OK) goto done;
        rc = SP_EINPUT;
        if (f->nrings == 0) continue;   /* nothing to draw */
        int dummy;
        if (f->code[0] && !sp_map_get(&L->index, f->code, strlen(f->code), &dummy))
            sp_map_put(&L->index, f->code, strlen(f->code), (int)L->n);
        L->n++;
    }
    rc = SP_OK;
done:
    json_decref(root);
    return rc;
}

int geo_load_texts(sp_geo **out, const sp_gazetteer *gz, const char *world,
                   const char *region, const char *const *provinces,
                   size_t nprovinces, sp_err *err)
{
    int rc = SP_OK;
    sp_geo *g = sp_xcalloc(1, sizeof *g);
    sp_arena_init(&g->arena);
    for (int i = 0; i < 3; i++) layer_init(&g->layer[i]);
    *out = NULL;
    if (world && (rc = load_text(g, gz, GEO_WORLD, world, "geo/countries-world.json", err))) goto done;
    if (region && (rc = load_text(g, gz, GEO_REGION, region, "geo/countries-asia.json", err))) goto done;
    for (size_t i = 0; i < nprovinces; i++)
        if (provinces[i] && (rc = load_text(g, gz, LAYER_PROV, provinces[i], "geo/provinces", err))) goto done;
done:
    if (rc) geo_free(g); else *out = g;
    return rc;
}

int geo_load(sp_geo **out, const sp_gazetteer *gz, sp_err *err)
{
    size_t len;
    const char *w = embed_get("geo/countries-world.json", &len);
    const char *r = embed_get("geo/countries-asia.json", &len);
    const char *p[2] = { embed_get("geo/provinces.json", &len), embed_get("geo/provinces-la.json", &len) };
    *out = NULL;
    if (!w || !r || !p[0] || !p[1])
        return sp_err_add(err, "geo", 0, NULL, NULL, 0, "geo-missing",
                          "boundary files are not embedded in this binary (see the Makefile's EMBEDDED list)");
    return geo_load_texts(out, gz, w, r, p, 2, err);
}

static const geo_feature *layer_get(const geo_layer *L, const char *code)
{
    char key[8];
    int pos;
    if (!code || strlen(code) >= sizeof key) return NULL;
    size_t n = upper_copy(key, sizeof key, code);
    if (!n || !sp_map_get(&L->index, key, n, &pos)) return NULL;
    return &L->f[pos];
}

const geo_feature *geo_country(const sp_geo *g, const char *alpha2, geo_detail d)
{
    const geo_feature *f = NULL;
    if (!g) return NULL;
    if (d == GEO_REGION) f = layer_get(&g->layer[GEO_REGION], alpha2);
    return f ? f : layer_get(&g->layer[GEO_WORLD], alpha2);
}

size_t geo_ncountries(const sp_geo *g, geo_detail d) { return g ? g->layer[d == GEO_REGION].n : 0; }

const geo_feature *geo_country_at(const sp_geo *g, geo_detail d, size_t i)
{
    const geo_layer *L = &g->layer[d == GEO_REGION];
    return i < L->n ? &L->f[i] : NULL;
}

const geo_feature *geo_province(const sp_geo *g, const char *code)
{
    return g ? layer_get(&g->layer[LAYER_PROV], code) : NULL;
}

size_t geo_nprovinces(const sp_geo *g) { return g ? g->layer[LAYER_PROV].n : 0; }

const geo_feature *geo_province_at(const sp_geo *g, size_t i)
{
    return i < g->layer[LAYER_PROV].n ? &g->layer[LAYER_PROV].f[i] : NULL;
}

int geo_has_provinces(const sp_geo *g, const char *alpha2)
{
    if (!g || !alpha2 || strlen(alpha2) != 2) return 0;
    const geo_layer *L = &g->layer[LAYER_PROV];
    for (size_t i = 0; i < L->n; i++)
        if (toupper((unsigned char)alpha2[0]) == L->f[i].country[0]
            && toupper((unsigned char)alpha2[1]) == L->f[i].country[1]) return 1;
    return 0;
}

static int cmp_prov(const void *a, const void *b)
{
    return strcmp((*(const gz_province *const *)a)->code, (*(const gz_province *const *)b)->code);
}

size_t geo_missing_provinces(const sp_geo *g, const sp_gazetteer *gz, const gz_province ***out)
{
    sp_map total, drawn;
    size_t np = gazetteer_nprovinces(gz), n = 0;
    char key[160];
    sp_map_init(&total); sp_map_init(&drawn);
    *out = NULL;
    /* pass 1: per (country, type), how many codes and how many drawn */
    for (size_t i = 0; i < np; i++) {
        const gz_province *p = gazetteer_province_at(gz, i);
        if (!p->country || !geo_has_provinces(g, p->country->alpha2)) continue;
        int k = snprintf(key, sizeof key, "%s|%s", p->country->alpha2, p->type ? p->type : "");
        if (k < 0 || (size_t)k >= sizeof key) continue;
        int v = 0;
        sp_map_get(&total, key, (size_t)k, &v); sp_map_put(&total, key, (size_t)k, v + 1);
        v = 0;
        if (geo_province(g, p->code)) { sp_map_get(&drawn, key, (size_t)k, &v); sp_map_put(&drawn, key, (size_t)k, v + 1); }
    }
    const gz_province **list = sp_xmalloc((np ? np : 1) * sizeof *list);
    for (size_t i = 0; i < np; i++) {
        const gz_province *p = gazetteer_province_at(gz, i);
        if (!p->country || !geo_has_provinces(g, p->country->alpha2) || geo_province(g, p->code)) continue;
        int k = snprintf(key, sizeof key, "%s|%s", p->country->alpha2, p->type ? p->type : "");
        if (k < 0 || (size_t)k >= sizeof key) continue;
        int t = 0, d = 0;
        sp_map_get(&total, key, (size_t)k, &t);
        sp_map_get(&drawn, key, (size_t)k, &d);
        if (2 * d >= t || t <= 2) list[n++] = p;
    }
    qsort(list, n, sizeof *list, cmp_prov);
    sp_map_free(&total); sp_map_free(&drawn);
    if (n == 0) { free(list); return 0; }
    *out = list;
    return n;
}
