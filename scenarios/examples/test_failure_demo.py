"""A scenario that fails on purpose, to show what a failure leaves behind: the wait's
message (what was awaited, the last state seen), every process log and protocol trace
listed in the report and attached to Allure. Run it with `-m demo_failure`."""

from __future__ import annotations

import allure
import pytest

from scenarios.steps import device_phase

pytestmark = [pytest.mark.demo_failure, allure.feature("Examples")]


def test_waits_for_a_phase_that_never_comes(api, virtual_devices, wait_for):
    name = virtual_devices(1).names[0]
    with allure.step("the device connects"):
        wait_for(lambda: device_phase(api, name, "Connected"), 20, f"{name} Connected")
    with allure.step("…but we insist it must be Revoked (it never will be)"):
        wait_for(lambda: device_phase(api, name, "Revoked"), 3, f"{name} Revoked")
