/* chart.c -- the dashboard's chart types (chart.h) drawn with svg.h.
 *
 * Layout is computed in a 640-unit wide viewBox (o->width changes it): text
 * is 11-16 units so it stays legible when a phone scales the chart to
 * 360 px. Text widths are estimated from code points (CW per unit of font
 * size), which is enough to decide what fits and where to cut. */
#include "chart.h"
#include "svg.h"

#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define CW 0.56            /* average glyph width / font size (digits, Latin) */
#define FS 12.0            /* label font size */
#define FS_SMALL 11.0      /* the smallest text drawn */
#define FS_HEAD 16.0
#define PAD 10.0
#define TIP_CAP 4096
#define DESC_CAP 8192
#define LABEL_TIP_CP 400   /* a label longer than this is cut even in tooltips */
#define DOT "\xC2\xB7"     /* U+00B7 middle dot */

static const char *const EMPTY_MSG = "No records match these filters";

/* ------------------------------------------------------------ helpers */

typedef struct chart_ctx {
    svg_doc d;
    const chart_opts *o;
    double W;
    int k;                 /* suppression threshold shown as "<k" */
    sp_buf tip;            /* scratch: one tooltip */
    sp_buf desc;           /* the <desc> text */
    int desc_full;         /* desc hit its cap: stop adding */
    char sup_fill[SVG_ID_MAX + 16];  /* "url(#ID-sup)" */
    char alt_fill[SVG_ID_MAX + 16];  /* "url(#ID-alt)" */
} chart_ctx;

static const char *item_label(const chart_item *it)
{
    if (it->label && *it->label) return it->label;
    if (it->code && *it->code) return it->code;
    return "(not recorded)";
}

static int is_sup(const chart_item *it) { return it->count < 0; }

/* Not recorded: no code, or the codebook's "unknown". */
static int is_nr(const chart_item *it)
{
    return !it->code || strcmp(it->code, "unknown") == 0;
}

/* The share to print: as given, else count / base; NaN when neither. */
static double share_of(const chart_item *it, long long base)
{
    if (is_sup(it)) return NAN;
    if (isfinite(it->share) && it->share >= 0) return it->share;
    if (base > 0) return (double)it->count / (double)base;
    return NAN;
}

/* "12,345" or "<10" for a suppressed count. */
static void fmt_count(long long c, int k, char out[40])
{
    if (c < 0) snprintf(out, 40, "<%d", k);
    else svg_fmt_int(c, out);
}

/* Fill of item at category position pos; *alt = 1 when the palette has
 * wrapped and a stripe overlay must tell it from its twin. */
static const char *item_fill(const chart_item *it, size_t pos, int *alt)
{
    *alt = 0;
    switch (it->color) {
    case CHART_COLOR_OTHER: return SVG_GREY_OTHER;
    case CHART_COLOR_UNKNOWN: return SVG_GREY_UNKNOWN;
    case CHART_COLOR_INDEX:
        *alt = (it->color_index / SVG_NPALETTE) % 2 == 1;
        return svg_cat_color(it->color_index);
    default: break;
    }
    if (is_nr(it)) return SVG_GREY_UNKNOWN;
    if (strcmp(it->code, "other") == 0) return SVG_GREY_OTHER;
    *alt = (pos / SVG_NPALETTE) % 2 == 1;
    return svg_cat_color(pos);
}

/* Appends a label to a plain-text buffer, cut at max_cp code points. */
static int add_label(sp_buf *b, const char *s, size_t max_cp)
{
    size_t n = strlen(s);
    if (svg_utf8_len(s, n) <= max_cp) return sp_buf_add(b, s, n);
    int rc = sp_buf_add(b, s, svg_utf8_prefix(s, n, max_cp - 1));
    return rc ? rc : sp_buf_adds(b, "\xE2\x80\xA6");
}

/* desc: appends while there is room; once full, ends with an ellipsis. */
static void desc_add(chart_ctx *c, const char *s)
{
    if (c->desc_full) return;
    if (sp_buf_adds(&c->desc, s)) {
        c->desc_full = 1;
        (void)sp_buf_adds(&c->desc, "\xE2\x80\xA6");
    }
}

static void desc_label(chart_ctx *c, const char *s)
{
    if (c->desc_full) return;
    if (add_label(&c->desc, s, 80)) {
        c->desc_full = 1;
        (void)sp_buf_adds(&c->desc, "\xE2\x80\xA6");
    }
}

static void desc_item(chart_ctx *c, const chart_item *it, long long base, int with_share)
{
    char v[40], p[16];
    desc_label(c, item_label(it));
    desc_add(c, " ");
    if (is_sup(it) || !with_share) {
        fmt_count(it->count, c->k, v);
        desc_add(c, v);
    } else {
        svg_fmt_pct(share_of(it, base), p);
        desc_add(c, p);
    }
}

static double text_w(const char *s, double size)
{
    return (double)svg_utf8_len(s, strlen(s)) * size * CW;
}

/* How many code points of text of this size fit in w units (>= 4). */
static size_t fit_cp(double w, double size)
{
    double n = floor(w / (size * CW));
    return n < 4 ? 4 : (size_t)n;
}

