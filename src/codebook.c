/* codebook.c -- see codebook.h.
 *
 * The codebook JSON is parsed with jansson into structs that live in the
 * codebook's arena (strings, field and value arrays); only the sp_maps own
 * memory of their own and are freed field by field. The file is checked
 * strictly on load: a typo in the data standard must stop the program with
 * a sentence saying where, not silently change what is accepted. */
#include "codebook.h"
#include "embed.h"

#include <ctype.h>
#include <jansson.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#define CB_MAX_JSON (4u << 20)   /* a codebook is a few tens of kB */
#define CB_NAME_MAX 64
#define CB_KEY_MAX 256           /* folded look-up keys */
#define CB_TEXT_DEFAULT 1000
#define CB_TEXT_CAP 65536

static const char *const type_names[] = {
    "text", "code", "integer", "decimal", "year", "date", "age", "country",
    "province", "currency", "group",
};

const char *codebook_type_name(cb_type t)
{
    if ((size_t)t < sizeof type_names / sizeof *type_names) return type_names[t];
    return "?";
}

/* ------------------------------------------------------------ loading */

typedef struct loader {
    sp_codebook *cb;
    sp_err *err;
    const char *file;          /* for error reports */
    int bad;                   /* errors seen (we report them all) */
} loader;

static void lerr(loader *L, const char *where, const char *rule, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Records one codebook problem; `where` is the field path ("exploitation.
 * province") and goes in the column slot of the report. */
static void lerr(loader *L, const char *where, const char *rule, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    sp_err_add(L->err, L->file, 0, where, NULL, 0, rule, "codebook: %s", msg);
    L->bad++;
}

static int valid_name(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > CB_NAME_MAX || !(s[0] >= 'a' && s[0] <= 'z')) return 0;
    for (size_t i = 1; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
            return 0;
    return 1;
}

/* A string member: required -> error when missing; returns arena copy,
 * or `dflt` when absent and not required. */
static const char *get_str(loader *L, json_t *o, const char *key, int required,
                           const char *dflt, const char *where)
{
    json_t *v = json_object_get(o, key);
    if (!v) {
        if (required) lerr(L, where, "codebook-missing", "'%s' is required", key);
        return dflt;
    }
    if (!json_is_string(v)) {
        lerr(L, where, "codebook-type", "'%s' must be a string", key);
        return dflt;
    }
    const char *s = json_string_value(v);
    size_t n = json_string_length(v);
    if (strlen(s) != n || !sp_utf8_valid(s, n)) {
        lerr(L, where, "codebook-type", "'%s' must be UTF-8 text without NUL", key);
        return dflt;
    }
    if (required && n == 0) {
        lerr(L, where, "codebook-missing", "'%s' must not be empty", key);
        return dflt;
    }
    return sp_arena_strndup(&L->cb->arena, s, n);
}

static int get_bool(loader *L, json_t *o, const char *key, const char *where)
{
    json_t *v = json_object_get(o, key);
    if (!v) return 0;
    if (!json_is_boolean(v)) {
        lerr(L, where, "codebook-type", "'%s' must be true or false", key);
        return 0;
    }
    return json_is_true(v);
}

/* A whole number member; returns 1 if present and valid. */
static int get_int(loader *L, json_t *o, const char *key, long long *out, const char *where)
{
    json_t *v = json_object_get(o, key);
    if (!v) return 0;
    if (json_is_integer(v)) { *out = json_integer_value(v); return 1; }
    if (json_is_real(v)) {
        double d = json_real_value(v);
        if (d == (double)(long long)d && d > -1e15 && d < 1e15) { *out = (long long)d; return 1; }
    }
    lerr(L, where, "codebook-type", "'%s' must be a whole number", key);
    return 0;
}

static const char *const field_keys[] = {
    "name", "type", "label", "help", "section", "required", "multiple", "sensitive",
    "deprecated", "min", "max", "max_length", "values", "country_field", "max_repeat",
    "fields", "encoded",
};
static const char *const value_keys[] = { "code", "label", "help", "aliases", "deprecated" };

static void check_keys(loader *L, json_t *o, const char *const *keys, size_t nkeys,
                       const char *where)
{
    const char *k;
    json_t *v;
    json_object_foreach(o, k, v) {
        size_t i;
        for (i = 0; i < nkeys; i++)
            if (strcmp(k, keys[i]) == 0) break;
        if (i == nkeys) lerr(L, where, "codebook-key", "unknown key '%.60s' (a typo?)", k);
    }
}

/* Indexes one folded spelling of value vi; a spelling that already means
 * another value is an error (an import could not tell them apart). */
static void index_value(loader *L, cb_field *f, size_t vi, const char *s,
                        const char *what, const char *where)
{
    char key[CB_KEY_MAX];
    size_t n = strlen(s);
    if (n >= CB_KEY_MAX) {
        lerr(L, where, "codebook-values", "%s '%.40s...' of '%s' is too long", what, s,
             f->values[vi].code);
        return;
    }
    size_t k = sp_fold(s, n, key, sizeof key);
    if (k == 0) {
        lerr(L, where, "codebook-values", "%s '%s' of '%s' has no letters or digits",
             what, s, f->values[vi].code);
        return;
    }
    int old;
    if (sp_map_get(&f->value_index, key, k, &old)) {
        if ((size_t)old != vi)
            lerr(L, where, "codebook-collision",
                 "%s '%s' of '%s' also means '%s'; an import could not tell them apart",
                 what, s, f->values[vi].code, f->values[old].code);
        return;
    }
    sp_map_put(&f->value_index, key, k, (int)vi);
}

static void load_values(loader *L, cb_field *f, json_t *arr, const char *where)
{
    if (!json_is_array(arr) || json_array_size(arr) == 0) {
        lerr(L, where, "codebook-values", "a code field needs a non-empty 'values' list");
        return;
    }
    size_t n = json_array_size(arr);
    f->values = sp_arena_alloc(&L->cb->arena, n * sizeof *f->values);
    memset(f->values, 0, n * sizeof *f->values);
    f->nvalues = n;
    for (size_t i = 0; i < n; i++) {
        json_t *o = json_array_get(arr, i);
        cb_value *v = &f->values[i];
        v->code = v->label = v->help = "";
        if (!json_is_object(o)) {
            lerr(L, where, "codebook-values", "value %zu is not an object", i + 1);
            continue;
        }
        check_keys(L, o, value_keys, sizeof value_keys / sizeof *value_keys, where);
        v->code = get_str(L, o, "code", 1, "", where);
        v->label = get_str(L, o, "label", 1, v->code, where);
        v->help = get_str(L, o, "help", 0, "", where);
        v->deprecated = get_bool(L, o, "deprecated", where);
        if (*v->code && !valid_name(v->code))
            lerr(L, where, "codebook-name",
                 "code '%.60s' must match [a-z][a-z0-9_]* (at most %d characters)",
                 v->code, CB_NAME_MAX);
        for (size_t j = 0; j < i; j++)
            if (*v->code && strcmp(f->values[j].code, v->code) == 0)
                lerr(L, where, "codebook-duplicate", "code '%s' is listed twice", v->code);
        json_t *al = json_object_get(o, "aliases");
        if (al && !json_is_array(al)) {
            lerr(L, where, "codebook-type", "'aliases' of '%s' must be a list", v->code);
            al = NULL;
        }
        size_t na = al ? json_array_size(al) : 0;
        v->aliases = sp_arena_alloc(&L->cb->arena, (na ? na : 1) * sizeof *v->aliases);
        for (size_t j = 0; j < na; j++) {
            json_t *a = json_array_get(al, j);
            const char *s = json_string_value(a);
            if (!s || strlen(s) != json_string_length(a) || !sp_utf8_valid(s, strlen(s))) {
                lerr(L, where, "codebook-type", "alias %zu of '%s' must be text", j + 1, v->code);
                continue;
            }
            v->aliases[v->naliases++] = sp_arena_strdup(&L->cb->arena, s);
        }
    }
    if (L->bad) return;
    /* codes first, so that a label or alias equal to another code is
     * reported against the alias, not the code */
    for (size_t i = 0; i < n; i++) index_value(L, f, i, f->values[i].code, "code", where);
    for (size_t i = 0; i < n; i++) {
        index_value(L, f, i, f->values[i].label, "label", where);
        for (size_t j = 0; j < f->values[i].naliases; j++)
            index_value(L, f, i, f->values[i].aliases[j], "alias", where);
    }
}

static int parse_type(const char *s, cb_type *t)
{
    for (size_t i = 0; i < sizeof type_names / sizeof *type_names; i++)
        if (strcmp(s, type_names[i]) == 0) { *t = (cb_type)i; return 1; }
    return 0;
}

static void load_fields(loader *L, json_t *arr, cb_field *parent, cb_field **out,
                        size_t *nout);

/* Fills f from JSON object o; `where` becomes the field's path. */
static void load_field(loader *L, json_t *o, cb_field *f, cb_field *parent, int index)
{
    char where[160];
    memset(f, 0, sizeof *f);
    sp_map_init(&f->value_index);
    f->index = index;
    f->parent = parent;
    f->country_index = -1;
    f->name = f->label = f->help = f->section = "";
    snprintf(where, sizeof where, "%s%sfield %d", parent ? parent->name : "",
             parent ? "." : "", index + 1);
    if (!json_is_object(o)) {
        lerr(L, where, "codebook-type", "a field must be an object");
        return;
    }
    f->name = get_str(L, o, "name", 1, "", where);
    if (*f->name) {
        snprintf(where, sizeof where, "%s%s%s", parent ? parent->name : "",
                 parent ? "." : "", f->name);
        if (!valid_name(f->name))
            lerr(L, where, "codebook-name",
                 "field name must match [a-z][a-z0-9_]* (at most %d characters)", CB_NAME_MAX);
    }
    check_keys(L, o, field_keys, sizeof field_keys / sizeof *field_keys, where);
    const char *type = get_str(L, o, "type", 1, "", where);
    if (*type && !parse_type(type, &f->type)) {
        lerr(L, where, "codebook-type",
             "unknown type '%.40s' (text, code, integer, decimal, year, date, age, "
             "country, province, currency or group)", type);
        return;
    }
    if (!*type) return;
    f->label = get_str(L, o, "label", 1, f->name, where);
    f->help = get_str(L, o, "help", 0, "", where);
    f->section = get_str(L, o, "section", 0, parent ? parent->section : "", where);
    f->required = get_bool(L, o, "required", where);
    f->multiple = get_bool(L, o, "multiple", where);
    f->sensitive = get_bool(L, o, "sensitive", where);
    f->deprecated = get_bool(L, o, "deprecated", where);
    /* free text may say anything about a person, so it is sensitive unless
     * the codebook says otherwise on purpose ("sensitive": false, as for
     * the names of places); everything in a sensitive group is sensitive */
    if ((f->type == CB_TEXT && !json_object_get(o, "sensitive")) ||
        (parent && parent->sensitive))
        f->sensitive = 1;
    /* an encoding made by spotlight encode identifies a person to whoever
     * holds the key: it is never published, and only a top-level text
     * field (one column the encoder writes) can be one */
    f->encoded = get_bool(L, o, "encoded", where);
    if (f->encoded && (f->type != CB_TEXT || parent))
        lerr(L, where, "codebook-key", "'encoded' applies only to top-level text fields");
    if (f->encoded && json_object_get(o, "sensitive") && !f->sensitive)
        lerr(L, where, "codebook-key", "an encoded field cannot be declared not sensitive");
    if (f->encoded) f->sensitive = 1;

    int has_min, has_max;
    long long mn = 0, mx = 0;
    has_min = get_int(L, o, "min", &mn, where);
    has_max = get_int(L, o, "max", &mx, where);
    switch (f->type) {
    case CB_INTEGER: case CB_DECIMAL:
        f->min = 0; f->max = 1000000000000000LL; break;
    case CB_YEAR: f->min = 1900; f->max = 2100; break;
    case CB_DATE: f->min = 1900; f->max = 2100; break;   /* years */
    case CB_AGE: f->min = 0; f->max = 120; break;
    default:
        if (json_object_get(o, "min") || json_object_get(o, "max"))
            lerr(L, where, "codebook-range", "'min' and 'max' apply only to integer, "
                 "decimal, year, date and age fields");
        break;
    }
    if (has_min) f->min = mn;
    if (has_max) f->max = mx;
    if (f->min > f->max)
        lerr(L, where, "codebook-range", "min %lld is greater than max %lld", f->min, f->max);
    if ((f->type == CB_AGE || f->type == CB_YEAR || f->type == CB_DATE) &&
        (f->min < 0 || f->max > 9999))
        lerr(L, where, "codebook-range", "bounds of a %s field must be within 0..9999",
             type_names[f->type]);
    if ((f->type == CB_INTEGER || f->type == CB_DECIMAL) &&
        (f->min < -1000000000000000LL || f->max > 1000000000000000LL))
        lerr(L, where, "codebook-range", "bounds must be within +-10^15");

    long long ml = CB_TEXT_DEFAULT;
    if (get_int(L, o, "max_length", &ml, where) && f->type != CB_TEXT)
        lerr(L, where, "codebook-key", "'max_length' applies only to text fields");
    if (f->type == CB_TEXT && (ml < 1 || ml > CB_TEXT_CAP))
        lerr(L, where, "codebook-range", "max_length must be 1..%d", CB_TEXT_CAP);
    f->max_length = f->type == CB_TEXT && ml >= 1 && ml <= CB_TEXT_CAP ? (size_t)ml : 0;

    json_t *values = json_object_get(o, "values");
    if (f->type == CB_CODE) load_values(L, f, values, where);
    else if (values) lerr(L, where, "codebook-key", "'values' applies only to code fields");

    json_t *cf = json_object_get(o, "country_field");
    if (f->type == CB_PROVINCE) {
        f->country_field = get_str(L, o, "country_field", 1, NULL, where);
    } else if (cf) {
        lerr(L, where, "codebook-key", "'country_field' applies only to province fields");
    }

    json_t *sub = json_object_get(o, "fields");
    long long mr = 0;
    int has_mr = get_int(L, o, "max_repeat", &mr, where);
    if (f->type == CB_GROUP) {
        if (parent) {
            lerr(L, where, "codebook-group", "groups cannot be nested");
            return;
        }
        if (f->multiple) lerr(L, where, "codebook-group",
                              "a group repeats by max_repeat; it cannot be 'multiple'");
        if (!has_mr || mr < 1 || mr > 100)
            lerr(L, where, "codebook-group", "a group needs max_repeat between 1 and 100");
        f->max_repeat = has_mr && mr >= 1 && mr <= 100 ? (int)mr : 1;
        if (!json_is_array(sub) || json_array_size(sub) == 0)
            lerr(L, where, "codebook-group", "a group needs a non-empty 'fields' list");
        else
            load_fields(L, sub, f, &f->sub, &f->nsub);
    } else {
        if (sub) lerr(L, where, "codebook-key", "'fields' applies only to groups");
        if (has_mr) lerr(L, where, "codebook-key", "'max_repeat' applies only to groups");
    }
}

/* Resolves province -> country sibling links among fields[0..n). */
static void resolve_countries(loader *L, cb_field *fields, size_t n, const char *group)
{
    for (size_t i = 0; i < n; i++) {
        cb_field *f = &fields[i];
        if (f->type != CB_PROVINCE || !f->country_field) continue;
        for (size_t j = 0; j < n; j++)
            if (strcmp(fields[j].name, f->country_field) == 0) f->country_index = (int)j;
        char where[160];
        snprintf(where, sizeof where, "%s%s%s", group ? group : "", group ? "." : "", f->name);
        if (f->country_index < 0)
            lerr(L, where, "codebook-country-field",
                 "country_field '%.60s' is not a field %s", f->country_field,
                 group ? "of the same group" : "at the top level");
        else if (fields[f->country_index].type != CB_COUNTRY ||
                 fields[f->country_index].multiple)
            lerr(L, where, "codebook-country-field",
                 "country_field '%s' must be a single country field", f->country_field);
    }
}

static void load_fields(loader *L, json_t *arr, cb_field *parent, cb_field **out,
                        size_t *nout)
{
    size_t n = json_array_size(arr);
    cb_field *fs = sp_arena_alloc(&L->cb->arena, (n ? n : 1) * sizeof *fs);
    *out = fs;
    for (size_t i = 0; i < n; i++) {
        load_field(L, json_array_get(arr, i), &fs[i], parent, (int)i);
        *nout = i + 1;         /* so codebook_free frees every map */
        for (size_t j = 0; j < i; j++)
            if (*fs[i].name && strcmp(fs[i].name, fs[j].name) == 0)
                lerr(L, fs[i].name, "codebook-duplicate", "field '%s' is defined twice%s%s",
                     fs[i].name, parent ? " in group " : "", parent ? parent->name : "");
    }
    resolve_countries(L, fs, n, parent ? parent->name : NULL);
}

/* Column matching: folded name and label of each top-level field. */
static void build_name_index(loader *L)
{
    sp_codebook *cb = L->cb;
    for (size_t i = 0; i < cb->nfields; i++) {
        const char *keys[2] = { cb->fields[i].name, cb->fields[i].label };
        for (int j = 0; j < 2; j++) {
            char key[CB_KEY_MAX];
            size_t n = strlen(keys[j]);
            if (n >= CB_KEY_MAX) continue;
            size_t k = sp_fold(keys[j], n, key, sizeof key);
            if (!k) continue;
            int old;
            if (sp_map_get(&cb->name_index, key, k, &old)) {
                if ((size_t)old != i)
                    lerr(L, cb->fields[i].name, "codebook-collision",
                         "'%s' reads the same as field '%s'; columns could not be told apart",
                         keys[j], cb->fields[old].name);
                continue;
            }
            sp_map_put(&cb->name_index, key, k, (int)i);
        }
    }
}

static int codebook_load_named(sp_codebook **out, const char *json, size_t len,
                               const sp_gazetteer *gaz, const char *file, sp_err *err);

int codebook_load_mem(sp_codebook **out, const char *json, size_t len,
                      const sp_gazetteer *gaz, sp_err *err)
{
    return codebook_load_named(out, json, len, gaz, "codebook.json", err);
}

/* Parses and checks the codebook JSON; `file` names it in errors. */
static int codebook_load_named(sp_codebook **out, const char *json, size_t len,
                        const sp_gazetteer *gaz, const char *file, sp_err *err)
{
    *out = NULL;
    if (len > CB_MAX_JSON)
        return sp_err_add(err, file, 0, NULL, NULL, 0, "codebook-json",
                          "codebook: the file is larger than %u bytes", CB_MAX_JSON);
    json_error_t je;
    json_t *root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &je);
    if (!root)
        return sp_err_add(err, file, je.line > 0 ? je.line : 0, NULL, NULL, 0,
                          "codebook-json", "codebook: not valid JSON: %s (line %d, column %d)",
                          je.text, je.line, je.column);
    sp_codebook *cb = sp_xcalloc(1, sizeof *cb);
    sp_arena_init(&cb->arena);
    sp_map_init(&cb->name_index);
    cb->gaz = gaz;
    loader L = { cb, err, file, 0 };
    if (!json_is_object(root)) {
        lerr(&L, NULL, "codebook-json", "the top level must be an object");
        goto done;
    }
    static const char *const top_keys[] = { "name", "version", "fields", "description" };
    check_keys(&L, root, top_keys, sizeof top_keys / sizeof *top_keys, NULL);
    cb->version = (char *)get_str(&L, root, "version", 1, "", NULL);
    json_t *fields = json_object_get(root, "fields");
    if (!json_is_array(fields) || json_array_size(fields) == 0) {
        lerr(&L, NULL, "codebook-missing", "'fields' must be a non-empty list");
        goto done;
    }
    if (json_array_size(fields) > 10000) {
        lerr(&L, NULL, "codebook-range", "more than 10000 fields");
        goto done;
    }
    load_fields(&L, fields, NULL, &cb->fields, &cb->nfields);
    if (!L.bad) build_name_index(&L);
done:
    json_decref(root);
    if (L.bad) {
        codebook_free(cb);
        return SP_EINPUT;
    }
    *out = cb;
    return SP_OK;
}

int codebook_load_default(sp_codebook **out, const sp_gazetteer *gaz, sp_err *err)
{
    size_t len = 0;
    const char *p = embed_get("codebook/codebook.json", &len);
    *out = NULL;
    if (!p)
        return sp_err_add(err, "codebook/codebook.json", 0, NULL, NULL, 0, "codebook-json",
                          "codebook: not embedded in this build");
    return codebook_load_named(out, p, len, gaz, "codebook/codebook.json", err);
}

int codebook_load_file(sp_codebook **out, const char *path, const sp_gazetteer *gaz,
                       sp_err *err)
{
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) {
        sp_err_add(err, path, 0, NULL, NULL, 0, "codebook-io", "codebook: cannot open the file");
        return SP_EIO;
    }
    sp_buf b;
    sp_buf_init(&b, CB_MAX_JSON);
    char chunk[8192];
    size_t k;
    int rc = SP_OK;
    while ((k = fread(chunk, 1, sizeof chunk, f)) > 0) {
        if (sp_buf_add(&b, chunk, k) != SP_OK) {
            rc = sp_err_add(err, path, 0, NULL, NULL, 0, "codebook-json",
                            "codebook: the file is larger than %u bytes", CB_MAX_JSON);
            rc = SP_ELIMIT;
            break;
        }
    }
    if (rc == SP_OK && ferror(f)) {
        sp_err_add(err, path, 0, NULL, NULL, 0, "codebook-io", "codebook: read error");
        rc = SP_EIO;
    }
    fclose(f);
    if (rc == SP_OK) rc = codebook_load_named(out, b.data ? b.data : "", b.len, gaz, path, err);
    sp_buf_free(&b);
    return rc;
}

