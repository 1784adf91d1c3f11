"""Checking a module before anything stores or forwards it: size, base64, sha256, valid
wasm. The API server (on upload) and the gateway (on push) apply the same checks."""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
from dataclasses import dataclass

import wasmtime

from wasmbed.httperrors import api_error


@functools.cache
def inspection_engine() -> wasmtime.Engine:
    """The engine that validates and inspects modules (never runs them). Made on first use,
    not at import: wasmtime installs its trap (SIGILL/SIGSEGV)
    handlers with the first engine, and a crash reporter enabled after that (pytest's
    faulthandler) would take those signals from every later engine's traps."""
    return wasmtime.Engine()


# Far above what a Cortex-M device holds (they advertise their own maxModuleSize), low enough
# that no module can make a list, a watch or a gateway push slow.
MAX_MODULE_BYTES = 1024 * 1024


@dataclass(frozen=True)
class CheckedModule:
    wasm: bytes
    sha256: str  # hex


def check_module(wasm_b64: str, expected_sha256: str | None = None) -> CheckedModule:
    """Decode and validate; raises a 422 JSON error (BadEncoding, HashMismatch,
    InvalidModule) or a 413 (ModuleTooLarge) that says what is wrong and how to fix it."""
    if len(wasm_b64) > (MAX_MODULE_BYTES + 2) // 3 * 4:
        raise api_error(413, "ModuleTooLarge",
                        f"the module is over {MAX_MODULE_BYTES} bytes",
                        "devices hold far less; build with -Os and strip debug sections")
    try:
        wasm = base64.b64decode(wasm_b64, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise api_error(422, "BadEncoding", "the module bytes are not valid base64",
                        "base64-encode the .wasm file") from exc
    digest = hashlib.sha256(wasm).hexdigest()
    if expected_sha256 and expected_sha256.lower() != digest:
        raise api_error(422, "HashMismatch",
                        f"sha256 of the module is {digest}, but {expected_sha256} was given",
                        "the module was altered, or the hash is for another file")
    try:
        wasmtime.Module.validate(inspection_engine(), wasm)
    except wasmtime.WasmtimeError as exc:
        raise api_error(422, "InvalidModule",
                        f"not a valid WebAssembly module: {str(exc).splitlines()[0]}",
                        "build it for wasm32 (clang --target=wasm32, see firmware/apps)") \
            from exc
    return CheckedModule(wasm, digest)


def linear_memory_bytes(wasm: bytes) -> int:
    """The linear memory a (valid) module starts with, in bytes: 0 for a module with no
    memory at all, which a device without wasm RAM can still run."""
    def leb(pos: int) -> tuple[int, int]:
        value = shift = 0
        while True:
            byte = wasm[pos]
            value |= (byte & 0x7F) << shift
            pos += 1
            if byte < 0x80:
                return value, pos
            shift += 7

    pos = 8  # magic and version
    while pos < len(wasm):
        section, pos = wasm[pos], pos + 1
        size, pos = leb(pos)
        if section == 5:  # memory section: count, then limits (flags, initial[, maximum])
            count, at = leb(pos)
            if count == 0:
                return 0
            _flags, at = leb(at)
            initial, _ = leb(at)
            return initial * 64 * 1024
        pos += size
    return 0
