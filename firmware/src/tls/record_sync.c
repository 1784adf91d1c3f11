#include "record_sync.h"

#include <string.h>

void record_sync_reset(record_sync_t *s) { memset(s, 0, sizeof *s); }

/* A record a TLS 1.3 server can open with: a handshake record whose first message is a
 * ServerHello (HelloRetryRequest is one too), or a two-byte plaintext alert refusing the
 * ClientHello. The previous session's bytes are application-data records (TLS 1.3 encrypts
 * everything after the ServerHello, close_notify included), or a record cut anywhere. */
static bool first_server_record(const uint8_t h[RECORD_SYNC_HEAD]) {
    if (h[1] != 0x03 || h[2] < 0x01 || h[2] > 0x04) return false; /* legacy version 3.x */
    unsigned len = (unsigned)h[3] << 8 | h[4];
    if (h[0] == 0x16) return h[5] == 0x02 && len >= 4 && len <= 16384;
    if (h[0] == 0x15) return len == 2 && (h[5] == 1 || h[5] == 2);
    return false;
}

int record_sync_read(record_sync_t *s, record_sync_source_t source, uint8_t *out, size_t cap) {
    while (!s->synced) {
        if (s->held < RECORD_SYNC_HEAD) {
            size_t n = source(s->head + s->held, RECORD_SYNC_HEAD - s->held);
            if (!n) return 0;
            s->held = (uint8_t)(s->held + n);
        } else if (first_server_record(s->head)) {
            s->synced = true;
        } else {
            if (++s->skipped > RECORD_SYNC_MAX_SKIP) return -1;
            memmove(s->head, s->head + 1, RECORD_SYNC_HEAD - 1);
            s->held--;
        }
    }
    size_t n = 0;
    while (n < cap && s->given < s->held) out[n++] = s->head[s->given++];
    if (n < cap) n += source(out + n, cap - n);
    return (int)n;
}
