"""How long an idle HTTP/1.1 connection stays open at each end of our own HTTP APIs: the API
server, a gateway's HTTP API and a bridge's fault control, all served by uvicorn, and the
clients that call them.

The client must let go first. A client that sends a request on an idle connection in the
instant the server closes it gets "Server disconnected without sending a response", and
the request is lost; with httpx's and uvicorn's defaults both at 5 s, that instant was
reachable (a fault scenario watched a board's console for 5 s, then asked the API for the
device, and failed so in CI)."""

from __future__ import annotations

import httpx

SERVER_IDLE_S = 5  # uvicorn's timeout_keep_alive (its default, stated)
CLIENT_IDLE_S = 2.0  # well under the server's, for a loaded machine's scheduling


def limits(max_connections: int = 100, max_keepalive_connections: int = 20) -> httpx.Limits:
    """httpx's pool limits (its defaults unless given), with our clients' idle limit."""
    return httpx.Limits(max_connections=max_connections,
                        max_keepalive_connections=max_keepalive_connections,
                        keepalive_expiry=CLIENT_IDLE_S)
