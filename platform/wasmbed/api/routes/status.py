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
        phases, rv = await ctx.store.count_by_phase(kind)
        out[plural] = {"total": sum(phases.values()), "byPhase": phases}
        out["resourceVersion"] = rv
    return out
