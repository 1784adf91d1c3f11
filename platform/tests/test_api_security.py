"""The API server's trust boundary, in process: the token is checked before any body is
read, bodies are bounded per route, credentials are scoped (admin vs one gateway), input is
validated, and answers carry the browser's security headers. (scenarios/security does the
same against real processes.)"""

from __future__ import annotations

import asyncio
import base64
import os
import stat

import pytest
from fastapi.testclient import TestClient

from wasmbed import examples
from wasmbed.modules import MAX_MODULE_BYTES


def gw_auth(server, name):
    return {"Authorization": f"Bearer {server.credentials.gateways.token(name)}"}


async def call_asgi(app, method, path, headers, chunks=()):
    """Drive the ASGI app by hand: returns (status, body, chunks the app consumed)."""
    pending = [{"type": "http.request", "body": c, "more_body": i < len(chunks) - 1}
               for i, c in enumerate(chunks)] or [{"type": "http.request", "body": b""}]
    consumed = []
    sent = []

    async def receive():
        if not pending:
            await asyncio.sleep(3600)
        msg = pending.pop(0)
        consumed.append(msg)
        return msg

    async def send(msg):
        sent.append(msg)

    scope = {"type": "http", "method": method, "path": path, "raw_path": path.encode(),
             "query_string": b"", "headers": [(k.lower().encode(), v.encode())
                                              for k, v in headers.items()],
             "scheme": "http", "server": ("test", 80), "client": ("1.2.3.4", 5),
             "http_version": "1.1", "root_path": ""}
    await asyncio.wait_for(app(scope, receive, send), 10)
    status = next(m["status"] for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return status, body, consumed


async def test_no_token_means_401_before_the_body_is_read(server):
    big = {"content-type": "application/json", "content-length": str(200 * 1024 * 1024)}
    status, body, consumed = await call_asgi(server.app, "POST", "/api/v1/applications", big,
                                             [b"x" * 1024] * 3)
    assert status == 401 and b"Unauthorized" in body
    assert consumed == [], "the body of an unauthenticated request must not be read"


async def test_declared_oversized_body_is_413_before_reading(server):
    headers = {"authorization": f"Bearer {server.token}", "content-type": "application/json",
               "content-length": str(3 * 1024 * 1024)}
    status, body, consumed = await call_asgi(server.app, "POST", "/api/v1/applications",
                                             headers, [b"x" * 1024])
    assert status == 413 and b"PayloadTooLarge" in body and consumed == []


async def test_streamed_body_is_cut_off_at_the_limit(server):
    headers = {"authorization": f"Bearer {server.token}", "content-type": "application/json"}
    chunks = [b" " * 16 * 1024] * 100  # 1.6 MB to a route that takes 64 KiB
    status, body, consumed = await call_asgi(server.app, "POST", "/api/v1/devices", headers,
                                             chunks)
    assert status == 413 and b"65536" in body
    assert len(consumed) <= 6, f"read {len(consumed)} chunks past the limit"


def test_a_gateway_credential_opens_only_its_own_gateway_routes(client, server):
    gw = gw_auth(server, "gw-a")
    assert client.get("/api/v1/devices", headers=gw).status_code == 403
    assert client.post("/api/v1/gateways/gw-a/credentials", headers=gw).status_code == 403
    assert client.get("/api/v1/pki/trust", headers=gw).status_code == 200
    other = client.post("/api/v1/gateways/gw-b/reports", json={"events": []}, headers=gw)
    assert other.status_code == 403 and "gw-a" in other.json()["message"]
    enroll = client.post("/api/v1/enrollments", headers=gw, json={
        "gateway": "gw-b", "publicKey": "x", "bootstrapSerial": "1", "board": "b",
        "firmwareVersion": "f"})
    assert enroll.status_code == 403


def test_the_admin_token_is_not_a_gateway_credential(client):
    r = client.put("/api/v1/gateways/gw-a/registration", json={
        "endpoint": "http://127.0.0.1:9", "tlsEndpoint": "127.0.0.1:9", "tlsPort": 9,
        "startedAt": 0})
    assert r.status_code == 403 and "credentials" in r.json()["message"]


def test_forged_gateway_tokens_are_refused(client, server):
    good = server.credentials.gateways.token("gw-a")
    for forged in (good[:-2] + "xx", good.replace("gw-a", "gw-b"), "gw1.gw-a.", "gw1..x"):
        r = client.get("/api/v1/pki/trust", headers={"Authorization": f"Bearer {forged}"})
        assert r.status_code == 401, forged


def test_registration_needs_an_endpoint_that_answers_as_the_gateway(client, server,
                                                                     gateway_endpoint):
    impostor = gateway_endpoint("somebody-else")
    reg = {"endpoint": impostor, "tlsEndpoint": "127.0.0.1:9", "tlsPort": 9, "startedAt": 0}
    r = client.put("/api/v1/gateways/gw-a/registration", json=reg, headers=gw_auth(server,
                                                                                  "gw-a"))
    assert r.status_code == 422 and r.json()["code"] == "EndpointUnverified"
    for bad in ("http://user:pw@127.0.0.1:9", "http://127.0.0.1:9/x?y", "file:///etc/passwd",
                "http://127.0.0.1"):
        r = client.put("/api/v1/gateways/gw-a/registration", json={**reg, "endpoint": bad},
                       headers=gw_auth(server, "gw-a"))
        assert r.status_code == 422, bad


def test_the_admin_token_never_leaves_the_api(client, server, gateway_endpoint):
    """A gateway's endpoint sees that gateway's own credential, never the admin token: not
    at registration, not on a health check, not on a trust refresh."""
    url = gateway_endpoint("gw-a")
    reg = {"endpoint": url, "tlsEndpoint": "127.0.0.1:9", "tlsPort": 9, "startedAt": 0}
    assert client.put("/api/v1/gateways/gw-a/registration", json=reg,
                      headers=gw_auth(server, "gw-a")).status_code == 200
    assert client.get("/api/v1/gateways/gw-a/health").json()["reachable"]
    client.post("/api/v1/devices", json={"name": "d1"})
    client.post("/api/v1/devices/d1/revoke")  # pushes "refresh trust" to every gateway
    seen = gateway_endpoint.servers["gw-a"].requests
    assert {path for _, path, _ in seen} >= {"/api/v1/identity", "/ready", "/api/v1/pki/refresh"}
    for _, path, headers in seen:
        auth = headers.get("Authorization", "")
        assert server.token not in auth, f"the admin token went to {path}"
        assert not auth or auth == gw_auth(server, "gw-a")["Authorization"], path


@pytest.mark.parametrize("name", ["x" * 5000, "a%00b", "a b", "d%C3%A9v", "UPPER", "-x"])
def test_names_in_paths_are_checked(client, name):
    for path in (f"/api/v1/gateways/{name}", f"/api/v1/devices/{name}",
                 f"/api/v1/applications/{name}", f"/api/v1/gateways/{name}/health"):
        r = client.get(path)
        assert r.status_code == 422 and r.json()["code"] == "Invalid", (path, r.text)


@pytest.mark.parametrize("labels", [{"k" * 10_000: "v"}, {"a\x00b": "v"}, {"tier": "x\x00"},
                                    {"tier": "v" * 64}, {"Bad Prefix/x": "v"}, {"": "v"},
                                    {f"l{i}": "v" for i in range(65)}])
def test_labels_follow_kubernetes_rules(client, labels):
    r = client.post("/api/v1/devices", json={"name": "d1", "labels": labels})
    assert r.status_code == 422 and r.json()["code"] == "Invalid"


def test_good_labels_pass(client):
    labels = {"tier": "edge", "example.com/zone": "eu-west_1", "empty": ""}
    r = client.post("/api/v1/devices", json={"name": "d1", "labels": labels})
    assert r.status_code == 201 and r.json()["metadata"]["labels"]["example.com/zone"]


def test_gateway_bounds(client):
    r = client.post("/api/v1/gateways", json={"name": "gw", "maxDevices": 10**30})
    assert r.status_code == 422


def test_module_size_is_capped(client):
    big = base64.b64encode(b"\0asm\x01\0\0\0" + b"\0" * MAX_MODULE_BYTES).decode()
    r = client.post("/api/v1/applications", json={"name": "big", "wasmBytes": big})
    assert r.status_code == 413 and r.json()["code"] == "ModuleTooLarge"


def test_uploads_are_checked_like_compiled_modules(client):
    wat = '(module (import "env" "printf" (func (param i32))) (func (export "run")))'
    import wasmtime

    for wasm, needle in ((bytes(wasmtime.wat2wasm(wat)), "env.printf"),
                         (bytes(wasmtime.wat2wasm("(module (func (export \"main\")))")),
                          "exports no function 'run'")):
        r = client.post("/api/v1/applications", json={
            "name": "bad", "wasmBytes": base64.b64encode(wasm).decode()})
        assert r.status_code == 422 and r.json()["code"] == "UnsupportedModule"
        assert needle in r.json()["message"]


def test_lists_and_watches_carry_no_module_bytes(client, server):
    wasm = base64.b64encode(examples.wasm("hello")).decode()
    client.post("/api/v1/applications", json={"name": "hello", "wasmBytes": wasm})
    listed = client.get("/api/v1/applications").json()["items"][0]["spec"]
    assert "wasmBytes" not in listed and listed["wasmSize"] == len(examples.wasm("hello"))
    with client.websocket_connect(f"/api/v1/watch?kinds=applications&token={server.token}") \
            as ws:
        assert "wasmBytes" not in ws.receive_json()["object"]["spec"]


def test_watch_refuses_a_bad_resource_version(client, server):
    with client.websocket_connect(
            f"/api/v1/watch?kinds=devices&resourceVersion=abc&token={server.token}") as ws:
        msg = ws.receive_json()
    assert msg["type"] == "ERROR" and msg["code"] == "BadResourceVersion"


def test_watch_refuses_a_gateway_credential(server):
    from starlette.websockets import WebSocketDisconnect

    token = server.credentials.gateways.token("gw-a")
    with TestClient(server.app) as anon, pytest.raises(WebSocketDisconnect) as info:
        with anon.websocket_connect(f"/api/v1/watch?token={token}") as ws:
            ws.receive_json()
    assert info.value.code == 4401


def test_store_and_secrets_are_private(tmp_path, server, client):
    client.post("/api/v1/devices", json={"name": "d1"})
    data = tmp_path / "api"
    for name in ("store.sqlite", "store.sqlite-wal", "token", "gateway-key"):
        path = data / name
        if path.exists():
            assert stat.S_IMODE(os.stat(path).st_mode) == 0o600, name


def test_security_headers(client):
    for path in ("/", "/api/v1/devices", "/health"):
        r = client.get(path)
        assert r.headers["x-content-type-options"] == "nosniff", path
        assert "frame-ancestors 'none'" in r.headers["content-security-policy"], path
        assert r.headers["x-frame-options"] == "DENY", path
    assert "default-src 'self'" in client.get("/").headers["content-security-policy"]
