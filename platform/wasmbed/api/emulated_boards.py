"""Emulated boards the API server starts on request (`/api/v1/boards`): a board of a catalog
type with the real firmware, its own factory identity burnt into a provisioning blob, its
Device registered, and its link UART bridged (in this process) to a gateway - so it enrolls
like any device. Its console is kept for `GET /devices/{name}/console`."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from wasmbed import sandbox
from wasmbed.aio import cancel_and_wait
from wasmbed.api.context import ApiContext
from wasmbed.api.enrollment import register_device
from wasmbed.api.models import NAME
from wasmbed.bridge.relay import BoardLink
from wasmbed.emulation import EmulatorUnavailable, board_spec, make_board
from wasmbed.emulation.board import EmulatedBoard
from wasmbed.emulation.catalog import FIRMWARE_DIR
from wasmbed.emulation.provisioning import write_blob
from wasmbed.httperrors import api_error
from wasmbed.timeutil import iso

ATTACH_TIMEOUT_S = 10.0
log = logging.getLogger("wasmbed.api.emulated_boards")


class BoardCreate(BaseModel):
    name: str = Field(pattern=NAME, max_length=63)
    board: str = Field("stm32f4_discovery", description="catalog board")
    gateway: str | None = Field(None, description="default: the first Ready gateway")
    labels: dict[str, str] = {}


@dataclass
class RunningBoard:
    name: str
    board: str
    gateway: str
    qemu: EmulatedBoard
    link: BoardLink
    task: asyncio.Task[None]
    started: str

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "board": self.board, "gateway": self.gateway,
                "started": self.started, "running": self.qemu.process.alive,
                "linkBytesUp": self.link.bytes_up, "linkBytesDown": self.link.bytes_down}


class BoardManager:
    def __init__(self, ctx: ApiContext, workdir: Path, firmware_dir: Path | None = None) -> None:
        self.ctx = ctx
        self.workdir = workdir
        self.firmware_dir = firmware_dir or FIRMWARE_DIR / "build"
        self.boards: dict[str, RunningBoard] = {}

    async def _gateway(self, wanted: str | None) -> tuple[str, tuple[str, int]]:
        gateways, _ = await self.ctx.store.list("Gateway")
        for gw in gateways:
            name = gw["metadata"]["name"]
            endpoint = (gw.get("spec") or {}).get("tlsEndpoint")
            ready = (gw.get("status") or {}).get("phase") == "Ready"
            if endpoint and (name == wanted or (wanted is None and ready)):
                host, port = endpoint.rsplit(":", 1)
                return name, (host, int(port))
        raise api_error(409, "NoGateway",
                        f"gateway {wanted!r} has not registered" if wanted else
                        "no Ready gateway to connect the board to",
                        "start a gateway (wasmbed gateway ...) and retry")

    async def start(self, req: BoardCreate) -> dict[str, Any]:
        if req.name in self.boards:
            raise api_error(409, "AlreadyExists", f"board {req.name} is running",
                            "stop it first, or choose another name")
        try:
            spec = board_spec(req.board)
            spec.qemu_binary()
        except KeyError as exc:
            raise api_error(422, "UnknownBoard", str(exc).strip("'\""),
                            "GET /api/v1/boards/catalog lists the boards") from exc
        except EmulatorUnavailable as exc:
            raise api_error(501, "EmulatorUnavailable", str(exc), str(exc)) from exc
        elf = spec.firmware_elf(self.firmware_dir)
        if not elf.exists():
            raise api_error(409, "FirmwareNotBuilt", f"no firmware for {spec.name} at {elf}",
                            "build it: ./run firmware (or make -C firmware firmware "
                            f"BOARD={spec.name})")
        gateway, address = await self._gateway(req.gateway)
        directory = self.workdir / req.name
        shutil.rmtree(directory, ignore_errors=True)
        directory.mkdir(parents=True)
        pki = self.ctx.pki
        blob, key = write_blob(directory / "provision.blob", req.name, pki.factory,
                               pki.platform, gateway, wasm_ram=spec.wasm_ram,
                               max_module_size=spec.max_module_size)
        await register_device(self.ctx, req.name, spec.name, base64.b64decode(key),
                              req.labels, device_type="emulated")
        qemu = make_board(spec.name, "qemu", elf, directory, blob=blob,
                          wrapper=self._hide_secrets())
        await asyncio.to_thread(qemu.start, run=False)
        assert qemu.link_address is not None
        link = BoardLink(f"bridge-{req.name}", qemu.link_address, address)
        task = asyncio.create_task(link.run())
        try:
            await asyncio.wait_for(link.attached.wait(), ATTACH_TIMEOUT_S)
            await asyncio.to_thread(qemu.resume)
        except BaseException:
            await cancel_and_wait([task])
            await asyncio.to_thread(qemu.stop)
            raise
        running = RunningBoard(req.name, spec.name, gateway, qemu, link, task, iso())
        self.boards[req.name] = running
        self.ctx.events.record(req.name, "board-started", board=spec.name, gateway=gateway)
        return running.describe()

    def _hide_secrets(self) -> list[str]:
        """QEMU runs our firmware, but the wasm in it comes from API users: it runs where
        the CA keys, tokens and store of this API server do not exist."""
        data = self.workdir.parent
        hidden = [data / "pki", data / "token", data / "gateway-key", data / "store.sqlite",
                  data / "store.sqlite-wal", data / "store.sqlite-shm"]
        try:
            return sandbox.hiding_prefix(hidden)
        except sandbox.SandboxUnavailable as exc:
            log.warning("emulated boards run unsandboxed (they could read %s): %s", data, exc)
            return []

    def get(self, name: str) -> RunningBoard:
        try:
            return self.boards[name]
        except KeyError:
            raise api_error(404, "NotFound", f"no emulated board {name!r} is running",
                            "GET /api/v1/boards lists them") from None

    async def stop(self, name: str) -> dict[str, Any]:
        running = self.get(name)
        del self.boards[name]
        await cancel_and_wait([running.task])
        await asyncio.to_thread(running.qemu.stop)
        self.ctx.events.record(name, "board-stopped")
        return {"stopped": name}

    def console(self, name: str, tail: int) -> list[str]:
        console = self.get(name).qemu.console
        return list(console.lines[-tail:]) if console else []

    async def close(self) -> None:
        for name in list(self.boards):
            with contextlib.suppress(Exception):
                await self.stop(name)


async def _manager(request: Request) -> BoardManager:
    boards: BoardManager | None = request.app.state.boards
    if boards is None:
        raise api_error(501, "NotImplemented", "this API server runs no emulated boards",
                        "start the API with `wasmbed api` (it manages emulated boards)")
    return boards


Boards = Annotated[BoardManager, Depends(_manager)]


def boards_router() -> APIRouter:
    """The routes read their BoardManager from `app.state.boards`."""
    router = APIRouter(tags=["boards"])

    @router.get("/boards/catalog")
    async def catalog(boards: Boards) -> dict[str, Any]:
        from wasmbed.emulation import CATALOG

        return {"items": [{"name": s.name, "mcu": s.mcu, "qemu": s.qemu_machine is not None,
                           "firmwareBuilt": s.firmware_elf(boards.firmware_dir).exists()}
                          for s in CATALOG.values()]}

    @router.get("/boards")
    async def list_boards(boards: Boards) -> dict[str, Any]:
        return {"items": [b.describe() for b in boards.boards.values()]}

    @router.post("/boards", status_code=201)
    async def start_board(boards: Boards, body: BoardCreate) -> dict[str, Any]:
        """Start an emulated board with the real firmware; its Device is created and it
        enrolls through the gateway like any device."""
        return await boards.start(body)

    @router.get("/boards/{name}")
    async def get_board(boards: Boards, name: str) -> dict[str, Any]:
        return boards.get(name).describe()

    @router.delete("/boards/{name}")
    async def stop_board(boards: Boards, name: str) -> dict[str, Any]:
        """Power the board off (its Device stays, and goes Disconnected)."""
        return await boards.stop(name)

    @router.get("/devices/{name}/console", tags=["devices"])
    async def console(boards: Boards, name: str,
                      tail: int = Query(100, ge=1, le=5000)) -> dict[str, Any]:
        """The last lines of an emulated board's console (boards started here)."""
        return {"lines": boards.console(name, tail)}

    return router
