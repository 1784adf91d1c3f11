/* RA4M1: release SCI0 and SCI2 from module stop (MSTPCRB, behind the PRCR write guard). */
#include "board.h"

#include <stdint.h>

#define PRCR (*(volatile uint16_t *)0x4001E3FEu)
#define MSTPCRB (*(volatile uint32_t *)0x40047000u)
#define MSTPB_SCI(n) (1u << (31u - (n)))

void board_init(void) {
    PRCR = 0xA502; /* unlock the low-power mode registers */
    MSTPCRB &= ~(MSTPB_SCI(0) | MSTPB_SCI(2));
    PRCR = 0xA500;
}
