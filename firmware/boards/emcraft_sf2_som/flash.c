/* The store on eNVM: programming it goes through the System Controller's mailbox services,
 * which neither this firmware nor QEMU implements. A write reports failure, which the
 * caller reports, as on QEMU's netduinoplus2 whose flash is ROM. */
#include <stdbool.h>
#include <stddef.h>

#include "board.h"

bool board_flash_write_store(const void *data, size_t len) {
    (void)data;
    (void)len;
    return false;
}

const void *board_flash_store(void) { return (const void *)BOARD_STORE_ADDR; }
