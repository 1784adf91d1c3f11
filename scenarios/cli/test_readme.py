"""The README's "Using the platform" block, run as a user would run it (in a scratch
directory, with ephemeral ports instead of the fixed ones so runs can share a machine):
every line must work as written."""

from __future__ import annotations

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
