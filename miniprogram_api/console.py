"""The authority's console (``/console/``): its page and the JSON API the page calls.

Authority users sign in with a username and password (``wallet authority
add-user``); the session is an ``HttpOnly``, ``Secure``, ``SameSite=Strict``
cookie scoped to ``/console``, and every ``POST`` and ``DELETE`` must carry the
session's CSRF token in ``X-CSRF-Token``. Each endpoint calls the same service
method as the signed authority API (claims review, registry search and status
changes), in the user's division, with the user as the audited actor: the
console adds no other way in. Its document is ``/console/openapi.json``.
"""

from __future__ import annotations

import re
from pathlib import Path

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from httpkit.operations import (
    Operation,
    Param,
    build_openapi,
    json_response,
    openapi_route,
    parse_body,
    parse_query,
    route,
)
from httpkit.web import page_routes
from wallet.claims.schemas import RejectIn, ReviewOut, ReviewQuery
from wallet.console.figures import monthly_figures
from wallet.console.schemas import (
    ConsoleSessionOut,
    ConsoleSignIn,
    ConsoleUserOut,
    FiguresSeries,
    FiguresSeriesQuery,
    LicenceDetail,
    LicenceFace,
    QueuePage,
)
from wallet.console.service import ConsoleUser, csrf_token
from wallet.errors import Forbidden, NotFound, Unauthorized
from wallet.licences.schemas import LicenceOut, LicencePage, SearchIn, StatusIn
from wallet.licences.search import division_scope
from wallet.officers.throttle import source_of
from wallet.runtime import Runtime
from wallet.schemas import REF_PATTERN, UUID_PATTERN
from wallet.uow import UnitOfWork, read_only, unit_of_work

__all__ = ["CONSOLE_DIR", "COOKIE", "openapi_document", "operations", "routes"]

COOKIE = "rtel_console"
CONSOLE_DIR = Path(__file__).parent / "static" / "console"
_TOKEN = re.compile(r"[A-Za-z0-9_-]{43}")
_CHANGES = frozenset({"POST", "DELETE", "PUT", "PATCH"})


def _cookie_token(request: Request) -> str:
    token = request.cookies.get(COOKIE, "")
    if not _TOKEN.fullmatch(token):
        raise Unauthorized("sign in to the console")
    return token


async def _user(request: Request, runtime: Runtime, uow: UnitOfWork) -> ConsoleUser:
    """The signed-in user; state-changing methods must also carry the CSRF token."""
    token = _cookie_token(request)
    if request.method in _CHANGES:
        runtime.console.check_csrf(token, request.headers.get("x-csrf-token"))
    return await runtime.console.session(uow, token)


def _session_out(user: ConsoleUser, token: str, expires_in: int | None = None) -> ConsoleSessionOut:
    return ConsoleSessionOut(
        user=ConsoleUserOut(
            username=user.username,
            name=user.name,
            division=user.division,
            role=user.role,  # type: ignore[arg-type]
        ),
        csrf_token=csrf_token(token),
        expires_in=expires_in,
    )


async def sign_in(request: Request) -> Response:
    runtime: Runtime = request.state.runtime
    data = await parse_body(request, ConsoleSignIn, 4096)
    source = source_of(request.client.host if request.client else None)
    async with unit_of_work() as uow:
        token, user = await runtime.console.sign_in(uow, data.username, data.password, source)
    ttl = runtime.console.session_ttl
    response = json_response(_session_out(user, token, ttl), 201)
    response.set_cookie(
        COOKIE, token, max_age=ttl, path="/console", secure=True, httponly=True, samesite="strict"
    )
    return response


async def current_session(request: Request) -> Response:
    runtime: Runtime = request.state.runtime
    token = _cookie_token(request)
    async with read_only() as uow:
        user = await runtime.console.session(uow, token)
    return json_response(_session_out(user, token))


async def sign_out(request: Request) -> Response:
    runtime: Runtime = request.state.runtime
    token = _cookie_token(request)
    runtime.console.check_csrf(token, request.headers.get("x-csrf-token"))
    async with unit_of_work() as uow:
        await runtime.console.sign_out(uow, token)
    response = Response(status_code=204)
    response.delete_cookie(COOKIE, path="/console", secure=True, httponly=True, samesite="strict")
    return response


