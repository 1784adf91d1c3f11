/* The Wasmbed device protocol in C: envelope + message codec driven by the schema
 * tables generated from the Python definitions (wb_schema.h). Decoding applies the same
 * checks, in the same order, as wasmbed.protocol.codec, and never reads past the buffer.
 * Text and bytes fields point into the decoded buffer (no copies, no allocation). */
#ifndef WB_PROTO_H
#define WB_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WB_MAX_FIELDS 8
#define WB_MAX_LIST 16
#define WB_HEADER_SIZE 4

typedef enum { WB_K_INT, WB_K_BOOL, WB_K_TEXT, WB_K_BYTES, WB_K_LIST_UINT, WB_K_LIST_TEXT } wb_kind_t;

typedef struct {
    uint8_t key;
    uint8_t kind;
    uint8_t optional;
    uint32_t max_len;
    int64_t min;
    uint64_t max;
    uint32_t enum_mask;
} wb_field_desc_t;

typedef struct {
    uint32_t type;
    const char *name;
    const wb_field_desc_t *fields;
    uint8_t n_fields;
    uint8_t since; /* first protocol version that has the message */
} wb_msg_desc_t;

typedef struct {
    const uint8_t *ptr;
    uint32_t len;
} wb_span_t;

typedef struct {
    bool present;
    bool negative;                 /* int: value is -1 - u */
    uint64_t u;                    /* int magnitude, bool (0/1) */
    wb_span_t s;                   /* text, bytes */
    uint8_t n;                     /* list length */
    union {
        uint32_t items[WB_MAX_LIST];   /* list of ints (protocol versions) */
        wb_span_t texts[WB_MAX_LIST];  /* list of texts */
    };
} wb_value_t;

typedef struct {
    uint32_t version;
    uint32_t type;
    uint32_t msg_id;
    wb_value_t f[WB_MAX_FIELDS];   /* indexed by wire key */
} wb_msg_t;

/* Errors; wb_err_name() gives the matching Python exception class name. */
enum {
    WB_OK = 0,
    WB_E_MALFORMED = -1,
    WB_E_TOO_LARGE = -2,
    WB_E_TRUNCATED = -3,
    WB_E_VERSION = -4,
    WB_E_UNKNOWN_TYPE = -5,
    WB_E_MISSING = -6,
    WB_E_UNKNOWN_FIELD = -7,
    WB_E_WRONG_TYPE = -8,
    WB_E_RANGE = -9,
    WB_E_OVERFLOW = -10,
};

const char *wb_err_name(int err);
const wb_msg_desc_t *wb_msg_desc(uint32_t type);

/* Decode one envelope payload (without the length prefix). */
int wb_decode(const uint8_t *buf, size_t len, wb_msg_t *out);
/* Encode canonically; returns the payload length or a negative error. */
int wb_encode(const wb_msg_t *msg, uint8_t *buf, size_t cap);

/* Message building helpers. */
void wb_msg_init(wb_msg_t *msg, uint32_t type, uint32_t msg_id);
void wb_set_uint(wb_msg_t *msg, uint8_t key, uint64_t value);
void wb_set_int(wb_msg_t *msg, uint8_t key, int64_t value);
void wb_set_bool(wb_msg_t *msg, uint8_t key, bool value);
void wb_set_span(wb_msg_t *msg, uint8_t key, const void *data, size_t len);
void wb_set_str(wb_msg_t *msg, uint8_t key, const char *text);
int64_t wb_get_int(const wb_msg_t *msg, uint8_t key);

/* Framing: 4-byte big-endian length. Returns the announced length. */
uint32_t wb_frame_length(const uint8_t header[WB_HEADER_SIZE]);
/* A frame header announcing `length` with a receiver limit of `max_frame`: WB_OK,
 * WB_E_TOO_LARGE, or WB_E_MALFORMED for an empty frame (Python: framing.check_length). */
int wb_frame_check(uint32_t length, uint32_t max_frame);
void wb_frame_header(uint8_t header[WB_HEADER_SIZE], uint32_t length);

#endif
