"""Deploying wasm modules: run, report, stop, refuse bad modules, follow label selectors,
and survive a gateway crash in the middle of a transfer."""

from __future__ import annotations

import base64
import hashlib

import allure
import httpx
import pytest

from harness.evidence import read_json_lines
from scenarios.steps import (
    app_device_phase,
    app_phase,
    deliver_again,
    device_phase,
    devices_phase,
    kubectl_row,
    ran_times,
)
from wasmbed import examples
from wasmbed.protocol import DeployStep
from wasmbed.rest_client import ApiError
from wasmbed.waiting import Seen

pytestmark = [allure.feature("Deployment")]


@pytest.fixture
def connected(connected_device):
    """One enrolled, Connected virtual device (name, fleet)."""
    return connected_device()


@allure.story("A module runs and reports its output")
def test_hello_runs_and_reports_output(api, cluster, connected, wait_for):
    name, _ = connected
    api.create_application("hello", examples.wasm("hello"), devices=[name])
    entry = wait_for(lambda: app_device_phase(api, "hello", name, "Completed"), 20,
                     f"hello Completed on {name}")
    outputs = entry["outputs"]
    assert {"kind": "log", "text": "hello from wasm"}.items() <= outputs[0].items()
    assert outputs[1]["kind"] == "value" and outputs[1]["value"] >= 0
    assert outputs[-1] == {**outputs[-1], "kind": "result", "value": 42}
    # the application's own phase is aggregated by its controller a moment later
    wait_for(lambda: app_phase(api, "hello", "Completed"), 20, "hello Completed overall")
    if cluster.backend == "kubernetes":
        with allure.step("kubectl get applications shows it Completed"):
            row = kubectl_row(cluster, "applications", "hello")
            assert (row["PHASE"], row["TARGETS"]) == ("Completed", "1"), row


@allure.story("A long-running module streams values until stopped")
def test_counter_streams_values_then_stops(api, connected, wait_for):
    name, _ = connected
    api.create_application("counter", examples.wasm("counter"), devices=[name])
    wait_for(lambda: app_device_phase(api, "counter", name, "Running"), 20, "counter Running")

    def values() -> object:
        entry = api.application("counter")["status"]["deviceStatuses"][name]
        vals = [o["value"] for o in entry.get("outputs", []) if o["kind"] == "value"]
        return vals if len(vals) >= 5 else Seen(vals)

    vals = wait_for(values, 20, "five counter values")
    assert vals == list(range(1, len(vals) + 1))
    with allure.step("stop it through the API"):
        api.stop_application("counter")
    wait_for(lambda: app_device_phase(api, "counter", name, "Stopped"), 20, "counter Stopped")
    wait_for(lambda: app_phase(api, "counter", "Stopped"), 20, "application Stopped")


@allure.story("A trapping module fails with the trap reason; the device stays up")
def test_trap_fails_with_reason(api, connected, wait_for):
    name, _ = connected
    api.create_application("trap", examples.wasm("trap"), devices=[name])
    entry = wait_for(lambda: app_device_phase(api, "trap", name, "Failed"), 20, "trap Failed")
    assert "divide by zero" in entry["error"]
    assert entry["outputs"][0]["text"] == "about to divide by zero"
    assert api.device(name)["status"]["phase"] == "Connected"


@allure.story("A runaway module is stopped by its fuel budget")
def test_spin_is_stopped_by_budget(api, connected, wait_for):
    name, _ = connected
    api.create_application("spin", examples.wasm("spin"), devices=[name], fuel_limit=2_000_000)
    entry = wait_for(lambda: app_device_phase(api, "spin", name, "Failed"), 20, "spin Failed")
    assert entry["error"] == "fuel budget exhausted"
    assert api.device(name)["status"]["phase"] == "Connected"


@allure.story("Invalid modules are refused by the API with a clear error")
def test_invalid_module_refused(api):
    with pytest.raises(ApiError) as info:
        api.create_application("junk", b"\x00asm\x01\x00\x00\x00\xff\xff")
    assert info.value.status == 422 and info.value.code == "InvalidModule"
    assert "not a valid WebAssembly module" in info.value.message
    assert api.applications() == []


@allure.story("A module whose hash does not match is refused")
def test_hash_mismatch_refused(api):
    wasm = examples.wasm("hello")
    with pytest.raises(ApiError) as info:
        api.create_application("hello", wasm, sha256="00" * 32)
    assert info.value.code == "HashMismatch"
    assert hashlib.sha256(wasm).hexdigest() in info.value.message


@allure.story("The gateway refuses a pushed module whose hash does not match")
def test_gateway_refuses_hash_mismatch(platform, gateway):
    wasm = examples.wasm("hello")
    body = {"app": "x", "moduleId": "x@1", "wasm": base64.b64encode(wasm).decode(),
            "sha256": "11" * 32, "memoryLimit": 65536, "fuelLimit": 1000}
    resp = httpx.post(f"{gateway.http_url}/api/v1/devices/nobody/deploy", json=body,
                      headers={"Authorization": f"Bearer {gateway.token}"})
    assert resp.status_code == 422
    assert resp.json()["code"] == "HashMismatch"


