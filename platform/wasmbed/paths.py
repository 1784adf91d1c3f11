"""Where the repository's non-Python parts are, for code running from the checkout (an
editable install): firmware sources, Renode scripts, tools. What an installed product needs
(dashboard, manifests, the app header, protocol vectors) ships inside the package."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def dashboard_dir() -> Path | None:
    """The dashboard's built assets: shipped inside the package, or built in the checkout."""
    built = Path(__file__).parent / "dashboard"  # vite's outDir, shipped in the wheel
    return built if (built / "index.html").is_file() else None
