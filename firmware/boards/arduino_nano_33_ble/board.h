/* arduino_nano_33_ble (nRF52840, Cortex-M4F at 64 MHz). No QEMU machine: Renode only
 * (platforms/boards/arduino_nano_33_ble.repl). Both UARTs are UARTE with EasyDMA, as
 * Renode models them by default and as the silicon has them. */
#ifndef BOARD_H
#define BOARD_H

#define BOARD_NAME "arduino_nano_33_ble"
#define BOARD_CPU_HZ 64000000u
#define BOARD_CONSOLE_UART 0x40002000u /* UARTE0: Renode sysbus.uart0 */
#define BOARD_LINK_UART 0x40028000u    /* UARTE1: Renode sysbus.uart1 */
#define BOARD_CONSOLE_IRQ 2             /* UARTE0_UART0 */
#define BOARD_LINK_IRQ 40               /* UARTE1 */
#define BOARD_PROVISION_ADDR 0x000E0000u /* flash page 224: the provisioning blob */
#define BOARD_STORE_ADDR 0x000F0000u     /* persistent store (NVMC, 4 KiB pages) */

void board_init(void);

#include <stdbool.h>
#include <stddef.h>
bool board_flash_write_store(const void *data, size_t len);
const void *board_flash_store(void);

#endif