@allure.story("A module delivered again after it ended runs again and reports its end")
def test_module_delivered_again_after_it_ended_runs_again(api, connected, gateway,
                                                          wait_for):
    """What the application controller does when it takes a module for lost (a new
    session's first heartbeat came before the device re-announced it): the same module id,
    delivered again. The gateway reports it Deploying; the device must run it again and
    report, or its facts stay Deploying for ever (the CI failure of the blackhole fault)."""
    name, _ = connected
    api.create_application("hello", examples.wasm("hello"), devices=[name])
    wait_for(lambda: app_device_phase(api, "hello", name, "Completed"), 20, "hello Completed")
    deliver_again(api, gateway, name, "hello")
    wait_for(lambda: ran_times(api, "hello", name, 2), 20,
             "hello run a second time and reported COMPLETED again")


@allure.story("A module larger than the device accepts is refused for that device")
def test_oversized_module_refused(api, connected_device, wait_for):
    name, fleet = connected_device(max_module_size=4096)
    api.create_application("big", examples.padded(8192), devices=[name])
    entry = wait_for(lambda: app_device_phase(api, "big", name, "Failed"), 20, "big Failed")
    assert "accepts at most 4096 bytes" in entry["error"]


@allure.story("A label selector targets exactly the matching devices, also new ones")
def test_label_selector_across_ten_devices(api, virtual_devices, wait_for):
    edge = virtual_devices(6, labels={"tier": "edge"}, prefix="edge")
    core = virtual_devices(4, labels={"tier": "core"}, prefix="core")
    everyone = edge.names + core.names
    wait_for(lambda: devices_phase(api, everyone, "Connected"), 40, "10 devices Connected")
    api.create_application("hello", examples.wasm("hello"), selector="tier=edge")

    def completed_on(count: int) -> object:
        st = api.application("hello")["status"]
        done = [d for d, e in st.get("deviceStatuses", {}).items() if e["phase"] == "Completed"]
        return sorted(done) if len(done) == count else Seen(st.get("statistics"))

    done = wait_for(lambda: completed_on(6), 40, "hello Completed on the 6 edge devices")
    assert done == sorted(edge.names)
    with allure.step("a new edge device joins: the application follows it"):
        late = virtual_devices(1, labels={"tier": "edge"}, prefix="late")
        done = wait_for(lambda: completed_on(7), 40, "hello Completed on the late device")
    assert late.names[0] in done
    assert not set(core.names) & set(api.application("hello")["status"]["deviceStatuses"])


@allure.story("A gateway killed mid-transfer resumes the deployment after restart")
@pytest.mark.fault("process")
def test_gateway_restart_mid_deployment_resumes(api, connected_device, gateway, wait_for,
                                                evidence):
    name, fleet = connected_device(ack_delay_ms=40)
    wasm = examples.padded(40_000)
    api.create_application("bulky", wasm, devices=[name])

    def chunks_acked() -> object:
        n = gateway.metric("wasmbed_gateway_deploy_chunks_total")
        return n if n >= 8 else Seen(n)

    with allure.step("kill -9 the gateway after a few chunks were acknowledged"):
        wait_for(chunks_acked, 20, "8 chunks acknowledged", ignore=(httpx.HTTPError,))
        gateway.kill()
    with allure.step("restart it on the same port with the same cache"):
        gateway.restart()
    entry = wait_for(lambda: app_device_phase(api, "bulky", name, "Completed"), 60,
                     "bulky Completed after the restart")
    assert entry["outputs"][0]["text"] == "big module ran"
    with allure.step("the transfer resumed where it stopped (not from offset 0)"):
        trace = read_json_lines(evidence.files[f"{gateway.name}-trace"])
        begins = [f for f in trace if f["type"] == "DeployBegin"]
        assert len(begins) >= 2, "expected a second DeployBegin after the restart"
        acks = [f["fields"] for f in trace if f["type"] == "DeployAck"]
        resumed = [a for a in acks if a["step"] == DeployStep.BEGIN and a["offset"] > 0]
        assert resumed, "the device should have reported a non-zero offset on DeployBegin"


@allure.story("A device that speaks only protocol v1 still enrolls, deploys and reports")
def test_protocol_v1_device_still_works(api, virtual_devices, wait_for):
    name = virtual_devices(1, protocol=1).names[0]
    wait_for(lambda: device_phase(api, name, "Connected"), 20, f"{name} Connected")
    api.create_application("hello", examples.wasm("hello"), devices=[name])
    entry = wait_for(lambda: app_device_phase(api, "hello", name, "Completed"), 20,
                     "hello Completed on the v1 device")
    assert entry["outputs"][0]["text"] == "hello from wasm"


@allure.story("An application for an unregistered device fails at once, saying why, and "
              "deploys once the device is registered")
def test_unregistered_device_fails_then_deploys(api, virtual_devices, wait_for):
    api.create_application("hello", examples.wasm("hello"), devices=["late-0"])
    entry = wait_for(lambda: app_device_phase(api, "hello", "late-0", "Failed"), 20,
                     "hello Failed for the unregistered device")
    assert "'late-0' is not registered" in entry["error"]
    # The device's entry is written before the application's aggregate phase (a report
    # arriving meanwhile must find it), so the phase is awaited, not read at once.
    wait_for(lambda: app_phase(api, "hello", "Failed"), 10, "hello's phase Failed")
    virtual_devices(1, prefix="late")  # registers and connects late-0
    wait_for(lambda: app_device_phase(api, "hello", "late-0", "Completed"), 30,
             "hello Completed once late-0 is registered")
