#include "wb_cbor.h"

#include <string.h>

void wb_w_init(wb_writer_t *w, uint8_t *buf, size_t cap) {
    w->buf = buf;
    w->cap = cap;
    w->len = 0;
    w->overflow = false;
}

static void put(wb_writer_t *w, const uint8_t *data, size_t n) {
    if (w->overflow || w->cap - w->len < n) {
        w->overflow = true;
        return;
    }
    memcpy(w->buf + w->len, data, n);
    w->len += n;
}

void wb_w_head(wb_writer_t *w, uint8_t major, uint64_t v) {
    uint8_t h[9];
    size_t n;
    major = (uint8_t)(major << 5);
    if (v < 24) {
        h[0] = major | (uint8_t)v;
        n = 1;
    } else if (v <= 0xff) {
        h[0] = major | 24;
        h[1] = (uint8_t)v;
        n = 2;
    } else if (v <= 0xffff) {
        h[0] = major | 25;
        h[1] = (uint8_t)(v >> 8);
        h[2] = (uint8_t)v;
        n = 3;
    } else if (v <= 0xffffffffu) {
        h[0] = major | 26;
        for (int i = 0; i < 4; i++) h[1 + i] = (uint8_t)(v >> (24 - 8 * i));
        n = 5;
    } else {
        h[0] = major | 27;
        for (int i = 0; i < 8; i++) h[1 + i] = (uint8_t)(v >> (56 - 8 * i));
        n = 9;
    }
    put(w, h, n);
}

void wb_w_int(wb_writer_t *w, int64_t v) {
    if (v >= 0)
        wb_w_head(w, CBOR_UINT, (uint64_t)v);
    else
        wb_w_head(w, CBOR_NEGINT, (uint64_t)(-(v + 1)));
}

void wb_w_bytes(wb_writer_t *w, uint8_t major, const uint8_t *data, size_t len) {
    wb_w_head(w, major, len);
    put(w, data, len);
}

void wb_w_bool(wb_writer_t *w, bool value) {
    uint8_t b = value ? 0xf5 : 0xf4;
    put(w, &b, 1);
}

int wb_r_head(wb_reader_t *r, wb_item_t *it) {
    if (r->p >= r->end) return -1;
    uint8_t b = *r->p++;
    it->major = b >> 5;
    it->info = b & 0x1f;
    it->data = NULL;
    size_t extra = 0;
    if (it->info < 24) {
        it->value = it->info;
    } else if (it->info <= 27) {
        extra = (size_t)1 << (it->info - 24);
        if ((size_t)(r->end - r->p) < extra) return -1;
        it->value = 0;
        for (size_t i = 0; i < extra; i++) it->value = (it->value << 8) | r->p[i];
        r->p += extra;
        /* deterministic encoding: the shortest head (major 7's are not arguments) */
        uint64_t least = extra == 1 ? 24u : (uint64_t)1 << (4 * extra);
        if (it->major != CBOR_SIMPLE && it->value < least) return -1;
    } else {
        return -1; /* reserved, or indefinite length (31): refused */
    }
    if (it->major == CBOR_BYTES || it->major == CBOR_TEXT) {
        if ((uint64_t)(r->end - r->p) < it->value) return -1;
        it->data = r->p;
        r->p += it->value;
    }
    return 0;
}

/* Encoded keys must increase strictly (bytewise, a prefix first): sorted, no duplicates. */
static bool key_after(const uint8_t *prev, size_t prev_len, const uint8_t *key, size_t len) {
    size_t n = prev_len < len ? prev_len : len;
    int c = memcmp(prev, key, n);
    return c < 0 || (c == 0 && prev_len < len);
}

int wb_r_skip(wb_reader_t *r, int depth) {
    wb_item_t it;
    if (depth <= 0 || wb_r_head(r, &it) != 0) return -1;
    switch (it.major) {
    case CBOR_ARRAY:
        for (uint64_t i = 0; i < it.value; i++)
            if (wb_r_skip(r, depth - 1) != 0) return -1;
        return 0;
    case CBOR_MAP: {
        const uint8_t *prev = NULL;
        size_t prev_len = 0;
        for (uint64_t i = 0; i < it.value; i++) {
            const uint8_t *key = r->p;
            if (wb_r_skip(r, depth - 1) != 0) return -1;
            size_t len = (size_t)(r->p - key);
            if (prev && !key_after(prev, prev_len, key, len)) return -1;
            prev = key;
            prev_len = len;
            if (wb_r_skip(r, depth - 1) != 0) return -1;
        }
        return 0;
    }
    case CBOR_TAG:
        return -1; /* the protocol has no tags */
    case CBOR_SIMPLE:
        return it.info >= 20 && it.info <= 22 ? 0 : -1; /* false, true, null only */
    case CBOR_TEXT:
        return wb_utf8_valid(it.data, (size_t)it.value) ? 0 : -1;
    default:
        return 0;
    }
}

bool wb_utf8_valid(const uint8_t *s, size_t n) {
    size_t i = 0;
    while (i < n) {
        uint8_t c = s[i];
        size_t len;
        uint32_t cp;
        if (c < 0x80) { i++; continue; }
        if ((c & 0xe0) == 0xc0) { len = 2; cp = c & 0x1f; }
        else if ((c & 0xf0) == 0xe0) { len = 3; cp = c & 0x0f; }
        else if ((c & 0xf8) == 0xf0) { len = 4; cp = c & 0x07; }
        else return false;
        if (i + len > n) return false;
        for (size_t k = 1; k < len; k++) {
            if ((s[i + k] & 0xc0) != 0x80) return false;
            cp = (cp << 6) | (s[i + k] & 0x3f);
        }
        if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
            cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        i += len;
    }
    return true;
}
