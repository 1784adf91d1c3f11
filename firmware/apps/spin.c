/* spin: never returns and never calls the host: only a budget can stop it. */
#include "wasmbed_app.h"

static volatile unsigned spins;

WB_EXPORT("run") void run(void) {
    for (;;) spins++;
}
