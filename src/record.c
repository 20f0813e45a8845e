/* record.c -- see record.h. */
#include "record.h"

#include <stdlib.h>
#include <string.h>

void record_init(sp_record *r, const sp_codebook *cb)
{
    r->cb = cb;
    r->vals = sp_xcalloc(cb->nfields, sizeof *r->vals);
    r->groups = sp_xcalloc(cb->nfields, sizeof *r->groups);
    r->row = 0;
    sp_arena_init(&r->arena);
}

void record_reset(sp_record *r)
{
    for (size_t f = 0; f < r->cb->nfields; f++) {
        r->vals[f].n = 0;
        r->groups[f].nrows = 0;
    }
    r->row = 0;
    sp_arena_reset(&r->arena);
}

void record_free(sp_record *r)
{
    if (!r->vals) return;
    for (size_t f = 0; f < r->cb->nfields; f++) {
        free(r->vals[f].v);
        free(r->groups[f].cells);
    }
    free(r->vals);
    free(r->groups);
    r->vals = NULL;
    r->groups = NULL;
    sp_arena_free(&r->arena);
}

int record_add(sp_record *r, int f, const cb_cell *c)
{
    const cb_field *fd = &r->cb->fields[f];
    rec_values *rv = &r->vals[f];
    if (fd->type == CB_GROUP) return SP_EUSAGE;
    if (!fd->multiple && rv->n >= 1) return SP_EINPUT;
    if (fd->multiple) {
        for (size_t i = 0; i < rv->n; i++)
            if (rv->v[i].text && c->text && strcmp(rv->v[i].text, c->text) == 0)
                return SP_OK;
    }
    if (rv->n == rv->alloc) {
        rv->alloc = rv->alloc ? rv->alloc * 2 : 4;
        rv->v = sp_xrealloc(rv->v, rv->alloc * sizeof *rv->v);
    }
    rv->v[rv->n++] = *c;
    return SP_OK;
}

const cb_cell *record_get(const sp_record *r, int f)
{
    const rec_values *rv = &r->vals[f];
    return rv->n ? &rv->v[0] : NULL;
}

cb_cell *record_group_cell(sp_record *r, int f, size_t row, int sub)
{
    const cb_field *fd = &r->cb->fields[f];
    rec_group *g = &r->groups[f];
    if (fd->type != CB_GROUP || row >= (size_t)fd->max_repeat || sub < 0 ||
        (size_t)sub >= fd->nsub)
        return NULL;
    if (row >= g->alloc_rows) {
        size_t na = g->alloc_rows ? g->alloc_rows : 2;
        while (na <= row) na *= 2;
        g->cells = sp_xrealloc(g->cells, na * fd->nsub * sizeof *g->cells);
        g->alloc_rows = na;
    }
    while (g->nrows <= row) {
        memset(&g->cells[g->nrows * fd->nsub], 0, fd->nsub * sizeof *g->cells);
        g->nrows++;
    }
    return &g->cells[row * fd->nsub + (size_t)sub];
}

void record_trim_groups(sp_record *r)
{
    for (size_t f = 0; f < r->cb->nfields; f++) {
        const cb_field *fd = &r->cb->fields[f];
        rec_group *g = &r->groups[f];
        if (fd->type != CB_GROUP) continue;
        size_t out = 0;
        for (size_t i = 0; i < g->nrows; i++) {
            cb_cell *row = &g->cells[i * fd->nsub];
            int any = 0;
            for (size_t s = 0; s < fd->nsub; s++) any |= row[s].text != NULL;
            if (!any) continue;
            if (out != i)
                memmove(&g->cells[out * fd->nsub], row, fd->nsub * sizeof *row);
            out++;
        }
        g->nrows = out;
    }
}
