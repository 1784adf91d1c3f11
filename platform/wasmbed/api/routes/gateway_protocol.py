"""The routes gateways call, each with its own credential: registration, ordered report
batches, enrollment of devices, and the trust material (CA certificates and CRLs)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from wasmbed.api import gateway_registry
from wasmbed.api.context import ApiContext
from wasmbed.api.deps import Caller, Ctx, as_gateway
from wasmbed.api.enrollment import enroll
from wasmbed.api.models import (
    EnrollmentBatch,
    EnrollmentRequest,
    GatewayRegistration,
    ResourceName,
)
from wasmbed.api.reports import apply_reports
from wasmbed.reports import ReportBatch

router = APIRouter(tags=["gateway protocol"])
# (method, path regex) of these routes: the only ones a gateway credential opens
GATEWAY_ROUTES = [("PUT", r"/api/v1/gateways/[^/]+/registration"),
                  ("POST", r"/api/v1/gateways/[^/]+/reports"),
                  ("POST", r"/api/v1/enrollments"), ("POST", r"/api/v1/enrollments/batch"),
                  ("GET", r"/api/v1/pki/trust")]


@router.put("/gateways/{name}/registration")
async def register_gateway(ctx: Ctx, caller: Caller, name: ResourceName,
                           body: GatewayRegistration) -> dict[str, Any]:
    """Called by a gateway at start: records its endpoints (checked: the endpoint must
    answer as this gateway); devices it held before a restart are marked disconnected."""
    return await gateway_registry.register(ctx, as_gateway(caller, name), body)


@router.post("/gateways/{name}/reports")
async def reports(ctx: Ctx, caller: Caller, name: ResourceName,
                  body: ReportBatch) -> dict[str, int]:
    """An ordered batch of facts the gateway observed (404 if the gateway's resource is
    gone: it registers again, then re-sends)."""
    as_gateway(caller, name)
    await ctx.store.get("Gateway", name)
    applied = await apply_reports(ctx.store, name, body.events)
    ctx.events.record_reports(name, body.events)
    return {"received": len(body.events), "applied": applied}


@router.post("/enrollments")
async def enrollments(ctx: Ctx, caller: Caller, body: EnrollmentRequest) -> dict[str, Any]:
    as_gateway(caller, body.gateway)
    return await _enroll(ctx, body)


@router.post("/enrollments/batch")
async def enrollment_batch(ctx: Ctx, caller: Caller, body: EnrollmentBatch) -> dict[str, Any]:
    """Several devices' enrollments in one request (a gateway in an enrollment storm): the
    answers, in order, are what `POST /enrollments` answers for each."""
    as_gateway(caller, body.gateway)
    return {"results": [await _enroll(ctx, EnrollmentRequest(**facts.model_dump(),
                                                             gateway=body.gateway))
                        for facts in body.requests]}


async def _enroll(ctx: ApiContext, request: EnrollmentRequest) -> dict[str, Any]:
    result = await enroll(ctx, request)
    if result.get("deviceId"):
        ctx.events.record(result["deviceId"], "enrolled", gateway=request.gateway,
                          board=request.board, firmware=request.firmwareVersion)
    return result


@router.get("/pki/trust")
async def trust(ctx: Ctx) -> dict[str, str]:
    factory, platform = ctx.pki.factory, ctx.pki.platform
    return {"factoryCa": factory.cert_pem.decode(), "platformCa": platform.cert_pem.decode(),
            "crl": (factory.crl_pem() + platform.crl_pem()).decode()}
