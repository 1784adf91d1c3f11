/* counter: reports 1, 2, 3, ... every 100 ms until stopped. */
#include "wasmbed_app.h"

WB_EXPORT("run") void run(void) {
    for (long long n = 1;; n++) {
        wb_report(n);
        wb_sleep_ms(100);
    }
}
