"""The API server under hostile HTTP: huge unauthenticated bodies, oversized modules. The
token is checked from the headers before a byte of the body is read, bodies are bounded
per route, and the server keeps answering everyone else meanwhile."""

from __future__ import annotations

import allure
import httpx
import pytest

from harness.attacks import BodyPusher, MiB, rss_bytes
from wasmbed.rest_client import ApiError
from wasmbed.waiting import Seen

pytestmark = [allure.feature("Security")]


@allure.story("200 MB without a token: 401 at once, memory unchanged, /health unaffected")
def test_unauthenticated_huge_body(platform, wait_for):
    pid = platform.process.pid
    before = rss_bytes(pid)
    pusher = BodyPusher(platform.url, "/api/v1/applications", 200 * MiB)
    pusher.start()
    health = httpx.get(f"{platform.url}/health", timeout=5)
    assert health.status_code == 200
    pusher.join(60)
    assert pusher.answer.startswith(b"HTTP/1.1 401"), pusher.answer[:200]
    assert pusher.pushed < 50 * MiB, f"the server took {pusher.pushed} bytes of the body"
    grown = rss_bytes(pid) - before
    allure.attach(f"RSS before {before / MiB:.1f} MiB, growth {grown / MiB:.1f} MiB",
                  "memory", allure.attachment_type.TEXT)
    assert grown < 30 * MiB, f"the API grew by {grown / MiB:.1f} MiB"


@allure.story("A body over a route's limit is refused with 413, even with a token")
def test_authenticated_oversized_body(platform):
    pusher = BodyPusher(platform.url, "/api/v1/devices", 50 * MiB, platform.token)
    pusher.start()
    pusher.join(60)
    assert pusher.answer.startswith(b"HTTP/1.1 413"), pusher.answer[:200]
    assert b"PayloadTooLarge" in pusher.answer


@allure.story("A 20 MB module is refused")
def test_oversized_module(api):
    with pytest.raises(ApiError) as info:
        api.create_application("huge", b"\0asm\x01\0\0\0" + b"\0" * (20 * MiB))
    assert info.value.status == 413
    assert api.applications() == []


@allure.story("The dashboard is served with a content security policy")
def test_dashboard_security_headers(platform, wait_for):
    r = wait_for(lambda: httpx.get(f"{platform.url}/") or Seen("no answer"), 10, "GET /")
    csp = r.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert r.headers["x-content-type-options"] == "nosniff"
