/* map.h -- SVG maps of counts by country and province, drawn from the
 * boundaries in geo.h with the writer in svg.h.
 *
 * Each function appends one complete <svg role="img"> with <title> and
 * <desc> to `out`; every shaded shape, flow line and circle carries a
 * <title> tooltip ("Nghệ An (VN-40): 1,234 records"). All text is escaped.
 * On error (SP_ELIMIT when out's cap is hit, SP_EUSAGE for bad options)
 * `out` is left as it was. Nothing is kept between calls; the caller owns
 * every argument.
 *
 * Projections: the world frame uses Equal Earth (Antarctica cropped); any
 * other frame uses a Lambert conformal conic centred on the features shown
 * (Mercator when they straddle the equator). Shapes outside the frame are
 * not written and shapes that cross it are clipped, so pages stay light.
 * Codes are ISO 3166-1 alpha-2 for countries ("KH") and ISO 3166-2 for
 * provinces ("VN-40"); unknown codes are counted in <desc> as "not drawn". */
#ifndef SP_MAP_H
#define SP_MAP_H

#include "util.h"
#include "geo.h"

typedef enum {
    MAP_FRAME_AUTO = 0,        /* fit what is shown, with padding */
    MAP_FRAME_SEA,             /* mainland Southeast Asia (Myanmar to Viet Nam) */
    MAP_FRAME_WORLD            /* the whole world, Equal Earth */
} map_frame;

typedef struct map_opts {
    const char *id;            /* SVG id prefix, unique in the page (NULL: "map") */
    const char *title;         /* NULL: a title naming the map kind */
    const char *desc;          /* NULL: a generated summary */
    const char *unit;          /* "records" (NULL) */
    double width;              /* viewBox width; 0: 800 */
    double height;             /* 0: from the frame's shape */
    double max_aspect;         /* with height 0: map height at most this times
                                  the width (0: 0.8, landscape, so that a tall
                                  frame does not shrink the text on a page) */
    map_frame frame;
    int classes;               /* colour classes 2..7; 0: 5 */
    int labels;                /* how many units to label; 0: 8; < 0: none */
} map_opts;

typedef struct map_value {
    const char *code;          /* alpha-2 or ISO 3166-2 */
    long long count;
} map_value;

typedef struct map_flow {
    const char *from_country;  /* alpha-2 */
    const char *from_province; /* ISO 3166-2, or NULL/"" when unknown */
    const char *to_country;
    const char *to_province;
    long long count;
} map_flow;

typedef struct map_place {
    const char *country;       /* alpha-2 */
    const char *province;      /* ISO 3166-2 or NULL */
    const char *locality;      /* free name ("KK Park") or NULL */
    long long count;
} map_place;

/* 1. Choropleth: countries shaded by `countries`, and the provinces of the
 * countries listed in `province_countries` (alpha-2) shaded by
 * `provinces`. Quantile classes, legend with ranges, "no data" grey,
 * other countries in the frame as neutral context, labels for the largest
 * shaded units. */
int map_choropleth(sp_buf *out, const sp_geo *g, const map_opts *o,
                   const map_value *countries, size_t ncountries,
                   const char *const *province_countries, size_t npc,
                   const map_value *provinces, size_t nprovinces);

/* 2. Routes: provinces of `origin_country` shaded by `origins`, flow lines
 * (quadratic curves with arrowheads, width by count) from each flow's
 * origin (province point, or the country's when the province is unknown)
 * to its destination (likewise); destinations outlined. */
int map_routes(sp_buf *out, const sp_geo *g, const map_opts *o,
               const char *origin_country, const map_value *origins, size_t norigins,
               const map_flow *flows, size_t nflows);

/* 3. Hotspots: circles with area proportional to count at each place's
 * province (or country) point; localities sharing a point are fanned out. */
int map_hotspots(sp_buf *out, const sp_geo *g, const map_opts *o,
                 const map_place *places, size_t nplaces);

/* 4. A country as destination: its provinces shaded by `provinces`, plus
 * the flows whose to_country is `country`: from abroad (drawn from the
 * origin country's point) and from its own provinces. Other flows are
 * ignored. */
int map_destination(sp_buf *out, const sp_geo *g, const map_opts *o,
                    const char *country, const map_value *provinces, size_t nprovinces,
                    const map_flow *flows, size_t nflows);

#endif
