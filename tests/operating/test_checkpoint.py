"""Signed audit checkpoints: a rewrite the chain alone cannot see is caught by the checkpoint."""

from __future__ import annotations

import orjson
import pytest
from tortoise import connections

from tests.cli_helpers import wallet
from tests.factories import committing
from wallet.audit.checkpoint import CHECKPOINT_TYPE, parse_checkpoint, verify_signature
from wallet.audit.models import AuditEntry, AuditHead
from wallet.audit.service import GENESIS, append, entry_hash
from wallet.keys.models import SigningKey
from wallet.uow import unit_of_work


async def add_entries(rt, n: int, start: int = 0) -> None:
    async with unit_of_work() as uow:
        for i in range(start, start + n):
            await append(uow, at=rt.clock.now(), actor=f"operator-{i}", action="test.action")


async def rewrite_history(entry_id: int, actor: str) -> None:
    """What someone with DDL rights does: change an entry and recompute every hash after it.

    On PostgreSQL the append-only trigger (migration 0005) is disabled first and
    enabled again after, as such an operator would.
    """
    conn = connections.get("default")
    postgres = conn.capabilities.dialect == "postgres"
    mark = (lambda n: f"${n}") if postgres else (lambda n: "?")
    if postgres:
        await conn.execute_script("ALTER TABLE audit_entry DISABLE TRIGGER audit_entry_append_only")
    prev = GENESIS
    for row in await AuditEntry.all().order_by("id"):
        if row.id == entry_id:
            row.actor = actor
        if row.id >= entry_id:
            digest = entry_hash(
                prev, row.id, row.at, row.actor, row.action, row.subject, row.detail
            )
            await conn.execute_query(
                f"UPDATE audit_entry SET actor = {mark(1)}, prev_hash = {mark(2)}, "
                f"hash = {mark(3)} WHERE id = {mark(4)}",
                [row.actor, prev, digest, row.id],
            )
            row.hash = digest
        prev = row.hash
    await conn.execute_query(f"UPDATE audit_head SET last_hash = {mark(1)} WHERE id = 1", [prev])
    if postgres:
        await conn.execute_script("ALTER TABLE audit_entry ENABLE TRIGGER audit_entry_append_only")


async def test_checkpoint_then_a_rewrite_is_caught(rt, settings, tmp_path):
    await committing(rt.keys.init)(["210000"])
    await add_entries(rt, 5)
    path = tmp_path / "checkpoint.json"
    code, out, err = await wallet(settings, "audit", "checkpoint", "--out", str(path))
    assert code == 0, err
    assert f"written to {path}" in out

    checkpoint = parse_checkpoint(path.read_bytes())
    head = await AuditHead.get(id=1)
    root = await SigningKey.get(use="root", status="active")
    assert checkpoint["typ"] == CHECKPOINT_TYPE
    assert checkpoint["head"] == {"id": head.last_id, "hash": head.last_hash}
    assert checkpoint["entries"] == 5 and checkpoint["kid"] == root.kid
    assert checkpoint["pub"] == root.public_key
    assert verify_signature(checkpoint, bytes.fromhex(root.public_key), rt.sm2)

    # The chain grows: it still passes through the checkpoint, pinned root key or not.
    await add_entries(rt, 2, start=5)
    code, out, err = await wallet(settings, "audit", "verify", "--checkpoint", str(path))
    assert code == 0, err
    assert "7 entries" in out and "passes through the checkpoint" in out
    code, _, err = await wallet(
        settings, "audit", "verify", "--checkpoint", str(path), "--root-key", root.public_key
    )
    assert code == 0, err

    # Stdout form, for piping to an object store.
    code, out, _ = await wallet(settings, "audit", "checkpoint")
    assert code == 0 and parse_checkpoint(out.encode())["entries"] == 7

    if rt.settings.database_url.startswith("postgres"):
        # The trigger stops a plain UPDATE: only DDL rights get past it.
        with pytest.raises(Exception, match="append-only"):
            await AuditEntry.filter(id=2).update(actor="someone else")
    await rewrite_history(2, "someone else")
    assert (await AuditEntry.get(id=2)).actor == "someone else"

    # The chain alone is consistent again: only the checkpoint sees the rewrite.
    code, out, _ = await wallet(settings, "audit", "verify")
    assert code == 0 and "audit chain intact: 7 entries" in out
    code, out, err = await wallet(settings, "audit", "verify", "--checkpoint", str(path))
    assert code == 1, out
    assert "no longer reaches the head" in err and "rewritten" in err


async def test_a_forged_or_foreign_checkpoint_fails(rt, settings, tmp_path):
    await committing(rt.keys.init)(["210000"])
    await add_entries(rt, 3)
    path = tmp_path / "checkpoint.json"
    code, _, err = await wallet(settings, "audit", "checkpoint", "--out", str(path))
    assert code == 0, err
    checkpoint = orjson.loads(path.read_bytes())

    forged = tmp_path / "forged.json"
    forged.write_bytes(orjson.dumps({**checkpoint, "entries": 2}))
    code, _, err = await wallet(settings, "audit", "verify", "--checkpoint", str(forged))
    assert code == 1 and "signature" in err and "does not verify" in err

    other = "04" + "11" * 64
    code, _, err = await wallet(
        settings, "audit", "verify", "--checkpoint", str(path), "--root-key", other
    )
    assert code == 1

    (tmp_path / "junk.json").write_text("{}")
    code, _, err = await wallet(
        settings, "audit", "verify", "--checkpoint", str(tmp_path / "junk.json")
    )
    assert code == 1 and "not a checkpoint" in err

    # A key that is not this database's root key.
    await SigningKey.filter(kid=checkpoint["kid"]).update(status="revoked")
    code, _, err = await wallet(settings, "audit", "verify", "--checkpoint", str(path))
    assert code == 1 and "not a trusted root key" in err


async def test_an_empty_chain_checkpoints_the_genesis(rt, settings, tmp_path):
    await committing(rt.keys.init)(["210000"])
    path = tmp_path / "checkpoint.json"
    code, _, err = await wallet(settings, "audit", "checkpoint", "--out", str(path))
    assert code == 0, err
    assert parse_checkpoint(path.read_bytes())["head"] == {"id": 0, "hash": GENESIS}
    await add_entries(rt, 1)
    code, _, err = await wallet(settings, "audit", "verify", "--checkpoint", str(path))
    assert code == 0, err
