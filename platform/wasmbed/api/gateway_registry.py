"""Gateways as the API server sees them: registration (with its endpoint checked), what a
gateway restart means for the devices it held, and live health."""

from __future__ import annotations

from typing import Any

from wasmbed.api.context import ApiContext
from wasmbed.api.models import GatewayRegistration
from wasmbed.gateway_client import GatewayRef
from wasmbed.httperrors import api_error
from wasmbed.store import NotFound, Store, new_resource
from wasmbed.timeutil import iso, parse_iso


async def register(ctx: ApiContext, name: str, reg: GatewayRegistration) -> dict[str, Any]:
    """Record a gateway's endpoints. The endpoint must answer, with this gateway's own
    credential, as this gateway: the API will call it with that credential later, so it is
    checked now rather than trusted."""
    answered = await ctx.gateways.identity(GatewayRef(name, reg.endpoint))
    if answered != name:
        raise api_error(422, "EndpointUnverified",
                        f"{reg.endpoint} did not answer as gateway {name!r}"
                        + (f" (it answered {answered!r})" if answered else ""),
                        "register the URL where this gateway's HTTP API listens; its "
                        "/api/v1/identity must answer with the gateway's name")
    spec = reg.model_dump(exclude_none=True)
    try:
        obj = await ctx.store.get("Gateway", name)
        obj["spec"] = {**obj["spec"], **spec}
        await ctx.store.update(obj)
    except NotFound:
        await ctx.store.create(new_resource("Gateway", name, spec))
    await disconnect_devices_of_restarted(ctx.store, name, reg.startedAt)
    return await ctx.store.patch_status("Gateway", name, {"lastHeartbeat": iso()})


async def disconnect_devices_of_restarted(store: Store, gateway: str, started_at: float) \
        -> None:
    """Devices the gateway held before it (re)started lost their sessions with it: they
    are disconnected now (they reconnect on their own)."""
    devices, _ = await store.list("Device")
    for dev in devices:
        conn = (dev.get("status") or {}).get("connection") or {}
        since = parse_iso(conn.get("since")) or 0
        if conn.get("gateway") == gateway and conn.get("connected") and since < started_at:
            await store.patch_status("Device", dev["metadata"]["name"], {
                "connection": {"connected": False, "reason": "gateway restarted",
                               "since": iso()}})


async def health(ctx: ApiContext, name: str) -> dict[str, Any]:
    gw = await ctx.store.get("Gateway", name)
    endpoint = (gw.get("spec") or {}).get("endpoint")
    live = await ctx.gateways.health(GatewayRef(name, endpoint)) if endpoint else None
    status = gw.get("status") or {}
    return {"name": name, "phase": status.get("phase", "Pending"),
            "lastHeartbeat": status.get("lastHeartbeat"),
            "connectedDevices": status.get("connectedDevices", 0),
            "reachable": live is not None, "live": live}
