"""The store contract, one suite for both backends: the embedded SQLite store and the
Kubernetes store against a real kube-apiserver (the session's local control plane, or the
user's cluster with --cluster kubeconfig), each test in a fresh namespace."""

from __future__ import annotations

import asyncio
import sqlite3

import pytest

from wasmbed.store import (
    AlreadyExists,
    Conflict,
    EmbeddedStore,
    Gone,
    LabelSelector,
    NotFound,
    SelectorError,
    new_resource,
)
from wasmbed.store.base import merge_patch


@pytest.fixture(params=["embedded", "kubernetes"])
async def store(request, tmp_path):
    if request.param == "embedded":
        s = EmbeddedStore(tmp_path / "store.sqlite", history=50)
    else:
        from wasmbed.store.kubernetes import KubernetesStore

        kube = request.getfixturevalue("kube")
        namespace = request.getfixturevalue("kube_namespace")
        s = await KubernetesStore.connect(namespace, kube.platform_kubeconfig)
    yield s
    await s.close()


async def events_of(store, kind: str, since: str, n: int) -> list[tuple[str, str]]:
    """The first n non-bookmark events (bookmarks may come at any time on Kubernetes)."""
    out = []
    async for ev in store.watch(kind, since):
        if ev.type != "BOOKMARK":
            out.append((ev.type, ev.object["metadata"]["name"]))
        if len(out) == n:
            return out
    return out


def dev(name: str, **labels: str) -> dict:
    return new_resource("Device", name, {"mcuType": "virtual"}, labels)


async def test_create_get_list_delete(store):
    created = await store.create(dev("a", tier="edge"))
    assert created["metadata"]["generation"] == 1 and created["metadata"]["uid"]
    assert (await store.get("Device", "a"))["spec"] == {"mcuType": "virtual"}
    with pytest.raises(AlreadyExists):
        await store.create(dev("a"))
    items, rv = await store.list("Device")
    assert [i["metadata"]["name"] for i in items] == ["a"] and int(rv) >= 1
    await store.delete("Device", "a")
    with pytest.raises(NotFound):
        await store.get("Device", "a")


async def test_stale_resource_version_conflicts(store):
    obj = await store.create(dev("a"))
    obj["spec"]["mcuType"] = "stm32f4_discovery"
    updated = await store.update(obj)
    assert updated["metadata"]["generation"] == 2
    obj["spec"]["mcuType"] = "other"  # still carries the old resourceVersion
    with pytest.raises(Conflict):
        await store.update(obj)
    stale = dict(obj, status={"phase": "X"})
    with pytest.raises(Conflict):
        await store.update_status(stale)


async def test_status_does_not_bump_generation_and_spec_update_keeps_status(store):
    obj = await store.create(dev("a"))
    obj = await store.patch_status("Device", "a", {"phase": "Connected", "x": {"y": 1}})
    obj = await store.patch_status("Device", "a", {"x": {"z": 2}})
    assert obj["status"] == {"phase": "Connected", "x": {"y": 1, "z": 2}}
    assert obj["metadata"]["generation"] == 1
    obj["spec"]["mcuType"] = "b"
    obj = await store.update(obj)
    assert obj["status"]["phase"] == "Connected"


async def test_watch_resumes_from_resource_version(store):
    await store.create(dev("a"))
    _, rv = await store.list("Device")
    await store.create(dev("b"))
    await store.patch_status("Device", "a", {"phase": "Connected"})
    await store.delete("Device", "b")
    events = await asyncio.wait_for(events_of(store, "Device", rv, 3), 10)
    assert events == [("ADDED", "b"), ("MODIFIED", "a"), ("DELETED", "b")]


async def test_watch_waits_for_new_events(store):
    _, rv = await store.list("Device")

    task = asyncio.create_task(events_of(store, "Device", rv, 1))
    await asyncio.sleep(0)  # let the watcher block on "no events yet"
    await store.create(dev("late"))
    assert await asyncio.wait_for(task, 10) == [("ADDED", "late")]


async def test_a_watch_of_one_kind_finds_its_events_among_many_of_another(tmp_path):
    """A gateway's events among a fleet's: more than one page (500) of other kinds before,
    between and after them, while the watch waits and when it resumes (embedded: its
    watches page through one table of events of every kind)."""
    store = EmbeddedStore(tmp_path / "store.sqlite")
    _, rv = await store.list("Gateway")
    task = asyncio.create_task(events_of(store, "Gateway", rv, 2))
    await asyncio.sleep(0)  # the watcher waits, with nothing of its kind yet
    for i in range(600):
        await store.create(dev(f"d{i}"))
    await store.create(new_resource("Gateway", "g1", {"endpoint": "http://127.0.0.1:1"}))
    for i in range(600):
        await store.patch_status("Device", f"d{i}", {"phase": "Connected"})
    await store.create(new_resource("Gateway", "g2", {"endpoint": "http://127.0.0.1:1"}))
    assert await asyncio.wait_for(task, 30) == [("ADDED", "g1"), ("ADDED", "g2")]
    again = await asyncio.wait_for(events_of(store, "Gateway", rv, 2), 30)
    assert again == [("ADDED", "g1"), ("ADDED", "g2")]
    await store.close()


