"""Relying parties redeem (``/share/v1``): annotated copies under grants and share codes.

Every request is signed by the party (see :mod:`wallet.authority.signing`).
Without a live grant or code the answer is one 404 problem, whatever the
reason.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from httpkit.operations import Operation, json_response, parse_json, parse_query, read_body
from wallet.documents import render_pdf
from wallet.runtime import Runtime
from wallet.sharing import IssuedCopy, NoLiveGrant
from wallet.sharing.models import RelyingParty
from wallet.sharing.schemas import CodeRedeemIn, CopyOut, RedeemIn
from wallet.uow import unit_of_work

__all__ = ["authenticated_party", "operations"]

MAX_BODY = 4096


class CopyQuery(BaseModel):
    format: Literal["json", "pdf"] | None = None


async def authenticated_party(
    request: Request, runtime: Runtime, max_bytes: int = MAX_BODY
) -> tuple[RelyingParty, bytes]:
    """The signing party and the body (read once); its nonce commits on its own."""
    body = await read_body(request, max_bytes)
    path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    async with unit_of_work() as uow:
        party = await runtime.parties.authenticate(
            uow,
            request.headers,
            request.method,
            path,
            body,
            skew=runtime.settings.authority_clock_skew,
        )
    return party, body


def _wants_pdf(request: Request) -> bool:
    query = parse_query(request, CopyQuery)
    if query.format is not None:
        return query.format == "pdf"
    accept = request.headers.get("accept", "").lower()
    return "application/pdf" in accept and "application/json" not in accept


async def _answer(copy: IssuedCopy, pdf: bool) -> Response:
    if pdf:
        content = await run_in_threadpool(render_pdf, copy.document)
        disposition = f'attachment; filename="copy-{copy.out.copy_id}.pdf"'
        return Response(
            content,
            201,
            {"Content-Disposition": disposition},
            media_type="application/pdf",
        )
    return json_response(copy.out.model_dump(mode="json", by_alias=True), 201)


async def redeem_grant(request: Request) -> Response:
    runtime: Runtime = request.state.runtime
    pdf = _wants_pdf(request)
    party, body = await authenticated_party(request, runtime)
    data = parse_json(body, RedeemIn)
    async with unit_of_work() as uow:
        copy = await runtime.sharing.redeem(uow, party, data.grant, data.licence)
    return await _answer(copy, pdf)


async def redeem_code(request: Request) -> Response:
    runtime: Runtime = request.state.runtime
    pdf = _wants_pdf(request)
    party, body = await authenticated_party(request, runtime)
    data = parse_json(body, CodeRedeemIn)
    # Wrong tries are counted in this unit of work: it commits before the refusal.
    async with unit_of_work() as uow:
        copy = await runtime.sharing.redeem_code(uow, party, data.code)
    if copy is None:
        raise NoLiveGrant()
    return await _answer(copy, pdf)


def operations() -> list[Operation]:
    tags = ("share",)
    description = (
        "Answers the annotated copy: the granted fields only, the licence's live status, "
        "purpose, grantee, grant id, time of issue, and `copy`, a JWS of `typ` "
        "`rtel-copy` signed by the platform copy key of the trust list. `format=pdf` (or "
        "`Accept: application/pdf`) answers the printable copy instead. Each redemption "
        "takes one use and is logged for the holder. Without a live grant the answer is "
        "404 `no_live_grant`, the same whatever the reason."
    )
    return [
        Operation(
            "POST",
            "/share/v1/copies",
            redeem_grant,
            "Redeem a grant: the annotated copy of one licence",
            description,
            tags,
            RedeemIn,
            CopyOut,
            201,
            (401, 404, 422),
            security="party",
            query_model=CopyQuery,
            also_media_types=("application/pdf",),
        ),
        Operation(
            "POST",
            "/share/v1/share-codes/redeem",
            redeem_code,
            "Redeem a share code shown face to face: a one-use grant and its copy",
            description
            + " A wrong code counts against the party (429 when it has used its tries); "
            "a short code also counts each party's wrong tries at it, and burns after "
            "too many from all parties together.",
            tags,
            CodeRedeemIn,
            CopyOut,
            201,
            (401, 404, 422, 429),
            security="party",
            query_model=CopyQuery,
            also_media_types=("application/pdf",),
        ),
    ]
