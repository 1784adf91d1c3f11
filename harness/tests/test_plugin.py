"""The plugin as users meet it, run through pytester in a scratch project."""

from __future__ import annotations

import json

import pytest

pytest_plugins = ["pytester"]


def write_ini(pytester: pytest.Pytester, *lines: str) -> None:
    """The scratch project's ini: `lines`, and no schemathesis plugin, as in the
    repository's own runs (pyproject.toml's addopts). Its plugin takes 1.1 s of CPU to
    import, in every pytest process and xdist worker that loads it."""
    pytester.makeini("\n".join(["[pytest]", "asyncio_default_fixture_loop_scope = function",
                                 "addopts = -p no:schemathesis", *lines, ""]))


@pytest.fixture
def scratch(pytester):
    write_ini(pytester)
    return pytester


def test_scale_and_slow_are_opt_in(scratch):
    scratch.makepyfile("""
        import pytest
        def test_plain(): pass
        @pytest.mark.scale
        def test_scale(): pass
        @pytest.mark.slow
        def test_slow(): pass
    """)
    scratch.runpytest("-p", "no:allure_pytest").assert_outcomes(passed=1, deselected=2)
    scratch.runpytest("-p", "no:allure_pytest", "-m", "slow").assert_outcomes(
        passed=1, deselected=2)


def test_long_tests_start_first_and_are_handed_out_two_at_a_time(scratch):
    scratch.makepyfile(test_a="""
        import pytest
        def test_quick(): pass
        @pytest.mark.long(10)
        def test_ten(): pass
    """, test_b="""
        import pytest
        def test_other(): pass
        @pytest.mark.long(30)
        def test_thirty(): pass
    """)
    result = scratch.runpytest("-p", "no:allure_pytest", "--collect-only", "-q")
    names = [line.split("::")[1] for line in result.stdout.lines if "::" in line]
    assert names == ["test_thirty", "test_ten", "test_quick", "test_other"]
    scratch.makeconftest("""
        def pytest_collection_finish(session):
            print("maxschedchunk", session.config.option.maxschedchunk)
    """)
    result = scratch.runpytest("-p", "no:allure_pytest", "--collect-only", "-q", "-s")
    result.stdout.fnmatch_lines(["maxschedchunk 2"])
    result = scratch.runpytest("-p", "no:allure_pytest", "--collect-only", "-q", "-s",
                               "--maxschedchunk", "50")
    result.stdout.fnmatch_lines(["maxschedchunk 50"])  # what the user asks for stands


def test_a_scenario_for_other_boards_is_skipped_under_board(scratch):
    """`--board X` with a scenario marked for other boards leaves it no target: pytest
    skips an empty parameter set, and the plugin must not trip over the placeholder it
    puts in (it was an INTERNALERROR that ended the whole run)."""
    scratch.makepyfile("""
        import pytest
        @pytest.mark.board("stm32f4_discovery")
        def test_only_there(board_target): pass
    """)
    result = scratch.runpytest("-p", "no:allure_pytest", "--board", "emcraft_sf2_som")
    result.assert_outcomes(skipped=1)


def test_unknown_cluster_backend_in_ini_is_a_clear_usage_error(scratch):
    write_ini(scratch, "wasmbed_cluster = minikube")
    scratch.makepyfile("def test_x(): pass")
    result = scratch.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*wasmbed_cluster = minikube*embedded, local or kubeconfig*"])


def test_a_timed_out_wait_points_at_the_scenario_with_a_short_last_seen(scratch):
    scratch.makepyfile("""
        from wasmbed.waiting import Seen
        def test_waits(wait_for):
            wait_for(lambda: Seen(list(range(5000))), 0.2, "the impossible")
    """)
    result = scratch.runpytest("-p", "no:allure_pytest")
    result.assert_outcomes(failed=1)
    text = result.stdout.str()
    assert "waiting for the impossible; last seen: [0, 1, 2" in text
    assert "more characters)" in text and "4999" not in text
    assert "waiting.py" not in text  # the harness's loop is hidden from the traceback
    result.stdout.fnmatch_lines(["*wait_for(lambda: Seen(list(range(5000))), 0.2, *"])


def test_firmware_option_is_checked_up_front(scratch):
    scratch.makepyfile("def test_x(): pass")
    result = scratch.runpytest("--firmware", "stm32f4_discovery=missing.elf")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*missing.elf does not exist*"])
    result = scratch.runpytest("--firmware", "nucleo=fw.elf")
    result.stderr.fnmatch_lines(["*unknown board 'nucleo'; the catalog has*"])
    result = scratch.runpytest("--firmware", "fw.elf")
    result.stderr.fnmatch_lines(["*use BOARD=path/to/firmware.elf*"])


def test_firmware_option_replaces_the_build(scratch):
    scratch.path.joinpath("mine.elf").write_bytes(b"\x7fELF")
    scratch.makepyfile("""
        def test_x(firmware_build):
            assert firmware_build("stm32f4_discovery").name == "mine.elf"
    """)
    scratch.runpytest("--firmware", "stm32f4_discovery=mine.elf", "-p",
                      "no:allure_pytest").assert_outcomes(passed=1)


def test_local_cluster_without_binaries_says_how_to_build_them(scratch, monkeypatch, tmp_path):
    monkeypatch.setenv("WASMBED_ETCD", str(tmp_path / "etcd"))
    monkeypatch.setenv("WASMBED_KUBE_APISERVER", str(tmp_path / "kube-apiserver"))
    scratch.makepyfile("def test_x(cluster): pass")
    result = scratch.runpytest("--cluster", "local", "-p", "no:allure_pytest")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*not built: *etcd*run tools/k8s/build.sh*"])


