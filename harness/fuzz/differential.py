"""The same inputs to both decoders (Python's wasmbed.protocol and the firmware's C codec);
any difference is a finding: accept vs refuse, a different error class, or a different
decoded value (compared through the re-encodings, which must also equal the input, the
profile allowing one encoding per message). Python raising anything but a ProtocolError is
a finding on its own."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from harness.fuzz.cdecoder import CDecoder
from harness.fuzz.generate import Generator
from harness.fuzz.paths import REPRODUCERS, seed_files
from wasmbed.protocol import ProtocolError, decode, encode


def python_roundtrip(payload: bytes) -> bytes | str:
    """The re-encoding of an accepted payload, or the ProtocolError class's name; any other
    exception comes back as "crash: ..." (no decoder may raise it)."""
    try:
        env = decode(payload)
    except ProtocolError as exc:
        return type(exc).__name__
    except Exception as exc:
        return f"crash: {type(exc).__name__}: {str(exc)[:200]}"
    try:
        return encode(env.message, env.msg_id, env.version)
    except Exception as exc:
        return f"crash: re-encoding what was accepted: {type(exc).__name__}: {exc}"


def disagreement(payload: bytes, py: bytes | str, c: bytes | str) -> str | None:
    """Why the two results differ, or None when they agree."""
    if isinstance(py, str) and py.startswith("crash:"):
        return f"Python {py}"
    if isinstance(py, bytes) and isinstance(c, bytes):
        if py != c:
            return f"both accept, re-encodings differ: Python {py.hex()} C {c.hex()}"
        if py != payload:
            return f"both accept, but the re-encoding is not the input: {py.hex()}"
        return None
    if isinstance(py, str) and isinstance(c, str):
        return None if py == c else f"error classes differ: Python {py}, C {c}"
    return (f"Python {'accepts' if isinstance(py, bytes) else 'refuses (' + str(py) + ')'}, "
            f"C {'accepts' if isinstance(c, bytes) else 'refuses (' + str(c) + ')'}")


@dataclass
class Finding:
    payload: bytes
    why: str
    saved: Path | None = None


@dataclass
class Stats:
    executions: int = 0
    accepted: int = 0
    seconds: float = 0.0
    findings: list[Finding] = field(default_factory=list)
    corpus: int = 0


def save(payload: bytes, directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / hashlib.sha1(payload).hexdigest()
    path.write_bytes(payload)
    return path


def run(seconds: float | None = None, seed: int = 0,
        save_to: Path | None = REPRODUCERS / "differential",
        progress: Callable[[Stats], None] | None = None, max_findings: int = 20,
        inputs: int | None = None) -> Stats:
    """Committed inputs first, then generated ones until `seconds` have passed, or until
    `inputs` were generated: with a fixed seed, the same inputs on every run and machine."""
    if (seconds is None) == (inputs is None):
        raise ValueError("run for seconds or for a number of inputs, not both or neither")
    c = CDecoder()
    seeds = [p.read_bytes() for p in seed_files("differential")]
    stats = Stats(corpus=len(seeds))
    gen = Generator(seed, seeds)
    start = time.monotonic()
    deadline = start + seconds if seconds is not None else float("inf")
    generated = 0
    last_report = start
    pending = list(seeds)
    while True:
        if pending:
            payload = pending.pop()
        elif (time.monotonic() >= deadline or generated == inputs
              or len(stats.findings) >= max_findings):
            break
        else:
            payload = gen.next()
            generated += 1
        py, cc = python_roundtrip(payload), c.roundtrip(payload)
        stats.executions += 1
        stats.accepted += isinstance(py, bytes) and isinstance(cc, bytes)
        why = disagreement(payload, py, cc)
        if why is not None:
            saved = save(payload, save_to) if save_to else None
            stats.findings.append(Finding(payload, why, saved))
        if progress and stats.executions % 2048 == 0 and time.monotonic() - last_report > 5:
            last_report = time.monotonic()
            stats.seconds = last_report - start
            progress(stats)
    stats.seconds = time.monotonic() - start
    return stats
