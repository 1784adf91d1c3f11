"""Encode and strictly decode message envelopes.

Envelope (a CBOR map, deterministic encoding):
    {0: protocol version, 1: message type, 2: message id (u32), 3: body map}
The body maps each field's wire key to its value. Replies echo the request's message id.
Decoding never trusts the peer: the payload must be one item of the deterministic profile
(`deterministic.loads`), then every type, bound and key is checked, in the order the
firmware's decoder checks them (firmware/src/proto/wb_proto.c), and any deviation raises a
`ProtocolError` subclass - never any other exception.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import Any

import cbor2

from wasmbed.protocol import errors
from wasmbed.protocol.deterministic import Map, loads
from wasmbed.protocol.messages import BY_TYPE
from wasmbed.protocol.schema import LIST_TEXT_MAX, U32, Message, Wire, wire_fields

PROTOCOL_VERSION = 2
SUPPORTED_VERSIONS = (1, 2)
HELLO_VERSION = 1  # Hello and HelloAck always travel in a version-1 envelope

K_VERSION, K_TYPE, K_ID, K_BODY = 0, 1, 2, 3


@dataclass(frozen=True)
class Envelope:
    message: Message
    msg_id: int
    version: int = PROTOCOL_VERSION


def encode(message: Message, msg_id: int, version: int = PROTOCOL_VERSION) -> bytes:
    """Canonical CBOR of one envelope. Fields newer than `version` and unset optional
    fields are omitted; a message newer than `version` cannot be sent at all."""
    if type(message).SINCE > version:
        raise errors.UnknownMessageType(f"{type(message).__name__} needs protocol version "
                                        f"{type(message).SINCE}; this link speaks {version}")
    body: dict[int, Any] = {}
    for name, meta in wire_fields(type(message)):
        value = getattr(message, name)
        if value is None or meta.since > version:
            continue
        if isinstance(value, IntEnum):
            value = int(value)
        _check_value(type(message).__name__, name, meta, value)
        body[meta.key] = value
    if not (U32[0] <= msg_id <= U32[1]):
        raise errors.FieldOutOfRange(f"message id {msg_id} is not a u32")
    env = {K_VERSION: version, K_TYPE: message.TYPE, K_ID: msg_id, K_BODY: body}
    return cbor2.dumps(env, canonical=True)


def decode(payload: bytes) -> Envelope:
    """Decode one envelope; raises a `ProtocolError` subclass for any malformed input."""
    raw = loads(payload)
    if not isinstance(raw, Map):
        raise errors.WrongFieldType(f"envelope must be a CBOR map, got {_cbor_kind(raw)}")
    slots = {k: v for k, v in raw.int_keys().items() if k in (K_VERSION, K_TYPE, K_ID, K_BODY)}
    for key in (K_VERSION, K_TYPE, K_ID, K_BODY):
        if key not in slots:
            raise errors.MissingField(f"envelope key {key} is missing")
    if len(raw.pairs) != len(slots):
        extra = [_short(k) for k, _ in raw.pairs if not (type(k) is int and k in slots)]
        raise errors.UnknownField(f"unknown envelope keys {extra}")
    version, mtype, msg_id, body = slots[K_VERSION], slots[K_TYPE], slots[K_ID], slots[K_BODY]
    for label, v in (("version", version), ("message type", mtype), ("message id", msg_id)):
        if not _is_int(v):
            raise errors.WrongFieldType(f"envelope {label} must be an unsigned integer")
    if version not in SUPPORTED_VERSIONS:
        raise errors.UnsupportedVersion(
            f"protocol version {version} is not supported (supported: {SUPPORTED_VERSIONS})"
        )
    if not (U32[0] <= msg_id <= U32[1]):
        raise errors.FieldOutOfRange(f"message id {msg_id} is not a u32")
    cls = BY_TYPE.get(mtype)
    if cls is None:
        raise errors.UnknownMessageType(f"unknown message type {mtype}")
    if cls.SINCE > version:
        raise errors.UnknownMessageType(f"message type {mtype} ({cls.__name__}) does not exist "
                                        f"in protocol version {version}")
    if not isinstance(body, Map):
        raise errors.WrongFieldType(f"{cls.__name__} body must be a CBOR map")
    return Envelope(_decode_body(cls, body, version), msg_id, version)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _decode_body(cls: type[Message], body: Map, version: int) -> Message:
    fields = {meta.key: (name, meta) for name, meta in wire_fields(cls) if meta.since <= version}
    unknown = [_short(k) for k, _ in body.pairs if not (type(k) is int and k in fields)]
    if unknown:
        raise errors.UnknownField(f"{cls.__name__}: unknown field keys {unknown}")
    values = body.int_keys()
    kwargs: dict[str, Any] = {}
    for key, (name, meta) in sorted(fields.items()):
        if key not in values:
            if meta.optional:
                continue
            raise errors.MissingField(f"{cls.__name__}.{name} (key {key}) is missing")
        _check_value(cls.__name__, name, meta, values[key])
        kwargs[name] = values[key]
    return cls(**kwargs)


def _check_value(msg: str, name: str, meta: Wire, value: Any) -> None:
    where = f"{msg}.{name}"
    _check_kind(where, meta.kind, value)
    if meta.kind is list:
        assert meta.item is not None
        for i, item in enumerate(value):
            _check_kind(f"{where}[{i}]", meta.item, item)
            if meta.item is str and len(item.encode()) > LIST_TEXT_MAX:
                raise errors.FieldOutOfRange(f"{where}[{i}] is longer than {LIST_TEXT_MAX} "
                                             "bytes")
            if meta.item is int and not (U32[0] <= item <= U32[1]):
                raise errors.FieldOutOfRange(f"{where}[{i}]={item} is not a u32")
    if meta.max_len is not None:
        size = len(value.encode()) if isinstance(value, str) else len(value)
        if size > meta.max_len:
            raise errors.FieldOutOfRange(f"{where} has length {size}, max {meta.max_len}")
    if meta.range is not None and not (meta.range[0] <= value <= meta.range[1]):
        raise errors.FieldOutOfRange(f"{where}={value} is outside {meta.range}")
    if meta.enum is not None and value not in {m.value for m in meta.enum}:
        raise errors.FieldOutOfRange(f"{where}={value} is not a valid {meta.enum.__name__}")


def _check_kind(where: str, kind: type, value: Any) -> None:
    ok = _is_int(value) if kind is int else type(value) is kind
    if not ok:
        raise errors.WrongFieldType(
            f"{where} must be {kind.__name__}, got {_cbor_kind(value)}"
        )


def _is_int(value: Any) -> bool:
    return type(value) is int  # bool is an int subclass; CBOR true is not an integer


def _cbor_kind(value: Any) -> str:
    return "map" if isinstance(value, Map) else type(value).__name__


