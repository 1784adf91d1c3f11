"""Source to wasm for the dashboard and `POST /api/v1/compile`: C with clang (wasm32, the
flags of firmware/apps), Rust with rustc when its wasm32 target is installed. Each build
runs sandboxed (wasmbed.sandbox: its own temp dir and the toolchain are all it can read; no
network; CPU, memory, time, file and output limits); the result is validated and its
imports checked against the host functions devices offer, so a module that compiles but
could never be instantiated on a device is refused here, with the reason."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import wasmtime

from wasmbed import sandbox
from wasmbed.device.runtime import HOST_FUNCTIONS
from wasmbed.modules import inspection_engine

HEADER = Path(__file__).parent / "sdk" / "wasmbed_app.h"  # shipped in the package
RUST_SDK = Path(__file__).parent / "sdk" / "wasmbed_app.rs"  # `mod wasmbed_app;` in Rust
MAX_SOURCE = 256 * 1024
LIMITS = sandbox.Limits(cpu_s=30, wall_s=30.0, memory_bytes=1024 * 1024 * 1024,
                        file_bytes=16 * 1024 * 1024, output_bytes=32 * 1024)
C_FLAGS = ["--target=wasm32", "-nostdlib", "-O2", "-ferror-limit=20", "-Wl,--no-entry",
           "-Wl,--export=run",
           "-Wl,--allow-undefined", "-Wl,-z,stack-size=4096", "-Wl,--initial-memory=65536",
           "-Wl,--max-memory=65536"]
RUST_TARGET = "wasm32-unknown-unknown"
# one page of linear memory and a small stack, as the C apps: what the firmware offers
RUST_FLAGS = ["--edition", "2021", "--crate-type", "cdylib", "--target", RUST_TARGET, "-O",
              "-C", "panic=abort", "-C", "link-arg=--initial-memory=65536",
              "-C", "link-arg=--max-memory=65536", "-C", "link-arg=-zstack-size=4096"]


def rustc() -> str | None:
    """Debian's rustc (with libstd-rust-dev-wasm32) first: the sandbox sees /usr, not a
    rustup toolchain in a home directory."""
    return shutil.which("rustc", path="/usr/bin") or shutil.which("rustc")


class CompileUnavailable(Exception):
    """No toolchain for this language here; the message says what to install."""


@dataclass
class CompileResult:
    ok: bool
    wasm: bytes = b""
    diagnostics: str = ""
    problems: list[str] = field(default_factory=list)  # why a built module is refused
    seconds: float = 0.0


def _run(argv: list[str], work: Path, readonly: tuple[Path, ...] = ()) -> tuple[int, str]:
    """(exit code, diagnostics) of one sandboxed compiler run; diagnostics are capped."""
    out = sandbox.run(argv, work, LIMITS, readonly=readonly)
    text = out.output.replace("/work/", "")
    if out.cut_bytes:
        text += f"\n... ({out.cut_bytes} more bytes of diagnostics cut)"
    if out.timed_out:
        return 124, (f"{text}\nthe compiler took longer than {LIMITS.wall_s:.0f} s and was "
                     "stopped").strip()
    return out.code, text


def languages() -> dict[str, str | None]:
    """language -> None if available here, else what to install (a sandbox included: no
    compiler runs outside one)."""
    if (why := sandbox.missing()) is not None:
        return {"c": why, "rust": why}
    c = None if shutil.which("clang") and shutil.which("wasm-ld") else \
        "apt-get install -y clang lld"
    return {"c": c, "rust": rust_missing()}


def rust_missing() -> str | None:
    install = ("apt-get install -y --no-install-recommends rustc libstd-rust-dev-wasm32 "
               "(./run test installs them)")
    exe = rustc()
    if exe is None:
        return install
    done = subprocess.run([exe, "--print", "sysroot"], capture_output=True, text=True)
    lib = Path(done.stdout.strip()) / "lib" / "rustlib" / RUST_TARGET
    return None if lib.is_dir() else install


def check_imports(wasm: bytes, entry: str = "run") -> list[str]:
    """What would stop a device from running this module: unknown imports, wrong
    signatures, no entry function."""
    module = wasmtime.Module(inspection_engine(), wasm)
    problems = []
    for imp in module.imports:
        ty = imp.type
        if imp.module != "env" or imp.name not in HOST_FUNCTIONS:
            problems.append(f"imports {imp.module}.{imp.name}, which devices do not provide "
                            f"(host functions: {', '.join(sorted(HOST_FUNCTIONS))})")
            continue
        params, results = HOST_FUNCTIONS[imp.name]
        if not isinstance(ty, wasmtime.FuncType) or \
                [str(p) for p in ty.params] != [str(p) for p in params] or \
                [str(r) for r in ty.results] != [str(r) for r in results]:
            problems.append(f"imports env.{imp.name} with the wrong signature {ty}; see "
                            "wasmbed/sdk/wasmbed_app.h")
    if not any(e.name == entry and isinstance(e.type, wasmtime.FuncType)
               for e in module.exports):
        problems.append(f"exports no function {entry!r} (the entry devices call)")
    return problems


def compile_source(language: str, source: str, entry: str = "run") -> CompileResult:
    started = time.monotonic()
    missing = languages().get(language, f"unknown language {language!r}; use c or rust")
    if missing:
        raise CompileUnavailable(missing)
    with tempfile.TemporaryDirectory(prefix="wasmbed-compile-") as tmp:
        work = Path(tmp)
        out = work / "app.wasm"
        if language == "c":
            shutil.copy(HEADER, work / HEADER.name)
            (work / "app.c").write_text(source)
            flags = [f for f in C_FLAGS if f != "-Wl,--export=run"] + [f"-Wl,--export={entry}"]
            code, diagnostics = _run(["clang", *flags, "-o", "app.wasm", "app.c"], work)
        else:
            shutil.copy(RUST_SDK, work / RUST_SDK.name)
            (work / "app.rs").write_text(source)
            code, diagnostics = _run([rustc() or "rustc", *RUST_FLAGS, "-o", "app.wasm",
                                      "app.rs"], work)
        took = time.monotonic() - started
        if code != 0 or not out.exists():
            return CompileResult(False, diagnostics=diagnostics, seconds=took)
        wasm = out.read_bytes()
    try:
        problems = check_imports(wasm, entry)
    except wasmtime.WasmtimeError as exc:
        problems = [f"the compiler produced an invalid module: {exc}"]
    return CompileResult(not problems, wasm if not problems else b"", diagnostics, problems,
                         time.monotonic() - started)
