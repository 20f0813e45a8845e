/* map.c -- projections, framing, clipping and the four map kinds of map.h.
 *
 * Pipeline for every map: pick a projection for the frame, fit the focus
 * (a lon/lat box) into the viewBox with padding, then draw layers back to
 * front: neutral context countries, shaded units, outlines, flows or
 * circles, labels, legend, credit. Rings are projected, clipped to the
 * frame (Sutherland-Hodgman) and written as integer relative path
 * coordinates, dropping points that fall on the same pixel: a province
 * map of mainland Southeast Asia stays well under 150 KB. */
#include "map.h"
#include "svg.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <ctype.h>

#define DEG (M_PI / 180.0)
#define PAD 12.0
#define LEGEND_H 46.0
#define LEGEND_ROW 18.0
#define CONTEXT_FILL "#E6E4DF"
#define LAND_EDGE "#FFFFFF"
#define FLOW_COLOR "#D55E00"
#define SPOT_COLOR "#D55E00"
#define MAX_LABELS 40

/* ---- projections. raw() gives x east, y north in unit-sphere units. */
enum { PJ_EQUALEARTH, PJ_LCC, PJ_MERC };
typedef struct proj {
    int kind;
    double lon0, n, F, rho0;   /* LCC constants */
    double k, ox, oy;          /* screen = (ox + k x, oy - k y) */
} proj;

static double wrap_dlon(double dl)
{
    while (dl > 180) dl -= 360;
    while (dl < -180) dl += 360;
    return dl;
}

static void raw_l(const proj *p, double l, double lat, double *x, double *y)
{
    double f = lat * DEG;
    if (p->kind == PJ_EQUALEARTH) {
        /* Šavrič, Patterson & Jenny (2018) */
        const double A1 = 1.340264, A2 = -0.081106, A3 = 0.000893, A4 = 0.003796;
        double th = asin(sqrt(3.0) / 2 * sin(f)), t2 = th * th, t6 = t2 * t2 * t2;
        *x = 2 * sqrt(3.0) * l * cos(th) / (3 * (A1 + 3 * A2 * t2 + t6 * (7 * A3 + 9 * A4 * t2)));
        *y = th * (A1 + A2 * t2 + t6 * (A3 + A4 * t2));
    } else if (p->kind == PJ_LCC) {
        if (lat < -80) f = -80 * DEG;
        if (lat > 85) f = 85 * DEG;
        double rho = p->F / pow(tan(M_PI / 4 + f / 2), p->n);
        *x = rho * sin(p->n * l);
        *y = p->rho0 - rho * cos(p->n * l);
    } else {
        if (lat > 85) f = 85 * DEG;
        if (lat < -85) f = -85 * DEG;
        *x = l;
        *y = log(tan(M_PI / 4 + f / 2));
    }
}

static void raw(const proj *p, double lon, double lat, double *x, double *y)
{
    raw_l(p, wrap_dlon(lon - p->lon0) * DEG, lat, x, y);
}

/* lon taken as it is (a ring already unwrapped around lon0) */
static void project_nowrap(const proj *p, double lon, double lat, double *sx, double *sy)
{
    double x, y;
    raw_l(p, (lon - p->lon0) * DEG, lat, &x, &y);
    *sx = p->ox + p->k * x;
    *sy = p->oy - p->k * y;
}

static void project(const proj *p, double lon, double lat, double *sx, double *sy)
{
    double x, y;
    raw(p, lon, lat, &x, &y);
    *sx = p->ox + p->k * x;
    *sy = p->oy - p->k * y;
}

/* Chooses the projection for a focus box: Equal Earth for the world, a
 * conic with standard parallels at 1/6 and 5/6 of the box otherwise
 * (Mercator when they sit about the equator, where a conic degenerates). */
static void proj_choose(proj *p, const double box[4], int world)
{
    memset(p, 0, sizeof *p);
    if (world) { p->kind = PJ_EQUALEARTH; return; }
    p->lon0 = (box[0] + box[2]) / 2;
    double f1 = box[1] + (box[3] - box[1]) / 6, f2 = box[3] - (box[3] - box[1]) / 6;
    if (fabs(f1 + f2) / 2 < 4) { p->kind = PJ_MERC; return; }
    p->kind = PJ_LCC;
    double a = f1 * DEG, b = f2 * DEG;
    if (fabs(f1 - f2) < 0.5)
        p->n = sin(a);
    else
        p->n = log(cos(a) / cos(b)) / log(tan(M_PI / 4 + b / 2) / tan(M_PI / 4 + a / 2));
    p->F = cos(a) * pow(tan(M_PI / 4 + a / 2), p->n) / p->n;
    double mid = (box[1] + box[3]) / 2 * DEG;
    p->rho0 = p->F / pow(tan(M_PI / 4 + mid / 2), p->n);
}

/* ---- a map being drawn */
typedef struct scene {
    svg_doc d;
    sp_buf *b;
    proj p;
    double w, h, maph;         /* viewBox, map area height (legend below) */
    double view[4];            /* lon/lat box beyond which nothing is drawn */
    geo_detail det;
    const sp_geo *g;
    const char *unit;
    double lbox[MAX_LABELS][4];
    int nlbox;
    char supfill[SVG_ID_MAX + 16]; /* "url(#ID-sup)": the hatch of suppressed units */
    int supk;                  /* k of a suppressed unit drawn (legend entry); 0: none */
} scene;

/* Suppression (privacy.h): a map_value whose count is negative is a count
 * hidden for privacy. The map draws it hatched with the tooltip
 * "<k records" and never a number; k is -count when that is 2 or more
 * (callers pass -k), else 10. Flows and places with a count <= 0 are not
 * drawn at all. */
static int sup_k(long long v)
{
    return v <= -2 && v >= -1000 ? (int)-v : 10;
}

/* Adds one map_value's count to a unit's value: a suppressed one makes
 * the whole unit suppressed (its number is never summed into anything). */
static void acc_value(long long *v, int *has, long long x)
{
    if (*v < 0) return;
    if (x < 0) { *v = x; *has = 1; return; }
    *v += x;
    *has |= x > 0;
}

