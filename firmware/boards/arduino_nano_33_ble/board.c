/* nRF52840 needs no clock gating for UARTE; pins are routed in uart.c (PSEL). */
#include "board.h"

void board_init(void) {}
