"""Benchmarks (figures printed, never asserted): `python -m harness.bench gateway`.

gateway: N virtual devices enroll and connect over TLS 1.3 mutual auth to one gateway and
heartbeat. Prints devices connected, enroll+connect rate, heartbeat round-trip p50/p99 (and
steady: after the hold's first interval), gateway RSS per device, and handshakes/s against
the gateway vs a bare Python TLS server (same key type, TLS 1.3, client certs) measured in
the same run: the local limit.
"""

from __future__ import annotations

import asyncio
import json
import os
import ssl
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from harness.attacks import BodyPusher, MiB, idle_connections, rss_bytes
from harness.evidence import Evidence, read_json_lines
from harness.firmware import SHARED_BUILD, build_firmware
from harness.loadgen import LoadgenUnavailable, loadgen_argv, loadgen_binary
from harness.nginx_peer import NginxMissing, start_nginx
from harness.services import Cluster, GatewayHandle, Platform
from wasmbed import examples
from wasmbed.device.provision import provision
from wasmbed.emulation import board_spec, make_board
from wasmbed.emulation.catalog import BoardSpec
from wasmbed.emulation.provisioning import write_blob
from wasmbed.http_trust import default_trust
from wasmbed.pki import PkiLayout
from wasmbed.pki.layout import client_context
from wasmbed.processes import ManagedProcess, ProcessGroup
from wasmbed.protocol.enums import AppState, DeployStep
from wasmbed.waiting import Seen, WaitTimeout, wait_for

app = typer.Typer(help=__doc__, no_args_is_help=True, pretty_exceptions_enable=False,
                  rich_markup_mode="markdown", add_completion=False)
console = Console()


def rss_kib(pid: int) -> int:
    return rss_bytes(pid) // 1024


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def handshakes_per_second(address: tuple[str, int], ctx: ssl.SSLContext, total: int,
                                concurrency: int) -> float:
    sem = asyncio.Semaphore(concurrency)
    failures = 0

    async def one() -> None:
        nonlocal failures
        async with sem:
            try:
                _, writer = await asyncio.open_connection(*address, ssl=ctx,
                                                          server_hostname="localhost")
                writer.close()
            except (OSError, ssl.SSLError):
                failures += 1

    start = time.perf_counter()
    await asyncio.gather(*(one() for _ in range(total)))
    elapsed = time.perf_counter() - start
    if failures:
        console.print(f"[yellow]{failures} of {total} handshakes failed[/]")
    return (total - failures) / elapsed


@app.callback()
def main() -> None:
    """Benchmarks of the platform; each prints its figures."""


class Simulator(StrEnum):
    c = "c"
    python = "python"


@dataclass(frozen=True)
class Storm:
    seconds: float  # from the devices' first attempts until all are Connected
    core_s: float  # CPU of the gateway, the API server and the simulators over it


def print_storms(runs: list[Storm], devices: int) -> None:
    """The goal is a bound on every storm, not on a good one: each run, then the spread."""
    table = Table("storm", "enroll + connect (from first attempts)", "CPU (core-s, all)",
                  title=f"{len(runs)} storms of {devices} devices, each on a fresh stack")
    for k, run in enumerate(runs, 1):
        table.add_row(str(k), f"{run.seconds:.1f} s", f"{run.core_s:.1f}")
    times = [r.seconds for r in runs]
    table.add_row("min / median / max", f"{min(times):.1f} / {statistics.median(times):.1f} / "
                  f"{max(times):.1f} s", f"{statistics.median(r.core_s for r in runs):.1f}")
    console.print(table)