async def queue(request: Request) -> Response:
    runtime: Runtime = request.state.runtime
    query = parse_query(request, ReviewQuery)
    async with read_only() as uow:
        user = await _user(request, runtime, uow)
        page = await runtime.claims.pending(uow, division_scope(user.division), query)
    items = [
        item.model_copy(update={"photo_url": f"/console/api/claims/{item.id}/photo"})
        for item in page.items
    ]
    return json_response(QueuePage(items=items, next_cursor=page.next_cursor))


async def claim_photo(request: Request) -> Response:
    runtime: Runtime = request.state.runtime
    async with read_only() as uow:
        user = await _user(request, runtime, uow)
        image = await runtime.claims.photo(
            uow, division_scope(user.division), request.path_params["claim_id"]
        )
    return Response(image, media_type="image/jpeg")


async def approve(request: Request) -> Response:
    runtime: Runtime = request.state.runtime
    async with unit_of_work() as uow:
        user = await _user(request, runtime, uow)
        out = await runtime.claims.approve(
            uow, user.actor, division_scope(user.division), request.path_params["claim_id"]
        )
    return json_response(out)


async def reject(request: Request) -> Response:
    runtime: Runtime = request.state.runtime
    async with unit_of_work() as uow:
        user = await _user(request, runtime, uow)
        reason = await parse_body(request, RejectIn, 4096)
        out = await runtime.claims.reject(
            uow, user.actor, division_scope(user.division), request.path_params["claim_id"], reason
        )
    return json_response(out)


async def search(request: Request) -> Response:
    runtime: Runtime = request.state.runtime
    async with read_only() as uow:
        user = await _user(request, runtime, uow)
        query = await parse_body(request, SearchIn, 4096)
        items, cursor = await runtime.registry.search(
            uow, query, scope=division_scope(user.division)
        )
    return json_response(LicencePage(items=items, next_cursor=cursor))


async def licence_face(request: Request) -> Response:
    runtime: Runtime = request.state.runtime
    async with read_only() as uow:
        user = await _user(request, runtime, uow)
        out = await runtime.licence_desk.face(uow, user, request.path_params["ref"])
    return json_response(out)


async def licence_detail(request: Request) -> Response:
    runtime: Runtime = request.state.runtime
    async with read_only() as uow:
        user = await _user(request, runtime, uow)
        out = await runtime.licence_desk.detail(uow, user, request.path_params["ref"])
    return json_response(out)


async def change_status(request: Request) -> Response:
    runtime: Runtime = request.state.runtime
    async with unit_of_work() as uow:
        user = await _user(request, runtime, uow)
        if not user.unmasked:
            raise Forbidden("only supervisors change licence statuses")
        change = await parse_body(request, StatusIn, 4096)
        licence = await runtime.registry.change_status(
            uow,
            request.path_params["ref"],
            change,
            actor=user.actor,
            scope=division_scope(user.division),
        )
    return json_response(runtime.registry.view(licence))


async def figures(request: Request) -> Response:
    runtime: Runtime = request.state.runtime
    query = parse_query(request, FiguresSeriesQuery)
    async with read_only() as uow:
        user = await _user(request, runtime, uow)
        out = await monthly_figures(
            runtime.figures,
            uow,
            division=query.division or user.division,
            scope=division_scope(user.division),
            months=query.months,
        )
    return json_response(out)


_CLAIM = Param(
    "claim_id",
    "path",
    "claim id",
    {"type": "string", "format": "uuid", "pattern": UUID_PATTERN},
    missing=NotFound,
)
_REF = Param(
    "ref",
    "path",
    "opaque licence reference",
    {"type": "string", "pattern": REF_PATTERN},
    missing=NotFound,
)
_CSRF = "Send the session's CSRF token as `X-CSRF-Token` (403 `csrf_refused` otherwise)."


