"""Building the fuzz targets with the firmware's Makefile (into firmware/build/fuzz)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from harness.firmware import make
from harness.fuzz.paths import WORK


class FuzzUnavailable(Exception):
    """This machine cannot build a target; the message says what to install."""


def libfuzzer_ready() -> str | None:
    """None when clang can link libFuzzer with ASan and UBSan; else what to install."""
    clang = shutil.which("clang")
    if clang is None:
        return "clang is not installed: apt-get install -y --no-install-recommends clang"
    resource = subprocess.run([clang, "-print-resource-dir"], capture_output=True, text=True)
    runtime = Path(resource.stdout.strip()) / "lib" / "linux" / "libclang_rt.fuzzer-x86_64.a"
    if not runtime.exists():
        return ("clang has no libFuzzer runtime: apt-get install -y --no-install-recommends "
                "libclang-rt-dev")
    return None


def libfuzzer_binary(target: str, build: Path = WORK) -> Path:
    """firmware/build/fuzz/fuzz/fuzz_<target>, built when missing or stale."""
    why = libfuzzer_ready()
    if why:
        raise FuzzUnavailable(why)
    make(f"fuzz-{target}", build, timeout=600)
    return build / "fuzz" / f"fuzz_{target}"


def host_library(build: Path = WORK) -> Path:
    """The C codec as a shared library (gcc), for the differential runner."""
    if shutil.which("gcc") is None or shutil.which("make") is None:
        raise FuzzUnavailable("gcc and make are needed: apt-get install -y gcc make")
    make("host-lib", build, timeout=600)
    return build / "host" / "libwbproto.so"
