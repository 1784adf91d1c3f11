"""The TCP bridge: each board's link UART socket <-> a gateway, bytes unchanged.

TLS terminates in the firmware, never here. A UART has no connect or disconnect, so the
bridge reads the TLS record headers going up: a new ClientHello starts a fresh gateway
connection (the device restarted its session, e.g. after a reset). It is also where
network faults will be injected.
"""

from wasmbed.bridge.relay import BoardLink, Bridge, TlsRecordTracker

__all__ = ["BoardLink", "Bridge", "TlsRecordTracker"]
