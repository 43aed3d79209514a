"""Registry status of a licence: the lifecycle rules and the live-status cache.

Statuses: ``valid``, ``suspended`` (暂扣, suspended), ``revoked`` (吊销,
revoked), ``cancelled`` (注销, cancelled); ``expired`` is derived from the
validity end and never stored. The cache holds ``{q, s, v, u}`` (status
sequence, status, current version, valid until) per licence ref in Redis so
the verifier reads it without the database.

The cache rule: an entry is only ever replaced by a newer one. Every change
of a licence's status or current version increments ``Licence.status_seq``
in its transaction, and every write goes through one compare-and-set script
(:data:`_CAS`). Before its commit a writer, holding the licence's row lock,
puts a *pending marker* ``{q, p}`` carrying the new sequence: readers treat
it as a miss and read the database, and a read-through refill that read the
old row (an older sequence) is refused. After the commit the writer puts the
entry. A reader that misses first claims the absent key with a *lease*
``{l}``, then reads the row: its refill writes only while its lease is still
there (nothing was written meanwhile), or when its sequence is newer than
the entry's or at least the pending marker's. So an entry that is evicted
right after a change cannot be replaced by a refill that read the row
before it. A marker left by a rolled-back change only sends readers to the
database until it expires (:data:`PENDING_TTL`).
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Final

import orjson
from redis.asyncio import Redis
from redis.exceptions import RedisError

from wallet.cache import Script, ScriptArg, run_script, run_scripts
from wallet.errors import InvalidTransition, Unavailable

__all__ = [
    "CACHE_TTL",
    "LEASE_TTL",
    "PENDING_TTL",
    "LiveStatus",
    "RegistryStatus",
    "StatusAction",
    "cache_key",
    "effective_status",
    "mark_pending",
    "next_status",
    "parse_entry",
    "read_cached_status",
    "refill_status",
    "take_lease",
    "write_status",
    "write_statuses",
]

CACHE_TTL: Final = 3600
PENDING_TTL: Final = 120
"""Seconds a pending marker lives: longer than any status-changing transaction."""
LEASE_TTL: Final = 10
"""Seconds a reader's lease lives: longer than its database read."""


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
    """What the cache holds of a licence; ``seq`` is its ``status_seq`` when read."""

    status: str
    version: int
    valid_until: date | None
    seq: int = 0

    def encode(self) -> bytes:
        return orjson.dumps(
            {
                "q": self.seq,
                "s": self.status,
                "v": self.version,
                "u": self.valid_until.isoformat() if self.valid_until else None,
            }
        )

    @classmethod
    def decode(cls, raw: bytes) -> LiveStatus:
        data = orjson.loads(raw)
        until = data.get("u")
        return cls(
            str(data["s"]),
            int(data["v"]),
            date.fromisoformat(until) if until else None,
            int(data.get("q", 0)),
        )


def cache_key(ref: str) -> str:
    """The status entry of ``ref``; it anchors the licence's hash slot on a Redis Cluster
    (keys read with it in one round trip are :func:`wallet.cache.tagged` with it)."""
    return f"rtel:status:{ref}"


def parse_entry(raw: bytes | str | None) -> LiveStatus | None:
    """The status a raw cache value holds; ``None`` for no entry, a marker or a lease.

    A pending marker means a change is being committed, a lease that a reader
    is refilling: either way the caller reads the database.
    """
    if not raw:
        return None
    data = raw.encode() if isinstance(raw, str) else raw
    held = orjson.loads(data)
    if held.get("p") or "l" in held:
        return None
    return LiveStatus.decode(data)


