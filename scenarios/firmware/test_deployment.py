"""Wasm modules deployed to the real firmware (wasm3 on the emulated Cortex-M4)."""

from __future__ import annotations

import allure
import pytest

from scenarios.steps import app_device_phase, device_phase
from wasmbed.waiting import Seen

pytestmark = [allure.feature("Firmware"), pytest.mark.board("stm32f4_discovery")]


@allure.story("hello runs on the device and its output reaches the API")
def test_hello_output_reported(api, connected_board, firmware_apps, wait_for):
    name, b = connected_board
    api.create_application("hello", firmware_apps["hello"], devices=[name])
    b.console.wait_for_line(r"wasmbed: app hello@1 running", 60)
    b.console.wait_for_line(r"wasmbed: app hello@1 completed", 30)
    entry = wait_for(lambda: app_device_phase(api, "hello", name, "Completed"), 30,
                     "hello Completed on the firmware")
    kinds = [(o["kind"], o.get("text", o.get("value"))) for o in entry["outputs"]]
    assert kinds[0] == ("log", "hello from wasm")
    assert kinds[1][0] == "value" and kinds[1][1] > 0  # uptime_ms from the device clock
    assert kinds[-1] == ("result", 42)


@allure.story("counter streams values, then stops on request")
def test_counter_streams_then_stops(api, connected_board, firmware_apps, wait_for):
    name, b = connected_board
    api.create_application("counter", firmware_apps["counter"], devices=[name])

    def values() -> object:
        entry = api.application("counter")["status"]["deviceStatuses"].get(name, {})
        vals = [o["value"] for o in entry.get("outputs", []) if o["kind"] == "value"]
        return vals if len(vals) >= 5 else Seen(entry.get("phase"))

    vals = wait_for(values, 60, "five values from the counter on the firmware")
    assert vals[:5] == [1, 2, 3, 4, 5]
    api.stop_application("counter")
    wait_for(lambda: app_device_phase(api, "counter", name, "Stopped"), 30, "counter Stopped")
    b.console.wait_for_line(r"wasmbed: app counter@1 stopped", 10)
    wait_for(lambda: device_phase(api, name, "Connected"), 10, f"{name} still Connected")


@allure.story("A trapping module fails with the trap reason; the device stays Connected")
def test_trap_reported_device_stays(api, connected_board, firmware_apps, wait_for):
    name, b = connected_board
    api.create_application("trap", firmware_apps["trap"], devices=[name])
    entry = wait_for(lambda: app_device_phase(api, "trap", name, "Failed"), 60, "trap Failed")
    assert "divide by zero" in entry["error"]
    assert entry["outputs"][0]["text"] == "about to divide by zero"
    wait_for(lambda: device_phase(api, name, "Connected"), 10, f"{name} still Connected")


@allure.story("A module that never returns is stopped by its budget")
def test_spin_stopped_by_budget(api, connected_board, firmware_apps, wait_for):
    name, b = connected_board
    api.create_application("spin", firmware_apps["spin"], devices=[name], fuel_limit=200_000)
    entry = wait_for(lambda: app_device_phase(api, "spin", name, "Failed"), 60, "spin Failed")
    assert entry["error"] == "fuel budget exhausted"
    wait_for(lambda: device_phase(api, name, "Connected"), 10, f"{name} still Connected")
