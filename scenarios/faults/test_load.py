"""Load faults: a thundering herd of devices reconnecting at once."""

from __future__ import annotations

import allure
import pytest

from scenarios.steps import devices_phase

pytestmark = [allure.feature("Faults"), pytest.mark.fault("load")]


@allure.story("100 devices reconnect at once after a gateway crash; all come back")
@pytest.mark.long(8)
def test_thundering_herd_after_gateway_crash(api, gateway, virtual_devices, faults, wait_for):
    fleet = virtual_devices(100, reconnect_max_s=2.0)
    wait_for(lambda: devices_phase(api, fleet.names, "Connected"), 90, "100 devices Connected",
             interval=0.5)
    faults.kill(gateway.process)
    wait_for(lambda: devices_phase(api, fleet.names, "Disconnected"), 30,
             "100 devices Disconnected", interval=0.5)
    faults.restart(gateway.process)
    wait_for(lambda: devices_phase(api, fleet.names, "Connected"), 90,
             "100 devices Connected after the herd", interval=0.5)
    wait_for(lambda: api.gateway(gateway.name)["status"].get("connectedDevices") == 100, 20,
             "the gateway to report 100 sessions")