static void free_fields(cb_field *fs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        sp_map_free(&fs[i].value_index);
        if (fs[i].sub) free_fields(fs[i].sub, fs[i].nsub);
    }
}

void codebook_free(sp_codebook *cb)
{
    if (!cb) return;
    free_fields(cb->fields, cb->nfields);
    sp_map_free(&cb->name_index);
    sp_arena_free(&cb->arena);
    free(cb);
}

/* ------------------------------------------------------------ look-ups */

const cb_field *codebook_field(const sp_codebook *cb, const char *name)
{
    if (!cb || !name) return NULL;
    for (size_t i = 0; i < cb->nfields; i++)
        if (strcmp(cb->fields[i].name, name) == 0) return &cb->fields[i];
    return NULL;
}

const cb_field *codebook_subfield(const cb_field *group, const char *name)
{
    if (!group || !name) return NULL;
    for (size_t i = 0; i < group->nsub; i++)
        if (strcmp(group->sub[i].name, name) == 0) return &group->sub[i];
    return NULL;
}

const cb_field *codebook_match(const sp_codebook *cb, const char *s, size_t n)
{
    char key[CB_KEY_MAX];
    int idx;
    if (!cb || !s || n >= CB_KEY_MAX) return NULL;
    size_t k = sp_fold(s, n, key, sizeof key);
    if (!k || !sp_map_get(&cb->name_index, key, k, &idx)) return NULL;
    return &cb->fields[idx];
}

