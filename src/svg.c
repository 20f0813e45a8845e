/* svg.c -- the SVG writer of svg.h: root element, groups, marks, text,
 * number formatting and the palettes. */
#include "svg.h"

#include <math.h>
#include <string.h>

const char *const svg_palette[SVG_NPALETTE] = {
    "#0072B2", "#E69F00", "#009E73", "#CC79A7",
    "#56B4E9", "#D55E00", "#F0E442", "#000000",
};

/* Records the first error; returns the sticky one. */
static int keep(svg_doc *d, int rc)
{
    if (rc && !d->rc) d->rc = rc;
    return d->rc;
}

static int adds(svg_doc *d, const char *s)
{
    if (d->rc) return d->rc;
    return keep(d, sp_buf_adds(d->b, s));
}

static int esc(svg_doc *d, const char *s)
{
    if (d->rc) return d->rc;
    return keep(d, sp_buf_add_htmls(d->b, s ? s : ""));
}

static int num(svg_doc *d, double v)
{
    if (d->rc) return d->rc;
    return keep(d, svg_num(d->b, v));
}

/* ` name="value"` with the value escaped; nothing when value is NULL. */
static int attr(svg_doc *d, const char *name, const char *value)
{
    if (!value) return d->rc;
    adds(d, " ");
    adds(d, name);
    adds(d, "=\"");
    esc(d, value);
    return adds(d, "\"");
}

static int attr_num(svg_doc *d, const char *name, double v)
{
    adds(d, " ");
    adds(d, name);
    adds(d, "=\"");
    num(d, v);
    return adds(d, "\"");
}

/* Closes a mark's start tag: "/>" or "><title>tip</title></tag>". */
static int finish(svg_doc *d, const char *tag, const char *tooltip)
{
    if (!tooltip) return adds(d, "/>");
    adds(d, "><title>");
    esc(d, tooltip);
    adds(d, "</title></");
    adds(d, tag);
    return adds(d, ">");
}

/* ------------------------------------------------------------ numbers */

int svg_num(sp_buf *b, double v)
{
    if (!isfinite(v)) return sp_buf_adds(b, "0");
    /* tenths as an integer: exact, locale-free, no trailing zeros */
    double r = round(v * 10.0);
    if (r > 9e15 || r < -9e15) return sp_buf_adds(b, "0");
    long long t = (long long)r;
    if (t == 0) return sp_buf_adds(b, "0");
    int neg = t < 0;
    unsigned long long a = neg ? (unsigned long long)(-(t + 1)) + 1 : (unsigned long long)t;
    if (a % 10 == 0)
        return sp_buf_printf(b, "%s%llu", neg ? "-" : "", a / 10);
    return sp_buf_printf(b, "%s%llu.%llu", neg ? "-" : "", a / 10, a % 10);
}

size_t svg_fmt_int(long long v, char out[32])
{
    char digits[24];
    unsigned long long a = v < 0 ? (unsigned long long)(-(v + 1)) + 1 : (unsigned long long)v;
    int nd = 0;
    do {
        digits[nd++] = (char)('0' + a % 10);
        a /= 10;
    } while (a);
    size_t k = 0;
    if (v < 0) out[k++] = '-';
    for (int i = nd - 1; i >= 0; i--) {
        out[k++] = digits[i];
        if (i > 0 && i % 3 == 0) out[k++] = ',';
    }
    out[k] = '\0';
    return k;
}

size_t svg_fmt_pct(double share, char out[16])
{
    if (isnan(share) || share < 0) {
        strcpy(out, "-");
        return 1;
    }
    if (share == 0) {
        strcpy(out, "0%");
        return 2;
    }
    if (share == 1) {
        strcpy(out, "100%");
        return 4;
    }
    double t = round(share * 1000.0);   /* tenths of a percent */
    if (t < 1) {
        strcpy(out, "<0.1%");
        return 5;
    }
    if (share < 1 && t >= 1000) {
        strcpy(out, ">99.9%");
        return 6;
    }
    if (t > 99999999) t = 99999999;     /* absurd shares stay short */
    long long ti = (long long)t;
    int n = snprintf(out, 16, "%lld.%lld%%", ti / 10, ti % 10);
    return n > 0 ? (size_t)n : 0;
}

