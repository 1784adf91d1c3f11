#include "wb_proto.h"

#include <string.h>

#include "wb_cbor.h"
#include "wb_schema.h"

const char *wb_err_name(int err) {
    switch (err) {
    case WB_OK: return "ok";
    case WB_E_MALFORMED: return "MalformedCbor";
    case WB_E_TOO_LARGE: return "FrameTooLarge";
    case WB_E_TRUNCATED: return "TruncatedFrame";
    case WB_E_VERSION: return "UnsupportedVersion";
    case WB_E_UNKNOWN_TYPE: return "UnknownMessageType";
    case WB_E_MISSING: return "MissingField";
    case WB_E_UNKNOWN_FIELD: return "UnknownField";
    case WB_E_WRONG_TYPE: return "WrongFieldType";
    case WB_E_RANGE: return "FieldOutOfRange";
    case WB_E_OVERFLOW: return "BufferTooSmall";
    default: return "?";
    }
}

const wb_msg_desc_t *wb_msg_desc(uint32_t type) {
    for (size_t i = 0; i < WB_MESSAGE_COUNT; i++)
        if (WB_MESSAGES[i].type == type) return &WB_MESSAGES[i];
    return NULL;
}

static bool is_int(const wb_item_t *it) {
    return it->major == CBOR_UINT || it->major == CBOR_NEGINT;
}

/* Kind check of one scalar (Python: _check_kind). */
static int check_kind(uint8_t kind, const wb_item_t *it) {
    switch (kind) {
    case WB_K_INT: return is_int(it) ? WB_OK : WB_E_WRONG_TYPE;
    case WB_K_BOOL: return (it->major == CBOR_SIMPLE && (it->info == 20 || it->info == 21))
                               ? WB_OK : WB_E_WRONG_TYPE;
    case WB_K_TEXT: return it->major == CBOR_TEXT ? WB_OK : WB_E_WRONG_TYPE;
    case WB_K_BYTES: return it->major == CBOR_BYTES ? WB_OK : WB_E_WRONG_TYPE;
    default: return it->major == CBOR_ARRAY ? WB_OK : WB_E_WRONG_TYPE;
    }
}

static int check_int_range(const wb_field_desc_t *d, const wb_value_t *v) {
    if (v->negative) {
        if (v->u > (uint64_t)INT64_MAX) return WB_E_RANGE;
        int64_t value = -1 - (int64_t)v->u;
        if (value < d->min) return WB_E_RANGE;
        if (d->enum_mask) return WB_E_RANGE;
        return WB_OK;
    }
    if (v->u > d->max) return WB_E_RANGE;
    if (d->min > 0 && v->u < (uint64_t)d->min) return WB_E_RANGE;
    if (d->enum_mask && (v->u >= 32 || !(d->enum_mask & (1u << v->u)))) return WB_E_RANGE;
    return WB_OK;
}

static int decode_field(const wb_field_desc_t *d, const uint8_t *at, const uint8_t *end,
                        wb_value_t *v) {
    wb_reader_t r = {at, end};
    wb_item_t it;
    if (wb_r_head(&r, &it) != 0) return WB_E_MALFORMED;
    int err = check_kind(d->kind, &it);
    if (err) return err;
    memset(v, 0, sizeof *v);
    v->present = true;
    switch (d->kind) {
    case WB_K_INT:
        v->negative = it.major == CBOR_NEGINT;
        v->u = it.value;
        break;
    case WB_K_BOOL:
        v->u = it.info == 21;
        break;
    case WB_K_TEXT:
    case WB_K_BYTES:
        v->s.ptr = it.data;
        v->s.len = (uint32_t)it.value;
        break;
    default: {
        uint64_t count = it.value;
        for (uint64_t i = 0; i < count; i++) {
            wb_item_t item;
            if (wb_r_head(&r, &item) != 0) return WB_E_MALFORMED;
            if (d->kind == WB_K_LIST_UINT) { /* items are u32 (Python: schema.U32) */
                if (!is_int(&item)) return WB_E_WRONG_TYPE;
                if (item.major == CBOR_NEGINT || item.value > UINT32_MAX) return WB_E_RANGE;
                if (i < WB_MAX_LIST) v->items[i] = (uint32_t)item.value;
            } else {
                if (item.major != CBOR_TEXT) return WB_E_WRONG_TYPE;
                if (item.value > WB_LIST_TEXT_MAX) return WB_E_RANGE;
                if (i < WB_MAX_LIST) v->texts[i] = (wb_span_t){item.data, (uint32_t)item.value};
            }
            if (item.major == CBOR_ARRAY || item.major == CBOR_MAP) /* step over no content */
                return WB_E_WRONG_TYPE;
        }
        if (count > d->max_len || count > WB_MAX_LIST) return WB_E_RANGE;
        v->n = (uint8_t)count;
        return WB_OK;
    }
    }
    if ((d->kind == WB_K_TEXT || d->kind == WB_K_BYTES) && d->max_len && v->s.len > d->max_len)
        return WB_E_RANGE;
    if (d->kind == WB_K_INT) return check_int_range(d, v);
    return WB_OK;
}

