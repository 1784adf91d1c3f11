"""Every command's --help reads as typer/click tools do (TEXT, FILE; no `<str>`, `<bool>`
or `{file}` as typer 0.27+ prints) and names only commands that exist."""

from __future__ import annotations

import re

import click
import pytest
import typer
from typer.testing import CliRunner

from harness.bench import app as bench_app
from harness.cli import app as hil_app
from wasmbed.cli import app as wasmbed_app

ODD = re.compile(r"<(bool|str|int|float|path|file|list\[[^\]]*\])>|\{[a-z_]+\}")


def commands(group: click.Command, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = [path]
    if isinstance(group, click.Group):
        for name, sub in group.commands.items():
            found += commands(sub, (*path, name))
    return found


@pytest.mark.parametrize("app", [wasmbed_app, hil_app, bench_app],
                         ids=["wasmbed", "wasmbed-hil", "bench"])
def test_help_uses_plain_metavars(app: typer.Typer):
    root = typer.main.get_command(app)
    runner = CliRunner()
    for path in commands(root):
        done = runner.invoke(app, [*path, "--help"], env={"COLUMNS": "100"})
        assert done.exit_code == 0, (path, done.output)
        assert not ODD.search(done.output), (path, ODD.findall(done.output), done.output)
        if isinstance(root, click.Group) and not path:
            listed = re.findall(r"│ ([a-z][a-z-]+)\s{2,}", done.output.split("Commands", 1)[-1])
            assert set(listed) <= set(root.commands), listed
