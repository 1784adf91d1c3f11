"""The storm benchmark's C load generator (firmware/loadgen) against a real stack: its
devices enroll, connect and heartbeat as the firmware's do, a device that cannot connect
says why, and SIGTERM stops it."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.evidence import read_json_lines
from harness.loadgen import loadgen_argv, loadgen_binary, missing_tools
from harness.services import Cluster
from wasmbed.device.provision import provision
from wasmbed.processes import ManagedProcess
from wasmbed.waiting import Seen


@pytest.fixture
def loadgen() -> Path:
    why = missing_tools()
    if why:
        pytest.skip(why)
    return loadgen_binary()


def _fleet(cluster: Cluster, root: Path, n: int) -> Path:
    pki = cluster.pki
    for i in range(n):
        provision(root / f"d{i}", f"lg-{i}", pki.factory, pki.platform.cert_pem)
    return root


def _start(loadgen, gateway, fleet: Path, tmp_path: Path, processes, evidence,
           *extra: str) -> tuple[ManagedProcess, Path]:
    stats, ready = tmp_path / "stats.jsonl", tmp_path / "loadgen.ready"
    argv = loadgen_argv(loadgen, gateway.tls_address, fleet, stats, ready, 2.0) + list(extra)
    proc = processes.add(ManagedProcess("loadgen", argv, evidence.path("loadgen"), ready))
    proc.start()
    return proc, stats


def test_its_devices_enroll_connect_and_heartbeat_then_it_stops_on_sigterm(
        loadgen, cluster, platform, gateway, processes, evidence, tmp_path, wait_for):
    platform.api.set_pairing(True, 600)
    fleet = _fleet(cluster, tmp_path / "fleet", 6)
    proc, stats = _start(loadgen, gateway, fleet, tmp_path, processes, evidence)

    def connected() -> object:
        phases = platform.api.status()["devices"]["byPhase"]
        return phases.get("Connected") == 6 or Seen(phases)

    wait_for(connected, 60, "the load generator's 6 devices Connected")
    assert all((fleet / f"d{i}" / "operational.pem").exists() for i in range(6))

    def round_trips() -> object:
        rtts = [r for rec in read_json_lines(stats) for r in rec["heartbeatRttS"]]
        return len(rtts) >= 6 and rtts or Seen(f"{len(rtts)} round trips")

    rtts = wait_for(round_trips, 30, "heartbeat round trips in the load generator's stats")
    assert all(0 < r < 5 for r in rtts), rtts
    assert read_json_lines(stats)[-1]["states"] == {"connected": 6}
    assert proc.stop(timeout=5) == 0, proc.log_tail()
    assert "loadgen: stopped" in proc.log_tail()


def test_a_gateway_it_cannot_verify_is_refused_and_the_log_says_why(
        loadgen, cluster, platform, gateway, processes, evidence, tmp_path, wait_for):
    """The gateway's certificate names localhost and 127.0.0.1, not this name."""
    platform.api.set_pairing(True, 600)
    fleet = _fleet(cluster, tmp_path / "fleet", 2)
    proc, _ = _start(loadgen, gateway, fleet, tmp_path, processes, evidence,
                     "--server-name", "someone-else.example")

    def says_why() -> object:
        tail = proc.log_tail(5)
        return "certificate verify failed" in tail and tail or Seen(tail)

    line = wait_for(says_why, 30, "the load generator to report failed handshakes")
    assert "failed attempts; last: handshaking" in line, line
    assert platform.api.status()["devices"]["byPhase"].get("Connected", 0) == 0
