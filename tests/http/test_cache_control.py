"""Cache-Control is declared per operation: no-store unless the answer is a public document."""

from __future__ import annotations

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response

import miniprogram_api.app as backend
import verifier.app as verifier
from httpkit import Operation, route
from httpkit.health import health_operations


def test_only_public_documents_opt_out_of_no_store():
    ops = [*health_operations(), *backend.operations(), *verifier.operations()]
    cached = {op.path: op.cache_control for op in ops if op.cache_control != "no-store"}
    assert cached == {
        "/verifier/v1/trust-list": None,
        "/verifier/v1/status-lists/{division}": None,
    }


async def test_the_route_sends_the_declared_header_unless_the_handler_set_one():
    async def plain(request: Request) -> Response:
        return Response(b"secret")

    async def own(request: Request) -> Response:
        return Response(b"x", headers={"Cache-Control": "private, max-age=5"})

    async def public(request: Request) -> Response:
        return Response(b"x")

    app = Starlette(
        routes=[
            route(Operation("GET", "/plain", plain, "plain")),
            route(Operation("GET", "/own", own, "own")),
            route(Operation("GET", "/public", public, "public", cache_control=None)),
        ]
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        assert (await http.get("/plain")).headers["cache-control"] == "no-store"
        assert (await http.get("/own")).headers["cache-control"] == "private, max-age=5"
        assert "cache-control" not in (await http.get("/public")).headers