@app.command()
def gateway(
    devices: int = typer.Option(2000, help="virtual devices to connect"),
    fleets: int = typer.Option(2, help="device-simulator processes"),
    interval: int = typer.Option(10, help="heartbeat interval (s)"),
    hold: float = typer.Option(30.0, help="seconds of steady heartbeats to measure"),
    handshakes: int = typer.Option(600, help="handshakes per TLS throughput probe"),
    concurrency: int = typer.Option(32, help="concurrent handshakes in the probe"),
    connect_timeout: float = typer.Option(600.0, help="give up connecting after (s)"),
    storms: int = typer.Option(1, min=1, help="run it this many times, each on a fresh "
                                              "stack, and print the storms' spread"),
    simulator: Simulator = typer.Option(Simulator.c, help="the devices: the C load generator "
                                        "(enroll, connect, heartbeat) or the Python simulator"),
) -> None:
    """Hold N devices on one gateway and measure it."""
    binary = None
    if simulator is Simulator.c:
        try:
            binary = loadgen_binary()
        except LoadgenUnavailable as exc:
            console.print(f"[red]{exc}[/]")
            raise typer.Exit(2) from None
    runs: list[Storm] = []
    for k in range(storms):
        if storms > 1:
            console.rule(f"storm {k + 1} of {storms}")
        with (tempfile.TemporaryDirectory(prefix="wasmbed-bench-") as tmp,
              tempfile.TemporaryDirectory(prefix="wasmbed-bench-devices-",
                                          dir=device_state_parent()) as devices_tmp):
            group = ProcessGroup()
            try:
                runs.append(_bench(Path(tmp), Path(devices_tmp), group, devices, fleets,
                                   interval, hold, handshakes, concurrency, connect_timeout,
                                   binary))
            finally:
                group.reap()
    if storms > 1:
        print_storms(runs, devices)


def device_state_parent() -> str | None:
    """Where the simulated devices keep their state: tmpfs where the machine has one. They
    stand in for N boards, each writing its own flash, and are not what the benchmark
    measures; on this machine kind's ext4 creating a file costs 0.5 ms of CPU (tmpfs: 0.03),
    and each device creates four as it enrolls and connects: in a 2,000-device storm that
    was CPU taken from the gateway on the same two cores. The gateway's and the API
    server's data stay on disk."""
    shm = Path("/dev/shm")
    return str(shm) if shm.is_dir() and os.access(shm, os.W_OK) else None


