/* gazetteer.h -- countries (ISO 3166-1), provinces (ISO 3166-2), UN M49
 * regions. Codes are stored; names are shown.
 *
 * Countries and provinces come from Debian's iso-codes JSON
 * (/usr/share/iso-codes/json, or $SPOTLIGHT_ISO_CODES), read once.
 * Regions come from codebook/m49.tsv, embedded in the binary.
 * Look-ups accept codes and names in any case and spacing: "VN", "VNM",
 * "704", "Viet Nam", "vietnam", "Lao PDR", "Laos", "Burma" ... */
#ifndef SP_GAZETTEER_H
#define SP_GAZETTEER_H

#include "util.h"

typedef struct gz_country {
    char alpha2[3];
    char alpha3[4];
    int numeric;
    const char *name;          /* short English name as iso-codes gives it */
    const char *common_name;   /* "Laos", "Viet Nam" ... or same as name */
    const char *region;        /* M49 region: "Asia", "Africa", ... or "" */
    const char *subregion;     /* M49 sub-region: "South-eastern Asia" ... */
    int index;                 /* position in gazetteer's country array */
} gz_country;

typedef struct gz_province {
    char code[8];              /* ISO 3166-2, e.g. "VN-44", "LA-VT" */
    const char *name;
    const char *type;          /* "Province", "Prefecture", ... */
    const gz_country *country;
    int index;
} gz_province;

typedef struct sp_gazetteer sp_gazetteer;

/* Loads iso-codes from `dir` (NULL: $SPOTLIGHT_ISO_CODES or the Debian
 * path). On failure returns SP_EIO/SP_EINPUT with a sentence in err. */
int gazetteer_load(sp_gazetteer **out, const char *dir, sp_err *err);
void gazetteer_free(sp_gazetteer *g);

size_t gazetteer_ncountries(const sp_gazetteer *g);
const gz_country *gazetteer_country_at(const sp_gazetteer *g, size_t i);
size_t gazetteer_nprovinces(const sp_gazetteer *g);
const gz_province *gazetteer_province_at(const sp_gazetteer *g, size_t i);

/* Country by alpha-2, alpha-3, numeric, name or known synonym. NULL if
 * unknown. "ZZ", "00", "XX" and empty give NULL (unknown). */
const gz_country *gazetteer_country(const sp_gazetteer *g, const char *s, size_t n);
/* Province by full ISO 3166-2 code ("VN-44"), or, when `c` is given, by
 * the part after the dash ("44") or by name within that country. */
const gz_province *gazetteer_province(const sp_gazetteer *g, const gz_country *c,
                                      const char *s, size_t n);
/* Country by exact alpha-2 (fast path for stored codes). */
const gz_country *gazetteer_alpha2(const sp_gazetteer *g, const char *a2);

/* The M49 regions, in a fixed order, for menus and validation. */
size_t gazetteer_nregions(void);
const char *gazetteer_region_at(size_t i);
/* Region by name, case and spacing ignored; returns canonical name or NULL. */
const char *gazetteer_region(const char *s);

/* Currency by ISO 4217 alphabetic code (any case), numeric code ("840")
 * or English name; stablecoins pegged to the dollar (USDT, USDC) give
 * "USD". Returns the canonical alphabetic code (owned by g) or NULL. */
const char *gazetteer_currency(const sp_gazetteer *g, const char *s, size_t n);
/* The ISO 4217 currencies as iso-codes lists them, for menus and
 * `spotlight codebook currencies`: i < gazetteer_ncurrencies; *code (three
 * capitals) and *name (English) are owned by g. SP_EOF past the end. */
size_t gazetteer_ncurrencies(const sp_gazetteer *g);
int gazetteer_currency_at(const sp_gazetteer *g, size_t i, const char **code, const char **name);

/* Is this one of the markers that mean "country not known" ("", "ZZ",
 * "XX", "00", "-99", "unknown" ...)? gazetteer_country gives NULL for
 * them; this tells them apart from a name that is simply not known. */
int gazetteer_unknown_marker(const char *s, size_t n);

#endif
