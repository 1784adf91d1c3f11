"""The pytest plugin (entry point `pytest11: harness.plugin`, also named by the root
conftest.py): options, markers, fixtures, evidence on failure, Allure set-up.

Fixtures start REAL processes (API server, gateways, virtual device fleets) on ephemeral
loopback ports with one temp dir per test, so `pytest -n auto` is safe.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform as host_platform
import re
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import allure
import pytest

from harness.allure_results import clear_record, group_defects, hide_anonymous_finalizers
from harness.browser import BrowserMissing, chromium_page
from harness.evidence import Evidence
from harness.faults import Faults
from harness.firmware import SHARED_BUILD, build_apps, build_firmware, start_board
from harness.kube import Kube, SharedControlPlane
from harness.lab.targets import LAB, is_lab, lab_config, lab_targets, target_id, wait_limit
from harness.services import (
    Cluster,
    Fleet,
    GatewayHandle,
    Platform,
    ProxyHandle,
    start_bridge,
)
from wasmbed import __version__
from wasmbed.device.fleet import profile_from
from wasmbed.emulation import CATALOG, EmulatorUnavailable, board_spec, find_renode
from wasmbed.emulation.board import EmulatedBoard
from wasmbed.lab.board import BoardCannot, LabBoard
from wasmbed.lab.flashing import LabToolMissing
from wasmbed.lab.labfile import LabConfig, select_boards
from wasmbed.lab.lock import BoardBusy, BoardLock
from wasmbed.paths import REPO
from wasmbed.pki import PkiLayout
from wasmbed.processes import ManagedProcess, ProcessGroup
from wasmbed.rest_client import ApiClient
from wasmbed.waiting import wait_for as _wait_for

OPTIONS: dict[str, tuple[str, str | None, str]] = {
    # name: (help, default, ini type)
    "board": ("catalog board for board scenarios", "stm32f4_discovery", "string"),
    "emulator": ("auto, renode or qemu", "auto", "string"),
    "cluster": ("embedded, local or kubeconfig", "embedded", "string"),
    "gateways": ("number of gateways the `gateways` fixture starts", "1", "string"),
    "artifacts": ("keep every test's logs and traces under this dir", None, "string"),
    "heartbeat_interval": ("gateway heartbeat interval (s) in scenarios", "1", "string"),
    "attach_always": ("attach every test's logs and traces to Allure, not only a failed "
                      "test's", None, "bool"),
    "allure_dir": ("Allure results dir when --alluredir is not given (relative: to the "
                   "repository)", "reports/allure-results", "string"),
    "lab": ("lab file (YAML or TOML) of physical boards: each becomes a board target "
            "(docs/LAB.md)", None, "string"),
    "lab_select": ("lab boards to use, by name or label (comma-separated; default all)", None,
                   "string"),
    "lab_wait": ("seconds a test waits for a lab board another test holds, then skips",
                 "600", "string"),
}
EVIDENCE = pytest.StashKey[Evidence]()
REPORTS = pytest.StashKey[dict[str, pytest.TestReport]]()
OPT_IN_MARKERS = ("scale", "slow", "demo_failure")
Board = EmulatedBoard | LabBoard  # one handle: console, link_endpoint, reset, power_cut, ...
ROOT = REPO  # the checkout: its firmware; reports go under the rootdir of the run
CATEGORIES = Path(__file__).with_name("allure_categories.json")  # shipped in the package


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("wasmbed", "Wasmbed HIL harness")
    group.addoption("--board", help=OPTIONS["board"][0])
    group.addoption("--emulator", choices=("auto", "renode", "qemu"), help=OPTIONS["emulator"][0])
    group.addoption("--cluster", choices=("embedded", "local", "kubeconfig"),
                    help=OPTIONS["cluster"][0])
    group.addoption("--gateways", type=int, help=OPTIONS["gateways"][0])
    group.addoption("--keep-on-failure", action="store_true", default=None,
                    help="leave a failed test's stack running and print how to reach it")
    group.addoption("--lab", metavar="FILE", help=OPTIONS["lab"][0])
    group.addoption("--lab-select", metavar="NAMES", help=OPTIONS["lab_select"][0])
    group.addoption("--lab-wait", metavar="SECONDS", type=float, help=OPTIONS["lab_wait"][0])
    group.addoption("--wasmbed-artifacts", dest="wasmbed_artifacts",
                    help=OPTIONS["artifacts"][0])
    for name, (help_, default, kind) in OPTIONS.items():
        parser.addini(f"wasmbed_{name}", help_, type=kind, default=default)  # type: ignore[arg-type]
    parser.addini("wasmbed_keep_on_failure", "as --keep-on-failure", type="bool", default=False)
    group.addoption("--wasmbed-attach-always", dest="attach_always", action="store_true",
                    default=None, help=OPTIONS["attach_always"][0])
    group.addoption("--wasmbed-keep-results", dest="wasmbed_keep_results", action="store_true",
                    default=None, help="add to the Allure results of earlier runs instead of "
                                       "starting clean (history and trend are always kept)")
    parser.addini("wasmbed_keep_results", "as --wasmbed-keep-results", type="bool",
                  default=False)
    group.addoption("--firmware", action="append", default=[], metavar="BOARD=ELF",
                    help="your own firmware image for a catalog board instead of building "
                         "this repository's (repeatable)")
    parser.addini("wasmbed_firmware", "BOARD=ELF lines, as --firmware", type="linelist",
                  default=[])


def given_firmware(config: pytest.Config) -> dict[str, Path]:
    """--firmware BOARD=ELF (and the ini's lines), checked: a catalog board, an existing
    file. Relative paths are relative to the rootdir."""
    given: dict[str, Path] = {}
    for item in [*config.getini("wasmbed_firmware"), *config.getoption("firmware", [])]:
        board, sep, elf = item.partition("=")
        if not sep or not board or not elf:
            raise pytest.UsageError(f"--firmware {item!r}: use BOARD=path/to/firmware.elf")
        try:
            board_spec(board)
        except KeyError as exc:
            raise pytest.UsageError(f"--firmware {item!r}: {exc.args[0]}") from exc
        path = (config.rootpath / elf).resolve()
        if not path.is_file():
            raise pytest.UsageError(f"--firmware {item!r}: {path} does not exist")
        given[board] = path
    return given


def setting(config: pytest.Config, name: str) -> Any:
    """Command-line option, else the ini value."""
    cli = config.getoption("wasmbed_artifacts" if name == "artifacts" else name, None)
    if cli is not None:
        return cli
    return config.getini(f"wasmbed_{name}")


@pytest.hookimpl(tryfirst=True)  # before allure-pytest's, which reads --alluredir
def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "board(name): needs an emulated board of this name")
    config.addinivalue_line("markers", "also_board(name): runs on this board too, where the "
                                       "catalog keeps it out of the default run")
    config.addinivalue_line("markers", "fault(kind): injects a fault of this class")
    config.addinivalue_line("markers", "scale: load scenario; runs only with -m scale")
    config.addinivalue_line("markers", "cert_lifetime(s): operational certs live s seconds")
    config.addinivalue_line("markers", "slow: slow scenario; runs only with -m slow")
    config.addinivalue_line("markers", "renode: runs on Renode (skips where it is not installed)")
    config.addinivalue_line("markers", "wasm_memory: deploys modules with linear memory; boards "
                                       "without wasm RAM skip it")
    config.addinivalue_line("markers", "demo_failure: fails on purpose; only with -m demo_failure")
    config.addinivalue_line("markers", "long(seconds): takes about this long; the longest start "
                                       "first, so a parallel run does not end waiting on one")
    cluster = setting(config, "cluster")
    if cluster not in ("embedded", "local", "kubeconfig"):
        raise pytest.UsageError(f"wasmbed_cluster = {cluster}: expected embedded, local or "
                                "kubeconfig")
    given_firmware(config)  # a bad --firmware is a usage error before any test runs
    lab_config(config)  # and so is a bad lab file
    # xdist's load scheduling hands each worker a quarter of its share up front, in
    # collection order: with the `long` tests first, one worker got all of them. Two at a
    # time, they spread (unless --maxschedchunk is given)
    if getattr(config.option, "maxschedchunk", False) is None:
        config.option.maxschedchunk = 2
    # services start from a pre-imported fork server (WASMBED_NO_FORKSERVER=1: as themselves)
    ManagedProcess.use_forkserver = True
    _configure_allure(config)


def _configure_allure(config: pytest.Config) -> None:
    """Results into reports/allure-results (unless --alluredir), with our categories and
    an environment file describing this run. Only the xdist controller writes them."""
    if not config.pluginmanager.hasplugin("allure_pytest"):
        return
    ours = not getattr(config.option, "allure_report_dir", None)
    if ours:
        config.option.allure_report_dir = str(config.rootpath / setting(config, "allure_dir"))
    if hasattr(config, "workerinput"):
        return
    results = Path(config.option.allure_report_dir)
    keep = config.getoption("wasmbed_keep_results", None) or config.getini(
        "wasmbed_keep_results")
    if ours and not keep and results.is_dir():  # the trend lives on in reports/history
        clear_record(results, _firmware_records(config))
    results.mkdir(parents=True, exist_ok=True)
    shutil.copy(CATEGORIES, results / "categories.json")
    _write_environment(config, results, targets="(none ran)")


def _write_environment(config: pytest.Config, results: Path, targets: str) -> None:
    env = {"wasmbed.version": __version__, "board targets": targets,
           "cluster": setting(config, "cluster"),
           "python": host_platform.python_version(), "git.sha": _git_sha(config.rootpath)}
    text = "".join(f"{k}={v}\n" for k, v in env.items())
    (results / "environment.properties").write_text(text)
    _reports(config).mkdir(exist_ok=True)
    (_reports(config) / "environment.properties").write_text(text)


def _reports(config: pytest.Config) -> Path:
    """This run's reports dir, under its rootdir (a pytest run inside a test has its own)."""
    return config.rootpath / "reports"


def _firmware_records(config: pytest.Config) -> list[Path]:
    """The boards this run built firmware for (written by _record_firmware)."""
    return sorted(_reports(config).glob("firmware-*.json"))


def pytest_sessionfinish(session: pytest.Session) -> None:
    """The environment names the boards that ran, on the emulator each ran on; the
    results lose pytest's anonymous finalizers and group their defects."""
    config = session.config
    results = getattr(config.option, "allure_report_dir", None)
    if hasattr(config, "workerinput") or not results or \
            not config.pluginmanager.hasplugin("allure_pytest"):
        return
    ran = {p.stem.removeprefix("firmware-") for p in _firmware_records(config)}
    targets = ", ".join(f"{b} on {e}" for b, e in board_targets(config, tuple(ran)) if b in ran)
    _write_environment(config, Path(results), targets or "(none ran)")
    hide_anonymous_finalizers(Path(results))
    group_defects(Path(results))


def _git_sha(where: Path) -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=where, text=True,
                              capture_output=True, timeout=5).stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """`scale`, `slow` and `demo_failure` tests run only when the -m expression names them.
    Scenarios on a Renode target carry the `renode` marker (`-m renode` selects them).
    Tests marked `long` go first, longest first: xdist hands out tests in collection order,
    and a 30 s test handed out last made the whole run wait for it on one worker."""
    for item in items:
        callspec = getattr(item, "callspec", None)
        target = callspec.params.get("board_target") if callspec else None
        if isinstance(target, tuple) and target[1] == "renode":  # not pytest's empty-set NOTSET
            item.add_marker("renode")
    items.sort(key=expected_seconds, reverse=True)  # stable: the rest keep their order
    expr = config.getoption("markexpr", "") or ""
    skip = [m for m in OPT_IN_MARKERS if not re.search(rf"\b{m}\b", expr)]
    if not skip:
        return
    kept, dropped = [], []
    for item in items:
        (dropped if any(item.get_closest_marker(m) for m in skip) else kept).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


