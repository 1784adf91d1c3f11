"""Scenario fixtures for boards: provisioned identities and connected real-firmware boards."""

from __future__ import annotations

import pytest

from harness.services import provision_board
from scenarios.steps import device_phase


@pytest.fixture
def provisioned(platform, gateway, evidence, board_target):
    """A device identity burnt into a blob for this scenario's board, registered with the
    API: (name, blob path)."""
    def make(name: str = "fw-0", factory=None, register: bool = True):
        return name, provision_board(platform, gateway, evidence.directory, name,
                                     board_target[0], factory=factory, register=register)
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




@pytest.fixture
def connected_device(api, virtual_devices, wait_for):
    """Factory: connected_device(**kwargs) -> (name, fleet): one provisioned virtual device
    (kwargs as for virtual_devices) that is Connected."""

    def start(**kwargs):
        fleet = virtual_devices(1, **kwargs)
        name = fleet.names[0]
        wait_for(lambda: device_phase(api, name, "Connected"), 20, f"{name} Connected")
        return name, fleet

    return start
