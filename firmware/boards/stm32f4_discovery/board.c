/* Clocks and pins for the USARTs on the STM32F4 (ignored by QEMU's model, needed on
 * silicon and on Renode platforms that check enables). */
#include "board.h"

#include <stdint.h>

#define RCC_AHB1ENR (*(volatile uint32_t *)0x40023830u)
#define RCC_APB1ENR (*(volatile uint32_t *)0x40023840u)
#define RCC_APB2ENR (*(volatile uint32_t *)0x40023844u)

void board_init(void) {
    RCC_AHB1ENR |= 1u << 0;  /* GPIOA (USART1 PA9/PA10, USART2 PA2/PA3) */
    RCC_APB2ENR |= 1u << 4;  /* USART1 */
    RCC_APB1ENR |= 1u << 17; /* USART2 */
}
