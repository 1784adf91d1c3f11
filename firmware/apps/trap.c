/* trap: logs, then divides by zero (a wasm trap). Both operands are volatile: LLVM
 * rewrites `1 / x` without a division, which would not trap. */
#include "wasmbed_app.h"

static volatile int numerator = 7, zero;

WB_EXPORT("run") int run(void) {
    WB_LOG("about to divide by zero");
    return numerator / zero;
}
