/* jsonin.c -- JSON input: an array of flat objects, one record each.
 *
 * Accepted shapes: [ {...}, {...} ] or { "records": [ ... ] }. The header is
 * the union of keys in order of first appearance across all objects (a
 * first pass over the parsed array); each record is then laid out in header
 * order, with missing keys as empty cells.
 *
 * Values become text the way a person would type them: strings as they are;
 * integers without ".0"; reals with the fewest digits (15..17) that read
 * back as the same double; true/false as "true"/"false"; null as an empty
 * cell; an array of scalars joined with ";" (multi-valued fields, as the
 * CSV files write them). An array of objects is a repeating group, as
 * `spotlight export --format json` writes places and indicators: element k
 * of "exploitation" with key "country" becomes the column
 * "exploitation_<k>_country", the flat layout's name. A nested object, an
 * array mixing objects and scalars, or anything nested deeper is an error
 * naming the row and key. Row numbers are those a
 * spreadsheet would show: the header is row 1, object k (1-based) is row
 * k + 1.
 *
 * The whole document is parsed by jansson at open (so a syntax error is
 * reported up front with its line and column); duplicate keys in one object
 * are refused, because which value wins would be a guess. */
#include "reader.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

typedef struct jsonin {
    json_t *root;          /* owns everything below */
    json_t *arr;           /* the array of records (borrowed from root) */
    size_t n, next;        /* records, next record index */
    char *name;
    int failed;
    int header_done;
    char **keys;           /* header: the key union (flattened names) */
    size_t *keylen;
    size_t nkeys;
    char **top;            /* per column: the record's key ... */
    size_t *toplen;
    long *elem;            /* ... the group element (0-based) or -1 ... */
    char **sub;            /* ... and the element's key, or NULL */
    size_t *sublen;
    unsigned char *emptyonly; /* plain column seen only as [] so far */
    sp_buf cellbuf;        /* the current row's cells, back to back */
    size_t *off, *lens;
    const char **cells;
    size_t ncap;
    sp_buf tmp;            /* one value's text */
} jsonin;

static int fail(jsonin *j, int rc)
{
    j->failed = rc;
    return rc;
}

/* Writes a real with the fewest significant digits that round-trip. */
static int put_real(sp_buf *b, double v)
{
    char s[40];
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(s, sizeof s, "%.*g", prec, v);
        if (strtod(s, NULL) == v) break;
    }
    return sp_buf_adds(b, s);
}

/* Appends the text of scalar `v` to b. Returns SP_OK, SP_ELIMIT (over the
 * cell cap) or SP_EINPUT if v is not a scalar. */
static int put_scalar(sp_buf *b, const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_STRING:
        return sp_buf_add(b, json_string_value(v), json_string_length(v));
    case JSON_INTEGER:
        return sp_buf_printf(b, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
    case JSON_REAL:
        return put_real(b, json_real_value(v));
    case JSON_TRUE:
        return sp_buf_adds(b, "true");
    case JSON_FALSE:
        return sp_buf_adds(b, "false");
    case JSON_NULL:
        return SP_OK;
    default:
        return SP_EINPUT;
    }
}

/* Adds a header column for `key` (or for element `elem`'s `sub` key of a
 * group) unless it is there already. */
