"""A hand-driven device session for scenarios that misbehave on purpose: a platform-CA
identity of its own, raw frames, and what the gateway answers."""

from __future__ import annotations

import asyncio
from pathlib import Path

from harness.services import GatewayHandle, Platform
from wasmbed.pki.layout import client_context
from wasmbed.protocol import Error, Hello, HelloAck
from wasmbed.protocol.link import MessageLink


async def open_session(platform: Platform, gateway: GatewayHandle, tmp_path: Path, *,
                       hello: bool = True) -> MessageLink:
    """A TLS session with an operational identity of its own ("intruder"); after Hello
    unless `hello` is False."""
    ident = platform.cluster.pki.platform.issue_identity("intruder")
    files = ident.save(tmp_path / "intruder", "id")
    ctx = client_context(files, platform.cluster.pki.platform.cert_pem)
    reader, writer = await asyncio.open_connection(*gateway.tls_address, ssl=ctx,
                                                   server_hostname="localhost")
    link = MessageLink(reader, writer)
    if hello:
        await link.send(Hello([1], "fuzz", "virtual"))
        env = await asyncio.wait_for(link.receive(), 10)
        assert isinstance(env.message, HelloAck)
    return link


async def reply_then_close(link: MessageLink) -> Error | None:
    """The Error the gateway answers with (None if it answered something else), after which
    it must close the session."""
    env = await asyncio.wait_for(link.receive(), 10)
    error = env.message if env and isinstance(env.message, Error) else None
    rest = await asyncio.wait_for(link.receive(), 10)
    assert rest is None, "the gateway should close the session after the error"
    return error
