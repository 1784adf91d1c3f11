"""Applications: resolve target devices (names, label selector, all), push the module to
each target's gateway, track per-device phase from device reports, converge as devices
come and go, stop and clean up on request or deletion.

Per-device phases: Pending, Deploying, Running, Completed, Failed, Stopping, Stopped.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import time
from typing import Any

from wasmbed.controllers.base import Controller, Mapper
from wasmbed.gateway_client import (
    GatewayClient,
    GatewayRef,
    GatewayRefused,
    GatewayUnavailable,
)
from wasmbed.resources import APP_PHASES, FINALIZER, RANK, module_id
from wasmbed.store import NotFound, Store, WatchEvent
from wasmbed.store.selectors import LabelSelector
from wasmbed.timeutil import iso, parse_iso

log = logging.getLogger("wasmbed.controllers.application")
SETTLED = {"Deploying", "Running", "Completed", "Failed", "Stopping", "Stopped"}
ACTIVE = {"Deploying", "Running", "Stopping"}
# A stop the device has not confirmed by then is sent again (it may have reached the gateway
# while the module was still being delivered, and been dropped there as "not running").
STOP_RETRY_S = 10.0
DEFAULT_MEMORY_LIMIT = 64 * 1024
DEFAULT_FUEL_LIMIT = 50_000_000
MISSING = "is not registered"  # in a Failed entry's error: deploy once the device exists
LOST = "the device no longer runs it (restarted?); deploying again"


def merge_reports(entries: dict[str, dict[str, Any]],
                  reports: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The entries the devices' facts (status.moduleReports, written from gateway reports)
    change: per module, a phase only moves forward (a late or repeated report cannot turn
    Running back into Deploying), outputs are the device's; a module the device lost sends
    a Running or Deploying entry back to Pending, to be deployed again. `lostAt` marks the
    loss handled: the entry keeps it while it deploys again, so the same fact cannot send
    it back twice."""
    changed = {}
    for dev, entry in entries.items():
        facts = reports.get(dev)
        if not facts or facts.get("moduleId") != entry.get("moduleId"):
            continue
        new = dict(entry)
        if facts.get("lost") and entry.get("phase") in ("Running", "Deploying") and \
                ("lostAt" not in entry or entry["lostAt"] != facts.get("at")):
            new.update(phase="Pending", error=LOST, lostAt=facts.get("at"))
        elif facts.get("state") in APP_PHASES:
            phase = APP_PHASES[facts["state"]]
            if RANK.get(phase, 0) > RANK.get(entry.get("phase", ""), 0):
                new.update(phase=phase, error=facts.get("error"))
        new["outputs"] = list(facts.get("outputs") or [])
        if new != entry:
            new["updatedAt"] = facts.get("at") or iso()
            changed[dev] = new
    return changed


def aggregate(entries: dict[str, dict[str, Any]], stopped: bool) -> tuple[str, dict[str, int]]:
    phases = [e.get("phase") for e in entries.values()]
    stats = {
        "total": len(phases),
        "deployed": sum(p in ("Running", "Completed") for p in phases),
        "running": phases.count("Running"),
        "completed": phases.count("Completed"),
        "failed": phases.count("Failed"),
        "stopped": phases.count("Stopped"),
        "pending": sum(p in ("Pending", "Deploying") for p in phases),
    }
    if stopped:
        return ("Stopping" if any(p in ACTIVE for p in phases) else "Stopped"), stats
    n = stats["total"]
    if n == 0:
        return "Pending", stats
    if stats["running"] == n:
        return "Running", stats
    if stats["completed"] == n:
        return "Completed", stats
    if stats["failed"] == n:
        return "Failed", stats
    if stats["running"] + stats["completed"] > 0 and stats["pending"] == 0:
        return "PartiallyRunning", stats
    return "Deploying", stats


def deploy_body(app: dict[str, Any]) -> dict[str, Any]:
    """What a gateway is asked to deliver for this application (its deploy request)."""
    spec, config = app["spec"], app["spec"].get("config") or {}
    memory = int(config.get("memoryLimit", DEFAULT_MEMORY_LIMIT))
    if spec.get("memoryBytes") == 0:
        memory = 0  # a module without linear memory needs none, whatever the limit
    return {"app": app["metadata"]["name"], "moduleId": module_id(app),
            "wasm": spec["wasmBytes"],
            "sha256": spec.get("sha256") or hashlib.sha256(
                base64.b64decode(spec["wasmBytes"])).hexdigest(),
            "entry": spec.get("entry", "run"), "memoryLimit": memory,
            "fuelLimit": int(config.get("fuelLimit", DEFAULT_FUEL_LIMIT))}


