"""Tests of the Robot libraries: they live in robot/libraries, outside any package."""

from __future__ import annotations

import sys
from pathlib import Path

LIBRARIES = Path(__file__).resolve().parent.parent / "libraries"
sys.path.insert(0, str(LIBRARIES))