def expected_seconds(item: pytest.Item) -> float:
    """What the item's `long(seconds)` marker says, 0 without one; a Renode variant, which
    skips where Renode is missing, counts as short."""
    mark = item.get_closest_marker("long")
    if mark is None or item.get_closest_marker("renode"):
        return 0.0
    return float(mark.args[0]) if mark.args else 1.0


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    """What a lab board cannot do (pause without a probe, a power cut without power
    commands) skips the test with the reason, rather than failing it."""
    try:
        return (yield)
    except BoardCannot as exc:
        pytest.skip(str(exc))


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("renode") and find_renode() is None:
        pytest.skip("install Renode to run this scenario (renode on PATH, or "
                    "WASMBED_RENODE=/path/to/renode)")


def board_targets(config: pytest.Config, also: tuple[str, ...] = ()) -> list[tuple[str, str]]:
    """The (board, emulator) pairs board scenarios run on: --emulator qemu, the boards QEMU
    has; renode, the boards Renode has a platform for; auto, QEMU where the board has a
    QEMU machine and Renode for the others. Boards the catalog keeps out of the default run
    (in_default_run) join only when named, by --board or in `also`. --board narrows it to
    one board. With --lab, the lab's boards (board, "lab:NAME"); emulated targets join them
    when --board or --emulator is given."""
    lab = lab_targets(config)
    if lab and not (config.getoption("board", None) or config.getoption("emulator", None)):
        return lab
    return _emulated_targets(config, also) + lab


