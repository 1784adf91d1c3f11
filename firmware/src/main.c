/* Wasmbed firmware: console on one UART, the gateway link (TLS) on the other. */
#include <stdio.h>

#include "board.h"
#include "hal.h"

#ifndef FIRMWARE_VERSION
#define FIRMWARE_VERSION "0.1.0"
#endif

int main(void) {
    hal_init();
    printf("wasmbed: boot firmware=%s board=%s\r\n", FIRMWARE_VERSION, BOARD_NAME);
    uint32_t next = 1000;
    for (;;) {
        if (hal_millis() >= next) {
            printf("wasmbed: uptime_ms=%lu\r\n", (unsigned long)hal_millis());
            next += 1000;
        }
        __asm__ volatile("wfi");
    }
}
