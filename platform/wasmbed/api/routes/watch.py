"""The watch stream: resource events over a WebSocket, resumable from a resourceVersion.

It ends when the client goes (a reader notices the close even while no event flows) and
when the server stops (every open watch is closed with 1001, so shutdown never waits on a
browser tab)."""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

from fastapi import APIRouter, Query, WebSocket, WebSocketDisconnect

from wasmbed.aio import cancel_and_wait
from wasmbed.api.applications import slim
from wasmbed.api.context import ApiContext
from wasmbed.api.routes.status import PLURALS
from wasmbed.credentials import bearer_token
from wasmbed.store import KINDS, Gone

router = APIRouter()
KINDS_QUERY = Query("devices,applications,gateways", max_length=200)
RV_QUERY = Query(None, max_length=32, description="resume after this resourceVersion")


async def _refuse(ws: WebSocket, code: str, message: str) -> None:
    await ws.accept()
    await ws.send_json({"type": "ERROR", "code": code, "message": message})
    await ws.close(code=4400)


async def watch_socket(ws: WebSocket, kinds: str, resource_version: str | None) -> None:
    ctx: ApiContext = ws.app.state.ctx
    token = bearer_token(ws.headers.get("authorization")) or ws.query_params.get("token")
    principal = ctx.credentials.principal(token)
    if principal is None or not principal.is_admin:
        await ws.close(code=4401, reason="missing or wrong token (?token=...)")
        return
    wanted = [PLURALS.get(k.strip(), k.strip()) for k in kinds.split(",") if k.strip()]
    if bad := [k for k in wanted if k not in KINDS]:
        await _refuse(ws, "BadKind", f"unknown kinds {bad}; use devices,applications,gateways")
        return
    if resource_version is not None and not resource_version.isdigit():
        await _refuse(ws, "BadResourceVersion",
                      f"resourceVersion {resource_version[:32]!r} is not a resourceVersion; "
                      "give one from a list or an event, or none to start with a full list")
        return
    await ws.accept()
    queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(maxsize=10_000)

    async def pump(kind: str) -> None:
        since = resource_version
        if since is None:
            items, since = await ctx.store.list(kind)
            for item in items:
                await queue.put({"type": "ADDED", "object": slim(item)})
        try:
            async for ev in ctx.store.watch(kind, since):
                await queue.put({"type": ev.type, "object": slim(ev.object)})
        except Gone as exc:
            await queue.put({"type": "ERROR", "code": "Gone", "message": str(exc)})

    async def forward() -> None:
        while True:
            await ws.send_text(json.dumps(await queue.get()))

    async def until_client_leaves() -> None:
        while (await ws.receive())["type"] != "websocket.disconnect":
            pass

    tasks = [asyncio.create_task(pump(k)) for k in wanted]
    serving = [asyncio.create_task(forward()), asyncio.create_task(until_client_leaves())]
    ctx.watches.add(ws)
    try:
        await asyncio.wait(serving, return_when=asyncio.FIRST_COMPLETED)
    except (WebSocketDisconnect, RuntimeError):
        pass
    finally:
        ctx.watches.discard(ws)
        await cancel_and_wait([*tasks, *serving])


async def close_watches(ctx: ApiContext) -> None:
    """At shutdown: say goodbye to every open watch (1001 going away)."""
    for ws in list(ctx.watches):
        with contextlib.suppress(Exception):
            await ws.close(code=1001, reason="server shutting down")


@router.websocket("/api/v1/watch")
async def watch(ws: WebSocket, kinds: str = KINDS_QUERY,
                resourceVersion: str | None = RV_QUERY) -> None:
    """Resource events as JSON: {type: ADDED|MODIFIED|DELETED|ERROR, object}. Give
    resourceVersion to resume; without it you first get every object as ADDED."""
    await watch_socket(ws, kinds, resourceVersion)


@router.websocket("/ws")
async def ws_alias(ws: WebSocket, kinds: str = KINDS_QUERY,
                   resourceVersion: str | None = RV_QUERY) -> None:
    """The seed's /ws path; same stream as /api/v1/watch."""
    await watch_socket(ws, kinds, resourceVersion)