def _emulated_targets(config: pytest.Config, also: tuple[str, ...] = ()) \
        -> list[tuple[str, str]]:
    """Without --board: the boards the catalog puts in the default run, and `also`."""
    emulator = setting(config, "emulator")
    only = config.getoption("board", None)
    targets = []
    for name in [only] if only else list(CATALOG):
        spec = board_spec(name)
        if not only and not spec.in_default_run and name not in also:
            continue
        if emulator == "renode" and spec.renode_platform is None and not only:
            continue  # Renode ships no such board (asked for by name, it says so)
        if emulator == "renode" or (emulator == "auto" and spec.qemu_machine is None):
            targets.append((name, "renode"))
        elif spec.qemu_machine is not None:
            targets.append((name, "qemu"))
    return targets


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Every scenario with a board runs once per (board, emulator) target; a `board(...)`
    marker naming boards keeps only those, an `also_board(...)` marker adds boards the
    catalog keeps out of the default run."""
    if "board_target" not in metafunc.fixturenames:
        return
    marker = metafunc.definition.get_closest_marker("board")
    wanted = set(marker.args) if marker and marker.args else None
    also_marker = metafunc.definition.get_closest_marker("also_board")
    also = tuple(also_marker.args if also_marker else ()) + tuple(wanted or ())
    targets = [t for t in board_targets(metafunc.config, also)
               if wanted is None or t[0] in wanted]
    metafunc.parametrize("board_target", targets, ids=[target_id(b, e) for b, e in targets],
                         indirect=True)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) \
        -> Iterator[None]:
    report: pytest.TestReport = yield
    item.stash.setdefault(REPORTS, {})[report.when] = report
    evidence = item.stash.get(EVIDENCE, None)
    if report.failed and evidence is not None:
        report.sections.append(("wasmbed evidence", evidence.summary()))
        _attach(evidence)
    elif report.when == "call" and report.passed and evidence is not None and \
            setting(item.config, "attach_always"):
        _attach(evidence)  # --wasmbed-attach-always: the logs of passing tests too
    return report  # type: ignore[return-value]


def _attach(evidence: Evidence) -> None:
    for name, path in sorted(evidence.existing().items()):
        kind = allure.attachment_type.JSON if path.suffix == ".jsonl" else \
            allure.attachment_type.TEXT
        allure.attach.file(str(path), name=name, attachment_type=kind)


def _failed(request: pytest.FixtureRequest) -> bool:
    reports = request.node.stash.get(REPORTS, {})
    return any(r.failed for r in reports.values())


# --- fixtures ---------------------------------------------------------------------------

@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> PkiLayout:
    """Factory and platform CAs, made once per session (each cluster gets a copy)."""
    return PkiLayout(tmp_path_factory.mktemp("pki")).init()


@pytest.fixture
def evidence(request: pytest.FixtureRequest, tmp_path: Path) -> Evidence:
    """The test's evidence dir: every process log and protocol trace goes here."""
    base = setting(request.config, "artifacts")
    if base:
        worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
        safe = re.sub(r"[^\w.-]+", "_", request.node.nodeid)[-150:]
        directory = Path(base) / worker / safe
        directory.mkdir(parents=True, exist_ok=True)
    else:
        directory = tmp_path / "evidence"
        directory.mkdir()
    ev = Evidence(directory)
    request.node.stash[EVIDENCE] = ev
    return ev


