"""Verifier endpoints: officer sign-in, verification, lookups, trust and status lists.

Each route parses, opens the unit of work (read-only on the scan path),
calls one service function and serialises its answer.
"""

from __future__ import annotations

import re

from starlette.requests import Request
from starlette.responses import Response

from httpkit.operations import Operation, Param, json_response, parse_body
from wallet.errors import NotFound, Unauthorized, ValidationFailed
from wallet.officers.schemas import DEVICE_PATTERN, OfficerOut, SessionIn, SessionOut
from wallet.officers.service import OfficerSession
from wallet.officers.throttle import source_of
from wallet.runtime import Runtime
from wallet.schemas import PROVINCE_PATTERN, REF_PATTERN
from wallet.uow import UnitOfWork, read_only, unit_of_work
from wallet.verification.schemas import LookupIn, LookupOut, VerificationIn, VerificationOut

__all__ = ["operations"]

_DEVICE = re.compile(DEVICE_PATTERN.strip("^$"))


def _bearer(request: Request) -> str:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise Unauthorized("send Authorization: Bearer <officer token>")
    return token


async def _officer(request: Request, runtime: Runtime, uow: UnitOfWork) -> OfficerSession:
    device = request.headers.get("x-device-id")
    if device is not None and not _DEVICE.fullmatch(device):
        raise ValidationFailed(
            errors=[
                {"field": "X-Device-Id", "rule": "pattern", "message": "8-64 of A-Z a-z 0-9 _ -"}
            ]
        )
    return await runtime.officers.session(uow, _bearer(request), device)


async def sign_in(request: Request) -> Response:
    runtime: Runtime = request.state.runtime
    data = await parse_body(request, SessionIn, 4096)
    # The peer address of the ASGI scope: behind a reverse proxy, the server
    # must be told to trust its forwarding headers (see the README).
    source = source_of(request.client.host if request.client else None)
    async with unit_of_work() as uow:
        token, session = await runtime.officers.sign_in(
            uow, data.badge, data.password, data.device_id, source
        )
    officer = OfficerOut(badge=session.badge, division=session.division, role=session.role)
    out = SessionOut(token=token, expires_in=runtime.settings.officer_session_ttl, officer=officer)
    return json_response(out, 201)


async def sign_out(request: Request) -> Response:
    runtime: Runtime = request.state.runtime
    async with unit_of_work() as uow:
        await runtime.officers.sign_out(uow, _bearer(request))
    return Response(status_code=204)


async def verify(request: Request) -> Response:
    runtime: Runtime = request.state.runtime
    async with read_only() as uow:
        officer = await _officer(request, runtime, uow)
        data = await parse_body(request, VerificationIn, 8192)
        outcome = await runtime.verifier.verify(uow, data.qr, officer)
    return json_response(VerificationOut.of(outcome))


async def lookup(request: Request) -> Response:
    runtime: Runtime = request.state.runtime
    async with read_only() as uow:
        officer = await _officer(request, runtime, uow)
        data = await parse_body(request, LookupIn, 4096)
        outcomes = await runtime.verifier.lookup_by(
            uow,
            officer,
            plate_number=data.plate_number,
            number=data.number,
            id_number=data.id_number,
            kind=data.kind,
        )
    # An inspector's lookup shows no photo (DESIGN §7).
    photo = officer.role == "supervisor"
    return json_response(LookupOut(results=[VerificationOut.of(o, photo=photo) for o in outcomes]))


async def photo(request: Request) -> Response:
    runtime: Runtime = request.state.runtime
    async with read_only() as uow:
        officer = await _officer(request, runtime, uow)
        image = await runtime.verifier.photo(uow, officer, request.path_params["ref"])
    return Response(image, media_type="image/jpeg")


async def trust_list(request: Request) -> Response:
    runtime: Runtime = request.state.runtime
    async with read_only() as uow:
        signed = await runtime.publication.trust_list(uow)
    return Response(signed, media_type="application/jose")


async def status_list(request: Request) -> Response:
    runtime: Runtime = request.state.runtime
    async with read_only() as uow:
        signed = await runtime.publication.signed_status_list(uow, request.path_params["division"])
    headers = {"ETag": signed.etag, "Cache-Control": "public, max-age=60"}
    asked = [tag.strip() for tag in request.headers.get("if-none-match", "").split(",")]
    # RFC 9110 13.1.2: weak comparison, and "*" matches any current list.
    if asked == ["*"] or signed.etag in (tag.removeprefix("W/") for tag in asked):
        return Response(status_code=304, headers=headers)
    return Response(signed.token, media_type="application/jose", headers=headers)


