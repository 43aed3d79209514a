"""Holder authentication at the edge: the bearer session and the device header.

``Authorization: Bearer <token>`` (from ``POST /api/v1/session``) names the
session, ``X-Device-Id`` (optional, 16–64 of ``[A-Za-z0-9_-]``) the device.
"""

from __future__ import annotations

from starlette.requests import Request

from wallet.accounts.sessions import SessionRequired
from wallet.holders.principal import HolderSession
from wallet.runtime import Runtime
from wallet.uow import read_only

__all__ = ["HolderSession", "bearer_token", "holder_session", "runtime_of"]


def runtime_of(request: Request) -> Runtime:
    """The runtime the lifespan opened."""
    runtime: Runtime = request.state.runtime
    return runtime


def bearer_token(request: Request) -> str:
    """The bearer token of the request; 401 when there is none."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise SessionRequired("send Authorization: Bearer <token> from POST /api/v1/session")
    return token.strip()


async def holder_session(request: Request) -> HolderSession:
    """The caller's session: 401 without a live token, 422 for a malformed X-Device-Id."""
    accounts = runtime_of(request).accounts
    token, device = bearer_token(request), request.headers.get("x-device-id")
    async with read_only() as uow:
        return await accounts.session(uow, token, device)
