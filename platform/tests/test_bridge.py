"""The bridge's record tracker: bytes pass unchanged; a ClientHello at a record start opens
a new session wherever the stream is cut, and nothing else does."""

from __future__ import annotations

from wasmbed.bridge import TlsRecordTracker


def record(rtype: int, payload: bytes) -> bytes:
    return bytes([rtype, 3, 3]) + len(payload).to_bytes(2, "big") + payload


HELLO = bytes([0x16, 3, 1]) + (5).to_bytes(2, "big") + bytes([1, 0, 0, 1, 0])
TRICKY = record(0x17, b"\x16\x03\x01\x00\x05\x01abc")  # looks like a hello inside a record


def run(stream: bytes, cuts: list[int]) -> list[tuple[bool, bytes]]:
    t = TlsRecordTracker()
    out: list[tuple[bool, bytes]] = []
    edges = [0, *cuts, len(stream)]
    for a, b in zip(edges, edges[1:], strict=False):
        out += t.feed(stream[a:b])
    return out


def test_split_anywhere_gives_same_bytes_and_one_new_session():
    stream = TRICKY + HELLO + record(0x17, b"x" * 40)
    for cut in range(1, len(stream)):
        segments = run(stream, [cut])
        assert b"".join(s for _, s in segments) == stream, cut
        firsts = [i for i, (new, _) in enumerate(segments) if new]
        assert len(firsts) == 1, (cut, segments)
        before = b"".join(s for _, s in segments[:firsts[0]])
        assert before == TRICKY, cut


def test_byte_by_byte_like_a_uart():
    stream = HELLO + record(0x16, b"\x02server") + HELLO
    segments = run(stream, list(range(1, len(stream))))
    assert b"".join(s for _, s in segments) == stream
    assert sum(new for new, _ in segments) == 2


def test_garbage_is_forwarded_and_resynced():
    stream = b"\x00\xff" + HELLO
    segments = run(stream, [])
    assert b"".join(s for _, s in segments) == stream
    assert [new for new, _ in segments] == [False, True]
