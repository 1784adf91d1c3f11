"""`wasmbed-hil lab check` says what of each lab board does not answer, and why."""

from __future__ import annotations

import socket
import subprocess
import sys

from harness.lab.check import check_lab


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # nothing listens once it is closed


def test_what_does_not_answer_is_named(tmp_path):
    lab = tmp_path / "lab.yaml"
    lab.write_text(f"""\
boards:
  ghost:
    type: stm32f4_discovery
    console: {{port: /dev/ttyNOPE0}}
    link: {{port: "rfc2217://127.0.0.1:{closed_port()}"}}
    probe: {{gdb: "127.0.0.1:{closed_port()}"}}
lock_dir: {tmp_path / "locks"}
""")
    found = {f.part: f for f in check_lab(lab)}
    assert not found["console"].ok and "/dev/ttyNOPE0" in found["console"].detail
    assert "adapter plugged in" in found["console"].detail
    assert not found["link"].ok and "is ser2net serving it" in found["link"].detail
    assert not found["probe"].ok and "no GDB server at 127.0.0.1" in found["probe"].detail
    assert found["lock"].ok and found["lock"].detail == "free"
    done = subprocess.run([sys.executable, "-m", "harness.cli", "lab", "check", str(lab)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 1 and "FAIL" in done.stdout and "ghost" in done.stdout


def test_a_bad_lab_file_is_one_clear_line(tmp_path):
    lab = tmp_path / "lab.yaml"
    lab.write_text("boards: {x: {type: teensy}}\n")
    done = subprocess.run([sys.executable, "-m", "harness.cli", "lab", "check", str(lab)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 1 and "unknown board type 'teensy'" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_rig_command_without_a_rig_says_how_to_start_one(tmp_path):
    done = subprocess.run([sys.executable, "-m", "harness.lab.standin", "ctl", str(tmp_path),
                           "power", "off"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 1 and not done.stderr, done.stderr
    assert done.stdout.startswith("error no rig answers at") and \
        f"harness.lab.standin serve {tmp_path}" in done.stdout, done.stdout
