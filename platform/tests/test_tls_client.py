"""The virtual devices' TLS client (pyOpenSSL) against the gateway's server context (Python's
ssl), on loopback: it checks what Python's client context checked, and says why it refused."""

from __future__ import annotations

import asyncio
import ssl
from pathlib import Path

import pytest

from wasmbed.pki import PkiLayout
from wasmbed.pki.ca import CertificateAuthority, Identity
from wasmbed.pki.layout import server_context
from wasmbed.tls.client import TlsRefused, open_tls
from wasmbed.tls.server import server_handshake


@pytest.fixture
def layout(tmp_path: Path) -> PkiLayout:
    return PkiLayout(tmp_path / "pki").init()


class Gateway:
    """The gateway's own server handshake (its context and memory-BIO engine) that echoes
    one line back, and records how each connection ended."""

    def __init__(self, ctx: ssl.SSLContext) -> None:
        self.ctx = ctx
        self.ended: asyncio.Queue[str] = asyncio.Queue()

    async def __aenter__(self) -> tuple[str, int]:
        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            try:
                tls_reader, tls_writer = await server_handshake(self.ctx, reader, writer, 5)
            except ssl.SSLError as exc:
                await self.ended.put(f"refused: {exc.reason}")
                writer.close()
                return
            try:
                line = await tls_reader.readexactly(5)
                tls_writer.write(line.upper())
                await tls_writer.drain()
                await tls_reader.readexactly(1)  # until the client closes
            except asyncio.IncompleteReadError as exc:
                await self.ended.put(f"closed after {exc.partial!r}")
            except ssl.SSLError as exc:
                await self.ended.put(f"refused: {exc.reason}")
            finally:
                tls_writer.close()

        self.server = await asyncio.start_server(handle, "127.0.0.1", 0)
        return "127.0.0.1", self.server.sockets[0].getsockname()[1]

    async def __aexit__(self, *exc: object) -> None:
        self.server.close()


def gateway_context(layout: PkiLayout, tmp_path: Path) -> ssl.SSLContext:
    files = layout.gateway_identity("gw").save(tmp_path / "gw", "id")
    crls = layout.factory.crl_pem() + layout.platform.crl_pem()
    return server_context(files, layout.trust_bundle_pem(), crls, tmp_path / "crl.pem")


async def test_a_device_talks_to_the_gateway_and_closes_cleanly(layout, tmp_path):
    device = layout.factory.issue_identity("dev")
    gateway = Gateway(gateway_context(layout, tmp_path))
    async with gateway as address:
        reader, writer = await open_tls(address, layout.platform.cert_pem, device,
                                        "localhost", 5)
        # X25519: a P-256 key exchange costs the gateway 3.4 KiB more per connection
        assert writer.get_extra_info("ssl_object").get_group_name() == "x25519"
        writer.write(b"hello")
        await writer.drain()
        assert await reader.readexactly(5) == b"HELLO"
        writer.close()  # close_notify: the gateway reads an orderly end, not an error
        await writer.wait_closed()
        assert await asyncio.wait_for(gateway.ended.get(), 5) == "closed after b''"


async def test_the_gateway_must_hold_a_certificate_for_the_name(layout, tmp_path):
    device = layout.factory.issue_identity("dev")
    async with Gateway(gateway_context(layout, tmp_path)) as address:
        with pytest.raises(TlsRefused, match="not for 'gateway.example'"):
            await open_tls(address, layout.platform.cert_pem, device, "gateway.example", 5)
        for name in ("127.0.0.1", "LOCALHOST", "gw"):  # IP address, any case, its own name
            _, writer = await open_tls(address, layout.platform.cert_pem, device, name, 5)
            writer.close()


async def test_a_gateway_the_device_does_not_trust_is_refused(layout, tmp_path):
    device = layout.factory.issue_identity("dev")
    other = CertificateAuthority.create(tmp_path / "other", "Other platform CA")
    async with Gateway(gateway_context(layout, tmp_path)) as address:
        with pytest.raises(TlsRefused, match="certificate verify failed"):
            await open_tls(address, other.cert_pem, device, "localhost", 5)


async def test_the_gateways_alert_reaches_the_device_in_words(layout, tmp_path):
    """TLS 1.3 ends the client's handshake before the server has checked its certificate:
    the gateway's alert arrives with the first read, as a TlsRefused that says why."""
    rogue = CertificateAuthority.create(tmp_path / "rogue", "Rogue factory CA")
    revoked = layout.factory.issue_identity("revoked")
    layout.factory.revoke(revoked.cert.serial_number)
    ctx = gateway_context(layout, tmp_path)
    async with Gateway(ctx) as address:
        for device, why in ((rogue.issue_identity("dev"), "unknown ca"),
                            (revoked, "certificate revoked")):
            reader, writer = await open_tls(address, layout.platform.cert_pem, device,
                                            "localhost", 5)
            writer.write(b"hello")
            with pytest.raises(TlsRefused, match=why):
                await reader.readexactly(5)
            writer.close()


async def test_a_gateway_that_never_answers_times_out(layout, tmp_path):
    device = layout.factory.issue_identity("dev")
    held: list[asyncio.StreamWriter] = []

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    address = ("127.0.0.1", server.sockets[0].getsockname()[1])
    try:
        with pytest.raises(TimeoutError):
            await open_tls(address, layout.platform.cert_pem, device, "localhost", 0.5)
    finally:
        for w in held:
            w.close()
        server.close()


async def test_tls_1_2_is_refused(layout, tmp_path):
    files = layout.gateway_identity("gw").save(tmp_path / "gw", "id")
    old = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    old.maximum_version = ssl.TLSVersion.TLSv1_2
    old.load_cert_chain(*files)

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await server_handshake(old, reader, writer, 5)
        except ssl.SSLError:
            pass
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    address = ("127.0.0.1", server.sockets[0].getsockname()[1])
    try:
        with pytest.raises(TlsRefused, match="version"):
            await open_tls(address, layout.platform.cert_pem,
                           layout.factory.issue_identity("dev"), "localhost", 5)
    finally:
        server.close()


def test_identities_load_from_a_certificate_and_a_key_of_other_names(tmp_path, layout):
    cert, key = layout.factory.issue_identity("dev").save(tmp_path, "bootstrap")
    operational = tmp_path / "operational.pem"
    operational.write_bytes(cert.read_bytes())
    loaded = Identity.from_files(operational, key)
    assert loaded.cert_pem == cert.read_bytes()