static int add_column(jsonin *j, sp_map *seen, size_t *cap, const char *key, size_t klen,
                      long elem, const char *sub, size_t sublen, int empty, long row,
                      sp_err *err)
{
    sp_buf name;
    int dummy, rc = SP_OK;
    sp_buf_init(&name, 2 * SP_MAX_CELL + 32);
    if (klen > SP_MAX_CELL || sublen > SP_MAX_CELL) {
        sp_err_add(err, j->name, row, NULL, NULL, 0, "cell-too-long",
                   "a key longer than %d bytes", SP_MAX_CELL);
        rc = SP_ELIMIT;
        goto done;
    }
    sp_buf_add(&name, key, klen);
    if (elem >= 0) {
        sp_buf_printf(&name, "_%ld_", elem + 1);
        sp_buf_add(&name, sub, sublen);
    }
    if (sp_map_get(seen, name.data, name.len, &dummy)) {
        if (!empty) j->emptyonly[dummy] = 0;
        goto done;
    }
    if (j->nkeys >= SP_MAX_COLS) {
        sp_err_add(err, j->name, row, NULL, NULL, 0, "too-many-columns",
                   "the records have more than %d different keys", SP_MAX_COLS);
        rc = SP_ELIMIT;
        goto done;
    }
    sp_map_put(seen, name.data, name.len, (int)j->nkeys);
    if (j->nkeys == *cap) {
        *cap = *cap ? *cap * 2 : 16;
        j->keys = sp_xrealloc(j->keys, *cap * sizeof *j->keys);
        j->keylen = sp_xrealloc(j->keylen, *cap * sizeof *j->keylen);
        j->top = sp_xrealloc(j->top, *cap * sizeof *j->top);
        j->toplen = sp_xrealloc(j->toplen, *cap * sizeof *j->toplen);
        j->elem = sp_xrealloc(j->elem, *cap * sizeof *j->elem);
        j->sub = sp_xrealloc(j->sub, *cap * sizeof *j->sub);
        j->sublen = sp_xrealloc(j->sublen, *cap * sizeof *j->sublen);
        j->emptyonly = sp_xrealloc(j->emptyonly, *cap * sizeof *j->emptyonly);
    }
    size_t k = j->nkeys++;
    j->keylen[k] = name.len;
    j->keys[k] = sp_buf_steal(&name);
    j->top[k] = sp_xstrndup(key, klen);
    j->toplen[k] = klen;
    j->elem[k] = elem;
    j->sub[k] = sub ? sp_xstrndup(sub, sublen) : NULL;
    j->sublen[k] = sublen;
    j->emptyonly[k] = (unsigned char)empty;
done:
    sp_buf_free(&name);
    return rc;
}

/* Builds the header (key union in order of first appearance) and checks
 * that every element is an object. */
static int build_header(jsonin *j, sp_err *err)
{
    sp_map seen;
    sp_map_init(&seen);
    int rc = SP_OK;
    size_t cap = 0;
    for (size_t i = 0; i < j->n; i++) {
        json_t *o = json_array_get(j->arr, i);
        if (!json_is_object(o)) {
            rc = sp_err_add(err, j->name, (long)i + 2, NULL, NULL, 0, "json-not-object",
                            "record %zu of the array is not an object "
                            "({\"key\": value, ...})", i + 1);
            goto done;
        }
        const char *key;
        size_t klen;
        json_t *v;
        json_object_keylen_foreach(o, key, klen, v) {
            if (json_is_array(v) && json_array_size(v) > 0 &&
                json_is_object(json_array_get(v, 0))) {
                /* a repeating group: one column per element and sub-key */
                for (size_t e = 0; e < json_array_size(v) && rc == SP_OK; e++) {
                    json_t *el = json_array_get(v, e);
                    if (!json_is_object(el)) {
                        rc = sp_err_add(err, j->name, (long)i + 2, key, NULL, 0, "json-nested",
                                        "a list that mixes objects with other values");
                        goto done;
                    }
                    const char *sk;
                    size_t sklen;
                    json_t *sv;
                    json_object_keylen_foreach(el, sk, sklen, sv) {
                        (void)sv;
                        if ((rc = add_column(j, &seen, &cap, key, klen, (long)e, sk, sklen, 0,
                                             (long)i + 2, err)))
                            goto done;
                    }
                }
                continue;
            }
            int empty = json_is_array(v) && json_array_size(v) == 0;
            if ((rc = add_column(j, &seen, &cap, key, klen, -1, NULL, 0, empty, (long)i + 2,
                                 err)))
                goto done;
        }
    }
    /* an empty list said nothing about the shape: if the key turned out to
     * be a group elsewhere, its plain column goes */
    size_t out = 0;
    for (size_t k = 0; k < j->nkeys; k++) {
        int drop = 0;
        if (j->elem[k] < 0 && j->emptyonly[k])
            for (size_t m = 0; m < j->nkeys && !drop; m++)
                drop = j->elem[m] >= 0 && j->toplen[m] == j->toplen[k] &&
                       memcmp(j->top[m], j->top[k], j->toplen[k]) == 0;
        if (drop) {
            free(j->keys[k]);
            free(j->top[k]);
            continue;
        }
        j->keys[out] = j->keys[k];
        j->keylen[out] = j->keylen[k];
        j->top[out] = j->top[k];
        j->toplen[out] = j->toplen[k];
        j->elem[out] = j->elem[k];
        j->sub[out] = j->sub[k];
        j->sublen[out] = j->sublen[k];
        j->emptyonly[out] = j->emptyonly[k];
        out++;
    }
    j->nkeys = out;
    if (j->nkeys == 0) {
        rc = sp_err_add(err, j->name, 0, NULL, NULL, 0, "empty-file",
                        j->n ? "the records have no keys, so there is no header"
                             : "the file is empty (the array has no records)");
        goto done;
    }
    j->ncap = j->nkeys;
    j->off = sp_xcalloc(j->ncap, sizeof *j->off);
    j->lens = sp_xcalloc(j->ncap, sizeof *j->lens);
    j->cells = sp_xcalloc(j->ncap, sizeof *j->cells);
done:
    sp_map_free(&seen);
    return rc;
}

