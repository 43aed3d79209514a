"""Request ids and one access-log line per request (pure ASGI, no body buffering).

The path is logged as the app saw it (percent-decoded); the log formatter of
:mod:`httpkit.logs` escapes the control characters a path may carry."""

from __future__ import annotations

import logging
import re
import secrets
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["RequestLogMiddleware"]

log = logging.getLogger("httpkit.access")
# A caller's id is echoed in a header and the log: ASCII letters and digits only
# (str.isalnum() would take any script's), and a bounded length.
_REQUEST_ID = re.compile(r"[A-Za-z0-9]{8,64}")


class RequestLogMiddleware:
    """Adds ``X-Request-Id`` and logs method, path, status and duration (never bodies)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        rid = incoming if _REQUEST_ID.fullmatch(incoming) else secrets.token_hex(8)
        scope["request_id"] = rid
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
            log.info(
                "%s %s %s %.1fms rid=%s",
                scope["method"],
                scope["path"],
                status,
                (time.perf_counter() - started) * 1000,
                rid,
            )
