"""The committed seed corpus (firmware/tests/fuzz/corpus), made from the protocol's
vectors and from gateway conversations the session target can follow. Regenerate after a
schema change: python -m harness.fuzz seeds."""

from __future__ import annotations

import hashlib
import json

from harness.fuzz.paths import SEEDS
from wasmbed.protocol import frame
from wasmbed.protocol import messages as m
from wasmbed.protocol.codec import encode
from wasmbed.protocol.enums import ErrorCode
from wasmbed.protocol.vectors import INVALID_PATH, VALID_PATH

OPERATIONAL, BOOTSTRAP = 1, 0  # the session target's setup byte, bit 0


def codec_seeds() -> dict[str, bytes]:
    seeds = {f"valid-{k}": bytes.fromhex(v)
             for k, v in json.loads(VALID_PATH.read_text()).items()}
    seeds |= {f"invalid-{k}": bytes.fromhex(v["hex"])
              for k, v in json.loads(INVALID_PATH.read_text()).items()}
    return seeds


def _stream(version: int, *messages: tuple[m.Message, int]) -> bytes:
    out = b""
    for message, msg_id in messages:
        v = 1 if isinstance(message, m.HelloAck) else version
        out += frame(encode(message, msg_id, v))
    return out


def session_seeds() -> dict[str, bytes]:
    wasm = b"\x00asm\x01\x00\x00\x00" + bytes(24)
    sha = hashlib.sha256(wasm).digest()
    deploy = [(m.DeployBegin("app-1", len(wasm), sha, "run", 0, 1000, 16), 10),
              (m.DeployChunk("app-1", 0, wasm[:16]), 11),
              (m.DeployChunk("app-1", 16, wasm[16:]), 12),
              (m.DeployCommit("app-1"), 13)]
    seeds = {}
    for version in (1, 2):
        ack = (m.HelloAck(version, "gw-fuzz", 1_790_000_000, 1, "fuzz-device"), 1)
        beat = (m.HeartbeatAck(1, 1_790_000_001), 2)
        acks = [(m.OutputAck("app-1", seq), 20 + seq) for seq in range(1, 14)] \
            if version == 2 else []
        chunk = 1 << (version + 2)  # TLS reads of 8 and 16 bytes
        seeds[f"v{version}-deploy-run"] = bytes([OPERATIONAL | chunk.bit_length() - 1 << 1]) + \
            _stream(version, ack, beat, *deploy, *acks, beat)
        seeds[f"v{version}-stop-and-errors"] = bytes([OPERATIONAL]) + _stream(
            version, ack, beat, *deploy[:2], (m.StopApp("app-1"), 30),
            (m.Error(ErrorCode.BAD_FRAME, "x"), 31), (m.DeployChunk("other", 5, b"z"), 32))
        seeds[f"v{version}-wrong-direction"] = bytes([OPERATIONAL]) + _stream(
            version, ack, (m.Heartbeat(1, 2, []), 3))
    seeds["enroll-accepted"] = bytes([BOOTSTRAP]) + _stream(
        1, (m.HelloAck(2, "gw-fuzz", 1_790_000_000, 1), 1),
        (m.EnrollResponse(True, device_id="fuzz-device", certificate=b"\x30\x03\x02\x01\x01"),
         2))
    seeds["enroll-rejected"] = bytes([BOOTSTRAP]) + _stream(
        1, (m.HelloAck(2, "gw-fuzz", 1_790_000_000, 1), 1),
        (m.EnrollResponse(False, reason="no"), 2))
    seeds["bad-frame-header"] = bytes([OPERATIONAL]) + b"\x00\x00\x00\x00"
    return seeds


def write() -> None:
    for target, seeds in (("codec", codec_seeds()), ("session", session_seeds())):
        directory = SEEDS / target
        directory.mkdir(parents=True, exist_ok=True)
        for old in directory.iterdir():
            old.unlink()
        for name, data in seeds.items():
            (directory / name).write_bytes(data)
        print(f"wrote {len(seeds)} seeds to {directory}")
