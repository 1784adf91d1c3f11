"""Where the fuzzers' inputs live: the committed seed corpus and reproducers, and the
git-ignored working corpus each run grows."""

from __future__ import annotations

from pathlib import Path

from wasmbed.paths import REPO

FIRMWARE = REPO / "firmware"
FUZZ_DIR = FIRMWARE / "tests" / "fuzz"
SEEDS = FUZZ_DIR / "corpus"  # committed: <target>/<name>
REPRODUCERS = FUZZ_DIR / "reproducers"  # committed when found: <target>/<sha1>
WORK = FIRMWARE / "build" / "fuzz"  # git-ignored: binaries and grown corpora

TARGETS = ("codec", "session", "python", "differential")


def seed_files(target: str) -> list[Path]:
    """The committed inputs of a target (its seeds and reproducers); the Python targets
    share the codec's seeds, being decoders of the same payloads."""
    corpus = "session" if target == "session" else "codec"
    dirs = [SEEDS / corpus, REPRODUCERS / target]
    if target != "session":
        dirs += [REPRODUCERS / t for t in ("codec", "python", "differential") if t != target]
    return sorted(p for d in dirs if d.is_dir() for p in d.iterdir() if p.is_file())
