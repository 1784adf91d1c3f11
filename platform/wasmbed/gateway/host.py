"""What a device session may use of its gateway: a narrow interface, so a session never
reaches into the gateway's internals and `session.py` does not depend on `server.py`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from wasmbed.gateway.cache import GatewayCache
    from wasmbed.gateway.config import GatewayConfig
    from wasmbed.gateway.control import ControlPlane
    from wasmbed.gateway.metrics import GatewayMetrics
    from wasmbed.gateway.session import DeviceSession


class SessionHost(Protocol):
    """The gateway as its sessions see it (`Gateway` implements it)."""

    @property
    def config(self) -> GatewayConfig: ...  # settings: name, intervals, chunk size

    @property
    def cache(self) -> GatewayCache: ...  # the device's pending operations

    @property
    def control(self) -> ControlPlane: ...  # reports and enrollments to the API

    @property
    def metrics(self) -> GatewayMetrics: ...

    def attach(self, session: DeviceSession) -> None:
        """The session is now the device's current one (an older one is superseded)."""

    def detach(self, session: DeviceSession) -> bool:
        """Forget the session; True if it was the device's current one."""
