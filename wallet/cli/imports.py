"""``wallet import FILE``: registry versions from a JSON Lines or CSV file.

``wallet import FILE [--format jsonl|csv] [--rejects PATH] [--actor NAME]
[--batch N] [--workers N]`` streams the rows of FILE into the registry
(:mod:`wallet.licences.import_files` describes the formats and the reject
report) and prints a summary (read, created, unchanged, rejected, rows/s).
It exits 0 when the run completed, rejected rows or not, and 1 when the
file cannot be read as a whole (unreadable, unknown format, bad CSV header).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from wallet.cli._base import Subparsers
from wallet.licences.import_files import (
    ImportFileError,
    RejectReport,
    format_summary,
    open_source,
)
from wallet.licences.importer import DEFAULT_BATCH, default_workers, import_rows
from wallet.runtime import open_runtime
from wallet.settings import Settings

__all__ = ["register"]

_MAX_BATCH = 20_000


def _batch_size(text: str) -> int:
    value = int(text)
    if not 1 <= value <= _MAX_BATCH:
        raise argparse.ArgumentTypeError(f"a batch holds 1 to {_MAX_BATCH} rows")
    return value


def _workers(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError("workers cannot be negative")
    return value


def _fatal(message: str) -> int:
    print(f"wallet import: {message}", file=sys.stderr)
    return 1


async def _cmd_import(args: argparse.Namespace, settings: Settings) -> int:
    path: Path = args.file
    rejects: Path = args.rejects or path.with_name(path.name + ".rejects.csv")
    try:
        source = open_source(path, args.format)
    except OSError as exc:
        return _fatal(f"cannot read {path}: {exc.strerror or type(exc).__name__}")
    except ImportFileError as exc:
        return _fatal(exc.detail)
    with source:
        try:
            report = RejectReport(rejects)
        except OSError as exc:
            return _fatal(f"cannot write {rejects}: {exc.strerror or type(exc).__name__}")
        with report:
            async with open_runtime(settings) as rt:
                try:
                    stats = await import_rows(
                        rt.registry,
                        source,
                        source=source.name,
                        rejects=report,
                        actor=args.actor,
                        batch_size=args.batch,
                        workers=args.workers,
                    )
                except ImportFileError as exc:
                    # Batches before the broken line are applied; a rerun leaves them unchanged.
                    return _fatal(exc.detail)
                except OSError as exc:
                    return _fatal(f"reading {path} failed: {exc.strerror or type(exc).__name__}")
    print(format_summary(stats, rejects))
    return 0


def register(subparsers: Subparsers) -> None:
    """Add ``import`` to the ``wallet`` command tree."""
    command = subparsers.add_parser(
        "import",
        help="import licence versions from a JSON Lines or CSV file",
        description="Import licence versions (one feed body per row) from JSON Lines or CSV; "
        "idempotent by kind + number + version.",
    )
    command.add_argument("file", type=Path, metavar="FILE")
    command.add_argument(
        "--format", choices=("jsonl", "csv"), help="file format (default: by the file suffix)"
    )
    command.add_argument(
        "--rejects",
        type=Path,
        metavar="PATH",
        help="reject report, CSV or .jsonl (default: FILE.rejects.csv)",
    )
    command.add_argument(
        "--actor", default="import", metavar="NAME", help="who the versions are recorded as"
    )
    command.add_argument(
        "--batch",
        type=_batch_size,
        default=DEFAULT_BATCH,
        metavar="N",
        help=f"rows per transaction (default {DEFAULT_BATCH})",
    )
    command.add_argument(
        "--workers",
        type=_workers,
        default=default_workers(),
        metavar="N",
        help="seal (SM2) worker processes; 0 seals in this process "
        f"(default here: {default_workers()})",
    )
    command.set_defaults(handler=_cmd_import)
