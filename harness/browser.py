"""Headless Chromium for browser tests: Debian's (apt chromium) driven by Playwright, never
a downloaded browser. Screenshots go to the test's evidence and into Allure."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from harness.evidence import Evidence

CHROMIUM = Path("/usr/bin/chromium")
# what a closed network needs: no background fetches, no component updates, no GPU
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run", "--disable-sync"]


class BrowserMissing(Exception):
    pass


@contextmanager
def chromium_page(evidence: Evidence) -> Iterator[Any]:
    """A fresh browser page; on exit a last screenshot is saved (also on failure)."""
    if not CHROMIUM.exists():
        raise BrowserMissing("browser tests need Debian's Chromium: apt-get install -y "
                             "chromium (./run test installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        try:
            yield page
        finally:
            screenshot(page, evidence, "last")
            browser.close()


def screenshot(page: Any, evidence: Evidence, name: str) -> Path:
    path = evidence.path(f"screenshot-{name}", ".png")
    page.screenshot(path=str(path), full_page=True)
    try:
        import allure

        allure.attach.file(str(path), f"screenshot: {name}",
                           attachment_type=allure.attachment_type.PNG)
    except ImportError:
        pass
    return path
