"""One certificate authority on disk: key, certificate, revoked serials and its CRL."""

from __future__ import annotations

import datetime as dt
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CURVE = ec.SECP256R1()


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def new_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(CURVE)


def spki_der(key: ec.EllipticCurvePublicKey) -> bytes:
    return key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def write_secret(path: Path, data: bytes) -> None:
    """Write a file readable by its owner only (keys, tokens)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fp:
        fp.write(data)


@dataclass
class Identity:
    """A private key and the certificate for it (what a gateway or device presents)."""

    key: ec.EllipticCurvePrivateKey
    cert: x509.Certificate

    @property
    def cert_pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)

    @property
    def cert_der(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.DER)

    @property
    def key_pem(self) -> bytes:
        return key_pem(self.key)

    def save(self, directory: Path, stem: str) -> tuple[Path, Path]:
        """Write `<stem>.pem` (cert) and `<stem>.key` (0600); returns their paths."""
        directory.mkdir(parents=True, exist_ok=True)
        cert_path, key_path = directory / f"{stem}.pem", directory / f"{stem}.key"
        cert_path.write_bytes(self.cert_pem)
        write_secret(key_path, self.key_pem)
        return cert_path, key_path

    @classmethod
    def load(cls, directory: Path, stem: str) -> Identity:
        return cls.from_files(directory / f"{stem}.pem", directory / f"{stem}.key")

    @classmethod
    def from_files(cls, cert_path: Path, key_path: Path) -> Identity:
        key = serialization.load_pem_private_key(key_path.read_bytes(), None)
        assert isinstance(key, ec.EllipticCurvePrivateKey)
        return cls(key, x509.load_pem_x509_certificate(cert_path.read_bytes()))


class CertificateAuthority:
    """A CA rooted in `directory` (ca.key, ca.pem, revoked.json)."""

    def __init__(self, directory: Path, identity: Identity) -> None:
        self.directory = directory
        self.identity = identity
        self._crl: tuple[tuple[tuple[int, str], ...], float, bytes] | None = None

    @classmethod
    def create(cls, directory: Path, common_name: str, years: int = 10) -> CertificateAuthority:
        key = new_key()
        name = x509.Name([
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Wasmbed"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ])
        now = utcnow()
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=365 * years))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(False, False, False, False, False, True, True, False, False),
                critical=True,
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
            .sign(key, hashes.SHA256())
        )
        ca = cls(directory, Identity(key, cert))
        ca.identity.save(directory, "ca")
        ca._write_revoked({})
        return ca

    @classmethod
    def load(cls, directory: Path) -> CertificateAuthority:
        return cls(directory, Identity.load(directory, "ca"))

    @property
    def cert(self) -> x509.Certificate:
        return self.identity.cert

    @property
    def cert_pem(self) -> bytes:
        return self.identity.cert_pem

    def issue(
        self,
        common_name: str,
        public_key: ec.EllipticCurvePublicKey,
        *,
        server: bool = False,
        dns_names: tuple[str, ...] = (),
        ip_addresses: tuple[str, ...] = (),
        not_before: dt.datetime | None = None,
        lifetime: dt.timedelta = dt.timedelta(days=365),
    ) -> x509.Certificate:
        """Sign a leaf certificate for `public_key` (client auth, or server auth), valid
        from 5 minutes ago (clock slack) until `lifetime` from now."""
        import ipaddress

        now = utcnow()
        start = not_before or now - dt.timedelta(minutes=5)
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Wasmbed"),
                x509.NameAttribute(NameOID.COMMON_NAME, common_name),
            ]))
            .issuer_name(self.cert.subject)
            .public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(start)
            .not_valid_after((not_before or now) + lifetime)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(True, False, False, False, False, False, False, False, False),
                critical=True,
            )
            .add_extension(
                x509.ExtendedKeyUsage(
                    [ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH]
                ),
                critical=False,
            )
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self.identity.key.public_key()),
                critical=False,
            )
        )
        sans: list[x509.GeneralName] = [x509.DNSName(n) for n in dns_names]
        sans += [x509.IPAddress(ipaddress.ip_address(ip)) for ip in ip_addresses]
        if sans:
            builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
        return builder.sign(self.identity.key, hashes.SHA256())

    def issue_identity(self, common_name: str, **kwargs: object) -> Identity:
        """A fresh key plus a certificate for it (gateways, bootstrap device identities)."""
        key = new_key()
        return Identity(key, self.issue(common_name, key.public_key(), **kwargs))  # type: ignore[arg-type]

    # --- revocation -------------------------------------------------------------------

    def _revoked_path(self) -> Path:
        return self.directory / "revoked.json"

    def revoked(self) -> dict[int, str]:
        """Revoked serials -> revocation time (ISO 8601)."""
        path = self._revoked_path()
        if not path.exists():
            return {}
        return {int(k): v for k, v in json.loads(path.read_text()).items()}

    def _write_revoked(self, revoked: dict[int, str]) -> None:
        tmp = self._revoked_path().with_suffix(".tmp")
        tmp.write_text(json.dumps({str(k): v for k, v in revoked.items()}))
        os.replace(tmp, self._revoked_path())

    def revoke(self, serial: int) -> None:
        revoked = self.revoked()
        revoked.setdefault(serial, utcnow().isoformat())
        self._write_revoked(revoked)

    def crl_pem(self, validity: dt.timedelta = dt.timedelta(days=7)) -> bytes:
        """A signed CRL listing every revoked serial (empty when none). Re-signed only when
        the revocations change or the cached one is an hour old: gateways poll it."""
        revoked = tuple(sorted(self.revoked().items()))
        if self._crl and self._crl[0] == revoked and time.time() - self._crl[1] < 3600:
            return self._crl[2]
        now = utcnow()
        builder = (
            x509.CertificateRevocationListBuilder()
            .issuer_name(self.cert.subject)
            .last_update(now - dt.timedelta(minutes=5))
            .next_update(now + validity)
        )
        for serial, when in revoked:
            builder = builder.add_revoked_certificate(
                x509.RevokedCertificateBuilder()
                .serial_number(serial)
                .revocation_date(dt.datetime.fromisoformat(when))
                .build()
            )
        pem = builder.sign(self.identity.key, hashes.SHA256()).public_bytes(
            serialization.Encoding.PEM)
        self._crl = (revoked, time.time(), pem)
        return pem
