"""Gateways and the API hold separate credentials: a gateway's token speaks for that
gateway on the gateway protocol and nothing else, the admin token is never handed to a
gateway, and a gateway whose resource is deleted registers again without losing a report."""

from __future__ import annotations

import allure
import httpx
import pytest

from scenarios.steps import app_device_phase, device_phase
from wasmbed import examples
from wasmbed.waiting import Seen

pytestmark = [allure.feature("Security")]


@allure.story("A gateway holds its own credential, never the admin token")
def test_gateway_credential_is_scoped(platform, gateway):
    assert platform.token not in gateway.token_file.read_text()
    assert platform.token not in " ".join(gateway.process.argv)
    own = {"Authorization": f"Bearer {gateway.token}"}
    assert httpx.get(f"{platform.url}/api/v1/devices", headers=own).status_code == 403
    assert httpx.get(f"{platform.url}/api/v1/pki/trust", headers=own).status_code == 200
    other = httpx.post(f"{platform.url}/api/v1/gateways/someone-else/reports",
                       json={"events": []}, headers=own)
    assert other.status_code == 403
    admin = {"Authorization": f"Bearer {platform.token}"}
    assert httpx.get(f"{gateway.http_url}/api/v1/devices", headers=admin).status_code == 401
    assert httpx.get(f"{gateway.http_url}/api/v1/devices", headers=own).status_code == 200


@allure.story("A gateway cannot register an endpoint that is not itself")
def test_registration_checks_the_endpoint(platform, gateway):
    own = {"Authorization": f"Bearer {gateway.token}"}
    reg = {"endpoint": platform.url, "tlsEndpoint": "127.0.0.1:1", "tlsPort": 1,
           "startedAt": 0}
    r = httpx.put(f"{platform.url}/api/v1/gateways/{gateway.name}/registration", json=reg,
                  headers=own)
    assert r.status_code == 422 and r.json()["code"] == "EndpointUnverified"
    spec = platform.api.gateway(gateway.name)["spec"]
    assert spec["endpoint"] == gateway.http_url  # the real one is kept


@allure.story("Deleting a running gateway's resource: it registers again, no report lost")
@pytest.mark.fault("control-plane")
def test_deleted_gateway_registers_again(api, gateway, virtual_devices, wait_for):
    name = virtual_devices(1).names[0]
    wait_for(lambda: device_phase(api, name, "Connected"), 20, f"{name} Connected")
    api.create_application("counter", examples.wasm("counter"), devices=[name])
    wait_for(lambda: app_device_phase(api, "counter", name, "Running"), 20, "counter Running")

    def seqs() -> list[int]:
        outs = api.request("GET", "/api/v1/applications/counter/outputs")["items"][name]
        return [o["seq"] for o in outs]

    wait_for(lambda: len(seqs()) >= 3 or Seen(seqs()), 20, "the first counter outputs")
    deleted_at = seqs()[-1]
    api.request("DELETE", f"/api/v1/gateways/{gateway.name}")

    def registered_again() -> object:
        try:
            return api.gateway(gateway.name)
        except Exception as exc:
            return Seen(str(exc))

    wait_for(registered_again, 20, f"{gateway.name} registered again")

    def outputs_after_deletion() -> object:
        got = seqs()
        return got if got[-1] >= deleted_at + 30 else Seen(got[-5:])

    got = wait_for(outputs_after_deletion, 30, "counter outputs flowing again")
    assert deleted_at in got, "the outputs around the deletion must still be kept"
    assert got == list(range(got[0], got[0] + len(got))), f"a gap in {got}"
    assert "registering again" in gateway.process.log_path.read_text()
