"""Physical boards without hardware: QEMU stands in for a board on a desk (its UARTs behind
pseudo-terminals, its gdbstub as the debug probe, ser2net for network serial ports), so the
lab backend is tested end to end wherever QEMU runs."""
