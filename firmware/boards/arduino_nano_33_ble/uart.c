/* nRF52840 UARTE (EasyDMA), polled. TX: point TXD.PTR at the bytes (in RAM: EasyDMA cannot
 * read flash), start, wait for ENDTX. RX: a one-byte DMA buffer re-armed after every byte;
 * ENDRX says it holds one. Untested here (no QEMU machine): written from the nRF52840
 * product specification; runs under Renode's NRF52840_UART model. */
#include <stdint.h>
#include <string.h>

#include "board.h"
#include "hal.h"

#define REG(base, off) (*(volatile uint32_t *)((base) + (off)))
#define TASKS_STARTRX 0x000u
#define TASKS_STARTTX 0x008u
#define EVENTS_ENDRX 0x110u
#define EVENTS_ENDTX 0x120u
#define ENABLE 0x500u
#define PSEL_TXD 0x50Cu
#define PSEL_RXD 0x514u
#define BAUDRATE 0x524u
#define RXD_PTR 0x534u
#define RXD_MAXCNT 0x538u
#define TXD_PTR 0x544u
#define TXD_MAXCNT 0x548u
#define ENABLE_UARTE 8u
#define BAUD_115200 0x01D7E000u
/* Arduino Nano 33 BLE pins: console TX P1.03 / RX P1.10, link TX P0.27 / RX P0.26 */
#define PIN(port, n) (((port) << 5) | (n))

typedef struct {
    uint32_t base;
    uint8_t rx; /* the DMA target of the armed one-byte receive */
} uarte_t;

static uarte_t console = {BOARD_CONSOLE_UART, 0};
static uarte_t link = {BOARD_LINK_UART, 0};

static void arm_rx(uarte_t *u) {
    REG(u->base, RXD_PTR) = (uint32_t)(uintptr_t)&u->rx;
    REG(u->base, RXD_MAXCNT) = 1;
    REG(u->base, EVENTS_ENDRX) = 0;
    REG(u->base, TASKS_STARTRX) = 1;
}

static void uarte_init(uarte_t *u, uint32_t tx, uint32_t rx) {
    REG(u->base, PSEL_TXD) = tx;
    REG(u->base, PSEL_RXD) = rx;
    REG(u->base, BAUDRATE) = BAUD_115200;
    REG(u->base, ENABLE) = ENABLE_UARTE;
    arm_rx(u);
}

void hal_init(void) {
    board_init();
    uarte_init(&console, PIN(1, 3), PIN(1, 10));
    uarte_init(&link, PIN(0, 27), PIN(0, 26));
    hal_systick_init();
}

static void send(uarte_t *u, const uint8_t *data, size_t len) {
    static uint8_t chunk[64]; /* EasyDMA reads RAM only */
    while (len > 0) {
        size_t n = len < sizeof chunk ? len : sizeof chunk;
        memcpy(chunk, data, n);
        REG(u->base, TXD_PTR) = (uint32_t)(uintptr_t)chunk;
        REG(u->base, TXD_MAXCNT) = n;
        REG(u->base, EVENTS_ENDTX) = 0;
        REG(u->base, TASKS_STARTTX) = 1;
        for (uint32_t spin = 0; !REG(u->base, EVENTS_ENDTX) && spin < 10000000u; spin++) {}
        data += n;
        len -= n;
    }
}

void hal_console_write(const char *data, size_t len) {
    send(&console, (const uint8_t *)data, len);
}

void hal_link_write(const uint8_t *data, size_t len) { send(&link, data, len); }

size_t hal_link_read(uint8_t *buf, size_t cap) {
    size_t n = 0;
    while (n < cap && REG(link.base, EVENTS_ENDRX)) {
        buf[n++] = link.rx;
        arm_rx(&link);
    }
    return n;
}
