/* What every Cortex-M board shares: the 1 ms SysTick and the system reset. */
#include <stdint.h>

#include "board.h"
#include "hal.h"

#define SYST_CSR (*(volatile uint32_t *)0xE000E010u)
#define SYST_RVR (*(volatile uint32_t *)0xE000E014u)
#define SYST_CVR (*(volatile uint32_t *)0xE000E018u)
#define AIRCR (*(volatile uint32_t *)0xE000ED0Cu)
#define NVIC_ISER ((volatile uint32_t *)0xE000E100u)
#define NVIC_ICER ((volatile uint32_t *)0xE000E180u)

void hal_systick_init(void) {
    SYST_RVR = BOARD_CPU_HZ / 1000u - 1u;
    SYST_CVR = 0;
    SYST_CSR = 7; /* processor clock, interrupt, enable */
}

void hal_reset(void) {
    AIRCR = (0x5FAu << 16) | (1u << 2); /* SYSRESETREQ */
    for (;;) {}
}

void hal_irq_enable(unsigned irq) { NVIC_ISER[irq / 32u] = 1u << (irq % 32u); }

void hal_irq_disable(unsigned irq) {
    NVIC_ICER[irq / 32u] = 1u << (irq % 32u);
    __asm__ volatile("dsb\n isb" ::: "memory"); /* masked before the handler returns */
}

void hal_idle(void) { __asm__ volatile("wfi"); }
