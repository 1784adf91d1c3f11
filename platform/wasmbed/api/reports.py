"""Applies a gateway's batch of reports to the store, in order.

Reports are facts observed on the real path (a session opened, a heartbeat arrived, a
module reported Running); controllers derive phases from them.
"""

from __future__ import annotations

import time
from typing import Any

from wasmbed.protocol import OutputKind
from wasmbed.reports import (
    GatewayStatus,
    HeartbeatSeen,
    ModuleOutput,
    ModuleState,
    Report,
    SessionEnded,
    SessionOpened,
)
from wasmbed.resources import APP_PHASES, app_of_module, merge_entry
from wasmbed.store import NotFound, Store
from wasmbed.timeutil import iso

OUTPUTS_KEPT = 100


async def apply_reports(store: Store, gateway: str, events: list[Report]) -> int:
    # heartbeats are idempotent snapshots: only the latest per device in a batch matters
    last_beat = {e.device: i for i, e in enumerate(events) if isinstance(e, HeartbeatSeen)}
    applied = 0
    for i, event in enumerate(events):
        if isinstance(event, HeartbeatSeen) and last_beat.get(event.device) != i:
            continue
        try:
            await _apply(store, gateway, event)
            applied += 1
        except NotFound:
            continue  # the resource was deleted meanwhile: the fact no longer matters
    return applied


MAX_CLOCK_SKEW_S = 30.0


async def _apply(store: Store, gateway: str, e: Report) -> None:
    # A gateway's clock is not trusted beyond a little skew: a gateway living in the future
    # would otherwise keep its devices "fresh" for ever. Its skew is reported instead.
    now = time.time()
    at = iso(e.at if abs(e.at - now) <= MAX_CLOCK_SKEW_S else now)
    if isinstance(e, GatewayStatus):
        skew = round(e.at - now, 1)
        await store.patch_status("Gateway", gateway, {
            "lastHeartbeat": at, "connectedDevices": e.connectedDevices,
            "pendingOperations": e.pendingOps,
            "clockSkewSeconds": skew if abs(skew) > MAX_CLOCK_SKEW_S else 0})
    elif isinstance(e, SessionOpened):
        gw = await store.get("Gateway", gateway)
        await store.patch_status("Device", e.device, {
            "connection": {"connected": True, "gateway": gateway, "since": at,
                           "timeoutS": e.timeoutS, "address": e.address, "reason": None},
            "gateway": {"name": gateway, "endpoint": gw["spec"].get("tlsEndpoint"),
                        "connectedAt": at},
            "connectedSince": at, "lastHeartbeat": at,
            "firmwareVersion": e.firmware,
            "heartbeat": {"runningApps": None},  # the first beat of a session is compared
        })
    elif isinstance(e, HeartbeatSeen):
        dev = await store.get("Device", e.device)
        running = list(e.runningApps)
        previous = ((dev.get("status") or {}).get("heartbeat") or {}).get("runningApps")
        await store.patch_status("Device", e.device, {
            "lastHeartbeat": at,
            "heartbeat": {"uptimeMs": e.uptimeMs, "freeMemory": e.freeMemory,
                          "runningApps": running}})
        if previous != running:
            await _forget_lost_modules(store, e.device, set(running), at)
    elif isinstance(e, SessionEnded):
        dev = await store.get("Device", e.device)
        conn = (dev.get("status") or {}).get("connection") or {}
        if conn.get("gateway") == gateway:  # a newer session elsewhere wins
            await store.patch_status("Device", e.device, {
                "connection": {"connected": False, "reason": e.reason, "since": at},
                "connectedSince": None})
    else:
        await _apply_app(store, e, at)


async def _forget_lost_modules(store: Store, device: str, running: set[str], at: str) -> None:
    """A device that no longer runs a module we believe Running (it lost power, say) gets
    that entry back to Pending, so the application controller deploys it again: the API
    never shows Running for a module that is not running."""
    apps, _ = await store.list("Application")
    for app in apps:
        entry = ((app.get("status") or {}).get("deviceStatuses") or {}).get(device)
        if entry and entry.get("phase") == "Running" and entry.get("moduleId") not in running:
            await store.patch_status("Application", app["metadata"]["name"], {
                "deviceStatuses": {device: {
                    "phase": "Pending", "updatedAt": at,
                    "error": "the device no longer runs it (restarted?); deploying again"}}})


async def _apply_app(store: Store, e: ModuleState | ModuleOutput, at: str) -> None:
    app = await store.get("Application", app_of_module(e.moduleId))
    status = app.get("status") or {}
    entries = dict(status.get("deviceStatuses") or {})
    current = entries.get(e.device)
    if current is None or current.get("moduleId") != e.moduleId:
        return  # a report about a generation or device this app no longer targets
    if isinstance(e, ModuleState):
        update = dict(current, phase=APP_PHASES[e.state], error=e.error, updatedAt=at)
        entries[e.device] = merge_entry(current, update)
    else:
        outputs = list(current.get("outputs") or [])
        if any(o.get("seq") == e.seq for o in outputs):
            return  # re-sent after a reconnect
        record: dict[str, Any] = {"seq": e.seq, "kind": OutputKind(e.kind).name.lower(),
                                  "at": at}
        if e.text is not None:
            record["text"] = e.text
        if e.value is not None:
            record["value"] = e.value
        outputs.append(record)
        entries[e.device] = dict(current, outputs=outputs[-OUTPUTS_KEPT:])
    await store.patch_status("Application", app["metadata"]["name"],
                             {"deviceStatuses": {e.device: entries[e.device]}})
