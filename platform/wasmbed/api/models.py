"""Request bodies of the REST API (responses are the stored resources themselves)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field

from wasmbed.compile import MAX_SOURCE
from wasmbed.names import NAME, Labels, ResourceName
from wasmbed.reports import MAX_ENROLLMENT_BATCH

__all__ = ["NAME", "Labels", "ResourceName"]



class DeviceCreate(BaseModel):
    name: str = Field(pattern=NAME, max_length=63)
    publicKey: str | None = Field(None, description="SPKI DER, base64 (or PEM)")
    board: str = Field("virtual", description="catalog board name (mcuType)")
    deviceType: str = "virtual"
    architecture: str = "wasm32"
    preferredGateway: str | None = Field(None, pattern=NAME, max_length=63)
    labels: Labels = {}


class LabelsChange(BaseModel):
    """`wasmbed device label NAME k=v k2-`: set some labels, remove others."""
    set: Labels = {}
    remove: list[str] = Field([], max_length=64)


class TargetDevices(BaseModel):
    deviceNames: list[str] = []
    selector: str | None = Field(None, description="label selector, e.g. 'tier=edge'")
    allDevices: bool = False


class AppConfig(BaseModel):
    memoryLimit: int = Field(64 * 1024, ge=0, le=16 * 1024 * 1024)
    fuelLimit: int = Field(50_000_000, ge=1)


class SourceCode(BaseModel):
    language: Literal["c", "rust"] = "c"
    code: str = Field(max_length=MAX_SOURCE, description="the program; C sees "
                      "wasmbed_app.h (host functions log, report, uptime_ms, sleep_ms)")


class CompileRequest(SourceCode):
    entry: str = Field("run", pattern=r"^[A-Za-z_][A-Za-z0-9_]*$", max_length=63)


class ApplicationCreate(BaseModel):
    name: str = Field(pattern=NAME, max_length=48)
    description: str = Field("", max_length=1024)
    wasmBytes: str | None = Field(None, description="module bytes, base64 (or give source)")
    source: SourceCode | None = Field(None, description="compile this instead of wasmBytes")
    sha256: str | None = Field(None, description="expected sha256 (hex); checked if given")
    entry: str = Field("run", pattern=r"^[A-Za-z_][A-Za-z0-9_]*$", max_length=63)
    targetDevices: TargetDevices = TargetDevices()
    config: AppConfig = AppConfig()
    labels: Labels = {}


class GatewayCreate(BaseModel):
    """A gateway declared ahead of time (e.g. from a manifest); it fills in its endpoints
    when it registers."""

    name: str = Field(pattern=NAME, max_length=63)
    region: str = Field("local", max_length=63)
    maxDevices: int = Field(1000, ge=1, le=1_000_000)
    labels: Labels = {}


class GatewayRegistration(BaseModel):
    endpoint: str = Field(pattern=r"^https?://[A-Za-z0-9.\-]+:\d{1,5}$", max_length=255,
                          description="the gateway's HTTP API base URL: scheme, host and port "
                                      "only (no path, query or credentials)")
    tlsEndpoint: str = Field(pattern=r"^[A-Za-z0-9.\-]+:\d{1,5}$", max_length=255,
                             description="host:port devices connect to")
    tlsPort: int = Field(ge=0, le=65535)
    startedAt: float = Field(ge=0, le=2**40)
    region: str | None = Field(None, max_length=63)  # None keeps what was declared
    config: dict[str, int] = Field({}, max_length=16)


# the calling gateway's own name, in what a gateway sends for its devices
GatewayName = Annotated[str, Field(pattern=NAME, max_length=63,
                                   description="must be the calling gateway's own name")]


class EnrollmentFacts(BaseModel):
    """What a device presented when it asked to enroll."""

    publicKey: str = Field(max_length=1024)
    bootstrapSerial: str = Field(max_length=64)
    board: str = Field(max_length=64)
    firmwareVersion: str = Field(max_length=64)
    capabilities: dict[str, int] = Field({}, max_length=16)


class EnrollmentRequest(EnrollmentFacts):
    gateway: GatewayName


class EnrollmentBatch(BaseModel):
    gateway: GatewayName
    requests: list[EnrollmentFacts] = Field(min_length=1, max_length=MAX_ENROLLMENT_BATCH)


class Reports(BaseModel):
    events: list[dict[str, object]]


class PairingRequest(BaseModel):
    enabled: bool
    timeoutSeconds: float = Field(300, gt=0, le=86400)
