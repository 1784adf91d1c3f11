"""The enrollment authority: decides who may join and signs operational certificates.

A device is known when a Device resource holds its public key (label
`wasmbed.github.io/key-fingerprint` finds it without a scan). Unknown devices are created
only while pairing mode is on. Revoked devices are refused.
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import hashlib
import logging
import time
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from wasmbed.api.context import ApiContext
from wasmbed.api.models import EnrollmentRequest
from wasmbed.gateway_client import GatewayRef, GatewayRefused, GatewayUnavailable
from wasmbed.store import NotFound, new_resource
from wasmbed.timeutil import iso, parse_iso

log = logging.getLogger("wasmbed.api.enrollment")
FINGERPRINT_LABEL = "wasmbed.github.io/key-fingerprint"


class KeyError_(ValueError):
    pass


def normalize_public_key(value: str) -> bytes:
    """SPKI DER from base64 DER or PEM; must be an ECDSA P-256 key."""
    try:
        if "BEGIN PUBLIC KEY" in value:
            key = serialization.load_pem_public_key(value.encode())
        else:
            key = serialization.load_der_public_key(base64.b64decode(value, validate=True))
    except ValueError as exc:
        raise KeyError_(f"publicKey is not a PEM or base64 DER public key: {exc}") from exc
    if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name != "secp256r1":
        raise KeyError_("publicKey must be an ECDSA P-256 key (what the firmware uses)")
    return key.public_bytes(serialization.Encoding.DER,
                            serialization.PublicFormat.SubjectPublicKeyInfo)


async def register_device(ctx: ApiContext, name: str, board: str, public_key_der: bytes | None,
                          labels: dict[str, str], *, device_type: str = "virtual",
                          architecture: str = "wasm32",
                          preferred_gateway: str | None = None) -> dict[str, Any]:
    """A Device with this key (found by its fingerprint label at enrollment), phase
    Pending: what `POST /devices` and the emulated-board manager both create."""
    spec: dict[str, Any] = {"mcuType": board, "deviceType": device_type,
                            "architecture": architecture,
                            "preferredGateway": preferred_gateway}
    labels = dict(labels)
    if public_key_der is not None:
        spec["publicKey"] = base64.b64encode(public_key_der).decode()
        labels[FINGERPRINT_LABEL] = fingerprint(public_key_der)
    labels.setdefault("wasmbed.github.io/board", board)
    obj = new_resource("Device", name, spec, labels)
    obj["status"] = {"phase": "Pending"}
    return await ctx.store.create(obj)


def fingerprint(der: bytes) -> str:
    return hashlib.sha256(der).hexdigest()[:32]


def reject(reason: str) -> dict[str, Any]:
    return {"accepted": False, "reason": reason}


async def notify_gateways_trust_changed(ctx: ApiContext) -> None:
    """Tell every gateway to fetch the new CRL now (they also poll)."""
    items, _ = await ctx.store.list("Gateway")
    refs = [GatewayRef(g["metadata"]["name"], g["spec"]["endpoint"]) for g in items
            if g["spec"].get("endpoint")]

    async def one(gw: GatewayRef) -> None:
        try:
            await ctx.gateways.refresh_trust(gw)
        except (GatewayRefused, GatewayUnavailable) as exc:
            log.info("gateway %s not told about the new CRL (it will poll): %s", gw.name, exc)

    await asyncio.gather(*(one(gw) for gw in refs))


async def revoke_device(ctx: ApiContext, name: str, reason: str) -> dict[str, Any]:
    dev = await ctx.store.get("Device", name)
    status = dev.get("status") or {}
    if serial := (status.get("certificate") or {}).get("serial"):
        ctx.pki.platform.revoke(int(serial))
    if serial := status.get("bootstrapSerial"):
        ctx.pki.factory.revoke(int(serial))
    dev = await ctx.store.patch_status("Device", name, {
        "revoked": True, "revokedAt": iso(), "revocationReason": reason})
    await notify_gateways_trust_changed(ctx)
    return dev


async def enroll(ctx: ApiContext, req: EnrollmentRequest) -> dict[str, Any]:
    try:
        der = normalize_public_key(req.publicKey)
    except KeyError_ as exc:
        return reject(str(exc))
    b64 = base64.b64encode(der).decode()
    fp = fingerprint(der)
    items, _ = await ctx.store.list("Device", f"{FINGERPRINT_LABEL}={fp}")
    device = next((d for d in items if d["spec"].get("publicKey") == b64), None)
    if device is not None:
        name = device["metadata"]["name"]
        status = device.get("status") or {}
        if status.get("revoked") or device["metadata"].get("deletionTimestamp"):
            return reject(f"device {name} is revoked; delete it and register it again "
                          "to re-admit it")
        current = status.get("certificate") or {}
        if current.get("der") and (parse_iso(current.get("notAfter")) or 0) > time.time() + 60:
            # enrolling again with the same key (say its answer was lost): same certificate,
            # so nothing is revoked and no CRL changes
            return {"accepted": True, "deviceId": name, "certificate": current["der"]}
        old_serial = current.get("serial")
    elif ctx.pairing.enabled:
        name = f"dev-{fp[:12]}"
        old_serial = None
    else:
        return reject("unknown device: no registered Device has this public key and pairing "
                      "mode is off; register it (`wasmbed device add NAME --public-key FILE`) "
                      "or enable pairing mode")
    key = serialization.load_der_public_key(der)
    assert isinstance(key, ec.EllipticCurvePublicKey)
    cert = ctx.pki.platform.issue(name, key,
                                  lifetime=dt.timedelta(seconds=ctx.cert_lifetime_s))
    if old_serial:  # a device that enrolls again loses its previous certificate
        ctx.pki.platform.revoke(int(old_serial))
    der_cert = cert.public_bytes(serialization.Encoding.DER)
    enrolled = {
        "certificate": {"serial": str(cert.serial_number),
                        "notAfter": iso(cert.not_valid_after_utc.timestamp()),
                        "der": base64.b64encode(der_cert).decode()},
        "bootstrapSerial": req.bootstrapSerial,
        "enrolledAt": iso(), "enrolledVia": req.gateway,
        "capabilities": req.capabilities, "firmwareVersion": req.firmwareVersion,
        "board": req.board,
    }
    if device is None:  # admitted by pairing mode: created with its certificate, one write
        labels = {FINGERPRINT_LABEL: fp, "wasmbed.github.io/board": req.board}
        obj = new_resource("Device", name, {"publicKey": b64, "mcuType": req.board,
                                            "deviceType": "unknown", "architecture": "wasm32"},
                           labels)
        obj["status"] = enrolled
        await ctx.store.create(obj)
    else:
        await ctx.store.patch_status("Device", name, enrolled)
    if old_serial:
        await notify_gateways_trust_changed(ctx)
    return {"accepted": True, "deviceId": name,
            "certificate": enrolled["certificate"]["der"]}


async def device_exists(ctx: ApiContext, name: str) -> bool:
    try:
        await ctx.store.get("Device", name)
        return True
    except NotFound:
        return False
