"""Every error leaves our HTTP services (API server, gateway) as JSON
{"code", "message", "hint"} with a fitting status."""

from __future__ import annotations

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from wasmbed.store import AlreadyExists, Conflict, Gone, Invalid, NotFound, StoreError
from wasmbed.store.selectors import SelectorError

HINTS: dict[type, tuple[str, str]] = {
    NotFound: ("NotFound", "list the resources to see what exists"),
    AlreadyExists: ("AlreadyExists", "choose another name, or delete the existing one first"),
    Conflict: ("Conflict", "get the resource again and retry with its resourceVersion"),
    Gone: ("Gone", "list again and watch from the returned resourceVersion"),
    Invalid: ("Invalid", "fix the field the message names"),
}


class ErrorBody(BaseModel):
    """Every error answer."""

    code: str
    message: str
    hint: str = ""


def error_responses(*statuses: int) -> dict[int | str, dict[str, object]]:
    """OpenAPI `responses` documenting these error statuses with the ErrorBody shape."""
    return {s: {"model": ErrorBody} for s in statuses}


def api_error(status: int, code: str, message: str, hint: str = "") -> HTTPException:
    return HTTPException(status, detail={"code": code, "message": message, "hint": hint})


def install(app: FastAPI) -> None:
    @app.exception_handler(StoreError)
    async def store_error(_: Request, exc: StoreError) -> JSONResponse:
        code, hint = HINTS.get(type(exc), ("StoreError", ""))
        return JSONResponse({"code": code, "message": str(exc), "hint": hint},
                            status_code=exc.status)

    @app.exception_handler(SelectorError)
    async def selector_error(_: Request, exc: SelectorError) -> JSONResponse:
        return JSONResponse({"code": "BadSelector", "message": str(exc),
                             "hint": "example: labelSelector=board=stm32f4_discovery,tier!=prod"},
                            status_code=400)

    @app.exception_handler(StarletteHTTPException)  # ours, and the framework's (bad JSON)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail = exc.detail if isinstance(exc.detail, dict) else {
            "code": "BadRequest" if exc.status_code == 400 else "HTTPError",
            "message": str(exc.detail),
            "hint": "send a JSON body (Content-Type: application/json); see /docs"
            if exc.status_code == 400 else ""}
        return JSONResponse(detail, status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        return JSONResponse({"code": "Invalid", "message": problems,
                             "hint": "see /docs for the request schema"}, status_code=422)
