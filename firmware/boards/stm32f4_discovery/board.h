/* stm32f4_discovery (STM32F407; on QEMU its stand-in is netduinoplus2, STM32F405).
 * Only peripherals both emulators model: USART1/USART2, SysTick, flash, SRAM. */
#ifndef BOARD_H
#define BOARD_H

#define BOARD_NAME "stm32f4_discovery"
#define BOARD_CPU_HZ 168000000u /* QEMU models 168 MHz; silicon needs the PLL set up (TODO) */
#define BOARD_CONSOLE_UART 0x40011000u  /* USART1: QEMU serial0 / Renode sysbus.usart1 */
#define BOARD_LINK_UART 0x40004400u     /* USART2: QEMU serial1 / Renode sysbus.usart2 */
#define BOARD_CONSOLE_IRQ 37            /* USART1 global interrupt */
#define BOARD_LINK_IRQ 38               /* USART2 global interrupt */
#define BOARD_PROVISION_ADDR 0x080C0000u /* flash sector 10: the provisioning blob */
#define BOARD_STORE_ADDR 0x080E0000u     /* flash sector 11: persistent store */

void board_init(void);

#include <stdbool.h>
#include <stddef.h>
/* The persistent store sector: program + verify; false if the flash cannot be written. */
bool board_flash_write_store(const void *data, size_t len);
const void *board_flash_store(void);

#endif
