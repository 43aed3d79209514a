"""Holder-side sharing (``/api/v1/grants``, ``/api/v1/share-codes``): grants and codes."""

from __future__ import annotations

from pydantic import BaseModel, Field
from starlette.requests import Request
from starlette.responses import Response

from httpkit.operations import Operation, Param, json_response, parse_body, parse_query
from miniprogram_api.holder_auth import holder_session, runtime_of
from wallet.sharing.errors import GrantNotFound
from wallet.sharing.schemas import (
    GRANT_ID_PATTERN,
    AccessPage,
    GrantIn,
    GrantOut,
    GrantPage,
    ShareCodeIn,
    ShareCodeOut,
)
from wallet.uow import read_only, unit_of_work

__all__ = ["GRANT_PARAM", "operations"]


class GrantQuery(BaseModel):
    cursor: str | None = Field(
        default=None, pattern=GRANT_ID_PATTERN, description="a `next_cursor`"
    )
    limit: int = Field(default=50, ge=1, le=200)


class AccessQuery(BaseModel):
    cursor: int | None = Field(default=None, ge=0, le=2**63 - 1, description="a `next_cursor`")
    limit: int = Field(default=50, ge=1, le=200)


async def create_grant(request: Request) -> Response:
    runtime = runtime_of(request)
    session = await holder_session(request)
    data = await parse_body(request, GrantIn)
    async with unit_of_work() as uow:
        grant = await runtime.sharing.grant(uow, session, data)
    return json_response(grant, 201)


async def list_grants(request: Request) -> Response:
    runtime = runtime_of(request)
    session = await holder_session(request)
    query = parse_query(request, GrantQuery)
    async with read_only() as uow:
        page = await runtime.sharing.grants(uow, session, query.cursor, query.limit)
    return json_response(page)


async def get_grant(request: Request) -> Response:
    runtime = runtime_of(request)
    session = await holder_session(request)
    async with read_only() as uow:
        grant = await runtime.sharing.inspect(uow, session, request.path_params["grant"])
    return json_response(grant)


async def revoke_grant(request: Request) -> Response:
    runtime = runtime_of(request)
    session = await holder_session(request)
    async with unit_of_work() as uow:
        grant = await runtime.sharing.revoke(uow, session, request.path_params["grant"])
    return json_response(grant)


async def grant_accesses(request: Request) -> Response:
    runtime = runtime_of(request)
    session = await holder_session(request)
    query = parse_query(request, AccessQuery)
    async with read_only() as uow:
        page = await runtime.sharing.accesses(
            uow, session, request.path_params["grant"], query.cursor, query.limit
        )
    return json_response(page)


async def create_share_code(request: Request) -> Response:
    runtime = runtime_of(request)
    session = await holder_session(request)
    data = await parse_body(request, ShareCodeIn)
    async with unit_of_work() as uow:
        code = await runtime.sharing.make_code(uow, session, data)
    return json_response(code, 201)


GRANT_PARAM = Param(
    "grant",
    "path",
    "grant id",
    {"type": "string", "pattern": GRANT_ID_PATTERN},
    missing=GrantNotFound,
)


def operations() -> list[Operation]:
    tags = ("sharing",)
    return [
        Operation(
            "POST",
            "/api/v1/grants",
            create_grant,
            "Grant a relying party chosen fields of your licences",
            "For one or more claimed licences you hold or act for (as legal representative "
            "or agent of their operator): the party by USCC, face fields of the licences' "
            "kind (a field outside the kind is 422), a purpose the party may ask for, "
            "`until` at most 90 days ahead, `max_uses` reads (null: any until `until`).",
            tags,
            GrantIn,
            GrantOut,
            201,
            (404, 422),
            security="holder",
        ),
        Operation(
            "GET",
            "/api/v1/grants",
            list_grants,
            "Grants over your licences, newest first (yours, your operators', the authority's)",
            tags=tags,
            response_model=GrantPage,
            errors=(422,),
            security="holder",
            query_model=GrantQuery,
        ),
        Operation(
            "GET",
            "/api/v1/grants/{grant}",
            get_grant,
            "One grant",
            tags=tags,
            response_model=GrantOut,
            errors=(404,),
            params=(GRANT_PARAM,),
            security="holder",
        ),
        Operation(
            "DELETE",
            "/api/v1/grants/{grant}",
            revoke_grant,
            "Revoke a grant (the next redemption is refused)",
            "Idempotent. Authority grants cannot be revoked by the holder (403).",
            tags,
            None,
            GrantOut,
            200,
            (403, 404),
            (GRANT_PARAM,),
            security="holder",
        ),
        Operation(
            "GET",
            "/api/v1/grants/{grant}/accesses",
            grant_accesses,
            "Who read what under a grant, when, for which purpose",
            tags=tags,
            response_model=AccessPage,
            errors=(404, 422),
            params=(GRANT_PARAM,),
            security="holder",
            query_model=AccessQuery,
        ),
        Operation(
            "POST",
            "/api/v1/share-codes",
            create_share_code,
            "A one-time share code to show a party face to face",
            "`form=qr`: a string of 128 random bits to show as a QR; `form=short`: 8 "
            "characters (`XXXX-XXXX`) to read aloud, with attempt limits. The code lives "
            "`lifetime` seconds (60-900); the party that redeems it first gets a one-use "
            "grant valid `grant_days` days. Only a keyed hash of the code is stored.",
            tags,
            ShareCodeIn,
            ShareCodeOut,
            201,
            (404, 422, 429),
            security="holder",
        ),
    ]
