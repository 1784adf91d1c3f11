/* STM32F4 flash programming for the persistent store (sector 11 at BOARD_STORE_ADDR):
 * unlock, erase the sector, program 32-bit words, lock, verify. On QEMU's netduinoplus2
 * the flash is ROM and its controller unmodelled: writes do nothing and the verify fails,
 * which the caller reports. Every wait is bounded so an unmodelled controller cannot hang. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "board.h"

#define FLASH_KEYR (*(volatile uint32_t *)0x40023C04u)
#define FLASH_SR (*(volatile uint32_t *)0x40023C0Cu)
#define FLASH_CR (*(volatile uint32_t *)0x40023C10u)
#define SR_BSY (1u << 16)
#define CR_PG (1u << 0)
#define CR_SER (1u << 1)
#define CR_STRT (1u << 16)
#define CR_PSIZE_X32 (2u << 8)
#define CR_LOCK (1u << 31)
#define STORE_SECTOR 11u

static bool wait_idle(void) {
    for (uint32_t i = 0; i < 2000000u; i++)
        if (!(FLASH_SR & SR_BSY)) return true;
    return false;
}

bool board_flash_write_store(const void *data, size_t len) {
    FLASH_KEYR = 0x45670123u;
    FLASH_KEYR = 0xCDEF89ABu;
    bool ok = wait_idle();
    if (ok) {
        FLASH_CR = CR_PSIZE_X32 | CR_SER | (STORE_SECTOR << 3);
        FLASH_CR |= CR_STRT;
        ok = wait_idle();
    }
    if (ok) {
        FLASH_CR = CR_PSIZE_X32 | CR_PG;
        const uint32_t *src = data;
        volatile uint32_t *dst = (volatile uint32_t *)BOARD_STORE_ADDR;
        for (size_t i = 0; ok && i < (len + 3) / 4; i++) {
            dst[i] = src[i];
            ok = wait_idle();
        }
    }
    FLASH_CR = CR_LOCK;
    return ok && memcmp((const void *)BOARD_STORE_ADDR, data, len) == 0;
}

const void *board_flash_store(void) { return (const void *)BOARD_STORE_ADDR; }
