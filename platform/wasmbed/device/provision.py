"""Factory provisioning of a device identity: what the harness burns into a device.

    <dir>/bootstrap.key, bootstrap.pem   key + bootstrap cert signed by a factory CA
    <dir>/ca.pem                         the platform CA (to verify the gateway)
"""

from __future__ import annotations

import base64
from pathlib import Path

from wasmbed.pki.ca import CertificateAuthority, spki_der


def provision(directory: Path, name: str, factory: CertificateAuthority,
              platform_ca_pem: bytes) -> str:
    """Create the identity; returns the public key as base64 SPKI DER (for registration)."""
    ident = factory.issue_identity(f"bootstrap-{name}")
    ident.save(directory, "bootstrap")
    (directory / "ca.pem").write_bytes(platform_ca_pem)
    (directory / "name").write_text(name)
    return base64.b64encode(spki_der(ident.key.public_key())).decode()


def public_key_b64(directory: Path) -> str:
    from cryptography import x509

    cert = x509.load_pem_x509_certificate((directory / "bootstrap.pem").read_bytes())
    return base64.b64encode(spki_der(cert.public_key())).decode()  # type: ignore[arg-type]
