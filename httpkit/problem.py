"""Errors as ``application/problem+json`` (RFC 9457).

One handler per family, looked up along the exception's MRO: ``WalletError``
covers every domain error, ``HTTPException`` covers routing (404, 405), the
database driver's connection errors become the 503 of
:func:`wallet.db.database_unavailable` (an outage is not a bug), and
``Exception`` turns a bug into a logged 500 that reveals nothing.
"""

from __future__ import annotations

import logging
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from httpkit.middleware import route_template
from httpkit.responses import ProblemResponse
from wallet.db import DATABASE_OUTAGES, database_unavailable
from wallet.errors import WalletError

__all__ = ["exception_handlers", "problem_response"]

log = logging.getLogger("httpkit.problem")

_HTTP_CODES = {
    400: ("bad_request", "Bad request"),
    401: ("unauthorized", "Authentication required"),
    403: ("forbidden", "Forbidden"),
    404: ("not_found", "Not found"),
    405: ("method_not_allowed", "Method not allowed"),
    413: ("payload_too_large", "Request body too large"),
    415: ("unsupported_media_type", "Unsupported media type"),
    429: ("rate_limited", "Too many requests"),
}


def problem_response(
    status: int,
    code: str,
    title: str,
    detail: str | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> Response:
    body: dict[str, Any] = {
        "type": f"https://rtel.example/problems/{code}",
        "title": title,
        "status": status,
        "code": code,
    }
    if detail:
        body["detail"] = detail
    body.update(extra)
    return ProblemResponse(body, status_code=status, headers=headers)


def _request_id(request: Request) -> str | None:
    value = request.scope.get("request_id")
    return value if isinstance(value, str) else None


async def _wallet_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, WalletError)
    body = exc.to_problem()
    body["instance"] = request.url.path
    if (rid := _request_id(request)) is not None:
        body["request_id"] = rid
    headers = None
    if exc.status == 429 and "retry_after" in exc.extra:
        headers = {"Retry-After": str(exc.extra["retry_after"])}
    if exc.status >= 500:
        log.error(
            "%s %s -> %s: %s", request.method, route_template(request.scope), exc.status, exc.detail
        )
    return ProblemResponse(body, status_code=exc.status, headers=headers)


async def _database_outage(request: Request, exc: Exception) -> Response:
    return await _wallet_error(request, database_unavailable(exc))


async def _http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    code, title = _HTTP_CODES.get(exc.status_code, ("http_error", "HTTP error"))
    return problem_response(
        exc.status_code,
        code,
        title,
        exc.detail if exc.detail != title else None,
        headers=dict(exc.headers) if exc.headers else None,
        instance=request.url.path,
    )


async def _unhandled(request: Request, exc: Exception) -> Response:
    # Logged outside the request-log middleware (its request id no longer in context).
    log.exception(
        "unhandled error on %s %s",
        request.method,
        route_template(request.scope),
        extra={"request_id": _request_id(request)},
    )
    return problem_response(
        500,
        "internal_error",
        "Internal server error",
        "an unexpected error occurred; it has been logged",
        request_id=_request_id(request),
    )


exception_handlers: dict[Any, Any] = {
    WalletError: _wallet_error,
    HTTPException: _http_exception,
    **dict.fromkeys(DATABASE_OUTAGES, _database_outage),
    Exception: _unhandled,
}