def operations() -> list[Operation]:
    """Every endpoint of the console's JSON API."""
    tags = ("console",)
    jpeg = {"type": "string", "contentMediaType": "image/jpeg", "contentEncoding": "binary"}
    return [
        Operation(
            "POST",
            "/console/api/session",
            sign_in,
            "Authority user sign-in",
            "Argon2id password check, throttled by source and username (429 with "
            "`Retry-After`). Sets the session cookie (HttpOnly, Secure, SameSite=Strict, "
            "path /console) and answers the CSRF token.",
            tags,
            ConsoleSignIn,
            ConsoleSessionOut,
            201,
            (401, 429),
        ),
        Operation(
            "GET",
            "/console/api/session",
            current_session,
            "The signed-in user and the session's CSRF token",
            tags=tags,
            response_model=ConsoleSessionOut,
            errors=(401,),
            security="console",
        ),
        Operation(
            "DELETE",
            "/console/api/session",
            sign_out,
            "Sign out",
            _CSRF,
            tags,
            status=204,
            errors=(401, 403),
            security="console",
        ),
        Operation(
            "GET",
            "/console/api/claims",
            queue,
            "Claims waiting for photo review in the user's division (oldest first)",
            "The same queue as `GET /authority/v1/claims`; keyset pagination.",
            tags,
            None,
            QueuePage,
            200,
            (401, 422),
            security="console",
            query_model=ReviewQuery,
        ),
        Operation(
            "GET",
            "/console/api/claims/{claim_id}/photo",
            claim_photo,
            "The photo sent with a claim (re-encoded JPEG)",
            tags=tags,
            errors=(401, 403, 404),
            params=(_CLAIM,),
            security="console",
            response_media_type="image/jpeg",
            response_schema=jpeg,
        ),
        Operation(
            "POST",
            "/console/api/claims/{claim_id}/approve",
            approve,
            "Approve a claim's photo",
            "The holder is told by WeChat subscribe message. " + _CSRF,
            tags,
            None,
            ReviewOut,
            200,
            (401, 403, 404, 409),
            (_CLAIM,),
            security="console",
        ),
        Operation(
            "POST",
            "/console/api/claims/{claim_id}/reject",
            reject,
            "Reject a claim's photo, with a reason",
            "The holder is told the reason by WeChat subscribe message. " + _CSRF,
            tags,
            RejectIn,
            ReviewOut,
            200,
            (401, 403, 404, 409),
            (_CLAIM,),
            security="console",
        ),
        Operation(
            "POST",
            "/console/api/licences/search",
            search,
            "Find licences by number, ID number, USCC or plate (exact match)",
            "Identifiers travel in the body, never in a URL. " + _CSRF,
            tags,
            SearchIn,
            LicencePage,
            200,
            (401, 403),
            security="console",
        ),
        Operation(
            "GET",
            "/console/api/licences/{ref}/face",
            licence_face,
            "A licence and its current face (masked for reviewers)",
            tags=tags,
            response_model=LicenceFace,
            errors=(401, 404),
            params=(_REF,),
            security="console",
        ),
        Operation(
            "GET",
            "/console/api/licences/{ref}",
            licence_detail,
            "The licence page: face, versions with seal check, status history, verifications",
            tags=tags,
            response_model=LicenceDetail,
            errors=(401, 404),
            params=(_REF,),
            security="console",
        ),
        Operation(
            "POST",
            "/console/api/licences/{ref}/status",
            change_status,
            "Suspend, revoke, cancel or reinstate a licence (supervisors)",
            "The same change as `POST /authority/v1/licences/{ref}/status`. " + _CSRF,
            tags,
            StatusIn,
            LicenceOut,
            200,
            (401, 403, 404, 409),
            (_REF,),
            security="console",
        ),
        Operation(
            "GET",
            "/console/api/figures",
            figures,
            "The four rates of a division: all time, and month by month",
            "The same figures as `GET /authority/v1/figures`: the all-time report (the "
            "division, its cities and counties) and, for each of the last `months` months, "
            "the division's rates of the licences first recorded in that month.",
            tags,
            None,
            FiguresSeries,
            200,
            (401, 403, 422),
            security="console",
            query_model=FiguresSeriesQuery,
        ),
    ]


def openapi_document() -> dict[str, object]:
    return build_openapi(
        "Road-transport e-licence wallet: authority console API",
        "0.1.0",
        operations(),
        "The JSON API of the console page (cookie session and CSRF token).",
    )


def routes() -> list[BaseRoute]:
    """The console's API, its document, and the page under ``/console/``."""
    return [
        *map(route, operations()),
        openapi_route("/console/openapi.json", openapi_document),
        *page_routes("/console", CONSOLE_DIR),
    ]