static int ctx_init(chart_ctx *c, sp_buf *b, const chart_opts *o)
{
    static const chart_opts dflt = { 0 };
    memset(c, 0, sizeof *c);
    c->o = o ? o : &dflt;
    c->W = c->o->width >= 280 && c->o->width <= 4000 ? c->o->width : 640;
    c->k = c->o->suppress_k > 0 ? c->o->suppress_k : 10;
    sp_buf_init(&c->tip, TIP_CAP);
    sp_buf_init(&c->desc, DESC_CAP);
    (void)b;
    return SP_OK;
}

static void ctx_free(chart_ctx *c)
{
    sp_buf_free(&c->tip);
    sp_buf_free(&c->desc);
}

/* Opens the document (height known) with the collected desc, the hatch
 * patterns and the visible heading; returns the y below the heading. */
static double open_doc(chart_ctx *c, sp_buf *b, double h)
{
    const chart_opts *o = c->o;
    svg_begin(&c->d, b, o->id ? o->id : "chart", c->W, h, o->title,
              c->desc.data);
    char id[SVG_ID_MAX + 8];
    svg_def_hatch(&c->d, "sup", SVG_INK_MUTED, "#FFFFFF");
    svg_id(&c->d, "sup", id, sizeof id);
    snprintf(c->sup_fill, sizeof c->sup_fill, "url(#%s)", id);
    svg_def_hatch(&c->d, "alt", "#FFFFFF", NULL);
    svg_id(&c->d, "alt", id, sizeof id);
    snprintf(c->alt_fill, sizeof c->alt_fill, "url(#%s)", id);
    if (o->no_heading || !o->title || !*o->title) return PAD;
    svg_text_opts t = { .size = FS_HEAD, .bold = 1, .cls = "sp-chart-title",
                        .max_cp = fit_cp(c->W - 2 * PAD, FS_HEAD) };
    svg_text(&c->d, PAD, PAD + FS_HEAD, &t, o->title);
    return PAD + FS_HEAD + 12;
}

/* A segment's direct label, centred at (cx, cy); on a hatched (suppressed)
 * segment it sits on a white pill so the hatch does not cross it. */
static void seg_label(chart_ctx *c, double cx, double cy, double size,
                      const char *fill, int sup, const char *text)
{
    if (sup) {
        double tw = text_w(text, size) + 6;
        svg_rect(&c->d, cx - tw / 2, cy - size + 1, tw, size + 3, "#FFFFFF", NULL, NULL);
    }
    svg_text_opts tv = { .anchor = SVG_MIDDLE, .size = size,
                         .fill = sup ? SVG_INK : svg_text_on(fill),
                         .tooltip = c->tip.data, .cls = "sp-seg-label" };
    svg_text(&c->d, cx, cy, &tv, text);
}

static double head_h(const chart_ctx *c)
{
    const chart_opts *o = c->o;
    return (o->no_heading || !o->title || !*o->title) ? PAD : PAD + FS_HEAD + 12;
}

/* One data mark: a rect coloured for the item (hatched when suppressed,
 * striped when its colour repeats), with the tooltip in c->tip. */
static void mark(chart_ctx *c, double x, double y, double w, double h,
                 const chart_item *it, size_t pos, const char *fill_override)
{
    int alt = 0;
    const char *fill = is_sup(it) ? c->sup_fill
                     : fill_override ? fill_override : item_fill(it, pos, &alt);
    const char *tip = c->tip.data;
    if (!alt) {
        svg_rect(&c->d, x, y, w, h, fill, "sp-mark", tip);
        return;
    }
    svg_group_open(&c->d, "sp-mark", tip);
    svg_rect(&c->d, x, y, w, h, fill, NULL, NULL);
    svg_rect(&c->d, x, y, w, h, c->alt_fill, NULL, NULL);
    svg_group_close(&c->d);
}

/* Legend swatch (same fill logic as mark, no tooltip). */
static void swatch(chart_ctx *c, double x, double y, double s,
                   const chart_item *it, size_t pos)
{
    int alt = 0;
    const char *fill = item_fill(it, pos, &alt);
    svg_rect(&c->d, x, y, s, s, fill, NULL, NULL);
    if (alt) svg_rect(&c->d, x, y, s, s, c->alt_fill, NULL, NULL);
}

/* "Label: 301 of 812 records (37.1%)" into c->tip. prefix may be NULL. */
static void tip_item(chart_ctx *c, const char *prefix, const chart_item *it,
                     long long base, int with_share)
{
    char v[40], bs[40], p[16];
    sp_buf_reset(&c->tip);
    if (prefix) {
        (void)add_label(&c->tip, prefix, LABEL_TIP_CP);
        (void)sp_buf_adds(&c->tip, " " DOT " ");
    }
    (void)add_label(&c->tip, item_label(it), LABEL_TIP_CP);
    fmt_count(it->count, c->k, v);
    if (!with_share) {
        (void)sp_buf_printf(&c->tip, ": %s", v);
        return;
    }
    if (base != 0) {
        fmt_count(base, c->k, bs);
        (void)sp_buf_printf(&c->tip, ": %s of %s", v, bs);
    } else {
        (void)sp_buf_printf(&c->tip, ": %s", v);
    }
    if (is_sup(it)) {
        (void)sp_buf_adds(&c->tip, " (suppressed: fewer than ");
        (void)sp_buf_printf(&c->tip, "%d)", c->k);
    } else {
        double s = share_of(it, base);
        if (!isnan(s)) {
            svg_fmt_pct(s, p);
            (void)sp_buf_printf(&c->tip, " (%s)", p);
        }
    }
}

