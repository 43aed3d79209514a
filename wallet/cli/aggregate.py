"""``wallet aggregate``: push the outbox to the ministry, show the backlog, re-send failures.

``run [--once] [--workers N]`` runs workers until interrupted (``--once``:
until nothing is due now) and prints what they did; several workers need
PostgreSQL (row locks keep them apart), SQLite runs one. ``status [--json]``
shows the events not acknowledged yet, the oldest one's age and the failed
ones by reason. ``resend --reason R | --all-failed`` makes failed batches
due now.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys

from wallet.aggregation.ministry import REASONS
from wallet.aggregation.worker import run_workers
from wallet.cli._base import Subparsers
from wallet.cli._output import add_json_flag, emit
from wallet.runtime import open_runtime
from wallet.settings import Settings
from wallet.uow import read_only, unit_of_work

__all__ = ["register"]

_MAX_WORKERS = 16


def _workers(text: str) -> int:
    value = int(text)
    if not 1 <= value <= _MAX_WORKERS:
        raise argparse.ArgumentTypeError(f"1 to {_MAX_WORKERS} workers")
    return value


async def _cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    if args.workers > 1 and settings.is_embedded_database:
        print(
            "wallet aggregate: --workers > 1 needs PostgreSQL (SQLite runs one worker)",
            file=sys.stderr,
        )
        return 2
    async with open_runtime(settings) as rt:
        if args.once:
            stats = await run_workers(rt.aggregator, args.workers)
        else:
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                with contextlib.suppress(NotImplementedError):
                    loop.add_signal_handler(sig, stop.set)
            stats = await run_workers(rt.aggregator, args.workers, stop)
        async with read_only() as uow:
            left = await rt.aggregator.backlog(uow)
    print(
        f"batches sent {stats.batches_sent}, failed {stats.batches_failed}; "
        f"events acknowledged {stats.events_acknowledged}; pending {left.pending} "
        f"({left.failed_total} after a failure)"
    )
    return 0


async def _cmd_status(args: argparse.Namespace, settings: Settings) -> int:
    async with open_runtime(settings) as rt, read_only() as uow:
        backlog = await rt.aggregator.backlog(uow)
    rows: list[dict[str, object]] = [
        {
            "state": "pending",
            "reason": None,
            "events": backlog.pending,
            "oldest_age_s": round(backlog.oldest_age_seconds, 1),
        }
    ]
    rows += [
        {"state": "failed", "reason": reason, "events": count, "oldest_age_s": None}
        for reason, count in sorted(backlog.failed.items())
    ]
    emit(rows, ("state", "reason", "events", "oldest_age_s"), as_json=args.as_json)
    return 0


async def _cmd_resend(args: argparse.Namespace, settings: Settings) -> int:
    reason = None if args.all_failed else args.reason
    async with open_runtime(settings) as rt, unit_of_work() as uow:
        count = await rt.aggregator.resend(uow, reason)
    print(f"{count} failed events due now")
    return 0


def register(subparsers: Subparsers) -> None:
    """Add ``aggregate run|status|resend`` to the ``wallet`` command tree."""
    aggregate = subparsers.add_parser(
        "aggregate", help="push licence changes to the ministry (归集) and watch the backlog"
    )
    sub = aggregate.add_subparsers(dest="aggregate_command", required=True)
    run = sub.add_parser("run", help="run aggregation workers")
    run.add_argument("--once", action="store_true", help="stop when nothing is due now")
    run.add_argument(
        "--workers",
        type=_workers,
        default=1,
        metavar="N",
        help="workers at once (more than one needs PostgreSQL)",
    )
    run.set_defaults(handler=_cmd_run, service_logs=True)
    status = sub.add_parser("status", help="backlog, oldest pending age, failures by reason")
    add_json_flag(status)
    status.set_defaults(handler=_cmd_status)
    resend = sub.add_parser("resend", help="make failed batches due now")
    which = resend.add_mutually_exclusive_group(required=True)
    which.add_argument("--reason", choices=REASONS, help="only failures of this reason")
    which.add_argument("--all-failed", action="store_true", help="every failed batch")
    resend.set_defaults(handler=_cmd_resend)
