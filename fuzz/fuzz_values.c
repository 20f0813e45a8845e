/* fuzz_values.c -- feeds bytes to codebook_parse for every field of the
 * default codebook, to the gazetteer look-ups, and (mode 0xFF) to
 * codebook_load_mem as a whole codebook JSON.
 *
 * First byte: 0xFF = codebook JSON; 0xF0..0xFE = gazetteer look-ups;
 * otherwise it picks the field (modulo the number of fields, sub-fields
 * included) and its low bit whether a related country ("VN") is given. */
#include "codebook.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static sp_gazetteer *gaz;
static sp_codebook *cb;
static const cb_field **flat;
static size_t nflat;

static void init(void)
{
    sp_err err;
    sp_err_init(&err);
    if (gazetteer_load(&gaz, NULL, &err) != SP_OK ||
        codebook_load_default(&cb, gaz, &err) != SP_OK) {
        sp_err_print(&err, stderr);
        abort();
    }
    sp_err_free(&err);
    size_t n = 0;
    for (size_t i = 0; i < cb->nfields; i++)
        n += cb->fields[i].type == CB_GROUP ? cb->fields[i].nsub : 1;
    flat = calloc(n + 1, sizeof *flat);
    if (!flat) abort();
    for (size_t i = 0; i < cb->nfields; i++) {
        const cb_field *f = &cb->fields[i];
        if (f->type != CB_GROUP) { flat[nflat++] = f; continue; }
        for (size_t j = 0; j < f->nsub; j++) flat[nflat++] = &f->sub[j];
    }
}

static void check_cell(const cb_field *f, const cb_cell *c)
{
    if (!c->text) return;
    if (!sp_utf8_valid(c->text, strlen(c->text))) abort();
    if (f->type == CB_AGE && (c->lo > c->hi || c->lo < f->min || c->hi > f->max)) abort();
    if (f->type == CB_TEXT && strlen(c->text) > f->max_length) abort();
    if (f->type == CB_CODE && !codebook_value(f, c->text, strlen(c->text))) abort();
    if (f->type == CB_COUNTRY && !gazetteer_alpha2(gaz, c->text)) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!cb) init();
    if (size < 1) return 0;
    const char *s = (const char *)data + 1;
    size_t n = size - 1;
    if (data[0] == 0xFF) {
        sp_err err;
        sp_err_init(&err);
        sp_codebook *c = NULL;
        int rc = codebook_load_mem(&c, s, n, gaz, &err);
        if ((rc == SP_OK) != (c != NULL)) abort();
        if (rc != SP_OK && err.count == 0) abort();   /* failure says why */
        if (c) {
            FILE *f = fopen("/dev/null", "w");
            if (f) { codebook_write_markdown(c, f); fclose(f); }
        }
        codebook_free(c);
        sp_err_free(&err);
        return 0;
    }
    if (data[0] >= 0xF0) {
        const gz_country *c = gazetteer_country(gaz, s, n);
        if (c && gazetteer_alpha2(gaz, c->alpha2) != c) abort();
        const gz_province *p = gazetteer_province(gaz, c ? c : gazetteer_alpha2(gaz, "VN"), s, n);
        if (p && gazetteer_province_at(gaz, (size_t)p->index) != p) abort();
        gazetteer_province(gaz, NULL, s, n);
        gazetteer_currency(gaz, s, n);
        gazetteer_unknown_marker(s, n);
        codebook_match(cb, s, n);
        char tmp[128];
        size_t k = n < sizeof tmp - 1 ? n : sizeof tmp - 1;
        memcpy(tmp, s, k);
        tmp[k] = '\0';
        gazetteer_region(tmp);
        return 0;
    }
    const cb_field *f = flat[data[0] % nflat];
    sp_arena a;
    sp_arena_init(&a);
    cb_cell cell;
    const char *rule = NULL, *why = NULL;
    int rc = codebook_parse(cb, f, s, n, (data[0] & 1) ? "VN" : NULL, &cell, &a, &rule, &why);
    if (rc == 0) {
        if (rule || why) abort();
        check_cell(f, &cell);
    } else if (rc != -1 || !rule || !why || !*why || !sp_utf8_valid(why, strlen(why))) {
        abort();
    }
    sp_arena_free(&a);
    return 0;
}
