/* arduino_uno_r4_minima (Renesas RA4M1, Cortex-M4 at 48 MHz). No QEMU machine: Renode only
 * (platforms/boards/arduino_uno_r4_minima.repl).
 * 32 KiB of SRAM: smaller link buffers and output window leave the heap room for a TLS 1.3
 * session and a wasm module without linear memory. A module with a memory (one 64 KiB page)
 * cannot fit; the firmware says so at boot and refuses such modules. */
#ifndef BOARD_H
#define BOARD_H

#define BOARD_NAME "arduino_uno_r4_minima"
#define BOARD_CPU_HZ 48000000u
#define BOARD_PCLKB_HZ 24000000u
#define BOARD_CONSOLE_UART 0x40070040u /* SCI2: Renode sysbus.sci2 */
#define BOARD_LINK_UART 0x40070000u    /* SCI0: Renode sysbus.sci0 */
/* RA4M1 peripherals reach the NVIC through the ICU: IELSRn links an event to IRQ n. */
#define BOARD_LINK_IRQ 0                /* IELSR0 = SCI0_RXI */
#define BOARD_LINK_RXI_EVENT 0x98u      /* SCI0_RXI, as Renode's R7FA4M1A wires it */
#define BOARD_CONSOLE_IRQ 1             /* IELSR1, unused by the firmware */
#define BOARD_PROVISION_ADDR 0x00030000u /* code flash, above the image */
#define BOARD_STORE_ADDR 0x00038000u
#define BOARD_LINK_RX_CAP 1536 /* the gateway sizes its frames to Hello.max_frame */
#define BOARD_LINK_TX_CAP 1024
#define BOARD_OUTBOX_WINDOW 2
#define BOARD_LINK_RING 512

void board_init(void);

#include <stdbool.h>
#include <stddef.h>
bool board_flash_write_store(const void *data, size_t len);
const void *board_flash_store(void);

#endif
