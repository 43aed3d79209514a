"""Showing a licence: fresh QR strings (JSON, SVG or PNG), the printable credential (PDF),
and who verified it."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field
from starlette.requests import Request
from starlette.responses import Response

from httpkit.operations import Operation, Param, json_response, parse_query
from miniprogram_api.holder_auth import bearer_token, holder_session
from wallet.claims.errors import LicenceNotFound
from wallet.documents import render_pdf
from wallet.errors import NotFound, ValidationFailed
from wallet.jws_payloads import COMPACT_JWS
from wallet.presentation.render import render_png, render_svg
from wallet.runtime import Runtime
from wallet.schemas import REF_PATTERN
from wallet.uow import read_only, unit_of_work
from wallet.verification.verdict import Verdict

__all__ = ["operations"]


class PresentationQuery(BaseModel):
    format: Literal["json", "svg", "png"] = "json"
    lifetime: int | None = Field(default=None, ge=30, le=300)


class PresentationOut(BaseModel):
    qr: str = Field(
        description="the QR string (DESIGN §6), a `QrJws` whose payload is a `QrPayload`; "
        "render it at error-correction level M",
        pattern=COMPACT_JWS,
        json_schema_extra={"x-jws-payload": {"x-component": "QrPayload"}},
    )
    expires_at: datetime
    refresh_in: int = Field(description="seconds after which to fetch a new one")


class VerificationSeen(BaseModel):
    at: datetime
    verdict: Verdict
    mode: Literal["scan", "offline", "lookup", "print", "copy"] = Field(
        description="a scan of the phone's QR, of its offline QR, a lookup without QR, a scan "
        "of a printable credential or of an annotated copy"
    )
    officer_division: str
    officer_badge: str


class VerificationPage(BaseModel):
    items: list[VerificationSeen]
    next_cursor: str | None


class PageQuery(BaseModel):
    # A record id is a signed 64-bit integer in the database: a larger cursor is no cursor.
    cursor: int | None = Field(default=None, ge=0, le=2**63 - 1, description="a `next_cursor`")
    limit: int = Field(default=50, ge=1, le=200)


async def present(request: Request) -> Response:
    runtime: Runtime = request.state.runtime
    # The hot path: the session from the cache alone, then one statement. A
    # found activation proves the account exists; otherwise it is checked, so
    # that a deleted account still answers 401 rather than 404 or 422.
    device = request.headers.get("x-device-id")
    account_id = await runtime.accounts.session_account(bearer_token(request), device)
    async with read_only() as uow:
        try:
            query = parse_query(request, PresentationQuery)
            shown = await runtime.presenter.present(
                uow, request.path_params["ref"], account_id, device, query.lifetime
            )
        except (NotFound, ValidationFailed):
            await runtime.accounts.require_account(uow, account_id)
            raise
    headers = {"X-QR-Expires-At": shown.expires_at.isoformat()}
    # Every format mints a new presentation: 201 whichever way it is drawn.
    if query.format == "png":
        return Response(render_png(shown.qr), 201, headers, media_type="image/png")
    if query.format == "svg":
        return Response(render_svg(shown.qr), 201, headers, media_type="image/svg+xml")
    response = json_response(
        PresentationOut(qr=shown.qr, expires_at=shown.expires_at, refresh_in=shown.refresh_in), 201
    )
    response.headers.update(headers)
    return response


async def printable(request: Request) -> Response:
    runtime: Runtime = request.state.runtime
    session = await holder_session(request)
    ref = request.path_params["ref"]
    async with unit_of_work() as uow:
        printed = await runtime.printables.mint(uow, session, ref)
    # Laying out and subsetting the font takes a good part of a second: off the event loop.
    pdf = await asyncio.to_thread(render_pdf, printed.document)
    headers = {
        "X-Print-Expires-At": printed.expires_at.isoformat(),
        "Content-Disposition": f'attachment; filename="{ref}-print.pdf"',
    }
    return Response(pdf, 201, headers, media_type="application/pdf")


async def verifications(request: Request) -> Response:
    runtime: Runtime = request.state.runtime
    session = await holder_session(request)
    query = parse_query(request, PageQuery)
    ref = request.path_params["ref"]
    async with read_only() as uow:
        if not await runtime.presenter.holds(uow, ref, session.account_id):
            raise NotFound("no such licence among yours")
        rows, cursor = await runtime.verifier.history(uow, ref, query.cursor, query.limit)
    items = [
        VerificationSeen(
            at=r.at,
            verdict=Verdict(r.verdict),
            mode=r.mode,  # type: ignore[arg-type]
            officer_division=r.officer_division,
            officer_badge=r.officer_badge,
        )
        for r in rows
    ]
    return json_response(VerificationPage(items=items, next_cursor=cursor))


_REF = Param(
    "ref",
    "path",
    "licence reference",
    {"type": "string", "pattern": REF_PATTERN},
    missing=LicenceNotFound,
)


def operations() -> list[Operation]:
    tags = ("presentation",)
    return [
        Operation(
            "POST",
            "/api/v1/licences/{ref}/presentations",
            present,
            "A fresh dynamic QR for an active licence on this device",
            "Send `X-Device-Id` (the activated device). `format=json` (default) answers "
            "`{qr, expires_at, refresh_in}`; `svg` and `png` answer the rendered QR of a "
            "freshly minted string. `lifetime` 30–300 s (default from settings).",
            tags,
            None,
            PresentationOut,
            201,
            (403, 404, 409, 422),
            (_REF,),
            security="holder",
            query_model=PresentationQuery,
            also_media_types=("image/svg+xml", "image/png"),
        ),
        Operation(
            "POST",
            "/api/v1/licences/{ref}/printable",
            printable,
            "The printable credential: an A4 PDF of the licence with a long-lived signed QR",
            "For the holder (or whoever acts for an enterprise holder) of a claimed licence "
            "that has not ended. The QR is an `rtel-print` JWS (payload `PrintPayload`) signed "
            "by the presentation key: any verifier checks it online, and the live status decides "
            "(`superseded` once a newer version exists). It lives `print_lifetime_days` "
            "(default 365), never past the day after the licence's validity ends "
            "(`X-Print-Expires-At`). Personal data on the page are masked as in the listing. "
            "A licence that is not yours answers 404 as one that does not exist; 409 when it is "
            "not claimed, in review, rejected or ended.",
            tags,
            None,
            None,
            201,
            (404, 409, 422),
            (_REF,),
            security="holder",
            response_media_type="application/pdf",
            response_schema={
                "type": "string",
                "contentMediaType": "application/pdf",
                "contentEncoding": "binary",
            },
        ),
        Operation(
            "GET",
            "/api/v1/licences/{ref}/verifications",
            verifications,
            "Who verified this licence, when (officer masked to division and badge)",
            tags=tags,
            response_model=VerificationPage,
            errors=(404, 422),
            params=(_REF,),
            security="holder",
            query_model=PageQuery,
        ),
    ]
