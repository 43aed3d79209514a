"""The verifier ASGI app (``verifier.app:app``): routes, middleware, handlers, lifespan."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.middleware import Middleware

from httpkit import Operation, build_openapi, exception_handlers, openapi_route, route
from httpkit.app import runtime_lifespan
from httpkit.health import health_operations
from httpkit.metrics import metrics_route
from httpkit.middleware import RequestLogMiddleware
from verifier import endpoints, web
from wallet.clock import Clock
from wallet.jws_payloads import JWS_SCHEMAS
from wallet.licences.face_schema import face_schemas
from wallet.settings import Settings

__all__ = ["app", "create_app", "openapi_document", "operations"]

TITLE = "Road-transport e-licence wallet: verifier API"
VERSION = "0.1.0"


def operations() -> list[Operation]:
    """Every operation of the verifier (health probes excluded)."""
    return endpoints.operations()


def openapi_document() -> dict[str, object]:
    return build_openapi(
        TITLE,
        VERSION,
        [*health_operations(), *operations()],
        "Officer sign-in, QR verification, trust list and status lists.",
        {**face_schemas(), **JWS_SCHEMAS},
    )


def create_app(settings: Settings | None = None, clock: Clock | None = None) -> Starlette:
    """The verifier app; settings are read when the lifespan starts if not given."""
    ops = [*health_operations(), *operations()]
    return Starlette(
        routes=[
            *map(route, ops),
            openapi_route("/openapi.json", openapi_document),
            metrics_route("/metrics"),
            *web.routes(),
        ],
        middleware=[Middleware(RequestLogMiddleware)],
        exception_handlers=exception_handlers,
        lifespan=runtime_lifespan(settings, clock),
    )


app = create_app()
