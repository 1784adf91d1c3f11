"""The `wasmbed` command."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sys
from collections.abc import Coroutine
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from wasmbed import __version__
from wasmbed.rest_client import ApiClient, ApiError

app = typer.Typer(help="Wasmbed: deploy WebAssembly to Cortex-M fleets.", no_args_is_help=True,
                  rich_markup_mode="markdown", add_completion=False,
                  pretty_exceptions_enable=False)
device_app = typer.Typer(help="Devices: list, add, label, revoke, delete, simulate, provision.",
                         no_args_is_help=True)
app_app = typer.Typer(help="Applications: deploy, list, logs, stop, delete.",
                      no_args_is_help=True)
app.add_typer(device_app, name="device")
app.add_typer(app_app, name="app")


def _console(stderr: bool = False) -> Console:
    """A terminal gets rich's layout; a pipe or a file gets whole lines (no wrapping inside
    a value, tables as wide as they need)."""
    tty = (sys.stderr if stderr else sys.stdout).isatty()
    return Console(stderr=stderr, soft_wrap=not tty, width=None if tty else 200)


console = _console()
err = _console(stderr=True)

HOME = Path(os.environ.get("WASMBED_HOME", ".wasmbed"))


def _up_state() -> Path | None:
    """`wasmbed up`'s up.json: in $WASMBED_HOME, else in .wasmbed of this directory or the
    nearest parent that has one (as git finds .git)."""
    if "WASMBED_HOME" in os.environ:
        state = HOME / "up.json"
        return state if state.exists() else None
    here = Path.cwd().resolve()
    for directory in (here, *here.parents):
        state = directory / ".wasmbed" / "up.json"
        if state.exists():
            return state
    return None


def _logging(verbose: bool) -> None:
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request is noise


def _client() -> ApiClient:
    """API URL and token from WASMBED_API_URL/WASMBED_TOKEN, else from `wasmbed up`'s state."""
    url, token = os.environ.get("WASMBED_API_URL"), os.environ.get("WASMBED_TOKEN")
    state = _up_state()
    if (not url or not token) and state is not None:
        info = json.loads(state.read_text())
        url = url or info["api"]
        token = token or Path(info["tokenFile"]).read_text().strip()
    if not url or not token:
        err.print("[red]No API server known.[/] Start one with [bold]wasmbed up[/], or set "
                  "WASMBED_API_URL and WASMBED_TOKEN.")
        raise typer.Exit(2)
    return ApiClient(url, token)


OutputOpt = Annotated[str, typer.Option("--output", "-o",
                                        help="table, wide (more columns), json or yaml")]


def _emit(items: list[dict[str, Any]], output: str, columns: list[str],
          rows: list[list[str]], wide: list[str], wide_rows: list[list[str]]) -> None:
    """Print resources as kubectl does: a table (wide: more columns), or the objects."""
    if output == "json":
        print(json.dumps(items, indent=2))
    elif output == "yaml":
        import yaml

        print(yaml.safe_dump(items, sort_keys=False), end="")
    elif output in ("table", "wide"):
        extra = output == "wide"
        table = Table(*columns, *(wide if extra else []))
        for i, row in enumerate(rows):
            table.add_row(*row, *(wide_rows[i] if extra else []))
        console.print(table)
    else:
        err.print(f"[red]-o {output}[/]: use table, wide, json or yaml")
        raise typer.Exit(2)


def _explain(exc: ApiError) -> None:
    err.print(f"[red]{exc.code}[/]: {exc.message}")
    if exc.hint:
        err.print(f"[dim]hint: {exc.hint}[/]")


@app.command()
def version() -> None:
    """Print the version."""
    console.print(__version__)


@app.command()
def manifests() -> None:
    """Print the directory of the Kubernetes manifests shipped with this package (CRDs in
    crds/, namespace, RBAC, workloads): `kubectl apply -f "$(wasmbed manifests)/crds"`."""
    from wasmbed.k8s.kubectl import MANIFESTS

    print(MANIFESTS)


StoreOpt = Annotated[str, typer.Option(
    "--store", help="embedded (SQLite in the data dir) or kubernetes (CRDs in a namespace)")]