class ApplicationController(Controller):
    kind = "Application"
    resync_seconds = 10.0

    def __init__(self, store: Store, gateways: GatewayClient) -> None:
        super().__init__(store)
        self.gateways = gateways
        self._device_view: dict[str, tuple[Any, ...]] = {}

    def watches(self) -> list[tuple[str, Mapper]]:
        return [*super().watches(), ("Device", self._device_changed)]

    def _device_changed(self, ev: WatchEvent) -> list[str]:
        """A device matters to applications only when phase, labels or gateway change."""
        meta, status = ev.object["metadata"], ev.object.get("status") or {}
        view = (ev.type == "DELETED", status.get("phase"), tuple(sorted(
            (meta.get("labels") or {}).items())), (status.get("connection") or {}).get("gateway"))
        if self._device_view.get(meta["name"]) == view:
            return []
        self._device_view[meta["name"]] = view
        return ["*"]

    async def reconcile(self, name: str) -> float | None:
        if name == "*":  # fan out a device change to every application
            items, _ = await self.store.list("Application")
            for item in items:
                self.enqueue(item["metadata"]["name"])
            return None
        app = await self.store.get("Application", name)
        status = app.get("status") or {}
        entries = dict(status.get("deviceStatuses") or {})
        for dev, entry in merge_reports(entries, status.get("moduleReports") or {}).items():
            await self._set_entry(app, dev, entry)  # the devices' facts first
            entries[dev] = entry
        devices = {d["metadata"]["name"]: d for d in (await self.store.list("Device"))[0]}
        deleting = bool(app["metadata"].get("deletionTimestamp"))
        targets = set() if deleting else self._targets(app, devices)
        stopped = bool(app["spec"].get("stopped")) or deleting

        for dev in sorted(set(entries) - targets):  # no longer targeted: stop, then forget
            if await self._stop(app, dev, entries[dev], devices.get(dev)):
                await self._set_entry(app, dev, None)
        for dev in sorted(targets):
            entry = entries.get(dev) or {}
            if stopped:
                await self._stop(app, dev, entry, devices.get(dev))
            else:
                await self._deploy(app, dev, entry, devices.get(dev))

        app = await self.store.get("Application", name)
        live = (app.get("status") or {}).get("deviceStatuses") or {}
        if deleting and not live:
            app["metadata"]["finalizers"] = [
                f for f in app["metadata"].get("finalizers", []) if f != FINALIZER]
            await self.store.update(app)
            return None
        return await self._write_status(app, live, stopped)

    async def _set_entry(self, app: dict[str, Any], dev: str,
                         entry: dict[str, Any] | None) -> None:
        """Write one device's entry at once (before acting on it), so a device report
        that arrives while we still work on other devices always finds it."""
        await self.store.patch_status("Application", app["metadata"]["name"],
                                      {"deviceStatuses": {dev: entry}})

    async def _update_entry(self, app: dict[str, Any], dev: str, entry: dict[str, Any],
                            **fields: Any) -> None:
        if any(entry.get(k) != v for k, v in fields.items()):
            await self._set_entry(app, dev, {**fields, "updatedAt": iso()})

    def _targets(self, app: dict[str, Any], devices: dict[str, Any]) -> set[str]:
        spec = app["spec"].get("targetDevices") or {}
        if spec.get("allDevices"):
            return set(devices)
        names = set(spec.get("deviceNames") or [])
        if spec.get("selector"):
            sel = LabelSelector.parse(spec["selector"])
            names |= {n for n, d in devices.items() if sel.matches(d["metadata"].get("labels"))}
        return names

    async def _deploy(self, app: dict[str, Any], dev: str, entry: dict[str, Any],
                      device: dict[str, Any] | None) -> None:
        mid = module_id(app)
        registered_since = device is not None and MISSING in (entry.get("error") or "")
        if entry.get("moduleId") == mid and entry.get("phase") in SETTLED and \
                not registered_since:
            return
        if device is None:  # a name nobody registered: say so, never wait in silence
            await self._update_entry(app, dev, entry, phase="Failed", moduleId=mid,
                                     error=f"device {dev!r} {MISSING}; register it and the "
                                           "application deploys to it")
            return
        dstatus = device.get("status") or {}
        if dstatus.get("phase") != "Connected":
            await self._update_entry(app, dev, entry, phase="Pending", moduleId=mid,
                                     error="waiting for the device to connect (it is "
                                           f"{dstatus.get('phase', 'Pending')})")
            return
        body = deploy_body(app)
        size, memory = len(base64.b64decode(body["wasm"])), body["memoryLimit"]
        caps = dstatus.get("capabilities") or {}
        if caps.get("maxModuleSize") is not None and size > caps["maxModuleSize"]:
            await self._update_entry(app, dev, entry, phase="Failed", moduleId=mid,
                                     error=f"module is {size} bytes; device {dev} accepts at "
                                           f"most {caps['maxModuleSize']} bytes")
            return
        if caps.get("wasmRam") is not None and memory > caps["wasmRam"]:
            await self._update_entry(app, dev, entry, phase="Failed", moduleId=mid,
                                     error=f"memoryLimit {memory} exceeds the {caps['wasmRam']} "
                                           f"bytes of wasm RAM device {dev} advertises")
            return
        gateway = await self._gateway(dstatus)
        if gateway is None:
            await self._update_entry(app, dev, entry, phase="Pending", moduleId=mid,
                                     error="the device's gateway is unknown")
            return
        await self._set_entry(app, dev, {"phase": "Deploying", "moduleId": mid, "error": None,
                                         "gateway": gateway.name, "outputs": [],
                                         "since": iso(), "updatedAt": iso()})
        try:
            await self.gateways.deploy(gateway, dev, body)
        except GatewayRefused as exc:
            await self._set_entry(app, dev, {"phase": "Failed",
                                             "error": f"gateway refused: {exc}"})
        except GatewayUnavailable as exc:
            await self._set_entry(app, dev, {"phase": "Pending",
                                             "error": f"gateway unreachable: {exc}"})

    async def _stop(self, app: dict[str, Any], dev: str, entry: dict[str, Any],
                    device: dict[str, Any] | None) -> bool:
        """Ask the device's gateway to stop the module; True when nothing runs there."""
        if entry.get("phase") not in ACTIVE:
            return True
        if device is None:
            await self._set_entry(app, dev, {"phase": "Stopped"})
            return True
        asked = parse_iso(entry.get("stopRequestedAt")) or 0.0
        if entry.get("stopRequested") == entry.get("moduleId") and \
                time.time() - asked < STOP_RETRY_S:
            return False  # asked recently; the device's report will settle it
        gateway = await self._gateway(device.get("status") or {})
        if gateway is None:
            return False
        try:
            await self.gateways.stop(gateway, dev, entry["moduleId"], app["metadata"]["name"])
        except (GatewayRefused, GatewayUnavailable) as exc:
            await self._set_entry(app, dev, {"error": f"stop not delivered yet: {exc}"})
            return False
        await self._set_entry(app, dev, {"phase": "Stopping",
                                         "stopRequested": entry.get("moduleId"),
                                         "stopRequestedAt": iso()})
        return False

    async def _gateway(self, dstatus: dict[str, Any]) -> GatewayRef | None:
        """The gateway holding the device's session, at the endpoint it registered."""
        name = (dstatus.get("connection") or {}).get("gateway")
        if not name:
            return None
        try:
            gw = await self.store.get("Gateway", name)
        except NotFound:
            return None
        endpoint = (gw.get("spec") or {}).get("endpoint")
        return GatewayRef(name, endpoint) if endpoint else None

    async def _write_status(self, app: dict[str, Any], live: dict[str, dict[str, Any]],
                            stopped: bool) -> float | None:
        phase, stats = aggregate(live, stopped)
        status = app.get("status") or {}
        new = {"phase": phase, "statistics": stats,
               "observedGeneration": app["metadata"]["generation"]}
        if any(status.get(k) != v for k, v in new.items()):
            await self.store.patch_status("Application", app["metadata"]["name"],
                                          {**new, "lastUpdated": iso()})
        waiting = any(e.get("phase") in ("Pending", "Stopping") for e in live.values())
        return 5.0 if waiting else None