/* The "no records" chart. */
static int draw_empty(chart_ctx *c, sp_buf *b)
{
    sp_buf_reset(&c->desc);
    if (c->o->title) {
        desc_add(c, c->o->title);
        desc_add(c, ": ");
    }
    desc_add(c, EMPTY_MSG);
    desc_add(c, ".");
    double y = head_h(c);
    double h = y + 70;
    open_doc(c, b, h);
    svg_rect(&c->d, PAD, y, c->W - 2 * PAD, 60, "#F4F4F4", "sp-empty", NULL);
    svg_text_opts t = { .anchor = SVG_MIDDLE, .size = 14, .fill = SVG_INK_MUTED,
                        .cls = "sp-empty-text" };
    svg_text(&c->d, c->W / 2, y + 35, &t, EMPTY_MSG);
    return svg_end(&c->d);
}

/* Does any item carry something to draw? */
static int any_data(const chart_item *items, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (items[i].count != 0) return 1;   /* > 0 or suppressed */
    return 0;
}

/* Segment widths of a 100% bar as fractions summing to 1: counted items by
 * their share; suppressed items split what the counted ones leave (at least
 * 2% each, so they stay visible), then everything is normalised. Returns 0
 * when nothing has width. w has n slots. */
static int bar_widths(const chart_item *it, size_t n, long long base, double *w)
{
    double known = 0, sum = 0;
    size_t nsup = 0;
    for (size_t i = 0; i < n; i++) {
        if (is_sup(&it[i])) { nsup++; w[i] = 0; continue; }
        double s = share_of(&it[i], base);
        w[i] = isnan(s) || s < 0 ? 0 : s;
        known += w[i];
    }
    if (nsup) {
        double each = (1.0 - known) / (double)nsup;
        if (!(each > 0.02)) each = 0.02;
        for (size_t i = 0; i < n; i++)
            if (is_sup(&it[i])) w[i] = each;
    }
    for (size_t i = 0; i < n; i++) sum += w[i];
    if (!(sum > 0)) return 0;
    for (size_t i = 0; i < n; i++) w[i] /= sum;
    return 1;
}

/* Percent axis ticks 0..100% across [x0, x0+pw] at y (labels above). */
static void pct_axis(chart_ctx *c, double x0, double pw, double y, double y2)
{
    static const char *const lab[] = { "0%", "25%", "50%", "75%", "100%" };
    svg_group_open(&c->d, "sp-axis", NULL);
    for (int i = 0; i <= 4; i++) {
        double x = x0 + pw * i / 4.0;
        svg_line(&c->d, x, y + 4, x, y2, SVG_RULE, 1, NULL);
        svg_text_opts t = { .anchor = i == 0 ? SVG_START : i == 4 ? SVG_END : SVG_MIDDLE,
                            .size = FS_SMALL, .fill = SVG_INK_MUTED };
        svg_text(&c->d, x, y, &t, lab[i]);
    }
    svg_group_close(&c->d);
}

/* ------------------------------------------------------------ 1. stacked */

