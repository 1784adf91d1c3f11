"""Canonical encodings shared with the C firmware's tests.

`vectors.json` maps a vector name to the hex of a whole frame payload (the envelope);
`invalid_vectors.json` maps a name to {"hex", "error"} for inputs every decoder must refuse
(error = the Python exception class, for reference). Regenerate with
`python -m wasmbed.protocol.vectors` after a schema change; a unit test checks they match.
"""

from __future__ import annotations

import json
from pathlib import Path

import cbor2

from wasmbed.protocol import messages as m
from wasmbed.protocol.codec import encode
from wasmbed.protocol.enums import AppState, DeployStep, ErrorCode, OutputKind

HERE = Path(__file__).parent
VALID_PATH = HERE / "vectors.json"
INVALID_PATH = HERE / "invalid_vectors.json"

SAMPLE_KEY = bytes.fromhex("3059301306072a8648ce3d020106082a8648ce3d03010703420004") + bytes(
    range(64)
)


def samples() -> dict[str, tuple[m.Message, int]]:
    """One or more sample instances per message type, with message ids."""
    return {
        "hello": (m.Hello(versions=[1], firmware="0.1.0", board="stm32f4_discovery"), 1),
        "hello_ack": (m.HelloAck(1, "gw-0", 1_790_000_000, 30), 1),
        "hello_ack_operational": (m.HelloAck(1, "gw-0", 1_790_000_000, 30, "dev-7f3a"), 1),
        "enroll_request": (
            m.EnrollRequest(SAMPLE_KEY, "stm32f4_discovery", "0.1.0", 65536, 16384), 2
        ),
        "enroll_response_accepted": (
            m.EnrollResponse(True, device_id="dev-7f3a", certificate=b"\x30\x82\x01\x00"), 2
        ),
        "enroll_response_rejected": (
            m.EnrollResponse(False, reason="unknown device and pairing mode is off"), 2
        ),
        "heartbeat": (m.Heartbeat(uptime_ms=123456, free_memory=70000, running_apps=["a1"]), 3),
        "heartbeat_empty": (m.Heartbeat(uptime_ms=0, free_memory=0, running_apps=[]), 4),
        "heartbeat_ack": (m.HeartbeatAck(interval_s=30, time_unix=1_790_000_030), 3),
        "deploy_begin": (
            m.DeployBegin("hello-1", 300, bytes(range(32)), "run", 65536, 10_000_000, 1024),
            10,
        ),
        "deploy_chunk": (m.DeployChunk("hello-1", 0, b"\x00asm\x01\x00\x00\x00"), 11),
        "deploy_commit": (m.DeployCommit("hello-1"), 12),
        "deploy_ack_ok": (m.DeployAck("hello-1", DeployStep.CHUNK, 8, True), 11),
        "deploy_ack_hash_mismatch": (
            m.DeployAck(
                "hello-1", DeployStep.COMMIT, 300, False, ErrorCode.HASH_MISMATCH,
                "sha256 mismatch",
            ),
            12,
        ),
        "app_status_running": (m.AppStatus("hello-1", AppState.RUNNING), 5),
        "app_status_failed": (m.AppStatus("trap-1", AppState.FAILED, "integer divide by zero"), 6),
        "app_output_log": (m.AppOutput("hello-1", 0, OutputKind.LOG, text="hello, wasmbed"), 7),
        "app_output_value": (m.AppOutput("counter-1", 3, OutputKind.VALUE, value=-42), 8),
        "app_output_big_value": (m.AppOutput("counter-1", 4, OutputKind.VALUE, value=2**40), 9),
        "stop_app": (m.StopApp("spin-1"), 13),
        "error": (m.Error(ErrorCode.BAD_FRAME, "not well-formed CBOR"), 14),
        "hello_v2": (m.Hello(versions=[1, 2], firmware="0.2.0", board="stm32f4_discovery",
                             max_frame=4092), 1),
    }