def _bench(root: Path, devices_root: Path, group: ProcessGroup, n: int, fleets: int,
           interval: int, hold: float, handshakes: int, concurrency: int,
           connect_timeout: float, loadgen: Path | None = None) -> Storm:
    """`loadgen`: the C load generator's binary (None: the Python simulator)."""
    ev = Evidence(root / "evidence")
    ev.directory.mkdir()
    pki = PkiLayout(root / "pki").init()
    cluster = Cluster.embedded(root, pki)
    platform = Platform.start(cluster, group, ev)
    gw = GatewayHandle.start(platform, group, ev, name="bench-gw",
                             heartbeat_interval=interval,
                             extra=["--max-handshakes", "64"], trace=False)
    platform.api.set_pairing(True, 3600)
    gw_pid = gw.process.pid
    assert gw_pid
    rss0 = rss_kib(gw_pid)

    # --- TLS handshake ceiling vs the gateway -------------------------------------------
    probe = pki_client(cluster.pki, root / "probe")
    gw_files = cluster.pki.gateway_identity("bare").save(root / "bare", "id")
    bare = bare_tls_process(root, cluster.data_dir / "pki", gw_files, group)
    bare_rate = asyncio.run(handshakes_per_second(("127.0.0.1", bare), probe, handshakes,
                                                  concurrency))
    gw_rate = asyncio.run(handshakes_per_second(gw.tls_address, probe, handshakes, concurrency))
    nginx_rate = None
    try:
        pki = cluster.pki
        nginx = start_nginx(root / "nginx", group, *gw_files, pki.trust_bundle_pem(),
                            pki.factory.crl_pem() + pki.platform.crl_pem())
        nginx_rate = asyncio.run(handshakes_per_second(("127.0.0.1", nginx), probe, handshakes,
                                                       concurrency))
    except NginxMissing as exc:
        console.print(f"[yellow]{exc}: the NGINX peer is left out[/]")

    # --- enroll and connect N devices ---------------------------------------------------
    t_prov = time.perf_counter()
    per_fleet = [devices_root / f"fleet-{i}" for i in range(fleets)]
    for i in range(n):
        d = per_fleet[i % fleets] / f"d{i}"
        provision(d, f"bench-{i}", cluster.pki.factory, cluster.pki.platform.cert_pem)
    console.print(f"provisioned {n} identities in {time.perf_counter() - t_prov:.1f} s")
    stats = [root / f"fleet-{i}.stats.jsonl" for i in range(fleets)]
    ready_files = [root / f"fleet-{i}.ready" for i in range(fleets)]
    start = time.perf_counter()
    fleet_pids: dict[str, int | None] = {}
    sims = []
    for i, fdir in enumerate(per_fleet):  # in parallel: each takes ~1 s to import and start
        argv = loadgen_argv(loadgen, gw.tls_address, fdir, stats[i], ready_files[i], 10.0) \
            if loadgen else [
                sys.executable, "-m", "wasmbed.cli", "device", "simulate", str(fdir),
                "--gateway", f"{gw.tls_address[0]}:{gw.tls_address[1]}",
                "--stats-file", str(stats[i]), "--ready-file", str(ready_files[i]),
                "--profile", json.dumps({"reconnect_max_s": 10.0})]
        sim = group.add(ManagedProcess(f"fleet-{i}", argv, ev.path(f"fleet-{i}"),
                                       ready_files[i]))
        sim.start(wait=False)
        sims.append(sim)
        fleet_pids[f"{'load generator' if loadgen else 'device simulator'} {i}"] = sim.pid
    for sim in sims:
        sim.wait_ready()
    t_started = time.perf_counter() - start
    # A fleet writes its ready file as its devices begin their first attempts
    began = min(f.stat().st_mtime for f in ready_files)
    storm_cpu = CpuClock({"gateway": gw_pid, "API server": platform.process.pid, **fleet_pids})

    def connected() -> object:
        s = platform.api.status()["devices"]["byPhase"]
        c = s.get("Connected", 0)
        return c if c >= n else Seen(s)

    last = [0.0]

    def progress() -> object:
        got = connected()
        now = time.perf_counter()
        if now - last[0] > 5:
            last[0] = now
            console.print(f"  {now - start:6.1f} s: {got if got else got.state}")  # type: ignore[union-attr]
        return got

    # polled 4 times a second: a figure with a 10 s goal needs a finer clock than 1 s
    try:
        wait_for(progress, connect_timeout, f"{n} devices Connected", interval=0.25)
    except WaitTimeout as exc:  # what the devices' side said, or the reason is lost with it
        tails = "\n".join(f"--- {sim.name} ({sim.log_path.name}):\n{sim.log_tail(15)}"
                          for sim in sims)
        raise WaitTimeout(f"{exc}\n{tails}") from None
    t_connected = time.perf_counter() - start
    t_storm = time.time() - began
    storm_core_s = storm_cpu.seconds()
    outcomes = gateway_counters(gw, "wasmbed_gateway_handshakes_total")
    rss1 = rss_kib(gw_pid)

    # --- steady state -------------------------------------------------------------------
    hold_start = time.time()
    cpu = CpuClock({"gateway": gw_pid, "API server": platform.process.pid, **fleet_pids})
    wait_for(lambda: time.time() - hold_start >= hold, hold + 5, f"{hold} s of heartbeats",
             interval=0.5)
    # The first interval of the hold still holds the storm's tail (the last devices' first
    # beats, reports and phase writes queued behind them): its beats are reported apart
    # from the steady ones after it.
    rtts: list[float] = []
    steady: list[float] = []
    for path in stats:  # the fleets are still writing them
        for record in read_json_lines(path):
            if record["t"] >= hold_start:
                rtts.extend(record["heartbeatRttS"])
            if record["t"] >= hold_start + interval:
                steady.extend(record["heartbeatRttS"])
    hold_cpu = cpu.shares()
    final = platform.api.status()["devices"]["byPhase"]

    table = Table("figure", "value", title=f"gateway benchmark ({n} devices, 2 cores)")
    table.add_row("devices Connected at end", str(final.get("Connected", 0)))
    table.add_row("other phases at end", json.dumps({k: v for k, v in final.items()
                                                     if k != "Connected"}))
    table.add_row("device simulators started (in parallel)", f"{t_started:.1f} s")
    table.add_row("enroll + connect (from first attempts)", f"{t_storm:.1f} s")
    table.add_row("  from the simulators' start (as before)", f"{t_connected:.1f} s")
    table.add_row("enrollments/s (enroll, reconnect, first heartbeat)", f"{n / t_storm:.1f}")
    table.add_row("CPU over the storm (core-s)",
                  ", ".join(f"{name} {sec:.1f}" for name, sec in storm_core_s.items())
                  + f"; all {sum(storm_core_s.values()):.1f}")
    table.add_row("gateway handshakes by outcome (storm + probe)", json.dumps(outcomes))
    table.add_row("heartbeat round trip p50", f"{pct(rtts, 0.5) * 1000:.1f} ms")
    table.add_row("heartbeat round trip p99", f"{pct(rtts, 0.99) * 1000:.1f} ms")
    table.add_row("heartbeat samples", str(len(rtts)))
    if steady:
        table.add_row(f"  p50 / p99 after the hold's first {interval} s (steady)",
                      f"{pct(steady, 0.5) * 1000:.1f} / {pct(steady, 0.99) * 1000:.1f} ms")
        table.add_row("  steady samples", str(len(steady)))
    table.add_row("CPU over the hold (% of a core)",
                  ", ".join(f"{name} {share:.0f}" for name, share in hold_cpu.items()))
    table.add_row("gateway RSS idle / loaded", f"{rss0 / 1024:.1f} / {rss1 / 1024:.1f} MiB")
    table.add_row("gateway RSS per device", f"{(rss1 - rss0) / max(n, 1):.1f} KiB")
    table.add_row("TLS handshakes/s: gateway", f"{gw_rate:.0f}")
    table.add_row("TLS handshakes/s: bare Python TLS server", f"{bare_rate:.0f}")
    table.add_row("ratio gateway / bare", f"{gw_rate / bare_rate:.2f}")
    if nginx_rate:
        table.add_row("TLS handshakes/s: NGINX (stream, 1 worker)", f"{nginx_rate:.0f}")
        table.add_row("ratio gateway / NGINX", f"{gw_rate / nginx_rate:.2f}")
    console.print(table)
    if not rtts:
        console.print("[yellow]no heartbeat samples: hold longer than the interval[/]")
    return Storm(t_storm, sum(storm_core_s.values()))


