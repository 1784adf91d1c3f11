"""Runs the firmware's C protocol codec test on the host (gcc, ASan/UBSan) against the
Python package's vectors: both ends must agree byte for byte."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

FIRMWARE = Path(__file__).resolve().parent.parent


@pytest.mark.skipif(not (shutil.which("gcc") and shutil.which("make")),
                    reason="needs gcc and make (apt-get install -y gcc make)")
def test_c_codec_agrees_with_python_vectors(tmp_path):
    result = subprocess.run(
        ["make", "-s", "host-test", f"PYTHON={sys.executable}", f"BUILD={tmp_path}"],
        cwd=FIRMWARE, capture_output=True, text=True, timeout=300)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert " passed, 0 failed" in output, output