/* Lays out record `i` in header order into cellbuf. */
static int layout_record(jsonin *j, size_t i, sp_err *err)
{
    json_t *o = json_array_get(j->arr, i);
    long row = (long)i + 2;
    sp_buf_reset(&j->cellbuf);
    for (size_t k = 0; k < j->nkeys; k++) {
        json_t *v = json_object_getn(o, j->top[k], j->toplen[k]);
        if (v && j->elem[k] >= 0) {
            /* a group column: element elem[k], key sub[k] */
            json_t *el = json_is_array(v) ? json_array_get(v, (size_t)j->elem[k]) : NULL;
            if (json_is_array(v) && json_array_size(v) > 0 && !json_is_object(el) && el) {
                sp_err_add(err, j->name, row, j->top[k], NULL, 0, "json-nested",
                           "a list that mixes objects with other values");
                return fail(j, SP_EINPUT);
            }
            v = json_is_object(el) ? json_object_getn(el, j->sub[k], j->sublen[k]) : NULL;
        } else if (v && json_is_array(v) && json_array_size(v) > 0 &&
                   json_is_object(json_array_get(v, 0))) {
            /* this record has a group where others had a plain value */
            sp_err_add(err, j->name, row, j->top[k], NULL, 0, "json-nested",
                       "a list of objects where other records have a plain value");
            return fail(j, SP_EINPUT);
        }
        sp_buf_reset(&j->tmp);
        int rc = SP_OK;
        if (!v) {
            /* missing key: empty cell */
        } else if (json_is_object(v)) {
            sp_err_add(err, j->name, row, j->keys[k], NULL, 0, "json-nested",
                       "a nested object; only flat records (text, numbers, "
                       "true/false, null, or lists of these) can be imported");
            return fail(j, SP_EINPUT);
        } else if (json_is_array(v)) {
            for (size_t e = 0; e < json_array_size(v) && rc == SP_OK; e++) {
                json_t *x = json_array_get(v, e);
                if (json_is_object(x) || json_is_array(x)) {
                    sp_err_add(err, j->name, row, j->keys[k], NULL, 0, "json-nested",
                               "a list holding an object or a list; only lists "
                               "of text, numbers or true/false can be imported");
                    return fail(j, SP_EINPUT);
                }
                if (json_is_null(x)) continue;
                if (j->tmp.len) rc = sp_buf_addc(&j->tmp, ';');
                if (rc == SP_OK) rc = put_scalar(&j->tmp, x);
            }
        } else {
            rc = put_scalar(&j->tmp, v);
        }
        if (rc != SP_OK) {
            sp_err_add(err, j->name, row, j->keys[k], NULL, 0, "cell-too-long",
                       "a value longer than %d bytes", SP_MAX_CELL);
            return fail(j, SP_ELIMIT);
        }
        j->off[k] = j->cellbuf.len;
        j->lens[k] = j->tmp.len;
        /* the row total is bounded by nkeys * (SP_MAX_CELL + 1) */
        if (sp_buf_add(&j->cellbuf, j->tmp.data ? j->tmp.data : "", j->tmp.len + 1) != SP_OK) {
            sp_err_add(err, j->name, row, NULL, NULL, 0, "row-too-long",
                       "a record too large to import");
            return fail(j, SP_ELIMIT);
        }
    }
    return SP_OK;
}

