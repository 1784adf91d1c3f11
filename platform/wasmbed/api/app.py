"""Routes of the API server. Resources are returned as stored (Kubernetes-shaped)."""

from __future__ import annotations

import asyncio
import base64
import json
from typing import Any

from fastapi import APIRouter, FastAPI, Query, WebSocket, WebSocketDisconnect
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from wasmbed import __version__, httperrors
from wasmbed.aio import cancel_and_wait
from wasmbed.api.boards import BoardManager, boards_router
from wasmbed.api.compiling import compile_or_fail, compile_router
from wasmbed.api.context import ApiContext
from wasmbed.api.enrollment import (
    KeyError_,
    enroll,
    normalize_public_key,
    register_device,
    revoke_device,
)
from wasmbed.api.models import (
    ApplicationCreate,
    DeviceCreate,
    EnrollmentRequest,
    GatewayCreate,
    GatewayRegistration,
    PairingRequest,
    Reports,
)
from wasmbed.api.reports import apply_reports
from wasmbed.controllers.application import FINALIZER
from wasmbed.httperrors import api_error, error_responses
from wasmbed.modules import check_module
from wasmbed.paths import REPO
from wasmbed.serving import BearerAuth
from wasmbed.store import KINDS, Conflict, Gone, NotFound, new_resource
from wasmbed.store.selectors import LabelSelector
from wasmbed.timeutil import iso, parse_iso

PLURALS = {"devices": "Device", "applications": "Application", "gateways": "Gateway"}


