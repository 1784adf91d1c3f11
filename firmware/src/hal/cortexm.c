/* What every Cortex-M board shares: the SysTick clock and the system reset. */
#include <stdint.h>

#include "board.h"
#include "hal.h"

#define SYST_CSR (*(volatile uint32_t *)0xE000E010u)
#define SYST_RVR (*(volatile uint32_t *)0xE000E014u)
#define SYST_CVR (*(volatile uint32_t *)0xE000E018u)
#define AIRCR (*(volatile uint32_t *)0xE000ED0Cu)
#define NVIC_ISER ((volatile uint32_t *)0xE000E100u)
#define NVIC_ICER ((volatile uint32_t *)0xE000E180u)

/* SysTick interrupts every TICK_MS, not every millisecond: each one wakes an idle board,
 * and in an emulator each wake costs host CPU (at 1 ms, an idle QEMU board took 8-11% of a
 * 2 GHz core). hal_millis keeps millisecond resolution by adding the counter's progress
 * through the current tick. Waits end at the next tick or at the interrupt they wait for
 * (the link receiving), so nothing that waits on the link is slower. */
#define TICK_MS 10u
#define CYCLES_PER_MS (BOARD_CPU_HZ / 1000u)

static volatile uint32_t ticks;

void systick_handler(void) { ticks++; }

void hal_systick_init(void) {
    SYST_RVR = CYCLES_PER_MS * TICK_MS - 1u; /* 24 bits: up to 1.6 GHz at 10 ms */
    SYST_CVR = 0;
    SYST_CSR = 7; /* processor clock, interrupt, enable */
}

uint32_t hal_millis(void) {
    uint32_t t, left;
    do { /* a wrap between the two reads runs the handler first: read both again */
        t = ticks;
        left = SYST_CVR; /* counts down from RVR */
    } while (t != ticks);
    return t * TICK_MS + (SYST_RVR - left) / CYCLES_PER_MS;
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

static void nothing_before_sleep(void) {}
void hal_link_before_sleep(void) __attribute__((weak, alias("nothing_before_sleep")));

/* While bytes are flowing (a chunk arriving), the next one is tens of microseconds away:
 * waiting for it with WFI halts the core, and in QEMU every byte then pays for waking the
 * halted vCPU thread (the STM32 USART model passes one byte per DR read). Polling for up to
 * LINK_POLL_MS after data seen in the last LINK_BUSY_MS took a 1 KiB chunk's round trip
 * from 82-142 to 64-71 ms (same machine, interleaved runs); an idle board still sleeps. */
#define LINK_BUSY_MS 5u
#define LINK_POLL_MS 2u

void hal_wait_link(void) {
    static uint32_t last_data;
    uint32_t now = hal_millis();
    if (hal_link_pending()) {
        last_data = now;
        return;
    }
    if (now - last_data < LINK_BUSY_MS)
        while (hal_millis() - now < LINK_POLL_MS)
            if (hal_link_pending()) {
                last_data = hal_millis();
                return;
            }
    /* Masked, a raised interrupt still ends WFI; its handler runs once unmasked. */
    __asm__ volatile("cpsid i" ::: "memory");
    hal_link_before_sleep();
    if (!hal_link_pending()) __asm__ volatile("wfi");
    __asm__ volatile("cpsie i" ::: "memory");
}
