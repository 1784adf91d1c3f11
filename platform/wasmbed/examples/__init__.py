"""Example wasm apps as WebAssembly text, compiled on use (no toolchain needed).

They use the device host ABI (see wasmbed.device.runtime): the same apps in C live in
firmware/apps/ for the real firmware.
"""

from __future__ import annotations

from pathlib import Path

import wasmtime

HERE = Path(__file__).parent


def names() -> list[str]:
    return sorted(p.stem for p in HERE.glob("*.wat"))


def wasm(name: str) -> bytes:
    path = HERE / f"{name}.wat"
    if not path.exists():
        raise FileNotFoundError(f"no example app {name!r}; available: {', '.join(names())}")
    return bytes(wasmtime.wat2wasm(path.read_text()))


_PADDED = """(module
  (import "env" "log" (func $log (param i32 i32)))
  (import "env" "sleep_ms" (func $sleep_ms (param i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "big module ran")
  (data (i32.const 1024) "{filler}")
  (func (export "run") (result i32)
    (call $log (i32.const 16) (i32.const 14))  ;; not 0: wasm3 treats it as NULL
    {body}
    (i32.const 7)))"""


def grown(wasm: bytes, size: int) -> bytes:
    """`wasm` grown to exactly `size` bytes by a custom section, which runtimes skip: the
    module still needs no linear memory (boards without wasm RAM run it)."""
    for pad in range(size - len(wasm) - 1, 0, -1):
        body = b"\x03pad" + b"\0" * pad
        out = wasm + b"\x00" + _leb128(len(body)) + body
        if len(out) == size:
            return out
    raise ValueError(f"cannot grow a {len(wasm)}-byte module to {size} bytes")


def _leb128(n: int) -> bytes:
    out = bytearray()
    while True:
        out.append((n & 0x7F) | (0x80 if n > 0x7F else 0))
        n >>= 7
        if not n:
            return bytes(out)


PADDED_MAX_FILLER = 64 * 1024 - 1024  # the filler fits the module's one page after offset 1024


def padded(filler_bytes: int, *, forever: bool = False) -> bytes:
    """A valid module carrying `filler_bytes` of data (size and transfer tests): it logs
    "big module ran", then returns 7 — or, with forever, sleeps in a loop until stopped."""
    if not 0 <= filler_bytes <= PADDED_MAX_FILLER:
        raise ValueError("filler must fit the module's one page after offset 1024")
    pattern = bytes(range(256)) * (filler_bytes // 256 + 1)
    filler = "".join(f"\\{b:02x}" for b in pattern[:filler_bytes])
    body = "(loop $again (call $sleep_ms (i32.const 200)) (br $again))" if forever else ""
    return bytes(wasmtime.wat2wasm(_PADDED.format(filler=filler, body=body)))
