"""Scenario fixtures for boards: provisioned identities and connected real-firmware boards."""

from __future__ import annotations

import pytest

from scenarios.steps import device_phase
from wasmbed.emulation.provisioning import write_blob


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


@pytest.fixture
def firmware_bridge(request):
    """The bridge process of `connected_board` (for network faults)."""
    return request.getfixturevalue("connected_board") and request.node.stash[BRIDGE]


BRIDGE = pytest.StashKey[object]()


@pytest.fixture
def connected_board(request, api, board, bridge, gateway, provisioned, wait_for):
    """An enrolled, Connected board: (name, board)."""
    name, blob = provisioned()
    b = board(blob=blob, paused=True)
    request.node.stash[BRIDGE] = bridge(b, gateway)
    b.resume()
    b.console.wait_for_line(rf"wasmbed: connected id={name}\b", 90)
    wait_for(lambda: device_phase(api, name, "Connected"), 30, f"{name} Connected")
    return name, b


