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
 * CSV files write them). A nested object, or an array holding an object or
 * array, is an error naming the row and key. Row numbers are those a
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
    char **keys;           /* header: the key union */
    size_t *keylen;
    size_t nkeys;
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
            int dummy;
            (void)v;
            if (sp_map_get(&seen, key, klen, &dummy)) continue;
            if (j->nkeys >= SP_MAX_COLS) {
                sp_err_add(err, j->name, (long)i + 2, NULL, NULL, 0, "too-many-columns",
                           "the records have more than %d different keys", SP_MAX_COLS);
                rc = SP_ELIMIT;
                goto done;
            }
            if (klen > SP_MAX_CELL) {
                sp_err_add(err, j->name, (long)i + 2, NULL, NULL, 0, "cell-too-long",
                           "a key longer than %d bytes", SP_MAX_CELL);
                rc = SP_ELIMIT;
                goto done;
            }
            sp_map_put(&seen, key, klen, (int)j->nkeys);
            if (j->nkeys == cap) {
                cap = cap ? cap * 2 : 16;
                j->keys = sp_xrealloc(j->keys, cap * sizeof *j->keys);
                j->keylen = sp_xrealloc(j->keylen, cap * sizeof *j->keylen);
            }
            j->keys[j->nkeys] = sp_xstrndup(key, klen);
            j->keylen[j->nkeys] = klen;
            j->nkeys++;
        }
    }
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
        json_t *v = json_object_getn(o, j->keys[k], j->keylen[k]);
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
    for (size_t k = 0; k < j->nkeys; k++) free(j->keys[k]);
    free(j->keys);
    free(j->keylen);
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