KubeconfigOpt = Annotated[Path | None, typer.Option(
    help="kubeconfig for --store kubernetes; default $KUBECONFIG, ~/.kube/config, in-cluster")]
NamespaceOpt = Annotated[str | None, typer.Option(
    help="namespace for --store kubernetes; default the context's, else 'wasmbed'")]


def _store_config(store: str, kubeconfig: Path | None, namespace: str | None) -> Any:
    from wasmbed.store.opening import StoreConfig

    if store not in ("embedded", "kubernetes"):
        err.print(f"[red]--store {store}[/]: expected embedded or kubernetes")
        raise typer.Exit(2)
    return StoreConfig(store, kubeconfig, namespace)  # type: ignore[arg-type]


def _run_on_store(main: Coroutine[Any, Any, None]) -> None:
    """Run a service; a store it cannot use (kubeconfig, CRDs, rights) is one clear line."""
    from wasmbed.store import StoreError

    try:
        asyncio.run(main)
    except StoreError as exc:
        err.print(f"[red]store[/]: {exc}")
        raise typer.Exit(1) from exc


@app.command()
def api(
    data_dir: Annotated[Path, typer.Option(help="store, PKI and token live here")] = HOME / "api",
    host: str = "127.0.0.1",
    port: Annotated[int, typer.Option(help="0 = any free port")] = 8080,
    pairing_seconds: Annotated[float, typer.Option(help="start with pairing mode on")] = 0.0,
    cert_lifetime: Annotated[float, typer.Option(help="operational cert lifetime, s")] = (
        365 * 86400.0),
    store: StoreOpt = "embedded",
    kubeconfig: KubeconfigOpt = None,
    namespace: NamespaceOpt = None,
    controllers: Annotated[bool, typer.Option(
        help="run the controllers in this process (on Kubernetes: while holding the Lease)")
    ] = True,
    firmware_dir: Annotated[Path | None, typer.Option(
        help="built firmware for emulated boards (default firmware/build)")] = None,
    ready_file: Annotated[Path | None, typer.Option(help="write URLs here once ready")] = None,
    verbose: bool = False,
) -> None:
    """Run the API server (and, by default, the controllers)."""
    from wasmbed.api.main import ApiConfig, run_api

    _logging(verbose)
    config = ApiConfig(data_dir, host, port, pairing_seconds, cert_lifetime,
                       _store_config(store, kubeconfig, namespace), controllers,
                       firmware_dir)
    _run_on_store(run_api(config, ready_file))


@app.command()
def controller(
    store: StoreOpt = "kubernetes",
    kubeconfig: KubeconfigOpt = None,
    namespace: NamespaceOpt = None,
    data_dir: Annotated[Path, typer.Option(help="the API's data dir (embedded store, and the "
                                                "gateway key)")] = HOME / "api",
    gateway_key_file: Annotated[Path | None, typer.Option(
        help="the API's gateway key (controllers call each gateway with its own credential); "
             "default <data-dir>/gateway-key")] = None,
    identity: Annotated[str | None, typer.Option(help="Lease holder name; default host-pid")] = (
        None),
    lease_seconds: Annotated[float, typer.Option(help="Lease duration")] = 15.0,
    ready_file: Path | None = None,
    verbose: bool = False,
) -> None:
    """Run the device, application and gateway controllers on their own (replicas elect a
    leader through a Lease; only the leader reconciles)."""
    from wasmbed.controllers.runner import run_controllers
    from wasmbed.credentials import GATEWAY_KEY_FILE, GatewayKey

    _logging(verbose)
    key_file = gateway_key_file or data_dir / GATEWAY_KEY_FILE
    if not key_file.exists():
        err.print(f"[red]gateway key {key_file} does not exist[/]: it is the API data dir's "
                  f"'{GATEWAY_KEY_FILE}' (the API server creates it at first start)")
        raise typer.Exit(2)
    _run_on_store(run_controllers(_store_config(store, kubeconfig, namespace), data_dir,
                                  GatewayKey(key_file.read_text().strip()), identity,
                                  lease_seconds, ready_file))