def v2_samples() -> dict[str, tuple[m.Message, int]]:
    """Samples that need protocol version 2 envelopes."""
    return {
        "output_ack": (m.OutputAck("counter-1", 4), 15),
        "app_output_log_v2": (m.AppOutput("hello-1", 1, OutputKind.LOG, text="hi"), 7),
    }


def _env(body: object, mtype: int = m.Heartbeat.TYPE, version: int = 1) -> bytes:
    return cbor2.dumps({0: version, 1: mtype, 2: 1, 3: body}, canonical=True)


def _head(major: int, arg: int) -> bytes:
    """The shortest CBOR head of `major` with argument `arg`."""
    if arg < 24:
        return bytes([major << 5 | arg])
    size = next(n for n in (1, 2, 4, 8) if arg < 1 << (8 * n))
    return bytes([major << 5 | {1: 24, 2: 25, 4: 26, 8: 27}[size]]) + arg.to_bytes(size, "big")


def _raw_env(*pairs: bytes) -> bytes:
    """An envelope map from raw encoded key+value pairs, in the order given."""
    return _head(5, len(pairs)) + b"".join(pairs)


_V1, _HB, _ID1 = b"\x00\x01", b"\x01\x05", b"\x02\x01"  # version 1, Heartbeat, id 1
_HB_BODY = bytes.fromhex("a3000101020280")  # {0: 1, 1: 2, 2: []}


def _hb(uptime: bytes = b"\x01", free: bytes = b"\x02", apps: bytes = b"\x80") -> bytes:
    body = b"\xa3\x00" + uptime + b"\x01" + free + b"\x02" + apps
    return _raw_env(_V1, _HB, _ID1, b"\x03" + body)


def _hello(versions: bytes) -> bytes:
    body = b"\xa3\x00" + versions + b"\x01\x61a\x02\x61b"  # {0: versions, 1: "a", 2: "b"}
    return _raw_env(_V1, b"\x01\x01", _ID1, b"\x03" + body)


def _nested_apps(levels: int) -> bytes:
    """Heartbeat whose running_apps is `levels` arrays deep: the innermost array sits at
    depth levels + 2 (envelope 1, body 2)."""
    return _hb(apps=b"\x81" * (levels - 1) + b"\x80")