int wb_decode(const uint8_t *buf, size_t len, wb_msg_t *out) {
    /* 1. exactly one item of the deterministic profile (Python: deterministic.loads) */
    wb_reader_t all = {buf, buf + len};
    if (len == 0 || wb_r_skip(&all, WB_MAX_DEPTH) != 0 || all.p != all.end) return WB_E_MALFORMED;

    /* 2. the envelope */
    wb_reader_t r = {buf, buf + len};
    wb_item_t it;
    wb_r_head(&r, &it);
    if (it.major != CBOR_MAP) return WB_E_WRONG_TYPE;
    const uint8_t *slot[4] = {NULL, NULL, NULL, NULL};
    bool extra = false;
    for (uint64_t i = 0; i < it.value; i++) {
        wb_item_t key;
        const uint8_t *key_at = r.p;
        wb_r_head(&r, &key);
        if (key.major != CBOR_UINT || key.value > 3) {
            extra = true;
            r.p = key_at;
            wb_r_skip(&r, WB_MAX_DEPTH);
        } else {
            slot[key.value] = r.p;
        }
        wb_r_skip(&r, WB_MAX_DEPTH);
    }
    for (int k = 0; k < 4; k++)
        if (!slot[k]) return WB_E_MISSING;
    if (extra) return WB_E_UNKNOWN_FIELD;
    wb_item_t head[3];
    for (int k = 0; k < 3; k++) {
        wb_reader_t hr = {slot[k], buf + len};
        wb_r_head(&hr, &head[k]);
        if (!is_int(&head[k])) return WB_E_WRONG_TYPE;
    }
    if (head[0].major != CBOR_UINT || head[0].value < 1 || head[0].value > WB_PROTOCOL_VERSION)
        return WB_E_VERSION;
    if (head[2].major != CBOR_UINT || head[2].value > 0xffffffffu) return WB_E_RANGE;
    const wb_msg_desc_t *desc = head[1].major == CBOR_UINT && head[1].value <= UINT32_MAX
                                    ? wb_msg_desc((uint32_t)head[1].value) : NULL;
    if (!desc || desc->since > head[0].value) return WB_E_UNKNOWN_TYPE;

    /* 3. the body: unknown keys first, then each field in key order */
    wb_reader_t br = {slot[3], buf + len};
    wb_item_t body;
    wb_r_head(&br, &body);
    if (body.major != CBOR_MAP) return WB_E_WRONG_TYPE;
    const uint8_t *field_at[WB_MAX_FIELDS] = {0};
    bool unknown = false;
    for (uint64_t i = 0; i < body.value; i++) {
        wb_item_t key;
        const uint8_t *key_at = br.p;
        wb_r_head(&br, &key);
        bool known = false;
        if (key.major == CBOR_UINT && key.value < WB_MAX_FIELDS)
            for (uint8_t f = 0; f < desc->n_fields; f++)
                if (desc->fields[f].key == key.value) known = true;
        if (!known) {
            unknown = true;
            br.p = key_at;
            wb_r_skip(&br, WB_MAX_DEPTH);
        } else {
            field_at[key.value] = br.p;
        }
        wb_r_skip(&br, WB_MAX_DEPTH);
    }
    if (unknown) return WB_E_UNKNOWN_FIELD;
    memset(out, 0, sizeof *out);
    out->version = (uint32_t)head[0].value;
    out->type = desc->type;
    out->msg_id = (uint32_t)head[2].value;
    for (uint8_t f = 0; f < desc->n_fields; f++) {
        const wb_field_desc_t *d = &desc->fields[f];
        if (!field_at[d->key]) {
            if (d->optional) continue;
            return WB_E_MISSING;
        }
        int err = decode_field(d, field_at[d->key], buf + len, &out->f[d->key]);
        if (err) return err;
    }
    return WB_OK;
}

