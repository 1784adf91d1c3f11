/* hello: logs a greeting, reports its uptime, returns 42. */
#include "wasmbed_app.h"

WB_EXPORT("run") int run(void) {
    WB_LOG("hello from wasm");
    wb_report(wb_uptime_ms());
    return 42;
}
