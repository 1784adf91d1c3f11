"""Boards for scenarios: the firmware is built once per session and board, then each test
gets fresh emulator processes (wasmbed.emulation.factory picks QEMU or Renode)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from wasmbed.compile import rust_missing
from wasmbed.emulation import EmulatorUnavailable
from wasmbed.emulation.board import EmulatedBoard
from wasmbed.emulation.catalog import FIRMWARE_DIR, BoardSpec
from wasmbed.emulation.factory import make_board


class ToolchainMissing(EmulatorUnavailable):
    """The firmware or app toolchain is not installed; the message says what to install.
    pytest fixtures turn it into a skip, Robot keywords into a skipped test."""


def build_firmware(spec: BoardSpec, build_dir: Path) -> Path:
    """`make firmware` for the board (incremental)."""
    if shutil.which("arm-none-eabi-gcc") is None or shutil.which("make") is None:
        raise ToolchainMissing("the firmware toolchain is missing: apt-get install -y "
                    "--no-install-recommends gcc-arm-none-eabi libnewlib-arm-none-eabi make "
                    "(or run ./run test, which installs it)")
    result = subprocess.run(
        ["make", "-s", "firmware", f"BOARD={spec.name}", f"BUILD={build_dir}",
         f"PYTHON={sys.executable}"], cwd=FIRMWARE_DIR, capture_output=True, text=True,
        timeout=900)
    if result.returncode != 0:
        raise RuntimeError(f"firmware build for {spec.name} failed:\n{result.stdout}\n"
                           f"{result.stderr}")
    return spec.firmware_elf(build_dir)


def build_conformance(spec: BoardSpec, build_dir: Path) -> Path:
    """The conformance firmware (firmware/conformance: a line shell printing known lines)
    for the Robot keyword conformance suite."""
    if shutil.which("arm-none-eabi-gcc") is None or shutil.which("make") is None:
        raise ToolchainMissing("the firmware toolchain is missing: apt-get install -y "
                               "--no-install-recommends gcc-arm-none-eabi "
                               "libnewlib-arm-none-eabi make")
    result = subprocess.run(
        ["make", "-s", "conformance", f"BOARD={spec.name}", f"BUILD={build_dir}",
         f"PYTHON={sys.executable}"], cwd=FIRMWARE_DIR, capture_output=True, text=True,
        timeout=900)
    if result.returncode != 0:
        raise RuntimeError(f"conformance firmware build for {spec.name} failed:\n"
                           f"{result.stdout}\n{result.stderr}")
    return build_dir / spec.name / "conformance.elf"


def build_apps(build_dir: Path) -> dict[str, bytes]:
    """The example apps (firmware/apps) as wasm: the C ones with clang for wasm32, and the
    Rust ones (hello_rust) where Debian's rustc has its wasm32 target."""
    if shutil.which("clang") is None or shutil.which("wasm-ld") is None:
        raise ToolchainMissing("clang and wasm-ld are missing: apt-get install -y clang lld")
    targets = ["apps"] + (["rust-apps"] if rust_missing() is None else [])
    result = subprocess.run(["make", "-s", *targets, f"BUILD={build_dir}"], cwd=FIRMWARE_DIR,
                            capture_output=True, text=True, timeout=300)
    if result.returncode != 0:
        raise RuntimeError(f"building the example apps failed:\n{result.stderr}")
    return {p.stem: p.read_bytes() for p in (build_dir / "apps").glob("*.wasm")}



def start_board(name: str, emulator: str, elf: Path, workdir: Path,
                blob: Path | None = None, run: bool = True) -> EmulatedBoard:
    return make_board(name, emulator, elf, workdir, blob=blob).start(run=run)
