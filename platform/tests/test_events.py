"""A device's recent events read as words: an output's kind by name, periodic facts left
out."""

from __future__ import annotations

import time

from wasmbed.api.events import DeviceEvents
from wasmbed.reports import HeartbeatSeen, ModuleOutput


def test_outputs_carry_their_kind_by_name_and_heartbeats_are_left_out():
    events = DeviceEvents()
    now = time.time()
    events.record_reports("gw", [
        ModuleOutput(device="d", at=now, moduleId="hello@1", seq=1, kind=0, text="hi"),
        HeartbeatSeen(device="d", at=now, uptimeMs=5, freeMemory=1, runningApps=[]),
    ])
    (only,) = events.list("d")
    assert only["type"] == "output" and only["kind"] == "log" and only["text"] == "hi"
