"""Lab boards as board targets. `--lab FILE` makes each board of the lab file (or those
`--lab-select` names or labels) a target `(type, "lab:NAME")` next to the emulated ones;
the `board` fixture holds the board's lock for the test and drives it as a LabBoard."""

from __future__ import annotations

from pathlib import Path

import pytest

from wasmbed.lab.labfile import LabConfig, LabFileError, load_lab, select_boards

LAB = "lab:"
_LAB = pytest.StashKey[LabConfig | None]()


def lab_path(config: pytest.Config) -> Path | None:
    """--lab (relative to where pytest was started), else the ini's wasmbed_lab (relative
    to the rootdir)."""
    given = config.getoption("lab", None)
    if given:
        return (config.invocation_params.dir / given).resolve()
    ini = config.getini("wasmbed_lab")
    return (config.rootpath / ini).resolve() if ini else None


def lab_config(config: pytest.Config) -> LabConfig | None:
    """The run's lab file, loaded once; a bad one is a usage error naming the fix."""
    if _LAB not in config.stash:
        path = lab_path(config)
        try:
            config.stash[_LAB] = load_lab(path) if path else None
        except LabFileError as exc:
            raise pytest.UsageError(str(exc)) from None
    return config.stash[_LAB]


def selection(config: pytest.Config) -> list[str] | None:
    text = config.getoption("lab_select", None) or config.getini("wasmbed_lab_select")
    return [word.strip() for word in text.split(",") if word.strip()] if text else None


def lab_targets(config: pytest.Config) -> list[tuple[str, str]]:
    lab = lab_config(config)
    if lab is None:
        return []
    try:
        names = select_boards(lab, selection(config))
    except LabFileError as exc:
        raise pytest.UsageError(str(exc)) from None
    return [(lab.boards[name].type, LAB + name) for name in names]


def is_lab(emulator: str) -> bool:
    return emulator.startswith(LAB)


def target_id(board: str, emulator: str) -> str:
    return f"{emulator.removeprefix(LAB)}-lab" if is_lab(emulator) else f"{board}-{emulator}"


def wait_limit(config: pytest.Config) -> float:
    """How long a test waits for a busy lab board before it skips."""
    return float(config.getoption("lab_wait", None) or config.getini("wasmbed_lab_wait"))
