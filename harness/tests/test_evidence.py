"""JSON-lines evidence (protocol traces, fleet stats) is read while its process is still
appending to it."""

import json

from harness.evidence import read_json_lines


def test_a_line_still_being_written_is_left_for_the_next_read(tmp_path):
    trace = tmp_path / "gw-trace.jsonl"
    whole = {"ts": 1.0, "dir": "device->gateway", "type": "Heartbeat", "id": 3, "fields": {}}
    trace.write_text(json.dumps(whole) + "\n" + '{"ts": 2.0, "dir": "gateway->device"')
    assert read_json_lines(trace) == [whole]
    with trace.open("a") as fp:
        fp.write(', "type": "HeartbeatAck", "id": 3, "fields": {}}\n')
    assert [r["type"] for r in read_json_lines(trace)] == ["Heartbeat", "HeartbeatAck"]


def test_a_trace_not_yet_written_reads_as_empty(tmp_path):
    assert read_json_lines(tmp_path / "absent-trace.jsonl") == []
