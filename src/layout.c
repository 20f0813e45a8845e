/* layout.c -- see layout.h. */
#include "layout.h"

#include <stdlib.h>
#include <string.h>

static void add_col(sp_layout *l, size_t *alloc, const cb_field *f,
                    const cb_field *sub, int rep)
{
    if (l->ncols == *alloc) {
        *alloc = *alloc ? *alloc * 2 : 64;
        l->cols = sp_xrealloc(l->cols, *alloc * sizeof *l->cols);
    }
    sp_column *c = &l->cols[l->ncols];
    sp_buf name, label;
    sp_buf_init(&name, 512);
    sp_buf_init(&label, 1024);
    if (sub) {
        sp_buf_printf(&name, "%s_%d_%s", f->name, rep + 1, sub->name);
        sp_buf_printf(&label, "%s %d: %s", f->label, rep + 1, sub->label);
    } else {
        sp_buf_adds(&name, f->name);
        sp_buf_adds(&label, f->label);
    }
    c->name = sp_buf_steal(&name);
    c->label = sp_buf_steal(&label);
    c->field = f;
    c->sub = sub;
    c->rep = rep;

    /* index: the name, the label, and for groups "GROUP SUB N" too */
    char key[512];
    size_t k = sp_fold(c->name, strlen(c->name), key, sizeof key);
    sp_map_put(&l->index, key, k, (int)l->ncols);
    k = sp_fold(c->label, strlen(c->label), key, sizeof key);
    sp_map_put(&l->index, key, k, (int)l->ncols);
    if (sub) {
        char alt[512];
        snprintf(alt, sizeof alt, "%s_%s_%d", f->name, sub->name, rep + 1);
        k = sp_fold(alt, strlen(alt), key, sizeof key);
        sp_map_put(&l->index, key, k, (int)l->ncols);
        if (rep == 0 && f->max_repeat == 1) {
            snprintf(alt, sizeof alt, "%s_%s", f->name, sub->name);
            k = sp_fold(alt, strlen(alt), key, sizeof key);
            sp_map_put(&l->index, key, k, (int)l->ncols);
        }
    }
    l->ncols++;
}

void layout_build(sp_layout *l, const sp_codebook *cb, int include_sensitive)
{
    size_t alloc = 0;
    memset(l, 0, sizeof *l);
    sp_map_init(&l->index);
    for (size_t i = 0; i < cb->nfields; i++) {
        const cb_field *f = &cb->fields[i];
        if (f->deprecated || (f->sensitive && !include_sensitive)) continue;
        if (f->type != CB_GROUP) {
            add_col(l, &alloc, f, NULL, 0);
            continue;
        }
        for (int rep = 0; rep < f->max_repeat; rep++)
            for (size_t s = 0; s < f->nsub; s++) {
                const cb_field *sub = &f->sub[s];
                if (sub->deprecated || (sub->sensitive && !include_sensitive)) continue;
                add_col(l, &alloc, f, sub, rep);
            }
    }
}

void layout_free(sp_layout *l)
{
    for (size_t i = 0; i < l->ncols; i++) {
        free(l->cols[i].name);
        free(l->cols[i].label);
    }
    free(l->cols);
    sp_map_free(&l->index);
    memset(l, 0, sizeof *l);
}

int layout_find(const sp_layout *l, const char *s, size_t n)
{
    char key[512];
    size_t k = sp_fold(s, n, key, sizeof key);
    int v;
    return sp_map_get(&l->index, key, k, &v) ? v : -1;
}

int layout_cell_text(const sp_layout *l, size_t c, const sp_record *r, sp_buf *out)
{
    const sp_column *col = &l->cols[c];
    int f = col->field->index;
    sp_buf_reset(out);
    if (col->sub) {
        const rec_group *g = &r->groups[f];
        if ((size_t)col->rep >= g->nrows) return SP_OK;
        const cb_cell *cell = &g->cells[(size_t)col->rep * col->field->nsub +
                                        (size_t)col->sub->index];
        return cell->text ? sp_buf_adds(out, cell->text) : SP_OK;
    }
    const rec_values *v = &r->vals[f];
    for (size_t i = 0; i < v->n; i++) {
        if (!v->v[i].text) continue;
        if (out->len) {
            int rc = sp_buf_add(out, "; ", 2);
            if (rc) return rc;
        }
        int rc = sp_buf_adds(out, v->v[i].text);
        if (rc) return rc;
    }
    return SP_OK;
}
