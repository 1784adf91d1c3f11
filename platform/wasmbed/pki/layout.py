"""The PKI directory of one Wasmbed installation and the TLS contexts built from it.

    <root>/factory/ca.{key,pem}     signs bootstrap device identities
    <root>/platform/ca.{key,pem}    signs gateway and operational device certs
    <root>/gateways/<name>.{key,pem}

The API server owns <root> (it signs at enrollment and keeps revocations); gateways get
only their own identity, the two CA certs and the CRLs.
"""

from __future__ import annotations

import functools
import os
import ssl
from pathlib import Path

from cryptography import x509

from wasmbed.pki.ca import CertificateAuthority, Identity


class PkiLayout:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    @property
    def exists(self) -> bool:
        return (self.root / "platform" / "ca.pem").exists()

    def init(self) -> PkiLayout:
        """Create both CAs unless they exist (idempotent)."""
        if not (self.root / "factory" / "ca.pem").exists():
            CertificateAuthority.create(self.root / "factory", "Wasmbed Factory CA")
        if not self.exists:
            CertificateAuthority.create(self.root / "platform", "Wasmbed Platform CA")
        return self

    @functools.cached_property
    def factory(self) -> CertificateAuthority:
        return CertificateAuthority.load(self.root / "factory")

    @functools.cached_property
    def platform(self) -> CertificateAuthority:
        return CertificateAuthority.load(self.root / "platform")

    def gateway_identity(self, name: str, hosts: tuple[str, ...] = ("127.0.0.1",)) -> Identity:
        """The gateway's server identity, issued on first use."""
        directory = self.root / "gateways"
        if (directory / f"{name}.pem").exists():
            return Identity.load(directory, name)
        ips = tuple(h for h in hosts if h.replace(".", "").isdigit() or ":" in h)
        dns = tuple(h for h in hosts if h not in ips) + (name, "localhost")
        ident = self.platform.issue_identity(name, server=True, dns_names=dns, ip_addresses=ips)
        ident.save(directory, name)
        return ident

    def trust_bundle_pem(self) -> bytes:
        return self.factory.cert_pem + self.platform.cert_pem


def is_bootstrap(cert: x509.Certificate, factory_ca: x509.Certificate) -> bool:
    return cert.issuer == factory_ca.subject


def server_context(
    identity_files: tuple[Path, Path], trust_pem: bytes, crls_pem: bytes, crl_file: Path
) -> ssl.SSLContext:
    """TLS 1.3-only server context that requires a client cert and checks leaf CRLs.

    OpenSSL (through Python) loads CRLs only from a file, hence `crl_file`."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    ctx.maximum_version = ssl.TLSVersion.TLSv1_3
    ctx.verify_mode = ssl.CERT_REQUIRED
    ctx.num_tickets = 0  # devices never resume sessions: tickets are bytes on a slow UART
    ctx.load_cert_chain(str(identity_files[0]), str(identity_files[1]))
    ctx.load_verify_locations(cadata=trust_pem.decode())
    if crls_pem:
        tmp = crl_file.with_suffix(".tmp")
        tmp.write_bytes(crls_pem)
        os.replace(tmp, crl_file)
        ctx.load_verify_locations(cafile=str(crl_file))
        ctx.verify_flags |= ssl.VERIFY_CRL_CHECK_LEAF
    return ctx


def client_context(identity_files: tuple[Path, Path], ca_pem: bytes) -> ssl.SSLContext:
    """TLS 1.3-only client context presenting a device identity, trusting the platform CA."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    ctx.maximum_version = ssl.TLSVersion.TLSv1_3
    ctx.load_cert_chain(str(identity_files[0]), str(identity_files[1]))
    ctx.load_verify_locations(cadata=ca_pem.decode())
    return ctx
