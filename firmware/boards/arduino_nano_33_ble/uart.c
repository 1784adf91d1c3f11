/* nRF52840 UARTE (EasyDMA). TX, polled: point TXD.PTR at the bytes (in RAM: EasyDMA cannot
 * read flash), start, wait for ENDTX. Link RX: a one-byte DMA buffer; its ENDRX interrupt
 * moves the byte into a ring and re-arms it - unless the ring is full, when the byte waits
 * (ENDRX left set, its interrupt masked) and the main loop re-arms once it has made room.
 * Written from the nRF52840 product specification; runs under Renode's NRF52840_UART model
 * (no QEMU machine). That model holds received bytes back only while ENDRX is set: with
 * ENDRX clear and no STARTRX it keeps writing at the DMA pointer, past the buffer. Hence
 * rearm()'s order, and ENDRX never cleared without a STARTRX right behind it. */
#include <stdint.h>
#include <string.h>

#include "board.h"
#include "hal.h"
#include "rx_ring.h"

#define REG(base, off) (*(volatile uint32_t *)((base) + (off)))
#define TASKS_STARTRX 0x000u
#define TASKS_STARTTX 0x008u
#define EVENTS_ENDRX 0x110u
#define EVENTS_ENDTX 0x120u
#define INTENSET 0x304u
#define INTENCLR 0x308u
#define INT_ENDRX (1u << 4)
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
static rx_ring_t link_rx;
static volatile uint8_t link_held; /* a received byte waits for room in the ring */

static void arm_rx(uarte_t *u) {
    REG(u->base, RXD_PTR) = (uint32_t)(uintptr_t)&u->rx;
    REG(u->base, RXD_MAXCNT) = 1;
    REG(u->base, EVENTS_ENDRX) = 0;
    REG(u->base, TASKS_STARTRX) = 1;
}

/* After the byte in u->rx was taken: receive the next one into it. STARTRX while ENDRX is
 * still set resets the DMA pointer and lets nothing in; clearing ENDRX then opens the
 * receiver, and a byte landing right then goes to u->rx and sets ENDRX again (the second
 * STARTRX leaves it for the handler); the second STARTRX also delivers a byte that was
 * waiting. No byte is lost and none is written past u->rx. */
static void rearm(uarte_t *u) {
    REG(u->base, TASKS_STARTRX) = 1;
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
    REG(link.base, INTENSET) = INT_ENDRX;
    hal_irq_enable(BOARD_LINK_IRQ);
    hal_systick_init();
}

void board_link_isr(void) {
    if (!REG(link.base, EVENTS_ENDRX)) return;
    if (rx_ring_full(&link_rx)) { /* the byte waits in the DMA buffer; so do the next ones */
        REG(link.base, INTENCLR) = INT_ENDRX;
        link_held = 1;
        return;
    }
    rx_ring_put(&link_rx, link.rx);
    rearm(&link);
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
    size_t n = rx_ring_take(&link_rx, buf, cap);
    if (link_held && !rx_ring_full(&link_rx)) { /* the handler is masked: no race */
        link_held = 0;
        rx_ring_put(&link_rx, link.rx);
        rearm(&link);
        REG(link.base, INTENSET) = INT_ENDRX;
    }
    return n;
}

bool hal_link_pending(void) { return !rx_ring_empty(&link_rx); }
