/* The one wasm module a firmware device holds: chunked, hash-checked transfer and a wasm3
 * runtime with the host ABI (log, report, uptime_ms, sleep_ms), a fuel budget (loop
 * back-edges and calls) and a stop request. */
#ifndef APP_H
#define APP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wb_proto.h"

typedef struct {
    int code;          /* WB_ERROR_CODE_*, 0 = ok */
    char text[96];
} app_error_t;

/* Returns the offset the device holds (resume), or sets err. */
uint32_t app_begin(const wb_msg_t *begin, uint32_t max_size, uint32_t wasm_ram, app_error_t *err);
uint32_t app_chunk(const wb_msg_t *chunk, app_error_t *err);
void app_commit(const wb_msg_t *commit, app_error_t *err);

/* What a running module needs from whoever runs it (the session): the runner knows nothing
 * of links or protocols, only these two calls. */
typedef struct {
    /* Keep heartbeats and the link going for `ms`; nonzero when the module must stop (a stop
     * was requested, or the link failed). */
    int (*service)(uint32_t ms);
    /* One output of the module (WB_OUTPUT_KIND_*: text for a log, value otherwise). */
    void (*emit_output)(const char *module_id, int kind, const char *text, size_t len,
                        int64_t value);
} app_host_t;

/* Run the committed module to its end; returns the final WB_APP_STATE_* and fills err
 * (text) for Failed. Calls back into `host` while it runs. */
int app_run(const app_host_t *host, app_error_t *err);
bool app_matches(wb_span_t module_id);
bool app_ready(void);
bool app_running(void);
const char *app_id(void);
void app_request_stop(void);
uint32_t app_memory_in_use(void);

#endif
