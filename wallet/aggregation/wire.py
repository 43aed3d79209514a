"""What a batch looks like on the wire: its body, its headers and its signature.

Pure functions over bytes and keys, shared by the worker and the ministry
stand-in. The body is canonical JSON (sorted keys, no spaces), so the same
batch read again from the database is the same bytes on every attempt::

    {"batch": "<uuid>", "province": "210000",
     "events": [{"id", "topic", "licence_ref", "created_at", "payload"}, ...]}

Events are in id order, which within a licence is the order of its changes.
The request carries the batch id again as ``Idempotency-Key`` and the SM2
signature (raw ``r‖s``, base64url without padding) of the exact body bytes,
made with the province's seal key, in ``X-Rtel-Signature`` beside the key's
``X-Rtel-Kid``. The ministry answers 200 with ``{"code": 0, ...}`` when it
has recorded the batch; any other code in a 200 is a refusal.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any, Final

import orjson

from wallet.crypto import SM2Backend

__all__ = [
    "IDEMPOTENCY_HEADER",
    "KID_HEADER",
    "SIGNATURE_HEADER",
    "batch_body",
    "event_entry",
    "signature_from_header",
    "signature_header",
]

IDEMPOTENCY_HEADER: Final = "Idempotency-Key"
KID_HEADER: Final = "X-Rtel-Kid"
SIGNATURE_HEADER: Final = "X-Rtel-Signature"


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def event_entry(
    event_id: int, topic: str, licence_ref: str, created_at: datetime, payload: Mapping[str, Any]
) -> dict[str, Any]:
    """One event as the ministry receives it."""
    return {
        "id": event_id,
        "topic": topic,
        "licence_ref": licence_ref,
        "created_at": _utc(created_at),
        "payload": dict(payload),
    }


def batch_body(batch_id: str, province: str, events: Iterable[Mapping[str, Any]]) -> bytes:
    """The canonical body of a batch (the bytes that are signed and sent)."""
    document = {"batch": batch_id, "province": province, "events": list(events)}
    return orjson.dumps(document, option=orjson.OPT_SORT_KEYS)


def signature_header(private_key: bytes, body: bytes, sm2: SM2Backend) -> str:
    """The SM2 signature of ``body`` as the ``X-Rtel-Signature`` value."""
    raw = sm2.sign(private_key, body)
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def signature_from_header(value: str) -> bytes | None:
    """The raw 64-byte ``r‖s`` of an ``X-Rtel-Signature`` value, or None if malformed."""
    if not value.isascii() or not value or len(value) > 100:
        return None
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError):
        return None
    return raw if len(raw) == 64 else None
