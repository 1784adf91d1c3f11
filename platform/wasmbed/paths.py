"""Where the repository's non-Python parts are, for code running from the checkout (an
editable install): firmware sources, Renode scripts, the dashboard build, tools."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def dashboard_dir() -> Path | None:
    """The dashboard's built assets: shipped inside the package, or built in the checkout."""
    for candidate in (Path(__file__).parent / "dashboard", REPO / "platform" / "dashboard"
                      / "dist"):
        if (candidate / "index.html").is_file():
            return candidate
    return None
