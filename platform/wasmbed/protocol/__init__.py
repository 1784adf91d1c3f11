"""The device <-> gateway protocol: typed messages, canonical CBOR, length framing.

One schema serves the gateway, the virtual device, and (through vectors.json) the C
firmware's tests. See docs/PROTOCOL.md for the wire format.
"""

from wasmbed.protocol.codec import (
    PROTOCOL_VERSION,
    SUPPORTED_VERSIONS,
    Envelope,
    decode,
    encode,
)
from wasmbed.protocol.enums import AppState, DeployStep, ErrorCode, OutputKind
from wasmbed.protocol.errors import ProtocolError
from wasmbed.protocol.framing import DEFAULT_MAX_FRAME, FrameDecoder, FrameReader, frame
from wasmbed.protocol.messages import (
    ALL_MESSAGES,
    AppOutput,
    AppStatus,
    DeployAck,
    DeployBegin,
    DeployChunk,
    DeployCommit,
    EnrollRequest,
    EnrollResponse,
    Error,
    Heartbeat,
    HeartbeatAck,
    Hello,
    HelloAck,
    OutputAck,
    StopApp,
)

__all__ = [
    "ALL_MESSAGES", "DEFAULT_MAX_FRAME", "PROTOCOL_VERSION", "SUPPORTED_VERSIONS",
    "AppOutput", "AppState", "AppStatus", "DeployAck", "DeployBegin", "DeployChunk",
    "DeployCommit", "DeployStep", "EnrollRequest", "EnrollResponse", "Envelope", "Error",
    "ErrorCode", "FrameDecoder", "FrameReader", "Heartbeat", "HeartbeatAck", "Hello",
    "HelloAck", "OutputAck", "OutputKind", "ProtocolError", "StopApp", "decode", "encode",
    "frame",
]
