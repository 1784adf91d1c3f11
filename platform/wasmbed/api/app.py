"""The API server's ASGI application: the routers (one per resource), the request guard in
front of them, and the dashboard at /. Resources are returned as stored
(Kubernetes-shaped); module bytes never appear in lists or watches."""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from wasmbed import __version__, httperrors
from wasmbed.api.compiling import compile_router
from wasmbed.api.context import ApiContext
from wasmbed.api.emulated_boards import BoardManager, boards_router
from wasmbed.api.routes import (
    admin,
    applications,
    devices,
    gateway_protocol,
    gateways,
    status,
    watch,
)
from wasmbed.credentials import Principal
from wasmbed.paths import dashboard_dir
from wasmbed.request_guard import BodyLimit, KiB, MiB, RequestGuard

# Body limits per route (docs/SECURITY.md lists them); everything else: 64 KiB.
BODY_LIMITS = [BodyLimit("POST", r"/api/v1/applications", 2 * MiB),  # a 1 MiB module, base64
               BodyLimit("POST", r"/api/v1/compile", 640 * KiB),  # 256 KiB of source, escaped
               BodyLimit("POST", r"/api/v1/gateways/[^/]+/reports", 4 * MiB)]
_GATEWAY_ROUTES = [(m, re.compile(p)) for m, p in gateway_protocol.GATEWAY_ROUTES]


def allowed(principal: Principal, method: str, path: str) -> str | None:
    """Admins may call every route but the gateway protocol's; a gateway only those."""
    gateway_route = any(m == method and p.fullmatch(path) for m, p in _GATEWAY_ROUTES)
    if principal.is_admin:
        return None if not gateway_route else (
            "gateway-protocol routes take a gateway's own credential, not the admin token "
            "(issue one: POST /api/v1/gateways/{name}/credentials)")
    return None if gateway_route else "a gateway credential opens only the gateway protocol"


def build_app() -> FastAPI:
    """The application without a context: routes find theirs in `app.state` (`ctx`, and
    `boards` for emulated boards), so an app can be built before the server it serves is
    (see `prebuild`). Use `new_app` to get one bound to a context."""
    app = FastAPI(title="Wasmbed API", version=__version__,
                  description="Devices, applications and gateways of a Wasmbed fleet. "
                              "Every /api route needs `Authorization: Bearer <token>`: the "
                              "admin token, or for the gateway-protocol routes a gateway's "
                              "own credential.")
    app.state.ctx = None
    app.state.boards = None
    httperrors.install(app)

    @app.get("/health", tags=["health"])
    async def health() -> dict[str, str]:
        """Liveness probe; the only route without auth (it reveals nothing)."""
        return {"status": "ok"}

    api = APIRouter(prefix="/api/v1",
                    responses=httperrors.error_responses(400, 401, 403, 404, 409, 410, 413,
                                                         422, 501))
    for module in (status, devices, applications, gateways, gateway_protocol, admin):
        api.include_router(module.router)
    api.include_router(compile_router())
    api.include_router(boards_router())
    app.include_router(api)
    app.include_router(watch.router)
    _document_bearer_auth(app)
    _serve_dashboard(app)

    def authenticate(token: str | None) -> Principal | None:
        ctx: ApiContext = app.state.ctx
        return ctx.credentials.principal(token)

    app.add_middleware(RequestGuard,  # type: ignore[arg-type]
                       authenticate=authenticate,
                       protected=lambda path: path.startswith("/api/"),
                       allowed=allowed, limits=BODY_LIMITS)
    return app


# Apps built ahead of need, each used once. Building one costs ~0.13 s, and its first
# requests another ~0.13 s (FastAPI makes a pydantic adapter per route parameter, part of
# them lazily); the fork server that starts test services builds
# one while it warms up (wasmbed.warm), so a forked API server starts without that cost.
_prebuilt: list[FastAPI] = []


def prebuild() -> None:
    app = build_app()
    app.openapi()  # FastAPI prepares each route on first use; this walks them all now
    _prebuilt.append(app)


def new_app(ctx: ApiContext, boards: BoardManager | None = None) -> FastAPI:
    """An app serving `ctx` (and emulated `boards`): a prebuilt one if there is one."""
    app = _prebuilt.pop() if _prebuilt else build_app()
    app.state.ctx = ctx
    app.state.boards = boards
    return app


def release(app: FastAPI) -> None:
    """Hand back the app of a server that is done, for the next `new_app` in this process
    (in-process test servers: the app holds nothing of its server but what `new_app` set,
    and no route or middleware changes after `build_app`)."""
    app.state.ctx = None
    app.state.boards = None
    _prebuilt.append(app)


def _document_bearer_auth(app: FastAPI) -> None:
    """The OpenAPI document says every /api route takes a bearer token (the RequestGuard
    enforces it before any body is read)."""
    original = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        doc = original()
        doc.setdefault("components", {}).setdefault("securitySchemes", {})["bearer"] = {
            "type": "http", "scheme": "bearer"}
        for path, ops in doc.get("paths", {}).items():
            if path.startswith("/api/"):
                for op in ops.values():
                    op["security"] = [{"bearer": []}]
        return doc

    app.openapi = openapi  # type: ignore[method-assign]


def _serve_dashboard(app: FastAPI) -> None:
    """The dashboard's built assets at / (after every API route, so they win)."""
    dist = dashboard_dir()
    if dist is not None:
        app.mount("/", StaticFiles(directory=dist, html=True), name="dashboard")
        return

    @app.get("/", include_in_schema=False)
    async def not_built() -> HTMLResponse:
        return HTMLResponse("<h1>Wasmbed API</h1><p>The dashboard is not built here: run "
                            "<code>./run setup</code> (needs Node.js and npm), or use the "
                            "API at <a href='/docs'>/docs</a>.</p>")
