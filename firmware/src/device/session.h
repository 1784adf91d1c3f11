/* One gateway session: TLS, Hello, then enrollment (bootstrap identity) or heartbeats and
 * deployments (operational identity). Returns when the session ends. */
#ifndef SESSION_H
#define SESSION_H

#include <stddef.h>
#include <stdint.h>

#include "provision.h"

typedef enum { SESSION_ENROLLED = 1, SESSION_ENDED = 0, SESSION_FAILED = -1 } session_result_t;

session_result_t session_run(const provision_t *prov);

#endif