async def test_watch_from_trimmed_history_is_gone(store):
    await store.create(dev("a"))
    if isinstance(store, EmbeddedStore):  # history=50, trimmed every 1000 writes (on
        for i in range(1100):  # Kubernetes "1" is older than any watch cache already)
            await store.patch_status("Device", "a", {"n": i})
    with pytest.raises(Gone):
        async for _ in store.watch("Device", "1"):
            break


async def test_finalizers_delay_deletion(store):
    obj = dev("a")
    obj["metadata"]["finalizers"] = ["wasmbed.github.io/test"]
    await store.create(obj)
    await store.delete("Device", "a")
    marked = await store.get("Device", "a")
    assert marked["metadata"]["deletionTimestamp"]
    marked["metadata"]["finalizers"] = []
    await store.update(marked)
    with pytest.raises(NotFound):
        await store.get("Device", "a")


async def test_label_selectors(store):
    await store.create(dev("a", tier="edge", zone="eu"))
    await store.create(dev("b", tier="core"))
    await store.create(dev("c"))

    async def names(sel: str) -> list[str]:
        return [i["metadata"]["name"] for i in (await store.list("Device", sel))[0]]

    assert await names("tier=edge") == ["a"]
    assert await names("tier!=edge") == ["b", "c"]
    assert await names("tier in (edge, core)") == ["a", "b"]
    assert await names("tier notin (edge)") == ["b", "c"]
    assert await names("tier") == ["a", "b"]
    assert await names("!tier") == ["c"]
    assert await names("tier=edge,zone=eu") == ["a"]
    b = await store.get("Device", "b")
    b["metadata"]["labels"] = {"tier": "edge"}
    await store.update(b)  # relabelled: found by its new label only
    assert await names("tier=edge") == ["a", "b"] and await names("tier=core") == []
    await store.delete("Device", "a")
    assert await names("tier=edge") == ["b"] and await names("zone=eu") == []


def test_selector_syntax_errors():
    with pytest.raises(SelectorError):
        LabelSelector.parse("a b c")
    assert str(LabelSelector.parse("a=b, c in (d,e)")) == "a=b,c in (d,e)"


async def test_store_survives_reopen(tmp_path):
    s = EmbeddedStore(tmp_path / "s.sqlite")
    await s.create(dev("a"))
    await s.close()
    s2 = EmbeddedStore(tmp_path / "s.sqlite")
    assert (await s2.get("Device", "a"))["metadata"]["name"] == "a"
    _, rv = await s2.list("Device")
    assert int(rv) >= 1
    await s2.close()


async def test_a_store_from_before_the_labels_index_is_indexed_on_open(tmp_path):
    import sqlite3

    s = EmbeddedStore(tmp_path / "s.sqlite")
    await s.create(dev("a", tier="edge"))
    await s.close()
    old = sqlite3.connect(tmp_path / "s.sqlite")  # as a release without the index left it
    old.execute("DROP TABLE labels")
    old.execute("PRAGMA user_version = 0")
    old.commit()
    old.close()
    s2 = EmbeddedStore(tmp_path / "s.sqlite")
    assert [i["metadata"]["name"] for i in (await s2.list("Device", "tier=edge"))[0]] == ["a"]
    await s2.close()


async def test_unknown_kind(store):
    with pytest.raises(NotFound):
        await store.get("Pod", "x")


async def test_missing_object_and_missing_version(store):
    with pytest.raises(NotFound):
        await store.get("Device", "nope")
    with pytest.raises(NotFound):
        await store.patch_status("Device", "nope", {"phase": "X"})
    with pytest.raises(NotFound):
        await store.delete("Device", "nope")
    obj = await store.create(dev("a"))
    del obj["metadata"]["resourceVersion"]
    with pytest.raises(Conflict):  # an update must say which version it replaces
        await store.update(obj)


async def test_status_written_at_create_is_kept(store):
    obj = dev("a")
    obj["status"] = {"phase": "Pending"}
    created = await store.create(obj)
    assert created["status"] == {"phase": "Pending"}
    assert (await store.get("Device", "a"))["status"] == {"phase": "Pending"}


