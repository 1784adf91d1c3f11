"""Gateway health: Ready while its status reports keep arriving, Unreachable otherwise."""

from __future__ import annotations

import time

from wasmbed.controllers.base import Controller
from wasmbed.timeutil import parse_iso

REPORT_TIMEOUT_S = 10.0


class GatewayController(Controller):
    kind = "Gateway"

    async def reconcile(self, name: str) -> float | None:
        gw = await self.store.get("Gateway", name)
        status = gw.get("status") or {}
        last = parse_iso(status.get("lastHeartbeat"))
        now = time.time()
        ready = last is not None and now - last < REPORT_TIMEOUT_S
        phase = "Ready" if ready else "Unreachable"
        if status.get("phase") != phase:
            await self.store.patch_status("Gateway", name, {"phase": phase})
        return (last + REPORT_TIMEOUT_S - now + 0.1) if ready and last else None
