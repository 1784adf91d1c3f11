"""PKI: issuing, revocation lists, and what a TLS 1.3 server built from them accepts."""

from __future__ import annotations

import asyncio
import datetime as dt
import ssl

import pytest
from cryptography import x509

from wasmbed.pki import CertificateAuthority, PkiLayout
from wasmbed.pki.layout import client_context, is_bootstrap, server_context


@pytest.fixture(scope="module")
def layout(tmp_path_factory):
    return PkiLayout(tmp_path_factory.mktemp("pki")).init()


def test_layout_is_idempotent_and_keys_are_private(layout):
    before = layout.platform.cert.serial_number
    layout.init()
    assert layout.platform.cert.serial_number == before
    assert (layout.root / "platform" / "ca.key").stat().st_mode & 0o077 == 0


def test_certificates_are_p256_and_chain_to_their_ca(layout):
    ident = layout.factory.issue_identity("bootstrap-x")
    assert ident.key.curve.name == "secp256r1"
    ident.cert.verify_directly_issued_by(layout.factory.cert)
    assert is_bootstrap(ident.cert, layout.factory.cert)
    gw = layout.gateway_identity("gw-a")
    assert not is_bootstrap(gw.cert, layout.factory.cert)
    sans = gw.cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert "gw-a" in sans.get_values_for_type(x509.DNSName)


def test_crl_lists_revoked_serials(tmp_path):
    ca = CertificateAuthority.create(tmp_path / "ca", "Test CA")
    a, b = ca.issue_identity("a"), ca.issue_identity("b")
    ca.revoke(a.cert.serial_number)
    crl = x509.load_pem_x509_crl(ca.crl_pem())
    assert crl.is_signature_valid(ca.cert.public_key())
    assert crl.get_revoked_certificate_by_serial_number(a.cert.serial_number) is not None
    assert crl.get_revoked_certificate_by_serial_number(b.cert.serial_number) is None


async def _handshake(server_ctx: ssl.SSLContext, client_ctx: ssl.SSLContext) -> str:
    """Run a real TLS 1.3 handshake on loopback; the client's first read tells the result."""

    async def handle(reader, writer):
        writer.write(b"ok")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=server_ctx)
    port = server.sockets[0].getsockname()[1]
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port, ssl=client_ctx,
                                                       server_hostname="localhost")
        try:
            return (await reader.read(2)).decode() or "closed"
        finally:
            writer.close()
    except ssl.SSLError as exc:
        return f"refused: {exc.reason}"
    finally:
        server.close()


def _contexts(layout, tmp_path, device_ca):
    gw_files = layout.gateway_identity("gw-tls").save(tmp_path / "gw", "id")
    dev = device_ca.issue_identity("dev")
    dev_files = dev.save(tmp_path / "dev", "id")
    crl = layout.factory.crl_pem() + layout.platform.crl_pem()
    server = server_context(gw_files, layout.trust_bundle_pem(), crl, tmp_path / "crl.pem")
    return server, client_context(dev_files, layout.platform.cert_pem), dev


async def test_tls13_mutual_auth_accepts_factory_and_refuses_foreign_ca(layout, tmp_path):
    server, client, _ = _contexts(layout, tmp_path, layout.factory)
    assert await _handshake(server, client) == "ok"
    rogue = CertificateAuthority.create(tmp_path / "rogue", "Rogue CA")
    server, client, _ = _contexts(layout, tmp_path, rogue)
    result = await _handshake(server, client)
    assert result.startswith("refused") or result == "closed"


async def test_revoked_client_is_refused(tmp_path):
    layout = PkiLayout(tmp_path / "pki").init()
    gw_files = layout.gateway_identity("gw").save(tmp_path / "gw", "id")
    dev = layout.platform.issue_identity("dev-1")
    client = client_context(dev.save(tmp_path / "dev", "id"), layout.platform.cert_pem)
    layout.platform.revoke(dev.cert.serial_number)
    crl = layout.factory.crl_pem() + layout.platform.crl_pem()
    server = server_context(gw_files, layout.trust_bundle_pem(), crl, tmp_path / "crl.pem")
    result = await _handshake(server, client)
    assert result.startswith("refused") or result == "closed"


def test_short_lived_certificates(layout):
    before = dt.datetime.now(dt.UTC)
    c = layout.platform.issue_identity("short", lifetime=dt.timedelta(seconds=30)).cert
    remaining = c.not_valid_after_utc - before
    assert dt.timedelta(seconds=28) <= remaining <= dt.timedelta(seconds=31)
    assert c.not_valid_before_utc < before  # slack for device clocks
