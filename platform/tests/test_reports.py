"""Device facts from gateway reports (wasmbed.api.reports) against an embedded store."""

from __future__ import annotations

import pytest

from wasmbed.api.reports import apply_reports
from wasmbed.reports import HeartbeatSeen, ModuleState, SessionEnded, SessionOpened
from wasmbed.store import EmbeddedStore, new_resource


@pytest.fixture
async def store(tmp_path):
    s = EmbeddedStore(tmp_path / "store.sqlite")
    await s.create(new_resource("Gateway", "gw", {"endpoint": "http://127.0.0.1:1"}))
    await s.create(new_resource("Device", "d", {"mcuType": "virtual"}))
    yield s
    await s.close()


async def facts_after_reconnect(store: EmbeddedStore, state: str, running: list[str],
                                reconnect: bool = True) -> dict:
    """`reconnect=False`: the heartbeat comes later in the session the facts arose in."""
    if not reconnect:
        await apply_reports(store, "gw", [SessionOpened(device="d"),
                                          HeartbeatSeen(device="d", runningApps=[])])
    await store.create(new_resource("Application", "a", {"wasmBytes": ""}))
    await store.patch_status("Application", "a", {
        "moduleReports": {"d": {"moduleId": "a@1", "state": state, "outputs": []}}})
    events = [SessionOpened(device="d")] if reconnect else []
    await apply_reports(store, "gw", [*events, HeartbeatSeen(device="d", runningApps=running)])
    app = await store.get("Application", "a")
    return app["status"]["moduleReports"]["d"]


async def test_a_session_without_a_module_that_was_running_loses_it(store):
    facts = await facts_after_reconnect(store, "RUNNING", running=[])
    assert facts["lost"] is True and facts.get("state") is None


async def test_a_new_session_without_a_module_still_being_deployed_loses_it(store):
    """Power lost after the module was delivered, before it ran: nobody else will ever
    send it again (the gateway finished its transfer)."""
    facts = await facts_after_reconnect(store, "DEPLOYING", running=[])
    assert facts["lost"] is True and facts.get("state") is None


async def test_a_module_still_being_deployed_is_not_lost_within_a_session(store):
    facts = await facts_after_reconnect(store, "DEPLOYING", running=["b@1"], reconnect=False)
    assert not facts.get("lost") and facts["state"] == "DEPLOYING"


async def test_a_running_module_the_device_reports_is_kept(store):
    facts = await facts_after_reconnect(store, "RUNNING", running=["a@1"])
    assert not facts.get("lost") and facts["state"] == "RUNNING"


async def test_a_transfer_the_gateway_resumes_in_the_new_session_is_not_lost(store):
    """A delivery cut short by a dropped link: the gateway resumes it in the new session
    (and says Deploying again) before the first heartbeat. Taken for lost, the controller
    delivered it once more, and the module ran twice (the blackhole fault scenario)."""
    await store.create(new_resource("Application", "a", {"wasmBytes": ""}))
    await apply_reports(store, "gw", [SessionOpened(device="d"),
                                      ModuleState(device="d", moduleId="a@1", state="DEPLOYING"),
                                      SessionEnded(device="d", reason="link lost")])
    await apply_reports(store, "gw", [
        SessionOpened(device="d"), ModuleState(device="d", moduleId="a@1", state="DEPLOYING"),
        HeartbeatSeen(device="d", runningApps=[])])
    facts = (await store.get("Application", "a"))["status"]["moduleReports"]["d"]
    assert not facts.get("lost") and facts["state"] == "DEPLOYING"
