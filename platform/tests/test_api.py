"""The API server's contract: auth everywhere, JSON errors with hints, misuse refused,
WebSocket watch with resume. In-process (TestClient) over a real embedded store."""

from __future__ import annotations

import base64
import json

import pytest
from fastapi.testclient import TestClient

from wasmbed import examples
from wasmbed.api.main import ApiConfig, ApiServer
from wasmbed.pki.ca import new_key, spki_der


def key_b64() -> str:
    return base64.b64encode(spki_der(new_key().public_key())).decode()


def test_token_is_generated_once_and_private(tmp_path, server):
    path = tmp_path / "api" / "token"
    assert path.stat().st_mode & 0o777 == 0o600
    assert server.token_created
    again = ApiServer(ApiConfig(tmp_path / "api"))
    assert again.token == server.token and not again.token_created


def test_every_api_route_needs_the_token(server):
    with TestClient(server.app) as anon:
        assert anon.get("/health").status_code == 200
        for path in ("/api/v1/devices", "/api/v1/status", "/api/v1/applications",
                     "/api/v1/gateways", "/api/v1/pki/trust"):
            r = anon.get(path)
            assert r.status_code == 401, path
            assert r.json()["code"] == "Unauthorized" and "token" in r.json()["hint"]
        r = anon.get("/api/v1/devices", headers={"Authorization": "Bearer wrong"})
        assert r.status_code == 401


def test_device_crud_and_errors(client):
    r = client.post("/api/v1/devices", json={"name": "d1", "publicKey": key_b64(),
                                              "labels": {"tier": "edge"}})
    assert r.status_code == 201 and r.json()["status"]["phase"] == "Pending"
    again = client.post("/api/v1/devices", json={"name": "d1"})
    assert again.status_code == 409 and again.json()["code"] == "AlreadyExists"
    assert client.get("/api/v1/devices?labelSelector=tier=edge").json()["items"][0][
        "metadata"]["name"] == "d1"
    bad = client.get("/api/v1/devices?labelSelector=a b c")
    assert bad.status_code == 400 and bad.json()["code"] == "BadSelector"
    missing = client.get("/api/v1/devices/nope")
    assert missing.status_code == 404 and missing.json()["hint"]
    assert client.delete("/api/v1/devices/d1").status_code == 200
    assert client.get("/api/v1/devices/d1").status_code == 404


@pytest.mark.parametrize("body,code", [
    ({"name": "Bad_Name"}, "Invalid"),
    ({"name": "ok", "publicKey": "not a key"}, "InvalidPublicKey"),
    ({"name": "ok", "publicKey": base64.b64encode(b"\x30\x03\x02\x01\x01").decode()},
     "InvalidPublicKey"),
])
def test_bad_device_bodies(client, body, code):
    r = client.post("/api/v1/devices", json=body)
    assert r.status_code == 422 and r.json()["code"] == code


def test_application_validation(client):
    wasm = base64.b64encode(examples.wasm("hello")).decode()
    ok = client.post("/api/v1/applications", json={
        "name": "hello", "wasmBytes": wasm, "targetDevices": {"selector": "tier=edge"}})
    assert ok.status_code == 201
    assert "wasmBytes" not in ok.json()["spec"] and ok.json()["spec"]["wasmSize"] > 0
    full = client.get("/api/v1/applications/hello?includeWasm=true").json()
    assert full["spec"]["wasmBytes"] == wasm
    cases = [({"wasmBytes": "!!!"}, "BadEncoding"),
             ({"wasmBytes": base64.b64encode(b"nope").decode()}, "InvalidModule"),
             ({"wasmBytes": wasm, "sha256": "ab" * 32}, "HashMismatch"),
             ({"wasmBytes": wasm, "targetDevices": {"selector": "x y"}}, "BadSelector")]
    for extra, code in cases:
        r = client.post("/api/v1/applications", json={"name": "x", **extra})
        assert r.json()["code"] == code, (extra, r.json())
    assert [a["metadata"]["name"] for a in
            client.get("/api/v1/applications").json()["items"]] == ["hello"]


