"""The backend ASGI app (``miniprogram_api.app:app``): routes, middleware, handlers, lifespan."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.middleware import Middleware

from httpkit import Operation, build_openapi, exception_handlers, openapi_route, route
from httpkit.app import runtime_lifespan
from httpkit.health import health_operations
from httpkit.metrics import metrics_route
from httpkit.middleware import RequestLogMiddleware
from miniprogram_api import (
    authority,
    authority_figures,
    authority_sharing,
    console,
    holder,
    holder_enterprises,
    holder_licences,
    holder_review,
    holder_subscriptions,
    presentations,
    share,
    sharing,
)
from wallet.clock import Clock
from wallet.jws_payloads import JWS_SCHEMAS
from wallet.licences.face_schema import face_schemas
from wallet.settings import Settings

__all__ = ["app", "create_app", "openapi_document", "operations"]

TITLE = "Road-transport e-licence wallet: backend API"
VERSION = "0.1.0"


def operations() -> list[Operation]:
    """Every operation of the backend, in document order (health probes excluded)."""
    return [
        *authority.operations(),
        *authority_figures.operations(),
        *holder.operations(),
        *holder_licences.operations(),
        *holder_enterprises.operations(),
        *holder_review.operations(),
        *holder_subscriptions.operations(),
        *presentations.operations(),
        *authority_sharing.operations(),
        *sharing.operations(),
        *share.operations(),
    ]


def openapi_document() -> dict[str, object]:
    return build_openapi(
        TITLE,
        VERSION,
        [*health_operations(), *operations()],
        "Mini-program (/api), authority (/authority) and sharing (/share) APIs.",
        {**face_schemas(), **JWS_SCHEMAS},
    )


def create_app(settings: Settings | None = None, clock: Clock | None = None) -> Starlette:
    """The backend app; settings are read when the lifespan starts if not given."""
    ops = [*health_operations(), *operations()]
    return Starlette(
        routes=[
            *map(route, ops),
            openapi_route("/openapi.json", openapi_document),
            metrics_route("/metrics"),
            *console.routes(),
        ],
        middleware=[Middleware(RequestLogMiddleware)],
        exception_handlers=exception_handlers,
        lifespan=runtime_lifespan(settings, clock),
    )


app = create_app()
