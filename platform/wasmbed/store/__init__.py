"""Resource store: one contract (`Store`), an embedded SQLite backend, later Kubernetes."""

from wasmbed.store.base import (
    API_VERSION,
    KINDS,
    AlreadyExists,
    Conflict,
    Gone,
    NotFound,
    Store,
    StoreError,
    WatchEvent,
    new_resource,
)
from wasmbed.store.embedded import EmbeddedStore
from wasmbed.store.selectors import LabelSelector, SelectorError

__all__ = [
    "API_VERSION", "KINDS", "AlreadyExists", "Conflict", "EmbeddedStore", "Gone",
    "LabelSelector", "NotFound", "SelectorError", "Store", "StoreError", "WatchEvent",
    "new_resource",
]
