/* STM32F2/F4 USART. Console: polled output. Link: output polled, input taken by the RXNE
 * interrupt into a ring as soon as each byte lands (QEMU holds the next byte back until the
 * last was read; silicon would overrun), so the main loop can sleep. */
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
            link->CR1 &= ~CR1_RXNEIE; /* hold the rest back until there is room */
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
    if (!(link->CR1 & CR1_RXNEIE)) link->CR1 |= CR1_RXNEIE; /* room again */
    return n;
}
