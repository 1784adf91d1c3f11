"""The simplest asyncio TLS 1.3 server with client-cert auth and CRL checks, built from the
same PKI helpers as the gateway: the local ceiling the gateway's handshake rate is
compared with. Run as `python -m harness.tls_ceiling PKI_DIR CERT KEY READY_FILE`."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from wasmbed.pki import PkiLayout
from wasmbed.pki.layout import server_context
from wasmbed.serving import write_ready


async def serve(pki_dir: Path, cert: Path, key: Path, ready: Path) -> None:
    pki = PkiLayout(pki_dir)
    crl = pki.factory.crl_pem() + pki.platform.crl_pem()
    ctx = server_context((cert, key), pki.trust_bundle_pem(), crl, ready.with_suffix(".crl"))

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=ctx, backlog=4096)
    write_ready(ready, {"port": server.sockets[0].getsockname()[1]})
    await asyncio.Event().wait()


if __name__ == "__main__":
    pki_dir, cert, key, ready = map(Path, sys.argv[1:5])
    asyncio.run(serve(pki_dir, cert, key, ready))
