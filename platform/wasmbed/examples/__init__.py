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
