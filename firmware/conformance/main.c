/* The conformance firmware: a tiny program that prints known lines and runs a line shell on
 * its console, so robot/conformance can check each terminal-tester and log-tester keyword
 * behaves the same under Renode's own keywords and ours on QEMU.
 *
 * Boot prints fixed lines (one with ANSI colours, one with a NUL byte, one with key=value
 * pairs), then `conformance: ready` and the prompt `> ` (no newline). Each typed character
 * is echoed; Enter runs a command:
 *   ping          pong
 *   count N       count 1 .. count N, one per line
 *   tick N        tick 1 .. tick N, 100 ms apart
 *   say TEXT      TEXT
 *   probe         reads an address no peripheral answers (0x5FFFFFF4): the emulator logs
 *                 it; a fault it raises is stepped over and counted
 *   quiet         nothing (the line after it comes only with the next prompt)
 * Console on the board's console UART (STM32F4 USART register layout). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "board.h"
#include "hal.h"
#include "rx_ring.h"

typedef struct {
    volatile uint32_t SR, DR, BRR, CR1;
} usart_regs_t;

#define SR_RXNE (1u << 5)
#define CR1_RXNEIE (1u << 5)
static usart_regs_t *const console = (usart_regs_t *)BOARD_CONSOLE_UART;
static rx_ring_t console_rx;
volatile uint32_t fault_count;

/* Typed characters land in a ring; the main loop sleeps until there are some. */
void board_console_isr(void) {
    while (console->SR & SR_RXNE) {
        uint8_t c = (uint8_t)console->DR;
        if (!rx_ring_full(&console_rx)) rx_ring_put(&console_rx, c);
    }
}

/* Step over the faulting instruction (16- or 32-bit Thumb) and return to the program. */
__attribute__((naked)) void hal_fault(void) {
    __asm__ volatile(
        "tst lr, #4\n"
        "ite eq\n"
        "mrseq r0, msp\n"
        "mrsne r0, psp\n"
        "ldr r1, [r0, #24]\n"
        "ldrh r2, [r1]\n"
        "and r3, r2, #0xF800\n"
        "cmp r3, #0xE800\n"
        "it hs\n"
        "addhs r1, r1, #2\n"
        "add r1, r1, #2\n"
        "str r1, [r0, #24]\n"
        "ldr r2, =fault_count\n"
        "ldr r3, [r2]\n"
        "add r3, r3, #1\n"
        "str r3, [r2]\n"
        "bx lr\n");
}

static void wait_ms(uint32_t ms) {
    uint32_t start = hal_millis();
    while (hal_millis() - start < ms) hal_idle();
}

static void run(char *line) {
    char *arg = strchr(line, ' ');
    if (arg) *arg++ = 0;
    int n = arg ? atoi(arg) : 0;
    if (!strcmp(line, "ping")) {
        printf("pong\r\n");
    } else if (!strcmp(line, "count")) {
        for (int i = 1; i <= n; i++) printf("count %d\r\n", i);
    } else if (!strcmp(line, "tick")) {
        for (int i = 1; i <= n; i++) {
            wait_ms(100);
            printf("tick %d\r\n", i);
        }
    } else if (!strcmp(line, "say")) {
        printf("%s\r\n", arg ? arg : "");
    } else if (!strcmp(line, "probe")) {
        (void)*(volatile uint32_t *)0x5FFFFFF4u;
        printf("probed (faults stepped over: %lu)\r\n", (unsigned long)fault_count);
    } else if (line[0] && strcmp(line, "quiet")) {
        printf("unknown command: %s\r\n", line);
    }
}

int main(void) {
    hal_init();
    console->CR1 |= CR1_RXNEIE;
    hal_irq_enable(BOARD_CONSOLE_IRQ);
    printf("conformance: boot board=%s\r\n", BOARD_NAME);
    printf("colour: \x1b[32mgreen\x1b[0m text\r\n");
    hal_console_write("nul: a\0b\r\n", 10);
    printf("pair: alpha=1 beta=2\r\n");
    printf("conformance: ready\r\n> ");
    fflush(stdout);
    char line[96];
    size_t len = 0;
    for (;;) {
        uint8_t byte;
        if (!rx_ring_take(&console_rx, &byte, 1)) {
            hal_idle();
            continue;
        }
        char c = (char)byte;
        if (c == '\r' || c == '\n') {
            line[len] = 0;
            printf("\r\n");
            run(line);
            len = 0;
            printf("> ");
            fflush(stdout);
        } else if (len < sizeof line - 1) {
            line[len++] = c;
            hal_console_write(&c, 1);
        }
    }
}