const cb_value *codebook_value(const cb_field *f, const char *s, size_t n)
{
    char key[CB_KEY_MAX];
    int idx;
    if (!f || !s || f->type != CB_CODE || n >= CB_KEY_MAX) return NULL;
    size_t k = sp_fold(s, n, key, sizeof key);
    if (!k || !sp_map_get(&f->value_index, key, k, &idx)) return NULL;
    return &f->values[idx];
}

/* ------------------------------------------------------------ parsing */

/* The value as it may be shown in a message: at most 40 bytes, cut on a
 * character boundary, control characters and broken UTF-8 as '?'. */
static const char *show(sp_arena *a, const char *s, size_t n)
{
    size_t cap = n < 40 ? n : 40;
    char *o = sp_arena_alloc(a, cap + 4);
    size_t j = 0;
    for (size_t i = 0; i < cap;) {
        unsigned char c = (unsigned char)s[i];
        size_t len = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
        if (c >= 0x80 && (i + len > n || !sp_utf8_valid(s + i, len))) len = 0;
        if (len == 0 || c < 0x20 || c == 0x7F) { o[j++] = '?'; i++; continue; }
        if (i + len > cap) break;
        memcpy(o + j, s + i, len);
        j += len;
        i += len;
    }
    if (n > cap) { memcpy(o + j, "...", 3); j += 3; }
    o[j] = '\0';
    return o;
}

