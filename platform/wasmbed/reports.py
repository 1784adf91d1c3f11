"""Gateway -> API reports: the facts a gateway observed, as one typed union.

The gateway builds these, its outbox stores them, the API server validates every batch
against the same models (a hostile or buggy gateway gets a 422, not a half-applied batch),
and the OpenAPI document - and so the schemathesis run - describes them exactly.
Reports are facts, never decisions: controllers derive phases from them.
"""

from __future__ import annotations

import time
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

DeviceName = Annotated[str, Field(min_length=1, max_length=64)]
ModuleId = Annotated[str, Field(min_length=1, max_length=64)]
Text = Annotated[str, Field(max_length=1024)]
MAX_BATCH = 500
# enrollments per batch request (POST /api/v1/enrollments/batch): ~1.5 KB each, so a full
# batch stays under the API's 64 KiB body limit
MAX_ENROLLMENT_BATCH = 64


class _Report(BaseModel):
    model_config = ConfigDict(extra="forbid")
    at: float = Field(default_factory=time.time, ge=0, le=2**40,
                      description="when the gateway observed it (unix seconds)")


class GatewayStatus(_Report):
    """The gateway's own heartbeat: it is alive, and how loaded."""

    type: Literal["gateway"] = "gateway"
    connectedDevices: int = Field(0, ge=0, le=10_000_000)
    pendingOps: int = Field(0, ge=0, le=10_000_000)


class SessionOpened(_Report):
    type: Literal["connected"] = "connected"
    device: DeviceName
    board: Text | None = None
    firmware: Text | None = None
    certSerial: Text | None = None
    timeoutS: float | None = Field(None, ge=0, le=86400 * 7)
    address: Text | None = None


class HeartbeatSeen(_Report):
    type: Literal["heartbeat"] = "heartbeat"
    device: DeviceName
    uptimeMs: int | None = Field(None, ge=0, le=2**64 - 1)
    freeMemory: int | None = Field(None, ge=0, le=2**32 - 1)
    runningApps: list[ModuleId] = Field([], max_length=16)


class SessionEnded(_Report):
    type: Literal["disconnected"] = "disconnected"
    device: DeviceName
    reason: Text | None = None


class ModuleState(_Report):
    type: Literal["app"] = "app"
    device: DeviceName
    moduleId: ModuleId
    state: Literal["DEPLOYING", "RUNNING", "STOPPED", "FAILED", "COMPLETED"]
    error: Text | None = None


class ModuleOutput(_Report):
    type: Literal["output"] = "output"
    device: DeviceName
    moduleId: ModuleId
    seq: int = Field(ge=0, le=2**32 - 1)
    kind: int = Field(ge=0, le=2, description="0 log, 1 value, 2 result")
    text: Text | None = None
    value: int | None = Field(None, ge=-(2**63), le=2**63 - 1)


Report = Annotated[GatewayStatus | SessionOpened | HeartbeatSeen | SessionEnded | ModuleState
                   | ModuleOutput, Field(discriminator="type")]
DeviceReport = SessionOpened | HeartbeatSeen | SessionEnded | ModuleState | ModuleOutput


class ReportBatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    events: list[Report] = Field(max_length=MAX_BATCH)
