"""The command runner: builds the ``wallet`` parser and runs one command."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable, Coroutine, Iterable, Sequence
from typing import Any, TypeAlias

from wallet.errors import WalletError
from wallet.settings import Settings, load_settings

__all__ = ["Command", "Register", "Subparsers", "run"]

Command: TypeAlias = Callable[[argparse.Namespace, Settings], Coroutine[Any, Any, int]]
"""An async command: its arguments and the settings in, the exit code out."""

Subparsers: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"

Register: TypeAlias = Callable[["argparse._SubParsersAction[argparse.ArgumentParser]"], None]
"""Adds one command group to the ``wallet`` parser."""

DESCRIPTION = "The rtel-wallet command line: serve, migrate, keys, import, audit and more."


def _parser(groups: Iterable[Register]) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="wallet", description=DESCRIPTION)
    sub = parser.add_subparsers(dest="command", required=True)
    for register in groups:
        register(sub)
    return parser


def run(
    argv: Sequence[str] | None,
    groups: Iterable[Register],
    configure_logging: Callable[[Settings], None] | None = None,
) -> int:
    """Parse ``argv`` against the command ``groups`` and run the command; its exit code.

    A command sets ``handler`` (an async :data:`Command`) or ``sync_handler``
    (a plain function of the same arguments, for commands that run their own
    event loop, such as ``serve``), or ``plain_handler`` (a function of the
    arguments alone, for commands that must run without the deployment's
    settings, such as ``verify-offline``). A :class:`~wallet.errors.WalletError`
    becomes its message on stderr and exit code 1. Commands that run as
    services (``set_defaults(service_logs=True)``: the workers) log as the
    apps do, through ``configure_logging``; the others print only their output.
    """
    args = _parser(groups).parse_args(argv)
    if getattr(args, "plain_handler", None) is not None:
        # Loading settings would refuse to run where the deployment's
        # settings are absent or invalid, which a command of files alone must not.
        return int(args.plain_handler(args))
    try:
        settings = load_settings()
        if configure_logging is not None and getattr(args, "service_logs", False):
            configure_logging(settings)
        if getattr(args, "sync_handler", None) is not None:
            return int(args.sync_handler(args, settings))
        handler: Command = args.handler
        return asyncio.run(handler(args, settings))
    except WalletError as exc:
        print(f"wallet: {exc.detail}", file=sys.stderr)
        return 1
