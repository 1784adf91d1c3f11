"""Protocol: every message round-trips; every malformed input is a typed error."""

from __future__ import annotations

import asyncio
import json

import cbor2
import pytest

from wasmbed.protocol import (
    ALL_MESSAGES,
    DEFAULT_MAX_FRAME,
    FrameDecoder,
    FrameReader,
    Heartbeat,
    OutputAck,
    ProtocolError,
    decode,
    encode,
    frame,
    vectors,
)
from wasmbed.protocol import errors as E

SAMPLES = {name: (msg, msg_id, 1) for name, (msg, msg_id) in vectors.samples().items()} | {
    name: (msg, msg_id, 2) for name, (msg, msg_id) in vectors.v2_samples().items()}


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_round_trip(name):
    msg, msg_id, version = SAMPLES[name]
    env = decode(encode(msg, msg_id, version))
    assert env.message == msg and env.msg_id == msg_id and env.version == version


def test_every_message_type_has_a_vector():
    covered = {type(m) for m, _, _ in SAMPLES.values()}
    assert covered == set(ALL_MESSAGES)


def test_a_version_2_message_cannot_be_sent_on_a_version_1_link():
    with pytest.raises(E.UnknownMessageType):
        encode(OutputAck("m@1", 1), 1, version=1)


def test_encoding_is_canonical_and_stable():
    a = encode(Heartbeat(uptime_ms=5, free_memory=6, running_apps=["x"]), 9)
    assert a == cbor2.dumps(cbor2.loads(a), canonical=True)
    assert encode(Heartbeat(5, 6, ["x"]), 9) == a


def test_committed_vectors_match_the_schema():
    valid, invalid = vectors.build()
    assert json.loads(vectors.VALID_PATH.read_text()) == valid, \
        "vectors.json is stale: run python -m wasmbed.protocol.vectors"
    assert json.loads(vectors.INVALID_PATH.read_text()) == invalid


@pytest.mark.parametrize("name", sorted(vectors.invalid_samples()))
def test_malformed_input_is_a_typed_error(name):
    data, expected = vectors.invalid_samples()[name]
    with pytest.raises(ProtocolError) as info:
        decode(data)
    assert type(info.value).__name__ == expected


def test_deep_nesting_is_refused_not_a_crash():
    payload = b"\x81" * 5000 + b"\x00"
    with pytest.raises(E.MalformedCbor):
        decode(payload)


def test_encode_refuses_out_of_range_values():
    with pytest.raises(E.FieldOutOfRange):
        encode(Heartbeat(uptime_ms=-1, free_memory=0, running_apps=[]), 1)
    with pytest.raises(E.FieldOutOfRange):
        encode(Heartbeat(0, 0, []), 2**32)


def test_frame_decoder_reassembles_split_frames():
    payloads = [encode(Heartbeat(i, i, []), i) for i in range(3)]
    stream = b"".join(frame(p) for p in payloads)
    dec = FrameDecoder()
    out = []
    for i in range(0, len(stream), 3):
        out += dec.feed(stream[i:i + 3])
    assert out == payloads
    dec.close()


def test_frame_decoder_refuses_oversized_before_buffering():
    dec = FrameDecoder(max_frame=1024)
    with pytest.raises(E.FrameTooLarge):
        dec.feed((2**31).to_bytes(4, "big"))


def test_frame_decoder_reports_truncation_at_close():
    dec = FrameDecoder()
    dec.feed(frame(b"\xa0")[:-1])
    with pytest.raises(E.TruncatedFrame):
        dec.close()


def test_frame_refuses_payload_over_max():
    with pytest.raises(E.FrameTooLarge):
        frame(b"x" * (DEFAULT_MAX_FRAME + 1))


def test_frame_refuses_an_empty_payload_every_receiver_would_refuse():
    with pytest.raises(E.MalformedCbor):
        frame(b"")


def test_an_empty_frame_is_malformed_not_too_large():
    with pytest.raises(E.MalformedCbor):
        FrameDecoder().feed(b"\x00\x00\x00\x00")


@pytest.mark.parametrize("chunk", [1, 3, 7, 1000])
def test_a_bad_header_never_costs_the_frames_before_it(chunk):
    """Every good frame before a bad header is delivered, however the bytes arrive; the
    error comes after them, and stays."""
    good = [encode(Heartbeat(i, i, []), i) for i in range(3)]
    stream = b"".join(frame(p) for p in good) + (2**31).to_bytes(4, "big") + b"junk"
    dec, out = FrameDecoder(max_frame=1024), []
    with pytest.raises(E.FrameTooLarge):
        for i in range(0, len(stream), chunk):
            out += dec.feed(stream[i:i + chunk])
        dec.close()
    assert out == good
    with pytest.raises(E.FrameTooLarge):
        dec.feed(frame(good[0]))


@pytest.mark.parametrize("digits_bytes", [1, 2000, 60000])
def test_huge_integers_are_a_protocol_error_not_a_value_error(digits_bytes):
    """A bignum of more than 4300 digits once escaped as ValueError (Python's int-to-string
    limit, hit while formatting the error)."""
    big = b"\xc2\x5a" + digits_bytes.to_bytes(4, "big") + b"\xff" * digits_bytes
    for payload in (big, b"\xa4\x00" + big + b"\x01\x05\x02\x01\x03\xa0"):
        with pytest.raises(E.MalformedCbor):
            decode(payload)


async def _read_all(data: bytes, max_frame: int = DEFAULT_MAX_FRAME) -> list[bytes]:
    reader = asyncio.StreamReader()
    reader.feed_data(data)
    reader.feed_eof()
    fr = FrameReader(reader, max_frame)
    out = []
    while (p := await fr.read()) is not None:
        out.append(p)
    return out


async def test_frame_reader_clean_eof_and_truncation():
    assert await _read_all(frame(b"\xa0") + frame(b"\xa1")) == [b"\xa0", b"\xa1"]
    with pytest.raises(E.TruncatedFrame):
        await _read_all(frame(b"\xa0\xa0")[:-1])
    with pytest.raises(E.TruncatedFrame):
        await _read_all(b"\x00\x00")
    with pytest.raises(E.FrameTooLarge):
        await _read_all((70000).to_bytes(4, "big") + b"x", max_frame=65536)
    with pytest.raises(E.MalformedCbor):
        await _read_all(b"\x00\x00\x00\x00")
