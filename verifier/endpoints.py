"""Verifier endpoints: officer sign-in, verification, lookups, trust and status lists."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator
from starlette.requests import Request
from starlette.responses import Response

from httpkit.operations import Operation, Param, json_response, parse_body
from wallet.errors import NotFound, Unauthorized, ValidationFailed
from wallet.officers.service import OfficerSession
from wallet.officers.throttle import source_of
from wallet.runtime import Runtime
from wallet.schemas import KIND_PATTERN, PROVINCE_PATTERN, REF_PATTERN
from wallet.verification.publication import signed_status_list, signed_trust_list
from wallet.verification.service import Outcome
from wallet.verification.verdict import Verdict

__all__ = ["operations"]

_DEVICE = re.compile(r"[A-Za-z0-9_-]{8,64}")


class SessionIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "badge": "21010001",
                    "password": "correct horse battery",
                    "device_id": "ENF-DEVICE-0001",
                }
            ]
        },
    )
    badge: str = Field(min_length=1, max_length=32)
    password: str = Field(min_length=1, max_length=256)
    device_id: str = Field(pattern=r"^[A-Za-z0-9_-]{8,64}$")


class OfficerOut(BaseModel):
    badge: str
    division: str
    role: str


class SessionOut(BaseModel):
    token: str
    expires_in: int
    officer: OfficerOut


class VerificationIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"qr": "eyJhbGciOiJTTTIiLCJraWQiOiJwcmVzLTAxMjM0NTY3IiwidHlwIjoicnRlbC1xciJ9.eyJ…"}
            ]
        },
    )
    qr: str = Field(min_length=1, max_length=4096)


class LicenceSeen(BaseModel):
    ref: str | None
    kind: str | None
    version: int | None
    face: dict[str, Any]
    photo_url: str | None = Field(
        default=None,
        description="the holder's approved photo (JPEG) when the registry has none; "
        "fetchable by this officer for 10 minutes after the verification",
    )


class VerificationOut(BaseModel):
    """The verdict; for an authentic licence, the face the role may see and where its photo is."""

    verdict: Verdict = Field(description="one verdict of the closed set (DESIGN §7)")
    licence: LicenceSeen | None
    status_checked_at: datetime | None
    detail: str = ""


class LookupIn(BaseModel):
    """Exactly one of plate number, licence number or ID number."""

    model_config = ConfigDict(
        extra="forbid",
        # "Exactly one", for the document: one branch per identifier, given and non-empty.
        json_schema_extra={
            "oneOf": [
                {
                    "required": [name],
                    "properties": {name: {"type": "string", "minLength": 1, "maxLength": most}},
                }
                for name, most in (("plate_number", 16), ("number", 32), ("id_number", 18))
            ]
        },
    )
    plate_number: str | None = Field(default=None, max_length=16)
    number: str | None = Field(
        default=None,
        max_length=32,
        description="licence number; one that is a resident ID number (a qualification "
        "certificate's) is a lookup by ID number: supervisors only",
    )
    id_number: str | None = Field(
        default=None, max_length=18, description="resident ID number: supervisors only"
    )
    kind: str | None = Field(default=None, pattern=KIND_PATTERN)

    @model_validator(mode="after")
    def _one(self) -> LookupIn:
        given = [v for v in (self.plate_number, self.number, self.id_number) if v]
        if len(given) != 1:
            raise ValueError("give exactly one of plate_number, number, id_number")
        return self


class LookupOut(BaseModel):
    results: list[VerificationOut]


def _out(outcome: Outcome) -> VerificationOut:
    licence = None
    if outcome.licence_ref is not None:
        licence = LicenceSeen(
            ref=outcome.licence_ref,
            kind=outcome.kind,
            version=outcome.version,
            face=outcome.face,
            # A face is shown only for an authentic licence; its photo goes with it.
            photo_url=f"/verifier/v1/licences/{outcome.licence_ref}/photo"
            if outcome.face
            else None,
        )
    return VerificationOut(
        verdict=outcome.verdict,
        licence=licence,
        status_checked_at=outcome.status_checked_at,
        detail=outcome.detail,
    )


def _bearer(request: Request) -> str:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise Unauthorized("send Authorization: Bearer <officer token>")
    return token


async def _officer(request: Request, runtime: Runtime) -> OfficerSession:
    device = request.headers.get("x-device-id")
    if device is not None and not _DEVICE.fullmatch(device):
        raise ValidationFailed(
            errors=[
                {"field": "X-Device-Id", "rule": "pattern", "message": "8-64 of A-Z a-z 0-9 _ -"}
            ]
        )
    return await runtime.officers.session(_bearer(request), device)


async def sign_in(request: Request) -> Response:
    runtime: Runtime = request.state.runtime
    data = await parse_body(request, SessionIn, 4096)
    # The peer address of the ASGI scope: behind a reverse proxy, the server
    # must be told to trust its forwarding headers (see the README).
    source = source_of(request.client.host if request.client else None)
    token, session = await runtime.officers.sign_in(
        data.badge, data.password, data.device_id, source
    )
    return json_response(
        SessionOut(
            token=token,
            expires_in=runtime.settings.officer_session_ttl,
            officer=OfficerOut(badge=session.badge, division=session.division, role=session.role),
        ),
        201,
    )


async def sign_out(request: Request) -> Response:
    runtime: Runtime = request.state.runtime
    await runtime.officers.sign_out(_bearer(request))
    return Response(status_code=204)


async def verify(request: Request) -> Response:
    runtime: Runtime = request.state.runtime
    officer = await _officer(request, runtime)
    data = await parse_body(request, VerificationIn, 8192)
    return json_response(_out(await runtime.verifier.verify(data.qr, officer)))


async def lookup(request: Request) -> Response:
    runtime: Runtime = request.state.runtime
    officer = await _officer(request, runtime)
    data = await parse_body(request, LookupIn, 4096)
    outcomes = await runtime.verifier.lookup_by(
        officer,
        registry=runtime.registry,
        plate_number=data.plate_number,
        number=data.number,
        id_number=data.id_number,
        kind=data.kind,
    )
    results = [_out(o) for o in outcomes]
    if officer.role != "supervisor":
        for result in results:  # an inspector's lookup shows no photo (DESIGN §7)
            if result.licence is not None:
                result.licence.photo_url = None
    return json_response(LookupOut(results=results))


async def photo(request: Request) -> Response:
    runtime: Runtime = request.state.runtime
    officer = await _officer(request, runtime)
    image = await runtime.verifier.photo(officer, request.path_params["ref"])
    return Response(image, media_type="image/jpeg")


async def trust_list(request: Request) -> Response:
    runtime: Runtime = request.state.runtime
    return Response(await signed_trust_list(runtime), media_type="application/jose")


async def status_list(request: Request) -> Response:
    runtime: Runtime = request.state.runtime
    return Response(
        await signed_status_list(runtime, request.path_params["division"]),
        media_type="application/jose",
    )


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
            "per officer and per device (429).",
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
        ),
        Operation(
            "GET",
            "/verifier/v1/trust-list",
            trust_list,
            "The trust list: every seal and presentation key, as a JWS signed by the root key",
            tags=tags,
            errors=(404,),  # no root key yet (`wallet keys init`)
            response_media_type="application/jose",
            cache_control=None,  # a public document
        ),
        Operation(
            "GET",
            "/verifier/v1/status-lists/{division}",
            status_list,
            "A province's status list (4 bits per licence, zlib), signed by its seal key",
            tags=tags,
            cache_control=None,  # a public document
            errors=(404, 422),
            response_media_type="application/jose",
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
