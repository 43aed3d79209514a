"""Holder API (``/api/v1/licences``): the listing, claims and activation."""

from __future__ import annotations

import base64

from starlette.requests import Request
from starlette.responses import Response

from httpkit.multipart import MULTIPART, is_multipart, read_upload
from httpkit.operations import Operation, Param, json_response, parse_body, parse_query
from miniprogram_api.holder_auth import holder_session, runtime_of
from wallet.activation.schemas import ActivationIn, ActivationOut, DeactivationOut
from wallet.claims.errors import LicenceNotFound
from wallet.claims.photos import MAX_PHOTO_BYTES
from wallet.claims.schemas import (
    BulkClaimIn,
    BulkClaimOut,
    ClaimIn,
    ClaimOut,
    HolderLicencePage,
    ListingQuery,
)
from wallet.schemas import REF_PATTERN
from wallet.uow import read_only, unit_of_work

__all__ = ["operations"]

MAX_CLAIM_BODY = 3 * 1024 * 1024  # a 2 MB photo in base64, and the JSON around it


async def list_holder_licences(request: Request) -> Response:
    session = await holder_session(request)
    query = parse_query(request, ListingQuery)
    async with read_only() as uow:
        out = await runtime_of(request).listing.licences(uow, session, query)
    return json_response(out)


async def claim_licence(request: Request) -> Response:
    session = await holder_session(request)
    headers = request.headers
    empty = headers.get("content-length", "0") == "0" and "transfer-encoding" not in headers
    if is_multipart(request):
        # wx.uploadFile: the photo as a file part, streamed and bounded before it is whole.
        photo = await read_upload(request, "photo", MAX_PHOTO_BYTES)
        body = ClaimIn(photo=base64.b64encode(photo).decode("ascii"))
    elif empty:
        body = ClaimIn()
    else:
        body = await parse_body(request, ClaimIn, MAX_CLAIM_BODY)
    async with unit_of_work() as uow:
        out = await runtime_of(request).claims.claim(uow, session, request.path_params["ref"], body)
    return json_response(out, 201 if out.created else 200)


async def claim_licences(request: Request) -> Response:
    session = await holder_session(request)
    body = await parse_body(request, BulkClaimIn)
    async with unit_of_work() as uow:
        out = await runtime_of(request).claims.claim_many(uow, session, body)
    return json_response(out)


async def activate_licence(request: Request) -> Response:
    session = await holder_session(request)
    body = await parse_body(request, ActivationIn, 4096)
    async with unit_of_work() as uow:
        out = await runtime_of(request).activations.activate(
            uow, session, request.path_params["ref"], body
        )
    return json_response(out, 201)


async def deactivate_licence(request: Request) -> Response:
    session = await holder_session(request)
    async with unit_of_work() as uow:
        out = await runtime_of(request).activations.deactivate(
            uow, session, request.path_params["ref"]
        )
    return json_response(out)


_REF = Param(
    "ref",
    "path",
    "opaque licence reference",
    {"type": "string", "pattern": REF_PATTERN},
    missing=LicenceNotFound,
)


_PHOTO_UPLOAD = {
    "type": "object",
    "required": ["photo"],
    "properties": {
        "photo": {
            "type": "string",
            "contentMediaType": "image/jpeg",
            "contentEncoding": "binary",
            "minLength": 1,
            "description": "the photo file (JPEG or PNG), at most 2 MB",
        }
    },
    "additionalProperties": False,
}


def operations() -> list[Operation]:
    tags = ("holder: licences",)
    return [
        Operation(
            "GET",
            "/api/v1/licences",
            list_holder_licences,
            "The caller's licences, claimable ones included",
            "Person licences of the bound identity and the licences of every enterprise "
            "the caller represents (its business permits and its fleet), with masked face "
            "fields, registry status and wallet state (`claimable`, `claimed`, "
            "`pending_review`, `approved`, `rejected`, `active`). Keyset pagination by "
            "`ref`: pass `next_cursor` as `cursor`; `limit` up to 500.",
            tags,
            None,
            HolderLicencePage,
            200,
            (403, 404, 422),
            security="holder",
            query_model=ListingQuery,
        ),
        Operation(
            "POST",
            "/api/v1/licences/{ref}/claim",
            claim_licence,
            "Claim one licence",
            "Send a photo (JPEG or PNG, at most 2 MB) only when the listing says "
            "`needs_photo`: the claim then waits for the authority's review. Either as JSON "
            "`{photo: <base64>}` or, as `wx.uploadFile` sends it, as `multipart/form-data` "
            "with the file in part `photo` (`wx.uploadFile({url, filePath, name: 'photo', "
            "header: {Authorization}})`); a larger file is refused with 413 while it "
            "streams. 201 when the claim is new or changed, 200 when it already stood "
            "(idempotent). Another holder's reference is 404.",
            tags,
            ClaimIn,
            ClaimOut,
            201,
            (403, 404, 409),
            (_REF,),
            security="holder",
            also_status=(200,),
            also_request_bodies=((MULTIPART, _PHOTO_UPLOAD),),
        ),
        Operation(
            "POST",
            "/api/v1/licences/claims",
            claim_licences,
            "Claim up to 1000 licences at once (fleets)",
            "Idempotent; each reference is claimed or fails on its own (`results`). "
            "Licences that need a photo are claimed one by one.",
            tags,
            BulkClaimIn,
            BulkClaimOut,
            200,
            (403,),
            security="holder",
        ),
        Operation(
            "POST",
            "/api/v1/licences/{ref}/activation",
            activate_licence,
            "Activate a claimed licence on this device",
            "Binds the licence to `device_id` (and optionally the device's SM2 public "
            "key); an activation on another device is superseded. Returns the offline "
            "TOTP seed once (it is stored SM4-encrypted) and the offline credential.",
            tags,
            ActivationIn,
            ActivationOut,
            201,
            (403, 404, 409),
            (_REF,),
            security="holder",
        ),
        Operation(
            "DELETE",
            "/api/v1/licences/{ref}/activation",
            deactivate_licence,
            "Deactivate the licence's device (lost phone)",
            tags=tags,
            response_model=DeactivationOut,
            errors=(403, 404),
            params=(_REF,),
            security="holder",
        ),
    ]