@app.command("gateway-token")
def gateway_token(
    name: Annotated[str, typer.Argument(help="the gateway's name")],
    out: Annotated[Path | None, typer.Option(help="write it here (0600) instead of printing")
                   ] = None,
) -> None:
    """Issue the credential a gateway presents to the API (for `wasmbed gateway
    --token-file`). It opens only that gateway's protocol routes, never the admin API."""
    from wasmbed.pki.ca import write_secret

    token = _client().gateway_token(name)
    if out is None:
        console.print(token)
        return
    write_secret(out, token.encode())
    console.print(f"gateway {name}'s token written to {out}")


@app.command()
def gateway(
    api_url: Annotated[str, typer.Option(help="the API server")],
    token_file: Annotated[Path, typer.Option(
        help="file holding this gateway's own token (wasmbed gateway-token NAME --out FILE)")],
    cert: Annotated[Path, typer.Option(help="gateway certificate (PEM)")],
    key: Annotated[Path, typer.Option(help="gateway key (PEM)")],
    name: str = "gateway-0",
    data_dir: Annotated[Path, typer.Option(help="local cache lives here")] = HOME / "gateway",
    host: str = "127.0.0.1",
    port: Annotated[int, typer.Option(help="device TLS port; 0 = any")] = 40029,
    http_port: Annotated[int, typer.Option(help="HTTP API port; 0 = any")] = 8081,
    heartbeat_interval: int = 30,
    missed_heartbeats: int = 3,
    chunk_size: int = 1024,
    max_handshakes: Annotated[int, typer.Option(help="TLS handshakes in progress at once")] = 64,
    handshake_timeout: Annotated[float, typer.Option(
        help="seconds from ClientHello to a finished handshake")] = 10.0,
    hello_timeout: Annotated[float, typer.Option(
        help="seconds a new connection has to send its ClientHello")] = 5.0,
    max_pending_per_source: Annotated[int, typer.Option(
        help="connections without a ClientHello per source address; the oldest go first")
    ] = 256,
    trust_refresh: float = 10.0,
    advertise_url: Annotated[str | None, typer.Option(
        help="HTTP API URL the API server should call (default: the bound address)")] = None,
    advertise_tls: Annotated[str | None, typer.Option(
        help="host:port devices connect to (default: the bound address)")] = None,
    ready_file: Path | None = None,
    trace_file: Annotated[Path | None, typer.Option(help="protocol trace (JSON lines)")] = None,
    verbose: bool = False,
) -> None:
    """Run one gateway: TLS 1.3 mutual-auth device server plus its HTTP API."""
    from wasmbed.gateway.config import GatewayConfig
    from wasmbed.gateway.main import run_gateway

    _logging(verbose)
    if not token_file.exists():
        err.print(f"[red]token file {token_file} does not exist[/]: issue one with "
                  f"`wasmbed gateway-token {name} --out {token_file}`")
        raise typer.Exit(2)
    try:  # the config checks its values (a chunk size no frame carries, ...)
        config = GatewayConfig(
            name=name, api_url=api_url, token=token_file.read_text().strip(), cert_file=cert,
            key_file=key, data_dir=data_dir, host=host, tls_port=port, http_port=http_port,
            heartbeat_interval=heartbeat_interval, missed_heartbeats=missed_heartbeats,
            chunk_size=chunk_size, max_handshakes=max_handshakes,
            handshake_timeout=handshake_timeout, hello_timeout=hello_timeout,
            max_pending_per_source=max_pending_per_source, trust_refresh=trust_refresh,
            advertise_url=advertise_url, advertise_tls=advertise_tls)
    except ValueError as exc:
        err.print(f"[red]--{exc}[/]")
        raise typer.Exit(2) from exc
    asyncio.run(run_gateway(config, ready_file, trace_file))


