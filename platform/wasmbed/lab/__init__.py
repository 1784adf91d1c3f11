"""Physical boards in a lab: the lab file, serial ports (local or rfc2217), a debug probe
spoken to over GDB's remote protocol, flashing, exclusive use, and the board handle that
drives them the way an emulated board is driven."""
