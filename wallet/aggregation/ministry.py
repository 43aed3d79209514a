"""The ministry's aggregation endpoint, as the worker sees it: one POST per batch.

Every outcome but a recorded batch is a :class:`Failure` with a short
reason code (what ``wallet aggregate status`` groups by) and a detail line;
nothing here raises for a failed push. The transport is a constructor
argument, so tests can put anything between the worker and the stand-in.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import httpx
import orjson

from wallet.aggregation.wire import IDEMPOTENCY_HEADER, KID_HEADER, SIGNATURE_HEADER

__all__ = ["REASONS", "Failure", "MinistryClient", "SignedBatch"]

REASONS: Final = (
    "http_5xx",
    "http_4xx",
    "timeout",
    "connection",
    "body_error",
    "bad_response",
    "no_seal_key",
)
"""Every failure reason the worker records."""

_MAX_DETAIL = 500


@dataclass(frozen=True, slots=True)
class SignedBatch:
    """A batch ready to send: the body bytes, their signature and the signing kid."""

    batch_id: str
    body: bytes
    kid: str
    signature: str
    events: int


@dataclass(frozen=True, slots=True)
class Failure:
    """Why a push did not get the batch recorded."""

    reason: str
    detail: str


def _detail(text: str) -> str:
    return text.replace("\n", " ").replace("\r", " ")[:_MAX_DETAIL]


class MinistryClient:
    """POSTs signed batches to ``url``, waiting at most ``timeout`` seconds for each."""

    def __init__(
        self, url: str, timeout: float, transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        self.url = url
        self._http = httpx.AsyncClient(
            timeout=httpx.Timeout(timeout),
            transport=transport,
            headers={"Content-Type": "application/json"},
        )

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()

    async def push(self, batch: SignedBatch) -> Failure | None:
        """Send ``batch``; None once the ministry has recorded it, else the failure."""
        headers = {
            IDEMPOTENCY_HEADER: batch.batch_id,
            KID_HEADER: batch.kid,
            SIGNATURE_HEADER: batch.signature,
        }
        try:
            response = await self._http.post(self.url, content=batch.body, headers=headers)
        except httpx.TimeoutException as exc:
            return Failure("timeout", _detail(f"no answer in time ({type(exc).__name__})"))
        except httpx.TransportError as exc:
            return Failure("connection", _detail(f"{type(exc).__name__}: {exc}"))
        return _outcome(response)


def _outcome(response: httpx.Response) -> Failure | None:
    status = response.status_code
    if status >= 500:
        return Failure("http_5xx", _detail(f"HTTP {status}: {response.text[:200]}"))
    if status >= 400:
        return Failure("http_4xx", _detail(f"HTTP {status}: {response.text[:200]}"))
    if status != 200:
        return Failure("bad_response", f"HTTP {status} instead of 200")
    try:
        answer = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        return Failure("bad_response", "HTTP 200 without a JSON body")
    code = answer.get("code") if isinstance(answer, dict) else None
    if not isinstance(code, int) or isinstance(code, bool):
        return Failure("bad_response", "HTTP 200 without an integer code")
    if code != 0:
        message = answer.get("message", "")
        return Failure("body_error", _detail(f"code {code}: {message}"))
    return None