@pytest.fixture
def processes(request: pytest.FixtureRequest, evidence: Evidence) -> Iterator[ProcessGroup]:
    """Every process the test starts; reaped at the end unless --keep-on-failure."""
    group = ProcessGroup()
    yield group
    keep = setting(request.config, "keep_on_failure")
    if keep and _failed(request):
        api = next((p.info for p in group.processes if p.alive and "tokenFile" in p.info),
                   None)
        use = (f"use it with: WASMBED_API_URL={api['url']} WASMBED_TOKEN=$(cat "
               f"{api['tokenFile']}) wasmbed device list\n") if api else ""
        text = (f"--keep-on-failure: the stack of {request.node.nodeid} is still running:\n"
                f"{group.describe()}\n{use}{evidence.summary()}\n"
                f"stop it with: kill {' '.join(str(p.pid) for p in group.processes if p.alive)}")
        (evidence.directory / "KEPT-RUNNING.txt").write_text(text)
        reporter = request.config.pluginmanager.get_plugin("terminalreporter")
        if reporter:
            reporter.write_line("\n" + text, yellow=True)
        return
    problems = group.reap()
    assert not problems, f"could not stop every process: {problems}"


@pytest.fixture(scope="session")
def kube(request: pytest.FixtureRequest,
         tmp_path_factory: pytest.TempPathFactory) -> Iterator[Kube]:
    """A Kubernetes API with our CRDs: with --cluster kubeconfig the user's current cluster,
    otherwise a local etcd + kube-apiserver started for this session, one for all xdist
    workers (SharedControlPlane) - also under --cluster embedded, for the tests that check
    both backends."""
    mode = "kubeconfig" if setting(request.config, "cluster") == "kubeconfig" else "local"
    group = ProcessGroup()
    try:
        if mode == "local" and hasattr(request.config, "workerinput"):  # an xdist worker
            shared = SharedControlPlane(tmp_path_factory.getbasetemp().parent / "kube")
            with shared.use(group) as kube:
                yield kube
        else:
            kube = Kube.start(mode, tmp_path_factory.mktemp("kube"), group)
            yield kube
            kube.stop()
    finally:
        group.reap()


