"""./run fuzz [--minutes N] [--target T ...]: each target for a share of N minutes, then a
table of executions, rates and corpus sizes; findings are saved as reproducers (commit
them with the fix) and make the exit status 1. `seeds` regenerates the committed corpus."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table

from harness.fuzz import differential, runner, seeds
from harness.fuzz.build import FuzzUnavailable
from harness.fuzz.paths import REPRODUCERS, TARGETS

app = typer.Typer(help=__doc__, add_completion=False, pretty_exceptions_enable=False)
console = Console()
SHARE = {"codec": 0.25, "session": 0.25, "python": 0.2, "differential": 0.3}


@app.command()
def fuzz(minutes: float = typer.Option(10.0, help="total time, split between targets"),
         target: list[str] = typer.Option(list(TARGETS), help="codec, session, python, "
                                          "differential (repeat to pick several)"),
         seed: int = typer.Option(0, help="the differential generator's seed")) -> None:
    unknown = set(target) - set(TARGETS)
    if unknown:
        raise typer.BadParameter(f"unknown target {sorted(unknown)}; pick from {TARGETS}")
    total = sum(SHARE[t] for t in target)
    table = Table("target", "executions", "per second", "corpus (seeds)", "findings")
    found = 0
    for name in target:
        seconds = max(1, round(minutes * 60 * SHARE[name] / total))
        console.print(f"[bold]{name}[/]: {seconds} s ...")
        try:
            if name == "differential":
                stats = differential.run(seconds, seed, progress=lambda s: console.print(
                    f"  {s.executions} inputs, {s.executions / max(s.seconds, 1e-9):.0f}/s, "
                    f"{len(s.findings)} disagreements"))
                for f in stats.findings:
                    console.print(f"  [red]disagreement[/] {f.why[:300]}\n    saved {f.saved}")
                table.add_row(name, str(stats.executions),
                              f"{stats.executions / stats.seconds:.0f}",
                              f"generated ({stats.corpus})", str(len(stats.findings)))
                found += len(stats.findings)
                continue
            run = runner.run(name, seconds)
        except FuzzUnavailable as exc:
            console.print(f"  [yellow]skipped[/]: {exc}")
            table.add_row(name, "-", "-", "-", "skipped")
            continue
        for path in run.findings:
            console.print(f"  [red]finding[/] saved {path}")
        if run.findings:
            console.print(run.log_tail)
        table.add_row(name, str(run.executions), f"{run.rate:.0f}",
                      f"{run.corpus} ({run.seeds})", str(len(run.findings)))
        found += len(run.findings)
    console.print(table)
    if found:
        console.print(f"[red]{found} finding(s)[/] in {REPRODUCERS}: each is replayed by the "
                      "default test run once committed (firmware/tests/test_fuzzing.py)")
        raise typer.Exit(1)


@app.command("seeds")
def write_seeds() -> None:
    """Regenerate the committed seed corpus from the protocol's vectors."""
    seeds.write()


if __name__ == "__main__":
    app()