static void put(scene *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(scene *s, const char *fmt, ...)
{
    if (s->d.rc) return;
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (k < 0 || (size_t)k >= sizeof tmp) { s->d.rc = SP_ENOMEM; return; }
    int rc = sp_buf_add(s->b, tmp, (size_t)k);
    if (rc) s->d.rc = rc;
}

static void put_esc(scene *s, const char *t)
{
    if (s->d.rc || !t) return;
    int rc = sp_buf_add_htmls(s->b, t);
    if (rc) s->d.rc = rc;
}

/* "1,234" or the plain number */
static const char *fmt_count(long long v, char out[32]) { svg_fmt_int(v, out); return out; }

/* Fits box (lon/lat) into the frame; sets height when not given. */
static void fit(scene *s, const double box[4], double want_h, double max_aspect, int legend)
{
    double minx = 1e300, miny = 1e300, maxx = -1e300, maxy = -1e300;
    for (int i = 0; i <= 16; i++)
        for (int j = 0; j <= 16; j++) {
            double lon = box[0] + (box[2] - box[0]) * i / 16, lat = box[1] + (box[3] - box[1]) * j / 16;
            double x, y;
            raw(&s->p, lon, lat, &x, &y);
            minx = fmin(minx, x); maxx = fmax(maxx, x);
            miny = fmin(miny, y); maxy = fmax(maxy, y);
        }
    double dx = maxx - minx, dy = maxy - miny;
    if (dx < 1e-9) dx = 1e-9;
    if (dy < 1e-9) dy = 1e-9;
    /* a narrow map's legend may need a second row (legend_classes) */
    double lh = legend ? LEGEND_H + (s->w < 640 ? LEGEND_ROW : 0) : 0;
    if (want_h > 0) s->maph = want_h - lh;
    else {
        s->maph = (s->w - 2 * PAD) * dy / dx + 2 * PAD;
        if (s->maph < s->w * 0.4) s->maph = s->w * 0.4;
        if (s->maph > s->w * max_aspect) s->maph = s->w * max_aspect;
    }
    if (s->maph < 60) s->maph = 60;
    s->h = s->maph + lh;
    double k1 = (s->w - 2 * PAD) / dx, k2 = (s->maph - 2 * PAD) / dy;
    s->p.k = k1 < k2 ? k1 : k2;
    s->p.ox = s->w / 2 - s->p.k * (minx + maxx) / 2;
    s->p.oy = s->maph / 2 + s->p.k * (miny + maxy) / 2;
    /* what may be drawn: the focus widened generously (clipping trims) */
    double ex = (box[2] - box[0]) * 0.8 + 5, ey = (box[3] - box[1]) * 0.8 + 5;
    s->view[0] = box[0] - ex; s->view[1] = box[1] - ey;
    s->view[2] = box[2] + ex; s->view[3] = box[3] + ey;
    if (s->p.kind == PJ_EQUALEARTH) { s->view[0] = -181; s->view[2] = 181; s->view[1] = -60; s->view[3] = 90; }
}

static int in_view(const scene *s, const geo_feature *f)
{
    return !(f->bbox[2] < s->view[0] || f->bbox[0] > s->view[2]
             || f->bbox[3] < s->view[1] || f->bbox[1] > s->view[3]);
}

/* Sutherland-Hodgman against one edge; returns the new count. */
static size_t clip_edge(const double *in, size_t n, double *out, int edge, double v)
{
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        const double *a = in + 2 * ((i + n - 1) % n), *b = in + 2 * i;
        double ca = edge < 2 ? a[edge & 1] : a[edge & 1], cb = b[edge & 1];
        int ina = edge < 2 ? ca >= v : ca <= v, inb = edge < 2 ? cb >= v : cb <= v;
        if (inb) {
            if (!ina) {
                double t = (v - ca) / (cb - ca);
                out[2 * m] = a[0] + t * (b[0] - a[0]); out[2 * m + 1] = a[1] + t * (b[1] - a[1]);
                if (edge & 1) out[2 * m + 1] = v; else out[2 * m] = v;
                m++;
            }
            out[2 * m] = b[0]; out[2 * m + 1] = b[1]; m++;
        } else if (ina) {
            double t = (v - ca) / (cb - ca);
            out[2 * m] = a[0] + t * (b[0] - a[0]); out[2 * m + 1] = a[1] + t * (b[1] - a[1]);
            if (edge & 1) out[2 * m + 1] = v; else out[2 * m] = v;
            m++;
        }
    }
    return m;
}

/* Writes the "d" data of a feature (projected, clipped, pixel-thinned).
 * Returns the number of rings written (0: nothing visible). */
static int feature_path(scene *s, const geo_feature *f, double *area_px)
{
    int written = 0;
    double m = 3;              /* clip a little outside so edges stay hidden */
    double lim[4] = { -m, -m, s->w + m, s->maph + m };
    *area_px = 0;
    for (size_t r = 0; r < f->nrings && !s->d.rc; r++) {
        const geo_ring *ring = &f->rings[r];
        size_t n = ring->n;
        /* Sutherland-Hodgman adds at most one point per edge and pass */
        double *a = malloc((2 * n + 16) * 2 * sizeof *a), *bb = malloc((2 * n + 16) * 2 * sizeof *bb);
        if (!a || !bb) { free(a); free(bb); s->d.rc = SP_ENOMEM; return written; }
        double minx = 1e300, maxx = -1e300, miny = 1e300, maxy = -1e300;
        size_t k = 0;
        /* rings that cross the antimeridian (world-atlas keeps them whole,
         * Fiji, Chukotka) are unwrapped so that no edge jumps across the
         * map; the part beyond the frame's edge is clipped */
        double prev = 0;
        for (size_t i = 0; i + 1 < n; i++) {
            double lon = ring->pts[i].lon;
            if (i == 0) lon = s->p.lon0 + wrap_dlon(lon - s->p.lon0);
            else {
                while (lon - prev > 180) lon -= 360;
                while (lon - prev < -180) lon += 360;
            }
            prev = lon;
            project_nowrap(&s->p, lon, ring->pts[i].lat, &a[2 * k], &a[2 * k + 1]);
            minx = fmin(minx, a[2 * k]); maxx = fmax(maxx, a[2 * k]);
            miny = fmin(miny, a[2 * k + 1]); maxy = fmax(maxy, a[2 * k + 1]);
            k++;
        }
        if (maxx < lim[0] || minx > lim[2] || maxy < lim[1] || miny > lim[3]
            || (maxx - minx < 1.2 && maxy - miny < 1.2 && f->nrings > 1)) { free(a); free(bb); continue; }
        if (minx < lim[0] || maxx > lim[2] || miny < lim[1] || maxy > lim[3]) {
            k = clip_edge(a, k, bb, 0, lim[0]);   /* x >= left */
            k = clip_edge(bb, k, a, 1, lim[1]);   /* y >= top */
            k = clip_edge(a, k, bb, 2, lim[2]);   /* x <= right */
            k = clip_edge(bb, k, a, 3, lim[3]);   /* y <= bottom */
        }
        long px = 0, py = 0;
        size_t out = 0;
        double ar = 0;
        for (size_t i = 0; i < k; i++) {
            long x = lround(a[2 * i]), y = lround(a[2 * i + 1]);
            ar += a[2 * i] * a[2 * ((i + 1) % k) + 1] - a[2 * ((i + 1) % k)] * a[2 * i + 1];
            if (out == 0) { put(s, "M%ld %ld", x, y); out = 1; }
            else if (x != px || y != py) { put(s, "%s%ld %ld", out == 1 ? "l" : " ", x - px, y - py); out++; }
            else continue;
            px = x; py = y;
        }
        if (out) { put(s, "z"); written++; }
        *area_px += fabs(ar) / 2;
        free(a); free(bb);
    }
    return written;
}

