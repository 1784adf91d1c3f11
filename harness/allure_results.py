"""What the xdist controller does to the Allure results once every worker has written
its own: Allure's raw records carry pytest's plumbing and run-specific text that would
clutter the report or split its groups."""

from __future__ import annotations

import json
import re
from pathlib import Path

# Text that differs from run to run inside one failure: ports, pids, durations, temporary
# paths, hashes. Allure groups the defects of a category by their message, so these go.
_VOLATILE = [
    (re.compile(r"/tmp/\S+"), "<tmp>"),
    (re.compile(r"(?<=\w-)[0-9a-f]{6}\b"), "<hex>"),  # harness names: prefix-6 random hex
    (re.compile(r"\b(?=[0-9a-f]*\d)[0-9a-f]{6,}\b"), "<hex>"),
    (re.compile(r"\d+(\.\d+)?"), "N"),
]
_WAITED = re.compile(r"timed out after [\d.]+ s waiting for (?P<what>.*?)"
                     r"(?:; last seen: |; last error: |$)", re.S)


def defect_key(message: str) -> str:
    """The exception type and, for a wait that timed out, the condition awaited: stable
    across runs, so Allure puts repeats of one failure in one group. The full message stays
    in the test's trace."""
    first = message.strip().splitlines()[0] if message.strip() else ""
    kind, _, text = first.partition(": ")
    if not text:
        kind, text = "", first
    waited = _WAITED.search(message)
    if waited:
        text = f"timed out waiting for {waited['what'].strip()}"
    for pattern, stand_in in _VOLATILE:
        text = pattern.sub(stand_in, text)
    kind = kind.rsplit(".", 1)[-1]
    return f"{kind}: {text}" if kind else text


def clear_record(results: Path, stale: list[Path]) -> None:
    """One run, one record: the last run's result files and `stale` go. Another run
    started at the same moment in the same checkout clears them too; a file it removed
    first is not an error."""
    for old in [p for p in results.iterdir() if p.is_file()] + stale:
        old.unlink(missing_ok=True)


def group_defects(results: Path) -> None:
    for path in results.glob("*-result.json"):
        record = _read(path)
        details = (record or {}).get("statusDetails") or {}
        message = details.get("message")
        if not record or record.get("status") not in ("failed", "broken") or not message:
            continue
        key = defect_key(message)
        if key != message:
            details["message"] = key
            details["trace"] = f"{message.rstrip()}\n\n{details.get('trace') or ''}"
            path.write_text(json.dumps(record))


def hide_anonymous_finalizers(results: Path) -> None:
    """pytest tears every fixture down through a `<lambda>` finalizer; Allure lists each
    as a tear-down step of unknown status. Drop those that recorded nothing: what is left
    in Tear down is what our fixtures did (their steps and attachments)."""
    for path in results.glob("*-container.json"):
        container = _read(path)
        if not container:
            continue
        afters = container.get("afters") or []
        kept = [a for a in afters if not (a.get("name", "").endswith("::<lambda>")
                                          and not a.get("steps") and not a.get("attachments"))]
        if len(kept) != len(afters):
            container["afters"] = kept
            path.write_text(json.dumps(container))


def _read(path: Path) -> dict | None:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None
