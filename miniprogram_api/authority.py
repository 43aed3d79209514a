"""Authority API (``/authority/v1``): the registry feed, status changes and lookups.

Every request is signed (see :mod:`wallet.authority.signing`); a client acts
only inside its division, and a licence outside it answers 404 like a
missing one.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field
from starlette.requests import Request
from starlette.responses import Response

from httpkit.operations import (
    Operation,
    Param,
    json_response,
    parse_json,
    parse_query,
    read_body,
)
from wallet.activation.schemas import ReactivationIn, ReactivationOut
from wallet.authority.signing import AuthenticatedClient, authenticate
from wallet.errors import NotFound
from wallet.licences.schemas import (
    LicenceOut,
    LicencePage,
    SearchIn,
    StatusIn,
    VersionIn,
    VersionOut,
)
from wallet.licences.search import division_scope
from wallet.runtime import Runtime
from wallet.schemas import KIND_PATTERN, REF_PATTERN
from wallet.uow import read_only, unit_of_work

__all__ = ["operations"]

MAX_FEED_BODY = 256 * 1024


async def authenticated_client(
    request: Request, runtime: Runtime, max_bytes: int = MAX_FEED_BODY
) -> tuple[AuthenticatedClient, bytes]:
    """The signed request's client and its body (read once, at most ``max_bytes``)."""
    body = await read_body(request, max_bytes)
    path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    # The nonce commits on its own, before the request is acted on: a replay is
    # refused even when the request itself then fails.
    async with unit_of_work() as uow:
        client = await authenticate(
            uow,
            request.headers,
            request.method,
            path,
            body,
            vault=runtime.vault,
            sm2=runtime.sm2,
            now=runtime.clock.timestamp(),
            skew=runtime.settings.authority_clock_skew,
        )
    return client, body


class ListQuery(BaseModel):
    kind: str | None = Field(default=None, pattern=KIND_PATTERN)
    status: Literal["valid", "suspended", "revoked", "cancelled"] | None = None
    division: str | None = Field(default=None, pattern=r"^[0-9]{6}$")
    cursor: str | None = Field(default=None, pattern=REF_PATTERN, description="a `next_cursor`")
    limit: int = Field(default=50, ge=1, le=500)


async def upsert_version(request: Request) -> Response:
    runtime: Runtime = request.state.runtime
    client, body = await authenticated_client(request, runtime)
    data = parse_json(body, VersionIn)
    async with unit_of_work() as uow:
        result = await runtime.registry.upsert_version(
            uow, data, actor=client.actor, scope=division_scope(client.division)
        )
    return json_response(runtime.registry.view(result.licence), 201 if result.created else 200)


async def change_status(request: Request) -> Response:
    runtime: Runtime = request.state.runtime
    client, body = await authenticated_client(request, runtime, 4096)
    change = parse_json(body, StatusIn)
    async with unit_of_work() as uow:
        licence = await runtime.registry.change_status(
            uow,
            request.path_params["ref"],
            change,
            actor=client.actor,
            scope=division_scope(client.division),
        )
    return json_response(runtime.registry.view(licence))


async def force_reactivation(request: Request) -> Response:
    runtime: Runtime = request.state.runtime
    client, body = await authenticated_client(request, runtime, 4096)
    data = parse_json(body, ReactivationIn)
    async with unit_of_work() as uow:
        result = await runtime.activations.reset(
            uow,
            request.path_params["ref"],
            data.reason,
            actor=client.actor,
            scope=division_scope(client.division),
        )
    return json_response(result)


async def get_licence(request: Request) -> Response:
    runtime: Runtime = request.state.runtime
    client, _ = await authenticated_client(request, runtime, 0)
    async with read_only() as uow:
        licence = await runtime.registry.get(
            uow, request.path_params["ref"], division_scope(client.division)
        )
    return json_response(runtime.registry.view(licence))


async def get_version(request: Request) -> Response:
    runtime: Runtime = request.state.runtime
    client, _ = await authenticated_client(request, runtime, 0)
    async with read_only() as uow:
        licence = await runtime.registry.get(
            uow, request.path_params["ref"], division_scope(client.division)
        )
        version = await runtime.registry.version_view(uow, licence, request.path_params["version"])
    return json_response(version)


