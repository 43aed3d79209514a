"""Authority API (``/authority/v1/claims``): the review queue of claim photos.

Signed server-to-server requests, like the registry feed (the same
``authenticated_client`` check); a client reviews claims of licences in its division.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from httpkit.operations import Operation, Param, json_response, parse_json, parse_query
from miniprogram_api.authority import authenticated_client
from wallet.claims.schemas import RejectIn, ReviewOut, ReviewPage, ReviewQuery
from wallet.errors import NotFound
from wallet.licences.search import division_scope
from wallet.runtime import Runtime
from wallet.schemas import UUID_PATTERN
from wallet.uow import read_only, unit_of_work

__all__ = ["operations"]


async def list_pending_claims(request: Request) -> Response:
    runtime: Runtime = request.state.runtime
    client, _ = await authenticated_client(request, runtime, 0)
    query = parse_query(request, ReviewQuery)
    async with read_only() as uow:
        page = await runtime.claims.pending(uow, division_scope(client.division), query)
    return json_response(page)


async def claim_photo(request: Request) -> Response:
    runtime: Runtime = request.state.runtime
    client, _ = await authenticated_client(request, runtime, 0)
    async with read_only() as uow:
        image = await runtime.claims.photo(
            uow, division_scope(client.division), request.path_params["claim_id"]
        )
    return Response(image, media_type="image/jpeg")


async def approve_claim(request: Request) -> Response:
    runtime: Runtime = request.state.runtime
    client, _ = await authenticated_client(request, runtime, 1024)
    async with unit_of_work() as uow:
        out = await runtime.claims.approve(
            uow, client.actor, division_scope(client.division), request.path_params["claim_id"]
        )
    return json_response(out)


async def reject_claim(request: Request) -> Response:
    runtime: Runtime = request.state.runtime
    client, body = await authenticated_client(request, runtime, 4096)
    reason = parse_json(body, RejectIn)
    async with unit_of_work() as uow:
        out = await runtime.claims.reject(
            uow,
            client.actor,
            division_scope(client.division),
            request.path_params["claim_id"],
            reason,
        )
    return json_response(out)


_CLAIM = Param(
    "claim_id",
    "path",
    "claim id",
    {"type": "string", "format": "uuid", "pattern": UUID_PATTERN},
    missing=NotFound,
)


def operations() -> list[Operation]:
    tags = ("authority: claim review",)
    return [
        Operation(
            "GET",
            "/authority/v1/claims",
            list_pending_claims,
            "Claims waiting for photo review (oldest first)",
            "Keyset pagination: pass `next_cursor` as `cursor`.",
            tags,
            None,
            ReviewPage,
            200,
            (401, 422),
            security="authority",
            query_model=ReviewQuery,
        ),
        Operation(
            "GET",
            "/authority/v1/claims/{claim_id}/photo",
            claim_photo,
            "The photo sent with a claim (re-encoded JPEG)",
            tags=tags,
            errors=(401, 403, 404),
            params=(_CLAIM,),
            security="authority",
            response_media_type="image/jpeg",
            response_schema={
                "type": "string",
                "contentMediaType": "image/jpeg",
                "contentEncoding": "binary",
            },
        ),
        Operation(
            "POST",
            "/authority/v1/claims/{claim_id}/approve",
            approve_claim,
            "Approve a claim's photo",
            "The holder is told by WeChat subscribe message; the photo becomes the "
            "licence photo. 409 `claim_not_pending` when it is not waiting.",
            tags,
            None,
            ReviewOut,
            200,
            (401, 403, 404, 409),
            (_CLAIM,),
            security="authority",
        ),
        Operation(
            "POST",
            "/authority/v1/claims/{claim_id}/reject",
            reject_claim,
            "Reject a claim's photo, with a reason",
            "The holder is told by WeChat subscribe message and may claim again with a "
            "new photo; the rejected photo is deleted.",
            tags,
            RejectIn,
            ReviewOut,
            200,
            (401, 403, 404, 409),
            (_CLAIM,),
            security="authority",
        ),
    ]