/* Length of the UTF-8 sequence starting at p (1 for an invalid byte). */
static size_t cp_len(const char *s, size_t n)
{
    unsigned c = (unsigned char)s[0];
    size_t k = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3
             : (c & 0xF8) == 0xF0 ? 4 : 1;
    if (k > 1 && (k > n || !sp_utf8_valid(s, k))) k = 1;
    return k;
}

size_t svg_utf8_len(const char *s, size_t n)
{
    size_t i = 0, cps = 0;
    while (i < n) {
        i += cp_len(s + i, n - i);
        cps++;
    }
    return cps;
}

size_t svg_utf8_prefix(const char *s, size_t n, size_t cp)
{
    size_t i = 0;
    while (i < n && cp > 0) {
        i += cp_len(s + i, n - i);
        cp--;
    }
    return i;
}

/* ------------------------------------------------------------ colours */

const char *svg_cat_color(size_t i)
{
    return svg_palette[i % SVG_NPALETTE];
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static double lin(double c)
{
    return c <= 0.03928 ? c / 12.92 : pow((c + 0.055) / 1.055, 2.4);
}

const char *svg_text_on(const char *bg)
{
    if (!bg || bg[0] != '#' || strlen(bg) != 7) return "#000000";
    double ch[3];
    for (int i = 0; i < 3; i++) {
        int h = hexval(bg[1 + 2 * i]), l = hexval(bg[2 + 2 * i]);
        if (h < 0 || l < 0) return "#000000";
        ch[i] = lin((h * 16 + l) / 255.0);
    }
    double y = 0.2126 * ch[0] + 0.7152 * ch[1] + 0.0722 * ch[2];
    /* contrast against white vs against black: pick the larger */
    double cw = 1.05 / (y + 0.05), cb = (y + 0.05) / 0.05;
    return cw > cb ? "#FFFFFF" : "#000000";
}

static const char *const blues[5][7] = {
    { "#DEEBF7", "#9ECAE1", "#3182BD" },
    { "#EFF3FF", "#BDD7E7", "#6BAED6", "#2171B5" },
    { "#EFF3FF", "#BDD7E7", "#6BAED6", "#3182BD", "#08519C" },
    { "#EFF3FF", "#C6DBEF", "#9ECAE1", "#6BAED6", "#3182BD", "#08519C" },
    { "#EFF3FF", "#C6DBEF", "#9ECAE1", "#6BAED6", "#4292C6", "#2171B5", "#084594" },
};

const char *svg_seq_class_color(int k, int nclasses)
{
    if (nclasses < 3) nclasses = 3;
    if (nclasses > 7) nclasses = 7;
    if (k < 0) k = 0;
    if (k >= nclasses) k = nclasses - 1;
    return blues[nclasses - 3][k];
}

const char *svg_seq_color(double t)
{
    if (isnan(t)) return SVG_NODATA;
    if (t < 0) t = 0;
    if (t > 1) t = 1;
    int k = (int)(t * 7.0);
    return svg_seq_class_color(k > 6 ? 6 : k, 7);
}

/* ------------------------------------------------------------ document */

void svg_id(const svg_doc *d, const char *name, char *out, size_t outsz)
{
    if (!outsz) return;
    snprintf(out, outsz, "%s-%s", d->id, name ? name : "");
}

int svg_begin(svg_doc *d, sp_buf *b, const char *id_prefix, double w,
              double h, const char *title, const char *desc)
{
    memset(d, 0, sizeof *d);
    d->b = b;
    d->start = b->len;
    d->w = w;
    d->h = h;
    const char *p = id_prefix && *id_prefix ? id_prefix : "svg";
    size_t k = 0;
    unsigned char c0 = (unsigned char)p[0];
    if (!((c0 >= 'a' && c0 <= 'z') || (c0 >= 'A' && c0 <= 'Z'))) d->id[k++] = 's';
    for (; *p && k < SVG_ID_MAX; p++) {
        unsigned char c = (unsigned char)*p;
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                 (c >= '0' && c <= '9') || c == '_' || c == '-';
        d->id[k++] = ok ? (char)c : '-';
    }
    d->id[k] = '\0';

    adds(d, "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 ");
    num(d, w);
    adds(d, " ");
    num(d, h);
    adds(d, "\" width=\"100%\" role=\"img\" aria-labelledby=\"");
    adds(d, d->id);
    adds(d, "-title ");
    adds(d, d->id);
    adds(d, "-desc\" class=\"sp-chart\" font-family=\"system-ui, -apple-system, "
            "'Segoe UI', Roboto, 'Noto Sans', Arial, sans-serif\" font-size=\"12\" fill=\""
            SVG_INK "\"><title id=\"");
    adds(d, d->id);
    adds(d, "-title\">");
    esc(d, title);
    adds(d, "</title><desc id=\"");
    adds(d, d->id);
    adds(d, "-desc\">");
    esc(d, desc);
    adds(d, "</desc>\n");
    return d->rc;
}

int svg_end(svg_doc *d)
{
    if (d->in_path) keep(d, SP_EUSAGE);
    adds(d, "</svg>\n");
    if (d->rc) {
        d->b->len = d->start;
        if (d->b->data) d->b->data[d->start] = '\0';
    }
    return d->rc;
}

int svg_group_open(svg_doc *d, const char *cls, const char *tooltip)
{
    adds(d, "<g");
    attr(d, "class", cls);
    adds(d, ">");
    if (tooltip) {
        adds(d, "<title>");
        esc(d, tooltip);
        adds(d, "</title>");
    }
    return d->rc;
}

int svg_group_close(svg_doc *d)
{
    return adds(d, "</g>\n");
}

int svg_def_hatch(svg_doc *d, const char *name, const char *fg, const char *bg)
{
    char id[SVG_ID_MAX + 64];
    svg_id(d, name, id, sizeof id);
    adds(d, "<defs><pattern");
    attr(d, "id", id);
    adds(d, " patternUnits=\"userSpaceOnUse\" width=\"6\" height=\"6\" "
            "patternTransform=\"rotate(45)\">");
    if (bg) {
        adds(d, "<rect width=\"6\" height=\"6\"");
        attr(d, "fill", bg);
        adds(d, "/>");
    }
    adds(d, "<line x1=\"0\" y1=\"0\" x2=\"0\" y2=\"6\" stroke-width=\"3\"");
    attr(d, "stroke", fg ? fg : SVG_INK_MUTED);
    return adds(d, "/></pattern></defs>\n");
}

/* ------------------------------------------------------------ marks */

int svg_rect(svg_doc *d, double x, double y, double w, double h,
             const char *fill, const char *cls, const char *tooltip)
{
    if (d->in_path) return keep(d, SP_EUSAGE);
    if (w < 0) w = 0;
    if (h < 0) h = 0;
    adds(d, "<rect");
    attr_num(d, "x", x);
    attr_num(d, "y", y);
    attr_num(d, "width", w);
    attr_num(d, "height", h);
    attr(d, "fill", fill);
    attr(d, "class", cls);
    return finish(d, "rect", tooltip);
}

int svg_circle(svg_doc *d, double cx, double cy, double r, const char *fill,
               const char *cls, const char *tooltip)
{
    if (d->in_path) return keep(d, SP_EUSAGE);
    adds(d, "<circle");
    attr_num(d, "cx", cx);
    attr_num(d, "cy", cy);
    attr_num(d, "r", r < 0 ? 0 : r);
    attr(d, "fill", fill);
    attr(d, "class", cls);
    return finish(d, "circle", tooltip);
}

int svg_line(svg_doc *d, double x1, double y1, double x2, double y2,
             const char *stroke, double stroke_width, const char *cls)
{
    if (d->in_path) return keep(d, SP_EUSAGE);
    adds(d, "<line");
    attr_num(d, "x1", x1);
    attr_num(d, "y1", y1);
    attr_num(d, "x2", x2);
    attr_num(d, "y2", y2);
    attr(d, "stroke", stroke ? stroke : SVG_RULE);
    if (stroke_width > 0) attr_num(d, "stroke-width", stroke_width);
    attr(d, "class", cls);
    return adds(d, "/>");
}

int svg_polyline(svg_doc *d, const double *xy, size_t n, const char *stroke,
                 double stroke_width, const char *cls, const char *tooltip)
{
    if (d->in_path) return keep(d, SP_EUSAGE);
    adds(d, "<polyline fill=\"none\" points=\"");
    for (size_t i = 0; i < n; i++) {
        if (i) adds(d, " ");
        num(d, xy[2 * i]);
        adds(d, ",");
        num(d, xy[2 * i + 1]);
    }
    adds(d, "\"");
    attr(d, "stroke", stroke ? stroke : SVG_INK);
    if (stroke_width > 0) attr_num(d, "stroke-width", stroke_width);
    attr(d, "class", cls);
    return finish(d, "polyline", tooltip);
}

int svg_path_begin(svg_doc *d, const char *fill, const char *stroke,
                   double stroke_width, const char *cls)
{
    if (d->in_path) return keep(d, SP_EUSAGE);
    adds(d, "<path");
    attr(d, "fill", fill ? fill : "none");
    attr(d, "stroke", stroke);
    if (stroke_width > 0) attr_num(d, "stroke-width", stroke_width);
    attr(d, "class", cls);
    adds(d, " d=\"");
    d->in_path = 1;
    return d->rc;
}

int svg_path_move(svg_doc *d, double x, double y)
{
    if (!d->in_path) return keep(d, SP_EUSAGE);
    adds(d, "M");
    num(d, x);
    adds(d, " ");
    return num(d, y);
}

int svg_path_line(svg_doc *d, double x, double y)
{
    if (!d->in_path) return keep(d, SP_EUSAGE);
    adds(d, "L");
    num(d, x);
    adds(d, " ");
    return num(d, y);
}

int svg_path_close(svg_doc *d)
{
    if (!d->in_path) return keep(d, SP_EUSAGE);
    return adds(d, "Z");
}

int svg_path_end(svg_doc *d, const char *tooltip)
{
    if (!d->in_path) return keep(d, SP_EUSAGE);
    d->in_path = 0;
    adds(d, "\"");
    return finish(d, "path", tooltip);
}

/* ------------------------------------------------------------ text */

int svg_text(svg_doc *d, double x, double y, const svg_text_opts *o,
             const char *text)
{
    static const svg_text_opts dflt = { 0 };
    static const char *const anchors[] = { NULL, "middle", "end" };
    if (d->in_path) return keep(d, SP_EUSAGE);
    if (!o) o = &dflt;
    if (!text) text = "";
    size_t n = strlen(text), keepn = n;
    int cut = 0;
    if (o->max_cp > 0 && svg_utf8_len(text, n) > o->max_cp) {
        keepn = svg_utf8_prefix(text, n, o->max_cp - 1);
        /* no dangling space before the ellipsis */
        while (keepn > 0 && text[keepn - 1] == ' ') keepn--;
        cut = 1;
    }
    adds(d, "<text");
    attr_num(d, "x", x);
    attr_num(d, "y", y);
    if (o->anchor >= SVG_MIDDLE && o->anchor <= SVG_END)
        attr(d, "text-anchor", anchors[o->anchor]);
    if (o->size > 0) attr_num(d, "font-size", o->size);
    if (o->bold) adds(d, " font-weight=\"bold\"");
    attr(d, "fill", o->fill);
    attr(d, "class", o->cls);
    adds(d, ">");
    const char *tip = o->tooltip ? o->tooltip : cut ? text : NULL;
    if (tip) {
        adds(d, "<title>");
        esc(d, tip);
        adds(d, "</title>");
    }
    if (!d->rc) keep(d, sp_buf_add_html(d->b, text, keepn));
    if (cut) adds(d, "\xE2\x80\xA6");
    return adds(d, "</text>");
}
