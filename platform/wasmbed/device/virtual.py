"""One virtual device: enrollment, heartbeats, deployments, reconnect with backoff.

Its state survives disconnects the way a real device's RAM does: a partly received module
resumes where it stopped, running modules keep running, their latest status is re-sent on
the next session, and so is every output the gateway has not acknowledged (protocol v2).
A module that produces outputs faster than they are acknowledged waits: at most
OUTPUT_WINDOW outputs are ever unacknowledged, as on the firmware.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import os
import random
import ssl
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from wasmbed.pki.ca import Identity, spki_der
from wasmbed.protocol import (
    AppOutput,
    AppState,
    AppStatus,
    DeployAck,
    DeployBegin,
    DeployChunk,
    DeployCommit,
    DeployStep,
    EnrollRequest,
    EnrollResponse,
    Error,
    ErrorCode,
    Heartbeat,
    HeartbeatAck,
    Hello,
    HelloAck,
    OutputAck,
    OutputKind,
    ProtocolError,
    StopApp,
)
from wasmbed.protocol.framing import DEFAULT_MAX_FRAME
from wasmbed.protocol.link import MessageLink, TraceHook
from wasmbed.protocol.schema import Message
from wasmbed.tls.client import open_tls

from .runtime import ModuleRejected, WasmRunner

log = logging.getLogger("wasmbed.device")
OUTPUT_WINDOW = 64  # outputs not yet acknowledged by the gateway; a module waits beyond
IO_TIMEOUT = 15.0
# The answer to an EnrollRequest waits on the API server, behind every device enrolling at
# once: giving up sooner only starts the same enrollment again, at the back of the queue.
ENROLL_TIMEOUT = 90.0


@dataclass
class DeviceProfile:
    """What the device advertises and how it behaves (scale and fault knobs)."""

    board: str = "virtual"
    firmware: str = "vdev-0.1.0"
    wasm_ram: int = 256 * 1024
    max_module_size: int = 64 * 1024
    max_apps: int = 4
    ack_delay_ms: int = 0  # slow down chunk acks (to catch a deployment mid-flight)
    start_delay_ms: int = 0  # between commit and running, as a board parsing a large module
    protocol: int = 2  # the newest protocol version it speaks (1: as older firmware does)
    reconnect_min_s: float = 0.2
    reconnect_max_s: float = 5.0
    # Devices of one simulator process mid-handshake at once. Real devices each have a CPU;
    # simulated ones share one, and a thousand handshakes begun together all run late.
    connect_concurrency: int = 32


@dataclass
class _Module:
    module_id: str
    size: int
    sha256: bytes
    entry: str
    memory_limit: int
    fuel_limit: int
    data: bytearray = field(default_factory=bytearray)
    state: AppState = AppState.DEPLOYING
    error: str | None = None
    runner: WasmRunner | None = None
    committed: bool = False


class EnrollmentRejected(Exception):
    pass


class VirtualDevice:
    def __init__(
        self,
        name: str,
        state_dir: Path,
        gateway: tuple[str, int],
        *,
        server_name: str = "localhost",
        profile: DeviceProfile | None = None,
        trace: TraceHook | None = None,
        connect_slots: asyncio.Semaphore | None = None,
    ) -> None:
        self.name = name
        self.connect_slots = connect_slots
        self.dir = Path(state_dir)
        self.gateway = gateway
        self.server_name = server_name
        self.profile = profile or DeviceProfile()
        self.trace = trace
        self.boot_time = time.monotonic()
        self.modules: dict[str, _Module] = {}
        self.unacked: deque[AppOutput] = deque()  # in seq order; shared with runner threads
        self._room = threading.Condition()
        # the session outputs go to as they are made: set once the session has replayed
        # the unacknowledged ones (after HelloAck chose the version), None otherwise
        self._outputs_link: MessageLink | None = None
        self._seq = 0
        self.link: MessageLink | None = None
        self.status: dict[str, Any] = {"name": name, "state": "booting", "sessions": 0}
        self.interval = 30.0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._stopping = False
        self._beats_sent: dict[int, float] = {}
        self._last_ack = time.monotonic()
        self.heartbeat_rtts: deque[float] = deque(maxlen=256)  # seconds, newest last
        # the CA to trust and the identity to present, once read (see _trust_and_identity)
        self._credentials: tuple[bytes, Identity] | None = None

    # --- identity -----------------------------------------------------------------------

    @property
    def enrolled(self) -> bool:
        return (self.dir / "operational.pem").exists()

    def _identity_files(self) -> tuple[Path, Path]:
        cert = "operational.pem" if self.enrolled else "bootstrap.pem"
        return self.dir / cert, self.dir / "bootstrap.key"

    def _trust_and_identity(self) -> tuple[bytes, Identity]:
        """The CA to trust and the identity to present: read from the state directory at
        the first session, as a board reads its flash at boot, then kept; enrollment
        replaces the identity. Reading and parsing the PEM files again at every session
        cost ~0.4 ms of CPU each time, in a simulator process standing in for a thousand
        boards on the cores the gateway has too."""
        if self._credentials is None:
            self._credentials = ((self.dir / "ca.pem").read_bytes(),
                                 Identity.from_files(*self._identity_files()))
        return self._credentials

    def _set_status(self, **kwargs: Any) -> None:
        self.status.update(kwargs)
        self.status["apps"] = {m.module_id: m.state.name for m in self.modules.values()}
        tmp = self.dir / "status.json.tmp"
        tmp.write_text(json.dumps(self.status))
        os.replace(tmp, self.dir / "status.json")

    # --- main loop ----------------------------------------------------------------------

    async def run(self) -> None:
        """Connect forever, with exponential backoff and jitter between attempts; when
        cancelled (the simulator stops), every module stops too."""
        try:
            await self._connect_forever()
        finally:
            self._power_off()

    def stop(self) -> None:
        """No more connection attempts. Cancelling is not enough on its own: a device whose
        cancellation got lost (asyncio.wait_for can drop one on Python 3.11) went on
        reconnecting, and its simulator ignored SIGTERM until it was killed."""
        self._stopping = True

    async def _connect_forever(self) -> None:
        self._loop = asyncio.get_running_loop()
        attempt = 0
        while not self._stopping:
            established = False
            try:
                established = await self._session()
            except EnrollmentRejected as exc:
                self._set_status(state="rejected", last_error=str(exc))
            except ssl.SSLError as exc:
                self._set_status(state="refused", last_error=f"TLS refused: {exc.reason or exc}")
            except (TimeoutError, OSError, ConnectionError, ProtocolError,
                    asyncio.IncompleteReadError) as exc:
                self._set_status(
                    state="disconnected", last_error=f"{type(exc).__name__}: {exc}"
                )
            except asyncio.CancelledError:  # the fleet stops: do not wait on the gateway
                if self.link:
                    self.link.abort()
                    self.link = None
                raise
            finally:
                self._outputs_link = None
                if self.link:
                    await self.link.close()
                    self.link = None
            if established:
                attempt = 0
                if self.status.get("state") == "enrolled":
                    continue  # reconnect at once with the new operational certificate
            base = min(self.profile.reconnect_max_s, self.profile.reconnect_min_s * 2**attempt)
            attempt = min(attempt + 1, 16)
            await asyncio.sleep(base * random.uniform(0.5, 1.0))

    def _power_off(self) -> None:
        """Stop every module at once: each runs in a thread of its own, which would keep
        the process alive after its event loop ends (a module that never returns, for
        ever)."""
        for mod in self.modules.values():
            if mod.runner:
                mod.runner.stop()

    async def _session(self) -> bool:
        async with self.connect_slots or contextlib.nullcontext():
            reader, writer = await open_tls(self.gateway, *self._trust_and_identity(),
                                            self.server_name, IO_TIMEOUT)
        self.link = MessageLink(reader, writer,  # type: ignore[arg-type]
                                trace=self.trace, tx_label="device->gateway",
                                rx_label="gateway->device")
        versions = list(range(1, self.profile.protocol + 1))
        await self.link.send(Hello(versions, self.profile.firmware, self.profile.board,
                                   max_frame=DEFAULT_MAX_FRAME if self.profile.protocol >= 2
                                   else None))
        env = await self._expect(HelloAck)
        ack: HelloAck = env  # type: ignore[assignment]
        self.link.version = ack.version
        self.interval = float(ack.heartbeat_interval_s)
        if not self.enrolled:
            await self._enroll()
            return True
        self._set_status(state="connected", device_id=ack.device_id,
                         sessions=self.status["sessions"] + 1, last_error=None)
        await self._operate()
        return True

    async def _expect(self, cls: type[Message], timeout: float = IO_TIMEOUT) -> Message:
        assert self.link
        env = await asyncio.wait_for(self.link.receive(), timeout)
        if env is None:
            raise ConnectionError(f"gateway closed the link while we waited for {cls.__name__}")
        if isinstance(env.message, Error):
            raise ConnectionError(f"gateway error {env.message.code}: {env.message.message}")
        if not isinstance(env.message, cls):
            raise ConnectionError(f"expected {cls.__name__}, got {type(env.message).__name__}")
        return env.message

    async def _enroll(self) -> None:
        assert self.link
        self._set_status(state="enrolling")
        p = self.profile
        ca_pem, bootstrap = self._trust_and_identity()
        await self.link.send(EnrollRequest(spki_der(bootstrap.key.public_key()), p.board,
                                           p.firmware, p.wasm_ram, p.max_module_size))
        resp: EnrollResponse = await self._expect(  # type: ignore[assignment]
            EnrollResponse, ENROLL_TIMEOUT)
        if not resp.accepted or not resp.certificate:
            raise EnrollmentRejected(resp.reason or "enrollment rejected")
        cert = x509.load_der_x509_certificate(resp.certificate)
        tmp = self.dir / "operational.pem.tmp"
        tmp.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        os.replace(tmp, self.dir / "operational.pem")  # atomic: never half a cert
        self._credentials = (ca_pem, Identity(bootstrap.key, cert))
        self._set_status(state="enrolled", device_id=resp.device_id, last_error=None)

    async def _operate(self) -> None:
        assert self.link
        for mod in self.modules.values():  # re-announce what this session has not heard
            if mod.committed:
                await self.link.send(AppStatus(mod.module_id, mod.state, mod.error))
        await self._replay_outputs()
        beat = asyncio.create_task(self._heartbeats())
        try:
            while True:
                env = await self.link.receive()
                if env is None:
                    raise ConnectionError("gateway closed the connection")
                await self._handle(env.message, env.msg_id)
        finally:
            beat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await beat

    async def _heartbeats(self) -> None:
        self._last_ack = time.monotonic()
        while self.link:
            if time.monotonic() - self._last_ack > 3 * self.interval + 2:
                self._set_status(last_error="no heartbeat ack: gateway gone or link dead")
                self.link.writer.transport.abort()  # ends the receive loop; we reconnect
                return
            running = [m.module_id for m in self.modules.values() if m.state == AppState.RUNNING]
            used = sum(m.memory_limit for m in self.modules.values() if m.runner)
            msg_id = await self.link.send(Heartbeat(
                uptime_ms=int((time.monotonic() - self.boot_time) * 1000),
                free_memory=max(0, self.profile.wasm_ram - used),
                running_apps=running[:16],
            ))
            self._beats_sent = {msg_id: time.monotonic()}  # only the latest is awaited
            await asyncio.sleep(self.interval)

    # --- message handling ---------------------------------------------------------------

    async def _handle(self, msg: Message, msg_id: int) -> None:
        assert self.link
        if isinstance(msg, HeartbeatAck):
            self.interval = float(msg.interval_s)
            self._last_ack = time.monotonic()
            sent = self._beats_sent.pop(msg_id, None)
            if sent is not None:
                self.heartbeat_rtts.append(time.monotonic() - sent)
        elif isinstance(msg, DeployBegin):
            await self.link.send(self._begin(msg), reply_to=msg_id)
        elif isinstance(msg, DeployChunk):
            if self.profile.ack_delay_ms:
                await asyncio.sleep(self.profile.ack_delay_ms / 1000)
            await self.link.send(self._chunk(msg), reply_to=msg_id)
        elif isinstance(msg, DeployCommit):
            await self.link.send(self._commit(msg), reply_to=msg_id)
            mod = self.modules.get(msg.module_id)
            if mod and mod.committed and mod.state == AppState.DEPLOYING:
                task = asyncio.create_task(self._start(mod))  # outlives this session
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
        elif isinstance(msg, StopApp):
            await self._stop(msg.module_id)
        elif isinstance(msg, OutputAck):
            self._forget_outputs(msg.module_id, msg.seq)
        elif isinstance(msg, Error):
            log.warning("%s: gateway error %s: %s", self.name, msg.code, msg.message)
        else:  # a device-to-gateway message from the gateway: Error, then close
            await self.link.send(
                Error(ErrorCode.BAD_FRAME, f"unexpected {type(msg).__name__}"), reply_to=msg_id
            )
            raise ConnectionError(f"gateway sent {type(msg).__name__}, which it may not")

    def _nack(self, mid: str, step: DeployStep, offset: int, code: ErrorCode,
              why: str) -> DeployAck:
        return DeployAck(mid, step, offset, False, code, why)

    def _begin(self, msg: DeployBegin) -> DeployAck:
        p = self.profile
        if msg.size > p.max_module_size:
            return self._nack(msg.module_id, DeployStep.BEGIN, 0, ErrorCode.MODULE_TOO_LARGE,
                              f"module is {msg.size} bytes; this device accepts at most "
                              f"{p.max_module_size}")
        existing = self.modules.get(msg.module_id)
        if existing and existing.sha256 == msg.sha256 and existing.size == msg.size:
            # The same module again. Mid-transfer: resume where we are. If it already ran
            # and ended, the gateway wants it running again (the controller took it for
            # lost): keep the bytes, and the commit loads a fresh instance, as the firmware
            # does. Acknowledged in silence, the gateway's Deploying report stayed the last
            # word on it for ever.
            if existing.committed and existing.runner is None:  # it ran and ended
                existing.committed, existing.state, existing.error = False, \
                    AppState.DEPLOYING, None
            return DeployAck(msg.module_id, DeployStep.BEGIN, len(existing.data), True)
        for done in [m for m in self.modules.values() if m.committed and not m.runner]:
            del self.modules[done.module_id]  # finished modules make room for new ones
        in_use = sum(m.memory_limit for m in self.modules.values() if m.runner)
        if msg.memory_limit > p.wasm_ram - in_use or len(self.modules) >= p.max_apps:
            return self._nack(msg.module_id, DeployStep.BEGIN, 0, ErrorCode.RESOURCE_EXHAUSTED,
                              f"needs {msg.memory_limit} bytes of wasm memory; "
                              f"{p.wasm_ram - in_use} free, {len(self.modules)} apps loaded")
        self.modules[msg.module_id] = _Module(msg.module_id, msg.size, msg.sha256, msg.entry,
                                              msg.memory_limit, msg.fuel_limit)
        self._set_status()
        return DeployAck(msg.module_id, DeployStep.BEGIN, 0, True)

    def _chunk(self, msg: DeployChunk) -> DeployAck:
        mod = self.modules.get(msg.module_id)
        if mod is None:
            return self._nack(msg.module_id, DeployStep.CHUNK, 0, ErrorCode.UNKNOWN_MODULE,
                              "chunk for a module that was not begun")
        if msg.offset != len(mod.data):
            return self._nack(msg.module_id, DeployStep.CHUNK, len(mod.data),
                              ErrorCode.OUT_OF_ORDER,
                              f"chunk at {msg.offset}, expected {len(mod.data)}")
        if len(mod.data) + len(msg.data) > mod.size:
            return self._nack(msg.module_id, DeployStep.CHUNK, len(mod.data),
                              ErrorCode.MODULE_TOO_LARGE, "chunk runs past the announced size")
        mod.data += msg.data
        return DeployAck(msg.module_id, DeployStep.CHUNK, len(mod.data), True)

    def _commit(self, msg: DeployCommit) -> DeployAck:
        mod = self.modules.get(msg.module_id)
        if mod is None:
            return self._nack(msg.module_id, DeployStep.COMMIT, 0, ErrorCode.UNKNOWN_MODULE,
                              "commit for a module that was not begun")
        if mod.committed:
            return DeployAck(mod.module_id, DeployStep.COMMIT, len(mod.data), True)
        size = len(mod.data)
        digest = hashlib.sha256(mod.data).digest()
        if size != mod.size or digest != mod.sha256:
            del self.modules[mod.module_id]  # never keep (or run) bytes that fail the hash
            self._set_status()
            return self._nack(mod.module_id, DeployStep.COMMIT, size, ErrorCode.HASH_MISMATCH,
                              f"sha256 mismatch: got {digest.hex()[:16]}… over {size} bytes, "
                              f"expected {mod.sha256.hex()[:16]}… over {mod.size}")
        try:
            mod.runner = WasmRunner(bytes(mod.data), entry=mod.entry,
                                    memory_limit=mod.memory_limit, fuel_limit=mod.fuel_limit,
                                    output=self._output_sink(mod),
                                    boot_time=self.boot_time)
        except ModuleRejected as exc:
            del self.modules[mod.module_id]
            self._set_status()
            return self._nack(mod.module_id, DeployStep.COMMIT, size, ErrorCode.INVALID_MODULE,
                              str(exc))
        mod.committed = True
        mod.data = bytearray(mod.data)  # keep for resume/idempotent re-commit
        return DeployAck(mod.module_id, DeployStep.COMMIT, size, True)

    async def _start(self, mod: _Module) -> None:
        if self.profile.start_delay_ms:
            await asyncio.sleep(self.profile.start_delay_ms / 1000)
        await self._report(mod, AppState.RUNNING)
        assert mod.runner
        result = await asyncio.to_thread(mod.runner.run)
        mod.runner = None
        await self._report(mod, result.state, result.error)

    async def _stop(self, module_id: str) -> None:
        mod = self.modules.get(module_id)
        if mod is None:
            if self.link:
                await self.link.send(AppStatus(module_id, AppState.STOPPED, None))
            return
        if mod.runner:
            mod.runner.stop()  # its run() returns STOPPED and _start reports it
        else:
            await self._report(mod, AppState.STOPPED)

    async def _report(self, mod: _Module, state: AppState, error: str | None = None) -> None:
        mod.state, mod.error = state, error
        self._set_status()
        if self.link:
            with contextlib.suppress(OSError, ConnectionError):
                await self.link.send(AppStatus(mod.module_id, state, error))

    def _output_sink(self, mod: _Module) -> Callable[[OutputKind, str | None, int | None],
                                                      None]:
        """Called from the module's thread: waits while OUTPUT_WINDOW outputs are
        unacknowledged (unless the module is being stopped), then queues the output."""
        def sink(kind: OutputKind, text: str | None, value: int | None) -> None:
            with self._room:
                while len(self.unacked) >= OUTPUT_WINDOW and not (
                        mod.runner is not None and mod.runner.stopping):
                    self._room.wait(0.2)
                self._seq += 1
                out = AppOutput(mod.module_id, self._seq, kind, text, value)
                self.unacked.append(out)
            assert self._loop
            self._loop.call_soon_threadsafe(self._send_output, out)

        return sink

    def _forget_outputs(self, module_id: str, upto: int) -> None:
        with self._room:
            kept = [o for o in self.unacked if o.module_id != module_id or o.seq > upto]
            self.unacked = deque(kept)
            self._room.notify_all()

    def _send_output(self, out: AppOutput) -> None:
        """Send now if a session has replayed what it owed; otherwise it waits in
        `unacked` for the replay. Not merely when a link exists: until HelloAck the link
        says version 1, whose outputs are never acknowledged, so a send then counted as
        delivered and dropped every unacknowledged output up to it."""
        link = self._outputs_link
        if link is None:
            return

        async def send() -> None:
            with contextlib.suppress(OSError, ConnectionError):
                await link.send(out)
                if link.version < 2:  # no acknowledgements in version 1: sent is done
                    self._forget_outputs(out.module_id, out.seq)

        asyncio.ensure_future(send())

    async def _replay_outputs(self) -> None:
        """Send every unacknowledged output again, oldest first, including ones the
        module produces meanwhile; then outputs go out as they are made."""
        assert self.link
        sent = 0
        while pending := [o for o in list(self.unacked) if o.seq > sent]:
            for out in pending:
                await self.link.send(out)
                if self.link.version < 2:
                    self._forget_outputs(out.module_id, out.seq)
                sent = out.seq
        self._outputs_link = self.link  # no await since the last look: nothing slips by

    def snapshot(self) -> dict[str, Any]:
        return {"status": self.status, "profile": asdict(self.profile)}
