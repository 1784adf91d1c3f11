/* Cortex-M start-up: vector table, .data/.bss set-up and fault handlers (SysTick's is in
 * cortexm.c, beside the clock it keeps). */
#include <stdint.h>

#include "board.h"
#include "hal.h"

extern uint32_t _data_load, _data_start, _data_end, _bss_start, _bss_end, _stack_top;
int main(void);
void systick_handler(void); /* cortexm.c */

void reset_handler(void) {
    uint32_t *src = &_data_load;
    for (uint32_t *dst = &_data_start; dst < &_data_end;) *dst++ = *src++;
    for (uint32_t *dst = &_bss_start; dst < &_bss_end;) *dst++ = 0;
    main();
    for (;;) hal_reset();
}

static void fault_reset(void) {
    static const char text[] = "wasmbed: fault: CPU fault, resetting\r\n";
    hal_console_write(text, sizeof text - 1);
    hal_reset();
}
/* A firmware may handle faults itself (the conformance firmware steps over them). */
void hal_fault(void) __attribute__((weak, alias("fault_reset")));

static void default_handler(void) { for (;;) {} }
/* Interrupt handlers a board (or a firmware) provides; unused ones stay default. */
void board_link_isr(void) __attribute__((weak, alias("default_handler")));
void board_console_isr(void) __attribute__((weak, alias("default_handler")));
void board_timer_isr(void) __attribute__((weak, alias("default_handler")));

#define EXTERNAL_IRQS 64

__attribute__((section(".vectors"), used)) static void (*const vectors[16 + EXTERNAL_IRQS])(void) = {
    (void (*)(void))(&_stack_top), reset_handler, hal_fault, hal_fault,
    hal_fault, hal_fault, hal_fault, 0, 0, 0, 0, default_handler, default_handler, 0,
    default_handler, systick_handler,
    [16 + BOARD_LINK_IRQ] = board_link_isr,
    [16 + BOARD_CONSOLE_IRQ] = board_console_isr,
#ifdef BOARD_TIMER_IRQ /* a board's own timer (board.h) */
    [16 + BOARD_TIMER_IRQ] = board_timer_isr,
#endif
};