async def test_status_written_at_create_survives_a_controller_writing_first(store, monkeypatch):
    """The API server drops status on create, so the Kubernetes backend writes it in a second
    call. A controller that reacts to the new object in between (the device controller sets
    its phase) must not make that create fail with a Conflict: `POST /devices` did, when the
    second write was a versioned replace."""
    if isinstance(store, EmbeddedStore):
        pytest.skip("the embedded store writes the object and its status in one transaction")
    create = store.custom.create_namespaced_custom_object

    async def then_a_controller_writes(*args, **kwargs):
        created = await create(*args, **kwargs)
        await store.patch_status("Device", created["metadata"]["name"], {"phase": "Pending"})
        return created

    monkeypatch.setattr(store.custom, "create_namespaced_custom_object",
                        then_a_controller_writes)
    obj = dev("a")
    obj["status"] = {"certificate": {"serial": "7"}}
    created = await store.create(obj)
    assert created["status"] == {"phase": "Pending", "certificate": {"serial": "7"}}


async def test_spec_writes_cannot_touch_status_and_status_writes_cannot_touch_spec(store):
    obj = await store.patch_status("Device", (await store.create(dev("a")))["metadata"]["name"],
                                   {"phase": "Connected"})
    obj["status"] = {"phase": "Forged"}
    obj = await store.update(obj)
    assert obj["status"] == {"phase": "Connected"}
    obj["spec"]["mcuType"] = "forged"
    obj["status"] = {"phase": "Disconnected"}
    obj = await store.update_status(obj)
    assert obj["spec"]["mcuType"] == "virtual" and obj["status"]["phase"] == "Disconnected"


async def test_resource_versions_keep_rising_across_a_reopen(tmp_path):
    """Each write takes the next rv from a counter the store keeps in memory; reopened, it
    goes on from the newest rv ever given, even one whose object is gone, so a watch from
    before the reopen sees every later write exactly once."""
    s = EmbeddedStore(tmp_path / "s.sqlite")
    await s.create(dev("a", tier="edge"))
    await s.patch_status("Device", "a", {"n": 1})
    await s.delete("Device", "a")
    _, last = await s.list("Device")
    await s.close()
    s2 = EmbeddedStore(tmp_path / "s.sqlite")
    created = await s2.create(dev("b"))
    assert int(created["metadata"]["resourceVersion"]) == int(last) + 1
    assert await events_of(s2, "Device", last, 1) == [("ADDED", "b")]
    await s2.close()


async def test_status_writes_keep_the_labels_found(store):
    await store.create(dev("a", tier="edge"))
    await store.patch_status("Device", "a", {"phase": "Connected"})
    current = await store.get("Device", "a")
    await store.update_status({**current, "status": {"phase": "Disconnected"}})
    found, _ = await store.list("Device", "tier=edge")
    assert [d["metadata"]["name"] for d in found] == ["a"]
    assert found[0]["status"] == {"phase": "Disconnected"}


def test_a_merge_patch_leaves_its_target_alone():
    target = {"certificate": {"der": "x"}, "heartbeat": {"uptimeMs": 1, "freeMemory": 2}}
    out = merge_patch(target, {"heartbeat": {"uptimeMs": 5}, "certificate": None})
    assert out == {"heartbeat": {"uptimeMs": 5, "freeMemory": 2}}
    assert target == {"certificate": {"der": "x"}, "heartbeat": {"uptimeMs": 1, "freeMemory": 2}}


async def test_objects_are_counted_by_phase(store):
    """The counts come with the resourceVersion they were taken at: a watch from it sees what
    changed after them, and nothing they counted. (On Kubernetes that version is the
    cluster's, which writes in other namespaces move on: two reads need not return the same
    one, and comparing them failed when another test wrote in between.)"""
    for name, phase in (("a", "Connected"), ("b", "Connected"), ("c", None), ("d", "Disconnected")):
        obj = dev(name)
        if phase:
            obj["status"] = {"phase": phase, "certificate": {"serial": "1"}}
        await store.create(obj)
    counts, rv = await store.count_by_phase("Device")
    assert counts == {"Connected": 2, "Disconnected": 1, "Unknown": 1}
    await store.create(dev("e"))
    assert await asyncio.wait_for(events_of(store, "Device", rv, 1), 10) == [("ADDED", "e")]
    assert (await store.count_by_phase("Application"))[0] == {}


