"""Typed decoding errors.

Every way a peer can send us garbage maps to one of these classes, so callers can answer
with an `Error` message (or close the link) instead of crashing. `code` is the wire
`ErrorCode` the receiver should send back.
"""

from __future__ import annotations

from wasmbed.protocol.enums import ErrorCode


class ProtocolError(Exception):
    """Base class: a frame or message that does not follow the schema."""

    code: ErrorCode = ErrorCode.BAD_FRAME


class MalformedCbor(ProtocolError):
    """The payload is not one well-formed CBOR item (or has trailing bytes)."""


class FrameTooLarge(ProtocolError):
    """The length prefix announces more than the configured maximum frame size."""


class TruncatedFrame(ProtocolError):
    """The stream ended in the middle of a frame."""


class UnsupportedVersion(ProtocolError):
    """The envelope carries a protocol version this side does not speak."""

    code = ErrorCode.UNSUPPORTED_VERSION


class UnknownMessageType(ProtocolError):
    """The envelope's type key names no known message."""


class MissingField(ProtocolError):
    """A required field (or envelope key) is absent."""


class UnknownField(ProtocolError):
    """A body key that the message's schema does not define at this version."""


class WrongFieldType(ProtocolError):
    """A field has the wrong CBOR type (e.g. text where bytes are expected)."""


class FieldOutOfRange(ProtocolError):
    """A field has the right type but a value outside its bounds (length, range, enum)."""