/* One filled shape with a tooltip; nothing is written when invisible. */
static int shape(scene *s, const geo_feature *f, const char *fill, const char *stroke,
                 double sw, const char *tooltip, double *area_px)
{
    double ap = 0;
    if (!f || !in_view(s, f)) return 0;
    size_t mark = s->b->len;
    put(s, "<path d=\"");
    int n = feature_path(s, f, &ap);
    if (area_px) *area_px = ap;
    if (!n) {                   /* roll back an empty path */
        if (!s->d.rc) { s->b->len = mark; s->b->data[mark] = 0; }
        return 0;
    }
    put(s, "\" fill=\"%s\" fill-rule=\"evenodd\"", fill);
    if (stroke) put(s, " stroke=\"%s\" stroke-width=\"%.2g\" stroke-linejoin=\"round\"", stroke, sw);
    if (tooltip) { put(s, "><title>"); put_esc(s, tooltip); put(s, "</title></path>\n"); }
    else put(s, "/>\n");
    return 1;
}

/* "Name (CODE): 1,234 records" */
static void tip(char *out, size_t cap, const geo_feature *f, const char *name, const char *code,
                long long v, int has, const char *unit)
{
    char c[32];
    const char *nm = f ? f->name : name;
    const char *cd = f && f->code[0] ? f->code : code;
    if (v < 0) snprintf(out, cap, "%s (%s): <%d %s (hidden for privacy)", nm ? nm : "?", cd ? cd : "?",
                        sup_k(v), unit);
    else if (has) snprintf(out, cap, "%s (%s): %s %s", nm ? nm : "?", cd ? cd : "?", fmt_count(v, c), unit);
    else snprintf(out, cap, "%s (%s): no %s", nm ? nm : "?", cd ? cd : "?", unit);
}

/* A label with a white halo; skipped when it would overlap one placed. */
static void label(scene *s, double x, double y, double size, int bold, const char *text)
{
    if (!text || x < 0 || x > s->w || y < 0 || y > s->maph) return;
    double wdt = (double)svg_utf8_len(text, strlen(text)) * size * 0.55 + 4, hh = size + 2;
    double bx[4] = { x - wdt / 2, y - hh + 2, x + wdt / 2, y + 3 };
    if (bx[0] < 0 || bx[2] > s->w) return;
    for (int i = 0; i < s->nlbox; i++)
        if (!(bx[2] < s->lbox[i][0] || bx[0] > s->lbox[i][2] || bx[3] < s->lbox[i][1] || bx[1] > s->lbox[i][3]))
            return;
    if (s->nlbox < MAX_LABELS) memcpy(s->lbox[s->nlbox++], bx, sizeof bx);
    else return;
    put(s, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"%.0f\" text-anchor=\"middle\"%s fill=\"%s\" "
        "stroke=\"#FFFFFF\" stroke-width=\"3\" stroke-linejoin=\"round\" paint-order=\"stroke\">",
        x, y, size, bold ? " font-weight=\"bold\"" : "", SVG_INK);
    put_esc(s, text);
    put(s, "</text>\n");
}

/* Neutral context: every country in view (the layer fitting the frame). */
static void context(scene *s)
{
    put(s, "<rect width=\"%.0f\" height=\"%.0f\" fill=\"#F4F8FB\"/>\n", s->w, s->maph);
    put(s, "<g class=\"map-context\">\n");
    size_t n = geo_ncountries(s->g, s->det);
    for (size_t i = 0; i < n; i++) {
        const geo_feature *f = geo_country_at(s->g, s->det, i);
        shape(s, f, CONTEXT_FILL, LAND_EDGE, 0.8, f->name, NULL);
    }
    put(s, "</g>\n");
}

/* A country's outline on top of its provinces. */
static void outline(scene *s, const geo_feature *f, const char *color, double sw)
{
    if (!f || !in_view(s, f)) return;
    size_t mark = s->b->len;
    double ap;
    put(s, "<path d=\"");
    if (!feature_path(s, f, &ap)) { if (!s->d.rc) { s->b->len = mark; s->b->data[mark] = 0; } return; }
    put(s, "\" fill=\"none\" stroke=\"%s\" stroke-width=\"%.2g\" stroke-linejoin=\"round\"/>\n", color, sw);
}

static const geo_feature *country(const scene *s, const char *a2) { return geo_country(s->g, a2, s->det); }

static void credit(scene *s, int osm)
{
    put(s, "<text x=\"%.0f\" y=\"%.0f\" font-size=\"9\" text-anchor=\"end\" fill=\"%s\">Boundaries: Natural Earth%s</text>\n",
        s->w - 4, s->maph - 4, SVG_INK_MUTED, osm ? "; Laos \xC2\xA9 OpenStreetMap contributors, geoBoundaries" : "");
}

/* ---- classes */
typedef struct classes { int n; long long lo[8], hi[8]; } classes;

static int cmp_ll(const void *a, const void *b)
{
    long long x = *(const long long *)a, y = *(const long long *)b;
    return (x > y) - (x < y);
}

/* Quantile classes over the positive values (each class a closed integer
 * range, no empty or overlapping class); distinct values <= k give one
 * class each. */
static void make_classes(classes *c, const long long *v, size_t n, int k)
{
    memset(c, 0, sizeof *c);
    long long *t = malloc((n ? n : 1) * sizeof *t);
    size_t m = 0;
    if (!t) return;
    for (size_t i = 0; i < n; i++) if (v[i] > 0) t[m++] = v[i];
    if (!m) { free(t); return; }
    qsort(t, m, sizeof *t, cmp_ll);
    long long prev = 0;
    for (int j = 1; j <= k && c->n < k; j++) {
        size_t idx = (size_t)((double)m * j / k + 0.5);
        if (idx < 1) idx = 1;
        if (idx > m) idx = m;
        long long hi = t[idx - 1];
        if (hi <= prev) continue;
        c->lo[c->n] = prev + 1; c->hi[c->n] = hi; c->n++;
        prev = hi;
    }
    c->lo[0] = t[0];
    free(t);
}

static const char *class_color(const classes *c, long long v)
{
    if (v <= 0 || c->n == 0) return SVG_NODATA;   /* suppressed: see unit_color */
    int k = c->n - 1;
    for (int i = 0; i < c->n; i++) if (v <= c->hi[i]) { k = i; break; }
    if (c->n >= 3) return svg_seq_class_color(k, c->n);
    return svg_seq_color(c->n == 1 ? 0.6 : (k ? 0.85 : 0.4));
}

/* A unit's fill: its class, or the hatch when its count is suppressed
 * (remembered for the legend). */
static const char *unit_color(scene *s, const classes *c, long long v)
{
    if (v >= 0) return class_color(c, v);
    s->supk = sup_k(v);
    return s->supfill;
}