@pytest.fixture
def kube_namespace(kube: Kube) -> Iterator[str]:
    """A fresh namespace for this test, deleted afterwards."""
    name = kube.new_namespace()
    yield name
    kube.delete_namespace(name)


@pytest.fixture
def cluster(request: pytest.FixtureRequest, tmp_path: Path, pki: PkiLayout) -> Cluster:
    """A fresh store (and a private copy of the session PKI) for this test: an embedded
    store, or (--cluster local/kubeconfig) a fresh namespace of the Kubernetes cluster."""
    if setting(request.config, "cluster") == "embedded":
        return Cluster.embedded(tmp_path, pki)
    kube: Kube = request.getfixturevalue("kube")
    _allure_cluster(kube.mode)
    return Cluster.kubernetes(tmp_path, pki, kube, request.getfixturevalue("kube_namespace"))


def _allure_cluster(mode: str) -> None:
    """A scenario run on Kubernetes is its own entry in the report, not a retry of the
    embedded run of the same scenario."""
    allure.dynamic.parameter("cluster", mode)


@pytest.fixture
def platform(request: pytest.FixtureRequest, cluster: Cluster, processes: ProcessGroup,
             evidence: Evidence) -> Iterator[Platform]:
    """The API server with its controllers, as a real process. A test can ask for short
    operational certificates with @pytest.mark.cert_lifetime(seconds)."""
    marker = request.node.get_closest_marker("cert_lifetime")
    store = setting(request.config, "cluster")
    with allure.step(f"start the platform (API + controllers, {store} store)"):
        p = Platform.start(cluster, processes, evidence,
                           cert_lifetime_s=float(marker.args[0]) if marker else None)
    p.api.around = _api_steps
    yield p
    p.api.close()


