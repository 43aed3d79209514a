"""Signed checkpoints of the audit chain, kept outside the database.

The chain detects a changed entry, but someone with DDL rights on both the
entries and the head could rewrite an entry and recompute every hash after
it. A checkpoint pins the head as it was: ``{typ, head: {id, hash},
entries, at, kid, pub, sig}``, where ``sig`` is SM2 (SM3, default user id,
hex ``r‖s``) by the root key over the canonical JSON (sorted keys) of
everything but ``sig``. Written daily to a file or an object store, it makes
a later rewrite visible: :func:`reaches` fails when the chain no longer
passes through the pinned entry with the pinned hash.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

import orjson

from wallet.audit.repository import AuditRepository
from wallet.audit.service import GENESIS, verify_chain
from wallet.crypto import SM2Backend, public_key_hex
from wallet.uow import UnitOfWork

__all__ = [
    "CHECKPOINT_TYPE",
    "CheckpointError",
    "Reach",
    "make_checkpoint",
    "parse_checkpoint",
    "reaches",
    "signing_input",
    "verify_signature",
]

CHECKPOINT_TYPE: Final = "rtel-audit-checkpoint"
_FIELDS: Final = frozenset({"typ", "head", "entries", "at", "kid", "pub", "sig"})


class CheckpointError(ValueError):
    """A checkpoint file that is not one (shape, types)."""


def signing_input(checkpoint: Mapping[str, Any]) -> bytes:
    """The bytes the signature covers: canonical JSON of every field but ``sig``."""
    body = {k: v for k, v in checkpoint.items() if k != "sig"}
    return orjson.dumps(body, option=orjson.OPT_SORT_KEYS)


def make_checkpoint(
    *,
    last_id: int,
    last_hash: str,
    entries: int,
    at: datetime,
    kid: str,
    public_key: bytes,
    private_key: bytes,
    sm2: SM2Backend,
) -> dict[str, Any]:
    """A signed checkpoint of the head (``last_id``, ``last_hash``) after ``entries`` entries."""
    checkpoint: dict[str, Any] = {
        "typ": CHECKPOINT_TYPE,
        "head": {"id": last_id, "hash": last_hash},
        "entries": entries,
        "at": at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "kid": kid,
        "pub": public_key_hex(public_key),
    }
    checkpoint["sig"] = sm2.sign(private_key, signing_input(checkpoint)).hex()
    return checkpoint


def parse_checkpoint(raw: bytes) -> dict[str, Any]:
    """A checkpoint read from a file; :class:`CheckpointError` when it is not one."""
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise CheckpointError("not JSON") from None
    if not isinstance(value, dict) or set(value) != _FIELDS or value["typ"] != CHECKPOINT_TYPE:
        raise CheckpointError(f"not a {CHECKPOINT_TYPE} (fields {', '.join(sorted(_FIELDS))})")
    head = value["head"]
    if not (
        isinstance(head, dict)
        and set(head) == {"id", "hash"}
        and isinstance(head["id"], int)
        and isinstance(head["hash"], str)
        and isinstance(value["entries"], int)
        and all(isinstance(value[k], str) for k in ("at", "kid", "pub", "sig"))
    ):
        raise CheckpointError("fields of the wrong type")
    return value


def verify_signature(checkpoint: Mapping[str, Any], public_key: bytes, sm2: SM2Backend) -> bool:
    """Whether ``sig`` is the root key's signature over the checkpoint."""
    try:
        signature = bytes.fromhex(checkpoint["sig"])
    except ValueError:
        return False
    return sm2.verify(public_key, signing_input(checkpoint), signature)


@dataclass(frozen=True)
class Reach:
    """Whether the chain as stored still passes through a checkpoint's head, and why not."""

    ok: bool
    entries: int
    reason: str | None = None


async def reaches(uow: UnitOfWork, checkpoint: Mapping[str, Any]) -> Reach:
    """Check the stored chain against ``checkpoint``.

    The chain must verify as a whole (every link and the head row), and the
    entry the checkpoint pins must still be there with the pinned hash: a
    rewrite of that entry or of any before it, with every later hash
    recomputed, changes it. An empty pin (``id`` 0) is the genesis.
    """
    report = await verify_chain(uow)
    if not report.ok:
        return Reach(False, report.entries, f"entry {report.broken_at}: {report.reason}")
    pinned_id, pinned_hash = checkpoint["head"]["id"], checkpoint["head"]["hash"]
    if pinned_id == 0:
        ok = pinned_hash == GENESIS
        return Reach(ok, report.entries, None if ok else "a genesis pin with another hash")
    row = await AuditRepository().entry(uow, pinned_id)
    if row is None:
        return Reach(False, report.entries, f"entry {pinned_id} is gone (the chain was cut)")
    if row.hash != pinned_hash:
        return Reach(
            False,
            report.entries,
            f"entry {pinned_id} has another hash than the checkpoint's: the chain up to it "
            "was rewritten",
        )
    return Reach(True, report.entries)
