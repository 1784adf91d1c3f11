"""The gateway process: TLS listener, sessions, trust refresh, HTTP API, report flushing."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
import time
from typing import Any

from cryptography import x509

from wasmbed.gateway.cache import GatewayCache
from wasmbed.gateway.config import GatewayConfig
from wasmbed.gateway.metrics import GatewayMetrics
from wasmbed.gateway.platform_api import ControlPlane, ControlPlaneError
from wasmbed.gateway.session import DeviceSession, SessionClosed
from wasmbed.pki.layout import server_context
from wasmbed.protocol import ProtocolError
from wasmbed.protocol.link import MessageLink, TraceHook
from wasmbed.serving import bind
from wasmbed.tls.server import NotTls, read_client_hello, server_handshake

log = logging.getLogger("wasmbed.gateway")


class Gateway:
    def __init__(self, config: GatewayConfig, trace: TraceHook | None = None) -> None:
        self.config = config
        self.trace = trace
        self.cache = GatewayCache(config.data_dir / "gateway-cache.sqlite")
        self.control = ControlPlane(config.api_url, config.token, config.name, self.cache)
        self.metrics = GatewayMetrics()
        self.sessions: dict[str, DeviceSession] = {}
        self.tls: ssl.SSLContext | None = None
        self.factory_ca: x509.Certificate | None = None
        self._crl = ""
        self._identity_mtime = 0
        self._handshakes = asyncio.Semaphore(config.max_handshakes)
        # connections awaiting their ClientHello, oldest first: all, and per source address
        self._pending: dict[asyncio.StreamWriter, str] = {}
        self._pending_by_source: dict[str, dict[asyncio.StreamWriter, float]] = {}
        self._refresh_now = asyncio.Event()
        self._closing: set[asyncio.Future[None]] = set()  # sessions being cut (_cut)
        self.tls_port = config.tls_port
        self.started = time.time()

    # --- trust --------------------------------------------------------------------------

    async def refresh_trust(self) -> bool:
        """Fetch CA certs and CRLs and re-read our own certificate (rotation); rebuild the
        TLS context for new connections and cut sessions whose certificate was revoked."""
        trust = await self.control.trust()
        identity_mtime = self.config.cert_file.stat().st_mtime_ns
        if self.tls is not None and trust["crl"] == self._crl and \
                identity_mtime == self._identity_mtime:
            return False
        self._identity_mtime = identity_mtime  # a rotated certificate is picked up here
        self.factory_ca = x509.load_pem_x509_certificate(trust["factoryCa"].encode())
        bundle = (trust["factoryCa"] + trust["platformCa"]).encode()
        self.tls = server_context((self.config.cert_file, self.config.key_file), bundle,
                                  trust["crl"].encode(), self.config.data_dir / "crl.pem")
        self._crl = trust["crl"]
        revoked = set()
        for block in trust["crl"].split("-----END X509 CRL-----"):
            if "BEGIN X509 CRL" in block:
                crl = x509.load_pem_x509_crl((block + "-----END X509 CRL-----").encode())
                revoked |= {r.serial_number for r in crl}
        for session in list(self.sessions.values()):
            if session.serial in revoked:
                await session.close("certificate revoked")
        return True

    async def _trust_loop(self) -> None:
        while True:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._refresh_now.wait(), self.config.trust_refresh)
            self._refresh_now.clear()
            try:
                await self.refresh_trust()
            except ControlPlaneError as exc:
                log.warning("trust refresh failed (keeping the last CRL): %s", exc)

    def request_trust_refresh(self) -> None:
        self._refresh_now.set()

    # --- sessions -----------------------------------------------------------------------

    def attach(self, session: DeviceSession) -> None:
        old = self.sessions.get(session.device_id)
        self.sessions[session.device_id] = session
        self.metrics.sessions.set(len(self.sessions))
        if old is not None:
            self._cut(old, "superseded by a new session")

    def detach(self, session: DeviceSession) -> bool:
        """Forget the session; True if it was the device's current one."""
        if self.sessions.get(session.device_id) is session:
            del self.sessions[session.device_id]
            self.metrics.sessions.set(len(self.sessions))
            return True
        return False

    async def _watchdog_loop(self) -> None:
        """Cuts sessions that stopped heartbeating: one sweep over all of them instead of a
        task per session sleeping until its deadline (at 10,000 devices, 10,000 more tasks,
        each renewing a timer, a future and a coroutine every few intervals; the gateway's
        memory per device went 50.1 -> 48.9 KiB). A silent device is cut within one sweep
        period (at most 1 s) after its timeout; a sweep of 10,000 sessions takes ~1 ms."""
        cfg = self.config
        period = min(1.0, cfg.heartbeat_timeout / 10)
        while True:
            await asyncio.sleep(period)
            now = time.monotonic()
            deadline = now - cfg.heartbeat_timeout
            for session in self.sessions.values():  # nothing awaits here: no change under us
                if session.last_heartbeat <= deadline and not session.closing:
                    idle = now - session.last_heartbeat
                    self._cut(session, f"heartbeat timeout: no heartbeat for {idle:.1f} s "
                                       f"({cfg.missed_heartbeats} intervals of "
                                       f"{cfg.heartbeat_interval} s)")

    def _cut(self, session: DeviceSession, reason: str) -> None:
        """Close a session in the background (the caller cannot wait for its goodbye); it
        counts as closing at once, so the next sweep does not cut it again."""
        session.closing = True
        self._closing.add(task := asyncio.ensure_future(session.close(reason)))
        task.add_done_callback(self._closing.discard)

    def notify_ops(self, device: str) -> None:
        session = self.sessions.get(device)
        if session:
            session.ops_changed.set()

    def _admit(self, writer: asyncio.StreamWriter, source: str) -> None:
        """Count a connection that has not sent its ClientHello; over the per-source or
        global cap, the oldest such connection is dropped (an idle flood evicts itself,
        never the device that just arrived). Over the per-source cap, only one that has
        waited `pending_grace`: a reconnect storm through one bridge (or a busy simulator)
        is many young connections whose ClientHellos are on their way, not a flood."""
        now = time.monotonic()
        self._pending[writer] = source
        same = self._pending_by_source.setdefault(source, {})
        same[writer] = now
        oldest = next(iter(same))
        if len(same) > self.config.max_pending_per_source and \
                now - same[oldest] >= self.config.pending_grace:
            self._evict(oldest)
        elif len(self._pending) > self.config.max_pending:
            self._evict(next(iter(self._pending)))

    def _settled(self, writer: asyncio.StreamWriter) -> None:
        """The connection sent its ClientHello, or is gone: no longer pending."""
        source = self._pending.pop(writer, None)
        if source is not None:
            same = self._pending_by_source[source]
            del same[writer]
            if not same:
                del self._pending_by_source[source]

    def _evict(self, writer: asyncio.StreamWriter) -> None:
        self._settled(writer)
        self.metrics.handshakes.labels("evicted").inc()
        writer.transport.abort()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peername")
        address = f"{peer[0]}:{peer[1]}" if peer else "?"
        self._admit(writer, peer[0] if peer else "?")
        try:
            hello = await asyncio.wait_for(read_client_hello(reader), self.config.hello_timeout)
        except (TimeoutError, asyncio.IncompleteReadError, NotTls, OSError) as exc:
            self.metrics.handshakes.labels("no-hello").inc()
            log.debug("connection from %s closed before a ClientHello: %s", address,
                      type(exc).__name__)
            writer.transport.abort()
            return
        finally:
            self._settled(writer)
        try:
            async with self._handshakes:
                if reader.at_eof():  # it gave up while waiting for a slot: no work for it
                    self.metrics.handshakes.labels("abandoned").inc()
                    writer.transport.abort()
                    return
                assert self.tls is not None
                tls_reader, tls_writer = await server_handshake(
                    self.tls, reader, writer, self.config.handshake_timeout, first=hello)
        except (ssl.SSLError, OSError, TimeoutError, ConnectionError) as exc:
            self.metrics.handshakes.labels("refused").inc()
            log.info("TLS handshake from %s refused: %s", address,
                     getattr(exc, "verify_message", None) or getattr(exc, "reason", None) or exc)
            writer.close()
            return
        der = tls_writer.get_extra_info("ssl_object").getpeercert(binary_form=True)
        cert = x509.load_der_x509_certificate(der)
        assert self.factory_ca is not None
        bootstrap = cert.issuer == self.factory_ca.subject
        self.metrics.handshakes.labels("bootstrap" if bootstrap else "operational").inc()
        link = MessageLink(tls_reader, tls_writer,  # type: ignore[arg-type]
                           max_frame=self.config.max_frame, trace=self.trace,
                           tx_label="gateway->device", rx_label="device->gateway")
        session = DeviceSession(self, link, cert, bootstrap, address)
        try:
            await session.run()
        except ProtocolError as exc:
            self.metrics.protocol_errors.inc()
            log.info("session %s closed on protocol error: %s", address, exc)
        except (OSError, ConnectionError, TimeoutError, ssl.SSLError, SessionClosed,
                asyncio.IncompleteReadError) as exc:
            log.info("session %s ended: %s: %s", address, type(exc).__name__, exc)
        finally:
            await link.close()

    # --- run ----------------------------------------------------------------------------

    async def start(self) -> None:
        """Fetch trust and register; then listen. Retries until the API answers."""
        delay = 0.2
        while True:
            try:
                await self.refresh_trust()
                break
            except ControlPlaneError as exc:
                log.warning("waiting for the API server: %s", exc)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
        sock = bind(self.config.host, self.config.tls_port, backlog=4096)
        self.tls_port = sock.getsockname()[1]
        self.server = await asyncio.start_server(self._accept, sock=sock, backlog=4096)
        self._tasks = [asyncio.create_task(self.control.flush_forever()),
                       asyncio.create_task(self._trust_loop()),
                       asyncio.create_task(self._watchdog_loop())]

    async def register(self, http_url: str) -> None:
        spec: dict[str, Any] = {
            "endpoint": self.config.advertise_url or http_url,
            "tlsEndpoint": self.config.advertise_tls or f"{self.config.host}:{self.tls_port}",
            "tlsPort": self.tls_port,
            "startedAt": self.started,
            "config": {"heartbeatInterval": self.config.heartbeat_interval,
                       "missedHeartbeats": self.config.missed_heartbeats},
        }
        await self.control.register_until_accepted(spec)

    async def stop(self) -> None:
        self.server.close()
        for session in list(self.sessions.values()):
            await session.close("gateway shutting down")
        for t in self._tasks:
            t.cancel()
        await self.control.close()
        self.cache.close()
