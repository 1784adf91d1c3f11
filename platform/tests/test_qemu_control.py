"""QEMU's control socket: QEMU creates the QMP socket file when it binds, a moment before it
listens, so the file existing is not readiness (a CI run lost a board start to that gap)."""

from __future__ import annotations

import socket
import tempfile
from pathlib import Path

from wasmbed.emulation.qemu import connect_qmp
from wasmbed.waiting import Seen


def test_a_bound_socket_that_does_not_listen_yet_is_not_ready() -> None:
    with tempfile.TemporaryDirectory(prefix="wbq-") as d:
        path = Path(d) / "qmp"
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.bind(str(path))  # the file exists; connect() is refused until listen()
            assert path.exists()
            result = connect_qmp(path)
            assert isinstance(result, Seen), result
            assert "not listening" in str(result.state), result.state


def test_no_socket_file_is_not_ready() -> None:
    with tempfile.TemporaryDirectory(prefix="wbq-") as d:
        assert isinstance(connect_qmp(Path(d) / "qmp"), Seen)
