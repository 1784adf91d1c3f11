"""Applications: create (from a module or from source), read, outputs, stop, deploy, delete."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query

from wasmbed.api.applications import create_application, set_stopped, slim
from wasmbed.api.deps import Ctx
from wasmbed.api.models import ApplicationCreate, ResourceName
from wasmbed.httperrors import api_error

router = APIRouter(tags=["applications"])


@router.get("/applications")
async def list_apps(ctx: Ctx, labelSelector: str | None = Query(None, max_length=1024)) \
        -> dict[str, Any]:
    items, rv = await ctx.store.list("Application", labelSelector)
    return {"items": [slim(i) for i in items], "resourceVersion": rv}


@router.post("/applications", status_code=201)
async def create_app(ctx: Ctx, body: ApplicationCreate) -> dict[str, Any]:
    """From a built module (wasmBytes, base64; at most 1 MiB) or from source (compiled here
    first). The module must use only the devices' host functions and export its entry."""
    return await create_application(ctx, body)


@router.get("/applications/{name}")
async def get_app(ctx: Ctx, name: ResourceName, includeWasm: bool = False) -> dict[str, Any]:
    obj = await ctx.store.get("Application", name)
    return obj if includeWasm else slim(obj)


@router.get("/applications/{name}/outputs")
async def app_outputs(ctx: Ctx, name: ResourceName,
                      device: str | None = Query(None, max_length=63)) -> dict[str, Any]:
    """What the module reported on each device (logs, values, result)."""
    obj = await ctx.store.get("Application", name)
    entries = (obj.get("status") or {}).get("deviceStatuses") or {}
    if device is not None and device not in entries:
        raise api_error(404, "NotFound", f"{name} does not target device {device!r}",
                        f"devices it targets: {', '.join(sorted(entries)) or 'none yet'}")
    return {"items": {d: e.get("outputs") or [] for d, e in entries.items()
                      if device is None or d == device}}


@router.delete("/applications/{name}")
async def delete_app(ctx: Ctx, name: ResourceName) -> dict[str, Any]:
    """Stops the module on every device, then removes the application."""
    await ctx.store.delete("Application", name)
    return {"deleting": name}


@router.post("/applications/{name}/stop")
async def stop_app(ctx: Ctx, name: ResourceName) -> dict[str, Any]:
    return await set_stopped(ctx, name, True)


@router.post("/applications/{name}/deploy")
async def deploy_app(ctx: Ctx, name: ResourceName) -> dict[str, Any]:
    """Run a stopped application again (a new generation: a fresh deployment)."""
    return await set_stopped(ctx, name, False)
