"""The ``wallet`` command line: serve, migrate, audit (more subcommands per domain).

Each command opens what it needs (settings, database, keys) and exits with 0
on success, 1 on a domain failure (message on stderr), 2 on bad usage.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Awaitable, Callable, Sequence

from wallet.errors import WalletError
from wallet.settings import Settings, load_settings

__all__ = ["main"]

Command = Callable[[argparse.Namespace, Settings], Awaitable[int]]


async def _cmd_migrate(args: argparse.Namespace, settings: Settings) -> int:
    from wallet.db import migrate_database

    await migrate_database(settings)
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
    print(f"audit chain BROKEN at entry {report.broken_at}: {report.reason} "
          f"({report.entries} entries verified before it)", file=sys.stderr)
    return 1


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    if args.workers > 1 and not settings.redis_url:
        print("--workers > 1 needs REDIS_URL: the in-process cache is per process", file=sys.stderr)
        return 2
    uvicorn.run(
        "httpkit.combined:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_level=settings.log_level.lower(),
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
