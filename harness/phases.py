"""Where a scenario's time goes, for `./run bench scenarios`: a pytest plugin (loaded with
`-p harness.phases`) that appends one JSON line per test phase and per fixture set-up to
$WASMBED_PHASES_FILE. Workers append to the same file; lines are small, so writes do not
interleave."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from typing import Any

import pytest


def _write(record: dict[str, Any]) -> None:
    path = os.environ.get("WASMBED_PHASES_FILE")
    if path:
        with open(path, "a") as fp:
            fp.write(json.dumps(record) + "\n")


@pytest.hookimpl(hookwrapper=True)
def pytest_fixture_setup(fixturedef: pytest.FixtureDef[Any],
                         request: pytest.FixtureRequest) -> Iterator[None]:
    start = time.perf_counter()
    yield
    _write({"test": request.node.nodeid, "fixture": fixturedef.argname,
            "scope": fixturedef.scope, "seconds": time.perf_counter() - start})


_WORKER = False


def pytest_configure(config: pytest.Config) -> None:
    global _WORKER
    _WORKER = hasattr(config, "workerinput")  # xdist: the controller sees every report


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if _WORKER:
        return
    _write({"test": report.nodeid, "phase": report.when, "seconds": report.duration,
            "outcome": report.outcome})