@pytest.fixture
def api(platform: Platform) -> ApiClient:
    """An authenticated REST client of the platform."""
    return platform.api


@pytest.fixture
def start_gateway(request: pytest.FixtureRequest, platform: Platform, processes: ProcessGroup,
                  evidence: Evidence) -> Callable[..., GatewayHandle]:
    """Factory: start_gateway(name=None, heartbeat_interval=…, missed_heartbeats=3, …)."""
    interval = int(setting(request.config, "heartbeat_interval"))

    def start(**kwargs: Any) -> GatewayHandle:
        kwargs.setdefault("heartbeat_interval", interval)
        with allure.step(f"start a gateway (heartbeat {kwargs['heartbeat_interval']} s)"):
            return GatewayHandle.start(platform, processes, evidence, **kwargs)

    return start


@pytest.fixture
def gateways(request: pytest.FixtureRequest,
             start_gateway: Callable[..., GatewayHandle]) -> list[GatewayHandle]:
    """`--gateways N` gateways (default 1)."""
    return [start_gateway() for _ in range(int(setting(request.config, "gateways")))]


@pytest.fixture
def gateway(gateways: list[GatewayHandle]) -> GatewayHandle:
    return gateways[0]


@pytest.fixture
def virtual_devices(platform: Platform, gateway: GatewayHandle, processes: ProcessGroup,
                    evidence: Evidence) -> Callable[..., Fleet]:
    """Factory: virtual_devices(n, gateway=None, labels=None, register=True, factory=None,
    prefix=None, **profile) -> Fleet. Provisions and registers n devices and runs them in
    one process; profile keywords are DeviceProfile fields (max_module_size=4096, ...)."""
    fleet_args = {"labels", "register", "factory", "prefix", "profile"}

    def start(n: int, *, gateway: GatewayHandle | None = None, **kwargs: Any) -> Fleet:
        profile_fields = {k: kwargs.pop(k) for k in list(kwargs) if k not in fleet_args}
        if profile_fields:
            kwargs["profile"] = profile_from(profile_fields)
        labels = kwargs.get("labels")
        with allure.step(f"provision and start {n} virtual device(s)"
                         + (f" labelled {labels}" if labels else "")):
            return Fleet.start(platform, gateway or default_gateway, processes, evidence, n,
                               **kwargs)

    default_gateway = gateway
    return start


@pytest.fixture(scope="session")
def firmware_build(request: pytest.FixtureRequest) -> Callable[[str], Path]:
    """build(board) -> ELF path, from the shared incremental build in firmware/build (a
    board compiles once per change, whichever worker or session asks first), unless
    --firmware gave an image for it."""
    build_dir = SHARED_BUILD
    built: dict[str, Path] = dict(given_firmware(request.config))

    def build(name: str) -> Path:
        if name not in built:
            try:
                built[name] = build_firmware(board_spec(name), build_dir)
            except EmulatorUnavailable as exc:
                pytest.skip(str(exc))
            _record_firmware(_reports(request.config), name, built[name])
        return built[name]

    return build


def _record_firmware(reports: Path, board: str, elf: Path) -> None:
    """Version and size of the firmware under test, for the report's environment, in this
    run's reports dir: a pytest run inside a test must not see the outer run's boards."""
    sizes = elf.with_name(elf.name + ".size.json")
    if not sizes.exists():
        return
    info = {"board": board, "version": (ROOT / "firmware" / "VERSION").read_text().strip(),
            **json.loads(sizes.read_text())}
    reports.mkdir(exist_ok=True)
    target = reports / f"firmware-{board}.json"
    tmp = target.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(info))
    tmp.replace(target)


