"""Nothing acknowledged is lost - outputs included. A device keeps each output until the
gateway acknowledges it (protocol v2 OutputAck, sent once the output is in the gateway's
durable outbox) and sends the unacknowledged ones again on its next session.

The fault: outputs written into the gateway's socket while it hangs (SIGSTOP) sit in the
kernel's buffer; kill -9 throws them away. With v1 they were gone for good; now the device
still holds them."""

from __future__ import annotations

import allure
import pytest

from harness.evidence import read_json_lines
from scenarios.steps import app_device_phase
from wasmbed import examples
from wasmbed.waiting import Seen

pytestmark = [allure.feature("Security"), pytest.mark.fault("process")]


def sent_seqs(fleet) -> list[int]:
    """AppOutput seqs the device has written to its link (its protocol trace)."""
    trace = fleet.process.log_path.with_name(f"{fleet.process.name}-trace.jsonl")
    seqs = []
    for record in read_json_lines(trace):
        if record["type"] == "AppOutput" and record["dir"] == "device->gateway":
            seqs.append(record["fields"]["seq"])
    return seqs


def api_seqs(api, app: str, device: str) -> list[int]:
    outs = api.request("GET", f"/api/v1/applications/{app}/outputs")["items"].get(device, [])
    return [o["seq"] for o in outs]


@allure.story("Outputs in flight when the gateway is killed -9 are not lost")
def test_outputs_in_flight_survive_a_gateway_kill(api, gateway, connected_device, wait_for):
    name, fleet = connected_device()
    api.create_application("counter", examples.wasm("counter"), devices=[name])
    wait_for(lambda: app_device_phase(api, "counter", name, "Running"), 20, "counter Running")
    wait_for(lambda: len(api_seqs(api, "counter", name)) >= 3 or Seen(api_seqs(
        api, "counter", name)), 20, "the first outputs stored")
    with allure.step("hang the gateway; the device keeps writing outputs into its socket"):
        gateway.process.pause()
        stored = api_seqs(api, "counter", name)[-1]
        in_flight = wait_for(lambda: sent_seqs(fleet)[-1] >= stored + 8 or Seen(
            sent_seqs(fleet)[-3:]), 20, "8 outputs written to the hung gateway")
        assert in_flight
        written = sent_seqs(fleet)[-1]
    with allure.step("kill -9 the hung gateway, start it again"):
        gateway.kill()
        gateway.restart()
    got = wait_for(lambda: (s := api_seqs(api, "counter", name)) and s[-1] >= written + 5
                   and s or Seen(s[-5:]), 40, f"outputs up to {written + 5} stored")
    window = [s for s in got if s >= stored - 2]
    assert window == list(range(window[0], window[0] + len(window))), \
        f"outputs lost between {stored} and {written}: {window}"
