"""Creating and steering applications: what `POST /applications`, `/stop` and `/deploy` do
beyond HTTP. Every module is checked before it is stored - encoding, hash, size, valid
wasm, and that devices could run it (only their host functions, the entry exported) - the
same checks a compiled module passes."""

from __future__ import annotations

import base64
from typing import Any

import wasmtime

from wasmbed.api.compiling import compile_or_fail
from wasmbed.api.context import ApiContext
from wasmbed.api.models import ApplicationCreate
from wasmbed.compile import check_imports
from wasmbed.httperrors import api_error
from wasmbed.modules import check_module, linear_memory_bytes
from wasmbed.resources import FINALIZER
from wasmbed.store import new_resource
from wasmbed.store.selectors import LabelSelector


async def create_application(ctx: ApiContext, body: ApplicationCreate) -> dict[str, Any]:
    if (body.wasmBytes is None) == (body.source is None):
        raise api_error(422, "Invalid", "give exactly one of wasmBytes and source",
                        "wasmBytes: a built module, base64; source: {language, code}")
    if body.targetDevices.selector:
        LabelSelector.parse(body.targetDevices.selector)  # 400 now, not a silent no-op
    if body.source is not None:
        wasm, _ = await compile_or_fail(body.source.language, body.source.code, body.entry)
        wasm_b64 = base64.b64encode(wasm).decode()
    else:
        assert body.wasmBytes is not None
        wasm_b64 = body.wasmBytes
    module = check_module(wasm_b64, body.sha256)
    try:
        problems = check_imports(module.wasm, body.entry)
    except wasmtime.WasmtimeError as exc:
        problems = [f"not a module devices can load: {exc}"]
    if problems:
        raise api_error(422, "UnsupportedModule", "; ".join(problems),
                        "use only the host functions of wasmbed_app.h and export the entry")
    spec = body.model_dump(exclude={"name", "labels", "source"})
    spec.update(wasmBytes=wasm_b64, sha256=module.sha256, wasmSize=len(module.wasm),
                memoryBytes=linear_memory_bytes(module.wasm), name=body.name)
    obj = new_resource("Application", body.name, spec, body.labels)
    obj["metadata"]["finalizers"] = [FINALIZER]
    created = await ctx.store.create(obj)
    return slim(await ctx.store.patch_status("Application", created["metadata"]["name"],
                                             {"phase": "Creating"}))


async def set_stopped(ctx: ApiContext, name: str, stopped: bool) -> dict[str, Any]:
    return slim(await ctx.store.patch_spec("Application", name, {"stopped": stopped}))


def slim(obj: dict[str, Any]) -> dict[str, Any]:
    """An application without its module bytes (fetch them with includeWasm=true): lists,
    watches and the dashboard never carry modules."""
    if obj.get("kind") != "Application" or "wasmBytes" not in obj.get("spec", {}):
        return obj
    spec = dict(obj["spec"])
    b64 = spec.pop("wasmBytes")
    spec.setdefault("wasmSize", len(b64) * 3 // 4 - b64[-2:].count("="))
    return {**obj, "spec": spec}
