/* The "board" the session fuzz target runs on: the host, with RAM for flash. */
#ifndef BOARD_H
#define BOARD_H

#define BOARD_NAME "fuzz_host"
#define BOARD_CPU_HZ 1000000u

#include <stdbool.h>
#include <stddef.h>
bool board_flash_write_store(const void *data, size_t len);
const void *board_flash_store(void);

#endif