int chart_stacked100(sp_buf *b, const chart_opts *o, const chart_bar *bars,
                     size_t nbars)
{
    if (!b || (nbars && !bars)) return SP_EUSAGE;
    if (nbars > CHART_MAX_ITEMS) return SP_ELIMIT;
    chart_ctx c;
    ctx_init(&c, b, o);
    int rc = SP_OK;
    double *w = NULL;
    size_t ncat = 0, maxitems = 0;
    int any = 0;
    for (size_t i = 0; i < nbars; i++) {
        if (bars[i].nitems && !bars[i].items) { rc = SP_EUSAGE; goto done; }
        if (bars[i].nitems > CHART_MAX_ITEMS) { rc = SP_ELIMIT; goto done; }
        if (bars[i].nitems > maxitems) maxitems = bars[i].nitems;
        if (any_data(bars[i].items, bars[i].nitems)) any = 1;
    }
    if (!any) { rc = draw_empty(&c, b); goto done; }
    ncat = maxitems;
    w = sp_xcalloc(ncat ? ncat : 1, sizeof *w);

    /* Legend entries: categories counted (or suppressed) in some bar, named
     * by the first bar that has them. */
    const chart_item **leg = sp_xcalloc(ncat, sizeof *leg);
    size_t nleg = 0;
    int any_sup = 0;
    for (size_t i = 0; i < nbars; i++)
        for (size_t j = 0; j < bars[i].nitems; j++)
            if (is_sup(&bars[i].items[j])) any_sup = 1;
    for (size_t j = 0; j < ncat; j++) {
        const chart_item *first = NULL;
        int used = 0;
        for (size_t i = 0; i < nbars; i++) {
            if (j >= bars[i].nitems) continue;
            if (!first) first = &bars[i].items[j];
            if (bars[i].items[j].count != 0) used = 1;
        }
        leg[j] = used ? first : NULL;
        if (used) nleg++;
    }

    /* desc: what, range, the top 3 of each bar */
    if (o && o->title) { desc_add(&c, o->title); desc_add(&c, ". "); }
    desc_add(&c, "Percentage of ");
    desc_add(&c, o && o->what ? o->what : "records");
    desc_add(&c, " by category in each bar");
    if (nbars > 1) {
        desc_add(&c, ", ");
        desc_label(&c, bars[0].label ? bars[0].label : "");
        desc_add(&c, " to ");
        desc_label(&c, bars[nbars - 1].label ? bars[nbars - 1].label : "");
    }
    desc_add(&c, ".");
    for (size_t i = 0; i < nbars; i++) {
        const chart_bar *br = &bars[i];
        char n[40];
        fmt_count(br->total, c.k, n);
        desc_add(&c, " In ");
        desc_label(&c, br->label ? br->label : "");
        desc_add(&c, " (");
        desc_add(&c, n);
        desc_add(&c, "): ");
        int used[3] = { -1, -1, -1 };
        for (int t = 0; t < 3; t++) {
            long long best = 0;
            for (size_t j = 0; j < br->nitems; j++) {
                if ((int)j == used[0] || (int)j == used[1]) continue;
                if (br->items[j].count > best) { best = br->items[j].count; used[t] = (int)j; }
            }
            if (used[t] < 0) break;
            if (t) desc_add(&c, ", ");
            desc_item(&c, &br->items[used[t]], br->total, 1);
        }
        if (used[0] < 0) desc_add(&c, "nothing counted");
        desc_add(&c, ".");
    }

    /* layout: label column | bar | n= column; legend in two columns below */
    double label_w = 96, n_w = 76, row_h = 30, bar_h = 20;
    double x0 = PAD + label_w, pw = c.W - 2 * PAD - label_w - n_w;
    double y = head_h(&c) + 14;             /* axis labels */
    double top = y + 6;
    double legend_cols = c.W >= 480 ? 2 : 1;
    double col_w = (c.W - 2 * PAD) / legend_cols;
    double leg_rows = ceil((double)(nleg + (size_t)any_sup) / legend_cols);
    double h = top + row_h * (double)nbars + 12 + leg_rows * 20 + PAD;

    open_doc(&c, b, h);
    pct_axis(&c, x0, pw, y, top + row_h * (double)nbars);
    for (size_t i = 0; i < nbars; i++) {
        const chart_bar *br = &bars[i];
        double by = top + row_h * (double)i + (row_h - bar_h) / 2;
        const char *bl = br->label ? br->label : "";
        svg_group_open(&c.d, "sp-bar", NULL);
        svg_text_opts tl = { .anchor = SVG_END, .size = FS,
                             .max_cp = fit_cp(label_w - 8, FS) };
        svg_text(&c.d, x0 - 8, by + bar_h / 2 + 4, &tl, bl);
        if (bar_widths(br->items, br->nitems, br->total, w)) {
            double x = x0;
            for (size_t j = 0; j < br->nitems; j++) {
                const chart_item *it = &br->items[j];
                if (!(w[j] > 0)) continue;
                double sw = w[j] * pw;
                tip_item(&c, bl, it, br->total, 1);
                mark(&c, x, by, sw, bar_h, it, j, NULL);
                /* direct label when it fits */
                char p[40];
                if (is_sup(it)) fmt_count(it->count, c.k, p);
                else svg_fmt_pct(share_of(it, br->total), p);
                int alt = 0;
                const char *f = item_fill(it, j, &alt);
                /* striped twins stay unlabelled: text over stripes is noise */
                if (text_w(p, FS_SMALL) + 8 <= sw && (!alt || is_sup(it)))
                    seg_label(&c, x + sw / 2, by + bar_h / 2 + 4, FS_SMALL, f,
                              is_sup(it), p);
                x += sw;
            }
        }
        char n[48], v[40];
        fmt_count(br->total, c.k, v);
        snprintf(n, sizeof n, "n=%s", v);
        if (br->total < 0) snprintf(n, sizeof n, "n%s", v);
        svg_text_opts tn = { .size = FS_SMALL, .fill = SVG_INK_MUTED, .cls = "sp-n" };
        svg_text(&c.d, x0 + pw + 6, by + bar_h / 2 + 4, &tn, n);
        svg_group_close(&c.d);
    }
    /* legend */
    double ly = top + row_h * (double)nbars + 12;
    size_t li = 0;
    svg_group_open(&c.d, "sp-legend", NULL);
    for (size_t j = 0; j < ncat; j++) {
        if (!leg[j]) continue;
        double lx = PAD + col_w * (double)(li % (size_t)legend_cols);
        double yy = ly + 20 * (double)(li / (size_t)legend_cols);
        swatch(&c, lx, yy, 12, leg[j], j);
        svg_text_opts t = { .size = FS, .max_cp = fit_cp(col_w - 24, FS) };
        svg_text(&c.d, lx + 18, yy + 10.5, &t, item_label(leg[j]));
        li++;
    }
    if (any_sup) {
        char m[96];
        double lx = PAD + col_w * (double)(li % (size_t)legend_cols);
        double yy = ly + 20 * (double)(li / (size_t)legend_cols);
        snprintf(m, sizeof m, "Fewer than %d (hidden for privacy)", c.k);
        svg_rect(&c.d, lx, yy, 12, 12, c.sup_fill, NULL, NULL);
        svg_text_opts t = { .size = FS, .max_cp = fit_cp(col_w - 24, FS) };
        svg_text(&c.d, lx + 18, yy + 10.5, &t, m);
    }
    svg_group_close(&c.d);
    free(leg);
    rc = svg_end(&c.d);
done:
    free(w);
    ctx_free(&c);
    return rc;
}