@app.command()
def scenarios(
    paths: list[str] = typer.Argument(None, help="what to run (default: the enrollment, "
                                                 "deployment and firmware scenarios)"),
    workers: int = typer.Option(2, help="pytest -n"),
) -> None:
    """Run scenarios and print where their time goes: set-up, test body and tear-down per
    test (median, p90, total), the share spent on the stack, and the fixtures whose set-up
    costs most."""
    import os
    import subprocess

    from wasmbed.paths import REPO

    targets = paths or ["scenarios/enrollment", "scenarios/deployment", "scenarios/firmware"]
    with tempfile.TemporaryDirectory(prefix="wasmbed-phases-") as tmp:
        out = Path(tmp) / "phases.jsonl"
        started = time.perf_counter()
        run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "harness.phases",
                              "-n", str(workers), "-p", "no:randomly", *targets], cwd=REPO,
                             env={**os.environ, "WASMBED_PHASES_FILE": str(out)})
        wall = time.perf_counter() - started
        records = read_json_lines(out)
    ran = {r["test"] for r in records if r.get("phase") == "call"}  # not skipped at set-up
    phases: dict[str, list[float]] = {"setup": [], "call": [], "teardown": []}
    for r in records:
        if "phase" in r and r["test"] in ran:
            phases[r["phase"]].append(r["seconds"])
    tests = len(ran)
    table = Table("phase", "median (s)", "p90 (s)", "total (s)", "share",
                  title=f"{tests} tests, -n {workers}, {wall:.0f} s wall")
    total = sum(sum(v) for v in phases.values()) or 1.0
    for name, values in phases.items():
        table.add_row(name, f"{pct(values, 0.5):.2f}", f"{pct(values, 0.9):.2f}",
                      f"{sum(values):.1f}", f"{sum(values) / total:.0%}")
    overhead: dict[str, float] = {}
    for r in records:
        if r.get("phase") in ("setup", "teardown") and r["test"] in ran:
            overhead[r["test"]] = overhead.get(r["test"], 0.0) + r["seconds"]
    on_board = {r["test"] for r in records if r.get("fixture") == "board"}
    for label, chosen in (("set-up + tear-down", list(overhead)),
                          ("  on a QEMU board", [t for t in overhead if t in on_board]),
                          ("  virtual devices only", [t for t in overhead if t not in on_board])):
        values = [overhead[t] for t in chosen]
        table.add_row(label, f"{pct(values, 0.5):.2f}", f"{pct(values, 0.9):.2f}",
                      f"{sum(values):.1f}", f"{sum(values) / total:.0%}")
    console.print(table)
    by_fixture: dict[str, list[float]] = {}
    for r in records:
        if "fixture" in r:
            by_fixture.setdefault(f"{r['fixture']} ({r['scope']})", []).append(r["seconds"])
    fixtures = Table("fixture (scope)", "set-ups", "median (s)", "total (s)",
                     title="costliest fixture set-ups (a fixture's time includes the "
                           "fixtures it requests)")
    for name, values in sorted(by_fixture.items(), key=lambda kv: -sum(kv[1]))[:12]:
        fixtures.add_row(name, str(len(values)), f"{pct(values, 0.5):.3f}",
                         f"{sum(values):.1f}")
    console.print(fixtures)
    if run.returncode != 0:
        console.print(f"[yellow]pytest exited {run.returncode}: the figures cover what ran[/]")


