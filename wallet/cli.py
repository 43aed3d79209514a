"""The ``wallet`` command line: serve, migrate, audit (more subcommands per domain).

Each command opens what it needs (settings, database, keys) and exits with 0
on success, 1 on a domain failure (message on stderr), 2 on bad usage.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Callable, Coroutine, Sequence
from pathlib import Path
from typing import Any

from wallet.errors import WalletError
from wallet.settings import Settings, load_settings

__all__ = ["main"]

Command = Callable[[argparse.Namespace, Settings], Coroutine[Any, Any, int]]


async def _migrate(settings: Settings) -> None:
    from wallet.db import migrate_database
    from wallet.masterkey import load_master_key

    if settings.is_embedded_database:
        # On the embedded defaults the development master key is made before the
        # database, never after it (load_master_key refuses that order).
        load_master_key(settings)
    await migrate_database(settings)


async def _cmd_migrate(args: argparse.Namespace, settings: Settings) -> int:
    await _migrate(settings)
    print("migrations applied")
    return 0


async def _cmd_audit_verify(args: argparse.Namespace, settings: Settings) -> int:
    from wallet.audit.service import verify_chain
    from wallet.db import close_database, open_database

    await open_database(settings)
    try:
        report = await verify_chain()
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


async def _cmd_authority_add(args: argparse.Namespace, settings: Settings) -> int:
    from wallet import identifiers
    from wallet.authority.signing import create_client
    from wallet.runtime import open_runtime

    if args.division != "000000":
        identifiers.division_code(args.division)
    async with open_runtime(settings) as rt:
        client, secret = await create_client(
            rt.vault,
            name=args.name,
            division=args.division,
            now=rt.clock.now(),
            sm2_public_key=args.sm2_public_key,
        )
    print(f"client_id: {client.client_id}")
    print(f"secret:    {secret}")
    print("the secret is shown once: store it in the client system now")
    return 0


async def _cmd_authority_list(args: argparse.Namespace, settings: Settings) -> int:
    from wallet.authority.models import AuthorityClient
    from wallet.db import close_database, open_database

    await open_database(settings)
    try:
        rows = await AuthorityClient.all().order_by("id")
    finally:
        await close_database()
    print(f"{'client_id':<20} {'division':<8} {'enabled':<7} {'sm2':<3} name")
    for row in rows:
        print(
            f"{row.client_id:<20} {row.division:<8} {row.enabled!s:<7} "
            f"{'yes' if row.sm2_public_key else 'no':<3} {row.name}"
        )
    return 0


async def _cmd_officer_add(args: argparse.Namespace, settings: Settings) -> int:
    import getpass

    from wallet.runtime import open_runtime
    from wallet.uow import unit_of_work

    password = os.environ.get("WALLET_OFFICER_PASSWORD") or getpass.getpass("password: ")
    async with open_runtime(settings) as rt, unit_of_work() as uow:
        officer = await rt.officers.add(
            uow,
            badge=args.badge,
            name=args.name,
            division=args.division,
            role=args.role,
            password=password,
            device_id=args.device,
            now=rt.clock.now(),
        )
    print(
        f"officer {officer.badge} ({officer.role}, {officer.division}) "
        f"on device {officer.device_id}"
    )
    return 0


async def _cmd_officer_enable(args: argparse.Namespace, settings: Settings) -> int:
    from wallet.runtime import open_runtime
    from wallet.uow import unit_of_work

    async with open_runtime(settings) as rt, unit_of_work() as uow:
        officer = await rt.officers.set_enabled(uow, args.badge, args.enable)
    print(f"officer {officer.badge} {'enabled' if officer.enabled else 'disabled'}")
    return 0


async def _cmd_officer_list(args: argparse.Namespace, settings: Settings) -> int:
    from wallet.db import close_database, open_database
    from wallet.officers.models import Officer

    await open_database(settings)
    try:
        rows = await Officer.all().order_by("division", "badge")
    finally:
        await close_database()
    print(f"{'badge':<12} {'division':<8} {'role':<10} {'enabled':<7} device")
    for row in rows:
        print(
            f"{row.badge:<12} {row.division:<8} {row.role:<10} {row.enabled!s:<7} {row.device_id}"
        )
    return 0


async def _cmd_demo(args: argparse.Namespace, settings: Settings) -> int:
    import importlib

    await _migrate(settings)
    # The demo drives the real HTTP API in-process; wallet/ itself stays free of HTTP.
    demo = importlib.import_module("miniprogram_api.demo")
    print(await demo.run_demo(settings, Path(args.out)))
    return 0


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    import importlib

    import uvicorn

    if args.workers > 1 and not settings.redis_url:
        print("--workers > 1 needs REDIS_URL: the in-process cache is per process", file=sys.stderr)
        return 2
    # uvicorn's own records (its tracebacks of a failed request among them) go through
    # the app's log formatter, which escapes what a request put in them.
    importlib.import_module("httpkit.app").configure_logging(settings.log_level)
    uvicorn.run(
        "httpkit.combined:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_level=settings.log_level.lower(),
        log_config=None,
        access_log=False,
    )
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="wallet", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the backend and the verifier in one process")
    serve.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    serve.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    serve.add_argument("--workers", type=int, default=1)
    serve.set_defaults(sync_handler=_serve)

    migrate = sub.add_parser("migrate", help="apply pending database migrations")
    migrate.set_defaults(handler=_cmd_migrate)

    audit = sub.add_parser("audit", help="audit log tools")
    audit_sub = audit.add_subparsers(dest="audit_command", required=True)
    verify = audit_sub.add_parser("verify", help="check the SM3 chain of the audit log")
    verify.set_defaults(handler=_cmd_audit_verify)

    from wallet.keys.cli import register as register_keys

    register_keys(sub)

    from wallet.licences.import_cli import register as register_import

    register_import(sub)

    authority = sub.add_parser("authority", help="authority API clients")
    authority_sub = authority.add_subparsers(dest="authority_command", required=True)
    add_client = authority_sub.add_parser(
        "add-client", help="register a client; prints its secret once"
    )
    add_client.add_argument("--name", required=True)
    add_client.add_argument(
        "--division",
        required=True,
        help="scope: 210000 = province, 210100 = city, 000000 = national",
    )
    add_client.add_argument("--sm2-public-key", help="04… hex, to accept SM2-signed requests")
    add_client.set_defaults(handler=_cmd_authority_add)
    authority_sub.add_parser("list-clients").set_defaults(handler=_cmd_authority_list)

    officer = sub.add_parser("officer", help="enforcement officer accounts")
    officer_sub = officer.add_subparsers(dest="officer_command", required=True)
    add = officer_sub.add_parser(
        "add", help="add an officer (password from WALLET_OFFICER_PASSWORD or a prompt)"
    )
    add.add_argument("--badge", required=True)
    add.add_argument("--name", required=True)
    add.add_argument("--division", required=True)
    add.add_argument("--role", choices=["inspector", "supervisor"], default="inspector")
    add.add_argument("--device", required=True, help="the enforcement device id it signs in from")
    add.set_defaults(handler=_cmd_officer_add)
    for name, enable in (("disable", False), ("enable", True)):
        cmd = officer_sub.add_parser(name)
        cmd.add_argument("badge")
        cmd.set_defaults(handler=_cmd_officer_enable, enable=enable)
    officer_sub.add_parser("list").set_defaults(handler=_cmd_officer_list)

    demo = sub.add_parser(
        "demo", help="seed a province and print a QR to verify (embedded defaults)"
    )
    demo.add_argument("--out", default="var/demo", help="where to write the QR's PNG")
    demo.set_defaults(handler=_cmd_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``wallet`` console script."""
    args = _parser().parse_args(argv)
    try:
        settings = load_settings()
        if getattr(args, "sync_handler", None) is not None:
            return int(args.sync_handler(args, settings))
        handler: Command = args.handler
        return asyncio.run(handler(args, settings))
    except WalletError as exc:
        print(f"wallet: {exc.detail}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
