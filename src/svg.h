/* svg.h -- a small SVG writer over a capped sp_buf, shared by the charts
 * (chart.h) and the maps (map.h) of the server-rendered dashboard.
 *
 * The output is inline SVG that needs no JavaScript and no stylesheet to be
 * read: colours and font sizes are presentation attributes (so a chart
 * saved alone still looks right), classes hook into static/charts.css for
 * the page's fonts. Every piece of text (labels, tooltips, title, desc) goes
 * through sp_buf_add_html, so user data can never close an element. No
 * inline style attributes are written.
 *
 * Errors are sticky: the first failing append (SP_ELIMIT when the buffer's
 * cap is hit) is kept in doc->rc, every later call is a no-op returning it,
 * and svg_end returns it. On error svg_end also cuts the buffer back to
 * where svg_begin found it, so a page never gets half an <svg>. Callers may
 * therefore check only svg_end's result. */
#ifndef SP_SVG_H
#define SP_SVG_H

#include <stddef.h>
#include "util.h"

#define SVG_ID_MAX 32          /* id prefix length kept (longer is cut) */

typedef struct svg_doc {
    sp_buf *b;                 /* not owned */
    size_t start;              /* b->len at svg_begin: rollback point */
    char id[SVG_ID_MAX + 1];   /* id prefix: [A-Za-z0-9_-], starts with a letter */
    double w, h;               /* viewBox size */
    int rc;                    /* first error (sticky), SP_OK otherwise */
    int in_path;               /* inside svg_path_begin .. svg_path_end */
} svg_doc;

typedef enum { SVG_START = 0, SVG_MIDDLE, SVG_END } svg_anchor;

/* Opens the root element:
 *   <svg xmlns=".." viewBox="0 0 w h" width="100%" role="img"
 *        aria-labelledby="ID-title ID-desc" class="sp-chart" font-family=..
 *        font-size="12"><title id="ID-title">title</title>
 *   <desc id="ID-desc">desc</desc>
 * id_prefix must be unique within the HTML page (two charts on one page
 * need two prefixes); it is sanitised (other characters become '-', a
 * leading non-letter gets "s" prepended, cut at SVG_ID_MAX). NULL: "svg".
 * title/desc may be NULL (empty). Returns doc->rc. */
int svg_begin(svg_doc *d, sp_buf *b, const char *id_prefix, double w,
              double h, const char *title, const char *desc);
/* Closes the root element. Returns the first error of the document; on
 * error the buffer is cut back to its length before svg_begin. */
int svg_end(svg_doc *d);

/* "ID-name" into out (outsz >= SVG_ID_MAX + 2 + strlen(name) is enough;
 * truncated otherwise). For ids of patterns, gradients, clip paths. */
void svg_id(const svg_doc *d, const char *name, char *out, size_t outsz);

/* <g class="cls"> with an optional <title> child (a tooltip for the whole
 * group) ... </g>. cls NULL: no class. Groups nest. */
int svg_group_open(svg_doc *d, const char *cls, const char *tooltip);
int svg_group_close(svg_doc *d);

/* <defs><pattern id="ID-name"> of diagonal lines `fg` over `bg` (bg NULL:
 * transparent). Use as fill "url(#ID-name)" (svg_id gives the id). Hatching
 * marks suppressed cells and tells apart categories whose colours repeat. */
int svg_def_hatch(svg_doc *d, const char *name, const char *fg, const char *bg);

/* ---- marks. `fill`/`stroke` are colours ("#0072B2", "none",
 * "url(#id)") written as presentation attributes; NULL leaves the attribute
 * out. `cls` NULL: no class. `tooltip` non-NULL adds a <title> child, the
 * native tooltip browsers show on hover (and screen readers read). */
int svg_rect(svg_doc *d, double x, double y, double w, double h,
             const char *fill, const char *cls, const char *tooltip);
int svg_circle(svg_doc *d, double cx, double cy, double r, const char *fill,
               const char *cls, const char *tooltip);
int svg_line(svg_doc *d, double x1, double y1, double x2, double y2,
             const char *stroke, double stroke_width, const char *cls);
/* xy holds n points as x0,y0,x1,y1,...; fill="none". */
int svg_polyline(svg_doc *d, const double *xy, size_t n, const char *stroke,
                 double stroke_width, const char *cls, const char *tooltip);

