"""NGINX, the gateway benchmark's handshake peer, takes a device's mutual-TLS handshake
with the platform's certificates and refuses a client without one."""

from __future__ import annotations

import asyncio
import ssl

import pytest

from harness.bench import handshakes_per_second, pki_client
from harness.nginx_peer import NginxMissing, find_nginx, start_nginx
from wasmbed.pki import PkiLayout
from wasmbed.processes import ProcessGroup


def test_nginx_takes_mutual_tls_handshakes(tmp_path):
    try:
        find_nginx()
    except NginxMissing as exc:
        pytest.skip(str(exc))
    pki = PkiLayout(tmp_path / "pki").init()
    cert, key = pki.gateway_identity("peer").save(tmp_path / "gw", "id")
    group = ProcessGroup()
    try:
        port = start_nginx(tmp_path / "nginx", group, cert, key, pki.trust_bundle_pem(),
                           pki.factory.crl_pem() + pki.platform.crl_pem())
        client = pki_client(pki, tmp_path / "client")
        rate = asyncio.run(handshakes_per_second(("127.0.0.1", port), client, 20, 4))
        assert rate > 0

        async def answer(ctx: ssl.SSLContext) -> bytes:
            reader, writer = await asyncio.open_connection("127.0.0.1", port, ssl=ctx,
                                                           server_hostname="localhost")
            try:
                return await reader.read()  # TLS 1.3: a refusal comes after the Finished
            except (ssl.SSLError, ConnectionError):
                return b""
            finally:
                writer.close()

        assert asyncio.run(answer(client)) == b"ok\n"
        anonymous = ssl.create_default_context(cadata=pki.platform.cert_pem.decode())
        anonymous.minimum_version = ssl.TLSVersion.TLSv1_3
        assert asyncio.run(answer(anonymous)) == b""
    finally:
        group.reap()
