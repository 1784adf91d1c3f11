/* Minimal CBOR (RFC 8949) writer and reader for the Wasmbed protocol.
 * The writer emits the deterministic encoding (shortest heads; callers write map keys in
 * order). The reader accepts only that profile, as wasmbed.protocol.deterministic does:
 * shortest heads, no indefinite lengths, no tags, no major-7 item but false/true/null,
 * valid UTF-8, map keys strictly increasing by their encoding, at most 16 levels deep, and
 * never anything past the buffer. */
#ifndef WB_CBOR_H
#define WB_CBOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum { CBOR_UINT = 0, CBOR_NEGINT = 1, CBOR_BYTES = 2, CBOR_TEXT = 3, CBOR_ARRAY = 4,
       CBOR_MAP = 5, CBOR_TAG = 6, CBOR_SIMPLE = 7 };

typedef struct {
    uint8_t *buf;
    size_t cap, len;
    bool overflow;
} wb_writer_t;

void wb_w_init(wb_writer_t *w, uint8_t *buf, size_t cap);
void wb_w_head(wb_writer_t *w, uint8_t major, uint64_t value);
void wb_w_int(wb_writer_t *w, int64_t value);
void wb_w_bytes(wb_writer_t *w, uint8_t major, const uint8_t *data, size_t len);
void wb_w_bool(wb_writer_t *w, bool value);

typedef struct {
    const uint8_t *p, *end;
} wb_reader_t;

typedef struct {
    uint8_t major;
    uint8_t info;          /* additional information (simple value for major 7) */
    uint64_t value;        /* argument: int value, length, count, tag number */
    const uint8_t *data;   /* bytes/text payload */
} wb_item_t;

/* Read one item head (and, for bytes/text, step over the payload); a head longer than its
 * argument needs is refused. 0 or -1. */
int wb_r_head(wb_reader_t *r, wb_item_t *item);
/* Check and skip one whole item of the profile, nested up to `depth` levels. 0 or -1. */
int wb_r_skip(wb_reader_t *r, int depth);
bool wb_utf8_valid(const uint8_t *s, size_t n);

#endif
