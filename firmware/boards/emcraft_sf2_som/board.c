/* SmartFusion2 MSS: the UARTs leave reset only when the firmware releases them (QEMU's
 * system-register model keeps the bits and ignores them). */
#include "board.h"

#include <stdint.h>

#define SYSREG_SOFT_RST_CR (*(volatile uint32_t *)0x40038048u)
#define SOFT_RST_MMUART0 (1u << 7)
#define SOFT_RST_MMUART1 (1u << 8)

void board_init(void) { SYSREG_SOFT_RST_CR &= ~(SOFT_RST_MMUART0 | SOFT_RST_MMUART1); }
