"""The virtual device against a rogue gateway written in the test: it must refuse bytes
whose hash does not match, resume a transfer at the offset it holds, and answer garbage
with an Error instead of crashing."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import ssl
import time

import pytest
from cryptography.hazmat.primitives import serialization

from wasmbed import examples
from wasmbed.device import VirtualDevice
from wasmbed.device.provision import provision
from wasmbed.pki import PkiLayout
from wasmbed.protocol import (
    AppOutput,
    AppState,
    AppStatus,
    DeployAck,
    DeployBegin,
    DeployChunk,
    DeployCommit,
    DeployStep,
    Error,
    ErrorCode,
    Heartbeat,
    Hello,
    HelloAck,
)
from wasmbed.protocol.link import MessageLink


class RogueGateway:
    """A TLS 1.3 server that speaks our protocol as the test script says."""

    def __init__(self, layout: PkiLayout, tmp) -> None:
        files = layout.gateway_identity("rogue").save(tmp / "rogue", "id")
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.minimum_version = ssl.TLSVersion.TLSv1_3
        self.ctx.load_cert_chain(*map(str, files))
        self.ctx.verify_mode = ssl.CERT_REQUIRED
        self.ctx.load_verify_locations(cadata=layout.trust_bundle_pem().decode())
        self.links: asyncio.Queue[MessageLink] = asyncio.Queue()
        self.version = 1
        self.hello_seen = asyncio.Event()
        self.answer_hello = asyncio.Event()  # HelloAck waits for it
        self.answer_hello.set()

    async def start(self) -> int:
        async def handle(reader, writer):
            link = MessageLink(reader, writer)
            env = await link.receive()
            assert isinstance(env.message, Hello)
            self.hello_seen.set()
            await self.answer_hello.wait()
            await link.send(HelloAck(self.version, "rogue", int(time.time()), 30, "dev"),
                            env.msg_id)
            link.version = self.version
            await self.links.put(link)
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.Event().wait()  # hold the connection open

        self.server = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=self.ctx)
        return self.server.sockets[0].getsockname()[1]


async def expect(link: MessageLink, cls, timeout: float = 5.0):
    while True:
        env = await asyncio.wait_for(link.receive(), timeout)
        assert env is not None, f"device closed the link while we waited for {cls.__name__}"
        if isinstance(env.message, cls):
            return env.message
        assert isinstance(env.message, (Heartbeat, AppOutput)), env.message


def enrolled_device(layout: PkiLayout, tmp_path, port: int) -> VirtualDevice:
    d = tmp_path / "dev"
    provision(d, "dev", layout.factory, layout.platform.cert_pem)
    key = serialization.load_pem_private_key((d / "bootstrap.key").read_bytes(), None)
    cert = layout.platform.issue("dev", key.public_key())  # as if it had enrolled
    (d / "operational.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return VirtualDevice("dev", d, ("127.0.0.1", port))


@pytest.fixture
async def session(tmp_path):
    layout = PkiLayout(tmp_path / "pki").init()
    rogue = RogueGateway(layout, tmp_path)
    port = await rogue.start()
    device = enrolled_device(layout, tmp_path, port)
    task = asyncio.create_task(device.run())
    link = await asyncio.wait_for(rogue.links.get(), 10)
    yield link, device
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    rogue.server.close()


async def request(link: MessageLink, msg) -> DeployAck:
    await link.send(msg)
    return await expect(link, DeployAck)


async def test_device_refuses_a_module_whose_hash_does_not_match(session):
    link, device = session
    wasm = examples.wasm("hello")
    claimed = hashlib.sha256(b"something else").digest()
    ack = await request(link, DeployBegin("m@1", len(wasm), claimed, "run", 65536, 10**7, 64))
    assert ack.ok and ack.step == DeployStep.BEGIN and ack.offset == 0
    ack = await request(link, DeployChunk("m@1", 0, wasm))
    assert ack.ok and ack.offset == len(wasm)
    ack = await request(link, DeployCommit("m@1"))
    assert not ack.ok and ack.error_code == ErrorCode.HASH_MISMATCH
    assert "sha256 mismatch" in ack.error
    assert "m@1" not in device.modules  # never kept, never run


async def test_device_resumes_at_the_offset_it_holds_and_runs(session):
    link, device = session
    wasm = examples.wasm("hello")
    digest = hashlib.sha256(wasm).digest()
    begin = DeployBegin("m@2", len(wasm), digest, "run", 65536, 10**7, 64)
    assert (await request(link, begin)).offset == 0
    assert (await request(link, DeployChunk("m@2", 0, wasm[:64]))).offset == 64
    ack = await request(link, begin)  # e.g. after a gateway restart
    assert ack.ok and ack.offset == 64
    ack = await request(link, DeployChunk("m@2", 0, wasm[:64]))  # wrong offset
    assert not ack.ok and ack.error_code == ErrorCode.OUT_OF_ORDER and ack.offset == 64
    assert (await request(link, DeployChunk("m@2", 64, wasm[64:]))).ok
    assert (await request(link, DeployCommit("m@2"))).ok
    running = await expect(link, AppStatus)
    assert running.state == AppState.RUNNING
    done = await expect(link, AppStatus)
    assert done.state == AppState.COMPLETED


async def test_device_refuses_modules_over_its_limit(session):
    link, device = session
    size = device.profile.max_module_size + 1
    ack = await request(link, DeployBegin("m@3", size, b"\0" * 32, "run", 65536, 1, 64))
    assert not ack.ok and ack.error_code == ErrorCode.MODULE_TOO_LARGE


async def test_device_answers_a_wrong_direction_message_with_error_and_closes(session):
    link, _ = session
    await link.send(Hello([1], "x", "y"))
    err = await expect(link, Error)
    assert err.code == ErrorCode.BAD_FRAME
    while (env := await asyncio.wait_for(link.receive(), 10)) is not None:
        assert isinstance(env.message, Heartbeat), f"after the Error: {env.message}"


async def test_an_output_made_before_hello_ack_waits_for_the_session(tmp_path):
    """An output the module makes while the device still waits for HelloAck is neither
    sent before it nor forgotten: until HelloAck the link is version 1 (no OutputAcks), so
    a send then counted as delivered and dropped every unacknowledged output up to it."""
    layout = PkiLayout(tmp_path / "pki").init()
    rogue = RogueGateway(layout, tmp_path)
    rogue.version = 2
    rogue.answer_hello.clear()
    device = enrolled_device(layout, tmp_path, await rogue.start())
    held = [AppOutput("m@1", seq, 0, f"line {seq}", None) for seq in (4, 5)]
    device.unacked.extend(held)  # from the last session, not acknowledged
    task = asyncio.create_task(device.run())
    try:
        await asyncio.wait_for(rogue.hello_seen.wait(), 10)
        made = AppOutput("m@1", 6, 0, "line 6", None)
        device.unacked.append(made)  # what the module's output sink does
        device._send_output(made)
        for _ in range(20):  # let a send, if one was started, finish
            await asyncio.sleep(0)
        assert list(device.unacked) == [*held, made], "an unacknowledged output was dropped"
        rogue.answer_hello.set()
        link = await asyncio.wait_for(rogue.links.get(), 10)
        seqs = [(await expect(link, AppOutput)).seq for _ in range(3)]
        assert seqs == [4, 5, 6], "the session replays every unacknowledged output, in order"
        assert list(device.unacked) == [*held, made], "kept until the gateway acknowledges"
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        rogue.server.close()
