/* geo.h -- boundaries of countries and provinces, decoded from the files
 * in geo/ that are embedded in the binary (see docs/maps.md and
 * geo/SOURCES.md for sources, licences and the code decisions).
 *
 * Three layers:
 *   GEO_WORLD    every country, Natural Earth 1:110m (world maps)
 *   GEO_REGION   countries meeting 40E-160E 20S-60N, 1:50m (regional maps)
 *   provinces    ISO 3166-2 units of 21 Asian countries (Natural Earth
 *                1:10m admin-1; Laos from geoBoundaries/OSM)
 * Coordinates are lon/lat degrees (WGS84). Rings are not grouped into
 * polygons: draw them with fill-rule evenodd. */
#ifndef SP_GEO_H
#define SP_GEO_H

#include "util.h"
#include "gazetteer.h"

typedef struct geo_pt { double lon, lat; } geo_pt;

typedef struct geo_ring {
    const geo_pt *pts;         /* closed: last point repeats the first */
    size_t n;
} geo_ring;

typedef struct geo_feature {
    char code[8];              /* country: alpha-2 ("VN"), or "" when the unit
                                * has no ISO code (N. Cyprus ...);
                                * province: ISO 3166-2 ("VN-40") */
    char country[3];           /* alpha-2 of the country ("" if none) */
    const char *name;          /* iso-codes name when known, else the source's */
    double bbox[4];            /* west, south, east, north */
    geo_pt label;              /* a point inside the largest part */
    double area;               /* approximate area in square degrees
                                * scaled by cos(lat): for ranking only */
    const geo_ring *rings;
    size_t nrings;
} geo_feature;

typedef enum { GEO_WORLD = 0, GEO_REGION = 1 } geo_detail;

typedef struct sp_geo sp_geo;

/* Decodes the embedded geo/ files once. `gz` names the units and maps the
 * countries' numeric codes to alpha-2; it must outlive the sp_geo (names
 * point into it). Bad or missing data gives SP_EINPUT with a sentence. */
int geo_load(sp_geo **out, const sp_gazetteer *gz, sp_err *err);
/* Same, from explicit JSON texts (tests, other data); NULL texts are skipped. */
int geo_load_texts(sp_geo **out, const sp_gazetteer *gz, const char *world,
                   const char *region, const char *const *provinces,
                   size_t nprovinces, sp_err *err);
void geo_free(sp_geo *g);

/* Country by alpha-2 at the given detail; GEO_REGION falls back to the
 * world layer for countries outside the region. NULL if none. */
const geo_feature *geo_country(const sp_geo *g, const char *alpha2, geo_detail d);
size_t geo_ncountries(const sp_geo *g, geo_detail d);
const geo_feature *geo_country_at(const sp_geo *g, geo_detail d, size_t i);

/* Province by ISO 3166-2 code (any case). NULL if none. */
const geo_feature *geo_province(const sp_geo *g, const char *code);
size_t geo_nprovinces(const sp_geo *g);
const geo_feature *geo_province_at(const sp_geo *g, size_t i);
/* Does the data hold provinces of this country (alpha-2)? */
int geo_has_provinces(const sp_geo *g, const char *alpha2);

/* The iso-codes subdivisions of covered countries that have no geometry,
 * sorted by code, as a newly allocated array of pointers into the
 * gazetteer (caller frees the array only). Only subdivision types the data
 * covers count (a type counts when at least half its codes have geometry:
 * Philippine regions or Sri Lankan provinces, which the data does not
 * draw, are not "missing"; Cambodia's KH-25 is). */
size_t geo_missing_provinces(const sp_geo *g, const sp_gazetteer *gz,
                             const gz_province ***out);

#endif
