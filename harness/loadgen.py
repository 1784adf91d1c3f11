"""The storm benchmark's load generator in C (firmware/loadgen/loadgen.c), built with the
firmware's Makefile into firmware/build/loadgen (git-ignored).

Simulated devices share the machine's cores with the gateway they load, where real boards
each have a CPU of their own: a 2,000-device storm on 2 cores spent nearly half its CPU in
the Python simulators. This generator does what the firmware does to enroll, connect and
heartbeat, with the firmware's own codec and the system's OpenSSL, for a fraction of that.
Deployments and everything else stay the Python simulator's (`--simulator python`)."""

from __future__ import annotations

import shutil
from pathlib import Path

from harness.firmware import make
from wasmbed.paths import REPO

BUILD = REPO / "firmware" / "build" / "loadgen"
INSTALL = "apt-get install -y --no-install-recommends gcc make libssl-dev"


class LoadgenUnavailable(Exception):
    """This machine cannot build the load generator; the message says what to install."""


def missing_tools() -> str | None:
    """None when the load generator can be built; else what to install."""
    if shutil.which("gcc") is None or shutil.which("make") is None:
        return f"gcc and make build the C load generator: {INSTALL}"
    if not Path("/usr/include/openssl/ssl.h").exists():
        return f"the C load generator links OpenSSL, whose headers are missing: {INSTALL}"
    return None


def loadgen_binary(build: Path = BUILD) -> Path:
    """firmware/build/loadgen/host/loadgen, built when missing or stale."""
    why = missing_tools()
    if why:
        raise LoadgenUnavailable(why + " (or pass --simulator python)")
    make("loadgen", build, timeout=300)
    return build / "host" / "loadgen"


def loadgen_argv(binary: Path, gateway: tuple[str, int], fleet_dir: Path, stats_file: Path,
                 ready_file: Path, reconnect_max_s: float) -> list[str]:
    return [str(binary), "--gateway", f"{gateway[0]}:{gateway[1]}", "--stats-file",
            str(stats_file), "--ready-file", str(ready_file), "--reconnect-max",
            str(reconnect_max_s), str(fleet_dir)]
