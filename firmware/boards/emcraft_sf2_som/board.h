/* emcraft_sf2_som (Emcraft M2S-FG484 SOM: Microchip SmartFusion2 M2S010, Cortex-M3 at
 * 142 MHz; on QEMU, the machine emcraft-sf2).
 * Its MSS UARTs are 16550-compatible with a 16-byte receive FIFO, and QEMU's 16550 model
 * takes up to 14 bytes per turn of its main loop where the STM32 USART model takes one:
 * raw, 16 KiB cross the link in ~33 ms against ~195 ms (README has the deploy figures).
 * MSS Timer1 wakes the core for the last bytes of a message (uart.c).
 * The SOM's 64 MiB of DDR holds the heap, so modules of up to 128 KiB fit. */
#ifndef BOARD_H
#define BOARD_H

#define BOARD_NAME "emcraft_sf2_som"
#define BOARD_CPU_HZ 142000000u /* M3_CLK as Emcraft's Libero design sets it (QEMU: the same) */
#define BOARD_PCLK_HZ 71000000u /* APB0/APB1 at M3_CLK / 2: the UARTs' clock */
#define BOARD_CONSOLE_UART 0x40000000u /* MMUART_0: QEMU serial0 */
#define BOARD_LINK_UART 0x40010000u    /* MMUART_1: QEMU serial1 */
#define BOARD_CONSOLE_IRQ 10           /* MMUART0_IRQn */
#define BOARD_LINK_IRQ 11              /* MMUART1_IRQn */
#define BOARD_TIMER_IRQ 14             /* Timer1_IRQn: wakes the core for a message's tail */
/* eNVM (256 KiB at 0x60000000, mapped at 0 from reset): the image, then the provisioning
 * blob and the persistent store in its top 32 KiB. */
#define BOARD_PROVISION_ADDR 0x00038000u
#define BOARD_STORE_ADDR 0x0003C000u

void board_init(void);

#include <stdbool.h>
#include <stddef.h>
/* The persistent store: eNVM is programmed through the System Controller's services, which
 * this firmware does not drive (nor does QEMU model them): writes report failure. */
bool board_flash_write_store(const void *data, size_t len);
const void *board_flash_store(void);

#endif
