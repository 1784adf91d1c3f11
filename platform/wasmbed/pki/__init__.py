"""PKI for the fleet: ECDSA P-256 CAs, gateway and device certificates, revocation (CRLs).

Two CAs, by design: the *factory* CA signs bootstrap identities burnt into devices (they
may only enroll); the *platform* CA signs gateway server certs and operational device
certs issued at enrollment. The gateway trusts both for client auth and tells them apart
by issuer.
"""

from wasmbed.pki.ca import CertificateAuthority, Identity, spki_der
from wasmbed.pki.layout import PkiLayout

__all__ = ["CertificateAuthority", "Identity", "PkiLayout", "spki_der"]
