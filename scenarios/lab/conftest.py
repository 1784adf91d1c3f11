"""Lab scenarios: a desk of QEMU stand-ins for physical boards (harness.lab.desk), and the
repository's own board scenarios run against it through `--lab`, as a user would run them
against the boards on their desk."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from harness.lab.desk import Desk, DeskToolMissing
from wasmbed.paths import REPO

NESTED_TIMEOUT = 900


@pytest.fixture
def desk(tmp_path, processes):
    """A desk with a probe board (local ptys, GDB) and a network board (rfc2217 through
    ser2net, flashed and reset by commands), and its lab file (`desk.lab`) with a private
    lock dir."""
    d = Desk(tmp_path / "desk", processes)
    try:
        d.add_probe_board("desk-probe")
        d.add_command_board("desk-net")
    except DeskToolMissing as exc:
        pytest.skip(str(exc))
    d.lab = d.write_lab(lock_dir=tmp_path / "locks")
    return d


@dataclass
class Case:
    name: str
    outcome: str  # passed, failed, error, skipped
    properties: dict[str, str] = field(default_factory=dict)
    message: str = ""


@dataclass
class NestedRun:
    returncode: int
    output: str
    cases: list[Case]

    def outcomes(self) -> dict[str, str]:
        return {c.name: c.outcome for c in self.cases}


def read_junit(path: Path) -> list[Case]:
    cases = []
    for tc in ET.parse(path).iter("testcase"):
        outcome, message = "passed", ""
        for kind in ("failure", "error", "skipped"):
            found = tc.find(kind)
            if found is not None:
                outcome = {"failure": "failed"}.get(kind, kind)
                message = found.get("message", "")
        props = {p.get("name", ""): p.get("value", "") for p in tc.iter("property")}
        cases.append(Case(tc.get("name", ""), outcome, props, message))
    return cases


def nested_argv(tmp_path: Path, elf: Path, lab: Path, *args: str) -> list[str]:
    """The nested run's temp dirs (its tests' evidence) go under this test's: in pytest's
    default place they were one of its last three numbered dirs, and the many pytest runs
    after it removed the evidence a failure message points at."""
    return [sys.executable, "-m", "pytest", *args, "--lab", str(lab),
            "--firmware", f"stm32f4_discovery={elf}", "--alluredir", str(tmp_path / "allure"),
            "--junitxml", str(tmp_path / "junit.xml"), "--basetemp", str(tmp_path / "nested"),
            "-W", "ignore::DeprecationWarning", "-q", "-rs"]


def finish(proc: subprocess.Popen[str], tmp_path: Path, *,
           already_read: list[str] | None = None,
           reader: threading.Thread | None = None) -> NestedRun:
    """Wait for the nested run and read its report. `reader`: a thread that reads its
    output into `already_read` (instead of communicate())."""
    try:
        if reader:
            proc.wait(timeout=NESTED_TIMEOUT)
            reader.join(10)
            output = "".join(already_read or [])
        else:
            output, _ = proc.communicate(timeout=NESTED_TIMEOUT)
    except subprocess.TimeoutExpired:
        stop_group(proc)
        output = "".join(already_read or []) if reader else (proc.stdout.read() if proc.stdout
                                                             else "")
        raise AssertionError(f"the nested run did not finish in {NESTED_TIMEOUT} s:\n"
                             f"{output[-4000:]}") from None
    junit = tmp_path / "junit.xml"
    assert junit.exists(), f"the nested run wrote no report (exit {proc.returncode}):\n{output}"
    return NestedRun(proc.returncode, output, read_junit(junit))


def stop_group(proc: subprocess.Popen[str]) -> None:
    """Ctrl-C (pytest tears its fixtures down), then SIGKILL to what is left."""
    if proc.poll() is not None:
        return
    os.killpg(proc.pid, signal.SIGINT)
    try:
        proc.wait(60)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


@pytest.fixture
def run_pytest(tmp_path, firmware_build):
    """run_pytest(lab, *args) -> NestedRun: pytest on this repository's scenarios with
    `--lab lab`, the session's firmware, and reports in this test's temp dir.
    `run_pytest.start(lab, *args)` -> the running process (finish() it); whatever still
    runs when the test ends is stopped."""
    elf = firmware_build("stm32f4_discovery")
    started: list[subprocess.Popen[str]] = []

    def start(lab: Path, *args: str) -> subprocess.Popen[str]:
        proc = subprocess.Popen(nested_argv(tmp_path, elf, lab, *args), cwd=REPO,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                start_new_session=True)
        started.append(proc)
        return proc

    def run(lab: Path, *args: str) -> NestedRun:
        return finish(start(lab, *args), tmp_path)

    run.start = start  # type: ignore[attr-defined]
    yield run
    for proc in started:
        stop_group(proc)
