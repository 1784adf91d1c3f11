"""What the API server and the controllers both need to know about our resources: the
application finalizer, how module ids are formed, and how per-device phases rank. One
module, imported by both sides, so neither reaches into the other's internals."""

from __future__ import annotations

from typing import Any

FINALIZER = "wasmbed.github.io/application"

# Per module, a device's phase only moves forward: a late or repeated report (or our own
# write racing a report) can never turn Running back into Deploying.
RANK = {"Pending": 0, "Deploying": 1, "Running": 2, "Stopping": 3,
        "Completed": 4, "Failed": 4, "Stopped": 4}

# the device's AppState names (protocol) -> per-device phases of an application
APP_PHASES = {"DEPLOYING": "Deploying", "RUNNING": "Running", "STOPPED": "Stopped",
              "FAILED": "Failed", "COMPLETED": "Completed"}


def module_id(app: dict[str, Any]) -> str:
    """The id a device knows a module by: the application's name and generation."""
    return f"{app['metadata']['name']}@{app['metadata']['generation']}"


def app_of_module(mid: str) -> str:
    return mid.rsplit("@", 1)[0]


def generation(mid: str) -> int:
    """The application generation a module id names (0 if it names none)."""
    tail = mid.rsplit("@", 1)[-1]
    return int(tail) if tail.isdigit() else 0
