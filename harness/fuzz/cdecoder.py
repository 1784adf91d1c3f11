"""The firmware's C codec, called in-process through ctypes: decode a payload and
re-encode what was decoded, or name the error class it refused it with."""

from __future__ import annotations

import ctypes
from pathlib import Path

from harness.fuzz.build import host_library

OUT_CAP = 70_000  # above the protocol's largest frame


class CDecoder:
    def __init__(self, library: Path | None = None) -> None:
        self.lib = ctypes.CDLL(str(library or host_library()))
        self.lib.wb_roundtrip.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_char_p,
                                          ctypes.c_size_t]
        self.lib.wb_roundtrip.restype = ctypes.c_int
        self.lib.wb_err_name.argtypes = [ctypes.c_int]
        self.lib.wb_err_name.restype = ctypes.c_char_p
        self.out = ctypes.create_string_buffer(OUT_CAP)

    def roundtrip(self, payload: bytes) -> bytes | str:
        """The re-encoding of an accepted payload, or the error class's name."""
        n = self.lib.wb_roundtrip(payload, len(payload), self.out, OUT_CAP)
        if n < 0:
            return self.lib.wb_err_name(n).decode()
        return self.out.raw[:n]
