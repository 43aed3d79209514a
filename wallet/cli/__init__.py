"""The ``wallet`` command line: one module per command group.

The domain's commands live here (``migrate``, ``audit``, ``keys``,
``import``, ``authority``, ``officer``, ``verify-offline``); each module has a
``register`` function that adds its tree to the parser. This package is the
only code in ``wallet/`` that opens the :class:`~wallet.runtime.Runtime`, and
each command opens its own unit of work, except ``verify-offline``, which
works from files alone as an enforcement app would. ``serve`` and ``demo``
need the HTTP apps, which ``wallet/`` never imports: they are added by the
console entry point :mod:`httpkit.cli`, which calls :func:`run` with
:data:`COMMANDS` and its own.

Each command exits with 0 on success, 1 on a domain failure or a failed
check (message on stderr; ``doctor`` and ``restore`` print ``FAIL`` lines),
2 on bad usage; ``verify-offline`` exits 1 on any verdict but ``valid``, and
``import`` 130 when Ctrl-C stopped it between batches. Listing commands print
through :mod:`wallet.cli._output` (a table, or ``--json``); long ones report
through :mod:`wallet.cli._progress`. ``doctor``, ``backup`` and ``restore``
are the operator's (:mod:`wallet.operating`).
"""

from __future__ import annotations

from wallet.cli import (
    aggregate,
    audit,
    authority,
    backup,
    doctor,
    figures,
    imports,
    keys,
    maintenance,
    migrate,
    notify,
    officer,
    party,
    verify,
)
from wallet.cli._base import Command, Register, Subparsers, run

__all__ = ["COMMANDS", "Command", "Register", "Subparsers", "run"]

COMMANDS: tuple[Register, ...] = (
    migrate.register,
    audit.register,
    keys.register,
    imports.register,
    authority.register,
    officer.register,
    party.register,
    verify.register,
    doctor.register,
    backup.register,
    aggregate.register,
    notify.register,
    figures.register,
    maintenance.register,
)
"""The domain's command groups, in the order ``wallet --help`` lists them."""
