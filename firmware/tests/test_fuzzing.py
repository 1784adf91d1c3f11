"""The fuzzers, briefly, in the default run: the committed corpus and reproducers replayed
through every target, then a short run of each. `./run fuzz --minutes N` runs them longer
(harness/fuzz).

The short runs are bounded by executions, not by time, so a loaded machine fuzzes as much
as an idle one. The counts sit where edge coverage stops growing (3 runs each, 2 cores):
codec 232-233 edges after 600,000 runs against 234-235 after 8 s (~3 million); session
377-379 after 120,000 against 385-389 after 8 s (~300,000); Python 170-172 after 20,000
against 171-172 after 8 s (~100,000). About 11 s of fuzzing in all, where 8, 8, 8 and 10 s
were 37 s."""

from __future__ import annotations

import pytest

from harness.fuzz import differential, runner
from harness.fuzz.build import FuzzUnavailable, host_library, libfuzzer_ready
from harness.fuzz.paths import seed_files

RUNS = {"codec": 600_000, "session": 120_000, "python": 20_000}
DIFFERENTIAL_INPUTS = 100_000  # ~4 s here; seed 7 makes them the same inputs every run


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
@pytest.mark.long(3)
def test_a_short_fuzzing_run_finds_nothing(target, tmp_path):
    needs_libfuzzer(target)
    run = runner.run(target, runs=RUNS[target], work=tmp_path)
    assert run.executions >= RUNS[target], run.log_tail
    assert not run.findings, f"{target} found {run.findings}:\n{run.log_tail}"


@pytest.mark.long(4)
def test_both_decoders_agree_on_every_input(tmp_path):
    """Committed inputs first (every vector and reproducer), then generated ones."""
    try:
        host_library()
    except FuzzUnavailable as exc:
        pytest.skip(str(exc))
    stats = differential.run(inputs=DIFFERENTIAL_INPUTS, seed=7, save_to=tmp_path)
    assert not stats.findings, "\n".join(f.why for f in stats.findings[:5])
    assert stats.executions == stats.corpus + DIFFERENTIAL_INPUTS  # no early stop
    assert stats.accepted > 100, "the generator hardly produces valid messages any more"


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


def test_a_fuzzing_budget_is_a_time_or_a_count():
    for call in (lambda: runner.run("codec"), lambda: runner.run("codec", seconds=1, runs=10),
                 lambda: differential.run(), lambda: differential.run(seconds=1, inputs=10)):
        with pytest.raises(ValueError, match="not both or neither"):
            call()
