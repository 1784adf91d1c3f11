"""Devices: register by public key, read, revoke, delete, recent events."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query

from wasmbed.api.deps import Ctx
from wasmbed.api.enrollment import KeyError_, normalize_public_key, register_device, revoke_device
from wasmbed.api.models import DeviceCreate, LabelsChange, ResourceName
from wasmbed.httperrors import api_error
from wasmbed.names import check_labels
from wasmbed.store import Conflict

router = APIRouter(tags=["devices"])


@router.get("/devices")
async def list_devices(ctx: Ctx, labelSelector: str | None = Query(None, max_length=1024)) \
        -> dict[str, Any]:
    items, rv = await ctx.store.list("Device", labelSelector)
    return {"items": items, "resourceVersion": rv}


@router.post("/devices", status_code=201)
async def create_device(ctx: Ctx, body: DeviceCreate) -> dict[str, Any]:
    der = None
    if body.publicKey:
        try:
            der = normalize_public_key(body.publicKey)
        except KeyError_ as exc:
            raise api_error(422, "InvalidPublicKey", str(exc),
                            "give the device's SPKI DER (base64) or a PEM public key") from exc
    return await register_device(ctx, body.name, body.board, der, body.labels,
                                 device_type=body.deviceType, architecture=body.architecture,
                                 preferred_gateway=body.preferredGateway)


@router.get("/devices/{name}")
async def get_device(ctx: Ctx, name: ResourceName) -> dict[str, Any]:
    return await ctx.store.get("Device", name)


@router.delete("/devices/{name}")
async def delete_device(ctx: Ctx, name: ResourceName) -> dict[str, Any]:
    """Deleting a device also revokes its certificates: it cannot connect again."""
    await revoke_device(ctx, name, "deleted")
    await ctx.store.delete("Device", name)
    return {"deleted": name}


@router.patch("/devices/{name}/labels")
async def change_labels(ctx: Ctx, name: ResourceName, body: LabelsChange) -> dict[str, Any]:
    """Set and remove labels; applications whose selector now matches deploy to it."""
    for _ in range(5):  # optimistic concurrency: a status write may race us
        device = await ctx.store.get("Device", name)
        labels = dict(device["metadata"].get("labels") or {})
        labels.update(body.set)
        for key in body.remove:
            labels.pop(key, None)
        try:
            check_labels(labels)
        except ValueError as exc:
            raise api_error(422, "InvalidLabels", str(exc), "remove some labels first") \
                from exc
        device["metadata"]["labels"] = labels
        try:
            return await ctx.store.update(device)
        except Conflict:
            continue
    raise api_error(409, "Conflict", f"device {name} kept changing; try again")


@router.get("/devices/{name}/events")
async def device_events(ctx: Ctx, name: ResourceName,
                        limit: int = Query(100, ge=1, le=1000)) -> dict[str, Any]:
    """The device's recent events (enrollment, sessions, module states, outputs), oldest
    first; kept in memory by this API server (a restart starts afresh)."""
    await ctx.store.get("Device", name)
    return {"items": ctx.events.list(name, limit)}


@router.post("/devices/{name}/revoke")
async def revoke(ctx: Ctx, name: ResourceName) -> dict[str, Any]:
    """Revoke the device's certificates; its sessions are cut at the next CRL refresh."""
    return await revoke_device(ctx, name, "revoked by operator")
