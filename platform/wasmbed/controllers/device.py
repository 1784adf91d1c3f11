"""Device phase from observed facts (what gateways reported), never from a timer alone.

    Revoked       certificate revoked (or device being deleted)
    Expired       operational certificate past its notAfter (re-enroll to renew)
    Pending       registered, no operational certificate yet
    Enrolled      has a certificate, never connected since
    Connected     a gateway holds its session and heartbeats are fresh
    Disconnected  session closed, or heartbeats stale (e.g. its gateway died silently)
"""

from __future__ import annotations

import time
from typing import Any

from wasmbed.controllers.base import Controller
from wasmbed.timeutil import parse_iso

STALE_GRACE_S = 2.0


def device_phase(status: dict[str, Any], now: float) -> tuple[str, float | None]:
    """(phase, seconds until the phase could change by time alone)."""
    if status.get("revoked"):
        return "Revoked", None
    if not status.get("certificate"):
        return "Pending", None
    not_after = parse_iso(status["certificate"].get("notAfter"))
    if not_after is not None and not_after <= now:
        return "Expired", None
    conn = status.get("connection")
    if not conn:
        return "Enrolled", None
    if conn.get("connected"):
        last = parse_iso(status.get("lastHeartbeat")) or parse_iso(conn.get("since")) or now
        deadline = last + float(conn.get("timeoutS", 90)) + STALE_GRACE_S
        if now < deadline:
            recheck = deadline - now
            if not_after is not None:
                recheck = min(recheck, not_after - now)
            return "Connected", recheck
    return "Disconnected", None


class DeviceController(Controller):
    kind = "Device"

    async def reconcile(self, name: str) -> float | None:
        dev = await self.store.get("Device", name)
        status = dev.get("status") or {}
        phase, recheck = device_phase(status, time.time())
        if status.get("phase") != phase:
            await self.store.patch_status("Device", name, {"phase": phase})
        return recheck