static char *afmt(sp_arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static char *afmt(sp_arena *a, const char *fmt, ...)
{
    char tmp[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    return sp_arena_strdup(a, tmp);
}

/* Markers that mean "not known" for numbers, dates, ages, provinces and
 * currencies: they are stored as missing rather than rejected. (Code
 * fields have their own "unknown" code; text is kept as written.) */
static int missing_marker(const char *s, size_t n)
{
    static const char *const m[] = {
        "unknown", "notknown", "na", "nk", "none", "null", "nan", "unk",
    };
    char key[16];
    if (n >= sizeof key) return 0;
    size_t k = sp_fold(s, n, key, sizeof key);
    if (k == 0) return 1;      /* "-", "?", "--", "n/a" folds to "na" */
    for (size_t i = 0; i < sizeof m / sizeof *m; i++)
        if (strcmp(key, m[i]) == 0) return 1;
    return 0;
}

static int fail(const char **rule, const char **why, const char *r, const char *w)
{
    *rule = r;
    *why = w;
    return -1;
}

static int parse_text(const cb_field *f, const char *s, size_t n, cb_cell *out,
                      sp_arena *a, const char **rule, const char **why)
{
    if (!sp_utf8_valid(s, n))
        return fail(rule, why, "bad-text", afmt(a, "%s is not valid UTF-8 text; save the "
                    "file as UTF-8", f->label));
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '\t' || c == '\n') continue;
        if (c == '\r' && i + 1 < n && s[i + 1] == '\n') continue;
        if (c < 0x20 || c == 0x7F || (c == 0xC2 && i + 1 < n &&
                                      (unsigned char)s[i + 1] < 0xA0))
            return fail(rule, why, "bad-text",
                        afmt(a, "%s contains a control character (byte %zu)", f->label, i + 1));
    }
    if (n > f->max_length)
        return fail(rule, why, "too-long", afmt(a, "%s is %zu bytes long; at most %zu are "
                    "allowed", f->label, n, f->max_length));
    out->text = sp_arena_strndup(a, s, n);
    return 0;
}