static int json_next(void *state, sp_row *out, sp_err *err)
{
    jsonin *j = state;
    if (j->failed) return j->failed;
    if (!j->header_done) {
        j->header_done = 1;
        for (size_t k = 0; k < j->nkeys; k++) j->lens[k] = j->keylen[k];
        out->ncells = j->nkeys;
        out->cell = (const char *const *)j->keys;
        out->len = j->lens;
        out->row = 1;
        return SP_OK;
    }
    if (j->next >= j->n) return SP_EOF;
    size_t i = j->next;
    int rc = layout_record(j, i, err);
    if (rc != SP_OK) return rc;
    j->next++;
    for (size_t k = 0; k < j->nkeys; k++) j->cells[k] = j->cellbuf.data + j->off[k];
    out->ncells = j->nkeys;
    out->cell = j->cells;
    out->len = j->lens;
    out->row = (long)i + 2;
    return SP_OK;
}

static void json_progress(const void *state, uint64_t *done, uint64_t *total)
{
    const jsonin *j = state;
    /* parsing happened at open; report records laid out */
    *total = j->n;
    *done = j->next;
}

static void json_close(void *state)
{
    jsonin *j = state;
    if (!j) return;
    json_decref(j->root);
    for (size_t k = 0; k < j->nkeys; k++) {
        free(j->keys[k]);
        free(j->top[k]);
        free(j->sub[k]);
    }
    free(j->keys);
    free(j->keylen);
    free(j->top);
    free(j->toplen);
    free(j->elem);
    free(j->sub);
    free(j->sublen);
    free(j->emptyonly);
    free(j->off);
    free(j->lens);
    free(j->cells);
    sp_buf_free(&j->cellbuf);
    sp_buf_free(&j->tmp);
    free(j->name);
    free(j);
}

static const sp_reader_ops json_ops = { json_next, json_progress, json_close };

/* Parses data[0..len) (at most SP_MAX_JSON bytes) and builds the header.
 * The state owns the parsed tree; `data` is not needed after this returns,
 * but the contract says it must outlive the state anyway. */
int json_open_mem(void **state, const sp_reader_ops **ops, const char *data,
                  size_t len, const char *name, sp_err *err)
{
    *state = NULL;
    *ops = NULL;
    const char *nm = name ? name : "input";
    if (len > (size_t)SP_MAX_JSON) {
        sp_err_add(err, nm, 0, NULL, NULL, 0, "file-too-large",
                   "a JSON file larger than %ld MB; split it or use CSV",
                   SP_MAX_JSON / (1024 * 1024));
        return SP_ELIMIT;
    }
    /* a UTF-8 BOM is not JSON, but editors write one: skip it */
    if (len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0) { data += 3; len -= 3; }
    json_error_t je;
    json_t *root = json_loadb(data, len, JSON_REJECT_DUPLICATES, &je);
    if (!root) {
        if (je.line > 0)
            sp_err_add(err, nm, 0, NULL, NULL, 0, "bad-json",
                       "not valid JSON at line %d, column %d: %s",
                       je.line, je.column, je.text);
        else
            sp_err_add(err, nm, 0, NULL, NULL, 0, "bad-json",
                       "not valid JSON: %s", je.text);
        return SP_EINPUT;
    }
    json_t *arr = root;
    if (json_is_object(root)) {
        arr = json_object_get(root, "records");
        if (!arr || !json_is_array(arr)) {
            json_decref(root);
            sp_err_add(err, nm, 0, NULL, NULL, 0, "json-shape",
                       "expected an array of records [ {...}, ... ] or an "
                       "object {\"records\": [ ... ]}");
            return SP_EINPUT;
        }
    } else if (!json_is_array(root)) {
        json_decref(root);
        sp_err_add(err, nm, 0, NULL, NULL, 0, "json-shape",
                   "expected an array of records [ {...}, ... ]");
        return SP_EINPUT;
    }
    jsonin *j = sp_xcalloc(1, sizeof *j);
    j->root = root;
    j->arr = arr;
    j->n = json_array_size(arr);
    j->name = sp_xstrdup(nm);
    sp_buf_init(&j->cellbuf, (size_t)SP_MAX_COLS * (SP_MAX_CELL + 1));
    sp_buf_init(&j->tmp, SP_MAX_CELL);
    int rc = build_header(j, err);
    if (rc != SP_OK) {
        json_close(j);
        return rc;
    }
    *state = j;
    *ops = &json_ops;
    return SP_OK;
}
