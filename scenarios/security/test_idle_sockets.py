"""A flood of connections that never start (or crawl through) a TLS handshake must not
keep a real device out, and must not disturb sessions already running.

Before: 500 idle sockets held the 64 handshake slots for 10 s each, so a device waited
69.5 s. Now a slot is taken only once a whole ClientHello has arrived, connections without
one are dropped after a short timeout, and past a per-source cap the oldest idle ones go
first."""

from __future__ import annotations

import time

import allure
import pytest

from harness.attacks import idle_connections
from scenarios.steps import device_phase
from wasmbed.waiting import Seen

pytestmark = [allure.feature("Security"), pytest.mark.fault("network")]
IDLE, SLOW = 1000, 50


@allure.story("1,000 idle and 50 stalled connections do not keep a new device out")
def test_new_device_connects_during_a_flood(api, start_gateway, virtual_devices, wait_for,
                                            evidence):
    gateway = start_gateway(extra=["--hello-timeout", "30"])  # the flood is not timed out
    early = virtual_devices(1, gateway=gateway, prefix="early").names[0]
    wait_for(lambda: device_phase(api, early, "Connected"), 20, f"{early} Connected")
    with idle_connections(gateway.tls_address, IDLE, SLOW):
        started = time.monotonic()
        late = virtual_devices(1, gateway=gateway, prefix="late").names[0]
        wait_for(lambda: device_phase(api, late, "Connected"), 20,
                 f"{late} Connected while {IDLE + SLOW} idle connections are held")
        took = time.monotonic() - started
        allure.attach(f"{took:.2f} s from start to Connected", "connect time",
                      allure.attachment_type.TEXT)
        before = api.device(early)["status"]["lastHeartbeat"]
        wait_for(lambda: api.device(early)["status"]["lastHeartbeat"] != before or
                 Seen(before), 10, f"{early} still heartbeating during the flood")
    assert api.device(early)["status"]["phase"] == "Connected"
