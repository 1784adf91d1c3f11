"""`GET /api/v1/status`: the fleet at a glance."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from wasmbed import __version__
from wasmbed.api.deps import Ctx

router = APIRouter(tags=["status"])
PLURALS = {"devices": "Device", "applications": "Application", "gateways": "Gateway"}


@router.get("/status")
async def status(ctx: Ctx) -> dict[str, Any]:
    out: dict[str, Any] = {"version": __version__, "pairingMode": ctx.pairing.as_dict()}
    for plural, kind in PLURALS.items():
        items, rv = await ctx.store.list(kind)
        phases: dict[str, int] = {}
        for item in items:
            phase = (item.get("status") or {}).get("phase", "Unknown")
            phases[phase] = phases.get(phase, 0) + 1
        out[plural] = {"total": len(items), "byPhase": phases}
        out["resourceVersion"] = rv
    return out