def test_failure_lists_and_attaches_evidence_and_reaps(scratch, tmp_path):
    results = tmp_path / "allure"
    scratch.makepyfile("""
        import sys
        from wasmbed.processes import ManagedProcess
        def test_fails(evidence, processes):
            p = processes.add(ManagedProcess("sleeper",
                [sys.executable, "-c", "print('hello from the sleeper', flush=True); "
                 "import time; time.sleep(60)"], evidence.path("sleeper")))
            p.start()
            open(evidence.path("trace", ".jsonl"), "w").write('{"dir": "rx"}\\n')
            import pathlib
            pathlib.Path("pid").write_text(str(p.pid))
            from wasmbed.waiting import wait_for
            wait_for(lambda: "hello" in p.log_tail(), 10, "the greeting")
            assert False, "deliberate"
    """)
    result = scratch.runpytest_subprocess(f"--alluredir={results}")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*wasmbed evidence*", "*sleeper: *sleeper.log*",
                                 "*trace: *trace.jsonl*"])
    pid = int((scratch.path / "pid").read_text())
    with pytest.raises(ProcessLookupError):
        import os
        os.kill(pid, 0)  # reaped despite the failure
    test_results = [json.loads(p.read_text()) for p in results.glob("*-result.json")]
    names = {a["name"] for r in test_results for a in r.get("attachments", [])}
    assert {"sleeper", "trace"} <= names
    assert (results / "environment.properties").exists()
    assert (results / "categories.json").exists()


@pytest.mark.long(8)
def test_each_run_starts_a_clean_allure_record_unless_asked_to_keep(scratch, tmp_path):
    results = tmp_path / "results"
    write_ini(scratch, f"wasmbed_allure_dir = {results}")
    scratch.makepyfile(test_first="def test_first(): assert False")
    scratch.runpytest_subprocess("test_first.py").assert_outcomes(failed=1)
    scratch.makepyfile(test_second="def test_second(tmp_path): pass")

    def names() -> set[str]:
        return {json.loads(p.read_text())["name"] for p in results.glob("*-result.json")}

    scratch.runpytest_subprocess("test_second.py").assert_outcomes(passed=1)
    assert names() == {"test_second"}  # the earlier failure is not in this run's record
    scratch.runpytest_subprocess("test_first.py", "--wasmbed-keep-results")
    assert names() == {"test_first", "test_second"}
    containers = [json.loads(p.read_text()) for p in results.glob("*-container.json")]
    assert any(b["name"] == "tmp_path" for c in containers for b in c.get("befores", []))
    afters = [a["name"] for c in containers for a in c.get("afters", [])]
    assert not [n for n in afters if n.endswith("<lambda>")], afters  # no anonymous noise
    env = (results / "environment.properties").read_text()
    assert "board targets=(none ran)" in env and "emulator=auto" not in env
    # the boards that ran are this run's, recorded under its rootdir, not the checkout's
    # (an outer run's board tests once leaked into this inner run's environment)
    record = scratch.path / "reports" / "firmware-stm32f4_discovery.json"
    record.write_text("{}")
    scratch.runpytest_subprocess("test_second.py", "--wasmbed-keep-results")
    env = (results / "environment.properties").read_text()
    assert "board targets=stm32f4_discovery on qemu\n" in env


def test_allure_results_are_written_without_alluredir_also_from_workers(scratch, tmp_path):
    results = tmp_path / "results"
    write_ini(scratch, f"wasmbed_allure_dir = {results}")
    scratch.makepyfile("""
        import allure
        def test_one():
            with allure.step("a step"):
                pass
        def test_two(): pass
    """)
    scratch.runpytest_subprocess("-n", "2").assert_outcomes(passed=2)
    written = [json.loads(p.read_text()) for p in results.glob("*-result.json")]
    assert sorted(r["name"] for r in written) == ["test_one", "test_two"]
    assert any(s["name"] == "a step" for r in written for s in r.get("steps", []))


def test_keep_on_failure_leaves_processes_running(scratch):
    scratch.makepyfile("""
        import sys, pathlib
        from wasmbed.processes import ManagedProcess
        def test_fails(evidence, processes):
            p = processes.add(ManagedProcess("kept", [sys.executable, "-c",
                "import time; time.sleep(60)"], evidence.path("kept")))
            p.start()
            pathlib.Path("pid").write_text(str(p.pid))
            assert False
    """)
    result = scratch.runpytest("--keep-on-failure", "-p", "no:allure_pytest")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*--keep-on-failure: the stack of*",
                                 "*process*pid*reach it at*log*", "*kept*kept.log",
                                 "*stop it with: kill*"])
    assert "{" not in result.stdout.str().split("the stack of")[1].split("stop it")[0]
    import os
    import signal
    pid = int((scratch.path / "pid").read_text())
    os.kill(pid, 0)  # still alive
    os.killpg(pid, signal.SIGKILL)


def test_cluster_kubeconfig_uses_the_current_context(scratch, kube, monkeypatch):
    """--cluster kubeconfig on "the user's cluster" - here the session's local control
    plane, reached only through $KUBECONFIG, as any existing cluster would be."""
    if kube.control_plane is None:
        pytest.skip("already running on --cluster kubeconfig")
    monkeypatch.setenv("KUBECONFIG", str(kube.control_plane.admin_kubeconfig))
    scratch.makepyfile("""
        def test_x(cluster, api):
            assert cluster.backend == "kubernetes" and cluster.kube.mode == "kubeconfig"
            api.create_device("kc-dev")
            assert "kc-dev" in cluster.kubectl("get", "devices", "-o", "name")
    """)
    scratch.runpytest_subprocess("--cluster", "kubeconfig", "-p", "no:allure_pytest"
                                 ).assert_outcomes(passed=1)
