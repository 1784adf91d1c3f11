"""The provisioning blob a factory writes into a device's flash, and the emulators load at
the board's provisioning address.

    "WBP1" | u32 big-endian length | CBOR map:
      0 device name   1 key (SEC1 DER)   2 bootstrap cert (DER)   3 platform CA cert (DER)
      4 gateway name  5 RNG seed (32 B)  6 time (unix s)          7 public key (SPKI DER)
      8 wasm RAM      9 max module size

The RNG seed exists because QEMU's STM32 has no hardware RNG: the firmware seeds its DRBG
from it (mixed with its uptime), so each provisioned device has its own stream.
"""

from __future__ import annotations

import os
import struct
import time
from pathlib import Path

import cbor2
from cryptography.hazmat.primitives import serialization

from wasmbed.pki import CertificateAuthority, Identity
from wasmbed.pki.ca import spki_der

MAGIC = b"WBP1"


def build_blob(name: str, identity: Identity, platform_ca: CertificateAuthority,
               gateway_name: str, *, wasm_ram: int = 72 * 1024,
               max_module_size: int = 32 * 1024, seed: bytes | None = None,
               now: float | None = None) -> bytes:
    key = identity.key.private_bytes(serialization.Encoding.DER,
                                     serialization.PrivateFormat.TraditionalOpenSSL,
                                     serialization.NoEncryption())
    body = cbor2.dumps({
        0: name, 1: key, 2: identity.cert_der,
        3: platform_ca.cert.public_bytes(serialization.Encoding.DER),
        4: gateway_name, 5: seed or os.urandom(32), 6: int(now or time.time()),
        7: spki_der(identity.key.public_key()), 8: wasm_ram, 9: max_module_size,
    }, canonical=True)
    return MAGIC + struct.pack(">I", len(body)) + body


def write_blob(path: Path, name: str, factory: CertificateAuthority,
               platform_ca: CertificateAuthority, gateway_name: str, **kwargs: object) \
        -> tuple[Path, str]:
    """Issue a bootstrap identity and write its blob; returns (path, public key base64)."""
    import base64

    identity = factory.issue_identity(f"bootstrap-{name}")
    path.write_bytes(build_blob(name, identity, platform_ca, gateway_name, **kwargs))  # type: ignore[arg-type]
    return path, base64.b64encode(spki_der(identity.key.public_key())).decode()
