"""Admin switches: pairing mode (unknown devices may enroll while it is on)."""

from __future__ import annotations

from fastapi import APIRouter

from wasmbed.api.deps import Ctx
from wasmbed.api.models import PairingRequest

router = APIRouter(tags=["admin"])


@router.get("/admin/pairing-mode")
async def get_pairing(ctx: Ctx) -> dict[str, object]:
    return ctx.pairing.as_dict()


@router.put("/admin/pairing-mode")
async def set_pairing(ctx: Ctx, body: PairingRequest) -> dict[str, object]:
    ctx.pairing.set(body.enabled, body.timeoutSeconds)
    return ctx.pairing.as_dict()
