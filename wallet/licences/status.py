"""Registry status of a licence: the lifecycle rules and the live-status cache.

Statuses: ``valid``, ``suspended`` (暂扣, suspended), ``revoked`` (吊销,
revoked), ``cancelled`` (注销, cancelled); ``expired`` is derived from the
validity end and never stored. The cache holds ``{s, v, u}`` (status,
current version, valid until) per licence ref in Redis so the verifier reads
it without the database; writers delete the entry before their commit and
write it after (see :mod:`wallet.uow`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Final

import orjson
from redis.asyncio import Redis

from wallet.errors import InvalidTransition

__all__ = [
    "CACHE_TTL",
    "LiveStatus",
    "RegistryStatus",
    "StatusAction",
    "cache_key",
    "effective_status",
    "forget_status",
    "next_status",
    "read_cached_status",
    "write_status",
]

CACHE_TTL: Final = 3600


class RegistryStatus(StrEnum):
    VALID = "valid"
    SUSPENDED = "suspended"
    REVOKED = "revoked"
    CANCELLED = "cancelled"


class StatusAction(StrEnum):
    SUSPEND = "suspend"
    REINSTATE = "reinstate"
    REVOKE = "revoke"
    CANCEL = "cancel"


_TRANSITIONS: Final[dict[StatusAction, tuple[frozenset[RegistryStatus], RegistryStatus]]] = {
    StatusAction.SUSPEND: (frozenset({RegistryStatus.VALID}), RegistryStatus.SUSPENDED),
    StatusAction.REINSTATE: (frozenset({RegistryStatus.SUSPENDED}), RegistryStatus.VALID),
    StatusAction.REVOKE: (
        frozenset({RegistryStatus.VALID, RegistryStatus.SUSPENDED}),
        RegistryStatus.REVOKED,
    ),
    StatusAction.CANCEL: (
        frozenset({RegistryStatus.VALID, RegistryStatus.SUSPENDED}),
        RegistryStatus.CANCELLED,
    ),
}

TERMINAL: Final = frozenset({RegistryStatus.REVOKED, RegistryStatus.CANCELLED})


def next_status(current: RegistryStatus, action: StatusAction) -> RegistryStatus:
    """The status after ``action``; :class:`InvalidTransition` when not allowed.

    Revoked and cancelled are final: nothing reinstates them (a new licence
    must be issued).
    """
    allowed_from, to = _TRANSITIONS[action]
    if current not in allowed_from:
        raise InvalidTransition(
            f"cannot {action.value} a licence that is {current.value}",
            status_now=current.value,
        )
    return to


def effective_status(status: str, valid_until: date | None, today: date) -> str:
    """The registry status, or ``expired`` for a valid licence past its validity end."""
    if status == RegistryStatus.VALID and valid_until is not None and valid_until < today:
        return "expired"
    return status


@dataclass(frozen=True, slots=True)
class LiveStatus:
    status: str
    version: int
    valid_until: date | None

    def encode(self) -> bytes:
        return orjson.dumps(
            {
                "s": self.status,
                "v": self.version,
                "u": self.valid_until.isoformat() if self.valid_until else None,
            }
        )

    @classmethod
    def decode(cls, raw: bytes) -> LiveStatus:
        data = orjson.loads(raw)
        until = data.get("u")
        return cls(str(data["s"]), int(data["v"]), date.fromisoformat(until) if until else None)


def cache_key(ref: str) -> str:
    return f"rtel:status:{ref}"


async def write_status(cache: Redis, ref: str, live: LiveStatus) -> None:
    """Write-through after commit."""
    await cache.set(cache_key(ref), live.encode(), ex=CACHE_TTL)


async def forget_status(cache: Redis, ref: str) -> None:
    """Drop the entry before a commit that changes it (readers fall through to the database)."""
    await cache.delete(cache_key(ref))


async def read_cached_status(cache: Redis, ref: str) -> LiveStatus | None:
    raw = await cache.get(cache_key(ref))
    return LiveStatus.decode(raw.encode() if isinstance(raw, str) else raw) if raw else None
