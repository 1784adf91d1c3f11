/* STM32F2/F4 USART, polled: the emulators (and the link at our rates) need nothing more.
 * The received byte must be read before the next one lands (QEMU holds it back until
 * then; silicon would overrun), so the firmware polls the link often. */
#include <stdint.h>

#include "board.h"
#include "hal.h"

typedef struct {
    volatile uint32_t SR, DR, BRR, CR1, CR2, CR3, GTPR;
} usart_t;

#define SR_RXNE (1u << 5)
#define SR_TXE (1u << 7)
#define CR1_UE (1u << 13)
#define CR1_TE (1u << 3)
#define CR1_RE (1u << 2)

static usart_t *const console = (usart_t *)BOARD_CONSOLE_UART;
static usart_t *const link = (usart_t *)BOARD_LINK_UART;

static void usart_init(usart_t *u) {
    u->BRR = BOARD_CPU_HZ / 115200u;
    u->CR1 = CR1_UE | CR1_TE | CR1_RE;
}

void hal_init(void) {
    board_init();
    usart_init(console);
    usart_init(link);
    hal_systick_init();
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
    size_t n = 0;
    while (n < cap && (link->SR & SR_RXNE)) buf[n++] = (uint8_t)link->DR;
    return n;
}
