"""The virtual device: the device side of the protocol in Python, running wasm in wasmtime.

It is a *load generator and reference client*: hundreds fit in one process, for scale
tests and for exercising the platform without emulators. It never stands in for the real
firmware in a firmware test.
"""

from wasmbed.device.runtime import HOST_FUNCTIONS, WasmRunner
from wasmbed.device.virtual import DeviceProfile, VirtualDevice

__all__ = ["HOST_FUNCTIONS", "DeviceProfile", "VirtualDevice", "WasmRunner"]
