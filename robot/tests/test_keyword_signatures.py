"""Every emulator keyword we implement has Renode's name and Renode's argument names, order
and defaults (robot/libraries/renode_keywords.json, written from Renode's documentation),
so a suite written for renode-test runs here unchanged."""

from __future__ import annotations

import json
from pathlib import Path

from robot.libdoc import LibraryDocumentation

LIBRARIES = Path(__file__).resolve().parent.parent / "libraries"

REFERENCE = json.loads((LIBRARIES / "renode_keywords.json").read_text())


def our_keywords() -> dict[str, list[list[object]]]:
    lib = LibraryDocumentation(str(LIBRARIES / "EmulatorKeywords.py"))
    out = {}
    for kw in lib.keywords:
        spec = kw.args
        args: list[list[object]] = []
        for name in spec.positional:
            args.append([name, spec.defaults[name]] if name in spec.defaults else [name])
        assert not spec.var_positional and not spec.var_named, kw.name
        out[kw.name] = args
    return out


def test_every_keyword_is_renodes_with_renodes_arguments():
    ours, ref = our_keywords(), REFERENCE["keywords"]
    unknown = sorted(set(ours) - set(ref))
    assert not unknown, f"not Renode keywords: {unknown}"
    for name, args in ours.items():
        assert args == ref[name], f"{name}: ours {args}, Renode's {ref[name]}"


def test_the_keywords_the_issue_names_are_implemented():
    needed = {"Reset Emulation", "Start Emulation", "Execute Command", "Execute Script",
              "Create Terminal Tester", "Set Default Tester", "Set Default Uart Timeout",
              "Wait For Line On Uart", "Wait For Prompt On Uart", "Wait For Next Line On Uart",
              "Write Line To Uart", "Write To Uart", "Should Not Be On Uart",
              "Create Log Tester", "Wait For Log Entry"}
    assert needed <= set(our_keywords())


def test_every_keyword_left_out_says_why():
    ours, ref = set(our_keywords()), set(REFERENCE["keywords"])
    assert ref - ours == set(REFERENCE["unsupported"]), "update 'unsupported' in the JSON"