/* ------------------------------------------------------------ 2. hbar */

typedef struct hrow {
    const chart_item *it;
    size_t pos;        /* original position (colour, stable order) */
} hrow;

static int hrow_class(const chart_item *it)
{
    return is_nr(it) ? 2 : is_sup(it) ? 1 : 0;
}

static int hrow_cmp(const void *a, const void *b)
{
    const hrow *x = a, *y = b;
    int cx = hrow_class(x->it), cy = hrow_class(y->it);
    if (cx != cy) return cx < cy ? -1 : 1;
    if (x->it->count != y->it->count) return x->it->count > y->it->count ? -1 : 1;
    return x->pos < y->pos ? -1 : x->pos > y->pos;
}

int chart_hbar(sp_buf *b, const chart_opts *o, const chart_item *items,
               size_t n, long long base)
{
    if (!b || (n && !items)) return SP_EUSAGE;
    if (n > CHART_MAX_ITEMS) return SP_ELIMIT;
    chart_ctx c;
    ctx_init(&c, b, o);
    int rc = SP_OK;
    hrow *rows = NULL;
    if (!any_data(items, n)) { rc = draw_empty(&c, b); goto done; }

    rows = sp_xcalloc(n, sizeof *rows);
    for (size_t i = 0; i < n; i++) rows[i] = (hrow){ &items[i], i };
    qsort(rows, n, sizeof *rows, hrow_cmp);
    size_t maxb = c.o->max_bars ? c.o->max_bars : 12;
    if (maxb < 2) maxb = 2;
    size_t shown = n, folded = 0;
    chart_item other = { .code = "other", .label = NULL, .share = -1 };
    char other_label[64];
    int other_ge = 0;
    if (n > maxb) {
        if (c.o->other_row) {
            shown = maxb - 1;
            folded = n - shown;
            long long sum = 0;
            for (size_t i = shown; i < n; i++) {
                if (is_sup(rows[i].it)) other_ge = 1;
                else if (sum > LLONG_MAX - rows[i].it->count) sum = LLONG_MAX;  /* saturate */
                else sum += rows[i].it->count;
            }
            snprintf(other_label, sizeof other_label, "Other (%zu)", folded);
            other.label = other_label;
            other.count = sum;
            other.color = CHART_COLOR_OTHER;
            if (other_ge || c.o->mentions) other.share = NAN;
        } else {
            shown = maxb;
        }
    }
    size_t nrows = shown + (folded ? 1 : 0);

    /* desc */
    if (c.o->title) { desc_add(&c, c.o->title); desc_add(&c, ". "); }
    {
        char nb[40];
        desc_add(&c, "Horizontal bars, largest first");
        if (base > 0) {
            svg_fmt_int(base, nb);
            desc_add(&c, ", of ");
            desc_add(&c, nb);
            desc_add(&c, " records");
        }
        desc_add(&c, c.o->mentions ? " (a record may count under several bars)" : "");
        desc_add(&c, ". ");
        for (size_t i = 0; i < nrows && i < 5; i++) {
            const chart_item *it = i < shown ? rows[i].it : &other;
            if (i) desc_add(&c, ", ");
            char v[40], p[16];
            desc_label(&c, item_label(it));
            desc_add(&c, " ");
            fmt_count(it->count, c.k, v);
            if (other_ge && it == &other) desc_add(&c, "at least ");
            desc_add(&c, v);
            double s = share_of(it, base);
            if (!isnan(s) && !(it == &other && (other_ge || c.o->mentions))) {
                svg_fmt_pct(s, p);
                desc_add(&c, " (");
                desc_add(&c, p);
                desc_add(&c, ")");
            }
        }
        if (nrows > 5) desc_add(&c, ", and more");
        desc_add(&c, ".");
        if (n > shown + folded) {
            char m[80];
            snprintf(m, sizeof m, " %zu more categories are not shown.", n - shown);
            desc_add(&c, m);
        }
    }

    /* layout */
    double label_w = floor(c.W * 0.34), val_w = 118, row_h = 24, bar_h = 16;
    double x0 = PAD + label_w, pw = c.W - 2 * PAD - label_w - val_w;
    double top = head_h(&c);
    int more = n > shown + folded;
    double h = top + row_h * (double)nrows + (more ? 20 : 0) + PAD;
    /* The scale follows the rows of single categories; an "Other" row
     * larger than all of them is drawn cut, with a break mark, so it does
     * not squash every other bar. */
    long long maxv = 1;
    for (size_t i = 0; i < (shown ? shown : nrows); i++) {
        const chart_item *it = i < shown ? rows[i].it : &other;
        long long v = is_sup(it) ? c.k : it->count;
        if (v > maxv) maxv = v;
    }
    open_doc(&c, b, h);
    svg_line(&c.d, x0, top, x0, top + row_h * (double)nrows, SVG_RULE, 1, "sp-axis");
    for (size_t i = 0; i < nrows; i++) {
        const chart_item *it = i < shown ? rows[i].it : &other;
        double y = top + row_h * (double)i;
        double v = is_sup(it) ? c.k : (double)it->count;
        double bw = v / (double)maxv * pw;
        if (it->count > 0 && bw < 1) bw = 1;
        if (is_sup(it) && bw < 16) bw = 16;   /* a hatch needs room to show */
        int folded_row = it == &other;
        int cut = bw > pw;
        if (cut) bw = pw;
        svg_group_open(&c.d, "sp-bar", NULL);
        tip_item(&c, NULL, it, base, !(folded_row && (other_ge || c.o->mentions)));
        if (folded_row && other_ge) {
            sp_buf_reset(&c.tip);
            char vv[40];
            svg_fmt_int(it->count, vv);
            (void)sp_buf_printf(&c.tip, "%s: at least %s (some folded values are suppressed)",
                                other_label, vv);
        }
        svg_text_opts tl = { .anchor = SVG_END, .size = FS, .max_cp = fit_cp(label_w - 8, FS),
                             .tooltip = c.tip.data };
        svg_text(&c.d, x0 - 8, y + row_h / 2 + 4, &tl, item_label(it));
        const char *fill = is_nr(it) ? SVG_GREY_UNKNOWN : folded_row ? SVG_GREY_OTHER : svg_palette[0];
        mark(&c, x0, y + (row_h - bar_h) / 2, bw, bar_h, it, rows[i < shown ? i : 0].pos, fill);
        if (cut) {
            for (int k2 = 0; k2 < 2; k2++) {
                double bx = x0 + pw - 22 + 5 * k2;
                svg_line(&c.d, bx - 3, y + (row_h + bar_h) / 2 + 1, bx + 3,
                         y + (row_h - bar_h) / 2 - 1, "#FFFFFF", 2, "sp-break");
            }
        }
        char val[80], cnt[40], p[16];
        fmt_count(it->count, c.k, cnt);
        double s = share_of(it, base);
        if (folded_row && other_ge)
            snprintf(val, sizeof val, "\xE2\x89\xA5%s", cnt);   /* >= */
        else if (isnan(s) || (folded_row && c.o->mentions))
            snprintf(val, sizeof val, "%s", cnt);
        else {
            svg_fmt_pct(s, p);
            snprintf(val, sizeof val, "%s " DOT " %s", cnt, p);
        }
        svg_text_opts tv = { .size = FS, .cls = "sp-value", .tooltip = c.tip.data };
        svg_text(&c.d, x0 + bw + 6, y + row_h / 2 + 4, &tv, val);
        svg_group_close(&c.d);
    }
    if (more) {
        char m[80];
        snprintf(m, sizeof m, "%zu more not shown", n - nrows);
        svg_text_opts t = { .size = FS_SMALL, .fill = SVG_INK_MUTED };
        svg_text(&c.d, x0, top + row_h * (double)nrows + 14, &t, m);
    }
    rc = svg_end(&c.d);
done:
    free(rows);
    ctx_free(&c);
    return rc;
}

