"""`POST /api/v1/compile`: source to a checked wasm module (see wasmbed.compile), and the
same path for applications created from source."""

from __future__ import annotations

import asyncio
import base64
import hashlib
from typing import Any

from fastapi import APIRouter

from wasmbed.api.models import CompileRequest
from wasmbed.compile import CompileUnavailable, compile_source, languages
from wasmbed.httperrors import api_error

_BUILDS = asyncio.Semaphore(2)  # compilers are memory-hungry; two at a time


async def compile_or_fail(language: str, code: str, entry: str = "run") -> tuple[bytes, str]:
    """(wasm, compiler diagnostics) or an HTTP error saying what is wrong."""
    async with _BUILDS:
        try:
            result = await asyncio.to_thread(compile_source, language, code, entry)
        except CompileUnavailable as exc:
            raise api_error(501, "CompilerUnavailable",
                            f"no {language} toolchain for wasm32 on this server", str(exc)) \
                from exc
    if not result.ok and not result.problems:
        raise api_error(422, "CompileError", f"the {language} compiler failed:\n"
                        f"{result.diagnostics.strip()}", "fix the source at the lines named")
    if result.problems:
        raise api_error(422, "UnsupportedModule", "; ".join(result.problems),
                        "use only the host functions of wasmbed_app.h and export the entry")
    return result.wasm, result.diagnostics


def compile_router() -> APIRouter:
    router = APIRouter(tags=["compile"])

    @router.get("/compile/languages")
    async def compile_languages() -> dict[str, Any]:
        """Which languages this server compiles, and what to install for the others."""
        return {lang: {"available": missing is None, "install": missing}
                for lang, missing in languages().items()}

    @router.post("/compile")
    async def compile_(body: CompileRequest) -> dict[str, Any]:
        """Compile to wasm32 (in a temp dir, with time and memory limits) and check the
        module against the host functions devices offer. 422 carries the compiler's
        diagnostics; 501 says what toolchain to install."""
        wasm, diagnostics = await compile_or_fail(body.language, body.code, body.entry)
        return {"wasmBytes": base64.b64encode(wasm).decode(),
                "sha256": hashlib.sha256(wasm).hexdigest(), "size": len(wasm),
                "diagnostics": diagnostics}

    return router
