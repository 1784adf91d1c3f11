"""Allure groups a category's defects by message: repeats of one failure must share it."""

from __future__ import annotations

import json
from pathlib import Path

from harness.allure_results import clear_record, defect_key, group_defects


def test_waits_group_by_the_condition_awaited():
    one = ("wasmbed.waiting.WaitTimeout: timed out after 3.0 s waiting for dev-1 Connected; "
           "last seen: {'phase': 'Revoked', 'port': 40211}")
    two = ("wasmbed.waiting.WaitTimeout: timed out after 12.5 s waiting for dev-1 Connected; "
           "last seen: {'phase': 'Enrolling', 'port': 33797}")
    assert defect_key(one) == defect_key(two) \
        == "WaitTimeout: timed out waiting for dev-N Connected"


def test_generated_names_group_whatever_their_random_part():
    """The harness names things `prefix-` and six random hex digits: about one name in 360
    has no decimal digit in them ("vdev-addbad"), and its failure got a group of its own
    (seen once in harness/tests/test_report.py)."""
    def waited(name: str) -> str:
        return defect_key(f"wasmbed.waiting.WaitTimeout: timed out after 3.0 s waiting for "
                          f"{name}-0 Revoked")

    assert waited("vdev-addbad") == waited("vdev-1a2b3c") == waited("vdev-000000") \
        == "WaitTimeout: timed out waiting for vdev-<hex>-N Revoked"
    assert waited("gw-facade") == "WaitTimeout: timed out waiting for gw-<hex>-N Revoked"
    assert defect_key("AssertionError: digest 9f86d081884c") == "AssertionError: digest <hex>"
    assert defect_key("AssertionError: phase was Failed, not decade") \
        == "AssertionError: phase was Failed, not decade"  # words stay


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


def test_clearing_the_last_record_tolerates_another_run_clearing_it_too(tmp_path, monkeypatch):
    """Two pytest runs started together in one checkout both clear the last run's record:
    a file the other run removed between our listing and our unlink is not an error (it
    was an INTERNALERROR that ended the run before any test)."""
    results = tmp_path / "allure-results"
    results.mkdir()
    (results / "kept-by-nobody-result.json").write_text("{}")
    (results / "history").mkdir()  # directories are not the record's files
    gone = results / "removed-by-the-other-run-container.json"
    listed = [*results.iterdir(), gone]
    monkeypatch.setattr(Path, "iterdir", lambda self: iter(listed) if self == results
                        else iter(()))
    monkeypatch.setattr(Path, "is_file", lambda self: self.suffix == ".json")
    clear_record(results, [tmp_path / "reports" / "firmware-gone.json"])
    monkeypatch.undo()
    assert [p.name for p in results.iterdir()] == ["history"]
