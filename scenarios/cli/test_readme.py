"""The README's "Using the platform" block, run as a user would run it (in a scratch
directory, with ephemeral ports instead of the fixed ones so runs can share a machine):
every line must work as written."""

from __future__ import annotations

import functools
import os
import re
import shlex
import subprocess
import sys

import allure

from wasmbed.paths import REPO
from wasmbed.processes import ManagedProcess

pytestmark = [allure.feature("CLI")]


def readme_block(heading: str) -> list[str]:
    text = (REPO / "README.md").read_text()
    section = text.split(f"## {heading}\n", 1)[1]
    block = section.split("```sh\n", 1)[1].split("```", 1)[0]
    return [line.split("  #")[0].strip() for line in block.splitlines() if line.strip()]


@allure.story("The README's walkthrough works as written")
def test_using_the_platform_walkthrough(tmp_path, evidence, wait_for):
    lines = readme_block("Using the platform")
    assert lines[0] == "./run wasmbed up" and any("app deploy" in ln for ln in lines)
    env = {k: v for k, v in os.environ.items()
           if k not in ("WASMBED_HOME", "WASMBED_API_URL", "WASMBED_TOKEN")}
    background: list[ManagedProcess] = []
    tls_port = None

    def argv(line: str) -> list[str]:
        words = shlex.split(line.replace("/tmp/", f"{tmp_path}/"))
        assert words[:2] == ["./run", "wasmbed"], line
        return [sys.executable, "-m", "wasmbed.cli", *words[2:]]

    try:
        for n, line in enumerate(lines):
            args = argv(line)
            if args[3] == "up":
                ready = tmp_path / "up.ready"
                args += ["--api-port", "0", "--tls-port", "0", "--gateway-http-port", "0",
                         "--ready-file", str(ready)]
                proc = ManagedProcess("up", args, evidence.path("up"), ready, env=env,
                                      cwd=tmp_path)
                background.append(proc)
                info = proc.start()
                tls_port = info["gateway"]["tls"].rsplit(":", 1)[1]
            elif args[3:5] == ["device", "simulate"]:
                args = [a.replace(":40029", f":{tls_port}") for a in args]
                ready = tmp_path / "sim.ready"
                proc = ManagedProcess("simulate", [*args, "--ready-file", str(ready)],
                                      evidence.path("simulate"), ready, env=env, cwd=tmp_path)
                background.append(proc)
                proc.start()
            else:
                args = [a if not re.match(r"^platform/", a) else str(REPO / a) for a in args]
                done = subprocess.run(args, cwd=tmp_path, env=env, capture_output=True,
                                      text=True, timeout=180)
                assert done.returncode == 0, f"README line {n + 1}: {line}\n{done.stderr}"
                if "app logs" in line:
                    assert "hello from wasm" in done.stdout and "result: 42" in done.stdout
    finally:
        for proc in reversed(background):
            proc.stop()


def readme_shell_lines() -> list[tuple[str, str]]:
    """Every command line of every ```sh block, with the heading it is under."""
    found, heading = [], ""
    for part in re.split(r"(?m)^```sh\n", (REPO / "README.md").read_text()):
        block, _, prose = part.partition("```")
        if heading:
            lines = [ln.split("  #")[0].strip() for ln in block.replace("\\\n", " ").splitlines()]
            found += [(heading, ln) for ln in lines if ln]
        headings = re.findall(r"(?m)^## (.+)$", prose if heading else part)
        heading = headings[-1] if headings else heading
    inline = re.findall(r"`(\./run [^`]+)`", (REPO / "README.md").read_text())
    return found + [("(in the text)", re.sub(r"[\[\]]|\.\.\.", "", ln)) for ln in inline]


# Where the README's lines run for real, other than in the check below.
RUN_ELSEWHERE = {
    "Using the platform": "test_using_the_platform_walkthrough (above)",
    "Using the harness from your own project": "platform/tests/test_packaging.py",
}


def help_of(words: list[str]) -> str:
    """The --help of what a README line runs, for checking its options (the commands
    underneath ./run, and pytest's or robot's own options where the line passes them on)."""
    py = [sys.executable]
    verb, rest = words[1], words[2:]
    sub = [w for w in rest if not w.startswith("-")][:1]
    argvs = {
        "test": [[*py, "-m", "pytest", "--help"]],
        "demo": [[*py, "-m", "wasmbed.cli", "demo", "--help"]],
        "wasmbed": [[*py, "-m", "wasmbed.cli", *sub, "--help"]],
        "hil": [[*py, "-m", "harness.cli", *sub, "--help"]]
        + ([[*py, "-m", "pytest", "--help"]] if sub == ["test"] else [])
        + ([[*py, "-m", "robot", "--help"]] if sub == ["robot"] else []),
        "fuzz": [[*py, "-m", "harness.fuzz", "fuzz", "--help"]],
        "bench": [[*py, "-m", "harness.bench", *sub, "--help"]],
    }[verb]
    return "".join(_help(tuple(argv)) for argv in argvs)


@functools.cache
def _help(argv: tuple[str, ...]) -> str:
    """Many README lines share a help text (pytest's is read for most): read each once."""
    done = subprocess.run(argv, cwd=REPO, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "COLUMNS": "200"})
    assert done.returncode in (0, 251), f"{' '.join(argv)}: {done.stderr[-500:]}"
    return done.stdout


@allure.story("Every command in the README is real")
def test_every_readme_shell_line_is_checked():
    lines = readme_shell_lines()
    headings = {h for h, _ in lines}
    assert {"Two commands (fresh clone; they install what they need into `.venv`)",
            "Renode and the other boards", "Fuzzing", "Robot Framework",
            "Reports and CI"} <= headings, headings
    ci = (REPO / ".ci" / "run").read_text()
    checked = 0
    for heading, line in lines:
        if heading in RUN_ELSEWHERE:
            continue
        words = shlex.split(line.replace("[PYTEST ARGS]", ""))
        if words[0] == "renode-test":
            for w in words:
                if w.startswith("EMULATOR:"):
                    assert (REPO / w.split(":", 1)[1]).exists(), line
            continue  # runs by hand where Renode is built (the README says how)
        assert words[0] == "./run", line
        words = [w for w in words if not re.fullmatch(r"[A-Z]+", w)]  # placeholders
        if words[1] in ("lint", "firmware"):  # ruff; make (run by ./run test's fixtures)
            continue
        if words[1:] in (["demo"], ["test"]):
            assert re.search(rf"(?m)^\./run {words[1]}\b", ci), f"{line}: not run by .ci/run"
            continue
        helptext = help_of(words)
        for w in words[2:]:
            if w.startswith("-"):
                assert re.search(rf"(?<![\w-]){re.escape(w.split('=')[0])}\b", helptext), \
                    f"README: `{line}`: {w} is not an option of what it runs"
            elif "/" in w:
                assert list(REPO.glob(w)), f"README: `{line}`: {w} does not exist"
        checked += 1
    assert checked >= 15, checked
