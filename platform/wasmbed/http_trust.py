"""The certificate store our HTTP clients verify servers with, loaded once per process.

httpx loads the certifi bundle for each client it makes (~35 ms); a service makes a few
clients as it starts and the harness one per test, so that load was a visible share of
start-up. A one-shot call (`httpx.get`) makes a client too: pass `verify=default_trust()`
wherever one repeats (a wait loop polling /metrics or /health): 1.8 ms of CPU a call on
loopback instead of 25 (measured). Clients verify the same way as before: this is httpx's
own default context."""

from __future__ import annotations

import functools
import ssl

import httpx


@functools.cache
def default_trust() -> ssl.SSLContext:
    return httpx.create_ssl_context()