/* ------------------------------------------------------------ 3/4. columns */

/* Columns in the given order; shares under the labels when with_share;
 * line: a line with dots instead of columns. */
static int columns(sp_buf *b, const chart_opts *o, const chart_item *items,
                   size_t n, long long base, int with_share, int line)
{
    if (!b || (n && !items)) return SP_EUSAGE;
    if (n > CHART_MAX_ITEMS) return SP_ELIMIT;
    chart_ctx c;
    ctx_init(&c, b, o);
    int rc = SP_OK;
    double *xy = NULL;
    if (!any_data(items, n)) { rc = draw_empty(&c, b); goto done; }

    /* desc: every value in order when few, else the range and the top 3 */
    if (c.o->title) { desc_add(&c, c.o->title); desc_add(&c, ". "); }
    desc_add(&c, line ? "Line chart" : "Column chart");
    if (base > 0 && with_share) {
        char nb[40];
        svg_fmt_int(base, nb);
        desc_add(&c, " of ");
        desc_add(&c, nb);
        desc_add(&c, " records");
    }
    desc_add(&c, ", in order: ");
    for (size_t i = 0; i < n && i < 24; i++) {
        if (i) desc_add(&c, ", ");
        desc_item(&c, &items[i], base, 0);
        if (with_share && !is_sup(&items[i])) {
            char p[16];
            double s = share_of(&items[i], base);
            if (!isnan(s)) {
                svg_fmt_pct(s, p);
                desc_add(&c, " (");
                desc_add(&c, p);
                desc_add(&c, ")");
            }
        }
    }
    if (n > 24) desc_add(&c, ", and more");
    desc_add(&c, ".");

    double top = head_h(&c) + 18;           /* room for the value above */
    double ph = 180;
    double slot = (c.W - 2 * PAD) / (double)n;
    int show_share = with_share && slot >= FS_SMALL * CW * 6 + 4;
    int show_val = slot >= FS_SMALL * CW * 3 + 2;
    size_t maxcp = 4;
    for (size_t i = 0; i < n; i++) {
        const char *l = item_label(&items[i]);
        size_t k = svg_utf8_len(l, strlen(l));
        if (k > maxcp) maxcp = k;
    }
    if (maxcp > 10) maxcp = 10;
    size_t label_every = (size_t)ceil((FS * CW * (double)maxcp + 6) / slot);
    if (label_every < 1) label_every = 1;
    double last_right = -1e9;
    double base_y = top + ph;
    double h = base_y + 20 + (show_share ? 16 : 0) + PAD;
    long long maxv = 1;
    for (size_t i = 0; i < n; i++) {
        long long v = is_sup(&items[i]) ? c.k : items[i].count;
        if (v > maxv) maxv = v;
    }
    open_doc(&c, b, h);
    svg_line(&c.d, PAD, base_y, c.W - PAD, base_y, SVG_RULE, 1, "sp-axis");
    if (line) {
        /* one polyline per run of counted years: a suppressed year is a gap */
        xy = sp_xcalloc(2 * n, sizeof *xy);
        size_t k = 0;
        for (size_t i = 0; i <= n; i++) {
            if (i < n && !is_sup(&items[i])) {
                xy[2 * k] = PAD + slot * ((double)i + 0.5);
                xy[2 * k + 1] = base_y - (double)items[i].count / (double)maxv * ph;
                k++;
                continue;
            }
            if (k > 1) svg_polyline(&c.d, xy, k, svg_palette[0], 2.5, "sp-line", NULL);
            k = 0;
        }
    }
    for (size_t i = 0; i < n; i++) {
        const chart_item *it = &items[i];
        double v = is_sup(it) ? c.k : (double)it->count;
        double ch = v / (double)maxv * ph;
        if (it->count > 0 && ch < 1) ch = 1;
        if (is_sup(it) && ch < 8) ch = 8;     /* a hatch needs room to show */
        double cx = PAD + slot * ((double)i + 0.5);
        double cw = slot * 0.7 > 56 ? 56 : slot * 0.7;
        svg_group_open(&c.d, "sp-bar", NULL);
        tip_item(&c, NULL, it, base, with_share);
        const char *fill = is_nr(it) ? SVG_GREY_UNKNOWN : svg_palette[0];
        if (line) {
            if (is_sup(it)) /* no point: a hatched stub at the base */
                svg_rect(&c.d, cx - 6, base_y - ch, 12, ch, c.sup_fill, "sp-mark", c.tip.data);
            else svg_circle(&c.d, cx, base_y - ch, 4, fill, "sp-mark", c.tip.data);
        } else {
            mark(&c, cx - cw / 2, base_y - ch, cw, ch, it, i, fill);
        }
        char cnt[40];
        fmt_count(it->count, c.k, cnt);
        if (show_val) {
            svg_text_opts tv = { .anchor = SVG_MIDDLE, .size = FS_SMALL, .cls = "sp-value",
                                 .tooltip = c.tip.data };
            svg_text(&c.d, cx, base_y - ch - (line ? 8 : 4), &tv, cnt);
        }
        /* too many columns for every label: every k-th one (the tooltips
         * still name each column) */
        if (i % label_every == 0) {
            svg_text_opts tl = { .anchor = SVG_MIDDLE, .size = FS,
                                 .max_cp = fit_cp(slot * (double)label_every - 4, FS) };
            /* keep a label that would cross the edge of the viewBox inside */
            const char *l = item_label(it);
            size_t lcp = svg_utf8_len(l, strlen(l));
            double lw = (double)(lcp < tl.max_cp ? lcp : tl.max_cp) * FS * CW;
            double lx = cx;
            double left = cx - lw / 2;
            if (cx - lw / 2 < 2) { tl.anchor = SVG_START; lx = 2; left = 2; }
            else if (cx + lw / 2 > c.W - 2) { tl.anchor = SVG_END; lx = c.W - 2; left = lx - lw; }
            if (left >= last_right + 4) {    /* never on top of the previous one */
                svg_text(&c.d, lx, base_y + 15, &tl, l);
                last_right = left + lw;
            }
        }
        if (show_share && !is_sup(it)) {
            double s = share_of(it, base);
            if (!isnan(s)) {
                char p[16];
                svg_fmt_pct(s, p);
                svg_text_opts ts = { .anchor = SVG_MIDDLE, .size = FS_SMALL,
                                     .fill = SVG_INK_MUTED, .cls = "sp-share" };
                svg_text(&c.d, cx, base_y + 30, &ts, p);
            }
        }
        svg_group_close(&c.d);
    }
    rc = svg_end(&c.d);
done:
    free(xy);
    ctx_free(&c);
    return rc;
}

