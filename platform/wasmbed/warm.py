"""Imported by the fork server that starts `wasmbed` services for scenarios (see
FORKSERVER_PRELOAD in wasmbed.processes): it loads, once, what each service would otherwise
import or build as it starts, so every service forked from it starts without that cost.
Nothing here changes behaviour: a service started as a plain process does the same work
itself, on demand."""

from __future__ import annotations

import importlib

from wasmbed.api.app import prebuild
from wasmbed.http_trust import default_trust

# What a service imports lazily on its way to ready (found by diffing sys.modules at ready
# against the preloaded set): the HTTP client's transport, uvicorn's protocol modules and
# the asyncio backend of anyio.
LAZY_IMPORTS = ["anyio._backends._asyncio", "certifi", "httpcore", "h11",
                "uvicorn.lifespan.off", "uvicorn.protocols.http.h11_impl",
                "uvicorn.protocols.http.auto", "uvicorn.protocols.websockets.auto",
                "uvicorn.protocols.websockets.websockets_sansio_impl", "websockets.server",
                "cryptography.hazmat.backends.openssl.backend"]

for _name in LAZY_IMPORTS:
    importlib.import_module(_name)
default_trust()
prebuild()
