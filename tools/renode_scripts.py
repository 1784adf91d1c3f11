"""Regenerate renode/<board>.repl and renode/<board>.resc from the board catalog
(platform/tests/test_renode.py fails until the committed files are these).

    .venv/bin/python tools/renode_scripts.py
"""

from __future__ import annotations

from wasmbed.emulation import board_spec, renode_boards
from wasmbed.emulation.renode import render_repl, render_resc
from wasmbed.paths import REPO


def main() -> None:
    for name in renode_boards():
        spec = board_spec(name)
        for suffix, text in ((".repl", render_repl(spec)), (".resc", render_resc(spec))):
            path = REPO / "renode" / f"{name}{suffix}"
            changed = not path.exists() or path.read_text() != text
            path.write_text(text)
            print(f"{'wrote' if changed else 'same '} {path.relative_to(REPO)}")


if __name__ == "__main__":
    main()
