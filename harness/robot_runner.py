"""`wasmbed-hil robot`: the Robot suites with the right pythonpath, listeners and outputs, in
parallel with pabot (every suite starts its own stack on ephemeral ports, so suites never
share a process or a port)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from harness.reporting import REPORTS, RESULTS, ROOT

ROBOT_DIR = ROOT / "robot"


def robot_argv(args: list[str], processes: int, outputdir: Path, allure_dir: Path) -> list[str]:
    """Robot (processes <= 1) or pabot over `args` (options and suites; default: all
    suites). Outputs: output.xml, log.html, report.html, xunit.xml in `outputdir`, Allure
    results in `allure_dir`."""
    given = [a for a in args if not a.startswith("-") and Path(a).exists()]
    if len(given) == 1 and Path(given[0]).is_file():
        processes = 1  # one suite: pabot would only add its own start-up
    runner = ["-m", "robot"] if processes <= 1 else [
        "-m", "pabot.pabot", "--processes", str(processes), "--no-pabotlib",
        # pabot would run `robot` from PATH; ours is this interpreter's
        "--command", sys.executable, "-m", "robot", "--end-command"]
    suites = [] if given else [str(ROBOT_DIR / "suites"), str(ROBOT_DIR / "conformance")]
    return [sys.executable, *runner,
            "--pythonpath", str(ROBOT_DIR / "libraries"), "--pythonpath", str(ROOT),
            "--outputdir", str(outputdir), "--xunit", "xunit.xml",
            "--listener", f"allure_robotframework:{allure_dir}",
            *args, *suites]


def libdoc(outputdir: Path) -> list[Path]:
    """Keyword documentation (libdoc HTML) of our two libraries."""
    outputdir.mkdir(parents=True, exist_ok=True)
    out = []
    for lib in ("EmulatorKeywords", "WasmbedKeywords"):
        target = outputdir / f"{lib}.html"
        subprocess.run([sys.executable, "-m", "robot.libdoc", "--pythonpath",
                        str(ROBOT_DIR / "libraries"), "--pythonpath", str(ROOT),
                        str(ROBOT_DIR / "libraries" / f"{lib}.py"), str(target)],
                       check=True, capture_output=True, text=True)
        out.append(target)
    return out


def run_robot(args: list[str], processes: int = 2, outputdir: Path | None = None,
              allure_dir: Path | None = None) -> int:
    outputdir = outputdir or REPORTS / "robot"
    allure_dir = allure_dir or RESULTS
    outputdir.mkdir(parents=True, exist_ok=True)
    return subprocess.run(robot_argv(args, processes, outputdir, allure_dir),
                          cwd=ROOT).returncode
