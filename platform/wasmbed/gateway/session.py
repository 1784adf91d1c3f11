"""One device's TLS session at the gateway, from Hello to close.

A bootstrap-certificate session may only enroll; an operational one gets heartbeats and
deployments. Deployments are sent stop-and-wait, one DeployAck per chunk, and the acked
offset is written to the cache so a transfer resumes after any interruption.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import time
from typing import TYPE_CHECKING

from cryptography import x509

from wasmbed.aio import cancel_and_wait
from wasmbed.pki.ca import spki_der
from wasmbed.protocol import (
    SUPPORTED_VERSIONS,
    AppOutput,
    AppState,
    AppStatus,
    DeployAck,
    DeployBegin,
    DeployChunk,
    DeployCommit,
    EnrollRequest,
    EnrollResponse,
    Error,
    ErrorCode,
    Heartbeat,
    HeartbeatAck,
    Hello,
    HelloAck,
    OutputAck,
    ProtocolError,
    StopApp,
)
from wasmbed.protocol.framing import DEVICE_MAX_FRAME, max_chunk_data
from wasmbed.protocol.link import MessageLink
from wasmbed.protocol.schema import Message
from wasmbed.reports import HeartbeatSeen, ModuleOutput, ModuleState, SessionEnded, SessionOpened

if TYPE_CHECKING:
    from wasmbed.gateway.cache import Op
    from wasmbed.gateway.host import SessionHost

log = logging.getLogger("wasmbed.gateway.session")
HELLO_TIMEOUT = 10.0
ACK_TIMEOUT = 30.0


class SessionClosed(Exception):
    pass


class DeviceSession:
    # slots: one per connected device, 10,000 on one gateway
    __slots__ = ("gw", "link", "peer", "bootstrap", "address", "device_id", "serial",
                 "connected_at", "last_heartbeat", "ops_changed", "_acks", "close_reason",
                 "closing", "board", "firmware")

    def __init__(self, gw: SessionHost, link: MessageLink, peer: x509.Certificate, bootstrap: bool,
                 address: str) -> None:
        self.gw = gw
        self.link = link
        self.peer = peer
        self.bootstrap = bootstrap
        self.address = address
        cn = peer.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
        self.device_id = str(cn[0].value) if cn else "?"
        self.serial = peer.serial_number
        self.connected_at = time.time()
        self.last_heartbeat = time.monotonic()
        self.ops_changed = asyncio.Event()
        self._acks: dict[int, asyncio.Future[DeployAck]] = {}
        self.close_reason = "connection closed"
        self.closing = False

    # --- lifecycle ----------------------------------------------------------------------

    async def run(self) -> None:
        try:
            env = await asyncio.wait_for(self.link.receive(), HELLO_TIMEOUT)
        except TimeoutError:
            raise SessionClosed(f"no Hello within {HELLO_TIMEOUT} s of the handshake") from None
        if env is None or not isinstance(env.message, Hello):
            await self._error(ErrorCode.BAD_FRAME, "the first frame of a session must be Hello")
            return
        common = [v for v in env.message.versions if v in SUPPORTED_VERSIONS]
        if not common:
            await self._error(ErrorCode.UNSUPPORTED_VERSION,
                              f"no common protocol version (gateway speaks {SUPPORTED_VERSIONS})")
            return
        self.board, self.firmware = env.message.board, env.message.firmware
        # never send the device a frame it refuses; one that says nothing gets the
        # protocol's device default (what the firmware's default buffer holds)
        announced = env.message.max_frame
        self.link.peer_max_frame = min(self.link.max_frame,
                                       DEVICE_MAX_FRAME if announced is None else announced)
        await self.link.send(HelloAck(max(common), self.gw.config.name, int(time.time()),
                                      self.gw.config.heartbeat_interval,
                                      None if self.bootstrap else self.device_id),
                             reply_to=env.msg_id)
        self.link.version = max(common)
        if self.bootstrap:
            await self._enrollment()
        else:
            await self._operational()

    async def _error(self, code: ErrorCode, message: str, reply_to: int | None = None) -> None:
        with contextlib.suppress(OSError, ConnectionError):
            await self.link.send(Error(code, message), reply_to=reply_to)

    # --- enrollment ---------------------------------------------------------------------

    async def _enrollment(self) -> None:
        env = await asyncio.wait_for(self.link.receive(), HELLO_TIMEOUT)
        if env is None:
            return
        msg = env.message
        if not isinstance(msg, EnrollRequest):
            await self._error(ErrorCode.NOT_ENROLLED,
                              "this certificate is a bootstrap identity: it may only enroll",
                              env.msg_id)
            return
        if msg.public_key != spki_der(self.peer.public_key()):  # type: ignore[arg-type]
            await self.link.send(EnrollResponse(False, "public key does not match the bootstrap "
                                                "certificate of this session"), env.msg_id)
            return
        try:
            answer = await self.gw.control.enroll({
                "publicKey": base64.b64encode(msg.public_key).decode(),
                "bootstrapSerial": str(self.serial),
                "board": msg.board,
                "firmwareVersion": msg.firmware_version,
                "capabilities": {"wasmRam": msg.wasm_ram, "maxModuleSize": msg.max_module_size},
            })
        except Exception as exc:
            log.warning("enrollment of %s could not reach the API: %s", self.address, exc)
            self.gw.metrics.enrollments.labels("error").inc()
            await self.link.send(EnrollResponse(False, "enrollment service unavailable; retry"),
                                 env.msg_id)
            return
        if answer.get("accepted"):
            cert = base64.b64decode(answer["certificate"])
            self.gw.metrics.enrollments.labels("accepted").inc()
            await self.link.send(EnrollResponse(True, None, answer["deviceId"], cert), env.msg_id)
        else:
            self.gw.metrics.enrollments.labels("rejected").inc()
            await self.link.send(EnrollResponse(False, answer.get("reason", "rejected")),
                                 env.msg_id)

    # --- operational session ------------------------------------------------------------

    async def _operational(self) -> None:
        self.gw.attach(self)
        self.gw.control.post(SessionOpened(
            device=self.device_id, board=self.board, firmware=self.firmware,
            certSerial=str(self.serial), timeoutS=self.gw.config.heartbeat_timeout,
            address=self.address))
        tasks = [asyncio.create_task(self._deployer())]
        try:
            while True:
                env = await self.link.receive()
                if env is None:
                    break
                await self._dispatch(env.message, env.msg_id)
        except ProtocolError as exc:
            self.close_reason = f"protocol error: {exc}"
            await self._error(exc.code, str(exc))
        finally:
            await cancel_and_wait(tasks)
            for fut in self._acks.values():
                if not fut.done():
                    fut.set_exception(SessionClosed(self.close_reason))
            if self.gw.detach(self):
                self.gw.control.post(SessionEnded(device=self.device_id,
                                                  reason=self.close_reason))

    async def _dispatch(self, msg: Message, msg_id: int) -> None:
        if isinstance(msg, Heartbeat):
            if self.peer.not_valid_after_utc.timestamp() <= time.time():
                await self.close("certificate expired")  # cut within one heartbeat
                return
            self.last_heartbeat = time.monotonic()
            self.gw.metrics.heartbeats.inc()
            await self.link.send(HeartbeatAck(self.gw.config.heartbeat_interval,
                                              int(time.time())), reply_to=msg_id)
            self.gw.control.post(HeartbeatSeen(
                device=self.device_id, uptimeMs=msg.uptime_ms, freeMemory=msg.free_memory,
                runningApps=list(msg.running_apps)))
        elif isinstance(msg, DeployAck):
            fut = self._acks.pop(msg_id, None)
            if fut and not fut.done():
                fut.set_result(msg)
        elif isinstance(msg, AppStatus):
            self.gw.control.post(ModuleState(
                device=self.device_id, moduleId=msg.module_id,
                state=AppState(msg.state).name, error=msg.error))  # type: ignore[arg-type]
        elif isinstance(msg, AppOutput):
            self.gw.control.post(ModuleOutput(
                device=self.device_id, moduleId=msg.module_id, seq=msg.seq, kind=msg.kind,
                text=msg.text, value=msg.value))
            if self.link.version >= 2:  # it is in the outbox now: the device may forget it
                await self.link.send(OutputAck(msg.module_id, msg.seq))
        elif isinstance(msg, Error):
            log.warning("device %s reported error %s: %s", self.device_id, msg.code, msg.message)
        else:  # a gateway-to-device message, or a second Hello: Error, then close
            reason = f"{type(msg).__name__} is not a message a device may send here"
            await self._error(ErrorCode.BAD_FRAME, reason, msg_id)
            self.gw.metrics.protocol_errors.inc()
            await self.close(f"protocol error: {reason}")

    async def close(self, reason: str | None = None) -> None:
        if reason:
            self.close_reason = reason
        self.closing = True
        await self.link.close()

    # --- deployments --------------------------------------------------------------------

    async def _request(self, msg: Message) -> DeployAck:
        fut: asyncio.Future[DeployAck] = asyncio.get_running_loop().create_future()
        msg_id = self.link.next_id()
        self._acks[msg_id] = fut
        await self.link.send(msg, reply_to=msg_id)
        try:
            return await asyncio.wait_for(fut, ACK_TIMEOUT)
        except TimeoutError:
            self._acks.pop(msg_id, None)
            raise SessionClosed(
                f"no DeployAck for {type(msg).__name__} within {ACK_TIMEOUT} s") from None

    async def _deployer(self) -> None:
        cache = self.gw.cache
        try:
            while True:
                op = cache.next_op(self.device_id)
                if op is None:
                    self.ops_changed.clear()
                    await self.ops_changed.wait()
                    continue
                if op.action == "stop":
                    await self.link.send(StopApp(op.module_id))
                    cache.finish(op.seq)
                else:
                    await self._transfer(op)
        except (SessionClosed, OSError, ConnectionError) as exc:
            self.close_reason = f"deployment link lost: {exc}"
            await self.close()

    def _report_app(self, op: Op, state: str, error: str | None = None) -> None:
        self.gw.control.post(ModuleState(device=self.device_id, moduleId=op.module_id,
                                         state=state, error=error))  # type: ignore[arg-type]

    async def _transfer(self, op: Op) -> None:
        assert op.wasm is not None and op.sha256 is not None
        wasm, cache = op.wasm, self.gw.cache
        # the configured chunk size, or less when the device announced a smaller max frame
        chunk = min(self.gw.config.chunk_size,
                    max_chunk_data(self.link.peer_max_frame, op.module_id, self.link.version))
        self._report_app(op, "DEPLOYING")
        ack = await self._request(DeployBegin(op.module_id, len(wasm), op.sha256, op.entry or "run",
                                              op.memory_limit or 0, op.fuel_limit or 0, chunk))
        if not ack.ok:
            return self._fail(op, ack)
        offset = ack.offset
        while offset < len(wasm):
            if cache.op_state(op.seq) != "pending":
                return  # superseded by a newer module or a stop while we were sending
            ack = await self._request(DeployChunk(op.module_id, offset,
                                                  wasm[offset:offset + chunk]))
            if not ack.ok and ack.error_code != ErrorCode.OUT_OF_ORDER:
                return self._fail(op, ack)
            offset = ack.offset
            cache.progress(op.seq, offset)
            self.gw.metrics.chunks.inc()
        ack = await self._request(DeployCommit(op.module_id))
        if not ack.ok:
            return self._fail(op, ack)
        cache.finish(op.seq)
        self.gw.metrics.deployments.labels("committed").inc()

    def _fail(self, op: Op, ack: DeployAck) -> None:
        code = ErrorCode(ack.error_code).name if ack.error_code else "ERROR"
        error = f"{code}: {ack.error or 'refused by device'}"
        self.gw.cache.finish(op.seq, error)
        self.gw.metrics.deployments.labels("refused").inc()
        self._report_app(op, "FAILED", error)