@app.command()
def security(
    idle: int = typer.Option(1000, help="idle connections held against the gateway"),
    stalled: int = typer.Option(50, help="connections that stall inside a TLS record"),
    body_mib: int = typer.Option(200, help="size of the unauthenticated upload"),
) -> None:
    """Attacks on a live stack (loopback): the API's memory and /health latency while a
    client without a token pushes a huge body, and a new device's connect time with and
    without idle connections held against the gateway, in one run."""
    with tempfile.TemporaryDirectory(prefix="wasmbed-bench-") as tmp:
        root = Path(tmp)
        group = ProcessGroup()
        try:
            _security(root, group, idle, stalled, body_mib)
        finally:
            group.reap()


def _security(root: Path, group: ProcessGroup, idle: int, stalled: int, body_mib: int) -> None:
    import httpx

    from harness.services import Fleet

    ev = Evidence(root / "evidence")
    ev.directory.mkdir()
    cluster = Cluster.embedded(root, PkiLayout(root / "pki").init())
    platform = Platform.start(cluster, group, ev)
    gw = GatewayHandle.start(platform, group, ev, name="bench-gw", heartbeat_interval=5,
                             extra=["--hello-timeout", "60"])
    api_pid = platform.process.pid
    assert api_pid
    rss_before = rss_bytes(api_pid)
    pusher = BodyPusher(platform.url, "/api/v1/applications", body_mib * MiB)
    pusher.start()
    health_ms = []
    while pusher.is_alive() and len(health_ms) < 50:
        t = time.perf_counter()
        httpx.get(f"{platform.url}/health", timeout=30, verify=default_trust())
        health_ms.append((time.perf_counter() - t) * 1000)
    pusher.join(60)
    rss_after = rss_bytes(api_pid)

    def connect_time(prefix: str) -> float:
        start = time.perf_counter()
        fleet = Fleet.start(platform, gw, group, ev, 1, prefix=prefix)
        name = fleet.names[0]

        def connected() -> object:
            phase = (platform.api.device(name).get("status") or {}).get("phase")
            return phase == "Connected" or Seen(phase)

        wait_for(connected, 120, f"{name} Connected", interval=0.05)
        return time.perf_counter() - start

    quiet = connect_time("quiet")
    with idle_connections(gw.tls_address, idle, stalled):
        flooded = connect_time("flooded")
    table = Table("figure", "value", title="security benchmark (loopback, 2 cores)")
    table.add_row(f"API RSS before / after a {body_mib} MiB unauthenticated body",
                  f"{rss_before / MiB:.1f} / {rss_after / MiB:.1f} MiB")
    table.add_row("body bytes the API let in before answering", f"{pusher.pushed / MiB:.1f} MiB")
    table.add_row("its answer", pusher.answer.split(b"\r\n", 1)[0].decode(errors="replace"))
    table.add_row("/health during the upload: max / median",
                  f"{max(health_ms):.1f} / {pct(health_ms, 0.5):.1f} ms ({len(health_ms)} calls)")
    table.add_row("device start to Connected, gateway quiet", f"{quiet:.2f} s")
    table.add_row(f"... while {idle} idle + {stalled} stalled connections are held",
                  f"{flooded:.2f} s")
    table.add_row("ratio flooded / quiet", f"{flooded / quiet:.2f}")
    console.print(table)


