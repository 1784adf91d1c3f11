"""The virtual devices' end: mutual TLS 1.3 through pyOpenSSL, on memory BIOs.

Why not Python's `ssl`: it links the system's OpenSSL (3.0 here), where a client context
costs 1.5 ms of CPU (the PEM key decoder), against 0.25 ms with the OpenSSL that
`cryptography` bundles, which pyOpenSSL drives; a handshake with the gateway costs both
ends 2.5 ms instead of 3.1 (measured in memory, one process). A simulator process stands
in for a thousand boards, each with a CPU of its own: in a 2,000-device enrollment storm
the devices' contexts and handshakes were half of the simulators' CPU, on the two cores
the gateway has too. The identity is handed over in memory, and one context (trust and
versions) serves every device of a process that trusts the same CA.

What it checks is what Python's client context checked: TLS 1.3 only, the gateway's chain
up to the device's CA, and the gateway's name (`server_name`) among its certificate's DNS
names or IP addresses. Names match exactly (our PKI issues no wildcards).
"""

from __future__ import annotations

import asyncio
import functools
import ipaddress
import ssl
from dataclasses import dataclass

from cryptography import x509
from OpenSSL import SSL, crypto

from wasmbed.pki.ca import Identity

from .streams import TlsReader, TlsWriter, handshake


class TlsRefused(ssl.SSLError):
    """A handshake or record that failed on the device's side, or an alert from the
    gateway; `reason` says which, in OpenSSL's words ("sslv3 alert certificate revoked")."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _refused(exc: SSL.Error) -> TlsRefused:
    errors = exc.args[0] if exc.args and isinstance(exc.args[0], list) else []
    reasons = [e[2] for e in errors if isinstance(e, tuple) and len(e) == 3 and e[2]]
    return TlsRefused("; ".join(reasons) or str(exc) or type(exc).__name__)


@functools.lru_cache(maxsize=64)
def _name_matches(cert_der: bytes, name: str) -> bool:
    """Whether the certificate names `name`; remembered per DER: every device of a
    simulator meets the same gateway certificate, and parsing its extensions again at
    each handshake cost ~0.12 ms of CPU."""
    cert = x509.load_der_x509_certificate(cert_der)
    try:
        sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return False
    try:
        ip = ipaddress.ip_address(name)
    except ValueError:
        return name.lower() in (n.lower() for n in sans.get_values_for_type(x509.DNSName))
    return ip in sans.get_values_for_type(x509.IPAddress)


@dataclass
class _NameCheck:
    server_name: str
    failure: str | None = None


def _verify(conn: SSL.Connection, cert: crypto.X509, errnum: int, depth: int, ok: int) -> bool:
    """OpenSSL's verdict on each certificate of the gateway's chain, and at the leaf the
    gateway's name too."""
    if ok and depth == 0:
        check: _NameCheck = conn.get_app_data()
        der = crypto.dump_certificate(crypto.FILETYPE_ASN1, cert)
        if not _name_matches(der, check.server_name):
            check.failure = f"the gateway's certificate is not for {check.server_name!r}"
            return False
    return bool(ok)


@functools.lru_cache(maxsize=16)
def _context(ca_pem: bytes) -> SSL.Context:
    ctx = SSL.Context(SSL.TLS_CLIENT_METHOD)
    ctx.set_min_proto_version(SSL.TLS1_3_VERSION)
    ctx.set_max_proto_version(SSL.TLS1_3_VERSION)
    # The default groups: the gateway's OpenSSL 3.0 picks X25519 among them. Not P-256 only,
    # as the firmware's wolfSSL offers (a 262-byte ClientHello instead of 1,469): OpenSSL 3.0
    # keeps the peer's ephemeral key for the connection's life, and a P-256 one costs the
    # gateway 3.4 KiB more per connection than X25519 (29.2 against 25.7 KiB, measured).
    store = ctx.get_cert_store()
    assert store is not None
    for cert in x509.load_pem_x509_certificates(ca_pem):
        store.add_cert(crypto.X509.from_cryptography(cert))
    ctx.set_verify(SSL.VERIFY_PEER, _verify)
    return ctx


class OpenSSLEngine:
    """`OpenSSL.SSL.Connection` as an `Engine`; its errors become `TlsRefused`."""

    def __init__(self, ca_pem: bytes, identity: Identity, server_name: str) -> None:
        self._conn = SSL.Connection(_context(ca_pem), None)
        self._conn.use_certificate(identity.cert)
        self._conn.use_privatekey(identity.key)
        self._conn.set_tlsext_host_name(server_name.encode())
        self._check = _NameCheck(server_name)
        self._conn.set_app_data(self._check)
        self._conn.set_connect_state()

    @property
    def connection(self) -> SSL.Connection:
        return self._conn

    def _failed(self, exc: SSL.Error) -> TlsRefused:
        return TlsRefused(self._check.failure) if self._check.failure else _refused(exc)

    def feed(self, data: bytes) -> None:
        self._conn.bio_write(data)

    def outgoing(self) -> bytes:
        out = b""
        while True:
            try:
                out += self._conn.bio_read(1 << 18)
            except SSL.WantReadError:
                return out

    def handshake(self) -> bool:
        try:
            self._conn.do_handshake()
        except SSL.WantReadError:
            return False
        except SSL.Error as exc:
            raise self._failed(exc) from None
        return True

    def read(self) -> bytes | None:
        try:
            return self._conn.recv(1 << 16)
        except SSL.WantReadError:
            return b""
        except SSL.ZeroReturnError:
            return None
        except SSL.Error as exc:
            raise self._failed(exc) from None

    def write(self, data: bytes) -> None:
        try:
            self._conn.sendall(data)
        except SSL.Error as exc:
            raise self._failed(exc) from None

    def close_notify(self) -> None:
        try:
            self._conn.shutdown()
        except SSL.Error as exc:
            raise self._failed(exc) from None


async def open_tls(address: tuple[str, int], ca_pem: bytes, identity: Identity,
                   server_name: str, timeout: float) -> tuple[TlsReader, TlsWriter]:
    """Connect and run the client handshake, both within `timeout`."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    reader, writer = await asyncio.wait_for(asyncio.open_connection(*address), timeout)
    engine = OpenSSLEngine(ca_pem, identity, server_name)
    try:
        return await handshake(engine, reader, writer, max(0.0, deadline - loop.time()))
    except BaseException:
        writer.close()
        raise
