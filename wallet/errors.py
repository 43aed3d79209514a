"""The one error root of the domain core.

Every expected failure is a :class:`WalletError` subclass carrying a stable
``type`` code (the last path segment of the problem ``type`` URI), an HTTP
status and a human title; the HTTP edge renders it as
``application/problem+json`` (RFC 9457). A 500 means a bug.

Tree::

    WalletError (400 bad_request)
    ├── ValidationFailed (422 validation_failed)   field-level problems
    │   └── InvalidIdentifier (422 invalid_identifier)
    ├── NotFound (404 not_found)
    ├── Conflict (409 conflict)
    │   └── InvalidTransition (409 invalid_transition)
    ├── Unauthorized (401 unauthorized)
    ├── Forbidden (403 forbidden)
    ├── RateLimited (429 rate_limited)
    ├── CryptoError (400 crypto_error)
    │   ├── MalformedKey (400 malformed_key)
    │   └── MalformedSignature (400 malformed_signature)
    ├── ConfigurationError (500 configuration_error) a bad setting, told at start-up
    └── Unavailable (503 unavailable)   a dependency (database, cache, WeChat) is down
"""

from __future__ import annotations

from typing import Any, ClassVar

__all__ = [
    "ConfigurationError",
    "Conflict",
    "CryptoError",
    "FieldProblem",
    "Forbidden",
    "InvalidIdentifier",
    "InvalidTransition",
    "MalformedKey",
    "MalformedSignature",
    "NotFound",
    "RateLimited",
    "Unauthorized",
    "Unavailable",
    "ValidationFailed",
    "WalletError",
]

FieldProblem = dict[str, Any]


class WalletError(Exception):
    """Root of every expected failure; ``type_code``/``status`` map it to HTTP."""

    type_code: ClassVar[str] = "bad_request"
    status: ClassVar[int] = 400
    title: ClassVar[str] = "Bad request"

    def __init__(self, detail: str | None = None, **extra: Any) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.extra = extra

    def to_problem(self) -> dict[str, Any]:
        """The RFC 9457 body (without ``instance``) for this error."""
        body: dict[str, Any] = {
            "type": f"https://rtel.example/problems/{self.type_code}",
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
            "code": self.type_code,
        }
        body.update(self.extra)
        return body


class ValidationFailed(WalletError):
    type_code = "validation_failed"
    status = 422
    title = "The request is not valid"

    def __init__(
        self, detail: str | None = None, errors: list[FieldProblem] | None = None, **extra: Any
    ) -> None:
        super().__init__(detail, **extra)
        self.errors = errors or []
        if self.errors:
            self.extra["errors"] = self.errors


class InvalidIdentifier(ValidationFailed):
    """An identifier (ID number, USCC, division, plate, licence id) fails its rule."""

    type_code = "invalid_identifier"
    title = "Invalid identifier"

    def __init__(self, kind: str, rule: str, detail: str | None = None) -> None:
        message = detail or f"{kind}: {rule}"
        super().__init__(message, errors=[{"field": kind, "rule": rule, "message": message}])
        self.kind = kind
        self.rule = rule


class NotFound(WalletError):
    type_code = "not_found"
    status = 404
    title = "Not found"


class Conflict(WalletError):
    type_code = "conflict"
    status = 409
    title = "Conflict"


class InvalidTransition(Conflict):
    type_code = "invalid_transition"
    title = "Transition not allowed"


class Unauthorized(WalletError):
    type_code = "unauthorized"
    status = 401
    title = "Authentication required"


class Forbidden(WalletError):
    type_code = "forbidden"
    status = 403
    title = "Forbidden"


class RateLimited(WalletError):
    type_code = "rate_limited"
    status = 429
    title = "Too many requests"


class CryptoError(WalletError):
    type_code = "crypto_error"
    status = 400
    title = "Cryptographic input rejected"


class MalformedKey(CryptoError):
    type_code = "malformed_key"
    title = "Malformed key"


class MalformedSignature(CryptoError):
    type_code = "malformed_signature"
    title = "Malformed signature"


class ConfigurationError(WalletError):
    type_code = "configuration_error"
    status = 500
    title = "Configuration error"


class Unavailable(WalletError):
    type_code = "unavailable"
    status = 503
    title = "A dependency is unavailable"