@pytest.fixture(scope="session")
def firmware_apps() -> dict[str, bytes]:
    """The C example apps (hello, counter, trap, spin) compiled to wasm: name -> bytes."""
    try:
        return build_apps(SHARED_BUILD)
    except EmulatorUnavailable as exc:
        pytest.skip(str(exc))


@pytest.fixture
def board_target(request: pytest.FixtureRequest) -> tuple[str, str]:
    """(board, emulator) this scenario runs on (parametrized per target; emulator is
    "lab:NAME" for a lab board). Skips, saying why, where the machine lacks the emulator or
    the board lacks what the test needs."""
    board_name, emulator = getattr(request, "param", None) or board_targets(request.config)[0]
    spec = board_spec(board_name)
    if emulator == "renode" and find_renode() is None:
        pytest.skip(f"install Renode to run {board_name} (renode on PATH, or "
                    "WASMBED_RENODE=/path/to/renode)")
    if request.node.get_closest_marker("wasm_memory") and spec.wasm_ram == 0:
        pytest.skip(f"{board_name} has no RAM for a wasm module's linear memory (32 KiB "
                    "SRAM): it runs modules without memory only")
    allure.dynamic.parameter("board", f"{emulator.removeprefix(LAB)} ({board_name} in the lab)"
                             if is_lab(emulator) else f"{board_name} on {emulator}")
    return board_name, emulator


@pytest.fixture
def board(request: pytest.FixtureRequest, board_target: tuple[str, str],
          firmware_build: Callable[[str], Path],
          evidence: Evidence) -> Iterator[Callable[..., Board]]:
    """Factory: board(name=this target's board, blob=None, paused=False, label=None) -> a
    running board with the real firmware: emulated on this target's emulator, or a lab
    board (held for this test, flashed and verified). `name` is a catalog board or a lab
    board's name; `label` picks a lab board by label. paused: halted until .resume(), to
    attach a bridge first. The handle: `.console.wait_for_line(pattern, timeout)`,
    `.console.lines`, `.reset()`, `.power_cut()`, `.pause()`/`.resume()`, `.link_endpoint`
    for the bridge. What a lab board cannot do skips the test, saying what to add."""
    started: list[Board] = []
    locks: list[BoardLock] = []
    default_board, emulator = board_target
    lab = lab_config(request.config)

    def start(name: str | None = None, *, blob: Path | None = None, paused: bool = False,
              label: str | None = None) -> Board:
        lab_name = _lab_board_name(lab, name, label, emulator)
        kind = lab.boards[lab_name].type if lab and lab_name else (name or default_board)
        elf = firmware_build(kind)
        workdir = evidence.directory / f"board-{len(started)}-{lab_name or kind}"
        n = len(started)
        if lab and lab_name:
            lock = BoardLock(lab_name, lab.lock_dir)
            try:
                with allure.step(f"wait for lab board {lab_name}"):
                    waited = lock.acquire(request.node.nodeid, wait_limit(request.config),
                                          on_wait=lambda line: _say(
                                              request.config, f"{request.node.nodeid}: {line}"))
            except BoardBusy as exc:
                pytest.skip(str(exc))
            locks.append(lock)
            if waited > 0:  # it was busy: say for how long
                request.node.user_properties.append(("lab_wait", f"{lab_name} {waited:.3f}"))
            try:
                with allure.step(f"flash {lab_name} ({kind})"
                                 + (" and hold it" if paused else "")):
                    b: Board = LabBoard(lab_name, lab.boards[lab_name], elf, workdir,
                                        blob=blob).start(run=not paused)
            except LabToolMissing as exc:
                pytest.skip(str(exc))
            evidence.files[f"lab-{n}-{lab_name}"] = b.log_path
        else:
            try:
                with allure.step(f"boot {kind} on {emulator}" + (" (halted)" if paused else "")):
                    b = start_board(kind, emulator, elf, workdir, blob, run=not paused)
            except EmulatorUnavailable as exc:
                pytest.skip(str(exc))
            evidence.files[f"emulator-{n}-{kind}"] = b.process.log_path
            evidence.files[f"emulator-log-{n}-{kind}"] = b.log_path
        started.append(b)
        evidence.files[f"console-{n}-{lab_name or kind}"] = workdir / "console.log"
        return b

    yield start
    try:
        for b in started:
            b.stop()
    finally:
        for lock in locks:
            lock.release()
            request.node.user_properties.append(
                ("lab_held", f"{lock.board} {lock.since:.3f} {time.time():.3f}"))
    _attach_consoles(evidence)


