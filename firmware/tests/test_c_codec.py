"""Runs the firmware's host C tests (gcc, ASan/UBSan): the protocol codec against the
Python package's vectors (both ends must agree byte for byte), and the TLS client's resync
to the server's first record on a link with no connection boundaries."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

FIRMWARE = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.skipif(not (shutil.which("gcc") and shutil.which("make")),
                                reason="needs gcc and make (apt-get install -y gcc make)")


def _host_test(target: str, build: Path) -> str:
    result = subprocess.run(
        ["make", "-s", target, f"PYTHON={sys.executable}", f"BUILD={build}"],
        cwd=FIRMWARE, capture_output=True, text=True, timeout=300)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert " passed, 0 failed" in output, output
    return output


def test_c_codec_agrees_with_python_vectors(tmp_path):
    _host_test("host-test", tmp_path)


def test_tls_client_skips_stale_link_bytes_to_the_servers_first_record(tmp_path):
    _host_test("host-test-record-sync", tmp_path)
