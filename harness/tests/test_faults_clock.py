"""The clock fault's command prefix: the clock it gives a process, and what it leaves."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import pytest

from harness.faults.library import Faults
from wasmbed.processes import ManagedProcess

SHM = Path("/dev/shm")
# writes its clock to the ready file, then waits to be stopped: on SIGTERM it exits as the
# platform's services do, through the interpreter's normal exit
CLOCK = ("import json, os, signal, sys, time; p = sys.argv[1]; "
         "signal.signal(signal.SIGTERM, lambda *_: sys.exit(0)); "
         "open(p + '.tmp', 'w').write(json.dumps({'now': time.time()})); "
         "os.replace(p + '.tmp', p); time.sleep(60)")


def faketime_leftovers() -> set[Path]:
    return set(SHM.glob("*faketime*"))


@pytest.mark.skipif(not SHM.is_dir(), reason="needs /dev/shm (Linux)")
def test_a_skewed_clock_runs_ahead_and_a_stopped_process_leaves_nothing(tmp_path):
    """The `faketime` wrapper left its shared memory in /dev/shm (two files) each time the
    process group it led was stopped with SIGTERM, as every fault test stops its processes."""
    prefix = Faults.skewed_clock("+400d")
    before = faketime_leftovers()
    ready = tmp_path / "ready"
    proc = ManagedProcess("skewed", [*prefix, sys.executable, "-c", CLOCK, str(ready)],
                          tmp_path / "skewed.log", ready)
    try:
        now = proc.start()["now"]
    finally:
        proc.stop()
    assert 399 * 86400 < now - time.time() < 401 * 86400
    assert faketime_leftovers() - before == set(), json.dumps(
        sorted(map(str, faketime_leftovers() - before)))
