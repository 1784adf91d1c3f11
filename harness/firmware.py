"""Boards for scenarios: the firmware is built once per change and board (an incremental
build shared by workers and sessions), then each test gets fresh emulator processes
(wasmbed.emulation.factory picks QEMU or Renode)."""

from __future__ import annotations

import fcntl
import shutil
import subprocess
import sys
from pathlib import Path

from wasmbed.emulation import EmulatorUnavailable
from wasmbed.emulation.board import EmulatedBoard
from wasmbed.emulation.catalog import FIRMWARE_DIR, BoardSpec
from wasmbed.emulation.factory import make_board


class ToolchainMissing(EmulatorUnavailable):
    """The firmware or app toolchain is not installed; the message says what to install.
    pytest fixtures turn it into a skip, Robot keywords into a skipped test."""


# Where the harness builds firmware and apps: the Makefile's own build dir, shared by every
# xdist worker, nested session (lab tests) and benchmark, so each board compiles once per
# change rather than once per process that needs it (make is incremental).
SHARED_BUILD = FIRMWARE_DIR / "build"


def make(target: str, build_dir: Path, *variables: str, timeout: float = 900) -> None:
    """`make <target>` of the firmware Makefile (incremental), into `build_dir`; one make
    at a time per build dir (others wait for it, then find their target up to date)."""
    build_dir.mkdir(parents=True, exist_ok=True)
    with open(build_dir / ".make.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        result = subprocess.run(
            ["make", "-s", target, *variables, f"BUILD={build_dir}",
             f"PYTHON={sys.executable}"],
            cwd=FIRMWARE_DIR, capture_output=True, text=True, timeout=timeout)
    if result.returncode != 0:
        raise RuntimeError(f"make {' '.join([target, *variables])} failed:\n{result.stdout}\n"
                           f"{result.stderr}")


def _make_for_board(target: str, spec: BoardSpec, build_dir: Path) -> None:
    if shutil.which("arm-none-eabi-gcc") is None or shutil.which("make") is None:
        raise ToolchainMissing("the firmware toolchain is missing: apt-get install -y "
                    "--no-install-recommends gcc-arm-none-eabi libnewlib-arm-none-eabi make "
                    "(or run ./run test, which installs it)")
    make(target, build_dir, f"BOARD={spec.name}")


def build_firmware(spec: BoardSpec, build_dir: Path) -> Path:
    """The board's firmware."""
    _make_for_board("firmware", spec, build_dir)
    return spec.firmware_elf(build_dir)


def build_conformance(spec: BoardSpec, build_dir: Path) -> Path:
    """The conformance firmware (firmware/conformance: a line shell printing known lines)
    for the Robot keyword conformance suite."""
    _make_for_board("conformance", spec, build_dir)
    return build_dir / spec.name / "conformance.elf"


def build_apps(build_dir: Path) -> dict[str, bytes]:
    """The example apps (firmware/apps) as wasm: the C ones with clang for wasm32, and the
    Rust ones (hello_rust) where Debian's rustc has its wasm32 target."""
    from wasmbed.compile import rust_missing  # wasmtime and the API's errors: not at startup

    if shutil.which("clang") is None or shutil.which("wasm-ld") is None:
        raise ToolchainMissing("clang and wasm-ld are missing: apt-get install -y clang lld")
    for target in ["apps"] + (["rust-apps"] if rust_missing() is None else []):
        make(target, build_dir, timeout=300)
    return {p.stem: p.read_bytes() for p in (build_dir / "apps").glob("*.wasm")}



def start_board(name: str, emulator: str, elf: Path, workdir: Path,
                blob: Path | None = None, run: bool = True) -> EmulatedBoard:
    return make_board(name, emulator, elf, workdir, blob=blob).start(run=run)
