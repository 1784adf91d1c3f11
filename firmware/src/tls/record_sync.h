/* Where a TLS session's first server record starts on a byte stream with no connection
 * boundaries (a UART). The previous session's last bytes, such as the gateway's answer to
 * our close_notify or the rest of a record cut by a reset, can still arrive after the new
 * ClientHello has gone out. Instead of waiting for the link to go quiet before every
 * handshake, the client skips to the first record a server opens a TLS 1.3 handshake with:
 * a ServerHello (or HelloRetryRequest) or a plaintext alert. From there the bytes pass
 * unchanged. Bytes that never look like one end the attempt after RECORD_SYNC_MAX_SKIP, so
 * a link carrying something other than TLS fails the handshake quickly and says so. */
#ifndef RECORD_SYNC_H
#define RECORD_SYNC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RECORD_SYNC_MAX_SKIP 4096u
#define RECORD_SYNC_HEAD 6u /* record header (5) and the first handshake byte */

typedef struct {
    uint8_t head[RECORD_SYNC_HEAD]; /* the candidate record start */
    uint8_t held;                   /* bytes in head */
    uint8_t given;                  /* bytes of head handed on once synced */
    bool synced;
    size_t skipped;
} record_sync_t;

/* Non-blocking: up to `cap` bytes that have arrived; 0 when none (hal_link_read). */
typedef size_t (*record_sync_source_t)(uint8_t *buf, size_t cap);

void record_sync_reset(record_sync_t *s);
/* Bytes for the TLS library: none until the first server record starts, then the stream as
 * it comes. >0 bytes, 0 nothing yet, -1 more than RECORD_SYNC_MAX_SKIP bytes were not it. */
int record_sync_read(record_sync_t *s, record_sync_source_t source, uint8_t *out, size_t cap);

#endif
