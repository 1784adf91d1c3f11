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
from wasmbed.resources import app_of_module, generation
from wasmbed.store import NotFound, Store
from wasmbed.timeutil import iso

OUTPUTS_KEPT = 100


async def apply_reports(store: Store, gateway: str, events: list[Report]) -> int:
    # heartbeats are idempotent snapshots: only the latest per device in a batch matters
    last_beat = {e.device: i for i, e in enumerate(events) if isinstance(e, HeartbeatSeen)}
    applied = 0
    async with store.batch():  # hundreds of small writes: committed together
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
            opened = ((dev.get("status") or {}).get("connection") or {}).get("since") or at
            await _forget_lost_modules(store, e.device, set(running), at,
                                       opened=opened if previous is None else None)
    elif isinstance(e, SessionEnded):
        dev = await store.get("Device", e.device)
        conn = (dev.get("status") or {}).get("connection") or {}
        if conn.get("gateway") == gateway:  # a newer session elsewhere wins
            await store.patch_status("Device", e.device, {
                "connection": {"connected": False, "reason": e.reason, "since": at},
                "connectedSince": None})
    else:
        await _apply_app(store, e, at)


async def _forget_lost_modules(store: Store, device: str, running: set[str], at: str,
                               opened: str | None) -> None:
    """A device that no longer runs a module it said was running (it lost power, say): the
    fact is recorded as lost, and the application controller deploys the module again, so
    the API never shows Running for a module that is not running. In the first heartbeat of
    a session (`opened`: when it opened; None later on), a module still being deployed counts too:
    power lost after the gateway delivered it and before it ran, nobody would send it
    again. Not one the gateway said it deploys in this very session: that is a delivery
    cut short, which the gateway resumes (delivered once more, it ran twice)."""
    apps, _ = await store.list("Application")
    for app in apps:
        facts = ((app.get("status") or {}).get("moduleReports") or {}).get(device)
        if not facts or facts.get("moduleId") in running:
            continue
        state = facts.get("state")
        if state == "RUNNING" or (state == "DEPLOYING" and opened is not None and
                                  (facts.get("at") or "") < opened):
            await store.patch_status("Application", app["metadata"]["name"], {
                "moduleReports": {device: {**facts, "state": None, "lost": True,
                                           "outputs": [], "at": at}}})


async def _apply_app(store: Store, e: ModuleState | ModuleOutput, at: str) -> None:
    """The device's facts about a module, kept on its application (status.moduleReports,
    per device); the application controller alone turns them into deviceStatuses."""
    app = await store.get("Application", app_of_module(e.moduleId))
    reports = (app.get("status") or {}).get("moduleReports") or {}
    facts = dict(reports.get(e.device) or {})
    if facts.get("moduleId") != e.moduleId:
        if facts and generation(facts["moduleId"]) > generation(e.moduleId):
            return  # late news of a module the device has since replaced
        facts = {"moduleId": e.moduleId, "state": None, "outputs": []}
    if isinstance(e, ModuleState):
        facts.update(state=e.state, error=e.error, at=at, lost=False)
    else:
        outputs = list(facts.get("outputs") or [])
        if any(o.get("seq") == e.seq for o in outputs):
            return  # re-sent after a reconnect
        record: dict[str, Any] = {"seq": e.seq, "kind": OutputKind(e.kind).name.lower(),
                                  "at": at}
        if e.text is not None:
            record["text"] = e.text
        if e.value is not None:
            record["value"] = e.value
        outputs.append(record)
        facts["outputs"] = outputs[-OUTPUTS_KEPT:]
    await store.patch_status("Application", app["metadata"]["name"],
                             {"moduleReports": {e.device: facts}})
