/* RA4M1 SCI in asynchronous mode (8N1, 115200 from PCLKB). Output polled; link input taken
 * by the receive interrupt (SCI0_RXI, linked to IRQ 0 through the ICU) into a ring. Written
 * from the RA4M1 hardware manual; runs under Renode's RenesasRA6M5_SCI model. */
#include <stdint.h>

#include "board.h"
#include "hal.h"
#include "rx_ring.h"

typedef struct {
    volatile uint8_t SMR, BRR, SCR, TDR, SSR, RDR;
} sci_t;

#define SCR_TE (1u << 5)
#define SCR_RIE (1u << 6)
#define ICU_IELSR(n) (*(volatile uint32_t *)(0x40006300u + 4u * (n)))
#define IELSR_IR (1u << 16)
#define SCR_RE (1u << 4)
#define SSR_TDRE (1u << 7)
#define SSR_RDRF (1u << 6)
#define SSR_ERRORS (0x38u) /* ORER, FER, PER */

static sci_t *const console = (sci_t *)BOARD_CONSOLE_UART;
static sci_t *const link = (sci_t *)BOARD_LINK_UART;
static rx_ring_t link_rx;

static void sci_init(sci_t *s) {
    s->SCR = 0;
    s->SMR = 0; /* async, 8N1, PCLKB/1 */
    s->BRR = (uint8_t)(BOARD_PCLKB_HZ / (32u * 115200u) - 1u);
    s->SCR = SCR_TE | SCR_RE;
}

void hal_init(void) {
    board_init();
    sci_init(console);
    sci_init(link);
    ICU_IELSR(BOARD_LINK_IRQ) = BOARD_LINK_RXI_EVENT;
    link->SCR |= SCR_RIE;
    hal_irq_enable(BOARD_LINK_IRQ);
    hal_systick_init();
}

void board_link_isr(void) {
    ICU_IELSR(BOARD_LINK_IRQ) &= ~IELSR_IR;
    if (link->SSR & SSR_ERRORS) link->SSR &= (uint8_t)~SSR_ERRORS; /* drop a bad byte */
    while (link->SSR & SSR_RDRF) {
        if (rx_ring_full(&link_rx)) {
            link->SCR &= (uint8_t)~SCR_RIE; /* hold the rest back until there is room */
            return;
        }
        rx_ring_put(&link_rx, link->RDR);
    }
}

static void put(sci_t *s, uint8_t c) {
    for (uint32_t spin = 0; !(s->SSR & SSR_TDRE) && spin < 1000000u; spin++) {}
    s->TDR = c;
}

void hal_console_write(const char *data, size_t len) {
    for (size_t i = 0; i < len; i++) put(console, (uint8_t)data[i]);
}

void hal_link_write(const uint8_t *data, size_t len) {
    for (size_t i = 0; i < len; i++) put(link, data[i]);
}

size_t hal_link_read(uint8_t *buf, size_t cap) {
    size_t n = rx_ring_take(&link_rx, buf, cap);
    if (!(link->SCR & SCR_RIE)) {
        __asm__ volatile("cpsid i" ::: "memory");
        link->SCR |= SCR_RIE; /* room again */
        board_link_isr();     /* bytes held back while it was off raise no new event */
        __asm__ volatile("cpsie i" ::: "memory");
    }
    return n;
}

bool hal_link_pending(void) { return !rx_ring_empty(&link_rx); }