static void legend_classes(scene *s, const classes *c, const char *what, double sw)
{
    double y = s->maph + 8, x = PAD;
    char a[32], b[32], t[96];
    put(s, "<g class=\"map-legend\">\n");
    put(s, "<text x=\"%.0f\" y=\"%.0f\" font-size=\"11\" fill=\"%s\">", x, y + 9, SVG_INK);
    put_esc(s, what);
    put(s, "</text>\n");
    /* a suppressed unit drawn: one more entry in the same width */
    int last = c->n + (s->supk ? 1 : 0);
    double step = (sw + 6) * (c->n + 1) / (last + 1), xx = x - step, row = 0;
    for (int i = 0; i <= last; i++) {
        xx += step;
        const char *col = i < c->n ? class_color(c, c->hi[i]) : i == c->n ? SVG_NODATA : s->supfill;
        if (i < c->n) {
            if (c->lo[i] == c->hi[i]) snprintf(t, sizeof t, "%s", fmt_count(c->hi[i], a));
            else snprintf(t, sizeof t, "%s\xE2\x80\x93%s", fmt_count(c->lo[i], a), fmt_count(c->hi[i], b));
        } else if (i == c->n) snprintf(t, sizeof t, "no data");
        else snprintf(t, sizeof t, "<%d (hidden)", s->supk);
        /* an entry that would run past the edge starts a second row (a
         * narrow map has room for it: fit) */
        double need = 22 + (double)svg_utf8_len(t, strlen(t)) * 5.6;
        if (xx + need > s->w - PAD / 2 && xx > x && row == 0 && s->w < 640) { xx = x; row = LEGEND_ROW; }
        put(s, "<rect x=\"%.0f\" y=\"%.0f\" width=\"18\" height=\"12\" fill=\"%s\" stroke=\"#999999\" stroke-width=\"0.5\"/>",
            xx, y + 16 + row, col);
        put(s, "<text x=\"%.0f\" y=\"%.0f\" font-size=\"10\">", xx + 22, y + 26 + row);
        put_esc(s, t);
        put(s, "</text>\n");
    }
    put(s, "</g>\n");
}

static void opts_defaults(const map_opts *o, map_opts *d)
{
    memset(d, 0, sizeof *d);
    if (o) *d = *o;
    if (d->width <= 0) d->width = 800;
    if (d->classes <= 0) d->classes = 5;
    if (d->classes < 2) d->classes = 2;
    if (d->classes > 7) d->classes = 7;
    if (d->labels == 0) d->labels = 8;
    if (!d->unit) d->unit = "records";
}

static void box_add(double box[4], double w, double so, double e, double n)
{
    if (w < box[0]) box[0] = w;
    if (so < box[1]) box[1] = so;
    if (e > box[2]) box[2] = e;
    if (n > box[3]) box[3] = n;
}

static void box_add_feature(double box[4], const geo_feature *f)
{
    if (!f) return;
    if (f->bbox[2] - f->bbox[0] > 180) return;  /* wraps the antimeridian: no help framing */
    box_add(box, f->bbox[0], f->bbox[1], f->bbox[2], f->bbox[3]);
}

static const double SEA_BOX[4] = { 92.2, 5.6, 109.5, 28.5 };

/* Starts a scene: chooses frame and projection, opens the <svg>. */
static int scene_begin(scene *s, sp_buf *out, const sp_geo *g, const map_opts *o,
                       double box[4], int legend, const char *title, const char *desc)
{
    memset(s, 0, sizeof *s);
    s->b = out; s->g = g; s->w = o->width; s->unit = o->unit;
    int world = o->frame == MAP_FRAME_WORLD;
    if (o->frame == MAP_FRAME_SEA || box[0] > box[2]) memcpy(box, SEA_BOX, sizeof SEA_BOX);
    else if (o->frame == MAP_FRAME_AUTO) {
        /* a single point or tiny unit: at least 4 degrees around it */
        double cx = (box[0] + box[2]) / 2, cy = (box[1] + box[3]) / 2;
        if (box[2] - box[0] < 4) { box[0] = cx - 2; box[2] = cx + 2; }
        if (box[3] - box[1] < 4) { box[1] = cy - 2; box[3] = cy + 2; }
        if (box[2] - box[0] > 150 || box[3] - box[1] > 100) world = 1;
    }
    if (world) { box[0] = -180; box[1] = -56; box[2] = 180; box[3] = 84; }
    proj_choose(&s->p, box, world);
    fit(s, box, o->height, o->max_aspect > 0 ? o->max_aspect : 0.8, legend);
    s->det = (!world && s->view[0] >= 40 && s->view[2] <= 160 && s->view[1] >= -20 && s->view[3] <= 60)
             ? GEO_REGION : GEO_WORLD;
    int rc = svg_begin(&s->d, out, o->id ? o->id : "map", s->w, s->h, title, desc);
    if (!rc) {
        char id[SVG_ID_MAX + 8];
        svg_id(&s->d, "sup", id, sizeof id);
        snprintf(s->supfill, sizeof s->supfill, "url(#%s)", id);
        rc = svg_def_hatch(&s->d, "sup", "#A39DB8", SVG_NODATA);
    }
    return rc;
}

