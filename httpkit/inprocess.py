"""Running an app in-process: its real lifespan, its state handed to every request.

What an ASGI server does around an app, for tests and for ``wallet demo``,
which drive the apps through ``httpx.ASGITransport``.
"""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette
from starlette.types import Receive, Scope, Send

__all__ = ["LifespanApp"]


class LifespanApp:
    """``async with LifespanApp(app) as asgi:`` runs the lifespan; ``asgi`` serves requests."""

    def __init__(self, app: Starlette) -> None:
        self.app = app
        self.state: dict[str, Any] = {}

    async def __aenter__(self) -> LifespanApp:
        self._cm = self.app.router.lifespan_context(self.app)
        self.state = dict(await self._cm.__aenter__() or {})
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._cm.__aexit__(None, None, None)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope["state"] = dict(self.state)
        await self.app(scope, receive, send)
