"""Holder API (``/api/v1``): WeChat sign-in, sessions and real-name binding.

Handlers parse, call the service and serialise; WeChat calls happen before
the unit of work opens.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from httpkit.operations import Operation, json_response, parse_body
from miniprogram_api.holder_auth import bearer_token, holder_session, runtime_of
from wallet.accounts.schemas import (
    FaceVerificationIn,
    FaceVerificationOut,
    IdentityIn,
    IdentityOut,
    RebindIn,
    SessionIn,
    SessionOut,
    TransportKeyOut,
)
from wallet.uow import read_only, unit_of_work

__all__ = ["operations"]


async def create_session(request: Request) -> Response:
    accounts = runtime_of(request).accounts
    body = await parse_body(request, SessionIn)
    login = await accounts.wechat_login(body.code)
    async with unit_of_work() as uow:
        out = await accounts.sign_in(uow, login)
    return json_response(out)


async def renew_session(request: Request) -> Response:
    token = bearer_token(request)
    async with read_only() as uow:
        out = await runtime_of(request).accounts.renew(uow, token)
    return json_response(out)


async def delete_session(request: Request) -> Response:
    await runtime_of(request).accounts.revoke(bearer_token(request))
    return Response(status_code=204)


async def transport_key(request: Request) -> Response:
    return json_response(runtime_of(request).accounts.transport_key())


async def get_identity(request: Request) -> Response:
    session = await holder_session(request)
    async with read_only() as uow:
        out = await runtime_of(request).accounts.identity_of(uow, session)
    return json_response(out)


async def start_face_verification(request: Request) -> Response:
    session = await holder_session(request)
    body = await parse_body(request, FaceVerificationIn)
    async with read_only() as uow:
        out = await runtime_of(request).accounts.open_face_verification(uow, session, body)
    return json_response(out, 201)


async def bind_identity(request: Request) -> Response:
    accounts = runtime_of(request).accounts
    session = await holder_session(request)
    body = await parse_body(request, IdentityIn)
    async with read_only() as uow:
        verified = await accounts.verify_identity(uow, session, body, "bind")
    async with unit_of_work() as uow:
        out = await accounts.bind(uow, session, verified)
    return json_response(out)


async def rebind_identity(request: Request) -> Response:
    accounts = runtime_of(request).accounts
    session = await holder_session(request)
    body = await parse_body(request, RebindIn)
    async with read_only() as uow:
        verified = await accounts.verify_identity(uow, session, body, "rebind")
    async with unit_of_work() as uow:
        out = await accounts.rebind(uow, session, verified)
    return json_response(out)


def operations() -> list[Operation]:
    tags = ("holder: session and identity",)
    return [
        Operation(
            "POST",
            "/api/v1/session",
            create_session,
            "Sign in with a wx.login() code",
            "code2session at WeChat; the WeChat session key stays on the server. The "
            "account is created on first sign-in. WeChat's refusals map to "
            "`wechat_code_invalid` (401), `wechat_rate_limited` (429), "
            "`wechat_user_blocked` (403), `wechat_unavailable` (503).",
            tags,
            SessionIn,
            SessionOut,
            200,
            (401, 403, 429, 503),
        ),
        Operation(
            "POST",
            "/api/v1/session/renew",
            renew_session,
            "Renew the session",
            "Rotates the token: the answer carries a new one with a fresh lifetime and "
            "the old one stops working.",
            tags,
            None,
            SessionOut,
            200,
            security="holder",
        ),
        Operation(
            "DELETE",
            "/api/v1/session",
            delete_session,
            "Sign out (revoke the session)",
            tags=tags,
            status=204,
            security="holder",
        ),
        Operation(
            "GET",
            "/api/v1/identity/transport-key",
            transport_key,
            "The SM2 key for encrypting binding fields, and the identity provider",
            tags=tags,
            response_model=TransportKeyOut,
            outages=False,
        ),
        Operation(
            "GET",
            "/api/v1/identity",
            get_identity,
            "The bound identity (masked)",
            tags=tags,
            response_model=IdentityOut,
            security="holder",
        ),
        Operation(
            "POST",
            "/api/v1/identity/face-verification",
            start_face_verification,
            "Start WeChat face verification of a name and ID number",
            "Returns the `verify_id` for `wx.requestFacialVerify`; then send it with "
            "POST /api/v1/identity (provider `wechat_face`) or POST "
            "/api/v1/identity/rebind (every provider). Each start is a paid WeChat call: "
            "at most 5 per account an hour, then 429 `too_many_attempts`; 502 "
            "`wechat_failed` when WeChat refuses the request.",
            tags,
            FaceVerificationIn,
            FaceVerificationOut,
            201,
            (429, 502, 503),
            security="holder",
        ),
        Operation(
            "POST",
            "/api/v1/identity",
            bind_identity,
            "Bind a real-name identity to this account",
            "The provider confirms name and resident ID number (registry match in "
            "development, WeChat face verification in production). Failures are counted "
            "per account and per ID number: after 5 in an hour, 429 "
            "`too_many_attempts`. An identity bound to another account answers 409 "
            "`identity_bound_elsewhere`: use the rebind flow.",
            tags,
            IdentityIn,
            IdentityOut,
            200,
            (409, 429, 503),
            security="holder",
        ),
        Operation(
            "POST",
            "/api/v1/identity/rebind",
            rebind_identity,
            "Move an identity from its old WeChat account to this one",
            "Re-verifies the identity by WeChat face verification, whatever the binding "
            "provider (send the `verify_id` of POST /api/v1/identity/face-verification), "
            "then unbinds it from the old account and ends that account's activations. "
            "Audited.",
            tags,
            RebindIn,
            IdentityOut,
            200,
            (409, 429, 503),
            security="holder",
        ),
    ]
