"""Names and labels: the rules every resource name, path parameter and label follows, on
the embedded store and in Kubernetes alike."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import Path
from pydantic import AfterValidator

NAME = r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$"
# A resource name in a URL path: the rules of the body's `name` (a DNS subdomain, short).
ResourceName = Annotated[str, Path(pattern=NAME, max_length=63,
                                   description="resource name (lowercase, digits, - and .)")]

# Kubernetes' label rules: key = optional DNS-subdomain prefix (<= 253) + "/" + name (<= 63),
# value <= 63; names and values start and end alphanumeric, with - _ . inside.
_LABEL_NAME = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$")
_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
MAX_LABELS = 64


def check_labels(labels: dict[str, str]) -> dict[str, str]:
    """Kubernetes label syntax, so labels mean the same on the embedded store and in etcd."""
    if len(labels) > MAX_LABELS:
        raise ValueError(f"at most {MAX_LABELS} labels")
    for key, value in labels.items():
        prefix, _, name = key.rpartition("/")
        if not name or len(name) > 63 or not _LABEL_NAME.match(name):
            raise ValueError(f"label key {key[:80]!r}: the name part must be 1-63 characters, "
                             "alphanumeric at both ends, with - _ . inside")
        if prefix and (len(prefix) > 253 or not _DNS_SUBDOMAIN.match(prefix)):
            raise ValueError(f"label key {key[:80]!r}: the prefix must be a DNS subdomain of "
                             "at most 253 characters")
        if len(value) > 63 or not _LABEL_NAME.match(value):
            raise ValueError(f"label {key[:80]!r}: the value must be at most 63 characters, "
                             "empty or alphanumeric at both ends, with - _ . inside")
    return labels


Labels = Annotated[dict[str, str], AfterValidator(check_labels)]
