"""Running the libFuzzer-style targets (the two C targets, and atheris on Python) for a
bounded time or a fixed number of executions: a working corpus that grows in
firmware/build/fuzz, the committed seeds and reproducers as read-only inputs, and any crash
moved into the reproducers."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from harness.fuzz.build import libfuzzer_binary
from harness.fuzz.paths import REPRODUCERS, SEEDS, WORK, seed_files

RUNS_TIMEOUT = 300  # seconds: a run bounded by executions still ends on a stuck machine
ARTIFACT = re.compile(r"^(crash|leak|timeout|oom|slow-unit)-")


@dataclass
class FuzzRun:
    target: str
    executions: int = 0
    seconds: float = 0.0
    corpus: int = 0  # inputs kept (working corpus) at the end
    seeds: int = 0
    findings: list[Path] = field(default_factory=list)
    log_tail: str = ""

    @property
    def rate(self) -> float:
        return self.executions / self.seconds if self.seconds else 0.0


def command(target: str) -> list[str]:
    if target == "python":
        return [sys.executable, "-m", "harness.fuzz.python_target"]
    return [str(libfuzzer_binary(target))]


def seed_dirs(target: str) -> list[Path]:
    corpus = SEEDS / ("session" if target == "session" else "codec")
    return [d for d in (corpus, REPRODUCERS / target) if d.is_dir()]


def run(target: str, seconds: int | None = None, work: Path = WORK,
        runs: int | None = None) -> FuzzRun:
    """Fuzz `target` for `seconds`, or for `runs` executions: the same work however busy the
    machine is, which is what the default test run wants (a time bound did less fuzzing on
    a loaded machine). Crashes land in REPRODUCERS/<target>/."""
    if (seconds is None) == (runs is None):
        raise ValueError("fuzz for seconds or for a number of runs, not both or neither")
    budget = f"-max_total_time={max(1, seconds)}" if seconds is not None else f"-runs={runs}"
    corpus = work / "corpus" / target
    artifacts = work / "artifacts" / target
    corpus.mkdir(parents=True, exist_ok=True)
    artifacts.mkdir(parents=True, exist_ok=True)
    argv = [*command(target), budget, "-close_fd_mask=1", "-print_final_stats=1",
            "-max_len=8192", "-timeout=10", "-rss_limit_mb=2048",
            f"-artifact_prefix={artifacts}/", str(corpus), *map(str, seed_dirs(target))]
    started = time.monotonic()
    done = subprocess.run(argv, capture_output=True, text=True, errors="replace",
                          timeout=(seconds or RUNS_TIMEOUT) + 120)
    result = FuzzRun(target, seconds=time.monotonic() - started,
                     corpus=sum(1 for _ in corpus.iterdir()),
                     seeds=sum(1 for d in seed_dirs(target) for _ in d.iterdir()))
    stats = re.search(r"stat::number_of_executed_units:\s*(\d+)", done.stderr)
    runs = re.findall(r"Done (\d+) runs", done.stderr)
    result.executions = int(stats.group(1)) if stats else int(runs[-1]) if runs else 0
    result.log_tail = "\n".join(done.stderr.splitlines()[-30:])
    for artifact in sorted(artifacts.iterdir()):
        if ARTIFACT.match(artifact.name):
            keep = REPRODUCERS / target
            keep.mkdir(parents=True, exist_ok=True)
            result.findings.append(Path(shutil.move(str(artifact), keep / artifact.name)))
    if done.returncode != 0 and not result.findings:
        raise RuntimeError(f"{target} fuzzer failed (exit {done.returncode}):\n"
                           f"{result.log_tail}")
    return result


def replay(target: str) -> subprocess.CompletedProcess[str]:
    """Run every committed input of `target` once (exit 0 when none crashes)."""
    files = [str(p) for p in seed_files(target)]
    return subprocess.run([*command(target), "-close_fd_mask=1", *files], capture_output=True,
                          text=True, errors="replace", timeout=300)