async def list_licences(request: Request) -> Response:
    runtime: Runtime = request.state.runtime
    client, _ = await authenticated_client(request, runtime, 0)
    query = parse_query(request, ListQuery)
    async with read_only() as uow:
        items, cursor = await runtime.registry.search(
            uow,
            SearchIn(kind=query.kind, cursor=query.cursor, limit=query.limit),
            status=query.status,
            division=query.division,
            scope=division_scope(client.division),
        )
    return json_response(LicencePage(items=items, next_cursor=cursor))


async def search_licences(request: Request) -> Response:
    runtime: Runtime = request.state.runtime
    client, body = await authenticated_client(request, runtime, 4096)
    query = parse_json(body, SearchIn)
    async with read_only() as uow:
        items, cursor = await runtime.registry.search(
            uow, query, scope=division_scope(client.division)
        )
    return json_response(LicencePage(items=items, next_cursor=cursor))


_REF = Param(
    "ref",
    "path",
    "opaque licence reference",
    {"type": "string", "pattern": REF_PATTERN},
    missing=NotFound,
)
_SIGNED = (400, 401, 403, 404, 409)


def operations() -> list[Operation]:
    tags = ("authority",)
    return [
        Operation(
            "POST",
            "/authority/v1/licence-versions",
            upsert_version,
            "Record a licence version from the registry (idempotent)",
            "Validates the face against the catalogue, resolves the holder, seals "
            "the version with the issuing province's SM2 key. 201 when recorded, 200 "
            "when the same version with the same content was already recorded, 409 when "
            "it exists with other content or the licence is revoked or cancelled.",
            tags,
            VersionIn,
            LicenceOut,
            201,
            _SIGNED,
            security="authority",
            also_status=(200,),
        ),
        Operation(
            "GET",
            "/authority/v1/licences",
            list_licences,
            "List licences (filter by kind, status, division; keyset pagination)",
            tags=tags,
            response_model=LicencePage,
            errors=(401, 422),
            security="authority",
            query_model=ListQuery,
        ),
        Operation(
            "POST",
            "/authority/v1/licences/search",
            search_licences,
            "Find licences by number, ID number, USCC or plate (exact match)",
            "Identifiers travel in the body so that they never reach URLs or logs.",
            tags,
            SearchIn,
            LicencePage,
            200,
            (401,),
            security="authority",
        ),
        Operation(
            "GET",
            "/authority/v1/licences/{ref}",
            get_licence,
            "One licence",
            tags=tags,
            response_model=LicenceOut,
            errors=(401, 404),
            params=(_REF,),
            security="authority",
        ),
        Operation(
            "GET",
            "/authority/v1/licences/{ref}/versions/{version}",
            get_version,
            "One version with its face, canonical document and seal",
            "The seal verifies offline against the trust list: SM2 with SM3 and the "
            "default user id over the UTF-8 bytes of `document`, key `seal_kid`.",
            tags,
            None,
            VersionOut,
            200,
            (401, 404),
            (
                _REF,
                Param(
                    "version",
                    "path",
                    schema={"type": "integer", "minimum": 1, "maximum": 999},
                    missing=NotFound,
                ),
            ),
            security="authority",
        ),
        Operation(
            "POST",
            "/authority/v1/licences/{ref}/status",
            change_status,
            "Suspend, revoke, cancel or reinstate a licence",
            "Revoked and cancelled are final. The live-status cache is updated in the "
            "same request, so the next verification sees the change.",
            tags,
            StatusIn,
            LicenceOut,
            200,
            _SIGNED,
            (_REF,),
            security="authority",
        ),
        Operation(
            "POST",
            "/authority/v1/licences/{ref}/reactivation",
            force_reactivation,
            "Force re-activation of a licence (the holder is told)",
            "Ends the licence's active activation: the device can no longer show it and "
            "its offline credential stops verifying; the holder must activate again. "
            "The holder gets a WeChat subscribe message after commit. Idempotent: with "
            "nothing active it answers 200 with `ended: 0`.",
            tags,
            ReactivationIn,
            ReactivationOut,
            200,
            _SIGNED,
            (_REF,),
            security="authority",
        ),
    ]
