"""HTTP control of a relay's network faults (bridge or proxy): how scenarios inject them.

    GET  /faults              current faults and byte counters
    PUT  /faults              {"latency_ms": 200, ...} partial update
    POST /faults/cut          reset every live connection now
    POST /faults/partition    {"seconds": 5}
    POST /faults/flap         {"period_s": 1, "cycles": 3}
    POST /faults/clear        back to a clean network
"""

from __future__ import annotations

from typing import Any

from fastapi import Body, FastAPI

from wasmbed import httperrors
from wasmbed.bridge.faults import NetworkFaults
from wasmbed.httperrors import api_error


def build_control_app(faults: NetworkFaults) -> FastAPI:
    app = FastAPI(title="Wasmbed relay fault control")
    httperrors.install(app)

    @app.get("/faults")
    async def get() -> dict[str, Any]:
        return faults.as_dict()

    @app.put("/faults")
    async def put(changes: dict[str, Any] = Body(...)) -> dict[str, Any]:
        try:
            faults.update(**changes)
        except (ValueError, TypeError) as exc:
            raise api_error(422, "BadFault", str(exc), "see GET /faults for the fields") \
                from exc
        return faults.as_dict()

    @app.post("/faults/cut")
    async def cut() -> dict[str, Any]:
        faults.cut()
        return faults.as_dict()

    @app.post("/faults/partition")
    async def partition(seconds: float = Body(..., embed=True, gt=0, le=600)) \
            -> dict[str, Any]:
        faults.partition(seconds)
        return faults.as_dict()

    @app.post("/faults/flap")
    async def flap(period_s: float = Body(..., embed=True, gt=0, le=60),
                   cycles: int = Body(..., embed=True, ge=1, le=100)) -> dict[str, Any]:
        faults.flap(period_s, cycles)
        return faults.as_dict()

    @app.post("/faults/clear")
    async def clear() -> dict[str, Any]:
        faults.clear()
        return faults.as_dict()

    return app
