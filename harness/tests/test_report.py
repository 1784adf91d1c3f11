"""The Allure HTML report end to end: a run that fails on purpose plus a passing scenario,
`build_report`, then the report opened in headless Chromium (Debian's, driven by
Playwright): it lists both scenarios, the failed one shows its steps, its error and the
process logs and traces attached to it; the trend history is kept for the next build."""

from __future__ import annotations

import functools
import http.server
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import allure
import pytest

from harness.browser import screenshot
from harness.reporting import ROOT, build_report


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def serve() -> Iterator[object]:
    servers = []

    def start(directory: Path) -> str:
        handler = functools.partial(QuietHandler, directory=str(directory))
        srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=srv.serve_forever, daemon=True).start()
        servers.append(srv)
        return f"http://127.0.0.1:{srv.server_address[1]}/index.html"

    yield start
    for srv in servers:
        srv.shutdown()


@pytest.mark.long(10)
def test_report_lists_scenarios_steps_and_failure_attachments(tmp_path, serve, evidence,
                                                              browser_page):
    if shutil.which("java") is None:
        pytest.skip("the Allure command line needs Java: apt-get install -y "
                    "default-jre-headless (./run test installs it)")
    results, html, history = tmp_path / "results", tmp_path / "html", tmp_path / "history"
    with allure.step("a run with one failing (on purpose) and one passing scenario"):
        run = subprocess.run(
            [sys.executable, "-m", "pytest", "-p", "no:randomly", "-q",
             "scenarios/examples/test_failure_demo.py",
             "scenarios/enrollment/test_enrollment.py::test_unknown_device_is_refused",
             "-m", "demo_failure or not demo_failure", f"--alluredir={results}"],
            cwd=ROOT, capture_output=True, text=True, timeout=300)
        assert run.returncode == 1, run.stdout[-2000:]
    with allure.step("build the HTML report"):
        report = build_report(results, html, history)
        assert report.tests == 2 and report.index.exists()
        assert (history / "history.json").exists()  # the trend for the next build
    page = browser_page
    page.goto(serve(html) + "#suites")
    page.wait_for_selector(".node__title")
    closed = ".node[data-node-kind=group]:not(.node__expanded) > .node__title"
    while page.locator(closed).count():
        page.locator(closed).first.click()
    tree = page.inner_text(".tree__content")
    assert "test_unknown_device_is_refused" in tree
    assert "test_waits_for_a_phase_that_never_comes" in tree
    page.locator(".node:not([data-node-kind=group]) .node__title",
                 has_text="test_waits_for_a_phase_that_never_comes").first.click()
    page.wait_for_selector(".side-by-side__right .attachment-row")
    steps = page.locator(".side-by-side__right .step__name").all_inner_texts()
    assert "the device connects" in steps
    assert any("Revoked" in s for s in steps)
    pane = page.inner_text(".side-by-side__right")
    assert "WaitTimeout: timed out waiting for vdev-<hex>-N Revoked" in pane  # its group
    page.get_by_text("timed out waiting for vdev").first.click()  # the full message
    page.wait_for_selector("text=timed out after 3.0 s")
    assert "Timed out waiting (WaitTimeout)" in pane  # the category, by exception type
    attachments = page.locator(".attachment-row__name").all_inner_texts()
    assert "api" in attachments and any(a.endswith("-trace") for a in attachments)
    screenshot(page, evidence, "allure-report-failed-scenario")


def test_one_suite_runs_under_plain_robot(tmp_path):
    from harness.robot_runner import ROBOT_DIR, robot_argv

    one = robot_argv([str(ROBOT_DIR / "suites" / "enrollment.robot")], 2, tmp_path, tmp_path)
    assert one[1:3] == ["-m", "robot"] and "pabot.pabot" not in one
    every = robot_argv(["--include", "smoke"], 2, tmp_path, tmp_path)
    assert "pabot.pabot" in every and str(ROBOT_DIR / "suites") in every
