"""`wasmbed-hil test`: pytest with the progress display; exit code is pytest's, every test gets
a status line, failures are shown with their message, JUnit goes where asked."""

from __future__ import annotations

import subprocess
import sys


def test_progress_lines_summary_and_exit_code(tmp_path):
    scratch = tmp_path / "test_scratch.py"
    scratch.write_text("import pytest\n"
                       "def test_good(): pass\n"
                       "def test_bad(evidence):\n"
                       "    evidence.path('a-log').write_text('x')\n"
                       "    assert 1 == 2, 'deliberately wrong'\n"
                       "@pytest.mark.parametrize('size', [0, 65536])\n"
                       "def test_sized(size): pass\n")
    junit = tmp_path / "junit.xml"
    # its own rootdir: pytest's is the common ancestor of the checkout (its cwd) and the
    # scratch file, which for a checkout under /tmp was /tmp (its reports/ written there)
    run = subprocess.run([sys.executable, "-m", "harness.cli", "test", str(scratch),
                          f"--rootdir={tmp_path}", f"--junitxml={junit}",
                          f"--alluredir={tmp_path / 'allure'}", "-n", "0",
                          "-p", "no:schemathesis"],  # as pyproject.toml's addopts
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 1, run.stdout + run.stderr
    out = run.stdout
    assert "✓" in out and "test_scratch.py::test_good" in out
    assert "✗" in out and "test_scratch.py::test_bad" in out
    assert "deliberately wrong" in out
    assert "test_sized[0]" in out and "test_sized[65536]" in out  # parametrize ids kept
    assert "wasmbed evidence" in out and "a-log" in out  # the files to open, as pytest lists
    assert "4 tests:" in out and "3 passed" in out and "1 failed" in out
    assert junit.exists() and 'failures="1"' in junit.read_text()
    assert (tmp_path / "reports" / "environment.properties").is_file()  # nothing outside