@app.command()
def firmware(
    runs: int = typer.Option(3, help="boots to measure, per board"),
    board_names: list[str] = typer.Option(
        ["stm32f4_discovery", "emcraft_sf2_som"], "--board",
        help="boards to measure (repeat the option); runs alternate between them"),
    emulator: str = typer.Option("qemu", help="qemu or renode (the same firmware on both)"),
    chunk_size: int = typer.Option(1024, help="the gateway's --chunk-size (it sends less "
                                              "when the device announces a smaller frame)"),
    module_kib: int = typer.Option(16, help="size of the deployed module (KiB), up to the "
                                            "board's largest"),
) -> None:
    """Real firmware in an emulator: boot-to-banner, boot-to-Connected, the host CPU an
    idle connected board uses, deploy-to-Running of a --module-kib module (on a board without
    wasm RAM: the largest module it takes, until it completes), flash/RAM use and heap left
    for wasm apps. By default the two QEMU boards, whose UART models differ (one byte per
    turn of QEMU's main loop on the STM32, a FIFO's worth on the SmartFusion2), with the
    ratio of their deploy times."""
    specs = [board_spec(name) for name in dict.fromkeys(board_names)]
    modules = {spec.name: _bench_module(spec, module_kib) for spec in specs}
    rows: dict[str, list[dict[str, float]]] = {spec.name: [] for spec in specs}
    with tempfile.TemporaryDirectory(prefix="wasmbed-fwbench-") as tmp:
        root = Path(tmp)
        elfs = {spec.name: build_firmware(spec, SHARED_BUILD) for spec in specs}
        for i in range(runs):
            for spec in specs:  # alternating: the machine's drift falls on every board alike
                group = ProcessGroup()
                try:
                    rows[spec.name].append(_firmware_run(
                        root / f"{spec.name}-{i}", group, spec, elfs[spec.name],
                        modules[spec.name], emulator, chunk_size))
                finally:
                    group.reap()
    for spec in specs:
        _print_firmware_table(spec, emulator, chunk_size, modules[spec.name], rows[spec.name],
                              json.loads(Path(f"{elfs[spec.name]}.size.json").read_text()))
    if len(specs) > 1:
        first = specs[0].name
        base = pct([r["running"] for r in rows[first]], 0.5)
        for spec in specs[1:]:
            other = pct([r["running"] for r in rows[spec.name]], 0.5)
            console.print(f"deploy to Running, median: {spec.name} {other:.0f} ms, {first} "
                          f"{base:.0f} ms: ratio {other / base:.2f}")


def _bench_module(spec: BoardSpec, module_kib: int) -> bytes:
    if not spec.wasm_ram:  # the largest module it takes, one without linear memory
        return examples.grown(examples.wasm("fib"), spec.max_module_size)
    largest = spec.max_module_size // 1024
    if not 1 <= module_kib <= largest:
        raise typer.BadParameter(f"{spec.name} takes modules of up to {largest} KiB "
                                 f"(its max_module_size); pick 1..{largest}",
                                 param_hint="--module-kib")
    return kib_module(module_kib)


def _print_firmware_table(spec: BoardSpec, emulator: str, chunk_size: int, module: bytes,
                          rows: list[dict[str, float]], size: dict[str, int]) -> None:
    table = Table("figure", *[f"run {i + 1}" for i in range(len(rows))], "median",
                  title=f"firmware on {spec.name} ({emulator}, chunks of up to "
                        f"{chunk_size} B)")
    for key, label, unit in (("banner", "boot to banner", "ms"),
                             ("connected", "boot to Connected (enroll + reconnect)", "ms"),
                             ("running", f"deploy to Running ({len(module)} B module)", "ms"),
                             ("transfer", "  of which: DeployBegin to the last chunk's ack",
                              "ms"),
                             ("chunk_rtt", "    one chunk's round trip, median", "ms"),
                             ("commit", "  commit: sha256 + wasm3 parse, load, link", "ms"),
                             ("instantiate", "  commit acked to RUNNING reported", "ms"),
                             ("idle_cpu", f"host CPU of the idle, connected board over "
                                          f"{IDLE_WINDOW_S:.0f} s", "% of a core"),
                             ("free_idle", "heap free, connected, no app", "B"),
                             ("free_app", f"heap free, {len(module)} B app running", "B")):
        vals = [r[key] for r in rows if key in r]
        if not vals:
            continue
        fmt = (lambda v: f"{v:.1f}") if unit.startswith("%") else (
            lambda v: f"{v:.0f}")
        table.add_row(f"{label} ({unit})", *map(fmt, vals), fmt(pct(vals, 0.5)))
    if not spec.wasm_ram:
        console.print(f"{spec.name} has no wasm RAM: the module is fib grown to "
                      f"{len(module)} B, timed until it completes")
    console.print(table)
    console.print(f"flash {size['flash']} B ({size['flash'] / 1024:.1f} KiB), static RAM "
                  f"{size['ramStatic']} B, heap {size['heap']} B, stack {size['stack']} B")


