"""Network faults between devices and the gateway: every one ends with the fleet back to
Connected, seen through the API."""

from __future__ import annotations

import allure
import pytest

from scenarios.steps import app_device_phase, device_phase, sessions_above
from wasmbed import examples
from wasmbed.waiting import Seen

pytestmark = [allure.feature("Faults"), pytest.mark.fault("network")]


@pytest.fixture
def device(connected_device, proxy):
    """One Connected virtual device behind the fault proxy: (name, fleet)."""
    name, fleet = connected_device(gateway=proxy, reconnect_max_s=1.0)
    return name, fleet


@allure.story("A partition makes the device Disconnected; healing brings it back")
def test_partition_then_heal(api, device, proxy, faults, wait_for):
    name, fleet = device
    net = faults.network(proxy)
    net.partition(seconds=6)
    dev = wait_for(lambda: device_phase(api, name, "Disconnected"), 15,
                   f"{name} Disconnected during the partition")
    assert "heartbeat timeout" in dev["status"]["connection"]["reason"]
    wait_for(lambda: device_phase(api, name, "Connected"), 30, f"{name} Connected after it")
    assert net.stats()["dropped"] > 0


@allure.story("A cut (RST) is followed by a reconnect")
def test_cut_reconnects(api, device, proxy, faults, wait_for):
    name, fleet = device
    before = fleet.status(name)["sessions"]
    faults.network(proxy).cut()
    wait_for(lambda: sessions_above(fleet, name, before), 20, f"{name} in a new session")
    wait_for(lambda: device_phase(api, name, "Connected"), 20, f"{name} Connected")


@allure.story("Corrupted bytes break the TLS session; the device reconnects")
def test_corruption_detected_by_tls(api, device, proxy, faults, wait_for):
    name, fleet = device
    before = fleet.status(name)["sessions"]
    with faults.network(proxy).corrupt(chunks=1):
        wait_for(lambda: sessions_above(fleet, name, before), 20,
                 f"{name} reconnected after the corrupt record")
    wait_for(lambda: device_phase(api, name, "Connected"), 20, f"{name} Connected")


@allure.story("Latency and jitter slow heartbeats but keep the device Connected")
def test_latency_keeps_connected(api, device, proxy, faults, wait_for):
    name, _ = device
    with faults.network(proxy).latency(300, jitter_ms=100):
        first = api.device(name)["status"]["lastHeartbeat"]

        def newer_beat() -> object:
            st = api.device(name)["status"]
            return st["phase"] == "Connected" and st["lastHeartbeat"] > first or Seen(st)

        wait_for(newer_beat, 15, "a heartbeat through the slow link")
    assert api.device(name)["status"]["phase"] == "Connected"


@allure.story("Dropping the device's direction looks like missed heartbeats")
def test_drop_upstream_then_recover(api, device, proxy, faults, wait_for):
    name, _ = device
    with faults.network(proxy).drop("up"):
        wait_for(lambda: device_phase(api, name, "Disconnected"), 15, f"{name} Disconnected")
    wait_for(lambda: device_phase(api, name, "Connected"), 30, f"{name} Connected again")


@allure.story("Flapping links end with the device Connected")
@pytest.mark.long(8)
def test_flapping(api, device, proxy, faults, wait_for):
    name, fleet = device
    before = fleet.status(name)["sessions"]
    faults.network(proxy).flap(period_s=1.0, cycles=3)
    wait_for(lambda: sessions_above(fleet, name, before), 30, "a reconnect after the flaps")
    wait_for(lambda: device_phase(api, name, "Connected"), 30, f"{name} Connected at the end")


@allure.story("A deployment through a capped, blackholed link still completes")
def test_deployment_survives_bandwidth_cap_and_blackhole(api, device, proxy, faults,
                                                        wait_for):
    name, _ = device
    net = faults.network(proxy)
    with net.bandwidth(64_000):
        api.create_application("hello", examples.wasm("hello"), devices=[name])
        with net.blackhole():
            wait_for(lambda: device_phase(api, name, "Disconnected"), 15,
                     f"{name} Disconnected in the blackhole")
    entry = wait_for(lambda: app_device_phase(api, "hello", name, "Completed"), 60,
                     "hello Completed once the network healed")
    assert entry["outputs"][0]["text"] == "hello from wasm"
