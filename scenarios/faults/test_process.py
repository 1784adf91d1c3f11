"""Process faults: a hung gateway, a killed API server. Nothing acknowledged is lost and
everything recovers, observed through the API."""

from __future__ import annotations

import allure
import pytest

from scenarios.steps import app_device_phase, device_phase, devices_phase
from wasmbed import examples

pytestmark = [allure.feature("Faults"), pytest.mark.fault("process")]


@allure.story("A hung gateway (SIGSTOP): devices go Disconnected, then recover")
def test_hung_gateway(api, gateway, virtual_devices, faults, wait_for):
    fleet = virtual_devices(2, reconnect_max_s=1.0)
    wait_for(lambda: devices_phase(api, fleet.names, "Connected"), 20, "2 devices Connected")
    with faults.hang(gateway.process):
        wait_for(lambda: devices_phase(api, fleet.names, "Disconnected"), 20,
                 "devices Disconnected while their gateway hangs")
        wait_for(lambda: api.gateway(gateway.name)["status"].get("phase") == "Unreachable",
                 20, "the gateway Unreachable")
    wait_for(lambda: devices_phase(api, fleet.names, "Connected"), 30, "devices back")
    wait_for(lambda: api.gateway(gateway.name)["status"].get("phase") == "Ready", 20,
             "the gateway Ready again")


@allure.story("kill -9 of the API server loses nothing it acknowledged")
def test_api_kill_loses_nothing(api, platform, connected_device, faults, wait_for):
    name, fleet = connected_device()
    api.create_application("hello", examples.wasm("hello"), devices=[name])
    before = wait_for(lambda: app_device_phase(api, "hello", name, "Completed"), 20,
                      "hello Completed")
    faults.kill(platform.process)
    faults.restart(platform.process)
    after = api.application("hello")["status"]["deviceStatuses"][name]
    assert after["outputs"] == before["outputs"]
    assert after["phase"] == "Completed"
    wait_for(lambda: device_phase(api, name, "Connected"), 30, f"{name} Connected after")


@allure.story("Reports made while the API is down arrive after it restarts")
def test_reports_queued_while_api_down(api, platform, connected_device, faults, wait_for):
    name, fleet = connected_device()
    api.create_application("counter", examples.wasm("counter"), devices=[name])
    wait_for(lambda: app_device_phase(api, "counter", name, "Running"), 20, "counter Running")
    faults.kill(platform.process)
    with allure.step("the counter keeps reporting into the gateway's outbox"):
        fleet_outputs = fleet.status(name)  # device-side view stays available
        assert fleet_outputs["state"] == "connected"
    faults.restart(platform.process)

    def values_after_restart() -> object:
        entry = api.application("counter")["status"]["deviceStatuses"][name]
        vals = [o["value"] for o in entry["outputs"] if o["kind"] == "value"]
        gaps = [b - a for a, b in zip(vals, vals[1:], strict=False) if b - a != 1]
        return (len(vals) >= 20 and not gaps) or vals[-5:]

    wait_for(values_after_restart, 30, "20 consecutive counter values, none lost")
