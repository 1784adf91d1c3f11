"""A rich progress display for `wasmbed-hil test`: one line per finished scenario (status,
duration), a live bar with counts, and at the end the failures with their short traceback
and where the JUnit XML and Allure results are. Loaded with `-p harness.progress -p
no:terminal`; works with xdist (the controller sees every worker's reports).
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from rich.console import Console
from rich.live import Live
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

STYLE = {"passed": ("✓", "green"), "failed": ("✗", "red"), "error": ("E", "red"),
         "skipped": ("-", "yellow"), "xfailed": ("x", "yellow"), "xpassed": ("X", "red")}


class ProgressReporter:
    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.console = Console(stderr=False, highlight=False)
        self.progress = Progress(TextColumn("[bold]{task.description}"), BarColumn(),
                                 MofNCompleteColumn(), TextColumn("{task.fields[counts]}"),
                                 TimeElapsedColumn(), console=self.console)
        self.task = self.progress.add_task("tests", total=None, counts="")
        self.live: Live | None = None
        self.outcomes: dict[str, str] = {}
        self.failures: list[tuple[str, str]] = []
        self.started: dict[str, float] = {}
        self.total = 0

    # --- collection ---------------------------------------------------------------------

    def _set_total(self, n: int) -> None:
        self.total = max(self.total, n)
        self.progress.update(self.task, total=self.total)

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        self._set_total(len(items))

    def pytest_xdist_node_collection_finished(self, node: object, ids: list[str]) -> None:
        self._set_total(len(ids))

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            self.failures.append((report.nodeid or "collection", str(report.longrepr)))
            self.console.print(f"[red]E collecting {report.nodeid}[/]")

    # --- tests --------------------------------------------------------------------------

    def pytest_sessionstart(self) -> None:
        self.live = Live(self.progress, console=self.console, refresh_per_second=4,
                         transient=True)
        self.live.start()

    def pytest_runtest_logstart(self, nodeid: str) -> None:
        self.started[nodeid] = time.monotonic()

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        outcome = None
        if report.when == "call" or (report.when == "setup" and not report.passed):
            outcome = report.outcome
            if report.when == "setup" and report.failed:
                outcome = "error"
            if hasattr(report, "wasxfail"):
                outcome = "xfailed" if report.skipped else "xpassed"
        elif report.when == "teardown" and report.failed:
            outcome = "error"
        if outcome is None:
            return
        if report.nodeid in self.outcomes:  # a teardown error after a result
            self.outcomes[report.nodeid] = "error"
        else:
            self.outcomes[report.nodeid] = outcome
            self.progress.advance(self.task)
        if outcome in ("failed", "error", "xpassed"):
            evidence = "".join(f"\n--- {title} ---\n{text}" for title, text in report.sections
                               if title == "wasmbed evidence")
            self.failures.append((report.nodeid, report.longreprtext + evidence))
        mark, colour = STYLE[outcome]
        took = time.monotonic() - self.started.get(report.nodeid, time.monotonic())
        self.console.print(f"[{colour}]{mark}[/] {report.nodeid} [dim]{took:.1f}s[/]",
                           soft_wrap=True)
        self.progress.update(self.task, counts=self._counts())

    def _counts(self) -> str:
        tally: dict[str, int] = {}
        for o in self.outcomes.values():
            tally[o] = tally.get(o, 0) + 1
        return "  ".join(f"[{STYLE[k][1]}]{v} {k}[/]" for k, v in sorted(tally.items()))

    # --- end ----------------------------------------------------------------------------

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        if self.live:
            self.live.stop()
        for nodeid, text in self.failures:
            body, _, evidence = text.partition("\n--- wasmbed evidence ---\n")
            lines = body.strip().splitlines()
            short = "\n".join(lines[-25:])
            if evidence:  # the logs and traces to open, as plain pytest lists them
                short += "\n--- wasmbed evidence ---\n" + evidence.strip()
            self.console.rule(f"[red]{nodeid}")
            self.console.print(short, markup=False)
        self.console.rule()
        self.console.print(f"{len(self.outcomes)} tests: {self._counts() or 'none ran'}"
                           f"  (exit {int(exitstatus)})")
        junit = getattr(self.config.option, "xmlpath", None)
        if junit:
            self.console.print(f"JUnit XML: {Path(junit).resolve()}")
        allure = getattr(self.config.option, "allure_report_dir", None)
        if allure:
            self.console.print(f"Allure results: {allure}  (HTML: wasmbed-hil report)")


def pytest_configure(config: pytest.Config) -> None:
    if not hasattr(config, "workerinput"):  # the controller (or a run without xdist)
        config.pluginmanager.register(ProgressReporter(config), "wasmbed-progress")
