/* mapping.c -- see mapping.h. */
#include "mapping.h"
#include "embed.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#define MAPPING_MAX_BYTES (4 * 1024 * 1024)

static const char *const builtin[] = {"ctdc", "ctdc-synthetic", "kobo", NULL};

const char *const *mapping_builtin_names(void)
{
    return builtin;
}

/* Key for value translation: trimmed, ASCII lower-cased, inner white space
 * collapsed. Unlike sp_fold it keeps punctuation, so "48+" and "48" or
 * "<5" and "5" stay different. */
static size_t vkey(const char *s, size_t n, char *out, size_t outsz)
{
    size_t o = 0;
    int space = 0;
    n = sp_trim(&s, n);
    for (size_t i = 0; i < n && o + 1 < outsz; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == ' ' || c == '\t' || c == '\r' || c == '\n') { space = 1; continue; }
        if (space && o + 2 < outsz) out[o++] = ' ';
        space = 0;
        out[o++] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
    }
    out[o] = '\0';
    return o;
}

static void strv_free(char **v, size_t n)
{
    if (!v) return;
    for (size_t i = 0; i < n; i++) free(v[i]);
    free(v);
}

void mapping_free(sp_mapping *m)
{
    if (!m) return;
    free(m->name);
    free(m->description);
    for (size_t i = 0; i < m->ntargets; i++) {
        free(m->targets[i].target);
        strv_free(m->targets[i].sources, m->targets[i].nsources);
    }
    free(m->targets);
    for (size_t i = 0; i < m->nvalues; i++) {
        free(m->values[i].field);
        sp_map_free(&m->values[i].from);
        strv_free(m->values[i].to, m->values[i].nto);
    }
    free(m->values);
    for (size_t i = 0; i < m->nflags; i++) {
        free(m->flags[i].column);
        free(m->flags[i].target);
        free(m->flags[i].code);
        strv_free(m->flags[i].truthy, m->flags[i].ntruthy);
    }
    free(m->flags);
    strv_free(m->const_target, m->nconst);
    strv_free(m->const_value, m->nconst);
    strv_free(m->ignore, m->nignore);
    free(m->separators);
    free(m);
}

/* A string or an array of strings into a new vector; -1 if neither. */
static int strv_from_json(json_t *j, char ***out, size_t *n)
{
    *out = NULL;
    *n = 0;
    if (json_is_string(j)) {
        *out = sp_xmalloc(sizeof **out);
        (*out)[0] = sp_xstrdup(json_string_value(j));
        *n = 1;
        return 0;
    }
    if (!json_is_array(j) || json_array_size(j) == 0) return -1;
    size_t k = json_array_size(j);
    *out = sp_xcalloc(k, sizeof **out);
    for (size_t i = 0; i < k; i++) {
        json_t *e = json_array_get(j, i);
        if (!json_is_string(e)) {
            strv_free(*out, i);
            *out = NULL;
            return -1;
        }
        (*out)[i] = sp_xstrdup(json_string_value(e));
        *n = i + 1;
    }
    return 0;
}

static int bad(sp_err *err, const char *name, const char *what)
{
    return sp_err_add(err, name, 0, NULL, NULL, 0, "bad-mapping",
                      "this mapping file is not valid: %s (see docs/mappings.md)", what);
}

