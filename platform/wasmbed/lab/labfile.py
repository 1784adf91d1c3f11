"""The lab file: which physical boards exist, and how to reach, flash, reset and power each.

A YAML (or TOML) file with a `boards` mapping; see docs/LAB.md. Commands are templates
run through the shell: `{elf}` (firmware + blob as ELF sections), `{hex}` (the same as
Intel HEX), `{firmware}`, `{blob}`, `{blob_addr}`, `{gdb}` and `{board}` are replaced with
shell-quoted values.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from wasmbed.emulation.catalog import CATALOG

DEFAULT_BAUD = 115200


class LabFileError(ValueError):
    """The lab file is missing or wrong; the message names the file, the field and the fix."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SerialPortConfig(_Strict):
    """A local device (/dev/ttyUSB0, /dev/serial/by-id/...) or a network serial port
    (rfc2217://host:port, as ser2net serves it; pyserial URL options such as
    `?ign_set_control` pass through)."""

    port: str
    baud: int = Field(DEFAULT_BAUD, gt=0)

    @field_validator("port")
    @classmethod
    def _known_kind(cls, port: str) -> str:
        if not (port.startswith("/") or port.startswith("rfc2217://")):
            raise ValueError(f"{port!r}: expected a device path (/dev/ttyUSB0) or "
                             "rfc2217://host:port")
        return port


class ProbeConfig(_Strict):
    """A debug probe's GDB server (OpenOCD, pyOCD, a J-Link GDB server, a Black Magic
    Probe). `halt` runs after connecting, before loading; `reset` resets and runs the
    board. The defaults are OpenOCD's; pyOCD takes `monitor reset`."""

    gdb: str
    halt: list[str] = ["monitor reset halt"]
    reset: list[str] = ["monitor reset run"]

    @field_validator("gdb")
    @classmethod
    def _host_port(cls, gdb: str) -> str:
        host, _, port = gdb.rpartition(":")
        if not host or not port.isdigit():
            raise ValueError(f"{gdb!r}: expected host:port of a GDB server")
        return gdb

    @property
    def address(self) -> tuple[str, int]:
        host, _, port = self.gdb.rpartition(":")
        return host, int(port)


class CommandConfig(_Strict):
    command: str


class PowerConfig(_Strict):
    on: str
    off: str

    @model_validator(mode="before")
    @classmethod
    def _yaml_booleans(cls, data: object) -> object:
        """YAML 1.1 reads a bare `on:`/`off:` key as true/false: take them as meant."""
        if isinstance(data, dict):
            return {{True: "on", False: "off"}.get(k, k) if isinstance(k, bool) else k: v
                    for k, v in data.items()}
        return data


class LabBoardConfig(_Strict):
    type: str
    console: SerialPortConfig
    link: SerialPortConfig
    probe: ProbeConfig | None = None
    flash: Literal["probe"] | CommandConfig = "probe"
    reset: Literal["probe"] | CommandConfig = "probe"
    power: PowerConfig | None = None
    labels: list[str] = []

    @field_validator("type")
    @classmethod
    def _in_catalog(cls, kind: str) -> str:
        if kind not in CATALOG:
            raise ValueError(f"unknown board type {kind!r}; the catalog has "
                             f"{', '.join(CATALOG)}")
        return kind

    @model_validator(mode="after")
    def _probe_when_used(self) -> LabBoardConfig:
        for what in ("flash", "reset"):
            if getattr(self, what) == "probe" and self.probe is None:
                raise ValueError(f"{what}: probe needs a `probe: {{gdb: host:port}}` entry "
                                 f"(or give `{what}: {{command: ...}}`)")
        return self


class LabConfig(_Strict):
    boards: dict[str, LabBoardConfig]
    lock_dir: Path | None = None  # default: ~/.cache/wasmbed/locks (shared by all runs)


def load_lab(path: Path) -> LabConfig:
    """The lab file, validated; LabFileError says what is wrong and where."""
    if not path.is_file():
        raise LabFileError(f"no lab file at {path}: write one (see docs/LAB.md) or drop --lab")
    text = path.read_text()
    try:
        data = tomllib.loads(text) if path.suffix == ".toml" else yaml.safe_load(text)
    except (yaml.YAMLError, tomllib.TOMLDecodeError) as exc:
        raise LabFileError(f"{path} is not valid {'TOML' if path.suffix == '.toml' else 'YAML'}:"
                           f" {exc}") from None
    try:
        lab = LabConfig.model_validate(data or {})
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'file'}: {e['msg']}"
                             for e in exc.errors())
        raise LabFileError(f"{path}: {problems}") from None
    if not lab.boards:
        raise LabFileError(f"{path}: `boards` is empty; describe at least one board")
    return lab


def select_boards(lab: LabConfig, wanted: list[str] | None) -> list[str]:
    """Board names matching any of `wanted` (a name or a label); all when None."""
    if not wanted:
        return list(lab.boards)
    chosen = [name for name, board in lab.boards.items()
              if name in wanted or set(board.labels) & set(wanted)]
    if not chosen:
        known = sorted({*lab.boards, *(lab for b in lab.boards.values() for lab in b.labels)})
        raise LabFileError(f"no lab board is named or labelled {', '.join(wanted)}; the lab "
                           f"has {', '.join(known)}")
    return chosen
