/* SmartFusion2 MSS UART (16550-compatible, registers 4 bytes apart). Console: polled
 * output. Link: output polled; input through the 16-byte receive FIFO, triggered at 14
 * bytes. QEMU hands such a FIFO up to 14 bytes per turn of its main loop (its STM32 USART:
 * one byte, then it waits for the guest to read it).
 *
 * The interrupt comes when the FIFO holds 14 bytes, or after four characters' time without
 * one: on silicon at 115200 baud ~0.35 ms, but QEMU times it from a fixed baud base of
 * 115200 over this divisor, ~13 ms. The last bytes of a message (under 14) arrived while
 * the core slept and waited for the next SysTick: every 1 KiB chunk's round trip was
 * ~9.6 ms, locked to the 10 ms tick. So after bytes came, the core sleeps with MSS Timer1
 * set to wake it in TAIL_WAIT_US; a sleep with nothing received before it sets no timer.
 * The main loop also drains the FIFO itself: hal_link_pending and hal_link_read look at it
 * when the ring has nothing. A full ring masks the line in the NVIC, as on the STM32
 * board: bytes then wait in the FIFO, and in QEMU behind it. */
#include <stdbool.h>
#include <stdint.h>

#include "board.h"
#include "hal.h"
#include "rx_ring.h"

typedef struct {
    volatile uint32_t RBR; /* THR on write; DLL with LCR.DLAB */
    volatile uint32_t IER; /* DLM with LCR.DLAB */
    volatile uint32_t FCR; /* IIR on read */
    volatile uint32_t LCR, MCR, LSR, MSR, SCR;
} mss_uart_t;

#define LSR_DR (1u << 0)
#define LSR_THRE (1u << 5)
#define LCR_8N1 0x03u
#define LCR_DLAB 0x80u
#define FCR_ENABLE 0x01u
#define FCR_CLEAR_RX 0x02u
#define FCR_CLEAR_TX 0x04u
#define FCR_TRIGGER_14 0xC0u
#define IER_RX_DATA 0x01u
#define BAUD 115200u

/* MSS Timer1 (SmartFusion2 TRM; QEMU's mss-timer), counting APB0 cycles */
#define TIM1_LOADVAL (*(volatile uint32_t *)0x40004004u)
#define TIM1_CTRL (*(volatile uint32_t *)0x4000400Cu)
#define TIM1_RIS (*(volatile uint32_t *)0x40004010u)
#define TIM_ENABLE (1u << 0)
#define TIM_ONESHOT (1u << 1)
#define TIM_INTERRUPT (1u << 2)
#define TAIL_WAIT_US 300u

static mss_uart_t *const console = (mss_uart_t *)BOARD_CONSOLE_UART;
static mss_uart_t *const link = (mss_uart_t *)BOARD_LINK_UART;
static rx_ring_t link_rx;
static volatile bool link_held; /* the ring was full: the line is masked */
static volatile bool received;  /* bytes came since the core last went to sleep */

static void uart_init(mss_uart_t *u) {
    uint32_t divisor = (BOARD_PCLK_HZ + 8u * BAUD) / (16u * BAUD);
    u->LCR = LCR_DLAB | LCR_8N1;
    u->RBR = divisor & 0xFFu;
    u->IER = divisor >> 8;
    u->LCR = LCR_8N1;
    u->FCR = FCR_ENABLE | FCR_CLEAR_RX | FCR_CLEAR_TX | FCR_TRIGGER_14;
}

void hal_init(void) {
    board_init();
    uart_init(console);
    uart_init(link);
    link->IER = IER_RX_DATA;
    hal_irq_enable(BOARD_LINK_IRQ);
    hal_irq_enable(BOARD_TIMER_IRQ);
    hal_systick_init();
}

/* Moves what the FIFO holds into the ring; false when the ring filled first. */
static bool drain(void) {
    while (link->LSR & LSR_DR) {
        if (rx_ring_full(&link_rx)) return false;
        rx_ring_put(&link_rx, (uint8_t)link->RBR);
        received = true;
    }
    return true;
}

void board_link_isr(void) {
    if (!drain()) {
        link_held = true; /* the bytes wait in the FIFO, the next ones in QEMU or the wire */
        hal_irq_disable(BOARD_LINK_IRQ);
    }
}

/* The main loop's own drain: with the line masked, so the ring keeps one producer. */
static void drain_from_main(void) {
    if (link_held) return; /* the line stays masked until the ring has room */
    hal_irq_disable(BOARD_LINK_IRQ);
    bool room = drain();
    if (room)
        hal_irq_enable(BOARD_LINK_IRQ);
    else
        link_held = true;
}

static void put(mss_uart_t *u, uint8_t c) {
    while (!(u->LSR & LSR_THRE)) {}
    u->RBR = c;
}

void hal_console_write(const char *data, size_t len) {
    for (size_t i = 0; i < len; i++) put(console, (uint8_t)data[i]);
}

void hal_link_write(const uint8_t *data, size_t len) {
    for (size_t i = 0; i < len; i++) put(link, data[i]);
}

size_t hal_link_read(uint8_t *buf, size_t cap) {
    if (rx_ring_empty(&link_rx)) drain_from_main();
    size_t n = rx_ring_take(&link_rx, buf, cap);
    if (link_held && !rx_ring_full(&link_rx)) { /* the handler is masked: no race */
        link_held = false;
        hal_irq_enable(BOARD_LINK_IRQ); /* still raised: the handler runs at once */
    }
    return n;
}

/* Interrupts are masked here (hal_wait_link). */
void hal_link_before_sleep(void) {
    if (!received) return; /* nothing came: sleep until the FIFO or SysTick wakes us */
    received = false;
    TIM1_CTRL = 0;
    TIM1_RIS = 1;
    TIM1_LOADVAL = BOARD_PCLK_HZ / 1000000u * TAIL_WAIT_US;
    TIM1_CTRL = TIM_ENABLE | TIM_ONESHOT | TIM_INTERRUPT;
}

void board_timer_isr(void) {
    TIM1_CTRL = 0;
    TIM1_RIS = 1; /* lowers the line */
}

bool hal_link_pending(void) {
    return !rx_ring_empty(&link_rx) || (link->LSR & LSR_DR);
}