static int parse_code(const cb_field *f, const char *s, size_t n, cb_cell *out,
                      sp_arena *a, const char **rule, const char **why)
{
    const cb_value *v = codebook_value(f, s, n);
    if (v) {
        out->text = v->code;   /* owned by the codebook, which outlives cells */
        out->i = v - f->values;
        return 0;
    }
    char list[400];
    size_t o = 0, shown = 0;
    list[0] = '\0';
    for (size_t i = 0; i < f->nvalues && shown < 8; i++) {
        if (f->values[i].deprecated) continue;
        int w = snprintf(list + o, sizeof list - o, "%s%s", shown ? ", " : "", f->values[i].code);
        if (w < 0 || (size_t)w >= sizeof list - o) break;
        o += (size_t)w;
        shown++;
    }
    size_t live = 0;
    for (size_t i = 0; i < f->nvalues; i++) live += !f->values[i].deprecated;
    return fail(rule, why, "unknown-code",
                afmt(a, "'%s' is not a known value of %s; use one of: %s%s", show(a, s, n),
                     f->label, list, live > shown ? ", ..." : ""));
}

/* "1,500" and "1,500.50": commas only as thousands separators. Writes the
 * number without them into tmp; returns 0 if the shape is wrong. */
static int strip_thousands(const char *s, size_t n, char *tmp, size_t tmpsz, size_t *outn)
{
    size_t i = 0, o = 0, digits = 0;
    int commas = 0;
    if (n >= tmpsz) return 0;
    if (i < n && (s[i] == '-' || s[i] == '+')) tmp[o++] = s[i++];
    for (; i < n && s[i] != '.' && s[i] != 'e' && s[i] != 'E'; i++) {
        if (s[i] >= '0' && s[i] <= '9') { tmp[o++] = s[i]; digits++; continue; }
        if (s[i] != ',') return 0;
        /* a comma comes after 1-3 digits (first group) or exactly 3 */
        if (digits == 0 || (commas && digits != 3) || (!commas && digits > 3)) return 0;
        commas++;
        digits = 0;
    }
    if (commas && digits != 3) return 0;
    for (; i < n; i++) {
        if (s[i] == ',') return 0;
        tmp[o++] = s[i];
    }
    tmp[o] = '\0';
    *outn = o;
    return 1;
}

static int parse_number(const cb_field *f, const char *s, size_t n, cb_cell *out,
                        sp_arena *a, const char **rule, const char **why)
{
    if (f->type == CB_INTEGER) {
        long long v;
        if (sp_parse_int(s, n, &v))
            return fail(rule, why, "not-a-number",
                        afmt(a, "'%s' is not a whole number (%s)", show(a, s, n), f->label));
        if (v < f->min || v > f->max)
            return fail(rule, why, "out-of-range", afmt(a, "%s must be between %lld and %lld, "
                        "not %lld", f->label, f->min, f->max, v));
        out->i = v;
        out->d = (double)v;
        out->text = afmt(a, "%lld", v);
        return 0;
    }
    char tmp[80];
    size_t tn = 0;
    double d;
    if (!strip_thousands(s, n, tmp, sizeof tmp, &tn) || sp_parse_double(tmp, tn, &d))
        return fail(rule, why, "not-a-number", afmt(a, "'%s' is not a number (%s); write "
                    "1500 or 1500.50, without a currency", show(a, s, n), f->label));
    if (d < (double)f->min || d > (double)f->max)
        return fail(rule, why, "out-of-range", afmt(a, "%s must be between %lld and %lld",
                    f->label, f->min, f->max));
    if (d == 0) d = 0;         /* no "-0" */
    out->d = d;
    out->i = (long long)d;
    out->text = afmt(a, "%.15g", d);
    return 0;
}

