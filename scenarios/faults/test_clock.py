"""Clock faults: a gateway whose clock runs 400 days ahead."""

from __future__ import annotations

import allure
import pytest

from scenarios.steps import device_phase, fleet_state

pytestmark = [allure.feature("Faults"), pytest.mark.fault("clock")]


@allure.story("A gateway 400 days ahead refuses certificates as expired; the API sees its "
              "skew; with its clock right again, devices enroll")
def test_gateway_clock_skew(api, start_gateway, virtual_devices, faults, wait_for):
    prefix = faults.skewed_clock("+400d")
    skewed = start_gateway(wrapper=prefix)
    fleet = virtual_devices(1, gateway=skewed, reconnect_max_s=1.0)
    name = fleet.names[0]
    st = wait_for(lambda: fleet_state(fleet, name, "refused"), 30, f"{name} refused")
    assert "expired" in st["last_error"].lower()

    def skew_reported() -> object:
        status = api.gateway(skewed.name)["status"]
        return status.get("clockSkewSeconds", 0) > 300 * 86400 or status

    wait_for(skew_reported, 20, "the API to report the gateway's clock skew")
    assert api.device(name)["status"]["phase"] == "Pending"
    with allure.step("fix the gateway's clock (restart it without the skew)"):
        skewed.process.stop()
        skewed.process.argv = skewed.process.argv[len(prefix):]
        skewed.restart()
    wait_for(lambda: device_phase(api, name, "Connected"), 40, f"{name} Connected")
    wait_for(lambda: api.gateway(skewed.name)["status"].get("clockSkewSeconds") == 0, 20,
             "no skew reported any more")
