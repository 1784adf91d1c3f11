"""Enrollment over mutual TLS 1.3: who gets in, who is refused, and why."""

from __future__ import annotations

import allure
import pytest

from scenarios.steps import device_phase, fleet_state, kubectl_row, sessions_above
from wasmbed.pki import CertificateAuthority

pytestmark = [allure.feature("Enrollment")]


@allure.story("A registered device enrolls and connects")
def test_registered_device_enrolls_and_connects(api, cluster, gateway, virtual_devices,
                                                wait_for):
    with allure.step("register and start one device with a factory bootstrap identity"):
        fleet = virtual_devices(1)
        name = fleet.names[0]
    with allure.step("the device enrolls, reconnects with its operational cert, heartbeats"):
        dev = wait_for(lambda: device_phase(api, name, "Connected"), 20, f"{name} Connected")
    with allure.step("the API shows its certificate, gateway and heartbeat"):
        status = dev["status"]
        assert status["certificate"]["serial"]
        assert status["connection"]["connected"] is True
        assert status["lastHeartbeat"]
        assert status["capabilities"]["maxModuleSize"] > 0
    assert fleet.status(name)["state"] == "connected"
    if cluster.backend == "kubernetes":
        with allure.step("kubectl get devices shows it Connected, on its gateway"):
            row = kubectl_row(cluster, "devices", name)
            assert (row["NAME"], row["PHASE"], row["BOARD"], row["GATEWAY"]) == (
                name, "Connected", "virtual", gateway.name), row


@allure.story("An unregistered device is refused while pairing mode is off")
def test_unknown_device_is_refused(api, virtual_devices, wait_for):
    fleet = virtual_devices(1, register=False)
    name = fleet.names[0]
    with allure.step("the gateway relays the API's refusal to the device"):
        st = wait_for(lambda: fleet_state(fleet, name, "rejected"), 20, f"{name} rejected")
    assert "unknown device" in st["last_error"]
    assert "pairing mode is off" in st["last_error"]
    with allure.step("no Device was created for it"):
        assert api.devices() == []


@allure.story("Pairing mode admits unknown devices")
def test_pairing_mode_admits_unknown_device(api, virtual_devices, wait_for):
    api.set_pairing(True, timeout_s=60)
    virtual_devices(1, register=False)

    def one_connected() -> object:
        items = api.devices()
        return len(items) == 1 and items[0]["status"].get("phase") == "Connected"

    wait_for(one_connected, 20, "the paired device to appear Connected")


@allure.story("A device with a bootstrap cert from a foreign CA is refused at TLS")
def test_wrong_ca_is_refused(api, virtual_devices, wait_for, tmp_path):
    rogue = CertificateAuthority.create(tmp_path / "rogue", "Rogue Factory CA")
    fleet = virtual_devices(1, factory=rogue)
    name = fleet.names[0]
    st = wait_for(lambda: fleet_state(fleet, name, "refused"), 20, f"{name} refused at TLS")
    assert "TLS refused" in st["last_error"]
    assert api.device(name)["status"]["phase"] == "Pending"


@allure.story("A revoked device is cut off and refused on reconnect")
def test_revoked_device_is_refused(api, connected_device, wait_for):
    name, fleet = connected_device()
    with allure.step("revoke it through the API"):
        api.revoke_device(name)
    with allure.step("the gateway cuts the session; reconnects fail at the TLS layer"):
        st = wait_for(lambda: fleet_state(fleet, name, "refused"), 20,
                      f"{name} refused after revocation")
    assert "revoked" in st["last_error"].lower()
    assert api.device(name)["status"]["phase"] == "Revoked"


@allure.story("Heartbeats lost -> Disconnected; resumed -> Connected")
@pytest.mark.fault("process")
def test_heartbeat_loss_and_recovery(api, connected_device, wait_for):
    name, fleet = connected_device()
    with allure.step("freeze the device process (SIGSTOP): heartbeats stop, socket stays"):
        fleet.process.pause()
    dev = wait_for(lambda: device_phase(api, name, "Disconnected"), 20,
                   f"{name} Disconnected after missed heartbeats")
    assert "heartbeat timeout" in dev["status"]["connection"]["reason"]
    with allure.step("thaw it: it reconnects with its operational cert"):
        fleet.process.resume()
    wait_for(lambda: device_phase(api, name, "Connected"), 30, f"{name} Connected again")
    wait_for(lambda: sessions_above(fleet, name, 1), 10, f"{name} in its second session")
