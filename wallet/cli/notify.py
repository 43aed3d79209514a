"""``wallet notify``: run the holder notifier, or show where it stands."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal

from wallet.cli._base import Subparsers
from wallet.cli._output import add_json_flag, emit
from wallet.runtime import open_runtime
from wallet.settings import Settings
from wallet.uow import read_only

__all__ = ["register"]


async def _cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    async with open_runtime(settings) as rt:
        if args.once:
            report = await rt.notifier.run_once(reminders=True)
            outcomes = ", ".join(f"{k} {v}" for k, v in sorted(report.outcomes.items()))
            print(
                f"events {report.events}, reminders {report.reminders}, sends: {outcomes or 'none'}"
            )
            return 0
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(signum, stop.set)
        print(f"notifier running (a pass every {settings.notify_interval:g} s); Ctrl-C stops it")
        await rt.notifier.run(settings.notify_interval, stop)
    return 0


async def _cmd_status(args: argparse.Namespace, settings: Settings) -> int:
    async with open_runtime(settings) as rt, read_only() as uow:
        status = await rt.notifier.notifier.status(uow)
    if args.as_json:
        print(status.model_dump_json(indent=2))
        return 0
    due = status.oldest_due.isoformat(timespec="seconds") if status.oldest_due else "-"
    print(
        f"cursor {status.cursor} of {status.outbox_head} (backlog {status.backlog}); "
        f"oldest due {due}"
    )
    emit(
        [{"state": k, "count": v} for k, v in sorted(status.states.items())],
        ["state", "count"],
        as_json=False,
    )
    if status.failures:
        print("failed:")
        emit(
            [f.model_dump() for f in status.failures],
            ["id", "kind", "licence_ref", "attempts", "last_error", "updated_at"],
            as_json=False,
        )
    return 0


def register(subparsers: Subparsers) -> None:
    """Add ``notify run|status`` to the ``wallet`` command tree."""
    notify = subparsers.add_parser("notify", help="holder notifications by subscribe message")
    sub = notify.add_subparsers(dest="notify_command", required=True)
    run = sub.add_parser("run", help="plan and send notifications until stopped")
    run.add_argument("--once", action="store_true", help="one pass (reminders included), then exit")
    run.set_defaults(handler=_cmd_run, service_logs=True)
    status = sub.add_parser("status", help="the outbox cursor, backlog, states and failures")
    add_json_flag(status)
    status.set_defaults(handler=_cmd_status)