def as_gateway(client, server, name):
    return {"Authorization": f"Bearer {server.credentials.gateways.token(name)}"}


def test_reports_for_unknown_gateway_are_refused(client, server):
    r = client.post("/api/v1/gateways/ghost/reports", json={"events": []},
                    headers=as_gateway(client, server, "ghost"))
    assert r.status_code == 404 and r.json()["code"] == "NotFound"


def test_enrollment_decisions(client, server):
    key = key_b64()
    req = {"gateway": "g", "publicKey": key, "bootstrapSerial": "1", "board": "virtual",
           "firmwareVersion": "x", "capabilities": {"wasmRam": 1, "maxModuleSize": 1}}
    gw = as_gateway(client, server, "g")

    def post(body):
        return client.post("/api/v1/enrollments", json=body, headers=gw).json()

    r = post(req)
    assert not r["accepted"] and "pairing mode is off" in r["reason"]
    client.put("/api/v1/admin/pairing-mode", json={"enabled": True, "timeoutSeconds": 60})
    r = post(req)
    assert r["accepted"] and r["deviceId"].startswith("dev-")
    again = post(req)
    assert again["accepted"] and again["deviceId"] == r["deviceId"]  # same key, same device
    client.post(f"/api/v1/devices/{r['deviceId']}/revoke")
    refused = post(req)
    assert not refused["accepted"] and "revoked" in refused["reason"]
    bad = post({**req, "publicKey": "xx"})
    assert not bad["accepted"] and "publicKey" in bad["reason"]


def device_events(server) -> list[tuple[str, dict]]:
    """Every Device event the store holds, oldest first (the embedded store keeps them)."""
    rows = server.store.db.execute(
        "SELECT type, body FROM events WHERE kind='Device' ORDER BY rv").fetchall()
    return [(kind, json.loads(body)) for kind, body in rows]


def test_a_device_is_created_with_its_first_status_in_one_write(client, server):
    """In an enrollment storm each store write costs the API a commit: a device that pairing
    mode admits is written once, with its certificate, and a registered one once, Pending
    (each used to be created bare, then patched)."""
    gw = as_gateway(client, server, "g")
    client.put("/api/v1/admin/pairing-mode", json={"enabled": True, "timeoutSeconds": 60})
    r = client.post("/api/v1/enrollments", headers=gw, json={
        "gateway": "g", "publicKey": key_b64(), "bootstrapSerial": "1", "board": "virtual",
        "firmwareVersion": "x", "capabilities": {"wasmRam": 1, "maxModuleSize": 1}}).json()
    client.post("/api/v1/devices", json={"name": "d1", "publicKey": key_b64()})
    created = {obj["metadata"]["name"]: obj for kind, obj in device_events(server)
               if kind == "ADDED"}
    assert created[r["deviceId"]]["status"]["certificate"]["der"] == r["certificate"]
    assert created["d1"]["status"]["phase"] == "Pending"


def test_enrollments_in_one_batch_are_decided_one_by_one(client, server):
    """What a gateway sends in an enrollment storm: one request, an answer per device, in
    order, each the answer the single-device route gives."""
    gw = as_gateway(client, server, "g")
    client.put("/api/v1/admin/pairing-mode", json={"enabled": True, "timeoutSeconds": 60})
    item = {"bootstrapSerial": "1", "board": "virtual", "firmwareVersion": "x",
            "capabilities": {"wasmRam": 1, "maxModuleSize": 1}}
    keys = [key_b64(), "xx", key_b64()]
    r = client.post("/api/v1/enrollments/batch", headers=gw, json={
        "gateway": "g", "requests": [{**item, "publicKey": k} for k in keys]})
    assert r.status_code == 200, r.text
    first, bad, third = r.json()["results"]
    assert first["accepted"] and third["accepted"] and first["deviceId"] != third["deviceId"]
    assert not bad["accepted"] and "publicKey" in bad["reason"]
    single = client.post("/api/v1/enrollments", headers=gw,
                         json={**item, "gateway": "g", "publicKey": keys[0]}).json()
    assert single["deviceId"] == first["deviceId"]  # the same decision either way
    other = client.post("/api/v1/enrollments/batch", headers=gw,
                        json={"gateway": "h", "requests": [{**item, "publicKey": keys[0]}]})
    assert other.status_code == 403  # a gateway enrolls under its own name only
    empty = client.post("/api/v1/enrollments/batch", headers=gw,
                        json={"gateway": "g", "requests": []})
    assert empty.status_code == 422


