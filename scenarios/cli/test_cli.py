"""The `wasmbed` command as a user runs it: errors without tracebacks, and the running
stack found from any directory below where `wasmbed up` was started."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import allure
import pytest

from scenarios.steps import up_process

pytestmark = [allure.feature("CLI")]


def run_cli(*args: str, cwd, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items()
            if k not in ("WASMBED_HOME", "WASMBED_API_URL", "WASMBED_TOKEN")}
    return subprocess.run([sys.executable, "-m", "wasmbed.cli", *args], cwd=cwd,
                          env={**base, **(env or {})}, capture_output=True, text=True,
                          timeout=60)


@allure.story("A missing file is one clear line, not a traceback")
def test_missing_file_is_a_clear_error(tmp_path):
    done = run_cli("app", "deploy", "nope.wasm", "--to", "all", cwd=tmp_path)
    assert done.returncode == 2
    assert "nope.wasm" in done.stderr and "does not exist" in done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    (tmp_path / "bad.wat").write_text("(module (func $oops")
    done = run_cli("app", "deploy", "bad.wat", "--to", "all", cwd=tmp_path)
    assert done.returncode == 2 and "is not valid WebAssembly text" in done.stderr
    assert "Traceback" not in done.stderr


@allure.story("The CLI finds `wasmbed up` from a subdirectory, as git finds .git")
def test_the_stack_is_found_from_a_subdirectory(tmp_path, evidence):
    proc = up_process(tmp_path / ".wasmbed", evidence)
    try:
        proc.start()
        deep = tmp_path / "src" / "app"
        deep.mkdir(parents=True)
        done = run_cli("device", "list", cwd=deep)
        assert done.returncode == 0, done.stderr
        assert "No API server known" not in done.stderr
        elsewhere = run_cli("device", "list", cwd=tmp_path.parent)
        assert elsewhere.returncode == 2 and "No API server known" in elsewhere.stderr
    finally:
        proc.stop()


def cli_env(platform) -> dict[str, str]:
    return {"WASMBED_API_URL": platform.url, "WASMBED_TOKEN": platform.token}


@allure.story("Lists print as tables, wide tables, JSON or YAML; labels change as with kubectl")
def test_output_formats_and_labels(platform, connected_device, tmp_path):
    import json

    import yaml

    name, _ = connected_device()
    env = cli_env(platform)
    as_json = json.loads(run_cli("device", "list", "-o", "json", cwd=tmp_path, env=env).stdout)
    assert [d["metadata"]["name"] for d in as_json] == [name]
    as_yaml = yaml.safe_load(run_cli("device", "list", "-o", "yaml", cwd=tmp_path,
                                     env=env).stdout)
    assert as_yaml[0]["status"]["phase"] == "Connected"
    table = run_cli("device", "list", cwd=tmp_path, env=env).stdout
    assert "s ago" in table and "T" not in table.split(name)[1].split("\n")[0]  # no raw ISO
    done = run_cli("device", "label", name, "tier=edge", "zone=a", cwd=tmp_path, env=env)
    assert done.returncode == 0, done.stderr
    assert name in run_cli("device", "list", "-l", "tier=edge", cwd=tmp_path, env=env).stdout
    run_cli("device", "label", name, "tier-", cwd=tmp_path, env=env)
    wide = run_cli("device", "list", "-o", "wide", cwd=tmp_path, env=env).stdout
    assert "zone=a" in wide and "tier=edge" not in wide
    bad = run_cli("device", "list", "-o", "xml", cwd=tmp_path, env=env)
    assert bad.returncode == 2 and "use table, wide, json or yaml" in bad.stderr


@allure.story("deploy --wait, logs, delete: the verbs a user reaches for")
def test_deploy_wait_logs_and_delete(platform, connected_device, tmp_path):
    from wasmbed import examples

    name, _ = connected_device()
    env = cli_env(platform)
    wat = Path(examples.__file__).with_name("hello.wat")
    done = run_cli("app", "deploy", str(wat), "--to", name, "--wait", cwd=tmp_path, env=env)
    assert done.returncode == 0, done.stderr
    assert "1/1 running or completed" in done.stdout
    logs = run_cli("app", "logs", "hello", cwd=tmp_path, env=env).stdout
    assert f"{name} #1 log: hello from wasm" in logs
    # more memory than the device has: Failed without ever Running (a module that traps as
    # it starts may be seen Running first, and Running is what --wait waits for)
    trap = Path(examples.__file__).with_name("trap.wat")
    failed = run_cli("app", "deploy", str(trap), "--to", name, "--memory-limit", "1048576",
                     "--wait", cwd=tmp_path, env=env)
    assert failed.returncode == 1 and f"trap failed on {name}" in failed.stderr
    assert "bytes of wasm RAM" in failed.stderr  # and why
    missing = run_cli("app", "deploy", str(wat), "--to", "nobody", "--name", "lonely",
                      cwd=tmp_path, env=env)
    assert "device 'nobody' is not registered" in missing.stderr
    assert run_cli("app", "delete", "hello", cwd=tmp_path, env=env).returncode == 0
    assert run_cli("device", "delete", name, cwd=tmp_path, env=env).returncode == 0
    assert name not in run_cli("device", "list", cwd=tmp_path, env=env).stdout


@allure.story("SIGTERM stops `wasmbed up` promptly while a dashboard's watch is open")
def test_up_stops_with_an_open_watch(tmp_path, evidence):
    import json
    import time

    from websockets.sync.client import connect

    proc = up_process(tmp_path / ".wasmbed", evidence)
    try:
        info = proc.start()
        token = (tmp_path / ".wasmbed" / "api" / "token").read_text().strip()
        url = info["api"].replace("http://", "ws://") + f"/api/v1/watch?token={token}"
        with connect(url, open_timeout=10) as ws:
            first = json.loads(ws.recv(timeout=10))
            assert first["type"] == "ADDED"  # the gateway, as the dashboard would see it
            started = time.monotonic()
            code = proc.stop(timeout=10)  # SIGTERM; SIGKILL only after 10 s
            took = time.monotonic() - started
        assert code == 0 and took < 5, f"exit {code} after {took:.1f} s"
    finally:
        proc.stop()
    log = proc.log_path.read_text()
    assert "Traceback" not in log and "Exception in ASGI application" not in log, log[-2000:]


@allure.story("`device simulate` prints each device's state as it changes")
def test_simulate_prints_state_changes(connected_device, wait_for):
    name, fleet = connected_device()
    wait_for(lambda: f"{name}: connected" in fleet.process.log_path.read_text(), 10,
             f"'{name}: connected' in the fleet's output")
    assert f"{name}: booting" in fleet.process.log_path.read_text()


@allure.story("A chunk size no frame carries is refused at start, saying what fits")
def test_gateway_refuses_a_chunk_size_no_frame_carries(tmp_path):
    from wasmbed.gateway import GatewayConfig

    token = tmp_path / "token"
    token.write_text("t")
    done = run_cli("gateway", "--api-url", "http://127.0.0.1:9", "--token-file", str(token),
                   "--cert", "c.pem", "--key", "k.pem", "--chunk-size", "70000", cwd=tmp_path)
    assert done.returncode == 2 and "chunk-size 70000: a chunk must fit a frame" in done.stderr
    assert "Traceback" not in done.stderr
    with pytest.raises(ValueError, match="use 1 to"):
        GatewayConfig(name="g", api_url="u", token="t", cert_file=tmp_path, key_file=tmp_path,
                      data_dir=tmp_path, chunk_size=0)


@allure.story("An API refusal is its code, message and hint, with exit status 1")
def test_api_refusal_is_one_clear_line(platform, tmp_path):
    done = run_cli("app", "stop", "nosuch", cwd=tmp_path, env=cli_env(platform))
    assert done.returncode == 1 and "NotFound" in done.stderr and "nosuch" in done.stderr
    assert "Traceback" not in done.stderr