def invalid_samples() -> dict[str, tuple[bytes, str]]:
    hb = {0: 1, 1: 2, 2: []}
    return {
        "empty": (b"", "MalformedCbor"),
        "not_cbor": (b"\xff\xff", "MalformedCbor"),
        "truncated_map": (_env(hb)[:-3], "MalformedCbor"),
        "trailing_bytes": (_env(hb) + b"\x00", "MalformedCbor"),
        "envelope_not_map": (cbor2.dumps([1, 5, 1, hb]), "WrongFieldType"),
        "missing_body": (cbor2.dumps({0: 1, 1: 5, 2: 1}, canonical=True), "MissingField"),
        "unknown_type": (_env({}, mtype=99), "UnknownMessageType"),
        "unsupported_version": (_env(hb, version=9), "UnsupportedVersion"),
        "missing_field": (_env({0: 1, 1: 2}), "MissingField"),
        "unknown_field": (_env({**hb, 9: 0}), "UnknownField"),
        "wrong_type_text_for_int": (_env({0: "1", 1: 2, 2: []}), "WrongFieldType"),
        "wrong_type_bool_for_int": (_env({0: True, 1: 2, 2: []}), "WrongFieldType"),
        "negative_uptime": (_env({0: -1, 1: 2, 2: []}), "FieldOutOfRange"),
        "list_item_wrong_type": (_env({0: 1, 1: 2, 2: [7]}), "WrongFieldType"),
        "bad_enum": (
            _env({0: "x", 1: 9}, mtype=m.AppStatus.TYPE), "FieldOutOfRange"
        ),
        "tagged_value": (_env({0: cbor2.CBORTag(1, 5), 1: 2, 2: []}), "MalformedCbor"),
        "float_for_int": (_env({0: 1.5, 1: 2, 2: []}), "MalformedCbor"),
        # the deterministic profile (RFC 8949 4.2.1): one class of refusal per vector
        "bignum_tag_2": (_hb(uptime=b"\xc2\x41\x05"), "MalformedCbor"),
        "bignum_tag_3": (_hb(uptime=b"\xc3\x41\x05"), "MalformedCbor"),
        "bignum_4300_digits": (_hb(uptime=b"\xc2\x59\x07\xd0" + b"\xff" * 2000),
                               "MalformedCbor"),
        "bignum_4300_digits_message_type": (
            _raw_env(_V1, b"\x01\xc2\x59\x07\xd0" + b"\xff" * 2000, _ID1, b"\x03" + _HB_BODY),
            "MalformedCbor"),
        "self_describe_tag_55799": (b"\xd9\xd9\xf7" + _hb(), "MalformedCbor"),
        "shareable_tag_28": (_hb(uptime=b"\xd8\x1c\x01"), "MalformedCbor"),
        "shared_ref_tag_29": (_hb(uptime=b"\xd8\x1d\x00"), "MalformedCbor"),
        "stringref_namespace_tag_256": (b"\xd9\x01\x00" + _hb(), "MalformedCbor"),
        "stringref_tag_25": (_hb(apps=b"\x81\xd8\x19\x00"), "MalformedCbor"),
        "tag_with_bad_content": (_hb(uptime=b"\xc2\x01"), "MalformedCbor"),
        "key_true_for_1": (_raw_env(_V1, b"\xf5\x05", _ID1, b"\x03" + _HB_BODY),
                           "MalformedCbor"),  # true sorts after 3 (0xf5 > 0x03)
        "key_true_last": (_raw_env(_V1, b"\x01\x05", _ID1, b"\x03" + _HB_BODY, b"\xf5\x05"),
                          "UnknownField"),
        "key_float_1_0": (_raw_env(_V1, _HB, _ID1, b"\x03" + _HB_BODY, b"\xf9\x3c\x00\x05"),
                          "MalformedCbor"),
        "key_bignum_1": (_raw_env(_V1, _HB, _ID1, b"\x03" + _HB_BODY, b"\xc2\x41\x01\x05"),
                         "MalformedCbor"),
        "key_tag_30": (_raw_env(_V1, _HB, _ID1, b"\x03" + _HB_BODY, b"\xd8\x1e\x01\x05"),
                       "MalformedCbor"),
        "body_text_key": (_raw_env(_V1, _HB, _ID1, b"\x03" + bytes.fromhex("a4000101020280616b00")),
                          "UnknownField"),
        "hello_version_beyond_u32": (_hello(b"\x81\x1b" + (2**32).to_bytes(8, "big")),
                                     "FieldOutOfRange"),
        "hello_negative_version": (_hello(b"\x81\x20"), "FieldOutOfRange"),
        "simple_two_byte_0": (_hb(uptime=b"\xf8\x00"), "MalformedCbor"),
        "simple_two_byte_31": (_hb(uptime=b"\xf8\x1f"), "MalformedCbor"),
        "simple_two_byte_255": (_hb(uptime=b"\xf8\xff"), "MalformedCbor"),
        "simple_undefined": (_hb(uptime=b"\xf7"), "MalformedCbor"),
        "simple_value_16": (_hb(uptime=b"\xf0"), "MalformedCbor"),
        "null_for_int": (_hb(uptime=b"\xf6"), "WrongFieldType"),
        "nesting_at_the_limit": (_nested_apps(14), "WrongFieldType"),
        "nesting_past_the_limit": (_nested_apps(15), "MalformedCbor"),
        "non_minimal_int": (_hb(uptime=b"\x18\x01"), "MalformedCbor"),
        "non_minimal_int_16": (_hb(uptime=b"\x19\x00\xff"), "MalformedCbor"),
        "non_minimal_int_32": (_hb(uptime=b"\x1a\x00\x00\xff\xff"), "MalformedCbor"),
        "non_minimal_int_64": (_hb(uptime=b"\x1b" + (2**32 - 1).to_bytes(8, "big")),
                               "MalformedCbor"),
        "non_minimal_negative": (_hb(uptime=b"\x38\x00"), "MalformedCbor"),
        "non_minimal_map_count": (b"\xb8\x04" + _hb()[1:], "MalformedCbor"),
        "non_minimal_text_length": (_hb(apps=b"\x81\x78\x01a"), "MalformedCbor"),
        "non_minimal_key": (_raw_env(b"\x18\x00\x01", _HB, _ID1, b"\x03" + _HB_BODY),
                            "MalformedCbor"),
        "unsorted_envelope_keys": (_raw_env(_HB, _V1, _ID1, b"\x03" + _HB_BODY), "MalformedCbor"),
        "unsorted_body_keys": (_raw_env(_V1, _HB, _ID1, b"\x03" + bytes.fromhex("a3010200010280")),
                               "MalformedCbor"),
        "duplicate_envelope_key": (_raw_env(_V1, _V1, _HB, _ID1, b"\x03" + _HB_BODY),
                                   "MalformedCbor"),
        "duplicate_body_key": (_raw_env(_V1, _HB, _ID1, b"\x03" + bytes.fromhex(
            "a4000100010102028f")[:-1] + b"\x80"), "MalformedCbor"),
        "negative_version": (_raw_env(b"\x00\x20", _HB, _ID1, b"\x03" + _HB_BODY),
                             "UnsupportedVersion"),
        "message_type_beyond_u32": (
            _raw_env(_V1, b"\x01\x1b" + (2**32 + 5).to_bytes(8, "big"), _ID1, b"\x03" + _HB_BODY),
            "UnknownMessageType"),
        "reserved_additional_info": (_hb(uptime=b"\x1c"), "MalformedCbor"),
        "indefinite_list": (bytes.fromhex("a400010105020103a300010102029f60ff"), "MalformedCbor"),
        "invalid_utf8": (_env({0: 1, 1: 2, 2: []})[:-1] + bytes.fromhex("8161ff"),
                         "MalformedCbor"),
        "text_too_long": (_env({0: "x" * 65}, mtype=m.StopApp.TYPE), "FieldOutOfRange"),
        "message_id_not_u32": (cbor2.dumps({0: 1, 1: 5, 2: 2**32, 3: hb}, canonical=True),
                               "FieldOutOfRange"),
        "envelope_extra_key": (cbor2.dumps({0: 1, 1: 5, 2: 1, 3: hb, 4: 0}, canonical=True),
                               "UnknownField"),
        "v2_message_in_v1_envelope": (_env({0: "m", 1: 1}, mtype=m.OutputAck.TYPE),
                                      "UnknownMessageType"),
    }


def build() -> tuple[dict[str, str], dict[str, dict[str, str]]]:
    valid = {name: encode(msg, msg_id, 1).hex() for name, (msg, msg_id) in samples().items()}
    valid |= {name: encode(msg, msg_id, 2).hex()
              for name, (msg, msg_id) in v2_samples().items()}
    invalid = {
        name: {"hex": data.hex(), "error": err} for name, (data, err) in invalid_samples().items()
    }
    return valid, invalid


def write() -> None:
    valid, invalid = build()
    VALID_PATH.write_text(json.dumps(valid, indent=2, sort_keys=True) + "\n")
    INVALID_PATH.write_text(json.dumps(invalid, indent=2, sort_keys=True) + "\n")


if __name__ == "__main__":
    write()
    print(f"wrote {VALID_PATH} and {INVALID_PATH}")