@app.command()
def bridge(
    link: Annotated[list[str], typer.Option(
        help="NAME=BOARD->GATEWAY_HOST:PORT (repeatable); BOARD is an emulator UART's "
             "HOST:PORT or a serial port: /dev/ttyUSB0@115200, rfc2217://HOST:PORT@115200")],
    ready_file: Path | None = None,
    verbose: bool = False,
) -> None:
    """Relay boards' link UARTs (emulator sockets, serial ports) to gateways, bytes
    unchanged (TLS passthrough)."""
    from wasmbed.bridge.main import parse_link, run_bridge

    _logging(verbose)
    try:
        links = [parse_link(item) for item in link]
    except ValueError as exc:
        err.print(f"[red]{exc}[/]")
        raise typer.Exit(2) from exc
    asyncio.run(run_bridge(links, ready_file))


@app.command()
def proxy(
    target: Annotated[str, typer.Option(help="HOST:PORT to relay to (a gateway's TLS port)")],
    port: Annotated[int, typer.Option(help="listen port on 127.0.0.1; 0 = any")] = 0,
    ready_file: Path | None = None,
    verbose: bool = False,
) -> None:
    """A loopback TCP proxy with network-fault control (for virtual devices)."""
    from wasmbed.bridge.main import run_proxy

    _logging(verbose)
    host, _, tport = target.rpartition(":")
    asyncio.run(run_proxy((host, int(tport)), port, ready_file))


@app.command()
def up(
    data_dir: Path = HOME,
    api_port: int = 8080,
    tls_port: int = 40029,
    gateway_http_port: int = 8081,
    heartbeat_interval: int = 30,
    pairing_seconds: float = 0.0,
    ready_file: Annotated[Path | None, typer.Option(help="write URLs here once up")] = None,
    verbose: bool = False,
) -> None:
    """Start API + controllers + one gateway (embedded store) in this process."""
    from wasmbed.one_process import LocalStack, StackConfig
    from wasmbed.serving import wait_for_shutdown_signal, write_ready

    _logging(verbose)

    async def main() -> None:
        stack = LocalStack(StackConfig(data_dir, api_port=api_port, tls_port=tls_port,
                                       gateway_http_port=gateway_http_port,
                                       heartbeat_interval=heartbeat_interval,
                                       pairing_seconds=pairing_seconds))
        info = await stack.start()
        gw: Any = info["gateway"]
        console.print(f"[green]Wasmbed is up[/] (data in {data_dir})")
        console.print(f"  API        {info['api']}   (OpenAPI: {info['api']}/docs)")
        console.print(f"  gateway    devices: {gw['tls']}   HTTP: {gw['http']}")
        if stack.api.token_created:
            console.print(f"  token      {stack.api.token}   (shown once; kept 0600 in "
                          f"{info['tokenFile']})")
        else:
            console.print(f"  token      in {info['tokenFile']}")
        console.print("Ctrl-C to stop.")
        write_ready(ready_file, info)
        try:
            await wait_for_shutdown_signal()
        finally:
            await stack.stop()

    asyncio.run(main())


@app.command()
def demo(
    devices: Annotated[int, typer.Option(help="virtual devices to enroll")] = 3,
    example: Annotated[str, typer.Option(help="example app to deploy")] = "hello",
    timeout: float = 60.0,
    board: Annotated[str | None, typer.Option(
        help="also one emulated board with the real firmware (e.g. stm32f4_discovery; "
             "its firmware must be built: ./run demo --board builds it)")] = None,
    firmware_dir: Annotated[Path | None, typer.Option(
        help="where built firmware is (<dir>/<board>/firmware.elf); default firmware/build")
    ] = None,
) -> None:
    """The main job end to end: stack up, enroll devices, deploy an app, show results."""
    from wasmbed.demo import run_demo

    ok = asyncio.run(run_demo(devices, example, timeout, console, board, firmware_dir))
    raise typer.Exit(0 if ok else 1)


@app.command()
def status() -> None:
    """Fleet summary: counts by phase."""
    client = _client()
    s = client.status()
    table = Table("kind", "total", "by phase")
    for kind in ("devices", "applications", "gateways"):
        phases = ", ".join(f"{k}: {v}" for k, v in sorted(s[kind]["byPhase"].items()))
        table.add_row(kind, str(s[kind]["total"]), phases)
    console.print(table)
    console.print(f"pairing mode: {s['pairingMode']}")


# --- devices -----------------------------------------------------------------------------

