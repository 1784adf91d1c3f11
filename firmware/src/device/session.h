/* One gateway session: TLS, Hello, then enrollment (bootstrap identity) or heartbeats and
 * deployments (operational identity). Returns when the session ends. */
#ifndef SESSION_H
#define SESSION_H

#include <stddef.h>
#include <stdint.h>

#include "provision.h"

typedef enum { SESSION_ENROLLED = 1, SESSION_ENDED = 0, SESSION_FAILED = -1 } session_result_t;

/* settle_ms: how long the link must be quiet before the handshake starts. After a failed
 * session the gateway may still be answering it (a late ServerHello would be taken for the
 * new one's); after a clean end or at boot nothing of ours is in flight, and any stale bytes
 * are skipped by the TLS client (tls/record_sync.h). */
session_result_t session_run(const provision_t *prov, uint32_t settle_ms);

#endif