static int leap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

/* YYYY-MM-DD or YYYY/MM/DD, optionally followed by a time of day that is
 * ignored ("2016-05-01 00:00:00", "2016-05-01T10:20:00Z"). Returns 0 and
 * sets y/m/d if the shape is right; the calendar is checked by the caller. */
static int scan_date(const char *s, size_t n, int *y, int *m, int *d)
{
    if (n < 8) return -1;
    size_t i = 0;
    int v[3] = { 0, 0, 0 };
    char sep = 0;
    for (int part = 0; part < 3; part++) {
        size_t start = i, maxd = part == 0 ? 4 : 2;
        while (i < n && s[i] >= '0' && s[i] <= '9' && i - start < maxd)
            v[part] = v[part] * 10 + (s[i++] - '0');
        size_t nd = i - start;
        if ((part == 0 && nd != 4) || (part > 0 && (nd < 1 || nd > 2))) return -1;
        if (part < 2) {
            if (i >= n || (s[i] != '-' && s[i] != '/')) return -1;
            if (sep && s[i] != sep) return -1;
            sep = s[i++];
        }
    }
    if (i < n) {
        /* a time of day: [T ]HH:MM[:SS[.fff]][Z] */
        if (s[i] != 'T' && s[i] != ' ') return -1;
        i++;
        size_t rest = n - i;
        if (rest < 5) return -1;
        for (; i < n; i++)
            if (!strchr("0123456789:.Z", s[i])) return -1;
        if (!(s[n - rest + 2] == ':')) return -1;
    }
    *y = v[0];
    *m = v[1];
    *d = v[2];
    return 0;
}

static int valid_ymd(int y, int m, int d)
{
    static const int mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    if (m < 1 || m > 12 || d < 1) return 0;
    return d <= mdays[m - 1] + (m == 2 && leap(y));
}

static int parse_date(const cb_field *f, const char *s, size_t n, cb_cell *out,
                      sp_arena *a, const char **rule, const char **why)
{
    int y, m, d;
    if (scan_date(s, n, &y, &m, &d))
        return fail(rule, why, "bad-date", afmt(a, "'%s' is not a date; write it as "
                    "YYYY-MM-DD (%s)", show(a, s, n), f->label));
    if (!valid_ymd(y, m, d))
        return fail(rule, why, "bad-date", afmt(a, "'%s' is not a real calendar date (%s)",
                    show(a, s, n), f->label));
    if (y < f->min || y > f->max)
        return fail(rule, why, "out-of-range", afmt(a, "the year of %s must be between %lld "
                    "and %lld", f->label, f->min, f->max));
    out->i = (long long)y * 10000 + m * 100 + d;
    out->text = afmt(a, "%04d-%02d-%02d", y, m, d);
    return 0;
}

static int parse_year(const cb_field *f, const char *s, size_t n, cb_cell *out,
                      sp_arena *a, const char **rule, const char **why)
{
    long long v;
    int y, m, d;
    if (sp_parse_int(s, n, &v)) {
        if (scan_date(s, n, &y, &m, &d) || !valid_ymd(y, m, d))
            return fail(rule, why, "not-a-number", afmt(a, "'%s' is not a year (%s)",
                        show(a, s, n), f->label));
        v = y;
    }
    if (v < f->min || v > f->max)
        return fail(rule, why, "out-of-range", afmt(a, "%s must be between %lld and %lld, "
                    "not %lld", f->label, f->min, f->max, v));
    out->i = v;
    out->text = afmt(a, "%lld", v);
    return 0;
}

/* ---- ages */

typedef struct { const char *s; size_t n, i; } scanner;

static void skip_ws(scanner *c)
{
    while (c->i < c->n && (c->s[c->i] == ' ' || c->s[c->i] == '\t')) c->i++;
}

/* Reads an age number (digits, optional ".0"); -1 if none or too big. */
static long scan_num(scanner *c)
{
    skip_ws(c);
    size_t start = c->i;
    long v = 0;
    while (c->i < c->n && c->s[c->i] >= '0' && c->s[c->i] <= '9') {
        if (v > 100000) return -1;
        v = v * 10 + (c->s[c->i++] - '0');
    }
    if (c->i == start) return -1;
    if (c->i + 1 < c->n && c->s[c->i] == '.' && c->s[c->i + 1] == '0') {
        c->i++;
        while (c->i < c->n && c->s[c->i] == '0') c->i++;
    }
    return v;
}

/* Consumes the word w (ASCII, any case) if it comes next. */
static int scan_word(scanner *c, const char *w)
{
    skip_ws(c);
    size_t k = strlen(w);
    if (c->n - c->i < k) return 0;
    for (size_t j = 0; j < k; j++)
        if (tolower((unsigned char)c->s[c->i + j]) != (unsigned char)w[j]) return 0;
    c->i += k;
    return 1;
}

static int scan_end(scanner *c)
{
    skip_ws(c);
    return c->i == c->n;
}