def test_websocket_watch_streams_and_resumes(client, server):
    with client.websocket_connect(f"/api/v1/watch?kinds=devices&token={server.token}") as ws:
        client.post("/api/v1/devices", json={"name": "w1"})
        first = ws.receive_json()
        assert first["type"] == "ADDED" and first["object"]["metadata"]["name"] == "w1"
        rv = first["object"]["metadata"]["resourceVersion"]
    client.post("/api/v1/devices", json={"name": "w2"})
    with client.websocket_connect(
            f"/api/v1/watch?kinds=devices&resourceVersion={rv}&token={server.token}") as ws:
        after = ws.receive_json()
    assert after["object"]["metadata"]["name"] == "w2"  # events after rv, not a fresh list


def test_websocket_refuses_bad_token_and_kind(server):
    from starlette.websockets import WebSocketDisconnect

    with TestClient(server.app) as anon:
        with pytest.raises(WebSocketDisconnect) as info:
            with anon.websocket_connect("/ws?token=wrong") as ws:
                ws.receive_json()
        assert info.value.code == 4401
        with anon.websocket_connect(f"/ws?kinds=pods&token={server.token}") as ws:
            msg = ws.receive_json()
    assert msg["type"] == "ERROR" and msg["code"] == "BadKind"


def test_openapi_is_served(client):
    doc = client.get("/openapi.json").json()
    assert "/api/v1/devices" in doc["paths"] and "/api/v1/applications" in doc["paths"]


def test_gateway_create_then_register_keeps_it(client, server, gateway_endpoint):
    r = client.post("/api/v1/gateways", json={"name": "gw-eu", "region": "eu"})
    assert r.status_code == 201 and r.json()["status"]["phase"] == "Pending"
    endpoint = gateway_endpoint("gw-eu")
    reg = {"endpoint": endpoint, "tlsEndpoint": "127.0.0.1:2", "tlsPort": 2, "startedAt": 0}
    r = client.put("/api/v1/gateways/gw-eu/registration", json=reg,
                   headers=as_gateway(client, server, "gw-eu"))
    assert r.status_code == 200, r.text
    spec = client.get("/api/v1/gateways/gw-eu").json()["spec"]
    assert spec["region"] == "eu" and spec["endpoint"] == endpoint
    assert client.post("/api/v1/gateways", json={"name": "gw-eu"}).status_code == 409


async def test_stopping_an_application_whose_status_never_rests(tmp_path):
    """A module that streams outputs has its status written between any read and any write
    of its application. `stop` read, changed and replaced the whole object, and on
    Kubernetes it answered 409 after five lost races (a counter app, in the Kubernetes
    leg): it must not depend on the status holding still."""
    from types import SimpleNamespace

    from wasmbed.api.applications import set_stopped
    from wasmbed.store import EmbeddedStore, new_resource

    class StatusNeverRests(EmbeddedStore):
        async def get(self, kind: str, name: str) -> dict:
            obj = await super().get(kind, name)
            await self.patch_status(kind, name, {"outputs": [obj["metadata"]["resourceVersion"]]})
            return obj  # already stale when the caller writes

    store = StatusNeverRests(tmp_path / "store.sqlite")
    try:
        await store.create(new_resource("Application", "counter", {"stopped": False}))
        stopped = await set_stopped(SimpleNamespace(store=store), "counter", True)  # type: ignore[arg-type]
        assert stopped["spec"]["stopped"] is True
        assert stopped["metadata"]["generation"] == 2  # a spec change, as any other
    finally:
        await store.close()
