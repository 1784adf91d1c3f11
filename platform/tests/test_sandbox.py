"""The sandbox untrusted builds run in: it sees only its work dir and /usr, has no network,
and is held to its limits. Each test is an escape attempt that must fail."""

from __future__ import annotations

import socket
import sys

import pytest

from wasmbed import sandbox

pytestmark = pytest.mark.skipif(sandbox.missing() is not None,
                                reason=f"no sandbox here: {sandbox.missing()}")


def test_host_files_outside_the_work_dir_do_not_exist_inside(tmp_path):
    secret = tmp_path / "secret.key"
    secret.write_text("PRIVATE KEY")
    work = tmp_path / "work"
    work.mkdir()
    out = sandbox.run(["/bin/sh", "-c", f"cat {secret}; ls /etc /root /home; echo done"],
                      work)
    assert "PRIVATE KEY" not in out.output
    assert "done" in out.output and "No such file" in out.output


def test_the_work_dir_is_writable_and_comes_back(tmp_path):
    out = sandbox.run(["/bin/sh", "-c", "echo built > result.txt"], tmp_path)
    assert out.ok, out.output
    assert (tmp_path / "result.txt").read_text() == "built\n"


def test_no_network(tmp_path):
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    code = (f"import socket; s = socket.socket(); s.settimeout(2); "
            f"s.connect(('127.0.0.1', {port})); print('CONNECTED')")
    try:
        out = sandbox.run([sys.executable if sys.executable.startswith("/usr/")
                           else "/usr/bin/python3", "-c", code], tmp_path)
    finally:
        listener.close()
    assert "CONNECTED" not in out.output and not out.ok


def test_wall_time_limit_kills_the_whole_tree(tmp_path):
    limits = sandbox.Limits(wall_s=1.0)
    out = sandbox.run(["/bin/sh", "-c", "sleep 30 & sleep 30"], tmp_path, limits)
    assert out.timed_out and not out.ok


def test_output_is_capped(tmp_path):
    out = sandbox.run(["/bin/sh", "-c", "yes flood | head -c 100000"], tmp_path,
                      sandbox.Limits(output_bytes=1000))
    assert len(out.output.encode()) <= 1000 and out.cut_bytes == 99_000


def test_file_size_is_capped(tmp_path):
    out = sandbox.run(["/bin/sh", "-c", "head -c 100000 /dev/zero > big"], tmp_path,
                      sandbox.Limits(file_bytes=4096))
    assert not out.ok and (tmp_path / "big").stat().st_size == 4096


def test_memory_limit(tmp_path):
    limits = sandbox.Limits(memory_bytes=64 * 1024 * 1024)
    code = "x = bytearray(512 * 1024 * 1024); print('ALLOCATED')"
    out = sandbox.run(["/usr/bin/python3", "-c", code], tmp_path, limits)
    assert "ALLOCATED" not in out.output and "MemoryError" in out.output


def test_a_hiding_prefix_shows_the_host_minus_the_secrets(tmp_path):
    secrets = tmp_path / "pki"
    secrets.mkdir()
    (secrets / "ca.key").write_text("PRIVATE KEY")
    token = tmp_path / "token"
    token.write_text("admin-token")
    visible = tmp_path / "firmware.elf"
    visible.write_text("ELF")
    import subprocess

    prefix = sandbox.hiding_prefix([secrets, token])
    done = subprocess.run([*prefix, "/bin/sh", "-c", f"cat {visible}; ls {secrets}; "
                           f"cat {token}; echo end"], capture_output=True, text=True, timeout=30)
    assert done.stdout == "ELFend\n", done
