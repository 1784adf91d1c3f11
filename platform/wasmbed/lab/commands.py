"""Lab-file command templates (flash, reset, power): placeholders filled with shell-quoted
values, run through the shell as the lab file's author wrote them, bounded in time."""

from __future__ import annotations

import shlex
import subprocess


class LabCommandFailed(RuntimeError):
    pass


def fill(template: str, values: dict[str, object]) -> str:
    try:
        return template.format_map({k: shlex.quote(str(v)) for k, v in values.items()})
    except KeyError as exc:
        raise LabCommandFailed(f"command {template!r} names {{{exc.args[0]}}}; the known "
                               f"placeholders are {', '.join(sorted(values))}") from None


def run_command(what: str, template: str, values: dict[str, object],
                timeout: float = 300.0) -> str:
    """Run it; its output, or LabCommandFailed with the command, exit status and output."""
    command = fill(template, values)
    try:
        result = subprocess.run(["sh", "-c", command], capture_output=True, text=True,
                                timeout=timeout, start_new_session=True)
    except subprocess.TimeoutExpired as exc:
        raise LabCommandFailed(f"{what}: `{command}` did not finish in {timeout:g} s; "
                               f"output: {(exc.output or '')[-2000:]}") from None
    output = result.stdout + result.stderr
    if result.returncode != 0:
        raise LabCommandFailed(f"{what}: `{command}` exited {result.returncode}:\n"
                               f"{output[-2000:]}")
    return output
