"""Conditions scenarios wait on, read through the API (the real observation path)."""

from __future__ import annotations

from typing import Any

from wasmbed.client import ApiClient
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
