"""`wasmbed demo`: the main job, end to end, on the embedded default.

Starts API + controllers + a gateway, provisions and registers N virtual devices, lets
them enroll over mutual TLS 1.3, deploys an example app to them by label selector, shows
the output and per-device status, and shuts down cleanly.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from wasmbed import examples
from wasmbed.aio import cancel_and_wait
from wasmbed.device import VirtualDevice
from wasmbed.device.provision import provision
from wasmbed.one_process import LocalStack, StackConfig
from wasmbed.rest_client import ApiClient, ApiError
from wasmbed.waiting import Seen, WaitTimeout, async_wait_for


async def run_demo(n: int, example: str, timeout: float, console: Console,
                   board: str | None = None, firmware_dir: Path | None = None) -> bool:
    with tempfile.TemporaryDirectory(prefix="wasmbed-demo-") as tmp:
        data = Path(tmp)
        stack = LocalStack(StackConfig(data, api_port=0, tls_port=0, gateway_http_port=0,
                                       heartbeat_interval=5, firmware_dir=firmware_dir))
        t0 = time.monotonic()
        with console.status("starting API server, controllers and gateway…"):
            info = await stack.start()
        gw: Any = info["gateway"]
        console.print(f"[green]✓[/] stack up in {time.monotonic() - t0:.2f} s: API "
                      f"{info['api']}, gateway {gw['tls']}")
        client = ApiClient(str(info["api"]), stack.api.token)
        call = asyncio.to_thread
        tasks: list[asyncio.Task[None]] = []
        try:
            names = [f"demo-{i}" for i in range(n)]
            devices = []
            host, port = str(gw["tls"]).rsplit(":", 1)
            for name in names:
                d = data / "devices" / name
                key = provision(d, name, stack.api.pki.factory, stack.api.pki.platform.cert_pem)
                await call(client.create_device, name, key, labels={"demo": "true"})
                devices.append(VirtualDevice(name, d, (host, int(port))))
            console.print(f"[green]✓[/] provisioned and registered {n} virtual devices")
            tasks = [asyncio.create_task(dev.run()) for dev in devices]
            if board:  # the real firmware in an emulator, beside the virtual devices
                try:
                    await call(client.request, "POST", "/api/v1/boards", json={
                        "name": "demo-board", "board": board, "labels": {"demo": "true"}})
                except ApiError as exc:
                    console.print(f"[red]✗ board {board}: {exc.message}[/]"
                                  + (f"\n  {exc.hint}" if exc.hint else ""))
                    return False
                console.print(f"[green]✓[/] started {board} with the real firmware "
                              "(demo-board), bridged to the gateway")
                n += 1

            async def all_connected() -> Any:
                items = await call(client.devices, "demo=true")
                phases = {d["metadata"]["name"]: d["status"].get("phase") for d in items}
                return all(p == "Connected" for p in phases.values()) or Seen(phases)

            with console.status("devices enrolling over mutual TLS 1.3…"):
                await async_wait_for(all_connected, timeout, "all devices Connected")
            console.print(f"[green]✓[/] {n} devices enrolled and Connected "
                          f"({time.monotonic() - t0:.2f} s)")

            wasm = examples.wasm(example)
            await call(client.create_application, example, wasm, selector="demo=true")

            async def app_done() -> Any:
                a = await call(client.application, example)
                st = a.get("status") or {}
                done = st.get("phase") in ("Completed", "Running", "Failed") and \
                    st.get("statistics", {}).get("total") == n and all(
                        e.get("outputs") for e in st.get("deviceStatuses", {}).values())
                return a if done else Seen(st.get("phase"))

            with console.status(f"deploying {example} ({len(wasm)} bytes)…"):
                app = await async_wait_for(app_done, timeout, f"{example} to run on all devices")
            _show(console, app)
            ok = app["status"]["phase"] in ("Completed", "Running")
            console.print(f"[{'green' if ok else 'red'}]{'✓' if ok else '✗'}[/] application "
                          f"{example}: {app['status']['phase']} "
                          f"(total {time.monotonic() - t0:.2f} s)")
            return ok
        except WaitTimeout as exc:
            console.print(f"[red]✗ {exc}[/]")
            return False
        finally:
            await cancel_and_wait(tasks)
            client.close()
            with console.status("shutting down…"):
                await stack.stop()
            console.print("[green]✓[/] shut down cleanly")


def _show(console: Console, app: dict[str, Any]) -> None:
    table = Table("device", "phase", "outputs", title=f"application {app['metadata']['name']}")
    for dev, e in sorted(app["status"]["deviceStatuses"].items()):
        outs = "; ".join(
            f"{o['kind']}: {o.get('text', o.get('value'))}" for o in e.get("outputs") or [])
        table.add_row(dev, e.get("phase", "?") + (f" ({e['error']})" if e.get("error") else ""),
                      outs)
    console.print(table)
