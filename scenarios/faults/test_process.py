"""Process faults: a hung gateway, a killed API server. Nothing acknowledged is lost and
everything recovers, observed through the API."""

from __future__ import annotations

import json

import allure
import httpx
import pytest

from scenarios.steps import app_device_phase, device_phase, devices_phase, entry_history
from wasmbed import examples
from wasmbed.controllers.application import LOST
from wasmbed.waiting import Seen

pytestmark = [allure.feature("Faults"), pytest.mark.fault("process")]


@allure.story("A hung gateway (SIGSTOP): devices go Disconnected, then recover")
@pytest.mark.long(10)
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


@allure.story("A device that loses power after a module was delivered, before it ran, gets "
              "it again")
def test_power_lost_between_delivery_and_start_redeploys(api, gateway, virtual_devices,
                                                         faults, wait_for):
    """The gateway's transfer is done (commit acknowledged), so it will not send the module
    again by itself; the device comes back running nothing. The API must notice, not show
    Deploying for ever."""
    fleet = virtual_devices(1, start_delay_ms=60_000)  # delivered, then never started
    name = fleet.names[0]
    wait_for(lambda: device_phase(api, name, "Connected"), 20, f"{name} Connected")
    since = api.request("GET", "/api/v1/applications")["resourceVersion"]
    api.create_application("late", examples.padded(2048, forever=True), devices=[name])
    committed = "wasmbed_gateway_deployments_total"
    wait_for(lambda: gateway.metric(committed, result="committed") >= 1 or Seen("not yet"), 20,
             "the gateway's transfer committed", ignore=(httpx.HTTPError,))
    assert app_device_phase(api, "late", name, "Deploying")
    faults.kill(fleet.process)
    fleet.process.set_arg("--profile", json.dumps({"start_delay_ms": 0}))
    faults.restart(fleet.process)  # the same device, booting again, with its certificate
    history = entry_history(api, "late", name, since, until="Running")
    with allure.step(f"phases seen: {history}"):
        assert ("Pending", LOST) in history
        assert history[-1] == ("Running", None)


@allure.story("A device simulator stops at once on SIGTERM, also while a module runs")
def test_simulator_stops_while_a_module_runs(api, connected_device, wait_for):
    name, fleet = connected_device()
    api.create_application("counter", examples.wasm("counter"), devices=[name])
    wait_for(lambda: app_device_phase(api, "counter", name, "Running"), 20, "counter Running")
    code = fleet.process.stop(timeout=5.0)
    assert code == 0, f"the simulator did not exit by itself (exit {code}): a module's " \
                      "thread kept it alive"