async def test_phase_counts_follow_every_write(store):
    """Status writes move an object between phases, deletes take it out, and a deletion
    held by a finalizer keeps it counted until it is gone."""
    await store.create(dev("a"))
    await store.create(dev("b"))
    await store.patch_status("Device", "a", {"phase": "Connected"})
    b = await store.get("Device", "b")
    await store.update_status({**b, "status": {"phase": "Connected"}})
    assert (await store.count_by_phase("Device"))[0] == {"Connected": 2}
    await store.patch_status("Device", "a", {"phase": "Disconnected"})
    await store.patch_status("Device", "b", {"phase": None})
    assert (await store.count_by_phase("Device"))[0] == {"Disconnected": 1, "Unknown": 1}
    b = await store.get("Device", "b")
    await store.update({**b, "metadata": {**b["metadata"], "finalizers": ["x/y"]}})
    await store.delete("Device", "b")
    await store.delete("Device", "a")
    assert (await store.count_by_phase("Device"))[0] == {"Unknown": 1}
    b = await store.get("Device", "b")
    await store.update({**b, "metadata": {**b["metadata"], "finalizers": []}})
    assert (await store.count_by_phase("Device"))[0] == {}


async def test_phase_counts_survive_a_reopen_and_a_batch_that_failed(tmp_path):
    class CommitFails:
        """The store's connection, whose next COMMIT fails (a full disk, say)."""

        def __init__(self, db: sqlite3.Connection) -> None:
            self.db, self.armed = db, True

        def execute(self, sql: str, *args: object) -> sqlite3.Cursor:
            if sql == "COMMIT" and self.armed:
                self.armed = False
                raise sqlite3.OperationalError("database or disk is full")
            return self.db.execute(sql, *args)

        def __getattr__(self, name: str) -> object:
            return getattr(self.db, name)

    s = EmbeddedStore(tmp_path / "s.sqlite")
    await s.create(dev("a"))
    await s.patch_status("Device", "a", {"phase": "Connected"})
    real, s.db = s.db, CommitFails(s.db)  # type: ignore[assignment]
    with pytest.raises(sqlite3.OperationalError):
        async with s.batch():
            await s.patch_status("Device", "a", {"phase": "Disconnected"})
            await s.create(dev("b"))
    s.db = real
    assert (await s.count_by_phase("Device"))[0] == {"Connected": 1}
    assert [d["metadata"]["name"] for d in (await s.list("Device"))[0]] == ["a"]
    await s.create(dev("c"))
    await s.close()
    again = EmbeddedStore(tmp_path / "s.sqlite")
    assert (await again.count_by_phase("Device"))[0] == {"Connected": 1, "Unknown": 1}
    await again.close()


async def test_writes_in_a_batch_succeed_or_fail_each_on_its_own(store):
    """A gateway's reports are applied in one batch (one transaction on the embedded store):
    a write that fails inside it takes nothing else with it, and a watcher sees every write
    that succeeded, in order."""
    await store.create(dev("a"))
    _, since = await store.list("Device")
    async with store.batch():
        await store.patch_status("Device", "a", {"n": 1})
        with pytest.raises(NotFound):
            await store.patch_status("Device", "ghost", {"n": 1})
        with pytest.raises(AlreadyExists):
            await store.create(dev("a"))
        async with store.batch():  # nested: part of the outer one
            await store.create(dev("b"))
        await store.patch_status("Device", "a", {"n": 2})
    assert (await store.get("Device", "a"))["status"] == {"n": 2}
    assert await events_of(store, "Device", since, 3) == [
        ("MODIFIED", "a"), ("ADDED", "b"), ("MODIFIED", "a")]


async def test_a_write_refused_inside_a_batch_is_rolled_back_alone(tmp_path):
    s = EmbeddedStore(tmp_path / "s.sqlite")
    await s.create(dev("a"))
    async with s.batch():
        await s.patch_status("Device", "a", {"n": 1})
        with pytest.raises(sqlite3.IntegrityError):  # fails after its event row is written
            s._write("Device", "MODIFIED", {**dev("a"), "metadata": {"name": None}})
        await s.patch_status("Device", "a", {"n": 2})
    await s.close()
    again = EmbeddedStore(tmp_path / "s.sqlite")  # what was committed
    assert (await again.get("Device", "a"))["status"] == {"n": 2}
    rvs = [r[0] for r in again.db.execute("SELECT rv FROM events ORDER BY rv")]
    assert rvs == list(range(1, len(rvs) + 1))  # the refused write left no event behind
    await again.close()


async def test_a_spec_merge_patch_needs_no_version_and_keeps_status(store):
    await store.create(dev("a", tier="edge"))
    await store.patch_status("Device", "a", {"phase": "Connected"})
    obj = await store.patch_spec("Device", "a", {"mcuType": "stm32f4_discovery"})
    assert obj["spec"] == {"mcuType": "stm32f4_discovery"}
    assert obj["status"] == {"phase": "Connected"}
    assert obj["metadata"]["generation"] == 2 and obj["metadata"]["labels"] == {"tier": "edge"}
    again = await store.patch_spec("Device", "a", {"mcuType": "stm32f4_discovery"})
    assert again["metadata"]["generation"] == 2  # no change, no new generation
    with pytest.raises(NotFound):
        await store.patch_spec("Device", "missing", {"mcuType": "virtual"})
