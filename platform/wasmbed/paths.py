"""Where the repository's non-Python parts are, for code running from the checkout (an
editable install): firmware sources, Renode scripts, the dashboard build, tools."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
