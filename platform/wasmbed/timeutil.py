"""Timestamps as Kubernetes writes them (RFC 3339, UTC, seconds) and back."""

from __future__ import annotations

from datetime import UTC, datetime


def iso(ts: float | None = None) -> str:
    dt = datetime.fromtimestamp(ts, UTC) if ts is not None else datetime.now(UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_iso(value: str | None) -> float | None:
    if not value:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
