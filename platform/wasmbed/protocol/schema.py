"""The declarative schema every message class is built from.

A message is a frozen dataclass whose fields carry a wire key and bounds in their metadata
(`wire(...)`). The codec reads only this metadata, so the C firmware's encoder, the docs and
the test vectors all follow one definition. Keys are small integers so frames stay compact
on a Cortex-M; canonical CBOR (sorted keys, shortest ints) makes encodings byte-exact.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, ClassVar

U32 = (0, 2**32 - 1)  # also the range of every item of a list of ints
LIST_TEXT_MAX = 64  # UTF-8 bytes of each item of a list of text
U64 = (0, 2**64 - 1)
I64 = (-(2**63), 2**63 - 1)


@dataclass(frozen=True)
class Wire:
    """Wire metadata of one message field."""

    key: int
    kind: type  # int, bool, str, bytes or list (of str)
    optional: bool = False
    max_len: int | None = None  # str: UTF-8 bytes; bytes: length; list: items
    range: tuple[int, int] | None = None  # int bounds, inclusive
    enum: type | None = None  # IntEnum the int must belong to
    since: int = 1  # first protocol version carrying the field
    item: type | None = None  # list item kind (int or str)


def wire(
    key: int,
    kind: type,
    *,
    optional: bool = False,
    max_len: int | None = None,
    range: tuple[int, int] | None = None,
    enum: type | None = None,
    since: int = 1,
    item: type | None = None,
) -> Any:
    """Declare a dataclass field with its wire metadata (optional fields default to None).
    An int field must say its range or enum: the C tables have no "unbounded"."""
    if kind is int and range is None and enum is None:
        raise TypeError(f"wire key {key}: an int field needs a range or an enum")
    meta = {"wire": Wire(key, kind, optional, max_len, range, enum, since, item)}
    if optional:
        return dataclasses.field(default=None, metadata=meta)
    return dataclasses.field(metadata=meta)


class Message:
    """Base of every wire message; `TYPE` is the envelope's message-type code, `SINCE` the
    first protocol version that has the message."""

    TYPE: ClassVar[int]
    SINCE: ClassVar[int] = 1


def wire_fields(cls: type[Message]) -> list[tuple[str, Wire]]:
    """The (attribute name, wire metadata) pairs of a message class, in key order."""
    pairs = [(f.name, f.metadata["wire"]) for f in dataclasses.fields(cls)]  # type: ignore[arg-type]
    return sorted(pairs, key=lambda p: p[1].key)