/* ---- 1. choropleth */
int map_choropleth(sp_buf *out, const sp_geo *g, const map_opts *o_in,
                   const map_value *cv, size_t nc, const char *const *pcs, size_t npc,
                   const map_value *pv, size_t np)
{
    map_opts o;
    scene s;
    char t[400], desc[600];
    if (!out || !g || (nc && !cv) || (np && !pv) || (npc && !pcs)) return SP_EUSAGE;
    opts_defaults(o_in, &o);
    /* focus: shaded countries and the countries whose provinces are shown */
    double box[4] = { 1e9, 1e9, -1e9, -1e9 };
    long long total = 0;
    size_t undrawn = 0, shaded = 0;
    long long *vals = sp_xmalloc((nc + np + 1) * sizeof *vals);
    size_t nv = 0;
    for (size_t i = 0; i < npc; i++) box_add_feature(box, geo_country(g, pcs[i], GEO_REGION));
    for (size_t i = 0; i < nc; i++) {
        const geo_feature *f = geo_country(g, cv[i].code, GEO_REGION);
        if (cv[i].count > 0) { total += cv[i].count; vals[nv++] = cv[i].count; }
        if (!f) { undrawn++; continue; }
        if (cv[i].count > 0) { box_add_feature(box, f); shaded++; }
    }
    for (size_t i = 0; i < np; i++) {
        const geo_feature *f = geo_province(g, pv[i].code);
        if (pv[i].count > 0) { total += pv[i].count; vals[nv++] = pv[i].count; }
        if (!f) { undrawn++; continue; }
        if (pv[i].count > 0) { box_add_feature(box, f); shaded++; }
    }
    classes c;
    make_classes(&c, vals, nv, o.classes);
    free(vals);
    char tot[32];
    if (o.desc) snprintf(desc, sizeof desc, "%s", o.desc);
    else if (!total) snprintf(desc, sizeof desc, "Map with no data: no %s to show.", o.unit);
    else snprintf(desc, sizeof desc, "Choropleth map: %zu units shaded by number of %s (%s in all), in %d classes; %zu codes without a boundary not drawn.",
                  shaded, o.unit, fmt_count(total, tot), c.n, undrawn);
    int rc = scene_begin(&s, out, g, &o, box, 1, o.title ? o.title : "Records by place", desc);
    if (rc) return svg_end(&s.d);
    context(&s);
    /* shaded countries (all countries in view that have a value) */
    typedef struct lab { const geo_feature *f; double a; } lab;
    lab labs[64];
    int nl = 0;
    put(&s, "<g class=\"map-units\">\n");
    for (size_t i = 0; i < nc; i++) {
        const geo_feature *f = country(&s, cv[i].code);
        if (!f) continue;
        int provs_shown = 0;
        for (size_t j = 0; j < npc; j++) if (pcs[j] && sp_streq_nocase(pcs[j], f->code)) provs_shown = 1;
        if (provs_shown) continue;
        tip(t, sizeof t, f, NULL, NULL, cv[i].count, cv[i].count > 0, o.unit);
        double ap = 0;
        if (shape(&s, f, unit_color(&s, &c, cv[i].count), LAND_EDGE, 0.8, t, &ap) && cv[i].count > 0 && nl < 64)
            labs[nl++] = (lab){ f, ap };
    }
    /* provinces of the chosen countries: every province drawn, no data grey */
    size_t npr = geo_nprovinces(g);
    for (size_t j = 0; j < npc; j++) {
        for (size_t i = 0; i < npr; i++) {
            const geo_feature *f = geo_province_at(g, i);
            if (!pcs[j] || !sp_streq_nocase(pcs[j], f->country)) continue;
            long long v = 0;
            int has = 0;
            for (size_t k = 0; k < np; k++)
                if (pv[k].code && sp_streq_nocase(pv[k].code, f->code)) acc_value(&v, &has, pv[k].count);
            tip(t, sizeof t, f, NULL, NULL, v, has, o.unit);
            double ap = 0;
            if (shape(&s, f, unit_color(&s, &c, v), LAND_EDGE, 0.5, t, &ap) && v > 0 && nl < 64)
                labs[nl++] = (lab){ f, ap };
        }
        outline(&s, country(&s, pcs[j]), "#666666", 0.9);
    }
    put(&s, "</g>\n");
    /* labels for the largest shaded units */
    for (int i = 0; i < nl; i++)
        for (int j = i + 1; j < nl; j++)
            if (labs[j].a > labs[i].a) { lab x = labs[i]; labs[i] = labs[j]; labs[j] = x; }
    put(&s, "<g class=\"map-labels\">\n");
    for (int i = 0; i < nl && i < o.labels; i++) {
        double x, y;
        project(&s.p, labs[i].f->label.lon, labs[i].f->label.lat, &x, &y);
        label(&s, x, y + 4, 10, 0, labs[i].f->name);
    }
    put(&s, "</g>\n");
    snprintf(t, sizeof t, "Number of %s", o.unit);
    legend_classes(&s, &c, t, 86);
    int osm = 0;
    for (size_t j = 0; j < npc; j++) if (pcs[j] && sp_streq_nocase(pcs[j], "LA")) osm = 1;
    credit(&s, osm);
    return svg_end(&s.d);
}

/* ---- flows (routes and destination maps) */
typedef struct endpoint { double lon, lat; const char *name; const char *sub; int ok; } endpoint;

/* Point of a place: the province's label point, else the country's. */
static endpoint place_point(const sp_geo *g, const char *country_code, const char *prov)
{
    endpoint e = { 0, 0, NULL, NULL, 0 };
    const geo_feature *p = prov && *prov ? geo_province(g, prov) : NULL;
    const geo_feature *c = country_code && *country_code ? geo_country(g, country_code, GEO_REGION) : NULL;
    if (!c && p) c = geo_country(g, p->country, GEO_REGION);
    if (p) { e.lon = p->label.lon; e.lat = p->label.lat; e.ok = 1; }
    else if (c) { e.lon = c->label.lon; e.lat = c->label.lat; e.ok = 1; }
    e.name = c ? c->name : (country_code ? country_code : "?");
    e.sub = p ? p->name : NULL;
    return e;
}

static void flow_name(char *out, size_t cap, const endpoint *e)
{
    if (e->sub && e->name) snprintf(out, cap, "%s (%s)", e->name, e->sub);
    else snprintf(out, cap, "%s", e->name ? e->name : "?");
}

typedef struct fl { endpoint a, b; long long n; size_t idx; } fl;

static int cmp_fl_desc(const void *x, const void *y)
{
    long long a = ((const fl *)x)->n, b = ((const fl *)y)->n;
    return (a < b) - (a > b);
}

static double flow_width(long long n, long long max)
{
    double w = max > 0 ? 14.0 * (double)n / (double)max : 1;
    return w < 1.2 ? 1.2 : w;
}

/* Draws flows (sorted thickest first so thin ones stay on top), then a
 * width legend at x0 in the legend strip. */
