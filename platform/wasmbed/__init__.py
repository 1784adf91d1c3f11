"""Wasmbed platform services: protocol, PKI, store, controllers, API, gateway, devices."""

__version__ = "0.1.0"
