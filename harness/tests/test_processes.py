"""ManagedProcess: readiness, clear failures, signals, restart."""

from __future__ import annotations

import sys

import pytest

from wasmbed.processes import ManagedProcess, ProcessFailed

READY = ("import json, os, sys, time; p = sys.argv[1]; "
         "open(p + '.tmp', 'w').write(json.dumps({'port': 1})); os.replace(p + '.tmp', p); "
         "time.sleep(60)")


def test_ready_file_and_restart(tmp_path):
    ready = tmp_path / "ready"
    p = ManagedProcess("x", [sys.executable, "-c", READY, str(ready)], tmp_path / "x.log", ready)
    assert p.start()["port"] == 1
    first = p.pid
    p.kill()
    assert not p.alive
    p.start()
    assert p.pid != first and p.starts == 2
    p.pause()
    assert p.stop() is not None  # a paused process is still stopped


def test_dying_before_ready_shows_its_output(tmp_path):
    p = ManagedProcess("boom", [sys.executable, "-c", "print('no config'); raise SystemExit(3)"],
                       tmp_path / "boom.log", tmp_path / "never")
    with pytest.raises(ProcessFailed, match="(?s)exited with 3.*no config"):
        p.start()


def test_set_arg_replaces_or_appends(tmp_path):
    p = ManagedProcess("x", ["prog", "--port", "0"], tmp_path / "x.log")
    p.set_arg("--port", "4242")
    p.set_arg("--name", "a")
    assert p.argv == ["prog", "--port", "4242", "--name", "a"]


def test_reap_stops_every_process_at_once(tmp_path):
    """Three processes that each take 1 s to handle SIGTERM stop in about 1 s, not 3."""
    import time

    from wasmbed.processes import ProcessGroup
    from wasmbed.waiting import wait_for

    slow = ("import signal, sys, time; "
            "signal.signal(signal.SIGTERM, lambda *a: (time.sleep(1), sys.exit(0))); "
            "print('up', flush=True); time.sleep(60)")
    group = ProcessGroup()
    for i in range(3):
        p = group.add(ManagedProcess(f"slow{i}", [sys.executable, "-c", slow],
                                     tmp_path / f"{i}.log"))
        p.start()
    for p in group.processes:  # each has installed its handler
        wait_for(lambda p=p: "up" in p.log_path.read_text(), 10, f"{p.name} up")
    started = time.monotonic()
    assert group.reap() == []
    took = time.monotonic() - started
    assert all(not p.alive for p in group.processes)
    assert took < 2.5, f"reaping took {took:.1f} s: stops ran one after another"


def test_cpus_pin_the_process_and_its_children(tmp_path):
    """`cpus` holds for the process, its threads and what it starts (QEMU boards use it)."""
    import os

    from wasmbed.waiting import wait_for

    cpu = max(os.sched_getaffinity(0))
    report = ("import os, subprocess, sys, threading; "
              "print('self', sorted(os.sched_getaffinity(0)), flush=True); "
              "t = threading.Thread(target=lambda: print('thread', "
              "sorted(os.sched_getaffinity(0)), flush=True)); t.start(); t.join(); "
              "subprocess.run([sys.executable, '-c', "
              "'import os; print(\"child\", sorted(os.sched_getaffinity(0)), flush=True)'])")
    p = ManagedProcess("pinned", [sys.executable, "-c", report], tmp_path / "p.log",
                       cpus={cpu})
    p.start()
    wait_for(lambda: not p.alive, 20, "the pinned process to report and exit")
    log = p.log_path.read_text()
    for who in ("self", "thread", "child"):
        assert f"{who} [{cpu}]" in log, log