static void draw_flows(scene *s, fl *f, size_t n, double lx)
{
    char t[640], a[200], b[200], c[32];
    long long max = 0;
    qsort(f, n, sizeof *f, cmp_fl_desc);
    if (n) max = f[0].n;
    put(s, "<g class=\"map-flows\" fill=\"none\" stroke=\"%s\" stroke-linecap=\"round\">\n", FLOW_COLOR);
    for (size_t i = 0; i < n; i++) {
        double x0, y0, x2, y2;
        project(&s->p, f[i].a.lon, f[i].a.lat, &x0, &y0);
        project(&s->p, f[i].b.lon, f[i].b.lat, &x2, &y2);
        double dx = x2 - x0, dy = y2 - y0, len = sqrt(dx * dx + dy * dy);
        double w = flow_width(f[i].n, max);
        flow_name(a, sizeof a, &f[i].a);
        flow_name(b, sizeof b, &f[i].b);
        if (f[i].a.sub && f[i].b.sub == NULL && f[i].a.name && f[i].b.name && strcmp(f[i].a.name, f[i].b.name) != 0)
            snprintf(a, sizeof a, "%s", f[i].a.sub);      /* "Nghệ An → Cambodia" */
        else if (f[i].a.sub && f[i].a.name && f[i].b.name && strcmp(f[i].a.name, f[i].b.name) != 0)
            snprintf(a, sizeof a, "%s", f[i].a.sub);
        snprintf(t, sizeof t, "%s \xE2\x86\x92 %s: %s %s", a, b, fmt_count(f[i].n, c), s->unit);
        if (len < 4) {           /* same point: a ring instead of a line */
            put(s, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"%.1f\" stroke-width=\"%.1f\" stroke-opacity=\"0.8\"><title>",
                x0, y0, 3 + w / 2, w / 2 > 1 ? w / 2 : 1);
            put_esc(s, t);
            put(s, "</title></circle>\n");
            continue;
        }
        /* control point: bend to the left by a fifth of the length */
        double cx = (x0 + x2) / 2 - dy * 0.2, cy = (y0 + y2) / 2 + dx * 0.2;
        double tx = x2 - cx, ty = y2 - cy, tl = sqrt(tx * tx + ty * ty);
        if (tl < 1e-9) tl = 1;
        tx /= tl; ty /= tl;
        double head = 5 + w * 1.2;
        if (head > len / 3) head = len / 3;
        double ex = x2 - tx * head * 0.8, ey = y2 - ty * head * 0.8;
        put(s, "<g><title>");
        put_esc(s, t);
        put(s, "</title><path d=\"M%.1f %.1fQ%.1f %.1f %.1f %.1f\" stroke-width=\"%.1f\" stroke-opacity=\"0.75\"/>",
            x0, y0, cx, cy, ex, ey, w);
        double nx = -ty, ny = tx, hw = head * 0.55 + w / 2;
        put(s, "<path d=\"M%.1f %.1fL%.1f %.1fL%.1f %.1fz\" fill=\"%s\" stroke=\"none\"/></g>\n",
            x2, y2, x2 - tx * head + nx * hw, y2 - ty * head + ny * hw,
            x2 - tx * head - nx * hw, y2 - ty * head - ny * hw, FLOW_COLOR);
    }
    put(s, "</g>\n");
    if (!n) return;
    /* width legend: largest, middle, smallest */
    long long samples[3] = { f[0].n, (f[0].n + f[n - 1].n) / 2, f[n - 1].n };
    int ns = f[0].n == f[n - 1].n ? 1 : 3;
    double y = s->maph + 8;
    put(s, "<g class=\"map-legend\"><text x=\"%.0f\" y=\"%.0f\" font-size=\"11\">", lx, y + 9);
    snprintf(t, sizeof t, "Flows (%s)", s->unit);
    put_esc(s, t);
    put(s, "</text>\n");
    for (int i = 0; i < ns; i++) {
        double xx = lx + i * 90, w = flow_width(samples[i], max);
        put(s, "<line x1=\"%.0f\" y1=\"%.0f\" x2=\"%.0f\" y2=\"%.0f\" stroke=\"%s\" stroke-width=\"%.1f\" stroke-opacity=\"0.75\"/>",
            xx, y + 24, xx + 30, y + 24, FLOW_COLOR, w);
        put(s, "<text x=\"%.0f\" y=\"%.0f\" font-size=\"10\">%s</text>\n", xx + 36, y + 28, fmt_count(samples[i], c));
    }
    put(s, "</g>\n");
}

/* Shades the provinces of one country by values; returns labels placed. */
static void shade_provinces(scene *s, const char *cc, const map_value *v, size_t nv, const classes *c,
                            const map_opts *o, int nlabels)
{
    char t[400];
    size_t npr = geo_nprovinces(s->g);
    const geo_feature *best[16];
    long long bestv[16];
    int nb = 0;
    put(s, "<g class=\"map-units\">\n");
    for (size_t i = 0; i < npr; i++) {
        const geo_feature *f = geo_province_at(s->g, i);
        if (!sp_streq_nocase(cc, f->country)) continue;
        long long val = 0;
        int has = 0;
        for (size_t k = 0; k < nv; k++)
            if (v[k].code && sp_streq_nocase(v[k].code, f->code)) acc_value(&val, &has, v[k].count);
        tip(t, sizeof t, f, NULL, NULL, val, has, o->unit);
        if (shape(s, f, unit_color(s, c, val), LAND_EDGE, 0.5, t, NULL) && val > 0) {
            /* keep the top values for labels */
            int pos = nb < nlabels && nb < 16 ? nb++ : -1;
            if (pos < 0) {
                int lo = 0;
                for (int j = 1; j < nb; j++) if (bestv[j] < bestv[lo]) lo = j;
                if (nb && bestv[lo] < val) pos = lo;
            }
            if (pos >= 0) { best[pos] = f; bestv[pos] = val; }
        }
    }
    outline(s, country(s, cc), "#555555", 1);
    put(s, "</g>\n<g class=\"map-labels\">\n");
    for (int i = 0; i < nb; i++)
        for (int j = i + 1; j < nb; j++)
            if (bestv[j] > bestv[i]) {
                const geo_feature *x = best[i]; best[i] = best[j]; best[j] = x;
                long long y = bestv[i]; bestv[i] = bestv[j]; bestv[j] = y;
            }
    for (int i = 0; i < nb; i++) {
        double x, y;
        project(&s->p, best[i]->label.lon, best[i]->label.lat, &x, &y);
        label(s, x, y + 4, 10, 0, best[i]->name);
    }
    put(s, "</g>\n");
}

/* ---- 2. routes */
int map_routes(sp_buf *out, const sp_geo *g, const map_opts *o_in, const char *oc,
               const map_value *ov, size_t nov, const map_flow *fw, size_t nf)
{
    map_opts o;
    scene s;
    char desc[600], tot[32];
    if (!out || !g || (nov && !ov) || (nf && !fw)) return SP_EUSAGE;
    opts_defaults(o_in, &o);
    double box[4] = { 1e9, 1e9, -1e9, -1e9 };
    box_add_feature(box, oc ? geo_country(g, oc, GEO_REGION) : NULL);
    fl *f = sp_xmalloc((nf + 1) * sizeof *f);
    size_t n = 0, skipped = 0;
    long long total = 0;
    for (size_t i = 0; i < nf; i++) {
        if (fw[i].count <= 0) continue;
        endpoint a = place_point(g, fw[i].from_country, fw[i].from_province);
        endpoint b = place_point(g, fw[i].to_country, fw[i].to_province);
        if (!a.ok || !b.ok) { skipped++; continue; }
        f[n].a = a; f[n].b = b; f[n].n = fw[i].count; f[n].idx = i; n++;
        total += fw[i].count;
        box_add(box, a.lon - 0.5, a.lat - 0.5, a.lon + 0.5, a.lat + 0.5);
        box_add(box, b.lon - 0.5, b.lat - 0.5, b.lon + 0.5, b.lat + 0.5);
        if (fw[i].to_province && *fw[i].to_province) box_add_feature(box, geo_province(g, fw[i].to_province));
    }
    long long *vals = sp_xmalloc((nov + 1) * sizeof *vals);
    for (size_t i = 0; i < nov; i++) vals[i] = ov[i].count;
    classes c;
    make_classes(&c, vals, nov, o.classes);
    free(vals);
    if (o.desc) snprintf(desc, sizeof desc, "%s", o.desc);
    else if (!n) snprintf(desc, sizeof desc, "Map of routes with no data: no %s with a known origin and destination.", o.unit);
    else snprintf(desc, sizeof desc, "Routes: %zu flows (%s %s) from provinces of origin to places of exploitation; line width by count; %zu flows without a known place not drawn.",
                  n, fmt_count(total, tot), o.unit, skipped);
    int rc = scene_begin(&s, out, g, &o, box, 1, o.title ? o.title : "Routes", desc);
    if (rc) { free(f); return svg_end(&s.d); }
    context(&s);
    if (oc && geo_has_provinces(g, oc)) shade_provinces(&s, oc, ov, nov, &c, &o, o.labels < 0 ? 0 : o.labels / 2);
    else outline(&s, oc ? country(&s, oc) : NULL, "#555555", 1);
    /* destinations outlined: provinces, and countries without a province */
    put(&s, "<g class=\"map-destinations\">\n");
    for (size_t i = 0; i < n; i++) {
        const map_flow *m = &fw[f[i].idx];
        if (m->to_province && *m->to_province) outline(&s, geo_province(g, m->to_province), "#7A2E00", 1.2);
        else if (!oc || !m->to_country || !sp_streq_nocase(oc, m->to_country))
            outline(&s, country(&s, m->to_country), "#7A2E00", 1.2);
    }
    put(&s, "</g>\n");
    draw_flows(&s, f, n, PAD);
    /* destination labels: the largest flows */
    for (size_t i = 0; i < n && (int)i < (o.labels < 0 ? 0 : o.labels); i++) {
        double x, y;
        project(&s.p, f[i].b.lon, f[i].b.lat, &x, &y);
        label(&s, x, y - 8, 10, 1, f[i].b.sub ? f[i].b.sub : f[i].b.name);
    }
    if (c.n) {
        double y = s.maph + 8;
        put(&s, "<g class=\"map-legend\"><text x=\"%.0f\" y=\"%.0f\" font-size=\"11\">Origin (%s)</text>", s.w / 2, y + 9, "shaded");
        for (int i = 0; i < c.n; i++) {
            char a[32], b[40];
            put(&s, "<rect x=\"%.0f\" y=\"%.0f\" width=\"14\" height=\"10\" fill=\"%s\"/>", s.w / 2 + i * 60, y + 17, class_color(&c, c.hi[i]));
            if (c.lo[i] == c.hi[i]) b[0] = 0; else { b[0] = '\xE2'; b[1] = '\x80'; b[2] = '\x93'; svg_fmt_int(c.hi[i], b + 3); }
            put(&s, "<text x=\"%.0f\" y=\"%.0f\" font-size=\"9\">%s%s</text>", s.w / 2 + i * 60 + 16, y + 26,
                fmt_count(c.lo[i], a), b);
        }
        put(&s, "</g>\n");
    }
    credit(&s, oc && sp_streq_nocase(oc, "LA"));
    free(f);
    return svg_end(&s.d);
}

