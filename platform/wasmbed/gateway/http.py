"""The gateway's HTTP API: how the API server drives a gateway, and how operators probe it."""

from __future__ import annotations

import time

from fastapi import FastAPI
from fastapi.responses import PlainTextResponse
from prometheus_client import generate_latest
from pydantic import BaseModel, Field

from wasmbed import httperrors
from wasmbed.gateway.server import Gateway
from wasmbed.httperrors import api_error
from wasmbed.modules import check_module
from wasmbed.serving import BearerAuth


class DeployRequest(BaseModel):
    app: str
    moduleId: str = Field(max_length=64)
    wasm: str = Field(description="module bytes, base64")
    sha256: str = Field(description="hex sha256 of the module bytes")
    entry: str = "run"
    memoryLimit: int = Field(ge=0)
    fuelLimit: int = Field(ge=0)


def build_app(gw: Gateway, token: str) -> FastAPI:
    auth = BearerAuth(token).dependency()
    app = FastAPI(title=f"Wasmbed gateway {gw.config.name}", version="v1")
    httperrors.install(app)

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/ready")
    async def ready() -> dict[str, object]:
        if gw.tls is None:
            raise api_error(503, "NotReady", "no trust loaded", "is the API server reachable?")
        return {"status": "ready", "sessions": len(gw.sessions)}

    @app.get("/metrics", dependencies=[auth], response_class=PlainTextResponse)
    async def metrics() -> str:
        return generate_latest(gw.metrics.registry).decode()

    @app.get("/api/v1/devices", dependencies=[auth])
    async def devices() -> dict[str, object]:
        now = time.monotonic()
        return {"gateway": gw.config.name, "items": [
            {"device": s.device_id, "address": s.address, "connectedAt": s.connected_at,
             "secondsSinceHeartbeat": round(now - s.last_heartbeat, 3),
             "certSerial": str(s.serial)}
            for s in gw.sessions.values()
        ]}

    @app.post("/api/v1/devices/{device}/deploy", dependencies=[auth], status_code=202)
    async def deploy(device: str, req: DeployRequest) -> dict[str, object]:
        module = check_module(req.wasm, req.sha256)
        queued = gw.cache.enqueue_deploy(device, req.app, req.moduleId, module.wasm,
                                         bytes.fromhex(module.sha256), req.entry,
                                         req.memoryLimit, req.fuelLimit)
        gw.notify_ops(device)
        return {"queued": queued, "connected": device in gw.sessions}

    @app.post("/api/v1/devices/{device}/stop/{module_id}", dependencies=[auth],
              status_code=202)
    async def stop(device: str, module_id: str, app_name: str = "") -> dict[str, object]:
        gw.cache.enqueue_stop(device, app_name, module_id)
        gw.notify_ops(device)
        return {"queued": True, "connected": device in gw.sessions}

    @app.post("/api/v1/pki/refresh", dependencies=[auth], status_code=202)
    async def refresh() -> dict[str, bool]:
        gw.request_trust_refresh()
        return {"scheduled": True}

    return app