int mapping_load_mem(sp_mapping **out, const char *text, size_t len,
                     const char *name, sp_err *err)
{
    int rc = SP_EINPUT;
    json_error_t je;
    *out = NULL;
    if (len > MAPPING_MAX_BYTES) return bad(err, name, "larger than 4 MiB");
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    if (!root) {
        return sp_err_add(err, name, je.line, NULL, NULL, 0, "bad-mapping",
                          "mapping is not valid JSON (line %d, column %d): %s",
                          je.line, je.column, je.text);
    }
    sp_mapping *m = sp_xcalloc(1, sizeof *m);
    if (!json_is_object(root)) { bad(err, name, "the top level must be an object"); goto done; }
    json_t *j = json_object_get(root, "direction");
    if (j && (!json_is_string(j) || strcmp(json_string_value(j), "import") != 0)) {
        bad(err, name, "\"direction\" must be \"import\" for an import mapping");
        goto done;
    }
    j = json_object_get(root, "name");
    m->name = sp_xstrdup(json_is_string(j) ? json_string_value(j) : name);
    j = json_object_get(root, "description");
    m->description = sp_xstrdup(json_is_string(j) ? json_string_value(j) : "");
    j = json_object_get(root, "separator");
    m->separators = sp_xstrdup(json_is_string(j) ? json_string_value(j) : ";|");

    const char *key;
    json_t *val;
    json_t *fields = json_object_get(root, "fields");
    if (fields) {
        if (!json_is_object(fields)) { bad(err, name, "\"fields\" must be an object"); goto done; }
        m->targets = sp_xcalloc(json_object_size(fields), sizeof *m->targets);
        json_object_foreach(fields, key, val) {
            map_target *t = &m->targets[m->ntargets];
            if (strv_from_json(val, &t->sources, &t->nsources)) {
                sp_err_add(err, name, 0, NULL, key, strlen(key), "bad-mapping",
                           "field '%s' must map to a column name or a list of column names", key);
                goto done;
            }
            t->target = sp_xstrdup(key);
            m->ntargets++;
        }
    }
    json_t *values = json_object_get(root, "values");
    if (values) {
        if (!json_is_object(values)) { bad(err, name, "\"values\" must be an object"); goto done; }
        m->values = sp_xcalloc(json_object_size(values), sizeof *m->values);
        json_object_foreach(values, key, val) {
            map_valueset *vs = &m->values[m->nvalues++];
            vs->field = sp_xstrdup(key);
            sp_map_init(&vs->from);
            if (!json_is_object(val)) {
                sp_err_add(err, name, 0, NULL, key, strlen(key), "bad-mapping",
                           "values for '%s' must be an object of \"raw\": \"code\"", key);
                goto done;
            }
            vs->to = sp_xcalloc(json_object_size(val), sizeof *vs->to);
            const char *raw;
            json_t *to;
            json_object_foreach(val, raw, to) {
                if (!json_is_string(to)) {
                    sp_err_add(err, name, 0, NULL, raw, strlen(raw), "bad-mapping",
                               "the translation of '%s' for '%s' must be a string", raw, key);
                    goto done;
                }
                char fk[512];
                size_t fl = vkey(raw, strlen(raw), fk, sizeof fk);
                vs->to[vs->nto] = sp_xstrdup(json_string_value(to));
                sp_map_put(&vs->from, fk, fl, (int)vs->nto);
                vs->nto++;
            }
        }
    }
    json_t *flags = json_object_get(root, "flags");
    if (flags) {
        if (!json_is_array(flags)) { bad(err, name, "\"flags\" must be an array"); goto done; }
        m->flags = sp_xcalloc(json_array_size(flags), sizeof *m->flags);
        size_t i;
        json_array_foreach(flags, i, val) {
            json_t *c = json_object_get(val, "column"), *f = json_object_get(val, "field"),
                   *code = json_object_get(val, "code"), *tr = json_object_get(val, "true");
            if (!json_is_string(c) || !json_is_string(f) || !json_is_string(code)) {
                bad(err, name, "each flag needs \"column\", \"field\" and \"code\" strings");
                goto done;
            }
            map_flag *fl = &m->flags[m->nflags++];
            fl->column = sp_xstrdup(json_string_value(c));
            fl->target = sp_xstrdup(json_string_value(f));
            fl->code = sp_xstrdup(json_string_value(code));
            if (tr) {
                if (strv_from_json(tr, &fl->truthy, &fl->ntruthy)) {
                    bad(err, name, "a flag's \"true\" must be a string or a list of strings");
                    goto done;
                }
            } else {
                fl->truthy = sp_xmalloc(sizeof *fl->truthy);
                fl->truthy[0] = sp_xstrdup("1");
                fl->ntruthy = 1;
            }
        }
    }
    json_t *consts = json_object_get(root, "constants");
    if (consts) {
        if (!json_is_object(consts)) { bad(err, name, "\"constants\" must be an object"); goto done; }
        size_t k = json_object_size(consts);
        m->const_target = sp_xcalloc(k, sizeof (char *));
        m->const_value = sp_xcalloc(k, sizeof (char *));
        json_object_foreach(consts, key, val) {
            if (!json_is_string(val)) { bad(err, name, "constants must be strings"); goto done; }
            m->const_target[m->nconst] = sp_xstrdup(key);
            m->const_value[m->nconst] = sp_xstrdup(json_string_value(val));
            m->nconst++;
        }
    }
    json_t *ign = json_object_get(root, "ignore");
    if (ign && strv_from_json(ign, &m->ignore, &m->nignore)) {
        bad(err, name, "\"ignore\" must be a list of column names");
        goto done;
    }
    j = json_object_get(root, "case_ref");
    if (j) {
        if (!json_is_string(j) || strcmp(json_string_value(j), "row") != 0) {
            bad(err, name, "\"case_ref\" can only be \"row\" (generate from the row number)");
            goto done;
        }
        m->case_ref_from_row = 1;
    }
    rc = SP_OK;
done:
    json_decref(root);
    if (rc) mapping_free(m);
    else *out = m;
    return rc;
}

int mapping_load(sp_mapping **out, const char *name_or_path, sp_err *err)
{
    char ename[256];
    size_t len;
    *out = NULL;
    if (strlen(name_or_path) < 100 && !strchr(name_or_path, '/')) {
        snprintf(ename, sizeof ename, "mappings/%s.json", name_or_path);
        const char *data = embed_get(ename, &len);
        if (data) return mapping_load_mem(out, data, len, name_or_path, err);
    }
    FILE *f = fopen(name_or_path, "rb");
    if (!f) {
        sp_buf names;
        sp_buf_init(&names, 4096);
        for (const char *const *b = builtin; *b; b++)
            sp_buf_printf(&names, "%s%s", names.len ? ", " : "", *b);
        sp_err_add(err, name_or_path, 0, NULL, NULL, 0, "unknown-mapping",
                   "no built-in mapping of that name (built-in: %s) and no such file",
                   names.data ? names.data : "");
        sp_buf_free(&names);
        return SP_EINPUT;
    }
    sp_buf b;
    sp_buf_init(&b, MAPPING_MAX_BYTES);
    char chunk[8192];
    size_t n;
    int rc = SP_OK;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        if ((rc = sp_buf_add(&b, chunk, n))) break;
    fclose(f);
    if (rc) {
        sp_buf_free(&b);
        return bad(err, name_or_path, "larger than 4 MiB");
    }
    rc = mapping_load_mem(out, b.data ? b.data : "", b.len, name_or_path, err);
    sp_buf_free(&b);
    return rc;
}

const char *mapping_translate(const sp_mapping *m, const char *field,
                              const char *raw, size_t n)
{
    for (size_t i = 0; i < m->nvalues; i++) {
        const map_valueset *vs = &m->values[i];
        if (strcmp(vs->field, field) != 0) continue;
        char fk[512];
        size_t fl = vkey(raw, n, fk, sizeof fk);
        int idx;
        if (sp_map_get(&vs->from, fk, fl, &idx)) return vs->to[idx];
        return NULL;
    }
    return NULL;
}