# KEYS[1]: the entry. ARGV: the new value, its sequence, its time to live, the mode, the
# refill's lease. Values: an entry {q, s, v, u}, a pending marker {q, p}, a lease {l}.
# - pending: always goes in. It carries no status, only sends readers to the database,
#   and its writer holds the licence's row lock, so no newer change can be under way.
# - lease: a reader about to read the database claims an absent key.
# - entry (a writer, after its commit) and refill (a reader, with the database row it
#   read): replace an older entry, or a marker of their sequence or older (the change
#   it announced has committed). An entry also replaces any lease and an absent key;
#   a refill only its own lease. A refill whose lease is gone (a change, an eviction)
#   may have read a row older than an entry that came and went: it writes nothing.
# A value without a sequence (from before sequences existed) or unreadable is oldest.
_CAS: Final = """
local mode = ARGV[4]
local current = redis.call('GET', KEYS[1])
if mode == 'lease' and current then
    return 0
end
if current and mode ~= 'pending' and mode ~= 'lease' then
    local ok, held = pcall(cjson.decode, current)
    if ok and type(held) == 'table' then
        if held['l'] ~= nil then
            if mode == 'refill' and held['l'] ~= ARGV[5] then
                return 0
            end
        else
            local seq = tonumber(ARGV[2])
            local at = tonumber(held['q']) or -1
            if at > seq or (at == seq and not held['p']) then
                return 0
            end
        end
    end
elseif not current and mode == 'refill' then
    return 0
end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[3])
return 1
"""


_CAS_SCRIPT: Final = Script(_CAS)


async def _cas_pipelined(cache: Redis, calls: list[tuple[str, list[ScriptArg]]]) -> None:
    """Run :data:`_CAS` for each ``(key, args)`` in one pipeline (one per node on a
    cluster), through :func:`~wallet.cache.run_scripts`. Sending it again after a
    NOSCRIPT is harmless: a pending marker is put again, an entry of the same
    sequence is refused by the script."""
    await run_scripts(cache, [(_CAS_SCRIPT, [key], args) for key, args in calls])


async def mark_pending(cache: Redis, seqs: Mapping[str, int]) -> None:
    """Before a commit that changes these licences (ref → new sequence): hide their entries.

    The caller holds the licences' row locks. Raises :class:`Unavailable`
    when the cache does not answer: the change must then be refused, since
    its committed status could not be made to reach the cache and an older
    entry there would be answered for up to :data:`CACHE_TTL` seconds.
    """
    if not seqs:
        return
    calls: list[tuple[str, list[ScriptArg]]] = [
        (cache_key(ref), [orjson.dumps({"q": seq, "p": 1}), seq, PENDING_TTL, "pending"])
        for ref, seq in seqs.items()
    ]
    try:
        await _cas_pipelined(cache, calls)
    except (RedisError, OSError) as exc:
        raise Unavailable(
            "the status cache is unavailable: status changes wait until it is back",
            dependency="cache",
        ) from exc


async def write_status(cache: Redis, ref: str, live: LiveStatus) -> bool:
    """After a commit: put ``live`` unless the cache holds a newer entry; True when written.

    Cache errors propagate.
    """
    args: list[ScriptArg] = [live.encode(), live.seq, CACHE_TTL, "entry"]
    return bool(await run_script(cache, _CAS_SCRIPT, [cache_key(ref)], args))


async def write_statuses(cache: Redis, statuses: Mapping[str, LiveStatus]) -> None:
    """:func:`write_status` for many licences in one pipeline (after a bulk commit)."""
    if not statuses:
        return
    calls: list[tuple[str, list[ScriptArg]]] = [
        (cache_key(ref), [live.encode(), live.seq, CACHE_TTL, "entry"])
        for ref, live in statuses.items()
    ]
    await _cas_pipelined(cache, calls)


async def take_lease(cache: Redis, ref: str) -> str | None:
    """Before a reader reads ``ref``'s row: claim its absent entry; the lease, or None.

    ``None`` when the key holds something (a marker, an entry, another
    reader's lease): :func:`refill_status` then goes by sequence alone.
    Cache errors propagate.
    """
    lease = secrets.token_hex(8)
    value = orjson.dumps({"l": lease})
    taken = await run_script(cache, _CAS_SCRIPT, [cache_key(ref)], [value, 0, LEASE_TTL, "lease"])
    return lease if taken else None


async def refill_status(cache: Redis, ref: str, live: LiveStatus, lease: str | None) -> bool:
    """After a reader read ``live`` from the database: put it unless anything newer may
    have been written since its :func:`take_lease`; True when written."""
    args: list[ScriptArg] = [live.encode(), live.seq, CACHE_TTL, "refill", lease or ""]
    return bool(await run_script(cache, _CAS_SCRIPT, [cache_key(ref)], args))


async def read_cached_status(cache: Redis, ref: str) -> LiveStatus | None:
    """The cached status of ``ref``; ``None`` on a miss or while a change is being committed."""
    return parse_entry(await cache.get(cache_key(ref)))
