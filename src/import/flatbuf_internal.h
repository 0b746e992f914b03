/* SPDX-License-Identifier: Apache-2.0 */
/* flatbuf_internal.h (private to libqsnn): a small bounds-checked reader of FlatBuffers binaries, for the TFLite
 * importer (no C FlatBuffers reader is packaged in Debian; the C++ library's generated code is not C).
 *
 * The format (flatbuffers.dev, "Internals"): little-endian; the buffer starts with a u32 offset to the root
 * table; a table starts with an i32 soffset, vtable = table - soffset; a vtable is u16 vtable size, u16 table
 * size, then one u16 per field (0 = absent, else the field's offset inside the table); a field that refers to a
 * table, vector or string holds a u32 offset relative to the field's own position; a vector is a u32 length
 * followed by its elements (a vector of tables holds one u32 relative offset per element); a string is a byte
 * vector followed by a NUL.
 *
 * Every access is checked against the buffer before it is made: the table's 4 bytes, the vtable inside the
 * buffer with an even size >= 4, the field inside the table's declared size, offsets landing inside the buffer,
 * vector lengths times element size fitting in what remains (64-bit arithmetic, no overflow). Reads use memcpy
 * (no alignment is assumed). Errors are QSNN_ERR_FORMAT "<origin>: <path of the field>: <problem>", where the
 * caller passes the field's path ("subgraphs[0].tensors[3].shape"). Nothing is allocated. */
#ifndef QSNN_IMPORT_FLATBUF_H
#define QSNN_IMPORT_FLATBUF_H

#include "qsnn/core.h"

#include <stddef.h>
#include <stdint.h>

typedef struct {
    const uint8_t *buf;
    size_t size;
    const char *origin; /* file name for messages */
} qsnn_fb;

typedef struct {
    size_t pos;      /* the table's start (its soffset) */
    size_t vt;       /* its vtable */
    uint16_t vt_size, tbl_size;
} qsnn_fb_table;

typedef struct {
    size_t pos;      /* first element */
    uint32_t len;    /* element count */
    uint32_t elem;   /* element size in bytes */
} qsnn_fb_vec;

/* The root table (checks the buffer holds at least the root offset). */
qsnn_status qsnn_fb_root(const qsnn_fb *fb, qsnn_fb_table *t);

/* Scalars of a table field `id` (0-based field number of the schema); absent fields give `def`. */
qsnn_status qsnn_fb_u8(const qsnn_fb *fb, const qsnn_fb_table *t, int id, uint8_t def, uint8_t *out,
                       const char *what);
qsnn_status qsnn_fb_i32(const qsnn_fb *fb, const qsnn_fb_table *t, int id, int32_t def, int32_t *out,
                        const char *what);
qsnn_status qsnn_fb_u32(const qsnn_fb *fb, const qsnn_fb_table *t, int id, uint32_t def, uint32_t *out,
                        const char *what);
qsnn_status qsnn_fb_u64(const qsnn_fb *fb, const qsnn_fb_table *t, int id, uint64_t def, uint64_t *out,
                        const char *what);
qsnn_status qsnn_fb_f32(const qsnn_fb *fb, const qsnn_fb_table *t, int id, float def, float *out,
                        const char *what);

/* A sub-table field; *present = 0 when absent (then *out is untouched). */
qsnn_status qsnn_fb_table_field(const qsnn_fb *fb, const qsnn_fb_table *t, int id, qsnn_fb_table *out,
                                int *present, const char *what);
/* A vector field of elements of `elem` bytes (1, 4 or 8; 4 for vectors of tables or strings); absent gives
 * len 0. */
qsnn_status qsnn_fb_vec_field(const qsnn_fb *fb, const qsnn_fb_table *t, int id, uint32_t elem, qsnn_fb_vec *out,
                              const char *what);
/* Element i (< v->len) of a vector of tables. */
qsnn_status qsnn_fb_vec_table(const qsnn_fb *fb, const qsnn_fb_vec *v, uint32_t i, qsnn_fb_table *out,
                              const char *what);
/* A string field copied into out[cap] (truncated to cap - 1 bytes, NUL-terminated); absent gives "". */
qsnn_status qsnn_fb_string(const qsnn_fb *fb, const qsnn_fb_table *t, int id, char *out, size_t cap,
                           const char *what);

/* Elements of an already checked vector (i < len; the vector's own check covers the bytes). */
int32_t qsnn_fb_vec_i32(const qsnn_fb *fb, const qsnn_fb_vec *v, uint32_t i);
int64_t qsnn_fb_vec_i64(const qsnn_fb *fb, const qsnn_fb_vec *v, uint32_t i);
float qsnn_fb_vec_f32(const qsnn_fb *fb, const qsnn_fb_vec *v, uint32_t i);

#endif
