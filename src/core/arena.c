/* SPDX-License-Identifier: Apache-2.0 */
/* arena.c: bump allocator over one block. Used for activations (training and inference) so that no malloc
 * happens inside a training step or an inference. Invariant: used <= size; every pointer handed out is aligned. */
#include "qsnn/core.h"

#include <stdlib.h>

qsnn_status qsnn_arena_init(qsnn_arena *a, size_t size)
{
    a->base = malloc(size ? size : 1);
    a->size = a->base ? size : 0;
    a->used = 0;
    a->owned = 1;
    if (!a->base)
        return qsnn_fail(QSNN_ERR_NOMEM, "arena: cannot allocate %zu bytes", size);
    return QSNN_OK;
}

void qsnn_arena_init_from(qsnn_arena *a, void *mem, size_t size)
{
    a->base = mem;
    a->size = mem ? size : 0;
    a->used = 0;
    a->owned = 0;
}

void *qsnn_arena_alloc(qsnn_arena *a, size_t n, size_t align)
{
    if (align == 0 || (align & (align - 1)) != 0) {
        qsnn_fail(QSNN_ERR_ARG, "arena: alignment %zu is not a power of two", align);
        return NULL;
    }
    uintptr_t p = (uintptr_t)(a->base + a->used);
    size_t pad = (size_t)((align - (p & (align - 1))) & (align - 1));
    size_t need;
    if (!qsnn_add_size(&need, pad, n) || need > a->size - a->used) {
        qsnn_fail(QSNN_ERR_NOMEM, "arena: %zu bytes requested, %zu of %zu free", n, a->size - a->used, a->size);
        return NULL;
    }
    void *out = a->base + a->used + pad;
    a->used += need;
    return out;
}

void qsnn_arena_reset(qsnn_arena *a) { a->used = 0; }

void qsnn_arena_free(qsnn_arena *a)
{
    if (a->owned)
        free(a->base);
    a->base = NULL;
    a->size = a->used = 0;
    a->owned = 0;
}
