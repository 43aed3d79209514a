"""Holder API (``/api/v1/enterprises``): operators and their agents."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from httpkit.operations import Operation, Param, json_response, parse_body
from miniprogram_api.holder_auth import holder_session, runtime_of
from wallet.enterprises.schemas import (
    AgentIn,
    AgentList,
    AgentOut,
    EnterpriseBindIn,
    EnterpriseList,
    EnterpriseOut,
)
from wallet.errors import NotFound
from wallet.schemas import USCC_PATTERN, UUID_PATTERN
from wallet.uow import read_only, unit_of_work

__all__ = ["operations"]


async def list_enterprises(request: Request) -> Response:
    session = await holder_session(request)
    async with read_only() as uow:
        out = await runtime_of(request).enterprises.enterprises(uow, session)
    return json_response(out)


async def bind_enterprise(request: Request) -> Response:
    session = await holder_session(request)
    body = await parse_body(request, EnterpriseBindIn, 1024)
    async with unit_of_work() as uow:
        out = await runtime_of(request).enterprises.bind(uow, session, body)
    return json_response(out)


async def list_agents(request: Request) -> Response:
    session = await holder_session(request)
    uscc = request.path_params["uscc"]
    async with read_only() as uow:
        out = await runtime_of(request).enterprises.agents(uow, session, uscc)
    return json_response(out)


async def grant_agent(request: Request) -> Response:
    session = await holder_session(request)
    body = await parse_body(request, AgentIn)
    async with unit_of_work() as uow:
        out = await runtime_of(request).enterprises.grant(
            uow, session, request.path_params["uscc"], body
        )
    return json_response(out, 201)


async def revoke_agent(request: Request) -> Response:
    session = await holder_session(request)
    async with unit_of_work() as uow:
        out = await runtime_of(request).enterprises.revoke(
            uow, session, request.path_params["uscc"], request.path_params["agent_id"]
        )
    return json_response(out)


_USCC = Param(
    "uscc", "path", "unified social credit code", {"type": "string", "pattern": USCC_PATTERN}
)
_AGENT = Param(
    "agent_id",
    "path",
    "agent id",
    {"type": "string", "format": "uuid", "pattern": UUID_PATTERN},
    missing=NotFound,
)


def operations() -> list[Operation]:
    tags = ("holder: operators",)
    return [
        Operation(
            "GET",
            "/api/v1/enterprises",
            list_enterprises,
            "Enterprises the caller acts for (legal representative or agent)",
            tags=tags,
            response_model=EnterpriseList,
            errors=(403,),
            security="holder",
        ),
        Operation(
            "POST",
            "/api/v1/enterprises",
            bind_enterprise,
            "Bind an operator as its legal representative",
            "The bound person must be the enterprise's legal representative: in this "
            "release, the person in charge named on one of its current, valid permits "
            "(403 `not_legal_representative` otherwise). Idempotent.",
            tags,
            EnterpriseBindIn,
            EnterpriseOut,
            200,
            (403, 404),
            security="holder",
        ),
        Operation(
            "GET",
            "/api/v1/enterprises/{uscc}/agents",
            list_agents,
            "The enterprise's agents (legal representative only)",
            tags=tags,
            response_model=AgentList,
            errors=(403,),
            params=(_USCC,),
            security="holder",
        ),
        Operation(
            "POST",
            "/api/v1/enterprises/{uscc}/agents",
            grant_agent,
            "Authorise an agent (legal representative only)",
            "The agent must have signed in and bound their real name; name and ID number "
            "identify them (clear or SM2-encrypted, as at binding). Idempotent.",
            tags,
            AgentIn,
            AgentOut,
            201,
            (403, 404),
            (_USCC,),
            security="holder",
        ),
        Operation(
            "DELETE",
            "/api/v1/enterprises/{uscc}/agents/{agent_id}",
            revoke_agent,
            "Revoke an agent (legal representative only)",
            "The agent's activations of the enterprise's licences end.",
            tags=tags,
            response_model=AgentOut,
            errors=(403, 404),
            params=(_USCC, _AGENT),
            security="holder",
        ),
    ]
