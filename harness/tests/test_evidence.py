"""Protocol traces are read while the gateway or a device is still appending to them."""

import json

from harness.evidence import read_trace


def test_a_line_still_being_written_is_left_for_the_next_read(tmp_path):
    trace = tmp_path / "gw-trace.jsonl"
    whole = {"ts": 1.0, "dir": "device->gateway", "type": "Heartbeat", "id": 3, "fields": {}}
    trace.write_text(json.dumps(whole) + "\n" + '{"ts": 2.0, "dir": "gateway->device"')
    assert read_trace(trace) == [whole]
    with trace.open("a") as fp:
        fp.write(', "type": "HeartbeatAck", "id": 3, "fields": {}}\n')
    assert [r["type"] for r in read_trace(trace)] == ["Heartbeat", "HeartbeatAck"]


def test_a_trace_not_yet_written_reads_as_empty(tmp_path):
    assert read_trace(tmp_path / "absent-trace.jsonl") == []
