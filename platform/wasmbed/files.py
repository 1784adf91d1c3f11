"""Files that hold what only their owner may read: stores, caches, keys, tokens."""

from __future__ import annotations

import os
from pathlib import Path


def private_file(path: Path) -> Path:
    """Make sure `path` exists and is 0600 before anything is written to it. A SQLite
    database made this way gives its -wal and -shm files the same mode."""
    path.parent.mkdir(parents=True, exist_ok=True)
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
    for companion in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        if companion.exists():
            os.chmod(companion, 0o600)
    return path
