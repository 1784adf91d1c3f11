"""Every emulator keyword we implement has Renode's name and Renode's argument names, order
and defaults, as Renode 1.15.3 declares them (robot/libraries/renode_keywords.json, generated
from Renode's RobotFrameworkEngine source by tools/renode_keywords.py), so a suite written
for renode-test runs here unchanged; and every Renode keyword we leave out says why."""

from __future__ import annotations

import json
from pathlib import Path

from EmulatorKeywords import AFTER_RENODE_1_15_3, UNSUPPORTED
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


def renodes(name: str) -> list[list[list[object]]]:
    """Renode's overloads of a keyword, each as [[arg], [arg, default], ...]."""
    def default(value: object) -> object:
        return value.rsplit(".", 1)[-1] if isinstance(value, str) and "." in value else value

    return [[[a["name"], default(a["default"])] if "default" in a else [a["name"]]
             for a in overload["args"]] for overload in REFERENCE["keywords"][name]]


def test_the_reference_is_renode_1_15_3():
    assert REFERENCE["renode"] == "v1.15.3"


def test_every_keyword_is_renodes_with_renodes_arguments():
    """Renode 1.15.3's arguments exactly, plus the trailing ones later Renode added."""
    ours = our_keywords()
    unknown = sorted(set(ours) - set(REFERENCE["keywords"]) - set(AFTER_RENODE_1_15_3))
    assert not unknown, f"not Renode keywords: {unknown}"
    for name, args in ours.items():
        if name not in REFERENCE["keywords"]:
            continue
        later = AFTER_RENODE_1_15_3.get(name, [])
        head, tail = args[:len(args) - len(later)], [a[0] for a in args[len(args) - len(later):]]
        assert tail == later, f"{name}: trailing {tail}, later Renode's {later}"
        assert head in renodes(name), f"{name}: ours {head}, Renode's {renodes(name)}"


def test_every_renode_keyword_is_implemented_or_says_why_not():
    ours, ref = set(our_keywords()), set(REFERENCE["keywords"])
    assert ref - ours == set(UNSUPPORTED), "implement it, or say why in UNSUPPORTED"
    assert not set(UNSUPPORTED) & ours


def test_keywords_the_issue_names_are_there_or_absent_from_renode():
    wanted = {"Wait For Bytes On Uart", "Test If Uart Is Idle", "Write Char On Uart",
              "Send Key To Uart", "Allocate Temporary File", "Allocate Temporary Directory",
              "Pc Should Be Equal", "Register Should Be Equal", "Provides", "Requires"}
    ours = set(our_keywords())
    assert wanted <= ours
    for name in wanted - set(REFERENCE["keywords"]):
        assert name in AFTER_RENODE_1_15_3, f"{name}: not in 1.15.3, so say where it is from"


def test_later_arguments_the_issue_names():
    args = our_keywords()
    assert args["Create Log Tester"][-1] == ["maxLogEntries", 1_000_000]
    assert args["Wait For Log Entry"][-1] == ["startEmulation", True]
