"""Both apps in one process (``wallet serve``, embedded defaults).

Backend and verifier routes share one runtime; ``/openapi.json`` is the
backend's document and ``/verifier/openapi.json`` the verifier's, and the
metrics of the process answer at both ``/metrics`` and ``/verifier/metrics``.
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.middleware import Middleware

import miniprogram_api.app as backend
import miniprogram_api.console as console
import verifier.app as verifier
import verifier.web as scanner
from httpkit import exception_handlers, openapi_route, route
from httpkit.app import runtime_lifespan
from httpkit.health import health_operations
from httpkit.metrics import metrics_route
from httpkit.middleware import RequestLogMiddleware
from wallet.clock import Clock
from wallet.settings import Settings

__all__ = ["create_app"]


def create_app(settings: Settings | None = None, clock: Clock | None = None) -> Starlette:
    ops = [*health_operations(), *backend.operations(), *verifier.operations()]
    return Starlette(
        routes=[
            *map(route, ops),
            openapi_route("/openapi.json", backend.openapi_document),
            openapi_route("/verifier/openapi.json", verifier.openapi_document),
            *scanner.routes(),
            *console.routes(),
            metrics_route("/metrics"),
            metrics_route("/verifier/metrics"),
        ],
        middleware=[Middleware(RequestLogMiddleware)],
        exception_handlers=exception_handlers,
        lifespan=runtime_lifespan(settings, clock, aggregate=True, notify=True),
    )