def _firmware_run(root: Path, group: ProcessGroup, spec: BoardSpec, elf: Path,
                  module: bytes, emulator: str, chunk_size: int) -> dict[str, float]:
    ev = Evidence(root / "evidence")
    ev.directory.mkdir(parents=True)
    pki = PkiLayout(root / "pki").init()
    cluster = Cluster.embedded(root, pki)
    platform = Platform.start(cluster, group, ev)
    gw = GatewayHandle.start(platform, group, ev, name="bench-gw", heartbeat_interval=2,
                             chunk_size=chunk_size)
    blob, key = write_blob(root / "dev.blob", "fw-bench", cluster.pki.factory,
                           cluster.pki.platform, gw.name, wasm_ram=spec.wasm_ram,
                           max_module_size=spec.max_module_size)
    platform.api.create_device("fw-bench", key, board=spec.name, device_type="emulated")
    board = make_board(spec.name, emulator, elf, root / "board", blob=blob)
    board.start(run=False)
    try:
        gh, gp = gw.tls_address
        bh, bp = board.link_address
        ready = root / "bridge.ready"
        group.add(ManagedProcess("bridge", [sys.executable, "-m", "wasmbed.cli", "bridge",
                                            "--link", f"b={bh}:{bp}->{gh}:{gp}",
                                            "--ready-file", str(ready)],
                                 ev.path("bridge"), ready)).start()
        t0 = time.perf_counter()
        board.resume()
        board.console.wait_for_line("wasmbed: boot", 120)
        banner = time.perf_counter() - t0
        wait_for(lambda: platform.api.device("fw-bench")["status"].get("phase") == "Connected",
                 300, "fw-bench Connected", interval=0.05)
        connected = time.perf_counter() - t0
        free_idle = _free_memory(platform)
        idle_cpu = _cpu_share(board.process.pid, IDLE_WINDOW_S)
        t1 = time.perf_counter()
        platform.api.create_application("sixteen", module, devices=["fw-bench"])

        def running() -> object:
            st = platform.api.application("sixteen")["status"].get("deviceStatuses", {})
            status = st.get("fw-bench", {})
            if status.get("phase") == "Failed":  # it will not recover: say why, at once
                raise RuntimeError(f"the deployment failed on {spec.name}: {status}")
            return status.get("phase") in ("Running", "Completed") or Seen(status)

        wait_for(running, 300, "the module Running", interval=0.05)
        deployed = time.perf_counter() - t1
        row = {"banner": banner * 1000, "connected": connected * 1000,
               "running": deployed * 1000, "free_idle": free_idle, "idle_cpu": idle_cpu,
               **deployment_phases(ev.path(f"{gw.name}-trace", ".jsonl"))}
        if spec.wasm_ram:  # after the module's linear memory
            row["free_app"] = _free_memory(platform, below=free_idle - 65536)
        return row
    finally:
        board.stop()


IDLE_WINDOW_S = 3.0
PADDED_CODE_BYTES = 200  # examples.padded's module around its filler, with room to spare


def kib_module(kib: int) -> bytes:
    """A module of exactly `kib` KiB that keeps running (the bench's deployed module): data
    filling its one page, and beyond a page a custom section, which runtimes skip."""
    filler = min(kib * 1024 - PADDED_CODE_BYTES, examples.PADDED_MAX_FILLER)
    return examples.grown(examples.padded(filler, forever=True), kib * 1024)


