"""Resource store: one contract (`Store`), an embedded SQLite backend and a Kubernetes one
(`wasmbed.store.kubernetes`, imported on demand: it pulls in the Kubernetes client)."""

from wasmbed.store.base import (
    API_VERSION,
    KINDS,
    AlreadyExists,
    Conflict,
    Gone,
    Invalid,
    NotFound,
    Store,
    StoreError,
    WatchEvent,
    new_resource,
)
from wasmbed.store.embedded import EmbeddedStore
from wasmbed.store.selectors import LabelSelector, SelectorError

__all__ = [
    "API_VERSION", "KINDS", "AlreadyExists", "Conflict", "EmbeddedStore", "Gone", "Invalid",
    "LabelSelector", "NotFound", "SelectorError", "Store", "StoreError", "WatchEvent",
    "new_resource",
]