@device_app.command("list")
def device_list(selector: Annotated[str | None, typer.Option("--selector", "-l")] = None,
                output: OutputOpt = "table") -> None:
    """List devices (optionally by label selector)."""
    from wasmbed.timeutil import age

    client = _client()
    items = client.devices(selector)
    rows, wide = [], []
    for d in items:
        st = d.get("status") or {}
        rows.append([d["metadata"]["name"], st.get("phase", "?"), d["spec"].get("mcuType", ""),
                     (st.get("connection") or {}).get("gateway", ""),
                     age(st.get("lastHeartbeat"))])
        wide.append([",".join(f"{k}={v}" for k, v in (d["metadata"].get("labels") or {}).items()),
                     st.get("firmwareVersion") or "", age(d["metadata"].get("creationTimestamp"))])
    _emit(items, output, ["name", "phase", "board", "gateway", "last heartbeat"], rows,
          ["labels", "firmware", "age"], wide)


@device_app.command("add")
def device_add(
    name: str,
    public_key: Annotated[Path | None, typer.Option(help="PEM public key or bootstrap cert",
                                                    exists=True, dir_okay=False)] = None,
    board: str = "virtual",
    label: Annotated[list[str] | None, typer.Option(help="key=value, repeatable")] = None,
) -> None:
    """Register a device so it may enroll (its public key identifies it)."""
    pem = None
    if public_key:
        text = public_key.read_text()
        if "CERTIFICATE" in text:
            from cryptography import x509
            from cryptography.hazmat.primitives import serialization

            cert = x509.load_pem_x509_certificate(text.encode())
            text = cert.public_key().public_bytes(
                serialization.Encoding.PEM,
                serialization.PublicFormat.SubjectPublicKeyInfo).decode()
        pem = text
    labels = dict(item.split("=", 1) for item in (label or []))
    d = _client().create_device(name, pem, board=board, labels=labels)
    console.print(f"device [bold]{d['metadata']['name']}[/] registered ({d['status']['phase']})")


@device_app.command("label")
def device_label(
    name: str,
    changes: Annotated[list[str], typer.Argument(help="key=value to set, key- to remove")],
) -> None:
    """Set or remove labels, as `kubectl label` does: `wasmbed device label dev-1 tier=edge
    old-`. Applications whose selector now matches deploy to the device."""
    set_, remove = {}, []
    for change in changes:
        if change.endswith("-") and "=" not in change:
            remove.append(change[:-1])
        elif "=" in change:
            key, value = change.split("=", 1)
            set_[key] = value
        else:
            err.print(f"[red]{change!r}[/]: use key=value to set a label, key- to remove it")
            raise typer.Exit(2)
    d = _client().label_device(name, set_, remove)
    labels = ",".join(f"{k}={v}" for k, v in (d["metadata"].get("labels") or {}).items())
    console.print(f"device {name} labels: {labels or '(none)'}")


@device_app.command("delete")
def device_delete(name: str) -> None:
    """Delete a device (its certificates are revoked: it cannot connect again)."""
    _client().delete_device(name)
    console.print(f"device {name} deleted")


@device_app.command("revoke")
def device_revoke(name: str) -> None:
    """Revoke a device's certificates (it is cut off at the next CRL refresh)."""
    _client().revoke_device(name)
    console.print(f"device {name} revoked")


@device_app.command("simulate")
def device_simulate(
    dirs: Annotated[list[Path], typer.Argument(help="device state dirs (see provision)")],
    gateway: Annotated[str, typer.Option(help="host:port of the gateway's TLS listener")],
    server_name: str = "localhost",
    profile: Annotated[str | None, typer.Option(help="DeviceProfile as JSON")] = None,
    ready_file: Path | None = None,
    trace_file: Path | None = None,
    stats_file: Annotated[Path | None, typer.Option(help="fleet figures, rewritten each s")]
    = None,
    quiet: Annotated[bool, typer.Option(help="do not print each device's state changes")]
    = False,
    verbose: bool = False,
) -> None:
    """Run virtual devices (a load generator / reference client, not firmware); prints
    each device's state as it changes (counts per state for more than 20 devices)."""
    from wasmbed.device.fleet import expand_device_dirs, load_profile, run_fleet

    _logging(verbose)
    dirs = expand_device_dirs(dirs)
    host, _, port = gateway.rpartition(":")
    try:
        prof = load_profile(profile)
    except (ValueError, TypeError) as exc:
        err.print(f"[red]bad --profile[/]: {exc}")
        raise typer.Exit(2) from exc
    asyncio.run(run_fleet(dirs, (host, int(port)), server_name, prof, ready_file, trace_file,
                          stats_file, progress=not quiet))


