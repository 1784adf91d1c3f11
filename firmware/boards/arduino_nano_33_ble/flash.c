/* nRF52840 NVMC: erase the store's 4 KiB page, write words, verify. Bounded waits. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "board.h"

#define NVMC_READY (*(volatile uint32_t *)0x4001E400u)
#define NVMC_CONFIG (*(volatile uint32_t *)0x4001E504u)
#define NVMC_ERASEPAGE (*(volatile uint32_t *)0x4001E508u)
#define CONFIG_REN 0u
#define CONFIG_WEN 1u
#define CONFIG_EEN 2u

static bool ready(void) {
    for (uint32_t i = 0; i < 2000000u; i++)
        if (NVMC_READY & 1u) return true;
    return false;
}

bool board_flash_write_store(const void *data, size_t len) {
    if (len > 4096) return false;
    NVMC_CONFIG = CONFIG_EEN;
    NVMC_ERASEPAGE = BOARD_STORE_ADDR;
    bool ok = ready();
    NVMC_CONFIG = CONFIG_WEN;
    const uint32_t *src = data;
    volatile uint32_t *dst = (volatile uint32_t *)BOARD_STORE_ADDR;
    for (size_t i = 0; ok && i < (len + 3) / 4; i++) {
        dst[i] = src[i];
        ok = ready();
    }
    NVMC_CONFIG = CONFIG_REN;
    return ok && memcmp((const void *)BOARD_STORE_ADDR, data, len) == 0;
}

const void *board_flash_store(void) { return (const void *)BOARD_STORE_ADDR; }
