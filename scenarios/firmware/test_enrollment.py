"""Real firmware in QEMU enrolls over the bridge with mutual TLS 1.3 and heartbeats."""

from __future__ import annotations

import allure
import pytest

from scenarios.steps import device_phase
from wasmbed.emulation.provisioning import write_blob

pytestmark = [allure.feature("Firmware"), pytest.mark.board("stm32f4_discovery")]


@pytest.fixture
def provisioned(platform, gateway, evidence):
    """A device identity burnt into a blob, registered with the API: (name, blob path)."""
    def make(name: str = "fw-0", factory=None, register: bool = True):
        pki = platform.cluster.pki
        blob, key = write_blob(evidence.directory / f"{name}.blob", name,
                               factory or pki.factory, pki.platform, gateway.name)
        if register:
            platform.api.create_device(name, key, board="stm32f4_discovery",
                                       device_type="emulated")
        return name, blob
    return make


@allure.story("Enrollment over the bridge with mutual TLS 1.3; heartbeats make it Connected")
def test_firmware_enrolls_and_connects(api, board, bridge, gateway, provisioned, wait_for):
    name, blob = provisioned()
    b = board(blob=blob, paused=True)
    bridge(b, gateway)
    b.resume()
    b.console.wait_for_line("wasmbed: tls connecting identity=bootstrap", 10)
    m = b.console.wait_for_line(r"wasmbed: tls connected (\S+)", 60)
    assert m.group(1) == "TLSv1.3"
    b.console.wait_for_line(rf"wasmbed: enrolled id={name}\b", 30)
    b.console.wait_for_line("wasmbed: tls connecting identity=operational", 10)
    b.console.wait_for_line(rf"wasmbed: connected id={name}\b", 60)
    dev = wait_for(lambda: device_phase(api, name, "Connected"), 30, f"{name} Connected")
    assert dev["status"]["firmwareVersion"]
    assert dev["status"]["capabilities"]["maxModuleSize"] == 32 * 1024
