"""Holder authentication at the edge: the bearer session and the device header.

``Authorization: Bearer <token>`` (from ``POST /api/v1/session``) names the
session, ``X-Device-Id`` (optional, 16–64 of ``[A-Za-z0-9_-]``) the device.
"""

from __future__ import annotations

from starlette.requests import Request

from wallet.accounts.sessions import HolderSession, SessionRequired
from wallet.accounts.wiring import HolderServices, holder_services
from wallet.runtime import Runtime

__all__ = ["HolderSession", "bearer_token", "holder_session", "services"]


def services(request: Request) -> HolderServices:
    """The holder services of the request's runtime."""
    runtime: Runtime = request.state.runtime
    return holder_services(runtime)


def bearer_token(request: Request) -> str:
    """The bearer token of the request; 401 when there is none."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise SessionRequired("send Authorization: Bearer <token> from POST /api/v1/session")
    return token.strip()


async def holder_session(request: Request) -> HolderSession:
    """The caller's session: 401 without a live token, 422 for a malformed X-Device-Id."""
    sessions = services(request).accounts.sessions
    return await sessions.resolve(bearer_token(request), request.headers.get("x-device-id"))
