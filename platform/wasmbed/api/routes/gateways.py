"""Gateways as resources (what operators see and declare), and their credentials."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from wasmbed.api import gateway_registry
from wasmbed.api.deps import Ctx
from wasmbed.api.models import GatewayCreate, ResourceName
from wasmbed.store import new_resource

router = APIRouter(tags=["gateways"])


@router.get("/gateways")
async def list_gateways(ctx: Ctx) -> dict[str, Any]:
    items, rv = await ctx.store.list("Gateway")
    return {"items": items, "resourceVersion": rv}


@router.post("/gateways", status_code=201)
async def create_gateway(ctx: Ctx, body: GatewayCreate) -> dict[str, Any]:
    """Declare a gateway ahead of time; it fills in its endpoints when it registers."""
    spec = {"region": body.region, "maxDevices": body.maxDevices}
    created = await ctx.store.create(new_resource("Gateway", body.name, spec, body.labels))
    return await ctx.store.patch_status("Gateway", created["metadata"]["name"],
                                        {"phase": "Pending"})


@router.get("/gateways/{name}")
async def get_gateway(ctx: Ctx, name: ResourceName) -> dict[str, Any]:
    return await ctx.store.get("Gateway", name)


@router.get("/gateways/{name}/devices")
async def gateway_devices(ctx: Ctx, name: ResourceName) -> dict[str, Any]:
    """Devices connected to this gateway now."""
    await ctx.store.get("Gateway", name)
    items, _ = await ctx.store.list("Device")
    held = [d for d in items if ((d.get("status") or {}).get("connection") or {}).get(
        "gateway") == name and d["status"]["connection"].get("connected")]
    return {"items": held}


@router.get("/gateways/{name}/health")
async def gateway_health(ctx: Ctx, name: ResourceName) -> dict[str, Any]:
    """The gateway's phase (from its reports) and whether it answers right now."""
    return await gateway_registry.health(ctx, name)


@router.delete("/gateways/{name}")
async def delete_gateway(ctx: Ctx, name: ResourceName) -> dict[str, Any]:
    """Forget the gateway's resource. A gateway still running registers again (its
    credential stays valid until the gateway key is rotated)."""
    await ctx.store.delete("Gateway", name)
    return {"deleted": name}


@router.post("/gateways/{name}/credentials", status_code=201)
async def gateway_credentials(ctx: Ctx, name: ResourceName) -> dict[str, str]:
    """The bearer token gateway `name` uses towards the API (`wasmbed gateway
    --token-file`). It opens only that gateway's protocol routes."""
    return {"gateway": name, "token": ctx.credentials.gateways.token(name)}
