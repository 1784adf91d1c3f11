"""Allure groups a category's defects by message: repeats of one failure must share it."""

from __future__ import annotations

import json

from harness.allure_results import defect_key, group_defects


def test_waits_group_by_the_condition_awaited():
    one = ("wasmbed.waiting.WaitTimeout: timed out after 3.0 s waiting for dev-1 Connected; "
           "last seen: {'phase': 'Revoked', 'port': 40211}")
    two = ("wasmbed.waiting.WaitTimeout: timed out after 12.5 s waiting for dev-1 Connected; "
           "last seen: {'phase': 'Enrolling', 'port': 33797}")
    assert defect_key(one) == defect_key(two) \
        == "WaitTimeout: timed out waiting for dev-N Connected"


def test_other_errors_keep_their_type_and_lose_ports_and_paths():
    a = "httpx.ConnectError: [Errno 111] Connection refused to 127.0.0.1:40111 (/tmp/pytest-3/x)"
    b = "httpx.ConnectError: [Errno 111] Connection refused to 127.0.0.1:39999 (/tmp/pytest-9/y)"
    assert defect_key(a) == defect_key(b)
    assert defect_key(a).startswith("ConnectError: [Errno N] Connection refused")
    assert defect_key("AssertionError: phase was Failed") != defect_key("ValueError: bad")


def test_results_keep_the_full_message_in_the_trace(tmp_path):
    message = "wasmbed.waiting.WaitTimeout: timed out after 3.0 s waiting for x; last seen: 7"
    result = {"status": "failed", "statusDetails": {"message": message, "trace": "tb"}}
    passed = {"status": "passed", "statusDetails": {"message": "kept 42"}}
    (tmp_path / "a-result.json").write_text(json.dumps(result))
    (tmp_path / "b-result.json").write_text(json.dumps(passed))
    group_defects(tmp_path)
    details = json.loads((tmp_path / "a-result.json").read_text())["statusDetails"]
    assert details["message"] == "WaitTimeout: timed out waiting for x"
    assert details["trace"].startswith(message) and details["trace"].endswith("tb")
    assert json.loads((tmp_path / "b-result.json").read_text())["statusDetails"]["message"] \
        == "kept 42"
