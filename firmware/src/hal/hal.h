/* The little hardware the firmware needs, implemented once per MCU family. */
#ifndef HAL_H
#define HAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Per board (boards/<board>/uart.c): clocks, both UARTs, then hal_systick_init(). */
void hal_init(void);
void hal_systick_init(void); /* shared (src/hal/cortexm.c): 10 ms ticks at BOARD_CPU_HZ */
uint32_t hal_millis(void); /* milliseconds since boot, to the millisecond */
void hal_reset(void);

/* Sleep until the next interrupt (SysTick within 10 ms, or the link receiving): what every
 * waiting loop does instead of spinning, so an idle board idles its host core too. */
void hal_idle(void);
/* hal_idle for a wait on the link: returns at once when it has received bytes not yet read,
 * including bytes whose interrupt came between the caller's last read and this call (they
 * would otherwise wait for the next tick, up to 10 ms). Right after bytes came it polls for
 * a moment before sleeping, since the next byte is that close (cortexm.c). */
void hal_wait_link(void);
void hal_irq_enable(unsigned irq); /* an external interrupt line of the NVIC */
void hal_irq_disable(unsigned irq); /* masks the line in the NVIC; a raised one stays pending */

void hal_console_write(const char *data, size_t len);
/* The link UART carries the TLS byte stream to the gateway (through the bridge). Received
 * bytes are taken by an interrupt handler into a ring (rx_ring.h); the board's
 * board_link_isr runs at BOARD_LINK_IRQ. */
void hal_link_write(const uint8_t *data, size_t len);
/* Non-blocking: up to `cap` bytes that have arrived; 0 when none. */
size_t hal_link_read(uint8_t *buf, size_t cap);
bool hal_link_pending(void); /* received bytes wait to be read */
/* Per board, optional: hal_wait_link calls it with interrupts masked, just before it
 * sleeps. A UART that interrupts only at a FIFO level arranges here that a message's last
 * few bytes wake the core soon (default: nothing). */
void hal_link_before_sleep(void);

/* The clock (src/device): set from the provisioning blob and the gateway's time. */
void clock_set_unix(int64_t unix_s);
/* Heap the module runtime may still use (src/hal/syscalls.c). */
size_t heap_free(void);

#endif