@device_app.command("provision")
def device_provision(
    name: str,
    out: Annotated[Path, typer.Option(help="device state dir to create")],
    pki_dir: Annotated[Path, typer.Option(help="the API's PKI dir")] = HOME / "api" / "pki",
) -> None:
    """Create a bootstrap identity (as a factory would) and print its public key."""
    from wasmbed.device.provision import provision
    from wasmbed.pki import PkiLayout

    pki = PkiLayout(pki_dir)
    if not pki.exists:
        err.print(f"[red]no PKI at {pki_dir}[/]: start `wasmbed up` once, or pass --pki-dir")
        raise typer.Exit(2)
    key = provision(out, name, pki.factory, pki.platform.cert_pem)
    console.print(f"provisioned {name} in {out}; public key (base64 SPKI): {key}")


# --- applications ------------------------------------------------------------------------

@app_app.command("deploy")
def app_deploy(
    file: Annotated[Path, typer.Argument(help=".wasm file (or .wat)", exists=True,
                                         dir_okay=False, readable=True)],
    to: Annotated[str, typer.Option(help="device name, label selector (k=v), or 'all'")],
    name: Annotated[str | None, typer.Option(help="application name")] = None,
    entry: str = "run",
    memory_limit: int = 64 * 1024,
    fuel_limit: int = 50_000_000,
    wait: Annotated[bool, typer.Option(help="wait until it runs (or completes) on every "
                                            "target; exit 1 if it fails on any")] = False,
    timeout: Annotated[float, typer.Option(help="seconds --wait waits")] = 120.0,
) -> None:
    """Deploy a module to a device, a label selector, or all devices."""
    import wasmtime

    data = file.read_bytes()
    if file.suffix == ".wat":
        try:
            data = bytes(wasmtime.wat2wasm(data.decode()))
        except (wasmtime.WasmtimeError, UnicodeDecodeError) as exc:
            err.print(f"[red]{file}[/] is not valid WebAssembly text: "
                      f"{str(exc).splitlines()[0]}")
            raise typer.Exit(2) from exc
    kwargs: dict[str, Any] = {}
    if to == "all":
        kwargs["all_devices"] = True
    elif "=" in to or "!" in to or " in " in to:
        kwargs["selector"] = to
    else:
        kwargs["devices"] = [to]
    app_name = name or file.stem.replace("_", "-").lower()
    client = _client()
    a = client.create_application(app_name, data, entry=entry, memory_limit=memory_limit,
                                  fuel_limit=fuel_limit, **kwargs)
    _warn_about_targets(client, kwargs)
    console.print(f"application [bold]{a['metadata']['name']}[/] created; "
                  f"watch it with `wasmbed app list`")
    if wait:
        raise typer.Exit(_wait_deployed(client, a["metadata"]["name"], timeout))


def _wait_deployed(client: ApiClient, name: str, timeout: float) -> int:
    """Progress until every target is Running or Completed (0), or one Failed (1)."""
    import time

    deadline = time.monotonic() + timeout
    with console.status(f"deploying {name}") as status:
        while True:
            st = client.application(name).get("status") or {}
            entries = st.get("deviceStatuses") or {}
            phases = [e.get("phase") for e in entries.values()]
            done = sum(p in ("Running", "Completed") for p in phases)
            status.update(f"deploying {name}: {done}/{len(phases)} running or completed "
                          f"({', '.join(sorted(set(filter(None, phases)))) or 'no targets yet'})")
            failed = {d: e for d, e in entries.items() if e.get("phase") == "Failed"}
            if failed:
                for dev, e in failed.items():
                    err.print(f"[red]{name} failed on {dev}[/]: {e.get('error')}")
                return 1
            if phases and done == len(phases):
                console.print(f"{name}: {done}/{len(phases)} running or completed")
                return 0
            if time.monotonic() > deadline:
                err.print(f"[red]{name}[/]: not deployed after {timeout:.0f} s "
                          f"({done}/{len(phases)}); see `wasmbed app list`")
                return 1
            time.sleep(0.5)


