"""Encode and strictly decode message envelopes.

Envelope (a CBOR map, canonical encoding):
    {0: protocol version, 1: message type, 2: message id (u32), 3: body map}
The body maps each field's wire key to its value. Replies echo the request's message id.
Decoding never trusts the peer: every type, bound and key is checked, and any deviation
raises a `ProtocolError` subclass.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

import cbor2

from wasmbed.protocol import errors
from wasmbed.protocol.messages import BY_TYPE
from wasmbed.protocol.schema import U32, Message, Wire, wire_fields

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
    raw = _loads_exactly_one(payload)
    if not isinstance(raw, dict):
        raise errors.WrongFieldType(f"envelope must be a CBOR map, got {_cbor_kind(raw)}")
    for key in (K_VERSION, K_TYPE, K_ID, K_BODY):
        if key not in raw:
            raise errors.MissingField(f"envelope key {key} is missing")
    extra = set(raw) - {K_VERSION, K_TYPE, K_ID, K_BODY}
    if extra:
        raise errors.UnknownField(f"unknown envelope keys {sorted(map(repr, extra))}")
    version, mtype, msg_id, body = raw[K_VERSION], raw[K_TYPE], raw[K_ID], raw[K_BODY]
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
    if not isinstance(body, dict):
        raise errors.WrongFieldType(f"{cls.__name__} body must be a CBOR map")
    return Envelope(_decode_body(cls, body, version), msg_id, version)


def _decode_body(cls: type[Message], body: dict[Any, Any], version: int) -> Message:
    fields = {meta.key: (name, meta) for name, meta in wire_fields(cls) if meta.since <= version}
    unknown = [k for k in body if k not in fields]
    if unknown:
        raise errors.UnknownField(f"{cls.__name__}: unknown field keys {unknown!r}")
    kwargs: dict[str, Any] = {}
    for key, (name, meta) in fields.items():
        if key not in body:
            if meta.optional:
                continue
            raise errors.MissingField(f"{cls.__name__}.{name} (key {key}) is missing")
        _check_value(cls.__name__, name, meta, body[key])
        kwargs[name] = body[key]
    return cls(**kwargs)


def _check_value(msg: str, name: str, meta: Wire, value: Any) -> None:
    where = f"{msg}.{name}"
    _check_kind(where, meta.kind, value)
    if meta.kind is list:
        assert meta.item is not None
        for i, item in enumerate(value):
            _check_kind(f"{where}[{i}]", meta.item, item)
            if meta.item is str and len(item.encode()) > 64:
                raise errors.FieldOutOfRange(f"{where}[{i}] is longer than 64 bytes")
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
    return type(value).__name__


def _loads_exactly_one(payload: bytes) -> Any:
    if not payload:
        raise errors.MalformedCbor("empty payload")
    fp = io.BytesIO(payload)
    try:
        value = cbor2.CBORDecoder(fp, max_depth=16, allow_indefinite=False).decode()
    except (cbor2.CBORDecodeError, RecursionError, ValueError, OverflowError) as exc:
        raise errors.MalformedCbor(f"not well-formed CBOR: {exc}") from exc
    if fp.tell() != len(payload):
        raise errors.MalformedCbor(f"{len(payload) - fp.tell()} trailing bytes after CBOR item")
    return value
