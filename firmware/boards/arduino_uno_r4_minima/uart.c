/* RA4M1 SCI in asynchronous mode, polled (8N1, 115200 from PCLKB). Written from the RA4M1
 * hardware manual; runs under Renode's RenesasRA_SCI model; untested here. */
#include <stdint.h>

#include "board.h"
#include "hal.h"

typedef struct {
    volatile uint8_t SMR, BRR, SCR, TDR, SSR, RDR;
} sci_t;

#define SCR_TE (1u << 5)
#define SCR_RE (1u << 4)
#define SSR_TDRE (1u << 7)
#define SSR_RDRF (1u << 6)
#define SSR_ERRORS (0x38u) /* ORER, FER, PER */

static sci_t *const console = (sci_t *)BOARD_CONSOLE_UART;
static sci_t *const link = (sci_t *)BOARD_LINK_UART;

static void sci_init(sci_t *s) {
    s->SCR = 0;
    s->SMR = 0; /* async, 8N1, PCLKB/1 */
    s->BRR = (uint8_t)(BOARD_PCLKB_HZ / (32u * 115200u) - 1u);
    s->SCR = SCR_TE | SCR_RE;
}

void hal_init(void) {
    board_init();
    sci_init(console);
    sci_init(link);
    hal_systick_init();
}

static void put(sci_t *s, uint8_t c) {
    for (uint32_t spin = 0; !(s->SSR & SSR_TDRE) && spin < 1000000u; spin++) {}
    s->TDR = c;
}

void hal_console_write(const char *data, size_t len) {
    for (size_t i = 0; i < len; i++) put(console, (uint8_t)data[i]);
}

void hal_link_write(const uint8_t *data, size_t len) {
    for (size_t i = 0; i < len; i++) put(link, data[i]);
}

size_t hal_link_read(uint8_t *buf, size_t cap) {
    size_t n = 0;
    if (link->SSR & SSR_ERRORS) link->SSR &= (uint8_t)~SSR_ERRORS; /* drop a bad byte */
    while (n < cap && (link->SSR & SSR_RDRF)) buf[n++] = link->RDR;
    return n;
}
