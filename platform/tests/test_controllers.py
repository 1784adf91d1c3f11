"""Controllers: phase rules, and the application controller converging on a real store
(the gateway client is a recording double — this is a unit test of the reconciler)."""

from __future__ import annotations

import base64
import time
from unittest.mock import ANY

import pytest

from wasmbed import examples
from wasmbed.controllers.application import ApplicationController, aggregate, merge_reports
from wasmbed.controllers.device import DeviceController, device_phase
from wasmbed.gateway_client import GatewayUnavailable
from wasmbed.resources import module_id
from wasmbed.store import EmbeddedStore, new_resource
from wasmbed.timeutil import iso


def test_device_phase_rules():
    now = time.time()
    assert device_phase({}, now)[0] == "Pending"
    assert device_phase({"certificate": {"serial": "1"}}, now)[0] == "Enrolled"
    fresh = {"certificate": {"serial": "1"}, "lastHeartbeat": iso(now - 1),
             "connection": {"connected": True, "timeoutS": 3}}
    phase, recheck = device_phase(fresh, now)
    assert phase == "Connected" and 0 < recheck <= 5
    stale = dict(fresh, lastHeartbeat=iso(now - 60))
    assert device_phase(stale, now)[0] == "Disconnected"  # its gateway died silently
    closed = dict(fresh, connection={"connected": False})
    assert device_phase(closed, now)[0] == "Disconnected"
    assert device_phase(dict(fresh, revoked=True), now)[0] == "Revoked"


def test_aggregate_phases():
    e = lambda *ps: {str(i): {"phase": p} for i, p in enumerate(ps)}  # noqa: E731
    assert aggregate({}, False)[0] == "Pending"
    assert aggregate(e("Running", "Running"), False)[0] == "Running"
    assert aggregate(e("Completed", "Completed"), False)[0] == "Completed"
    assert aggregate(e("Failed", "Failed"), False)[0] == "Failed"
    assert aggregate(e("Running", "Failed"), False)[0] == "PartiallyRunning"
    assert aggregate(e("Running", "Deploying"), False)[0] == "Deploying"
    assert aggregate(e("Running"), True)[0] == "Stopping"
    phase, stats = aggregate(e("Stopped", "Failed"), True)
    assert phase == "Stopped" and stats["stopped"] == 1 and stats["failed"] == 1


def test_device_facts_never_move_a_module_backwards():
    running = {"moduleId": "a@1", "phase": "Running", "outputs": [{"seq": 1}]}
    late = {"moduleId": "a@1", "state": "DEPLOYING", "outputs": [{"seq": 1}, {"seq": 2}]}
    changed = merge_reports({"d": running}, {"d": late})["d"]
    assert changed["phase"] == "Running" and [o["seq"] for o in changed["outputs"]] == [1, 2]
    deploying = {"moduleId": "a@1", "phase": "Deploying", "outputs": []}
    done = {"moduleId": "a@1", "state": "COMPLETED", "outputs": [{"seq": 1}], "at": "t"}
    assert merge_reports({"d": deploying}, {"d": done})["d"]["phase"] == "Completed"
    older = {"moduleId": "a@0", "state": "FAILED", "error": "old"}
    assert merge_reports({"d": deploying}, {"d": older}) == {}  # another generation's facts
    stopping = {"moduleId": "a@1", "phase": "Stopping"}
    assert merge_reports({"d": stopping}, {"d": {"moduleId": "a@1", "state": "RUNNING"}}) \
        == {"d": {**stopping, "outputs": [], "updatedAt": ANY}}


def test_a_lost_module_sends_a_running_entry_back_to_pending():
    running = {"moduleId": "a@1", "phase": "Running", "outputs": [{"seq": 1}]}
    lost = {"moduleId": "a@1", "state": None, "lost": True, "outputs": []}
    entry = merge_reports({"d": running}, {"d": lost})["d"]
    assert entry["phase"] == "Pending" and "no longer runs it" in entry["error"]
    redeploying = {"moduleId": "a@1", "phase": "Deploying", "outputs": [],
                   "lostAt": entry["lostAt"]}  # merge patches keep it when it deploys again
    assert merge_reports({"d": redeploying}, {"d": lost}) == {}  # no loop while it deploys


def test_a_module_lost_before_it_ran_is_deployed_again():
    """Delivered, then power lost before it ran: the entry still says Deploying."""
    deploying = {"moduleId": "a@1", "phase": "Deploying", "outputs": []}
    lost = {"moduleId": "a@1", "state": None, "lost": True, "outputs": [], "at": "t1"}
    entry = merge_reports({"d": deploying}, {"d": lost})["d"]
    assert entry["phase"] == "Pending" and entry["lostAt"] == "t1"
    again = {**entry, "phase": "Deploying"}
    assert merge_reports({"d": again}, {"d": lost}) == {}
    lost_again = {**lost, "at": "t2"}  # a second loss, later
    assert merge_reports({"d": again}, {"d": lost_again})["d"]["phase"] == "Pending"


