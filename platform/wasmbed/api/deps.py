"""What routes receive through FastAPI dependencies: the API context and the caller."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from wasmbed.api.context import ApiContext
from wasmbed.credentials import Principal
from wasmbed.httperrors import api_error


# async, though they do not await: FastAPI runs a plain `def` dependency in a worker thread,
# two thread hops per request for a dictionary lookup.
async def context(request: Request) -> ApiContext:
    return request.app.state.ctx  # type: ignore[no-any-return]


async def principal(request: Request) -> Principal:
    """The caller, established by the RequestGuard before the body was read."""
    return request.state.principal  # type: ignore[no-any-return]


Ctx = Annotated[ApiContext, Depends(context)]
Caller = Annotated[Principal, Depends(principal)]


def as_gateway(caller: Principal, name: str) -> str:
    """The calling gateway's name; 403 when it speaks for another gateway."""
    if caller.gateway != name:
        raise api_error(403, "Forbidden", f"this credential belongs to gateway "
                        f"{caller.gateway!r}, not {name!r}",
                        "each gateway reports, registers and enrolls under its own name only")
    return name
