"""One local control plane for all xdist workers (SharedControlPlane): started once, used by
every worker that needs it, stopped only after the last of them. Threads stand in for the
workers: each opens the lock files itself, and flock locks belong to an open file, so they
exclude one another as processes would. Starting and stopping are recorded, not run."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.kube import Kube, SharedControlPlane
from wasmbed.processes import ProcessGroup


@pytest.fixture
def recorded(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, list[str]]]:
    log: dict[str, list[str]] = {"started": [], "stopped": [], "attached": []}

    def start(mode: str, root: Path, group: ProcessGroup) -> Kube:
        log["started"].append(root.name)
        kube = Kube("local", None, None)  # type: ignore[arg-type]
        monkeypatch.setattr(kube, "describe", lambda: {"root": root.name,
                                                       "pid": str(os.getpid())}, raising=False)
        return kube

    def attach(described: dict[str, str]) -> Kube:
        log["attached"].append(described["root"])
        return Kube("local", None, None, owned=False)  # type: ignore[arg-type]

    def stop(self: Kube) -> None:
        if self.owned:
            log["stopped"].append("stop")

    monkeypatch.setattr(Kube, "start", staticmethod(start))
    monkeypatch.setattr(Kube, "attach", staticmethod(attach))
    monkeypatch.setattr(Kube, "stop", stop)
    yield log


def test_the_first_worker_starts_it_the_others_attach_and_the_last_one_out_stops_it(
        tmp_path, recorded):
    shared = SharedControlPlane(tmp_path / "kube")
    first = shared.use(ProcessGroup())
    owner = first.__enter__()
    assert owner.owned and len(recorded["started"]) == 1
    second = shared.use(ProcessGroup())
    assert not second.__enter__().owned
    assert recorded["attached"] == recorded["started"]

    ended = threading.Thread(target=first.__exit__, args=(None, None, None))
    ended.start()
    ended.join(0.5)  # the starter's session has ended; another worker still uses it
    assert ended.is_alive() and not recorded["stopped"]
    second.__exit__(None, None, None)
    ended.join(10)
    assert not ended.is_alive(), "the starter did not stop it after the last user left"
    assert recorded["stopped"] == ["stop"]
    assert not (tmp_path / "kube" / "state.json").exists()

    with shared.use(ProcessGroup()) as again:  # a worker that comes later starts a new one
        assert again.owned and len(recorded["started"]) == 2


def test_a_control_plane_whose_starter_died_is_started_again(tmp_path, recorded):
    shared = SharedControlPlane(tmp_path / "kube")
    dead = 2**22 + 1  # above pid_max's default: no such process
    (tmp_path / "kube" / "state.json").write_text(json.dumps({"root": "x", "pid": str(dead)}))
    with shared.use(ProcessGroup()) as kube:
        assert kube.owned and recorded["started"] and not recorded["attached"]