class RecordingGateways:
    def __init__(self) -> None:
        self.deploys: list[tuple[str, str, str]] = []
        self.stops: list[tuple[str, str]] = []
        self.down = False

    async def deploy(self, endpoint, device, body):
        if self.down:
            raise GatewayUnavailable("connection refused")
        self.deploys.append((endpoint, device, body["moduleId"]))
        return {"queued": True}

    async def stop(self, endpoint, device, mid, app):
        self.stops.append((device, mid))

    async def refresh_trust(self, endpoint):
        pass


@pytest.fixture
async def world(tmp_path):
    store = EmbeddedStore(tmp_path / "s.sqlite")
    await store.create(new_resource("Gateway", "gw", {"endpoint": "http://gw"}))
    for name, tier in (("d1", "edge"), ("d2", "edge"), ("d3", "core")):
        await store.create(new_resource("Device", name, {}, {"tier": tier}))
        await connect(store, name)
    gws = RecordingGateways()
    yield store, ApplicationController(store, gws), gws
    await store.close()


async def connect(store, name, connected=True):
    await store.patch_status("Device", name, {
        "phase": "Connected" if connected else "Disconnected",
        "capabilities": {"maxModuleSize": 65536, "wasmRam": 131072},
        "connection": {"connected": connected, "gateway": "gw"}})


async def make_app(store, **target):
    wasm = base64.b64encode(examples.wasm("hello")).decode()
    return await store.create(new_resource("Application", "hello", {
        "wasmBytes": wasm, "entry": "run", "targetDevices": target}))


async def test_selector_targets_only_matching_connected_devices(world):
    store, ctl, gws = world
    app = await make_app(store, selector="tier=edge")
    await ctl.reconcile("hello")
    assert sorted(d for _, d, _ in gws.deploys) == ["d1", "d2"]
    status = (await store.get("Application", "hello"))["status"]
    assert set(status["deviceStatuses"]) == {"d1", "d2"}
    assert all(e["phase"] == "Deploying" and e["moduleId"] == module_id(app)
               for e in status["deviceStatuses"].values())
    await ctl.reconcile("hello")  # idempotent: nothing is pushed twice
    assert len(gws.deploys) == 2


async def test_disconnected_device_waits_then_gets_the_module(world):
    store, ctl, gws = world
    await connect(store, "d1", connected=False)
    await make_app(store, deviceNames=["d1"])
    assert await ctl.reconcile("hello") == 5.0  # look again later
    entry = (await store.get("Application", "hello"))["status"]["deviceStatuses"]["d1"]
    assert entry["phase"] == "Pending" and "waiting for the device" in entry["error"]
    assert gws.deploys == []
    await connect(store, "d1")
    await ctl.reconcile("hello")
    assert [d for _, d, _ in gws.deploys] == ["d1"]


async def test_unreachable_gateway_keeps_entry_pending_with_reason(world):
    store, ctl, gws = world
    gws.down = True
    await make_app(store, deviceNames=["d1"])
    await ctl.reconcile("hello")
    entry = (await store.get("Application", "hello"))["status"]["deviceStatuses"]["d1"]
    assert entry["phase"] == "Pending" and "gateway unreachable" in entry["error"]


async def test_oversized_module_fails_for_that_device_only(world):
    store, ctl, gws = world
    await store.patch_status("Device", "d2", {"capabilities": {"maxModuleSize": 10}})
    await make_app(store, selector="tier=edge")
    await ctl.reconcile("hello")
    entries = (await store.get("Application", "hello"))["status"]["deviceStatuses"]
    assert entries["d2"]["phase"] == "Failed" and "at most 10 bytes" in entries["d2"]["error"]
    assert entries["d1"]["phase"] == "Deploying"


async def test_untargeted_device_is_stopped_and_forgotten(world):
    store, ctl, gws = world
    app = await make_app(store, deviceNames=["d1", "d3"])
    await ctl.reconcile("hello")
    await store.patch_status("Application", "hello", {"deviceStatuses": {
        "d3": {"phase": "Running"}}})
    app = await store.get("Application", "hello")
    app["spec"]["targetDevices"] = {"deviceNames": ["d1"]}
    await store.update(app)
    # new generation: d1 gets the new module, d3 is told to stop
    await ctl.reconcile("hello")
    assert ("d3", "hello@1") in gws.stops
    await store.patch_status("Application", "hello", {"deviceStatuses": {
        "d3": {"phase": "Stopped"}}})
    await ctl.reconcile("hello")
    status = (await store.get("Application", "hello"))["status"]
    assert set(status["deviceStatuses"]) == {"d1"}
    assert status["deviceStatuses"]["d1"]["moduleId"] == "hello@2"


async def test_device_controller_writes_phase(tmp_path):
    store = EmbeddedStore(tmp_path / "s.sqlite")
    await store.create(new_resource("Device", "d", {}))
    await store.patch_status("Device", "d", {"certificate": {"serial": "1"}})
    await DeviceController(store).reconcile("d")
    assert (await store.get("Device", "d"))["status"]["phase"] == "Enrolled"
    await store.close()