/* ---- 3. hotspots */
typedef struct spot { double lon, lat; long long n; const char *name; const char *where; int group, k, of; } spot;

static int cmp_spot_desc(const void *x, const void *y)
{
    long long a = ((const spot *)x)->n, b = ((const spot *)y)->n;
    return (a < b) - (a > b);
}

int map_hotspots(sp_buf *out, const sp_geo *g, const map_opts *o_in, const map_place *pl, size_t np)
{
    map_opts o;
    scene s;
    char desc[600], t[400], c[32];
    if (!out || !g || (np && !pl)) return SP_EUSAGE;
    opts_defaults(o_in, &o);
    spot *sp = sp_xcalloc(np + 1, sizeof *sp);
    size_t n = 0, skipped = 0;
    long long total = 0, max = 0;
    double box[4] = { 1e9, 1e9, -1e9, -1e9 };
    for (size_t i = 0; i < np; i++) {
        if (pl[i].count <= 0) continue;
        endpoint e = place_point(g, pl[i].country, pl[i].province);
        if (!e.ok) { skipped++; continue; }
        sp[n].lon = e.lon; sp[n].lat = e.lat; sp[n].n = pl[i].count;
        sp[n].where = e.sub ? e.sub : e.name;
        sp[n].name = pl[i].locality && *pl[i].locality ? pl[i].locality : NULL;
        total += pl[i].count;
        if (pl[i].count > max) max = pl[i].count;
        box_add(box, e.lon - 2.5, e.lat - 2, e.lon + 2.5, e.lat + 2);
        n++;
    }
    /* fan: places sharing one anchor point */
    for (size_t i = 0; i < n; i++) {
        if (sp[i].of) continue;
        int cnt = 0;
        for (size_t j = i; j < n; j++)
            if (!sp[j].of && sp[j].lon == sp[i].lon && sp[j].lat == sp[i].lat) { sp[j].k = cnt++; sp[j].of = -1; }
        for (size_t j = i; j < n; j++)
            if (sp[j].of == -1 && sp[j].lon == sp[i].lon && sp[j].lat == sp[i].lat) sp[j].of = cnt;
    }
    qsort(sp, n, sizeof *sp, cmp_spot_desc);
    if (o.desc) snprintf(desc, sizeof desc, "%s", o.desc);
    else if (!n) snprintf(desc, sizeof desc, "Map of places of exploitation with no data: no %s with a known place.", o.unit);
    else snprintf(desc, sizeof desc, "Hotspots: %zu places of exploitation (%s %s), circle area proportional to count; %zu places without a known point not drawn.",
                  n, fmt_count(total, c), o.unit, skipped);
    int rc = scene_begin(&s, out, g, &o, box, 1, o.title ? o.title : "Places of exploitation", desc);
    if (rc) { free(sp); return svg_end(&s.d); }
    context(&s);
    double rmax = s.w / 28;
    put(&s, "<g class=\"map-spots\" fill=\"%s\" fill-opacity=\"0.6\" stroke=\"#FFFFFF\" stroke-width=\"1\">\n", SPOT_COLOR);
    double *px = sp_xmalloc((n + 1) * 2 * sizeof *px);
    for (size_t i = 0; i < n; i++) {
        double x, y;
        project(&s.p, sp[i].lon, sp[i].lat, &x, &y);
        double r = rmax * sqrt((double)sp[i].n / (double)max);
        if (r < 2.5) r = 2.5;
        if (sp[i].of > 1) {
            double ang = 2 * M_PI * sp[i].k / sp[i].of - M_PI / 2, d = 8 + rmax * 0.35;
            x += d * cos(ang); y += d * sin(ang);
        }
        px[2 * i] = x; px[2 * i + 1] = y;
        if (x < -r || x > s.w + r || y < -r || y > s.maph + r) continue;
        if (sp[i].name) snprintf(t, sizeof t, "%s (%s): %s %s", sp[i].name, sp[i].where, fmt_count(sp[i].n, c), o.unit);
        else snprintf(t, sizeof t, "%s: %s %s", sp[i].where, fmt_count(sp[i].n, c), o.unit);
        put(&s, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"%.1f\"><title>", x, y, r);
        put_esc(&s, t);
        put(&s, "</title></circle>\n");
    }
    put(&s, "</g>\n<g class=\"map-labels\">\n");
    for (size_t i = 0; i < n && (int)i < (o.labels < 0 ? 0 : o.labels); i++) {
        double r = rmax * sqrt((double)sp[i].n / (double)max);
        label(&s, px[2 * i], px[2 * i + 1] - (r < 2.5 ? 2.5 : r) - 3, 10, 1, sp[i].name ? sp[i].name : sp[i].where);
    }
    put(&s, "</g>\n");
    free(px);
    if (n) {                    /* size legend */
        double y = s.maph + 8;
        long long smp[2] = { max, max / 4 > 0 ? max / 4 : 1 };
        put(&s, "<g class=\"map-legend\"><text x=\"%.0f\" y=\"%.0f\" font-size=\"11\">", PAD, y + 9);
        snprintf(t, sizeof t, "Circle area: %s", o.unit);
        put_esc(&s, t);
        put(&s, "</text>");
        for (int i = 0; i < (max > 1 ? 2 : 1); i++) {
            double r = rmax * sqrt((double)smp[i] / (double)max);
            if (r > 14) r = 14;   /* legend strip is short: the count says the rest */
            put(&s, "<circle cx=\"%.0f\" cy=\"%.0f\" r=\"%.1f\" fill=\"%s\" fill-opacity=\"0.6\"/>", PAD + 170 + i * 110.0, y + 24, r, SPOT_COLOR);
            put(&s, "<text x=\"%.0f\" y=\"%.0f\" font-size=\"10\">%s%s</text>", PAD + 190 + i * 110.0, y + 28,
                fmt_count(smp[i], c), i == 0 ? " (largest)" : "");
        }
        put(&s, "</g>\n");
    }
    credit(&s, 0);
    free(sp);
    return svg_end(&s.d);
}

