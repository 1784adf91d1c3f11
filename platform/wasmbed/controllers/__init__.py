"""Store-agnostic reconcilers for Devices, Applications and Gateways.

Each is level-based: `reconcile(name)` reads the current state and writes what follows
from it, so running it twice, late, or after a crash gives the same result.
"""

from wasmbed.controllers.application import ApplicationController
from wasmbed.controllers.base import Controller
from wasmbed.controllers.device import DeviceController
from wasmbed.controllers.gateway import GatewayController

__all__ = ["ApplicationController", "Controller", "DeviceController", "GatewayController"]
