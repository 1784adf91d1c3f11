"""Timestamps as Kubernetes writes them (RFC 3339, UTC, seconds) and back."""

from __future__ import annotations

import time
from datetime import UTC, datetime


def iso(ts: float | None = None) -> str:
    dt = datetime.fromtimestamp(ts, UTC) if ts is not None else datetime.now(UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_iso(value: str | None) -> float | None:
    if not value:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


def age(value: str | None, now: float | None = None) -> str:
    """How long ago, as kubectl says it: "12s", "5m", "3h", "2d" ("" when unknown)."""
    ts = parse_iso(value)
    if ts is None:
        return ""
    seconds = max(0, int((now if now is not None else time.time()) - ts))
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit} ago"
    return f"{seconds}s ago"
