/* mapping.h -- import mappings: how another schema's columns and values
 * become codebook fields. A mapping is a JSON file (docs/mappings.md):
 *
 *   {
 *     "name": "ctdc", "direction": "import", "description": "...",
 *     "fields":   { "year_identified": "yearOfRegistration",
 *                   "industry": ["typeOfLabourConcatenated", "ExploitType"] },
 *     "values":   { "industry": { "Sexual": "sexual_exploitation", "Labor": "labour_other" } },
 *     "flags":    [ { "column": "isSexualExploit", "field": "industry",
 *                     "code": "sexual_exploitation", "true": ["1", "1.0"] } ],
 *     "constants":{ "identification_status": "unknown" },
 *     "ignore":   [ "Datasource" ],
 *     "case_ref": "row",
 *     "separator": ";"
 *   }
 *
 * "fields" maps a layout column name (see layout.h: "gender",
 * "exploitation_1_country") to one source column or a list tried in order
 * (the first non-empty cell wins). "values" translates raw cells (matched
 * trimmed and case-insensitively), keyed by
 * the source column's header (tried first) or the field name ("industry",
 * or "exploitation.country" for a sub-field);
 * a translation to "" drops the value. "flags" turn one-hot columns into
 * codes; for a single field the first true flag in list order wins.
 * "case_ref": "row" generates a case reference from the row number for
 * sources that have none. Built-in mappings are embedded
 * ("mappings/NAME.json"); any other argument is read as a file path. */
#ifndef SP_MAPPING_H
#define SP_MAPPING_H

#include "util.h"

typedef struct map_target {
    char *target;              /* layout column name */
    char **sources;            /* header names in the source file */
    size_t nsources;
} map_target;

typedef struct map_valueset {
    char *field;               /* "industry", "exploitation.country" */
    sp_map from;               /* folded raw value -> index in to[] */
    char **to;
    size_t nto;
} map_valueset;

typedef struct map_flag {
    char *column;
    char *target;              /* layout column name */
    char *code;
    char **truthy;             /* values meaning "set"; default "1" */
    size_t ntruthy;
} map_flag;

typedef struct sp_mapping {
    char *name;
    char *description;
    map_target *targets;
    size_t ntargets;
    map_valueset *values;
    size_t nvalues;
    map_flag *flags;
    size_t nflags;
    char **const_target, **const_value;
    size_t nconst;
    char **ignore;
    size_t nignore;
    int case_ref_from_row;
    char *separators;          /* characters that split multiple values */
} sp_mapping;

/* Loads a built-in mapping by name or a mapping file by path. */
int mapping_load(sp_mapping **out, const char *name_or_path, sp_err *err);
int mapping_load_mem(sp_mapping **out, const char *json, size_t len,
                     const char *name, sp_err *err);
void mapping_free(sp_mapping *m);
/* The translation of raw value for field, or NULL when the mapping has
 * none (the raw value is then parsed as it is). */
const char *mapping_translate(const sp_mapping *m, const char *field,
                              const char *raw, size_t n);
/* Names of the built-in import mappings, NULL-terminated. */
const char *const *mapping_builtin_names(void);

#endif
