"""The ``wallet`` console script: the domain's commands plus ``serve`` and ``demo``.

The domain's command groups live in :mod:`wallet.cli`; the two commands
that need the HTTP apps are added here, at the edge, so that ``wallet/``
never imports them: ``serve`` runs both apps under uvicorn and ``demo``
drives them in-process (:mod:`httpkit.demo`).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

import uvicorn

from httpkit.app import configure_logging
from httpkit.demo import base_url_from_env, check_base_url, run_demo
from httpkit.metrics import multiprocess_metrics
from wallet.cli import COMMANDS, Subparsers, run
from wallet.cli.migrate import migrate
from wallet.settings import Settings

__all__ = ["main"]


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    if args.workers > 1 and not settings.redis_url:
        print("--workers > 1 needs REDIS_URL: the in-process cache is per process", file=sys.stderr)
        return 2
    # uvicorn's own records (its tracebacks of a failed request among them) go through
    # the app's log formatter, which escapes what a request put in them.
    configure_logging(settings.log_level, settings.log_format)
    if args.workers > 1:
        # Each worker counts in its own files there; /metrics sums them (httpkit.metrics).
        multiprocess_metrics(settings.data_dir / "metrics")
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


async def _demo(args: argparse.Namespace, settings: Settings) -> int:
    await migrate(settings)
    print(await run_demo(settings, Path(args.out), args.base_url))
    return 0


def _register_serve(subparsers: Subparsers) -> None:
    serve = subparsers.add_parser("serve", help="run the backend and the verifier in one process")
    serve.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    serve.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    serve.add_argument("--workers", type=int, default=1)
    serve.set_defaults(sync_handler=_serve)


def _base_url(text: str) -> str:
    try:
        return check_base_url(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _register_demo(subparsers: Subparsers) -> None:
    demo = subparsers.add_parser(
        "demo", help="seed a province and print a QR to verify (embedded defaults)"
    )
    demo.add_argument("--out", default="var/demo", help="where to write the QR's PNG")
    demo.add_argument(
        "--base-url",
        type=_base_url,
        default=base_url_from_env(os.environ),
        help="where wallet serve runs, for the printed commands (default: from HOST and PORT)",
    )
    demo.set_defaults(handler=_demo)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``wallet`` console script."""
    return run(
        argv,
        [_register_serve, *COMMANDS, _register_demo],
        configure_logging=lambda settings: configure_logging(
            settings.log_level, settings.log_format
        ),
    )


if __name__ == "__main__":
    raise SystemExit(main())
