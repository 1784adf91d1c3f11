"""The gateway's HTTP API: how the control plane drives a gateway, and how operators probe it.

Only the control plane calls it, with this gateway's own credential (the same token the
gateway presents to the API). `/health` and `/ready` are open probes that reveal nothing.
"""

from __future__ import annotations

import secrets
import time

from fastapi import FastAPI
from fastapi.responses import PlainTextResponse
from prometheus_client import generate_latest
from pydantic import BaseModel, Field

from wasmbed import httperrors
from wasmbed.credentials import Principal
from wasmbed.gateway.server import Gateway
from wasmbed.httperrors import api_error
from wasmbed.modules import check_module
from wasmbed.names import ResourceName
from wasmbed.request_guard import BodyLimit, MiB, RequestGuard

CONTROL_PLANE = Principal("controlplane")
BODY_LIMITS = [BodyLimit("POST", r"/api/v1/devices/[^/]+/deploy", 2 * MiB)]


class DeployRequest(BaseModel):
    app: str = Field(max_length=63)
    moduleId: str = Field(max_length=64)
    wasm: str = Field(description="module bytes, base64")
    sha256: str = Field(max_length=64, description="hex sha256 of the module bytes")
    entry: str = Field("run", max_length=64)
    memoryLimit: int = Field(ge=0, le=2**32 - 1)
    fuelLimit: int = Field(ge=0, le=2**64 - 1)


def build_gateway_app(gw: Gateway, token: str) -> FastAPI:
    app = FastAPI(title=f"Wasmbed gateway {gw.config.name}", version="v1")
    httperrors.install(app)

    def authenticate(given: str | None) -> Principal | None:
        ok = given is not None and secrets.compare_digest(given.encode(), token.encode())
        return CONTROL_PLANE if ok else None

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/ready")
    async def ready() -> dict[str, object]:
        if gw.tls is None:
            raise api_error(503, "NotReady", "no trust loaded", "is the API server reachable?")
        return {"status": "ready", "sessions": len(gw.sessions)}

    @app.get("/metrics", response_class=PlainTextResponse)
    async def metrics() -> str:
        return generate_latest(gw.metrics.registry).decode()

    @app.get("/api/v1/identity")
    async def identity() -> dict[str, str]:
        """Which gateway this is (the API checks a registered endpoint with it)."""
        return {"name": gw.config.name}

    @app.get("/api/v1/devices")
    async def devices() -> dict[str, object]:
        now = time.monotonic()
        return {"gateway": gw.config.name, "items": [
            {"device": s.device_id, "address": s.address, "connectedAt": s.connected_at,
             "secondsSinceHeartbeat": round(now - s.last_heartbeat, 3),
             "certSerial": str(s.serial)}
            for s in gw.sessions.values()
        ]}

    @app.post("/api/v1/devices/{device}/deploy", status_code=202)
    async def deploy(device: ResourceName, req: DeployRequest) -> dict[str, object]:
        module = check_module(req.wasm, req.sha256)
        queued = gw.cache.enqueue_deploy(device, req.app, req.moduleId, module.wasm,
                                         bytes.fromhex(module.sha256), req.entry,
                                         req.memoryLimit, req.fuelLimit)
        gw.notify_ops(device)
        return {"queued": queued, "connected": device in gw.sessions}

    @app.post("/api/v1/devices/{device}/stop/{module_id}", status_code=202)
    async def stop(device: ResourceName, module_id: str, app_name: str = "") \
            -> dict[str, object]:
        gw.cache.enqueue_stop(device, app_name, module_id)
        gw.notify_ops(device)
        return {"queued": True, "connected": device in gw.sessions}

    @app.post("/api/v1/pki/refresh", status_code=202)
    async def refresh() -> dict[str, bool]:
        gw.request_trust_refresh()
        return {"scheduled": True}

    app.add_middleware(RequestGuard,  # type: ignore[arg-type]
                       authenticate=authenticate,
                       protected=lambda path: path.startswith("/api/") or path == "/metrics",
                       allowed=lambda principal, method, path: None, limits=BODY_LIMITS)
    return app
