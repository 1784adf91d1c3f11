"""Conditions scenarios wait on, read through the API (the real observation path), and the
steps several scenarios share."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from wasmbed.processes import ManagedProcess, wasmbed_argv
from wasmbed.rest_client import ApiClient
from wasmbed.waiting import Seen


def device_phase(api: ApiClient, name: str, phase: str) -> Any:
    dev = api.device(name)
    status = dev.get("status") or {}
    return dev if status.get("phase") == phase else Seen(
        {k: status.get(k) for k in ("phase", "connection", "lastHeartbeat")})


def devices_phase(api: ApiClient, names: list[str], phase: str) -> Any:
    phases = {d["metadata"]["name"]: (d.get("status") or {}).get("phase")
              for d in api.devices() if d["metadata"]["name"] in names}
    done = len(phases) == len(names) and all(p == phase for p in phases.values())
    return phases if done else Seen(phases)


def app_device_phase(api: ApiClient, app: str, device: str, phase: str) -> Any:
    a = api.application(app)
    entry = ((a.get("status") or {}).get("deviceStatuses") or {}).get(device) or {}
    return entry if entry.get("phase") == phase else Seen(entry)


def app_phase(api: ApiClient, app: str, phase: str) -> Any:
    a = api.application(app)
    status = a.get("status") or {}
    return a if status.get("phase") == phase else Seen(
        {"phase": status.get("phase"), "statistics": status.get("statistics")})


def fleet_state(fleet: Any, name: str, state: str) -> Any:
    st = fleet.status(name)
    return st if st.get("state") == state else Seen(st)


def sessions_above(fleet: Any, name: str, n: int) -> Any:
    """The device's status once it is connected in a session after its n-th (it counts a
    session when HelloAck arrives, which can be after the API shows it Connected)."""
    st = fleet.status(name)
    return st if st.get("state") == "connected" and st["sessions"] > n else Seen(st)


def entry_history(api: ApiClient, app: str, device: str, since: str, until: str,
                  timeout: float = 60.0) -> list[tuple[str, str | None]]:
    """The (phase, error) sequence of one device's entry in an application, replayed from
    the API's watch stream starting at resourceVersion `since`, up to phase `until`."""
    import json
    import time

    from websockets.sync.client import connect

    url = api.url.replace("http", "ws", 1)
    history: list[tuple[str, str | None]] = []
    deadline = time.monotonic() + timeout
    with connect(f"{url}/api/v1/watch?kinds=applications&resourceVersion={since}"
                 f"&token={api.token}") as ws:
        while time.monotonic() < deadline:
            event = json.loads(ws.recv(timeout=max(0.1, deadline - time.monotonic())))
            obj = event.get("object") or {}
            if obj.get("metadata", {}).get("name") != app:
                continue
            entry = ((obj.get("status") or {}).get("deviceStatuses") or {}).get(device) or {}
            step = (entry.get("phase"), entry.get("error"))
            if step[0] and (not history or history[-1] != step):
                history.append(step)
            if step[0] == until and len(history) > 1:
                return history
    raise AssertionError(f"no {until} for {device} in {app} within {timeout} s: {history}")


def deliver_again(api: ApiClient, gateway: Any, device: str, app: str) -> None:
    """Ask the device's gateway to deliver the application's module once more, exactly as
    the application controller does when it takes the module for lost."""
    import httpx

    from wasmbed.controllers.application import deploy_body
    from wasmbed.http_trust import default_trust

    resp = httpx.post(f"{gateway.http_url}/api/v1/devices/{device}/deploy",
                      json=deploy_body(api.request(
                          "GET", f"/api/v1/applications/{app}", params={"includeWasm": "true"})),
                      headers={"Authorization": f"Bearer {gateway.token}"}, timeout=10,
                      verify=default_trust())
    assert resp.status_code == 202, resp.text


def ran_times(api: ApiClient, app: str, device: str, runs: int) -> Any:
    """The device's facts about `app` once it reported COMPLETED after `runs` results."""
    facts = api.application(app)["status"]["moduleReports"][device]
    results = [o for o in facts["outputs"] if o["kind"] == "result"]
    return facts if facts["state"] == "COMPLETED" and len(results) == runs else Seen(facts)


def kubectl_row(cluster: Any, resource: str, name: str) -> dict[str, str]:
    """`kubectl get RESOURCE NAME` as {column: value}: what an operator sees with the
    ordinary tools (the CRDs' printer columns)."""
    header, row = cluster.kubectl("get", resource, name).splitlines()[:2]
    starts = [i for i, c in enumerate(header) if c != " " and (i == 0 or header[i - 1] == " ")]
    bounds = [*starts[1:], None]
    return {header[a:b].strip(): row[a:b].strip() for a, b in zip(starts, bounds, strict=True)}


def up_process(data_dir: Path, evidence: Any, name: str = "up") -> ManagedProcess:
    """`wasmbed up` (not started yet) with its state in `data_dir`, on ephemeral ports."""
    ready = evidence.directory / f"{name}.ready"
    return ManagedProcess(name, wasmbed_argv(
        "up", "--data-dir", str(data_dir), "--api-port", "0", "--tls-port", "0",
        "--gateway-http-port", "0", "--ready-file", str(ready)), evidence.path(name), ready)

