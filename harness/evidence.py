"""What a scenario leaves behind: every process log and protocol trace, by name.

On failure the plugin lists their paths in the report and attaches them to Allure.
Protocol traces are JSON lines (one decoded frame per line: ts, dir, type, id, fields).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class Evidence:
    directory: Path
    files: dict[str, Path] = field(default_factory=dict)

    def path(self, name: str, suffix: str = ".log") -> Path:
        """A new file in the test's evidence directory, registered under `name`."""
        p = self.directory / f"{name}{suffix}"
        self.files[name] = p
        return p

    def existing(self) -> dict[str, Path]:
        return {n: p for n, p in self.files.items() if p.exists() and p.stat().st_size}

    def summary(self) -> str:
        lines = [f"evidence directory: {self.directory}"]
        lines += [f"  {name}: {path}" for name, path in sorted(self.existing().items())]
        return "\n".join(lines)


def read_json_lines(path: Path) -> list[dict[str, Any]]:
    """The records of a JSON-lines file (a protocol trace, a fleet's stats), read while its
    process may still be appending: a last line without its newline is a record half
    written (a large one takes several writes) and is left for the next read. A file not
    written yet has no records."""
    try:
        text = path.read_text()
    except FileNotFoundError:
        return []
    return [json.loads(line) for line in text.split("\n")[:-1] if line]