int chart_columns(sp_buf *b, const chart_opts *o, const chart_item *items,
                  size_t n, long long base)
{
    return columns(b, o, items, n, base, 1, 0);
}

int chart_years(sp_buf *b, const chart_opts *o, const chart_item *items,
                size_t n)
{
    return columns(b, o, items, n, 0, 0, o && o->line);
}

/* ------------------------------------------------------------ 5. share bar */

int chart_sharebar(sp_buf *b, const chart_opts *o, const chart_item *items,
                   size_t n, long long base)
{
    if (!b || (n && !items)) return SP_EUSAGE;
    if (n > CHART_MAX_ITEMS) return SP_ELIMIT;
    chart_ctx c;
    ctx_init(&c, b, o);
    int rc = SP_OK;
    double *w = NULL;
    if (!any_data(items, n)) { rc = draw_empty(&c, b); goto done; }
    w = sp_xcalloc(n, sizeof *w);
    int drawable = bar_widths(items, n, base, w);

    if (c.o->title) { desc_add(&c, c.o->title); desc_add(&c, ". "); }
    desc_add(&c, "One bar divided by share");
    if (base > 0) {
        char nb[40];
        svg_fmt_int(base, nb);
        desc_add(&c, " of ");
        desc_add(&c, nb);
        desc_add(&c, " records");
    }
    desc_add(&c, ": ");
    for (size_t i = 0, k = 0; i < n; i++) {
        if (items[i].count == 0) continue;
        if (k++) desc_add(&c, ", ");
        desc_item(&c, &items[i], base, 1);
    }
    desc_add(&c, ".");

    double top = head_h(&c);
    double bar_h = 30, x0 = PAD, pw = c.W - 2 * PAD;
    double cols = c.W >= 480 ? 2 : 1, col_w = pw / cols;
    double rows_n = ceil((double)n / cols);
    double ly = top + bar_h + 14;
    double h = ly + rows_n * 20 + PAD;
    open_doc(&c, b, h);
    if (drawable) {
        double x = x0;
        for (size_t i = 0; i < n; i++) {
            const chart_item *it = &items[i];
            if (!(w[i] > 0)) continue;
            double sw = w[i] * pw;
            tip_item(&c, NULL, it, base, 1);
            mark(&c, x, top, sw, bar_h, it, i, NULL);
            char p[40];
            if (is_sup(it)) fmt_count(it->count, c.k, p);
            else svg_fmt_pct(share_of(it, base), p);
            int alt = 0;
            const char *f = item_fill(it, i, &alt);
            /* "Male 46.2%" when it fits, else the share alone */
            sp_buf lab;
            sp_buf_init(&lab, 256);
            (void)add_label(&lab, item_label(it), 24);
            (void)sp_buf_printf(&lab, " %s", p);
            if (alt && !is_sup(it)) { /* striped twin: legend only */ }
            else if (lab.data && text_w(lab.data, FS) + 10 <= sw)
                seg_label(&c, x + sw / 2, top + bar_h / 2 + 4.5, FS, f, is_sup(it), lab.data);
            else if (text_w(p, FS) + 8 <= sw)
                seg_label(&c, x + sw / 2, top + bar_h / 2 + 4.5, FS, f, is_sup(it), p);
            sp_buf_free(&lab);
            x += sw;
        }
    }
    /* legend: every category with its count and share */
    svg_group_open(&c.d, "sp-legend", NULL);
    for (size_t i = 0; i < n; i++) {
        const chart_item *it = &items[i];
        double lx = PAD + col_w * (double)(i % (size_t)cols);
        double yy = ly + 20 * (double)(i / (size_t)cols);
        if (is_sup(it)) svg_rect(&c.d, lx, yy, 12, 12, c.sup_fill, NULL, NULL);
        else swatch(&c, lx, yy, 12, it, i);
        char cnt[40], p[16], val[64];
        fmt_count(it->count, c.k, cnt);
        double s = share_of(it, base);
        if (isnan(s)) snprintf(val, sizeof val, "%s", cnt);
        else {
            svg_fmt_pct(s, p);
            snprintf(val, sizeof val, "%s " DOT " %s", cnt, p);
        }
        double vw = text_w(val, FS) + 8;
        tip_item(&c, NULL, it, base, 1);
        svg_text_opts tl = { .size = FS, .max_cp = fit_cp(col_w - 28 - vw, FS),
                             .tooltip = c.tip.data };
        svg_text(&c.d, lx + 18, yy + 10.5, &tl, item_label(it));
        svg_text_opts tv = { .anchor = SVG_END, .size = FS, .fill = SVG_INK_MUTED,
                             .cls = "sp-value" };
        svg_text(&c.d, lx + col_w - 10, yy + 10.5, &tv, val);
    }
    svg_group_close(&c.d);
    rc = svg_end(&c.d);
done:
    free(w);
    ctx_free(&c);
    return rc;
}
