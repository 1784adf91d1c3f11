/* Wasmbed firmware: console on one UART, the gateway link (TLS) on the other. */
#include <stdio.h>
#include <stdlib.h>

#include "board.h"
#include "hal.h"
#include "provision.h"
#include "session.h"
#include "store.h"
#include "tls_link.h"

#ifndef FIRMWARE_VERSION
#define FIRMWARE_VERSION "0.1.0"
#endif


static void idle_ms(uint32_t ms) {
    uint32_t start = hal_millis();
    while (hal_millis() - start < ms) hal_idle();
}

/* A TLS 1.3 session and a module with one 64 KiB wasm page need this much heap; below it a
 * board runs TLS and modules without linear memory only (the provisioning blob's wasm_ram,
 * which the device advertises at enrollment, says 0 there). */
#define HEAP_NEEDED (112u * 1024u)
extern char _heap_start[], _heap_end[];

int main(void) {
    hal_init();
    printf("wasmbed: boot firmware=%s board=%s\r\n", FIRMWARE_VERSION, BOARD_NAME);
    size_t heap = (size_t)(_heap_end - _heap_start);
    if (heap < HEAP_NEEDED)
        printf("wasmbed: heap %lu B: room for TLS 1.3 and modules without linear memory; a "
               "64 KiB wasm page does not fit on this board\r\n", (unsigned long)heap);
    static provision_t prov;
    if (!provision_load(BOARD_PROVISION_ADDR, &prov)) {
        printf("wasmbed: no provisioning blob at 0x%08lx; idle\r\n",
               (unsigned long)BOARD_PROVISION_ADDR);
        for (;;) idle_ms(1000);
    }
    printf("wasmbed: provisioned name=%.*s gateway=%.*s\r\n", (int)prov.name.len,
           (const char *)prov.name.ptr, (int)prov.gateway.len, (const char *)prov.gateway.ptr);
    store_bind(prov.spki.ptr, prov.spki.len);
    clock_set_unix((int64_t)prov.time_unix); /* certificate dates need a clock */
    tls_global_init(&prov);
    printf("wasmbed: rng seeded from the provisioning blob (this MCU model has no RNG)\r\n");
    uint32_t backoff = 500;
    uint32_t settle_ms = 0; /* at boot: what a session before a reset left is skipped */
    for (;;) {
        session_result_t r = session_run(&prov, settle_ms);
        if (r == SESSION_ENROLLED) {
            backoff = 500;
            settle_ms = 0; /* closed cleanly: only the gateway's close_notify may follow */
            continue; /* reconnect at once with the operational certificate */
        }
        settle_ms = 200;
        if (r == SESSION_ENDED) backoff = 500;
        uint32_t wait = backoff / 2 + (uint32_t)(rand() % (int)(backoff / 2 + 1));
        printf("wasmbed: reconnecting in %lu ms\r\n", (unsigned long)wait);
        idle_ms(wait);
        backoff = backoff < 8000 ? backoff * 2 : 8000;
    }
}
