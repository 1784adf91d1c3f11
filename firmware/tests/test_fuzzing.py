"""The fuzzers, briefly, in the default run (about 35 s of fuzzing in all): the committed
corpus and reproducers replayed through every target, then a short bounded run of each.
`./run fuzz --minutes N` runs them longer (harness/fuzz)."""

from __future__ import annotations

import pytest

from harness.fuzz import differential, runner
from harness.fuzz.build import FuzzUnavailable, host_library, libfuzzer_ready
from harness.fuzz.paths import seed_files

SECONDS = {"codec": 8, "session": 8, "python": 8}


def needs_libfuzzer(target: str) -> None:
    if target != "python" and (why := libfuzzer_ready()):
        pytest.skip(why)
    if target == "python":
        pytest.importorskip("atheris", reason="pip install atheris (the [test] extra has it)")


@pytest.mark.parametrize("target", ["codec", "session", "python"])
def test_committed_inputs_replay_cleanly(target):
    needs_libfuzzer(target)
    assert seed_files(target), "the seed corpus is missing: python -m harness.fuzz seeds"
    done = runner.replay(target)
    assert done.returncode == 0, done.stderr[-3000:]


@pytest.mark.parametrize("target", ["codec", "session", "python"])
@pytest.mark.long(9)
def test_a_short_fuzzing_run_finds_nothing(target, tmp_path):
    needs_libfuzzer(target)
    run = runner.run(target, SECONDS[target], work=tmp_path)
    assert run.executions > 1000, run.log_tail
    assert not run.findings, f"{target} found {run.findings}:\n{run.log_tail}"


@pytest.mark.long(10)
def test_both_decoders_agree_on_every_input(tmp_path):
    """Committed inputs first (every vector and reproducer), then 10 s of generated ones."""
    try:
        host_library()
    except FuzzUnavailable as exc:
        pytest.skip(str(exc))
    stats = differential.run(10, seed=7, save_to=tmp_path)
    assert stats.executions > 5000
    assert stats.accepted > 100, "the generator hardly produces valid messages any more"
    assert not stats.findings, "\n".join(f.why for f in stats.findings[:5])


def test_what_counts_as_a_disagreement():
    same = b"\xa0"
    assert differential.disagreement(same, same, same) is None
    assert differential.disagreement(same, "MalformedCbor", "MalformedCbor") is None
    assert "error classes differ" in differential.disagreement(same, "MalformedCbor",
                                                               "WrongFieldType")
    assert "Python accepts" in differential.disagreement(same, same, "MalformedCbor")
    assert "re-encodings differ" in differential.disagreement(same, same, b"\xa1")
    assert "not the input" in differential.disagreement(b"\xa1", same, same)
    assert "Python crash" in differential.disagreement(same, "crash: ValueError: x", same)


def test_a_non_protocol_exception_is_a_finding(monkeypatch):
    def boom(payload: bytes) -> object:
        raise ValueError("Exceeds the limit (4300 digits) for integer string conversion")

    monkeypatch.setattr(differential, "decode", boom)
    assert differential.python_roundtrip(b"\xa0").startswith("crash: ValueError")
