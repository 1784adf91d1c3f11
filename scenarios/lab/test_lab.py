"""The repository's board scenarios on lab boards (QEMU standing in for hardware): flashed
over a GDB server or by command, reached through local and network (rfc2217) serial
ports, reset and power-cut through the probe and by commands, one test per board at a
time, and mixed with emulated boards in one run."""

from __future__ import annotations

import subprocess
import sys
import threading

import allure
import pytest

from scenarios.lab.conftest import finish
from wasmbed.lab.lock import BoardLock
from wasmbed.paths import REPO
from wasmbed.waiting import Seen

# each test runs a whole pytest session of scenarios: more than the default 300 s budget
pytestmark = [allure.feature("Lab boards"), pytest.mark.timeout(900)]

# what the default run proves on each lab board; the whole set runs with -m slow
CORE = ["scenarios/firmware/test_enrollment.py::test_firmware_enrolls_and_connects",
        "scenarios/firmware/test_enrollment.py::test_reset_reconnects_without_reenrolling",
        "scenarios/firmware/test_deployment.py::test_hello_output_reported",
        "scenarios/faults/test_board.py::test_power_cut_mid_deployment",
        "scenarios/faults/test_board.py::test_paused_cpu_recovers"]
EVERYTHING = ["scenarios/firmware/test_boot.py", "scenarios/firmware/test_enrollment.py",
              "scenarios/firmware/test_deployment.py", "scenarios/faults/test_board.py"]


def _check(run, boards: list[str]) -> None:
    assert run.cases, run.output[-3000:]
    bad = [c for c in run.cases if c.outcome in ("failed", "error")]
    assert not bad, "\n".join(f"{c.name}: {c.message}" for c in bad) + run.output[-3000:]
    for board in boards:
        assert any(c.name.endswith(f"[{board}-lab]") and c.outcome == "passed"
                   for c in run.cases), f"nothing passed on {board}:\n{run.output[-3000:]}"
    skipped = [c for c in run.cases if c.outcome == "skipped"]
    # the only skip: pause/resume on the board without a probe, saying what to add
    assert all("desk-net" in c.name and "no probe" in c.message for c in skipped), skipped


@allure.story("Enrollment, deployment, reset, power cut and pause pass on both lab boards")
@pytest.mark.long(25)
def test_core_scenarios_on_lab_boards(desk, run_pytest):
    run = run_pytest(desk.lab, *CORE, "-n", "2")  # one worker per board
    _check(run, ["desk-probe", "desk-net"])
    assert len(run.cases) == 2 * len(CORE)


@pytest.mark.slow
@allure.story("Every firmware and board-fault scenario passes on both lab boards")
def test_every_board_scenario_on_lab_boards(desk, run_pytest):
    _check(run_pytest(desk.lab, *EVERYTHING), ["desk-probe", "desk-net"])


@allure.story("A board held by another run: the test waits, says for whom, then runs")
def test_a_busy_board_makes_the_test_wait(desk, run_pytest, tmp_path, wait_for):
    lock = BoardLock("desk-probe", tmp_path / "locks")
    lock.acquire("another run's test", timeout=5)
    proc = run_pytest.start(desk.lab, "scenarios/firmware/test_boot.py::test_boot_banner",
                            "--lab-select", "desk-probe")
    seen: list[str] = []
    reader = threading.Thread(target=lambda: seen.extend(iter(proc.stdout.readline, "")),  # type: ignore[union-attr]
                              daemon=True)
    reader.start()
    try:
        def says_it_waits() -> str | Seen:
            for line in seen:
                if "waiting up to" in line and "desk-probe" in line:
                    return line
            if proc.poll() is not None:
                raise AssertionError(f"the run ended without waiting:\n{''.join(seen)}")
            return Seen("".join(seen[-5:]))
        line = wait_for(says_it_waits, 120, "the nested test to say it waits for desk-probe")
        assert "another run's test" in line, line  # it names the holder
    finally:
        lock.release()
    run = finish(proc, tmp_path, already_read=seen, reader=reader)
    assert run.outcomes() == {"test_boot_banner[desk-probe-lab]": "passed"}, run.output
    waited = float(run.cases[0].properties["lab_wait"].split()[1])
    assert waited > 0, run.cases[0].properties


@allure.story("Two xdist workers want one lab board: they hold it in turn; emulated boards "
              "run beside it in the same run")
def test_two_workers_take_turns_on_one_board_beside_qemu(desk, run_pytest):
    run = run_pytest(desk.lab, "scenarios/firmware/test_boot.py::test_boot_banner",
                     "scenarios/firmware/test_boot.py::test_unprovisioned_board_says_so",
                     "--lab-select", "desk-probe", "--emulator", "qemu", "-n", "2")
    assert run.outcomes() == {
        f"{test}[{target}]": "passed"
        for test in ("test_boot_banner", "test_unprovisioned_board_says_so")
        for target in ("stm32f4_discovery-qemu", "desk-probe-lab")} | {
        "test_boot_banner[emcraft_sf2_som-qemu]": "passed"}, run.output  # its also_board
    spans = sorted(tuple(map(float, c.properties["lab_held"].split()[1:]))
                   for c in run.cases if "lab_held" in c.properties)
    assert len(spans) == 2 and spans[0][1] <= spans[1][0], f"both held desk-probe: {spans}"


@allure.story("Robot suites in Renode's vocabulary drive a lab board as they drive QEMU")
@pytest.mark.long(10)
def test_robot_enrollment_suite_on_a_lab_board(desk, tmp_path):
    from robot.api import ExecutionResult

    out = tmp_path / "robot"
    done = subprocess.run(
        [sys.executable, "-m", "robot", "--outputdir", str(out), "--include", "board",
         "--variable", f"LAB:{desk.lab}", "--variable", "LAB_BOARD:desk-net",
         str(REPO / "robot" / "suites" / "enrollment.robot")],
        cwd=REPO, capture_output=True, text=True, timeout=600)
    stats = ExecutionResult(str(out / "output.xml")).statistics.total
    assert done.returncode == 0 and stats.failed == 0 and stats.passed == 2, done.stdout
    assert (out / "emulation").is_dir()  # the lab board's console log, as for QEMU's


@allure.story("`wasmbed-hil lab check` finds every part of both lab boards answering")
def test_lab_check_on_the_desk(desk):
    done = subprocess.run([sys.executable, "-m", "harness.cli", "lab", "check", str(desk.lab)],
                          capture_output=True, text=True, timeout=120, cwd=REPO)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.count(" ok ") >= 7, done.stdout  # 2 + 2 ports, 1 probe, 2 locks
