/* The little hardware the firmware needs, implemented once per MCU family. */
#ifndef HAL_H
#define HAL_H

#include <stddef.h>
#include <stdint.h>

/* Per board (boards/<board>/uart.c): clocks, both UARTs, then hal_systick_init(). */
void hal_init(void);
void hal_systick_init(void); /* shared (src/hal/cortexm.c): 1 ms ticks at BOARD_CPU_HZ */
uint32_t hal_millis(void);
void hal_reset(void);

void hal_console_write(const char *data, size_t len);
/* The link UART carries the TLS byte stream to the gateway (through the bridge). */
void hal_link_write(const uint8_t *data, size_t len);
/* Non-blocking: up to `cap` bytes that have arrived; 0 when none. */
size_t hal_link_read(uint8_t *buf, size_t cap);

#endif