static void encode_value(wb_writer_t *w, const wb_field_desc_t *d, const wb_value_t *v) {
    switch (d->kind) {
    case WB_K_INT:
        wb_w_head(w, v->negative ? CBOR_NEGINT : CBOR_UINT, v->u);
        break;
    case WB_K_BOOL:
        wb_w_bool(w, v->u != 0);
        break;
    case WB_K_TEXT:
        wb_w_bytes(w, CBOR_TEXT, v->s.ptr, v->s.len);
        break;
    case WB_K_BYTES:
        wb_w_bytes(w, CBOR_BYTES, v->s.ptr, v->s.len);
        break;
    case WB_K_LIST_UINT:
        wb_w_head(w, CBOR_ARRAY, v->n);
        for (uint8_t i = 0; i < v->n; i++)
            wb_w_head(w, CBOR_UINT, v->items[i]);
        break;
    default:
        wb_w_head(w, CBOR_ARRAY, v->n);
        for (uint8_t i = 0; i < v->n; i++) wb_w_bytes(w, CBOR_TEXT, v->texts[i].ptr, v->texts[i].len);
    }
}

int wb_encode(const wb_msg_t *msg, uint8_t *buf, size_t cap) {
    const wb_msg_desc_t *desc = wb_msg_desc(msg->type);
    if (!desc) return WB_E_UNKNOWN_TYPE;
    uint8_t present = 0;
    for (uint8_t f = 0; f < desc->n_fields; f++) {
        const wb_field_desc_t *d = &desc->fields[f];
        if (msg->f[d->key].present) present++;
        else if (!d->optional) return WB_E_MISSING;
    }
    wb_writer_t w;
    wb_w_init(&w, buf, cap);
    wb_w_head(&w, CBOR_MAP, 4);
    wb_w_head(&w, CBOR_UINT, 0);
    wb_w_head(&w, CBOR_UINT, msg->version ? msg->version : WB_PROTOCOL_VERSION);
    wb_w_head(&w, CBOR_UINT, 1);
    wb_w_head(&w, CBOR_UINT, msg->type);
    wb_w_head(&w, CBOR_UINT, 2);
    wb_w_head(&w, CBOR_UINT, msg->msg_id);
    wb_w_head(&w, CBOR_UINT, 3);
    wb_w_head(&w, CBOR_MAP, present);
    for (uint8_t f = 0; f < desc->n_fields; f++) { /* tables are in key order */
        const wb_field_desc_t *d = &desc->fields[f];
        if (!msg->f[d->key].present) continue;
        wb_w_head(&w, CBOR_UINT, d->key);
        encode_value(&w, d, &msg->f[d->key]);
    }
    return w.overflow ? WB_E_OVERFLOW : (int)w.len;
}

void wb_msg_init(wb_msg_t *msg, uint32_t type, uint32_t msg_id) {
    memset(msg, 0, sizeof *msg);
    msg->version = WB_PROTOCOL_VERSION;
    msg->type = type;
    msg->msg_id = msg_id;
}

void wb_set_uint(wb_msg_t *msg, uint8_t key, uint64_t value) {
    msg->f[key] = (wb_value_t){.present = true, .u = value};
}

void wb_set_int(wb_msg_t *msg, uint8_t key, int64_t value) {
    if (value >= 0) wb_set_uint(msg, key, (uint64_t)value);
    else msg->f[key] = (wb_value_t){.present = true, .negative = true, .u = (uint64_t)(-(value + 1))};
}

void wb_set_bool(wb_msg_t *msg, uint8_t key, bool value) { wb_set_uint(msg, key, value); }

void wb_set_span(wb_msg_t *msg, uint8_t key, const void *data, size_t len) {
    msg->f[key] = (wb_value_t){.present = true, .s = {(const uint8_t *)data, (uint32_t)len}};
}

void wb_set_str(wb_msg_t *msg, uint8_t key, const char *text) {
    wb_set_span(msg, key, text, strlen(text));
}

int64_t wb_get_int(const wb_msg_t *msg, uint8_t key) {
    const wb_value_t *v = &msg->f[key];
    return v->negative ? -1 - (int64_t)v->u : (int64_t)v->u;
}

int wb_frame_check(uint32_t length, uint32_t max_frame) {
    if (length > max_frame) return WB_E_TOO_LARGE;
    if (length == 0) return WB_E_MALFORMED; /* an empty payload is no CBOR item */
    return WB_OK;
}

uint32_t wb_frame_length(const uint8_t h[WB_HEADER_SIZE]) {
    return ((uint32_t)h[0] << 24) | ((uint32_t)h[1] << 16) | ((uint32_t)h[2] << 8) | h[3];
}

void wb_frame_header(uint8_t h[WB_HEADER_SIZE], uint32_t length) {
    for (int i = 0; i < 4; i++) h[i] = (uint8_t)(length >> (24 - 8 * i));
}
