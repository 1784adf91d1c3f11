"""`wasmbed device simulate`: many virtual devices in one process (a load generator).

Each device lives in its own state directory (see provision.py); each writes its
status.json there, which is how tests observe the device side.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from dataclasses import fields
from pathlib import Path
from typing import Any

from wasmbed.aio import cancel_and_wait
from wasmbed.device.virtual import DeviceProfile, VirtualDevice
from wasmbed.protocol.link import JsonlTrace
from wasmbed.serving import tune_gc_for_many_connections, wait_for_shutdown_signal, write_ready

log = logging.getLogger("wasmbed.device.fleet")


def profile_from(data: dict[str, Any]) -> DeviceProfile:
    known = {f.name for f in fields(DeviceProfile)}
    unknown = set(data) - known
    if unknown:
        raise ValueError(f"unknown device profile keys {sorted(unknown)}; known: {sorted(known)}")
    return DeviceProfile(**data)


async def _write_stats(devices: list[VirtualDevice], path: Path, every: float = 1.0) -> None:
    """Fleet-wide figures for benchmarks, one JSON line per second: device states and the
    heartbeat round trips measured since the previous line."""
    with path.open("a") as fp:
        while True:
            states: dict[str, int] = {}
            rtts: list[float] = []
            for dev in devices:
                state = str(dev.status.get("state"))
                states[state] = states.get(state, 0) + 1
                while dev.heartbeat_rtts:
                    rtts.append(dev.heartbeat_rtts.popleft())
            fp.write(json.dumps({"t": time.time(), "states": states,
                                 "heartbeatRttS": rtts}) + "\n")
            fp.flush()
            await asyncio.sleep(every)


INDIVIDUAL_MAX = 20  # fleets up to this size print each device's changes; larger: counts


async def _print_changes(devices: list[VirtualDevice], every: float = 0.2) -> None:
    """What a user running `device simulate` sees: each device's state as it changes (a
    large fleet: the count per state, when it changes)."""
    last: dict[str, str] = {}
    last_counts: dict[str, int] = {}
    while True:
        if len(devices) <= INDIVIDUAL_MAX:
            for dev in devices:
                state = str(dev.status.get("state"))
                if last.get(dev.name) != state:
                    last[dev.name] = state
                    why = dev.status.get("last_error") if state in (
                        "rejected", "refused", "disconnected") else None
                    print(f"{dev.name}: {state}" + (f" ({why})" if why else ""), flush=True)
        else:
            counts: dict[str, int] = {}
            for dev in devices:
                state = str(dev.status.get("state"))
                counts[state] = counts.get(state, 0) + 1
            if counts != last_counts:
                last_counts = counts
                print(", ".join(f"{n} {s}" for s, n in sorted(counts.items())), flush=True)
        await asyncio.sleep(every)


SHUTDOWN_S = 3.0  # a fleet stopping waits this long for its devices to unwind


async def run_fleet(device_dirs: list[Path], gateway: tuple[str, int], server_name: str,
                    profile: DeviceProfile, ready_file: Path | None,
                    trace_file: Path | None, stats_file: Path | None = None,
                    progress: bool = True) -> None:
    tune_gc_for_many_connections()
    trace_fp = trace_file.open("a") if trace_file else None
    devices = []
    slots = asyncio.Semaphore(profile.connect_concurrency)
    for d in device_dirs:
        name = (d / "name").read_text().strip() if (d / "name").exists() else d.name
        trace = JsonlTrace(trace_fp, name) if trace_fp else None
        devices.append(VirtualDevice(name, d, gateway, server_name=server_name,
                                     profile=profile, trace=trace, connect_slots=slots))
    tasks = [asyncio.create_task(dev.run()) for dev in devices]
    if progress:
        tasks.append(asyncio.create_task(_print_changes(devices)))
    if stats_file:
        tasks.append(asyncio.create_task(_write_stats(devices, stats_file)))
    write_ready(ready_file, {"devices": [str(d) for d in device_dirs],
                             "gateway": f"{gateway[0]}:{gateway[1]}"})
    try:
        await wait_for_shutdown_signal()
    finally:
        for dev in devices:
            dev.stop()
        if not await cancel_and_wait(tasks, timeout=SHUTDOWN_S):
            print(f"some devices did not stop within {SHUTDOWN_S:.0f} s; exiting anyway",
                  flush=True)
        if trace_fp:
            trace_fp.close()


def expand_device_dirs(dirs: list[Path]) -> list[Path]:
    """Device dirs as given, or the device dirs inside a given parent dir."""
    out: list[Path] = []
    for d in dirs:
        if (d / "bootstrap.pem").exists():
            out.append(d)
        else:
            out += sorted(p for p in d.iterdir() if (p / "bootstrap.pem").exists())
    return out


def load_profile(text: str | None) -> DeviceProfile:
    return profile_from(json.loads(text)) if text else DeviceProfile()