/* A path streamed point by point (maps: no intermediate buffer). Between
 * begin and end only the svg_path_* calls below may be made. */
int svg_path_begin(svg_doc *d, const char *fill, const char *stroke,
                   double stroke_width, const char *cls);
int svg_path_move(svg_doc *d, double x, double y);   /* "M x y" */
int svg_path_line(svg_doc *d, double x, double y);   /* "L x y" */
int svg_path_close(svg_doc *d);                      /* "Z" */
int svg_path_end(svg_doc *d, const char *tooltip);

/* ---- text */
typedef struct svg_text_opts {
    svg_anchor anchor;         /* text-anchor; SVG_START by default */
    const char *cls;           /* class or NULL */
    double size;               /* font-size in user units; 0: inherit */
    const char *fill;          /* colour or NULL (inherit) */
    int bold;                  /* 1: font-weight="bold" */
    size_t max_cp;             /* > 0: cut to max_cp code points, the last
                                  being U+2026 "..."; 0: never cut */
    const char *tooltip;       /* <title> child; when the text was cut and
                                  tooltip is NULL, the full text is used */
} svg_text_opts;
/* <text x y ...>text</text>, escaped; invalid UTF-8 becomes U+FFFD. o NULL:
 * defaults. */
int svg_text(svg_doc *d, double x, double y, const svg_text_opts *o,
             const char *text);

/* ---- formatting (plain functions: usable outside an svg_doc) */
/* Appends a coordinate with at most 1 decimal and no trailing zeros
 * ("12", "12.5", "-3.1"; never "-0"; NaN/inf write "0"). */
int svg_num(sp_buf *b, double v);
/* "12,345", "-1,234", "0" into out; returns its length. */
size_t svg_fmt_int(long long v, char out[32]);
/* A share in [0,1] as a percentage with 1 decimal: 0.3707 -> "37.1%".
 * Exactly 0 -> "0%", exactly 1 -> "100%"; a non-zero share that would
 * round to 0.0 -> "<0.1%", a share below 1 that would round to 100.0 ->
 * ">99.9%" (never claim all or none when it is not). NaN or < 0 -> "-".
 * Returns the length. */
size_t svg_fmt_pct(double share, char out[16]);
/* Number of code points of a UTF-8 string (invalid bytes count one each). */
size_t svg_utf8_len(const char *s, size_t n);
/* Byte length of the first `cp` code points of s (n bytes). */
size_t svg_utf8_prefix(const char *s, size_t n, size_t cp);

/* ---- colours */
/* Okabe-Ito, ordered so neighbours differ in lightness (greyscale print):
 * #0072B2 #E69F00 #009E73 #CC79A7 #56B4E9 #D55E00 #F0E442 #000000. */
#define SVG_NPALETTE 8
extern const char *const svg_palette[SVG_NPALETTE];
#define SVG_GREY_OTHER   "#8C8C8C"   /* "other" categories */
#define SVG_GREY_UNKNOWN "#C8C8C8"   /* unknown / not recorded */
#define SVG_NODATA       "#EEEEEE"   /* maps: no records (hatched if k-suppressed) */
#define SVG_INK          "#222222"   /* text */
#define SVG_INK_MUTED    "#595959"   /* secondary text (4.5:1 on white) */
#define SVG_RULE         "#D0D0D0"   /* axes, grid */
/* Categorical colour i (cycles after SVG_NPALETTE: callers add a hatch for
 * i >= SVG_NPALETTE, see chart.c). */
const char *svg_cat_color(size_t i);
/* Text colour readable on top of fill `bg` ("#RRGGBB"): "#000000" or
 * "#FFFFFF" by relative luminance. Unknown formats: black. */
const char *svg_text_on(const char *bg);
/* Sequential single-hue scale (ColorBrewer Blues), light to dark, for maps.
 * svg_seq_color: t in [0,1] (clamped) onto 7 classes; NaN -> SVG_NODATA.
 * svg_seq_class_color: class k in [0, nclasses) for nclasses 3..7 (others
 * are clamped into that range). */
const char *svg_seq_color(double t);
const char *svg_seq_class_color(int k, int nclasses);

#endif
