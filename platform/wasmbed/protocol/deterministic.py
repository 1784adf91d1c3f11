"""The one CBOR profile the protocol accepts: RFC 8949 §4.2.1 core deterministic encoding,
read strictly. The firmware's reader (firmware/src/proto/wb_cbor.c) applies the same rules,
and a differential fuzzer (harness/fuzz) holds the two to it.

An item is refused (`MalformedCbor`) when it is not well-formed, or when it is well-formed
but outside the profile:
- a head that is not the shortest for its argument (integers, lengths, counts);
- an indefinite length, a reserved additional-information value (28-30);
- a tag (major type 6) of any number;
- a major-type-7 item other than false, true and null (no floats, undefined or other simple
  values, and no two-byte simple values);
- a text string that is not valid UTF-8;
- map keys that are not in strictly increasing order of their encoded bytes (so unsorted
  keys and duplicate keys alike);
- nesting deeper than `MAX_DEPTH` items;
- bytes after the item, or no item at all.

cbor2 cannot refuse most of these (it decodes tags, floats and non-minimal heads, and a
dict merges keys that compare equal, such as 1, 1.0 and true), so this reader is our own.
Maps come back as `Map`, a list of (key, value) pairs in wire order, so no key is lost to
Python's notion of equality; everything else as int, bytes, str, bool, None or list.
Integers are at most 64 bits by construction (no bignums), so no value can trip Python's
int-to-string limit later.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from wasmbed.protocol.errors import MalformedCbor

MAX_DEPTH = 16  # items nest at most this deep (the top-level item is depth 1)
SIMPLE = {20: False, 21: True, 22: None}


@dataclass
class Map:
    """A CBOR map as decoded: (key, value) pairs in wire (= sorted) order."""

    pairs: list[tuple[Any, Any]] = field(default_factory=list)

    def int_keys(self) -> dict[int, Any]:
        """The entries whose key is a CBOR integer (true and 1.0 are not)."""
        return {k: v for k, v in self.pairs if type(k) is int}


def loads(payload: bytes) -> Any:
    """Exactly one item of the deterministic profile, or `MalformedCbor`."""
    if not payload:
        raise MalformedCbor("empty payload")
    value, end = _item(payload, 0, 1)
    if end != len(payload):
        raise MalformedCbor(f"{len(payload) - end} trailing bytes after the CBOR item")
    return value


def _head(data: bytes, at: int) -> tuple[int, int, int, int]:
    """(major type, additional info, argument, offset after the head)."""
    if at >= len(data):
        raise MalformedCbor(f"truncated: no item head at offset {at}")
    initial = data[at]
    major, info = initial >> 5, initial & 0x1F
    if info < 24:
        return major, info, info, at + 1
    if info > 27:
        what = "an indefinite length" if info == 31 else f"reserved additional info {info}"
        raise MalformedCbor(f"{what} at offset {at}")
    size = 1 << (info - 24)
    if at + 1 + size > len(data):
        raise MalformedCbor(f"truncated: head at offset {at} needs {size} more bytes")
    arg = int.from_bytes(data[at + 1 : at + 1 + size], "big")
    if major != 7 and arg < (24 if size == 1 else 1 << (4 * size)):
        raise MalformedCbor(f"non-canonical head at offset {at}: {arg} fits a shorter one")
    return major, info, arg, at + 1 + size


def _item(data: bytes, at: int, depth: int) -> tuple[Any, int]:
    if depth > MAX_DEPTH:
        raise MalformedCbor(f"nested deeper than {MAX_DEPTH} levels at offset {at}")
    major, info, arg, pos = _head(data, at)
    if major == 0:
        return arg, pos
    if major == 1:
        return -1 - arg, pos
    if major in (2, 3):
        if arg > len(data) - pos:
            raise MalformedCbor(f"truncated: string at offset {at} announces {arg} bytes")
        raw = data[pos : pos + arg]
        if major == 2:
            return bytes(raw), pos + arg
        try:
            return raw.decode("utf-8"), pos + arg
        except UnicodeDecodeError:
            raise MalformedCbor(f"text string at offset {at} is not valid UTF-8") from None
    if major == 4:
        items = []
        for _ in range(arg):
            if pos >= len(data):
                raise MalformedCbor(f"truncated: array at offset {at} announces {arg} items")
            value, pos = _item(data, pos, depth + 1)
            items.append(value)
        return items, pos
    if major == 5:
        pairs: list[tuple[Any, Any]] = []
        previous = b""
        for i in range(arg):
            if pos >= len(data):
                raise MalformedCbor(f"truncated: map at offset {at} announces {arg} entries")
            key_at = pos
            key, pos = _item(data, pos, depth + 1)
            encoded = data[key_at:pos]
            if i and encoded <= previous:
                what = "duplicate" if encoded == previous else "unsorted"
                raise MalformedCbor(f"{what} map key at offset {key_at} (keys must be in "
                                    "increasing order of their encoding)")
            previous = encoded
            value, pos = _item(data, pos, depth + 1)
            pairs.append((key, value))
        return Map(pairs), pos
    if major == 6:
        raise MalformedCbor(f"tag at offset {at}: the protocol has no tags")
    if info in SIMPLE:
        return SIMPLE[info], pos
    raise MalformedCbor(f"major type 7 item 0x{data[at]:02x} at offset {at}: only false, "
                        "true and null are allowed")
