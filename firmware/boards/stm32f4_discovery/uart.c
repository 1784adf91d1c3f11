/* STM32F2/F4 USART. Console: polled output. Link: output polled, input taken by the RXNE
 * interrupt into a ring as soon as each byte lands (QEMU holds the next byte back until the
 * last was read; silicon would overrun), so the main loop can sleep.
 *
 * A full ring holds reception back by masking the line in the NVIC, not by clearing RXNEIE:
 * QEMU 7.2's USART lowers its interrupt only when DR is read, so with RXNEIE cleared the
 * raised line re-entered the handler forever and the main loop, the one thing that could
 * make room, never ran again (a board wedged mid-handshake). */
#include <stdbool.h>
#include <stdint.h>

#include "board.h"
#include "hal.h"
#include "rx_ring.h"

typedef struct {
    volatile uint32_t SR, DR, BRR, CR1, CR2, CR3, GTPR;
} usart_t;

#define SR_RXNE (1u << 5)
#define SR_TXE (1u << 7)
#define CR1_UE (1u << 13)
#define CR1_RXNEIE (1u << 5)
#define CR1_TE (1u << 3)
#define CR1_RE (1u << 2)

static usart_t *const console = (usart_t *)BOARD_CONSOLE_UART;
static usart_t *const link = (usart_t *)BOARD_LINK_UART;
static rx_ring_t link_rx;
static volatile bool link_held; /* the ring was full: the line is masked */

static void usart_init(usart_t *u) {
    u->BRR = BOARD_CPU_HZ / 115200u;
    u->CR1 = CR1_UE | CR1_TE | CR1_RE;
}

void hal_init(void) {
    board_init();
    usart_init(console);
    usart_init(link);
    link->CR1 |= CR1_RXNEIE;
    hal_irq_enable(BOARD_LINK_IRQ);
    hal_systick_init();
}

void board_link_isr(void) {
    while (link->SR & SR_RXNE) {
        if (rx_ring_full(&link_rx)) {
            link_held = true; /* the byte waits in DR, the next ones in QEMU or the wire */
            hal_irq_disable(BOARD_LINK_IRQ);
            return;
        }
        rx_ring_put(&link_rx, (uint8_t)link->DR);
    }
}

static void put(usart_t *u, uint8_t c) {
    while (!(u->SR & SR_TXE)) {}
    u->DR = c;
}

void hal_console_write(const char *data, size_t len) {
    for (size_t i = 0; i < len; i++) put(console, (uint8_t)data[i]);
}

void hal_link_write(const uint8_t *data, size_t len) {
    for (size_t i = 0; i < len; i++) put(link, data[i]);
}

size_t hal_link_read(uint8_t *buf, size_t cap) {
    size_t n = rx_ring_take(&link_rx, buf, cap);
    if (link_held && !rx_ring_full(&link_rx)) { /* the handler is masked: no race */
        link_held = false;
        hal_irq_enable(BOARD_LINK_IRQ); /* still raised: the handler runs at once */
    }
    return n;
}

bool hal_link_pending(void) { return !rx_ring_empty(&link_rx); }
