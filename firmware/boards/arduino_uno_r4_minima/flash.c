/* RA4M1 code flash is programmed through the FACI command interface (P/E mode, which must
 * run from RAM); not done yet: the operational certificate stays in retained RAM, as on
 * QEMU's STM32, and the firmware says so on the console. */
#include <stdbool.h>
#include <stddef.h>

#include "board.h"

bool board_flash_write_store(const void *data, size_t len) {
    (void)data;
    (void)len;
    return false;
}

const void *board_flash_store(void) { return (const void *)BOARD_STORE_ADDR; }