def operations() -> list[Operation]:
    tags = ("verifier",)
    return [
        Operation(
            "POST",
            "/verifier/v1/session",
            sign_in,
            "Officer sign-in (device-bound token)",
            "Argon2id password check; the token works only with `X-Device-Id` equal to the "
            "device given here. Attempts are throttled by source and by badge with "
            "growing delays (429 with `Retry-After`); a badge is never locked.",
            tags,
            SessionIn,
            SessionOut,
            201,
            (401, 429),
        ),
        Operation(
            "DELETE",
            "/verifier/v1/session",
            sign_out,
            "Officer sign-out",
            tags=tags,
            status=204,
            security="officer",
        ),
        Operation(
            "POST",
            "/verifier/v1/verifications",
            verify,
            "Verify a scanned QR string",
            "Runs every check of DESIGN §7 in order and answers one verdict of the closed "
            "set, with the face fields the officer's role may see (inspectors see ID "
            "numbers masked) and `status_checked_at`. Send `X-Device-Id`. Rate-limited "
            "per officer and per device (429). Besides the phone's QR (`QrJws`, or an "
            "`OfflinePresentation`) it takes the QR of a printable credential (`PrintJws`) "
            "and of an annotated copy (`CopyJws`, sealed by a copy key): the same checks "
            "without the replay check, the live status deciding; `document` says which kind "
            "was checked, and for a copy `copy.grant_live` whether its grant is still live "
            "(the face then shows only the copy's fields). A copy signed by a key that is "
            "not a copy key answers `unknown_key`; past its `exp` a print or copy answers "
            "`qr_expired`.",
            tags,
            VerificationIn,
            VerificationOut,
            200,
            (401, 429),
            security="officer",
        ),
        Operation(
            "POST",
            "/verifier/v1/lookups",
            lookup,
            "Check a licence without a QR (by plate, licence number or ID number)",
            "For a holder who cannot show an e-licence. Logged and rate-limited more "
            "tightly than scans, since it reveals data without the holder's action. "
            "Inspectors get the status and a minimal face (names and ID numbers masked; "
            "no address, birth date or photo); the full face and lookups by resident ID "
            "number — `id_number`, or a `number` that is one — are for supervisors (403).",
            tags,
            LookupIn,
            LookupOut,
            200,
            (401, 403, 429),
            security="officer",
        ),
        Operation(
            "GET",
            "/verifier/v1/licences/{ref}/photo",
            photo,
            "The holder's approved photo of a licence this officer just verified",
            "Only within 10 minutes of a scan or lookup by the same officer with an authentic "
            "verdict (403 otherwise), so photos cannot be browsed by reference. 404 when the "
            "licence has no approved holder photo (the registry's own photo is referenced in "
            "the face).",
            tags,
            None,
            None,
            200,
            (401, 403, 404),
            (
                Param(
                    "ref",
                    "path",
                    "licence reference",
                    {"type": "string", "pattern": REF_PATTERN},
                    missing=NotFound,
                ),
            ),
            security="officer",
            response_media_type="image/jpeg",
            response_schema={
                "type": "string",
                "contentMediaType": "image/jpeg",
                "contentEncoding": "binary",
            },
        ),
        Operation(
            "GET",
            "/verifier/v1/trust-list",
            trust_list,
            "The trust list: every seal and presentation key, as a JWS signed by the root key",
            tags=tags,
            errors=(404,),  # no root key yet (`wallet keys init`)
            response_media_type="application/jose",
            response_schema={"$ref": "#/components/schemas/TrustListJws"},
            cache_control=None,  # a public document
        ),
        Operation(
            "GET",
            "/verifier/v1/status-lists/{division}",
            status_list,
            "A province's status list (4 bits per licence, zlib), signed by its seal key",
            "Answers with an `ETag` that names the list's content (the same from every "
            "verifier process; new when a status changes, at the latest 10 s after, and "
            "every hour); send it back in `If-None-Match` for a 304 without a body.",
            tags=tags,
            cache_control=None,  # a public document
            conditional=True,
            errors=(404, 422),
            response_media_type="application/jose",
            response_schema={"$ref": "#/components/schemas/StatusListJws"},
            params=(
                Param(
                    "division",
                    "path",
                    "province code, e.g. 210000",
                    {"type": "string", "pattern": PROVINCE_PATTERN},
                ),
            ),
        ),
    ]
