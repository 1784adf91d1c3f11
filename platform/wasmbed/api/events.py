"""Recent events per device, for `GET /devices/{name}/events` and the dashboard's device
page: what gateways reported (sessions, module states, outputs) and enrollment decisions.

Kept in memory, a bounded ring per device: the durable record is the Device's status; this
is the story of how it got there, and a restart of the API server starts it afresh.
"""

from __future__ import annotations

import itertools
from collections import deque
from typing import Any

from wasmbed.protocol import OutputKind
from wasmbed.reports import GatewayStatus, HeartbeatSeen, Report
from wasmbed.timeutil import iso

SKIPPED = (HeartbeatSeen, GatewayStatus)  # periodic: their latest values are in the status


class DeviceEvents:
    def __init__(self, per_device: int = 200) -> None:
        self.per_device = per_device
        self._rings: dict[str, deque[dict[str, Any]]] = {}
        self._seq = itertools.count(1)

    def record(self, device: str, type_: str, **fields: Any) -> None:
        ring = self._rings.setdefault(device, deque(maxlen=self.per_device))
        ring.append({"seq": next(self._seq), "at": fields.pop("at", None) or iso(),
                     "type": type_, **{k: v for k, v in fields.items() if v is not None}})

    def record_reports(self, gateway: str, events: list[Report]) -> None:
        for e in events:
            if isinstance(e, SKIPPED):
                continue
            detail = e.model_dump(exclude={"device", "type", "at"})
            if isinstance(detail.get("kind"), int):  # an output's kind, by name
                detail["kind"] = OutputKind(detail["kind"]).name.lower()
            self.record(e.device, e.type, at=iso(e.at), gateway=gateway, **detail)

    def list(self, device: str, limit: int = 100) -> list[dict[str, Any]]:
        return list(self._rings.get(device, ()))[-limit:]

    def forget(self, device: str) -> None:
        self._rings.pop(device, None)