def _warn_about_targets(client: ApiClient, target: dict[str, Any]) -> None:
    """An application that reaches no device is legal (devices may come later) but rarely
    meant: say so."""
    from wasmbed.store.selectors import LabelSelector

    devices = client.devices()
    if target.get("devices"):
        known = {d["metadata"]["name"] for d in devices}
        for name in target["devices"]:
            if name not in known:
                err.print(f"[yellow]warning[/]: device {name!r} is not registered; the "
                          f"application is Failed for it until `wasmbed device add {name}`")
    elif target.get("selector"):
        sel = LabelSelector.parse(target["selector"])
        if not any(sel.matches(d["metadata"].get("labels")) for d in devices):
            err.print(f"[yellow]warning[/]: no device matches {target['selector']!r} yet; the "
                      "application deploys to devices as they get matching labels")


@app_app.command("list")
def app_list(output: OutputOpt = "table") -> None:
    """Applications and their per-device status."""
    from wasmbed.timeutil import age

    items = _client().applications()
    rows, wide = [], []
    for a in items:
        st = a.get("status") or {}
        entries = st.get("deviceStatuses") or {"-": {}}
        for dev, e in entries.items():
            outs = e.get("outputs") or []
            last = outs[-1] if outs else {}
            rows.append([a["metadata"]["name"], st.get("phase", "?"), dev, e.get("phase", ""),
                         str(last.get("text", last.get("value", "")))])
            wide.append([e.get("moduleId", ""), e.get("error") or "", age(e.get("updatedAt"))])
    _emit(items, output, ["application", "phase", "device", "device phase", "last output"],
          rows, ["module", "error", "updated"], wide)


@app_app.command("logs")
def app_logs(
    name: str,
    device: Annotated[str | None, typer.Option(help="only this device's outputs")] = None,
    follow: Annotated[bool, typer.Option("--follow", "-f", help="keep printing new outputs "
                                                                "until the app ends")] = False,
) -> None:
    """A module's outputs (log lines, reported values, the result), oldest first."""
    import time

    client = _client()
    seen: set[tuple[str, int]] = set()
    while True:
        st = client.application(name).get("status") or {}
        entries = st.get("deviceStatuses") or {}
        for dev, e in sorted(entries.items()):
            if device and dev != device:
                continue
            for o in e.get("outputs") or []:
                if (dev, o["seq"]) in seen:
                    continue
                seen.add((dev, o["seq"]))
                what = o.get("text", o.get("value", ""))
                console.print(f"{dev} #{o['seq']} {o['kind']}: {what}", highlight=False)
        active = any(e.get("phase") in ("Pending", "Deploying", "Running", "Stopping")
                     for d, e in entries.items() if not device or d == device)
        if not follow or not active:
            return
        time.sleep(0.5)


@app_app.command("delete")
def app_delete(name: str) -> None:
    """Delete an application (it is stopped on every device first)."""
    _client().delete_application(name)
    console.print(f"application {name} deleted")


@app_app.command("stop")
def app_stop(name: str) -> None:
    """Stop an application on every device."""
    _client().stop_application(name)
    console.print(f"stopping {name}")


def main() -> None:
    """The `wasmbed` command: a user's mistake (a missing or unreadable file, a bad module)
    and the API's refusals get a line saying what is wrong (and its hint), never a
    traceback: exit 1 for a refusal, 2 for the rest."""
    try:
        app()
    except ApiError as exc:
        _explain(exc)
        raise SystemExit(1) from None
    except OSError as exc:
        name = f" {exc.filename}" if exc.filename else ""
        err.print(f"[red]error[/]:{name}: {exc.strerror or exc}")
        raise SystemExit(2) from None


if __name__ == "__main__":
    main()