static int parse_age(const cb_field *f, const char *s, size_t n, cb_cell *out,
                     sp_arena *a, const char **rule, const char **why)
{
    scanner c = { s, n, 0 };
    long lo = -1, hi = -1;
    if (scan_word(&c, "<=")) {                         /* "<=17" */
        lo = (long)f->min;
        hi = scan_num(&c);
    } else if (scan_word(&c, "<") || scan_word(&c, "under") || scan_word(&c, "below") ||
               scan_word(&c, "less than")) {            /* "<18", "under 18" */
        long v = scan_num(&c);
        lo = (long)f->min;
        hi = v >= 0 ? v - 1 : -1;
        if (v == 0) hi = -2;
    } else {
        lo = scan_num(&c);
        if (lo >= 0) {
            if (scan_word(&c, "+") || scan_word(&c, "and over") || scan_word(&c, "or over") ||
                scan_word(&c, "or older") || scan_word(&c, "and older") ||
                scan_word(&c, "and above")) {
                hi = (long)f->max;
            } else if (scan_word(&c, "--") || scan_word(&c, "-") || scan_word(&c, "to") ||
                       scan_word(&c, "\xe2\x80\x93") || scan_word(&c, "\xe2\x80\x94")) {
                hi = scan_num(&c);              /* 18-24, 0--8, 18 to 24, 18–24 */
                if (hi >= 0) { scan_word(&c, "years"); scan_word(&c, "yrs"); }
            } else {
                hi = lo;                        /* 25, "25 years" */
                if (!scan_word(&c, "years old") && !scan_word(&c, "years"))
                    scan_word(&c, "yrs");
            }
        }
    }
    if (lo < 0 || hi == -1 || !scan_end(&c))
        return fail(rule, why, "bad-age", afmt(a, "'%s' is not an age; write 25, 18-24, 48+ "
                    "or <18 (%s)", show(a, s, n), f->label));
    if (hi < lo || hi == -2)
        return fail(rule, why, "bad-age", afmt(a, "'%s' is an empty range: the first age is "
                    "above the second (%s)", show(a, s, n), f->label));
    if (lo < f->min || hi > f->max)
        return fail(rule, why, "out-of-range", afmt(a, "%s must be between %lld and %lld, "
                    "not '%s'", f->label, f->min, f->max, show(a, s, n)));
    out->lo = (int)lo;
    out->hi = (int)hi;
    out->i = lo;
    out->text = afmt(a, "%ld-%ld", lo, hi);
    return 0;
}

static int parse_place(const sp_codebook *cb, const cb_field *f, const char *s, size_t n,
                       const char *country, cb_cell *out, sp_arena *a,
                       const char **rule, const char **why)
{
    if (!cb->gaz)
        return fail(rule, why, "no-gazetteer", "countries cannot be checked: the codebook "
                    "was loaded without a gazetteer");
    if (f->type == CB_COUNTRY) {
        if (gazetteer_unknown_marker(s, n)) return 0;
        const gz_country *c = gazetteer_country(cb->gaz, s, n);
        if (!c)
            return fail(rule, why, "unknown-country", afmt(a, "'%s' is not a known country "
                        "(%s); use an ISO 3166-1 code such as VN or KHM, or an English name",
                        show(a, s, n), f->label));
        out->text = sp_arena_strdup(a, c->alpha2);
        out->i = c->numeric;
        return 0;
    }
    if (f->type == CB_CURRENCY) {
        if (missing_marker(s, n)) return 0;
        const char *code = gazetteer_currency(cb->gaz, s, n);
        if (!code)
            return fail(rule, why, "unknown-currency", afmt(a, "'%s' is not a known currency "
                        "(%s); use an ISO 4217 code such as USD or THB", show(a, s, n),
                        f->label));
        out->text = sp_arena_strdup(a, code);
        return 0;
    }
    /* province */
    if (missing_marker(s, n)) return 0;
    const gz_country *c = country && *country ? gazetteer_alpha2(cb->gaz, country) : NULL;
    const gz_province *p = gazetteer_province(cb->gaz, c, s, n);
    if (!p) {
        if (c)
            return fail(rule, why, "unknown-province", afmt(a, "'%s' is not a province of %s "
                        "(%s); use its ISO 3166-2 code (like %s) or its name",
                        show(a, s, n), c->name, f->label,
                        strcmp(c->alpha2, "VN") == 0 ? "VN-44" : "XX-YY"));
        return fail(rule, why, "unknown-province", afmt(a, "'%s' is not an ISO 3166-2 code "
                    "like VN-44 (%s); names are matched only when the country is known",
                    show(a, s, n), f->label));
    }
    if (c && p->country != c)
        return fail(rule, why, "province-country-mismatch", afmt(a, "%s (%s) is in %s, not "
                    "in %s (%s)", p->code, p->name, p->country->name, c->name, f->label));
    out->text = sp_arena_strdup(a, p->code);
    return 0;
}

int codebook_parse(const sp_codebook *cb, const cb_field *f, const char *raw,
                   size_t n, const char *country, cb_cell *out, sp_arena *a,
                   const char **rule, const char **why)
{
    static const char *dummy;
    if (!rule) rule = &dummy;
    if (!why) why = &dummy;
    memset(out, 0, sizeof *out);
    *rule = NULL;
    *why = NULL;
    if (!f || f->type == CB_GROUP)
        return fail(rule, why, "group-value", "a group has no value of its own; give its "
                    "sub-fields instead");
    if (!raw) return 0;
    const char *s = raw;
    n = sp_trim(&s, n);
    if (n == 0) return 0;
    switch (f->type) {
    case CB_TEXT: return parse_text(f, s, n, out, a, rule, why);
    case CB_CODE: return parse_code(f, s, n, out, a, rule, why);
    default: break;
    }
    if (n > 256)
        return fail(rule, why, "too-long", afmt(a, "the value of %s is too long (%zu bytes)",
                    f->label, n));
    switch (f->type) {
    case CB_INTEGER:
    case CB_DECIMAL:
        if (missing_marker(s, n)) return 0;
        return parse_number(f, s, n, out, a, rule, why);
    case CB_YEAR:
        if (missing_marker(s, n)) return 0;
        return parse_year(f, s, n, out, a, rule, why);
    case CB_DATE:
        if (missing_marker(s, n)) return 0;
        return parse_date(f, s, n, out, a, rule, why);
    case CB_AGE:
        if (missing_marker(s, n)) return 0;
        return parse_age(f, s, n, out, a, rule, why);
    case CB_COUNTRY:
    case CB_PROVINCE:
    case CB_CURRENCY:
        return parse_place(cb, f, s, n, country, out, a, rule, why);
    default:
        return fail(rule, why, "bad-type", "the field has an unknown type");
    }
}

/* ------------------------------------------------------------ markdown */

