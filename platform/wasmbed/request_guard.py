"""The first thing every HTTP request meets, in front of FastAPI (API server and gateway):
who is calling, may they call this route, and how many body bytes will we accept.

Why an ASGI middleware and not a FastAPI dependency: FastAPI reads and parses the whole
request body before it resolves dependencies, so a bearer-token dependency answers 401 only
after a stranger's 200 MB upload sat in our memory. Here the token is checked from the
headers alone, and the body is never read for a caller we refuse (401/403); a declared
Content-Length over the route's limit is refused (413) before reading, and a streamed body
is cut off the moment it passes the limit. Every answer also carries the security headers a
browser needs for the dashboard (no sniffing, no framing, a content security policy).
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from dataclasses import dataclass
from typing import Any

from wasmbed.credentials import Principal, bearer_token

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

KiB, MiB = 1024, 1024 * 1024
CSP = ("default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; "
       "style-src 'self' 'unsafe-inline'; script-src 'self'; object-src 'none'; "
       "base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
DOCS_CSP = "frame-ancestors 'none'; object-src 'none'; base-uri 'none'"  # Swagger UI's page
SECURITY_HEADERS = [(b"x-content-type-options", b"nosniff"), (b"x-frame-options", b"DENY"),
                    (b"referrer-policy", b"no-referrer"),
                    (b"cross-origin-opener-policy", b"same-origin")]


@dataclass(frozen=True)
class BodyLimit:
    """Requests matching `method` and the path pattern may carry at most `max_bytes`."""

    method: str
    path: str  # regular expression, anchored
    max_bytes: int

    def matches(self, method: str, path: str) -> bool:
        return method == self.method and re.fullmatch(self.path, path) is not None


class RequestGuard:
    def __init__(self, app: ASGIApp, *,
                 authenticate: Callable[[str | None], Principal | None],
                 protected: Callable[[str], bool],
                 allowed: Callable[[Principal, str, str], str | None],
                 limits: Iterable[BodyLimit] = (), default_limit: int = 64 * KiB) -> None:
        """`protected(path)`: the path needs a principal. `allowed(principal, method,
        path)`: None if it may, else why not (a 403)."""
        self.app = app
        self.authenticate = authenticate
        self.protected = protected
        self.allowed = allowed
        self.limits = list(limits)
        self.default_limit = default_limit

    def limit_for(self, method: str, path: str) -> int:
        return next((lim.max_bytes for lim in self.limits if lim.matches(method, path)),
                    self.default_limit)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        send = _with_security_headers(scope["path"], send)
        method, path = scope["method"], scope["path"]
        headers = dict(scope.get("headers") or [])
        if self.protected(path):
            principal = self.authenticate(
                bearer_token(headers.get(b"authorization", b"").decode("latin-1")))
            if principal is None:
                await reject(send, 401, "Unauthorized", "missing or wrong bearer token",
                             "send 'Authorization: Bearer <token>'; the admin token is in the "
                             "API data dir's 'token' file", [(b"www-authenticate", b"Bearer")])
                return
            if (why := self.allowed(principal, method, path)) is not None:
                await reject(send, 403, "Forbidden", why,
                             "use a credential meant for this route")
                return
            scope.setdefault("state", {})["principal"] = principal
        limit = self.limit_for(method, path)
        declared = headers.get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            await reject(send, 413, "PayloadTooLarge",
                         f"the body of {method} {path} may be at most {limit} bytes",
                         "send less: see docs/SECURITY.md for each route's limit")
            return
        await self.app(scope, *_limited(receive, send, limit, method, path))


def _limited(receive: Receive, send: Send, limit: int, method: str,
             path: str) -> tuple[Receive, Send]:
    """receive/send wrappers that cut a streamed body off at `limit` with a 413."""
    state = {"received": 0, "refused": False}

    async def limited_receive() -> Message:
        message = await receive()
        if message["type"] == "http.request" and not state["refused"]:
            state["received"] += len(message.get("body", b""))
            if state["received"] > limit:
                state["refused"] = True
                await reject(send, 413, "PayloadTooLarge",
                             f"the body of {method} {path} may be at most {limit} bytes",
                             "send less: see docs/SECURITY.md for each route's limit")
                return {"type": "http.disconnect"}
        return message

    async def guarded_send(message: Message) -> None:
        if not state["refused"]:  # our 413 already went out
            await send(message)

    return limited_receive, guarded_send


def _with_security_headers(path: str, send: Send) -> Send:
    csp = DOCS_CSP if path.startswith(("/docs", "/redoc")) else CSP

    async def send_with_headers(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = list(message.get("headers") or [])
            present = {k.lower() for k, _ in headers}
            headers += [(k, v) for k, v in SECURITY_HEADERS if k not in present]
            if b"content-security-policy" not in present:
                headers.append((b"content-security-policy", csp.encode()))
            message["headers"] = headers
        await send(message)

    return send_with_headers


async def reject(send: Send, status: int, code: str, message: str, hint: str,
                 headers: list[tuple[bytes, bytes]] | None = None) -> None:
    """Answer with our JSON error shape, without reading the request body."""
    body = json.dumps({"code": code, "message": message, "hint": hint}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close"), *(headers or [])]})
    await send({"type": "http.response.body", "body": body})
