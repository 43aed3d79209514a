"""Request ids, one access-log record and the HTTP metrics per request (pure ASGI, no
body buffering).

The access record names the route *template* (``/api/v1/licences/{ref}``),
never the path: a path carries refs and whatever a client typed. The request
id is in :data:`httpkit.logs.REQUEST_ID` while the request runs, so every
record logged on its behalf carries it.
"""

from __future__ import annotations

import logging
import re
import secrets
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from httpkit.logs import REQUEST_ID
from httpkit.metrics import observe_request

__all__ = ["RequestLogMiddleware", "route_template"]

log = logging.getLogger("httpkit.access")
# A caller's id is echoed in a header and the log: ASCII letters and digits only
# (str.isalnum() would take any script's), and a bounded length.
_REQUEST_ID = re.compile(r"[A-Za-z0-9]{8,64}")
_CONVERTOR = re.compile(r"{(\w+):\w+}")
UNMATCHED = "unmatched"


def route_template(scope: Scope) -> str:
    """The template of the route that took the request (``unmatched`` when none did)."""
    path = getattr(scope.get("route"), "path", None)
    if not isinstance(path, str):
        return UNMATCHED
    return _CONVERTOR.sub(r"{\1}", path) if ":" in path else path


class RequestLogMiddleware:
    """Adds ``X-Request-Id``; logs and counts method, route template, status and duration
    (never paths, queries or bodies)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        rid = incoming if _REQUEST_ID.fullmatch(incoming) else secrets.token_hex(8)
        scope["request_id"] = rid
        token = REQUEST_ID.set(rid)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", rid.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            method, route = scope["method"], route_template(scope)
            observe_request(method, route, status, elapsed)
            log.info(
                "%s %s %s %.1fms",
                method,
                route,
                status,
                elapsed * 1000,
                extra={
                    "method": method,
                    "route": route,
                    "status": status,
                    "duration_ms": round(elapsed * 1000, 1),
                },
            )
            REQUEST_ID.reset(token)