/* Writes s into a Markdown table cell: '|' escaped, newlines as spaces. */
static void md_cell(FILE *out, const char *s)
{
    for (; s && *s; s++) {
        if (*s == '|') fputs("\\|", out);
        else if (*s == '\n' || *s == '\r' || *s == '\t') fputc(' ', out);
        else fputc(*s, out);
    }
}

static void md_field(FILE *out, const cb_field *f, const char *prefix)
{
    fprintf(out, "### `%s%s` -- ", prefix, f->name);
    md_cell(out, f->label);
    fputs("\n\n", out);
    if (f->help && *f->help) fprintf(out, "%s\n\n", f->help);
    fputs("| type | required | multiple | sensitive |", out);
    int bounds = f->type == CB_INTEGER || f->type == CB_DECIMAL || f->type == CB_YEAR ||
                 f->type == CB_AGE || f->type == CB_DATE;
    if (bounds) fputs(" range |", out);
    if (f->type == CB_TEXT) fputs(" max length |", out);
    if (f->type == CB_PROVINCE) fputs(" country from |", out);
    if (f->type == CB_GROUP) fputs(" at most |", out);
    fputs("\n|---|---|---|---|", out);
    if (bounds || f->type == CB_TEXT || f->type == CB_PROVINCE || f->type == CB_GROUP)
        fputs("---|", out);
    fprintf(out, "\n| %s | %s | %s | %s |", codebook_type_name(f->type),
            f->required ? "yes" : "no", f->multiple ? "yes" : "no",
            f->sensitive ? "yes (never published)" : "no");
    if (bounds) fprintf(out, " %lld to %lld |", f->min, f->max);
    if (f->type == CB_TEXT) fprintf(out, " %zu bytes |", f->max_length);
    if (f->type == CB_PROVINCE) fprintf(out, " `%s` |", f->country_field);
    if (f->type == CB_GROUP) fprintf(out, " %d rows |", f->max_repeat);
    fputs("\n\n", out);
    if (f->deprecated) fputs("*Deprecated: kept for old records; do not use.*\n\n", out);
    if (f->encoded)
        fputs("*Made by `spotlight encode` at the partner, never typed: not in the case form, "
              "the XLSForm or any published output.*\n\n", out);
    if (f->type == CB_CODE) {
        fputs("| code | label | meaning | also accepted |\n|---|---|---|---|\n", out);
        for (size_t i = 0; i < f->nvalues; i++) {
            const cb_value *v = &f->values[i];
            fprintf(out, "| `%s`%s | ", v->code, v->deprecated ? " (deprecated)" : "");
            md_cell(out, v->label);
            fputs(" | ", out);
            md_cell(out, v->help);
            fputs(" | ", out);
            for (size_t j = 0; j < v->naliases; j++) {
                if (j) fputs(", ", out);
                md_cell(out, v->aliases[j]);
            }
            fputs(" |\n", out);
        }
        fputs("\n", out);
    }
}

static const char *type_help[] = {
    "free text (UTF-8, trimmed; control characters rejected). Always sensitive.",
    "one of the listed codes; the label and the aliases are accepted on import, in any "
    "case and spacing.",
    "a whole number within the range.",
    "a number within the range: 1500, 1500.50 or 1,500 (commas only as thousands "
    "separators).",
    "a year within the range; a full date gives its year.",
    "YYYY-MM-DD (or YYYY/MM/DD); a time of day after it is ignored.",
    "an exact age (25), a range (18-24, 18--24, 18 to 24), an open band (48+) or an "
    "upper bound (<18, under 18); stored as lo-hi.",
    "ISO 3166-1 alpha-2; alpha-3, numeric codes and English names are accepted. "
    "ZZ, XX, 00, -99 and unknown mean not known.",
    "ISO 3166-2 (VN-44); with the country known, the part after the dash or the "
    "name (with or without accents) is accepted.",
    "ISO 4217 alphabetic code; numeric codes and names are accepted. USDT and USDC "
    "are recorded as USD.",
    "a block of sub-fields that repeats (one row per place or identifier).",
};

int codebook_write_markdown(const sp_codebook *cb, FILE *out)
{
    if (!cb || !out) return SP_EUSAGE;
    fprintf(out, "# Spotlight codebook %s\n\n", cb->version ? cb->version : "");
    fputs("<!-- Generated from codebook/codebook.json by `spotlight codebook --markdown`; "
          "do not edit by hand. -->\n\n", out);
    fputs("Each record is one person. Field and code names never change once published; "
          "retired ones are marked deprecated. Empty cells are missing values. "
          "Sensitive fields are stored for the reporting organisation and vetted "
          "analysts but never appear in published statistics.\n\n## Types\n\n", out);
    for (size_t t = 0; t < sizeof type_help / sizeof *type_help; t++)
        fprintf(out, "- **%s**: %s\n", type_names[t], type_help[t]);
    fputs("\nNumbers, years, dates, ages, provinces and currencies written as `unknown`, "
          "`n/a`, `-` or `?` are stored as missing.\n\n", out);
    /* sections in order of first appearance */
    const char *done[64];
    size_t ndone = 0;
    for (size_t i = 0; i < cb->nfields; i++) {
        const char *sec = cb->fields[i].section;
        int seen = 0;
        for (size_t j = 0; j < ndone; j++) seen |= strcmp(done[j], sec) == 0;
        if (seen) continue;
        if (ndone < sizeof done / sizeof *done) done[ndone++] = sec;
        fprintf(out, "## %c%s\n\n", sec[0] ? toupper((unsigned char)sec[0]) : '-',
                sec[0] ? sec + 1 : "");
        for (size_t k = i; k < cb->nfields; k++) {
            const cb_field *f = &cb->fields[k];
            if (strcmp(f->section, sec) != 0) continue;
            md_field(out, f, "");
            if (f->type == CB_GROUP) {
                char prefix[CB_NAME_MAX + 2];
                snprintf(prefix, sizeof prefix, "%s.", f->name);
                for (size_t j = 0; j < f->nsub; j++) md_field(out, &f->sub[j], prefix);
            }
        }
    }
    return ferror(out) ? SP_EIO : SP_OK;
}
