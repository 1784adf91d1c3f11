"""A smoke run of each benchmark, so `./run bench` does not rot between the runs a person
makes: small sizes, figures printed and never asserted (only that each figure is there)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys

import pytest
from rich.console import Console

from harness.bench import Storm, kib_module, print_storms
from harness.loadgen import missing_tools
from harness.nginx_peer import NginxMissing, find_nginx
from wasmbed.paths import REPO


def run_bench(*args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "harness.bench", *args], cwd=REPO,
                          capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, "COLUMNS": "200"})


def bench(*args: str) -> str:
    done = run_bench(*args)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done.stdout


def figure(output: str, label: str) -> str:
    found = re.search(rf"│\s+{re.escape(label)}\s*│ ([^│]+?)\s*│", output)
    assert found, f"no {label!r} row in:\n{output}"
    return found.group(1)


@pytest.mark.long(6)
def test_gateway_bench_on_50_devices():
    why = missing_tools()
    if why:
        pytest.skip(why)  # the default devices are the C load generator's
    out = bench("gateway", "--devices", "50", "--fleets", "1", "--hold", "2",
                "--handshakes", "50", "--concurrency", "8")
    assert figure(out, "devices Connected at end") == "50"
    for label in ("heartbeat round trip p99", "gateway RSS per device",
                  "ratio gateway / bare"):
        figure(out, label)
    cpu = figure(out, "CPU over the hold (% of a core)")
    assert re.fullmatch(r"gateway \d+, API server \d+, load generator 0 \d+", cpu), cpu
    try:
        find_nginx()
    except NginxMissing:
        return  # the bench leaves the NGINX peer out, saying what to install
    figure(out, "ratio gateway / NGINX")


def test_repeated_storms_print_each_and_their_spread(monkeypatch):
    """`bench gateway --storms N`: the goal bounds every storm, so each is shown."""
    out = Console(record=True, width=200)
    monkeypatch.setattr("harness.bench.console", out)
    print_storms([Storm(12.5, 22.4), Storm(16.0, 25.0), Storm(13.0, 24.0)], 2000)
    text = out.export_text()
    assert "3 storms of 2000 devices" in text
    for row in ("│ 1 ", "12.5 s", "16.0 s", "13.0 s", "22.4"):
        assert row in text, text
    assert re.search(r"min / median / max\s*│ 12.5 / 13.0 / 16.0 s\s*│ 24.0", text), text


@pytest.mark.long(8)
def test_firmware_bench_deploys_once():
    if not (shutil.which("arm-none-eabi-gcc") and shutil.which("qemu-system-arm")):
        pytest.skip("needs the firmware toolchain and QEMU: ./run test installs them")
    out = bench("firmware", "--runs", "1", "--module-kib", "8")
    module = kib_module(8)
    assert len(module) == 8 * 1024
    for label in (f"deploy to Running ({len(module)} B module) (ms)",
                  "commit: sha256 + wasm3 parse, load, link (ms)",
                  "host CPU of the idle, connected board over 3 s (% of a core)"):
        figure(out, label)
    for board in ("stm32f4_discovery", "emcraft_sf2_som"):  # both QEMU boards, then a ratio
        assert f"firmware on {board} (qemu" in out, out
    assert re.search(r"emcraft_sf2_som \d+ ms, stm32f4_discovery \d+ ms: ratio \d+\.\d\d", out), out


def test_firmware_bench_refuses_a_module_larger_than_the_board_takes():
    done = run_bench("firmware", "--module-kib", "64", timeout=120)
    assert done.returncode == 2
    assert "takes modules of up to 32 KiB" in done.stderr
