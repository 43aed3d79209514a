"""``wallet backup OUT`` and ``wallet restore IN``: a snapshot, and its restore drill.

``backup`` writes the directory OUT (new or empty): the database's snapshot
and its manifest (:mod:`wallet.operating.backup`). ``restore`` restores IN
into the database ``DATABASE_URL`` names, which must be empty, then checks
it (counts, audit chain, keys, every seal) and prints one line per check.
The master key is never in a backup: ``restore`` needs the same key as the
backed-up deployment (``WALLET_MASTER_KEY``/``WALLET_MASTER_KEY_FILE``, or
``master.key`` in the data directory), and refuses to make a new one. Exit 0
on success, 1 when the backup or the restore fails or a check fails, 2 on
bad usage.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from wallet.cli._base import Subparsers
from wallet.cli._output import add_json_flag, emit
from wallet.cli._progress import Progress
from wallet.cli.doctor import render
from wallet.clock import SystemClock
from wallet.crypto import sm2_backend
from wallet.db import close_database, open_database
from wallet.keys.service import KeyStore
from wallet.masterkey import load_master_key
from wallet.operating.backup import BackupError, backup, restore, verify_restored
from wallet.operating.doctor import master_key_source
from wallet.settings import Settings
from wallet.uow import read_only
from wallet.vault import Vault

__all__ = ["register"]


async def _cmd_backup(args: argparse.Namespace, settings: Settings) -> int:
    manifest = await backup(settings, args.out, now=SystemClock().now(), pg_bin=args.pg_bin)
    tables = manifest["tables"]
    audit = manifest["audit"] or {"last_id": 0}
    print(
        f"backup written to {args.out}: {manifest['snapshot']['file']} "
        f"({manifest['snapshot']['bytes']} bytes, SM3 {manifest['snapshot']['sm3'][:16]}…), "
        f"{len(tables)} tables, {sum(tables.values())} rows, "
        f"audit head {audit['last_id']}, {len(manifest['keys'])} keys"
    )
    print("the master key is not in it: keep it apart, restore needs it")
    return 0


async def _cmd_restore(args: argparse.Namespace, settings: Settings) -> int:
    source, path = master_key_source(settings)
    if path is not None and not path.is_file():
        raise BackupError(
            f"no master key at {source}: restore needs the key of the backed-up deployment "
            "(WALLET_MASTER_KEY_FILE or WALLET_MASTER_KEY); a new key would open nothing"
        )
    master_key = load_master_key(settings)
    manifest = await restore(settings, args.source, pg_bin=args.pg_bin)
    print(f"restored {args.source} into the database; verifying", file=sys.stderr)
    keys = KeyStore(master_key, sm2_backend(settings.sm2_backend), SystemClock())
    vault = Vault.from_master_key(master_key, settings.vault_key_id)
    versions = int(manifest["tables"].get("licence_version", 0))
    await open_database(settings)
    try:
        with Progress("seals", versions, unit="versions") as progress:
            async with read_only() as uow:
                checks = await verify_restored(
                    uow, manifest, vault=vault, keys=keys, progress=progress.update
                )
    finally:
        await close_database()
    if args.as_json:
        emit([c.as_row() for c in checks], ("check", "ok", "detail", "fix"), as_json=True)
    else:
        print(render(checks))
    return 0 if all(c.ok for c in checks) else 1


def register(subparsers: Subparsers) -> None:
    """Add ``backup`` and ``restore`` to the ``wallet`` command tree."""
    command = subparsers.add_parser(
        "backup",
        help="write a consistent snapshot of the database and its manifest to OUT",
        description="Snapshot the database (pg_dump custom format, or SQLite's online backup) "
        "into the new directory OUT, with a manifest: counts per table, audit chain head, "
        "key ids. The master key is never inside.",
    )
    command.add_argument("out", type=Path, metavar="OUT", help="a new (or empty) directory")
    command.add_argument(
        "--pg-bin", type=Path, metavar="DIR", help="directory of pg_dump (default: found)"
    )
    command.set_defaults(handler=_cmd_backup)

    command = subparsers.add_parser(
        "restore",
        help="restore a backup into an empty database, then verify it",
        description="Restore the backup directory IN into the (empty) database DATABASE_URL "
        "names, then check row counts, the audit chain, the keys and every seal. Exit 1 "
        "when any check fails.",
    )
    command.add_argument("source", type=Path, metavar="IN", help="a directory `backup` wrote")
    command.add_argument(
        "--pg-bin", type=Path, metavar="DIR", help="directory of pg_restore (default: found)"
    )
    add_json_flag(command)
    command.set_defaults(handler=_cmd_restore)