def build_app(ctx: ApiContext, boards: BoardManager | None = None) -> FastAPI:
    bearer = BearerAuth(ctx.token)
    app = FastAPI(title="Wasmbed API", version=__version__,
                  description="Devices, applications and gateways of a Wasmbed fleet. "
                              "Every /api route needs `Authorization: Bearer <token>`.")
    httperrors.install(app)
    api = APIRouter(prefix="/api/v1", dependencies=[bearer.dependency()],
                    responses=error_responses(400, 401, 404, 409, 410, 422, 501))

    @app.get("/health", tags=["health"])
    async def health() -> dict[str, str]:
        """Liveness probe; the only route without auth (it reveals nothing)."""
        return {"status": "ok"}

    # --- status -------------------------------------------------------------------------

    @api.get("/status", tags=["status"])
    async def status() -> dict[str, Any]:
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

    # --- devices ------------------------------------------------------------------------

    @api.get("/devices", tags=["devices"])
    async def list_devices(labelSelector: str | None = None) -> dict[str, Any]:
        items, rv = await ctx.store.list("Device", labelSelector)
        return {"items": items, "resourceVersion": rv}

    @api.post("/devices", tags=["devices"], status_code=201)
    async def create_device(body: DeviceCreate) -> dict[str, Any]:
        der = None
        if body.publicKey:
            try:
                der = normalize_public_key(body.publicKey)
            except KeyError_ as exc:
                raise api_error(422, "InvalidPublicKey", str(exc),
                                "give the device's SPKI DER (base64) or a PEM public key") \
                    from exc
        return await register_device(ctx, body.name, body.board, der, body.labels,
                                     device_type=body.deviceType,
                                     architecture=body.architecture,
                                     preferred_gateway=body.preferredGateway)

    @api.get("/devices/{name}", tags=["devices"])
    async def get_device(name: str) -> dict[str, Any]:
        return await ctx.store.get("Device", name)

    @api.delete("/devices/{name}", tags=["devices"])
    async def delete_device(name: str) -> dict[str, Any]:
        """Deleting a device also revokes its certificates: it cannot connect again."""
        await revoke_device(ctx, name, "deleted")
        await ctx.store.delete("Device", name)
        return {"deleted": name}

    @api.get("/devices/{name}/events", tags=["devices"])
    async def device_events(name: str, limit: int = Query(100, ge=1, le=1000)) \
            -> dict[str, Any]:
        """The device's recent events (enrollment, sessions, module states, outputs), oldest
        first; kept in memory by this API server (a restart starts afresh)."""
        await ctx.store.get("Device", name)
        return {"items": ctx.events.list(name, limit)}

    @api.post("/devices/{name}/revoke", tags=["devices"])
    async def revoke(name: str) -> dict[str, Any]:
        """Revoke the device's certificates; its sessions are cut at the next CRL refresh."""
        return await revoke_device(ctx, name, "revoked by operator")

    # --- applications -------------------------------------------------------------------

    @api.get("/applications", tags=["applications"])
    async def list_apps(labelSelector: str | None = None) -> dict[str, Any]:
        items, rv = await ctx.store.list("Application", labelSelector)
        return {"items": [_slim(i) for i in items], "resourceVersion": rv}

    @api.post("/applications", tags=["applications"], status_code=201)
    async def create_app(body: ApplicationCreate) -> dict[str, Any]:
        """From a built module (wasmBytes, base64) or from source (compiled here first)."""
        if (body.wasmBytes is None) == (body.source is None):
            raise api_error(422, "Invalid", "give exactly one of wasmBytes and source",
                            "wasmBytes: a built module, base64; source: {language, code}")
        if body.targetDevices.selector:
            LabelSelector.parse(body.targetDevices.selector)  # 400 now, not a silent no-op
        wasm_b64 = body.wasmBytes
        if body.source is not None:
            wasm, _ = await compile_or_fail(body.source.language, body.source.code,
                                            body.entry)
            wasm_b64 = base64.b64encode(wasm).decode()
        assert wasm_b64 is not None
        digest = check_module(wasm_b64, body.sha256).sha256
        spec = body.model_dump(exclude={"name", "labels", "source"})
        spec["wasmBytes"] = wasm_b64
        spec["sha256"] = digest
        spec["name"] = body.name
        obj = new_resource("Application", body.name, spec, body.labels)
        obj["metadata"]["finalizers"] = [FINALIZER]
        created = await ctx.store.create(obj)
        return _slim(await ctx.store.patch_status("Application", created["metadata"]["name"],
                                                  {"phase": "Creating"}))

    @api.get("/applications/{name}", tags=["applications"])
    async def get_app(name: str, includeWasm: bool = False) -> dict[str, Any]:
        obj = await ctx.store.get("Application", name)
        return obj if includeWasm else _slim(obj)

    @api.get("/applications/{name}/outputs", tags=["applications"])
    async def app_outputs(name: str, device: str | None = None) -> dict[str, Any]:
        """What the module reported on each device (logs, values, result)."""
        obj = await ctx.store.get("Application", name)
        entries = (obj.get("status") or {}).get("deviceStatuses") or {}
        if device is not None and device not in entries:
            raise api_error(404, "NotFound", f"{name} does not target device {device!r}",
                            f"devices it targets: {', '.join(sorted(entries)) or 'none yet'}")
        return {"items": {d: e.get("outputs") or [] for d, e in entries.items()
                          if device is None or d == device}}

    @api.delete("/applications/{name}", tags=["applications"])
    async def delete_app(name: str) -> dict[str, Any]:
        """Stops the module on every device, then removes the application."""
        await ctx.store.delete("Application", name)
        return {"deleting": name}

    async def _set_stopped(name: str, stopped: bool) -> dict[str, Any]:
        for _ in range(5):
            obj = await ctx.store.get("Application", name)
            obj["spec"]["stopped"] = stopped
            try:
                return _slim(await ctx.store.update(obj))
            except Conflict:
                continue
        raise api_error(409, "Conflict", "application kept changing; retry", "retry")

    @api.post("/applications/{name}/stop", tags=["applications"])
    async def stop_app(name: str) -> dict[str, Any]:
        return await _set_stopped(name, True)

    @api.post("/applications/{name}/deploy", tags=["applications"])
    async def deploy_app(name: str) -> dict[str, Any]:
        """Run a stopped application again (a new generation: a fresh deployment)."""
        return await _set_stopped(name, False)

    # --- gateways -----------------------------------------------------------------------

    @api.get("/gateways", tags=["gateways"])
    async def list_gateways() -> dict[str, Any]:
        items, rv = await ctx.store.list("Gateway")
        return {"items": items, "resourceVersion": rv}

    @api.post("/gateways", tags=["gateways"], status_code=201)
    async def create_gateway(body: GatewayCreate) -> dict[str, Any]:
        spec = {"region": body.region, "maxDevices": body.maxDevices}
        created = await ctx.store.create(new_resource("Gateway", body.name, spec, body.labels))
        return await ctx.store.patch_status("Gateway", created["metadata"]["name"],
                                            {"phase": "Pending"})

    @api.get("/gateways/{name}", tags=["gateways"])
    async def get_gateway(name: str) -> dict[str, Any]:
        return await ctx.store.get("Gateway", name)

    @api.get("/gateways/{name}/devices", tags=["gateways"])
    async def gateway_devices(name: str) -> dict[str, Any]:
        """Devices connected to this gateway now."""
        await ctx.store.get("Gateway", name)
        items, _ = await ctx.store.list("Device")
        held = [d for d in items if ((d.get("status") or {}).get("connection") or {}).get(
            "gateway") == name and d["status"]["connection"].get("connected")]
        return {"items": held}

    @api.get("/gateways/{name}/health", tags=["gateways"])
    async def gateway_health(name: str) -> dict[str, Any]:
        """The gateway's phase (from its reports) and whether it answers right now."""
        gw = await ctx.store.get("Gateway", name)
        endpoint = (gw.get("spec") or {}).get("endpoint")
        live = await ctx.gateways.health(endpoint) if endpoint else None
        status = gw.get("status") or {}
        return {"name": name, "phase": status.get("phase", "Pending"),
                "lastHeartbeat": status.get("lastHeartbeat"),
                "connectedDevices": status.get("connectedDevices", 0),
                "reachable": live is not None, "live": live}

    @api.delete("/gateways/{name}", tags=["gateways"])
    async def delete_gateway(name: str) -> dict[str, Any]:
        await ctx.store.delete("Gateway", name)
        return {"deleted": name}

    @api.put("/gateways/{name}/registration", tags=["gateway protocol"])
    async def register_gateway(name: str, body: GatewayRegistration) -> dict[str, Any]:
        """Called by a gateway at start: records its endpoints; devices it held before a
        restart are marked disconnected (they reconnect on their own)."""
        spec = body.model_dump(exclude_none=True)
        try:
            obj = await ctx.store.get("Gateway", name)
            obj["spec"] = {**obj["spec"], **spec}
            obj = await ctx.store.update(obj)
        except NotFound:
            obj = await ctx.store.create(new_resource("Gateway", name, spec))
        devices, _ = await ctx.store.list("Device")
        for dev in devices:
            conn = (dev.get("status") or {}).get("connection") or {}
            since = parse_iso(conn.get("since")) or 0
            if conn.get("gateway") == name and conn.get("connected") and since < body.startedAt:
                await ctx.store.patch_status("Device", dev["metadata"]["name"], {
                    "connection": {"connected": False, "reason": "gateway restarted",
                                   "since": iso()}})
        return await ctx.store.patch_status("Gateway", name, {"lastHeartbeat": iso()})

    @api.post("/gateways/{name}/reports", tags=["gateway protocol"])
    async def reports(name: str, body: Reports) -> dict[str, int]:
        await ctx.store.get("Gateway", name)
        applied = await apply_reports(ctx.store, name, body.events)  # type: ignore[arg-type]
        ctx.events.record_reports(name, body.events)  # type: ignore[arg-type]
        return {"received": len(body.events), "applied": applied}

    @api.post("/enrollments", tags=["gateway protocol"])
    async def enrollments(body: EnrollmentRequest) -> dict[str, Any]:
        result = await enroll(ctx, body)
        if result.get("deviceId"):
            ctx.events.record(result["deviceId"], "enrolled", gateway=body.gateway,
                              board=body.board, firmware=body.firmwareVersion)
        return result

    @api.get("/pki/trust", tags=["gateway protocol"])
    async def trust() -> dict[str, str]:
        factory, platform = ctx.pki.factory, ctx.pki.platform
        return {"factoryCa": factory.cert_pem.decode(), "platformCa": platform.cert_pem.decode(),
                "crl": (factory.crl_pem() + platform.crl_pem()).decode()}

    # --- admin --------------------------------------------------------------------------

    @api.get("/admin/pairing-mode", tags=["admin"])
    async def get_pairing() -> dict[str, object]:
        return ctx.pairing.as_dict()

    @api.put("/admin/pairing-mode", tags=["admin"])
    async def set_pairing(body: PairingRequest) -> dict[str, object]:
        ctx.pairing.set(body.enabled, body.timeoutSeconds)
        return ctx.pairing.as_dict()

    api.include_router(compile_router())
    if boards is not None:
        api.include_router(boards_router(boards))
    app.include_router(api)

    # --- watch --------------------------------------------------------------------------

    async def watch_socket(ws: WebSocket, kinds: str, resourceVersion: str | None) -> None:
        if not bearer.websocket_ok(ws):
            await ws.close(code=4401, reason="missing or wrong token (?token=...)")
            return
        wanted = [PLURALS.get(k.strip(), k.strip()) for k in kinds.split(",") if k.strip()]
        bad = [k for k in wanted if k not in KINDS]
        await ws.accept()
        if bad:
            await ws.send_json({"type": "ERROR", "code": "BadKind",
                                "message": f"unknown kinds {bad}; use devices,applications,"
                                           "gateways"})
            await ws.close(code=4400)
            return
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(maxsize=10_000)

        async def pump(kind: str) -> None:
            since = resourceVersion
            if since is None:
                items, since = await ctx.store.list(kind)
                for item in items:
                    await queue.put({"type": "ADDED", "object": _slim(item)})
            try:
                async for ev in ctx.store.watch(kind, since):
                    await queue.put({"type": ev.type, "object": _slim(ev.object)})
            except Gone as exc:
                await queue.put({"type": "ERROR", "code": "Gone", "message": str(exc)})

        pumps = [asyncio.create_task(pump(k)) for k in wanted]
        try:
            while True:
                await ws.send_text(json.dumps(await queue.get()))
        except (WebSocketDisconnect, RuntimeError):
            pass
        finally:
            await cancel_and_wait(pumps)

    @app.websocket("/api/v1/watch")
    async def watch(ws: WebSocket, kinds: str = Query("devices,applications,gateways"),
                    resourceVersion: str | None = None) -> None:
        """Resource events as JSON: {type: ADDED|MODIFIED|DELETED|ERROR, object}. Give
        resourceVersion to resume; without it you first get every object as ADDED."""
        await watch_socket(ws, kinds, resourceVersion)

    @app.websocket("/ws")
    async def ws_alias(ws: WebSocket, kinds: str = Query("devices,applications,gateways"),
                       resourceVersion: str | None = None) -> None:
        """The seed's /ws path; same stream as /api/v1/watch."""
        await watch_socket(ws, kinds, resourceVersion)

    _serve_dashboard(app)
    return app


DASHBOARD = REPO / "platform" / "dashboard" / "dist"


def _serve_dashboard(app: FastAPI) -> None:
    """The dashboard's built assets at / (after every API route, so they win)."""
    if (DASHBOARD / "index.html").exists():
        app.mount("/", StaticFiles(directory=DASHBOARD, html=True), name="dashboard")
        return

    @app.get("/", include_in_schema=False)
    async def not_built() -> HTMLResponse:
        return HTMLResponse("<h1>Wasmbed API</h1><p>The dashboard is not built here: run "
                            "<code>./run setup</code> (needs Node.js and npm), or use the "
                            "API at <a href='/docs'>/docs</a>.</p>")


def _slim(obj: dict[str, Any]) -> dict[str, Any]:
    """Applications without their module bytes (fetch with includeWasm=true)."""
    if obj.get("kind") != "Application" or "wasmBytes" not in obj.get("spec", {}):
        return obj
    spec = dict(obj["spec"])
    spec["wasmSize"] = len(base64.b64decode(spec.pop("wasmBytes")))
    return {**obj, "spec": spec}