def _say(config: pytest.Config, line: str) -> None:
    """A progress line on the terminal, past pytest's capture (an xdist worker has no
    terminal: there the wait shows in the test's Allure steps)."""
    capture = config.pluginmanager.getplugin("capturemanager")
    terminal = config.pluginmanager.getplugin("terminalreporter")
    if capture is None or terminal is None:
        return
    with capture.global_and_fixture_disabled():
        terminal.write_line(line)


def _lab_board_name(lab: LabConfig | None, name: str | None, label: str | None,
                    emulator: str) -> str | None:
    """The lab board a board() call means, or None for an emulated one."""
    if label is not None or (name and lab and name in lab.boards):
        if lab is None:
            raise pytest.UsageError(f"board(label={label!r}) needs --lab FILE")
        return select_boards(lab, [name or label or ""])[0]
    if name is None and is_lab(emulator):
        return emulator.removeprefix(LAB)
    return None


@pytest.fixture
def bridge(processes: ProcessGroup, evidence: Evidence) -> Callable[..., ManagedProcess]:
    """Factory: bridge(board, gateway, name=None) -> the `wasmbed bridge` process relaying
    the board's link UART to the gateway's TLS port."""
    count = [0]

    def start(board: Board, gateway: GatewayHandle, name: str | None = None) \
            -> ManagedProcess:
        count[0] += 1
        with allure.step(f"bridge the board's link to gateway {gateway.name}"):
            return start_bridge(board.link_endpoint, gateway, processes, evidence,
                                name or f"bridge-{count[0]}")

    return start


def _attach_consoles(evidence: Evidence) -> None:
    """Console output is always attached (not only on failure): it is the device's story."""
    for name, path in evidence.existing().items():
        if name.startswith("console-"):
            allure.attach.file(str(path), name=name, attachment_type=allure.attachment_type.TEXT)


@pytest.fixture
def proxy(gateway: GatewayHandle, processes: ProcessGroup, evidence: Evidence) -> ProxyHandle:
    """A fault-injecting TCP proxy in front of the gateway; pass it as `gateway=` to
    virtual_devices and its faults through `faults.network(proxy)`."""
    return ProxyHandle.start(gateway, processes, evidence)


@pytest.fixture
def faults() -> Faults:
    """The fault library: network (bridge/proxy), process, board and PKI faults."""
    return Faults()


@pytest.fixture
def browser_page(evidence: Evidence) -> Iterator[Any]:
    """A Playwright page in Debian's headless Chromium; skips saying what to install when
    it is missing. `harness.browser.screenshot(page, evidence, name)` saves and attaches."""
    try:
        with chromium_page(evidence) as page:
            yield page
    except BrowserMissing as exc:
        pytest.skip(str(exc))


@pytest.fixture
def wait_for() -> Callable[..., Any]:
    """wait_for(condition, timeout, what): poll until truthy; on timeout fail with what
    was awaited and the last state seen (return `Seen(state)` to record it). Each wait is
    an Allure step."""

    def wait(check: Callable[[], Any], timeout: float, what: str, **kwargs: Any) -> Any:
        __tracebackhide__ = True
        with allure.step(f"wait for {what} (up to {timeout:g} s)"):
            return _wait_for(check, timeout, what, **kwargs)

    return wait


def _api_steps(method: str, path: str) -> Any:
    """Changes made through the API are steps; reads (the polling of waits) are not."""
    return allure.step(f"API {method} {path}") if method != "GET" else contextlib.nullcontext()