def deployment_phases(trace: Path) -> dict[str, float]:
    """Where a deployment's time went, from the gateway's protocol trace (ms): the chunks'
    transfer, the median chunk round trip, the commit (the device checks the hash and
    parses the module with wasm3) and commit-acknowledged to the device's RUNNING report
    (instantiation)."""
    frames = read_json_lines(trace)
    at: dict[str, float] = {}
    sent: dict[int, float] = {}
    round_trips: list[float] = []
    for f in frames:
        kind, fields = f["type"], f["fields"]
        if f["dir"] == "gateway->device":
            if kind == "DeployBegin":
                at.setdefault("begin", f["ts"])
            elif kind == "DeployChunk":
                sent[f["id"]] = f["ts"]
            elif kind == "DeployCommit":
                at["commit"] = f["ts"]
        elif kind == "DeployAck" and fields["step"] == DeployStep.CHUNK and f["id"] in sent:
            round_trips.append(f["ts"] - sent.pop(f["id"]))
        elif kind == "DeployAck" and fields["step"] == DeployStep.COMMIT:
            at["committed"] = f["ts"]
        elif kind == "AppStatus" and fields["state"] == AppState.RUNNING:
            at.setdefault("running", f["ts"])
    if not {"begin", "commit", "committed", "running"} <= set(at):
        return {}
    return {"transfer": (at["commit"] - at["begin"]) * 1000,
            "chunk_rtt": pct(round_trips, 0.5) * 1000,
            "commit": (at["committed"] - at["commit"]) * 1000,
            "instantiate": (at["running"] - at["committed"]) * 1000}


class CpuClock:
    """The share of one host core (%) that each of some processes uses from the clock's
    creation to `shares()`: which process a figure's latency or rate was spent in."""

    def __init__(self, pids: dict[str, int | None]) -> None:
        import psutil

        self.procs = {name: psutil.Process(pid) for name, pid in pids.items()}
        self.started = time.perf_counter()
        self.before = {name: sum(p.cpu_times()[:2]) for name, p in self.procs.items()}

    def seconds(self) -> dict[str, float]:
        """CPU seconds per process: on two shared cores, what a storm's wall time is made of,
        and so which process to make cheaper."""
        return {name: sum(p.cpu_times()[:2]) - self.before[name]
                for name, p in self.procs.items()}

    def shares(self) -> dict[str, float]:
        elapsed = time.perf_counter() - self.started
        return {name: 100.0 * sec / elapsed for name, sec in self.seconds().items()}


def _cpu_share(pid: int | None, seconds: float) -> float:
    """The share of one host core (%) a process used over a measurement window."""
    clock = CpuClock({"process": pid})
    time.sleep(seconds)  # the measurement window itself, not a wait for anything
    return clock.shares()["process"]


def _free_memory(platform: Platform, below: float | None = None) -> float:
    """The device's free heap from its heartbeats (a newer beat when `below` is given)."""
    def beat() -> object:
        hb = platform.api.device("fw-bench")["status"].get("heartbeat") or {}
        free = hb.get("freeMemory")
        return free if free and (below is None or free < below) else Seen(hb)

    return float(wait_for(beat, 30, "a heartbeat with free memory", interval=0.2))


def gateway_counters(gw: GatewayHandle, name: str) -> dict[str, int]:
    """One labelled counter from the gateway's Prometheus /metrics, by its label value."""
    return {next(iter(labels.values())): int(value)
            for labels, value in gw.metric_samples(name) if labels}


def pki_client(pki: PkiLayout, directory: Path) -> ssl.SSLContext:
    ident = pki.platform.issue_identity("probe")
    files = ident.save(directory, "id")
    return client_context(files, pki.platform.cert_pem)


def bare_tls_process(root: Path, pki_dir: Path, files: tuple[Path, Path],
                     group: ProcessGroup) -> int:
    ready = root / "bare.ready"
    argv = [sys.executable, "-m", "harness.tls_ceiling", str(pki_dir), str(files[0]),
            str(files[1]), str(ready)]
    proc = group.add(ManagedProcess("bare-tls", argv, root / "bare.log", ready))
    return int(proc.start()["port"])


if __name__ == "__main__":
    app()
