"""PKI faults: expired and revoked devices are cut off and shown as such."""

from __future__ import annotations

import allure
import pytest

from scenarios.steps import device_phase, fleet_state

pytestmark = [allure.feature("Faults"), pytest.mark.fault("pki")]


@allure.story("An expired certificate is cut within a heartbeat and refused after")
@pytest.mark.cert_lifetime(8)
def test_expired_certificate_cut_off(api, virtual_devices, wait_for):
    fleet = virtual_devices(1, reconnect_max_s=1.0)
    name = fleet.names[0]
    wait_for(lambda: device_phase(api, name, "Connected"), 20, f"{name} Connected")
    dev = wait_for(lambda: device_phase(api, name, "Expired"), 20, f"{name} Expired")
    assert dev["status"]["certificate"]["notAfter"]
    st = wait_for(lambda: fleet_state(fleet, name, "refused"), 20,
                  f"{name} refused at TLS with its expired certificate")
    assert "expired" in st["last_error"].lower()


@allure.story("A revoked device's live session is cut at the next CRL refresh")
def test_revoked_session_cut(api, virtual_devices, faults, wait_for):
    fleet = virtual_devices(1, reconnect_max_s=1.0)
    name = fleet.names[0]
    wait_for(lambda: device_phase(api, name, "Connected"), 20, f"{name} Connected")
    faults.revoke(api, name)
    wait_for(lambda: fleet_state(fleet, name, "refused"), 20, f"{name} cut and refused")
    assert api.device(name)["status"]["phase"] == "Revoked"
    assert api.device(name)["status"]["connection"]["connected"] is False
