"""Authority API for sharing: relying parties and inter-department grants."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field
from starlette.requests import Request
from starlette.responses import Response

from httpkit.operations import Operation, Param, json_response, parse_json, parse_query
from miniprogram_api.authority import authenticated_client
from wallet.licences.search import division_scope
from wallet.runtime import Runtime
from wallet.sharing.errors import PartyNotFound
from wallet.sharing.schemas import (
    AuthorityGrantIn,
    GrantOut,
    PartyCreated,
    PartyIn,
    PartyOut,
    PartyPage,
)
from wallet.uow import read_only, unit_of_work

__all__ = ["operations"]


class PartyQuery(BaseModel):
    status: Literal["active", "disabled"] | None = None
    cursor: int | None = Field(default=None, ge=0, le=2**31 - 1, description="a `next_cursor`")
    limit: int = Field(default=50, ge=1, le=500)


async def add_party(request: Request) -> Response:
    runtime: Runtime = request.state.runtime
    client, body = await authenticated_client(request, runtime, 4096)
    data = parse_json(body, PartyIn)
    async with unit_of_work() as uow:
        created = await runtime.parties.add(uow, data, actor=client.actor)
    return json_response(created, 201)


async def list_parties(request: Request) -> Response:
    runtime: Runtime = request.state.runtime
    await authenticated_client(request, runtime, 0)
    query = parse_query(request, PartyQuery)
    async with read_only() as uow:
        page = await runtime.parties.page(uow, query.cursor, query.limit, query.status)
    return json_response(page)


async def disable_party(request: Request) -> Response:
    runtime: Runtime = request.state.runtime
    client, _ = await authenticated_client(request, runtime, 0)
    async with unit_of_work() as uow:
        party = await runtime.parties.disable(
            uow, request.path_params["party_id"], actor=client.actor
        )
    return json_response(party)


async def authority_grant(request: Request) -> Response:
    runtime: Runtime = request.state.runtime
    client, body = await authenticated_client(request, runtime, 8192)
    data = parse_json(body, AuthorityGrantIn)
    async with unit_of_work() as uow:
        grant = await runtime.sharing.authority_grant(
            uow, data, actor=client.actor, scope=division_scope(client.division)
        )
    return json_response(grant, 201)


def operations() -> list[Operation]:
    tags = ("authority",)
    return [
        Operation(
            "POST",
            "/authority/v1/parties",
            add_party,
            "Register a relying party (its secret is in this answer only)",
            "USCC checked (GB 32100 check character); `purposes` from the purpose catalogue. "
            "The party signs its `/share/v1` requests like an authority client, with "
            "`X-Client-Id` = `party_id`.",
            tags,
            PartyIn,
            PartyCreated,
            201,
            (409, 422),
            security="authority",
        ),
        Operation(
            "GET",
            "/authority/v1/parties",
            list_parties,
            "List relying parties in registration order",
            tags=tags,
            response_model=PartyPage,
            errors=(422,),
            security="authority",
            query_model=PartyQuery,
        ),
        Operation(
            "POST",
            "/authority/v1/parties/{party_id}/disable",
            disable_party,
            "Disable a relying party: its requests are refused from now on",
            tags=tags,
            response_model=PartyOut,
            errors=(404,),
            params=(
                Param(
                    "party_id",
                    "path",
                    "party id",
                    {"type": "string", "pattern": "^rp_[0-9a-f]{16}$"},
                    missing=PartyNotFound,
                ),
            ),
            security="authority",
        ),
        Operation(
            "POST",
            "/authority/v1/grants",
            authority_grant,
            "Grant a party (another department) fields of licences in your division",
            "Inter-department sharing: recorded and shown to the holders as an authority "
            "grant. A licence outside the client's division answers 404 like a missing one.",
            tags,
            AuthorityGrantIn,
            GrantOut,
            201,
            (404, 422),
            security="authority",
        ),
    ]
