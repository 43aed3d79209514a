"""``wallet audit``: verify the SM3 chain of the audit log, and anchor its head outside.

``verify`` walks the chain (exit 1 naming the first changed or deleted
entry); with ``--checkpoint FILE`` it also checks the checkpoint's root-key
signature and that the chain still passes through the entry it pins.
``checkpoint [--out FILE]`` signs the current head with the root key
(:mod:`wallet.audit.checkpoint`) and writes it to FILE (or stdout): run it
daily and keep the files where the database's operators cannot write.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import orjson

from wallet.audit.checkpoint import (
    CheckpointError,
    make_checkpoint,
    parse_checkpoint,
    reaches,
    verify_signature,
)
from wallet.audit.repository import AuditRepository
from wallet.audit.service import GENESIS, verify_chain
from wallet.cli._base import Subparsers
from wallet.crypto import parse_public_key_hex
from wallet.db import close_database, open_database
from wallet.errors import ConfigurationError, CryptoError
from wallet.runtime import open_runtime
from wallet.settings import Settings
from wallet.uow import read_only

__all__ = ["register"]


def _fail(message: str) -> int:
    print(f"audit chain check FAILED: {message}", file=sys.stderr)
    return 1


async def _check_against(args: argparse.Namespace, settings: Settings) -> int:
    try:
        checkpoint = parse_checkpoint(args.checkpoint.read_bytes())
    except OSError as exc:
        return _fail(f"cannot read {args.checkpoint}: {exc.strerror or type(exc).__name__}")
    except CheckpointError as exc:
        return _fail(f"{args.checkpoint} is not a checkpoint: {exc}")
    async with open_runtime(settings) as rt, read_only() as uow:
        if args.root_key is not None:
            try:
                public_key = parse_public_key_hex(args.root_key)
            except (ConfigurationError, CryptoError, ValueError):
                return _fail("--root-key is not an SM2 public key (04||x||y hex)")
        else:
            key = await rt.keys.verification_key(uow, checkpoint["kid"])
            if key is None or key.use != "root" or key.public_key != checkpoint["pub"]:
                return _fail(
                    f"the checkpoint's key {checkpoint['kid']} is not a trusted root key of "
                    "this database (pass the pinned root key with --root-key)"
                )
            public_key = bytes.fromhex(key.public_key)
        if not verify_signature(checkpoint, public_key, rt.sm2):
            return _fail(f"the signature of {args.checkpoint} does not verify")
        reach = await reaches(uow, checkpoint)
    if not reach.ok:
        return _fail(
            f"the chain no longer reaches the head of {args.checkpoint} "
            f"(entry {checkpoint['head']['id']}, {checkpoint['at']}): {reach.reason}"
        )
    print(
        f"audit chain intact: {reach.entries} entries; it passes through the checkpoint of "
        f"{checkpoint['at']} (entry {checkpoint['head']['id']}, signed by {checkpoint['kid']})"
    )
    return 0


async def _cmd_audit_verify(args: argparse.Namespace, settings: Settings) -> int:
    if args.checkpoint is not None:
        return await _check_against(args, settings)
    await open_database(settings)
    try:
        async with read_only() as uow:
            report = await verify_chain(uow)
    finally:
        await close_database()
    if report.ok:
        print(f"audit chain intact: {report.entries} entries")
        return 0
    print(
        f"audit chain BROKEN at entry {report.broken_at}: {report.reason} "
        f"({report.entries} entries verified before it)",
        file=sys.stderr,
    )
    return 1


async def _cmd_audit_checkpoint(args: argparse.Namespace, settings: Settings) -> int:
    async with open_runtime(settings) as rt, read_only() as uow:
        report = await verify_chain(uow)
        if not report.ok:
            return _fail(f"entry {report.broken_at}: {report.reason}; a broken chain is not signed")
        head = await AuditRepository().head(uow)
        root = await rt.keys.active_key(uow, "root")
        checkpoint = make_checkpoint(
            last_id=head.last_id if head else 0,
            last_hash=head.last_hash if head else GENESIS,
            entries=report.entries,
            at=rt.clock.now(),
            kid=root.kid,
            public_key=root.public_key,
            private_key=root.private_key,
            sm2=rt.sm2,
        )
    text = orjson.dumps(checkpoint, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n"
    if args.out is None:
        sys.stdout.write(text.decode())
        return 0
    out: Path = args.out
    partial = out.with_name(out.name + ".part")
    partial.write_bytes(text)
    os.replace(partial, out)  # a reader never sees half a checkpoint
    print(
        f"checkpoint of entry {checkpoint['head']['id']} ({report.entries} entries) "
        f"signed by {root.kid} written to {out}"
    )
    return 0


def register(subparsers: Subparsers) -> None:
    """Add ``audit verify|checkpoint`` to the ``wallet`` command tree."""
    audit = subparsers.add_parser("audit", help="audit log tools")
    sub = audit.add_subparsers(dest="audit_command", required=True)
    verify = sub.add_parser("verify", help="check the SM3 chain of the audit log")
    verify.add_argument(
        "--checkpoint",
        type=Path,
        metavar="FILE",
        help="also check that the chain still reaches this signed checkpoint",
    )
    verify.add_argument(
        "--root-key",
        metavar="HEX",
        help="the pinned root public key to check the checkpoint with (default: the "
        "database's key of the checkpoint's kid)",
    )
    verify.set_defaults(handler=_cmd_audit_verify)
    checkpoint = sub.add_parser(
        "checkpoint", help="sign the chain's head with the root key (keep the file outside)"
    )
    checkpoint.add_argument(
        "--out", type=Path, metavar="FILE", help="write the checkpoint here (default: stdout)"
    )
    checkpoint.set_defaults(handler=_cmd_audit_checkpoint)
