"""The fault library: network faults through a relay's control API, process faults on
managed processes, board faults on emulated boards, PKI faults through the API. Every
fault is recorded as an Allure step with its parameters."""

from harness.faults.library import Faults, NetworkFaultControl

__all__ = ["Faults", "NetworkFaultControl"]
