"""The device <-> gateway messages (protocol versions 1 and 2).

Direction is part of each docstring; the mapping from the seed system's messages is in
docs/PROTOCOL.md. Hello and HelloAck travel in a version-1 envelope (the version is not
agreed yet); everything after uses the version HelloAck chose.
"""

from __future__ import annotations

from dataclasses import dataclass

from wasmbed.protocol.enums import AppState, DeployStep, ErrorCode, OutputKind
from wasmbed.protocol.schema import I64, U32, U64, Message, wire

MODULE_ID_MAX = 64
TEXT_MAX = 256
NAME_MAX = 64


@dataclass(frozen=True)
class Hello(Message):
    """device -> gateway, first frame of every session: the versions the device speaks, and
    (optional) the largest frame payload it accepts - the gateway sizes what it sends to it."""

    TYPE = 1
    versions: list[int] = wire(0, list, max_len=8, item=int)
    firmware: str = wire(1, str, max_len=NAME_MAX)
    board: str = wire(2, str, max_len=NAME_MAX)
    max_frame: int | None = wire(3, int, optional=True, range=(64, 2**32 - 1))


@dataclass(frozen=True)
class HelloAck(Message):
    """gateway -> device: chosen version, gateway time (devices have no clock), and the
    device id when the session was opened with an operational certificate."""

    TYPE = 2
    version: int = wire(0, int, range=(1, 255))
    gateway: str = wire(1, str, max_len=NAME_MAX)
    time_unix: int = wire(2, int, range=U64)
    heartbeat_interval_s: int = wire(3, int, range=(1, 86400))
    device_id: str | None = wire(4, str, optional=True, max_len=NAME_MAX)


@dataclass(frozen=True)
class EnrollRequest(Message):
    """device -> gateway over a bootstrap-cert session. `public_key` (SPKI DER) must be the
    key of the bootstrap certificate the TLS handshake proved possession of."""

    TYPE = 3
    public_key: bytes = wire(0, bytes, max_len=512)
    board: str = wire(1, str, max_len=NAME_MAX)
    firmware_version: str = wire(2, str, max_len=NAME_MAX)
    wasm_ram: int = wire(3, int, range=U32)
    max_module_size: int = wire(4, int, range=U32)


@dataclass(frozen=True)
class EnrollResponse(Message):
    """gateway -> device: accepted with an operational certificate (DER), or rejected."""

    TYPE = 4
    accepted: bool = wire(0, bool)
    reason: str | None = wire(1, str, optional=True, max_len=TEXT_MAX)
    device_id: str | None = wire(2, str, optional=True, max_len=NAME_MAX)
    certificate: bytes | None = wire(3, bytes, optional=True, max_len=2048)


@dataclass(frozen=True)
class Heartbeat(Message):
    """device -> gateway, every heartbeat interval."""

    TYPE = 5
    uptime_ms: int = wire(0, int, range=U64)
    free_memory: int = wire(1, int, range=U32)
    running_apps: list[str] = wire(2, list, max_len=16, item=str)


@dataclass(frozen=True)
class HeartbeatAck(Message):
    """gateway -> device: the interval to use next, and the gateway's time."""

    TYPE = 6
    interval_s: int = wire(0, int, range=(1, 86400))
    time_unix: int = wire(1, int, range=U64)


@dataclass(frozen=True)
class DeployBegin(Message):
    """gateway -> device: announce a module. The device answers DeployAck(step=BEGIN) with
    `offset` = bytes it already holds of this exact module (resume after a reconnect)."""

    TYPE = 7
    module_id: str = wire(0, str, max_len=MODULE_ID_MAX)
    size: int = wire(1, int, range=U32)
    sha256: bytes = wire(2, bytes, max_len=32)
    entry: str = wire(3, str, max_len=NAME_MAX)
    memory_limit: int = wire(4, int, range=U32)
    fuel_limit: int = wire(5, int, range=U64)
    chunk_size: int = wire(6, int, range=(1, 65536))


@dataclass(frozen=True)
class DeployChunk(Message):
    """gateway -> device: `data` belongs at `offset`; chunks are sent in order."""

    TYPE = 8
    module_id: str = wire(0, str, max_len=MODULE_ID_MAX)
    offset: int = wire(1, int, range=U32)
    data: bytes = wire(2, bytes, max_len=65536)


@dataclass(frozen=True)
class DeployCommit(Message):
    """gateway -> device: all chunks sent; verify sha256, load and start the module."""

    TYPE = 9
    module_id: str = wire(0, str, max_len=MODULE_ID_MAX)


@dataclass(frozen=True)
class DeployAck(Message):
    """device -> gateway: the result of one deployment step. `offset` is the number of
    bytes the device holds after the step."""

    TYPE = 10
    module_id: str = wire(0, str, max_len=MODULE_ID_MAX)
    step: int = wire(1, int, enum=DeployStep)
    offset: int = wire(2, int, range=U32)
    ok: bool = wire(3, bool)
    error_code: int | None = wire(4, int, optional=True, enum=ErrorCode)
    error: str | None = wire(5, str, optional=True, max_len=TEXT_MAX)


@dataclass(frozen=True)
class AppStatus(Message):
    """device -> gateway: a module changed state (Failed carries the error)."""

    TYPE = 11
    module_id: str = wire(0, str, max_len=MODULE_ID_MAX)
    state: int = wire(1, int, enum=AppState)
    error: str | None = wire(2, str, optional=True, max_len=TEXT_MAX)


@dataclass(frozen=True)
class AppOutput(Message):
    """device -> gateway: one bounded log line, reported value or return value."""

    TYPE = 12
    module_id: str = wire(0, str, max_len=MODULE_ID_MAX)
    seq: int = wire(1, int, range=U32)
    kind: int = wire(2, int, enum=OutputKind)
    text: str | None = wire(3, str, optional=True, max_len=TEXT_MAX)
    value: int | None = wire(4, int, optional=True, range=I64)


@dataclass(frozen=True)
class StopApp(Message):
    """gateway -> device: stop and unload a module."""

    TYPE = 13
    module_id: str = wire(0, str, max_len=MODULE_ID_MAX)


@dataclass(frozen=True)
class Error(Message):
    """either direction: the peer's last frame could not be handled."""

    TYPE = 14
    code: int = wire(0, int, enum=ErrorCode)
    message: str = wire(1, str, max_len=TEXT_MAX)


@dataclass(frozen=True)
class OutputAck(Message):
    """gateway -> device (version 2): every AppOutput of `module_id` up to `seq` is durable
    at the gateway; the device may forget them. Unacknowledged outputs are sent again on the
    next session, so an output is never lost to a dropped link or a killed gateway."""

    TYPE = 15
    SINCE = 2
    module_id: str = wire(0, str, max_len=MODULE_ID_MAX)
    seq: int = wire(1, int, range=U32)


ALL_MESSAGES: tuple[type[Message], ...] = (
    Hello, HelloAck, EnrollRequest, EnrollResponse, Heartbeat, HeartbeatAck, DeployBegin,
    DeployChunk, DeployCommit, DeployAck, AppStatus, AppOutput, StopApp, Error, OutputAck,
)
BY_TYPE: dict[int, type[Message]] = {m.TYPE: m for m in ALL_MESSAGES}
