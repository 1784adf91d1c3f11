"""`wasmbed-hil`: the harness's commands (the product's `wasmbed` never imports the
harness): run the scenarios with a progress display, the Robot suites, the Allure report."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from harness.reporting import HTML, RESULTS, ROOT, ReportError, build_report, pytest_argv
from harness.robot_runner import REPORTS, libdoc, run_robot

app = typer.Typer(help="Wasmbed HIL: scenarios, Robot suites and reports.",
                  no_args_is_help=True, pretty_exceptions_enable=False,
                  rich_markup_mode="markdown", add_completion=False)
console = Console()
err = Console(stderr=True)


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def test(
    ctx: typer.Context,
    robot: Annotated[bool, typer.Option("--robot", help="run the Robot suites instead")] = (
        False),
) -> None:
    """Run the scenarios (pytest; extra arguments go to it) with a live progress display,
    JUnit XML in reports/junit.xml and Allure results in reports/allure-results; exits with
    pytest's code. `--robot`: the Robot suites the same way (see `wasmbed-hil robot`)."""
    if robot:
        raise typer.Exit(run_robot(list(ctx.args)))
    raise typer.Exit(subprocess.run(pytest_argv(list(ctx.args)), cwd=ROOT).returncode)


@app.command()
def report(
    results: Annotated[Path | None, typer.Option(help="Allure results")] = None,
    output: Annotated[Path | None, typer.Option(help="where the HTML goes")] = None,
) -> None:
    """Build the Allure HTML report (pytest and Robot results together, trend kept in
    reports/history) with the Allure command line; prints where it is, its size and how
    long it took."""
    try:
        rep = build_report(results or RESULTS, output or HTML)
    except ReportError as exc:
        err.print(f"[red]report[/]: {exc}")
        raise typer.Exit(1) from exc
    console.print(f"Allure report: {rep.index} ({rep.tests} results, "
                  f"{rep.bytes / 1e6:.1f} MB, built in {rep.seconds:.1f} s)")


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def robot(
    ctx: typer.Context,
    processes: Annotated[int, typer.Option(help="suites in parallel (pabot); 1 = plain robot")
                         ] = 2,
    docs: Annotated[bool, typer.Option(help="also write the keyword docs (libdoc HTML)")] = True,
) -> None:
    """Run the Robot Framework suites (robot/suites; or the ones given) on the QEMU backend.
    Extra arguments go to robot, e.g. `wasmbed-hil robot --include smoke`. Results in
    reports/robot (output, log, report, xunit.xml) and reports/allure-results."""
    if docs:
        for path in libdoc(REPORTS / "robot" / "libdoc"):
            console.print(f"keyword docs: {path}")
    raise typer.Exit(run_robot(list(ctx.args), processes))


lab = typer.Typer(help="Physical boards (docs/LAB.md).", no_args_is_help=True)
app.add_typer(lab, name="lab")


@lab.command("check")
def lab_check(file: Annotated[Path, typer.Argument(help="the lab file")]) -> None:
    """Check a lab file and what its boards answer: serial ports open, GDB servers attach
    (the CPU halts for a moment, then runs on), and who holds each board. Exit 1 on a
    problem."""
    from rich.table import Table

    from harness.lab.check import check_lab
    from wasmbed.lab.labfile import LabFileError

    try:
        findings = check_lab(file)
    except LabFileError as exc:
        err.print(f"[red]lab[/]: {exc}")
        raise typer.Exit(1) from exc
    table = Table("board", "part", "", "detail")
    for f in findings:
        table.add_row(f.board, f.part, "[green]ok[/]" if f.ok else "[red]FAIL[/]", f.detail)
    console.print(table)
    raise typer.Exit(0 if all(f.ok for f in findings) else 1)


@lab.command("standin")
def lab_standin(directory: Annotated[Path, typer.Argument(help="where the rigs live")]) -> None:
    """Two QEMU boards standing in for physical ones (one on local ptys with a GDB probe,
    one behind ser2net's rfc2217) and their lab file, until Ctrl-C: try `--lab` without
    hardware."""
    import sys

    from harness.lab import desk

    sys.argv = ["desk", str(directory)]
    raise typer.Exit(desk.main())


if __name__ == "__main__":
    app()