/* ---- 4. a country as destination */
int map_destination(sp_buf *out, const sp_geo *g, const map_opts *o_in, const char *cc,
                    const map_value *pv, size_t npv, const map_flow *fw, size_t nf)
{
    map_opts o;
    scene s;
    char desc[600], tot[32];
    if (!out || !g || !cc || (npv && !pv) || (nf && !fw)) return SP_EUSAGE;
    opts_defaults(o_in, &o);
    const geo_feature *cf = geo_country(g, cc, GEO_REGION);
    double box[4] = { 1e9, 1e9, -1e9, -1e9 };
    box_add_feature(box, cf);
    double cbox[4];
    memcpy(cbox, box, sizeof box);
    double ext = cf ? fmax(cf->bbox[2] - cf->bbox[0], cf->bbox[3] - cf->bbox[1]) * 0.3 + 1.5 : 10;
    fl *f = sp_xmalloc((nf + 1) * sizeof *f);
    size_t n = 0, skipped = 0;
    long long total = 0;
    for (size_t i = 0; i < nf; i++) {
        if (fw[i].count <= 0 || !fw[i].to_country || !sp_streq_nocase(fw[i].to_country, cc)) continue;
        endpoint a = place_point(g, fw[i].from_country, fw[i].from_province);
        endpoint b = place_point(g, fw[i].to_country, fw[i].to_province);
        if (!a.ok || !b.ok) { skipped++; continue; }
        /* far origins are drawn from the edge of a box around the country,
         * along the way they come from, so the frame stays on the country */
        if (cf) {
            double lo = cbox[0] - ext, hi = cbox[2] + ext, la = cbox[1] - ext, ha = cbox[3] + ext, t = 1;
            double dx = a.lon - b.lon, dy = a.lat - b.lat;
            if (a.lon < lo) t = fmin(t, (lo - b.lon) / dx);
            if (a.lon > hi) t = fmin(t, (hi - b.lon) / dx);
            if (a.lat < la) t = fmin(t, (la - b.lat) / dy);
            if (a.lat > ha) t = fmin(t, (ha - b.lat) / dy);
            if (t < 1 && t >= 0) { a.lon = b.lon + dx * t; a.lat = b.lat + dy * t; }
        }
        f[n].a = a; f[n].b = b; f[n].n = fw[i].count; f[n].idx = i; n++;
        total += fw[i].count;
        box_add(box, a.lon - 0.5, a.lat - 0.5, a.lon + 0.5, a.lat + 0.5);
    }
    long long *vals = sp_xmalloc((npv + 1) * sizeof *vals);
    long long ptotal = 0;
    for (size_t i = 0; i < npv; i++) { vals[i] = pv[i].count; if (pv[i].count > 0) ptotal += pv[i].count; }
    classes c;
    make_classes(&c, vals, npv, o.classes);
    free(vals);
    char title[200];
    snprintf(title, sizeof title, "Exploitation in %s", cf ? cf->name : cc);
    if (o.desc) snprintf(desc, sizeof desc, "%s", o.desc);
    else if (!ptotal && !n) snprintf(desc, sizeof desc, "Map of %s with no data: no %s.", cf ? cf->name : cc, o.unit);
    else snprintf(desc, sizeof desc, "Provinces of %s shaded by %s of exploitation (%s), with %zu inflows (%s %s) from abroad and from its own provinces; %zu flows without a known place not drawn.",
                  cf ? cf->name : cc, o.unit, fmt_count(ptotal, tot), n, fmt_count(total, title + 150), o.unit, skipped);
    int rc = scene_begin(&s, out, g, &o, box, 1, o.title ? o.title : title, desc);
    if (rc) { free(f); return svg_end(&s.d); }
    context(&s);
    if (geo_has_provinces(g, cc)) shade_provinces(&s, cc, pv, npv, &c, &o, o.labels < 0 ? 0 : o.labels);
    else {
        char t[300];
        tip(t, sizeof t, cf, cc, cc, ptotal, ptotal > 0, o.unit);
        shape(&s, cf ? country(&s, cc) : NULL, class_color(&c, ptotal), "#555555", 1, t, NULL);
    }
    draw_flows(&s, f, n, s.w * 0.62);
    /* where the largest flows come from, named at their start (a far
     * origin starts at the frame's edge: its label is kept inside) */
    put(&s, "<g class=\"map-labels map-origins\">\n");
    const char *named[MAX_LABELS];
    int nnamed = 0;
    for (size_t i = 0; i < n && nnamed < (o.labels < 0 ? 0 : o.labels) && nnamed < MAX_LABELS; i++) {
        const char *nm = f[i].a.sub ? f[i].a.sub : f[i].a.name;
        int seen = !nm;
        for (int j = 0; j < nnamed && !seen; j++) seen = strcmp(named[j], nm) == 0;
        if (seen) continue;
        named[nnamed++] = nm;
        double x, y, half = (double)svg_utf8_len(nm, strlen(nm)) * 10 * 0.55 / 2 + 3;
        project(&s.p, f[i].a.lon, f[i].a.lat, &x, &y);
        x = fmin(fmax(x, half + 1), s.w - half - 1);
        y = fmin(fmax(y + 4, 14), s.maph - 16);
        label(&s, x, y, 10, 1, nm);
    }
    put(&s, "</g>\n");
    char t[96];
    snprintf(t, sizeof t, "Exploitation (%s)", o.unit);
    legend_classes(&s, &c, t, s.w * 0.6 / (c.n + 1) - 6);
    credit(&s, sp_streq_nocase(cc, "LA"));
    free(f);
    return svg_end(&s.d);
}
