"""`wasmbed-hil test` and `wasmbed-hil report`: one command for a CI job's test step, one for its
report. The Allure HTML report is built by the Allure command line (npm
`allure-commandline`, pinned in tools/report, installed by ./run), from the results pytest
and Robot both write to reports/allure-results; the trend survives between runs in
reports/history."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from wasmbed.paths import REPO

ROOT = REPO
REPORTS = ROOT / "reports"
RESULTS = REPORTS / "allure-results"
HTML = REPORTS / "allure-report"
HISTORY = REPORTS / "history"
TOOLS = ROOT / "tools" / "report"


class ReportError(RuntimeError):
    pass


def pytest_argv(args: list[str], junit: Path = REPORTS / "junit.xml") -> list[str]:
    """pytest with the progress display, JUnit XML and (via the plugin) Allure results;
    two workers unless the arguments say otherwise."""
    workers = [] if any(a == "-n" or a.startswith(("-n", "--numprocesses")) for a in args) \
        else ["-n", "2"]
    return [sys.executable, "-m", "pytest", *workers, "-p", "harness.progress",
            "-p", "no:terminal", f"--junitxml={junit}", *args]


def allure_command() -> list[str]:
    """The Allure CLI, installing it (npm ci in tools/report) on first use."""
    exe = TOOLS / "node_modules" / ".bin" / "allure"
    if not exe.exists():
        if shutil.which("npm") is None:
            raise ReportError("npm is needed to install the Allure command line: install "
                              "Node.js (Debian: apt-get install nodejs npm)")
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--silent"], cwd=TOOLS,
                       check=True)
    if shutil.which("java") is None:
        raise ReportError("the Allure command line needs Java: apt-get install -y "
                          "--no-install-recommends default-jre-headless")
    return [str(exe)]


@dataclass
class Report:
    index: Path
    seconds: float
    bytes: int
    tests: int


def add_firmware_environment(results: Path) -> None:
    """Firmware version and size (written by the firmware fixture when it builds) into the
    report's environment."""
    env_file = results / "environment.properties"
    lines = env_file.read_text().splitlines() if env_file.exists() else []
    for info_file in sorted(REPORTS.glob("firmware-*.json")):
        info = json.loads(info_file.read_text())
        board = info["board"]
        lines += [f"firmware.{board}.version={info['version']}",
                  f"firmware.{board}.flash={info['flash']}",
                  f"firmware.{board}.ramStatic={info['ramStatic']}"]
    if lines:
        env_file.write_text("".join(f"{line}\n" for line in dict.fromkeys(lines)))


def build_report(results: Path = RESULTS, output: Path = HTML,
                 history: Path = HISTORY) -> Report:
    """Allure HTML from `results`, carrying the trend: the previous report's history goes
    into the results first, and the new history is kept in `history` afterwards."""
    if not results.is_dir() or not any(results.glob("*-result.json")):
        raise ReportError(f"no Allure results in {results}: run `wasmbed-hil test` (or "
                          "`wasmbed-hil test --robot`) first")
    started = time.monotonic()
    if history.is_dir():
        shutil.copytree(history, results / "history", dirs_exist_ok=True)
    add_firmware_environment(results)
    categories = Path(__file__).with_name("allure_categories.json")
    if not (results / "categories.json").exists():
        shutil.copy(categories, results / "categories.json")
    done = subprocess.run([*allure_command(), "generate", str(results), "-o", str(output),
                           "--clean"], capture_output=True, text=True)
    if done.returncode != 0:
        raise ReportError(f"allure generate failed: {done.stderr or done.stdout}")
    if (output / "history").is_dir():
        shutil.rmtree(history, ignore_errors=True)
        shutil.copytree(output / "history", history)
    size = sum(p.stat().st_size for p in output.rglob("*") if p.is_file())
    tests = len(list(results.glob("*-result.json")))
    return Report(output / "index.html", time.monotonic() - started, size, tests)
