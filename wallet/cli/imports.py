"""``wallet import FILE``: registry versions from a JSON Lines or CSV file.

``wallet import FILE [--format jsonl|csv] [--rejects PATH] [--actor NAME]
[--batch N] [--workers N]`` streams the rows of FILE into the registry
(:mod:`wallet.licences.import_files` describes the formats and the reject
report) and prints a summary (read, created, unchanged, rejected, rows/s).
While it runs, stderr shows the rows done out of the file's rows, the rate
and the time left (a bar on a terminal, a plain line every
``--progress-every`` seconds elsewhere). Ctrl-C stops it after the batch in
flight, which commits: the command says where it stopped, and running it
again resumes (rows already imported are found unchanged; a second Ctrl-C
stops at once, rolling that batch back). It exits 0 when the run completed,
rejected rows or not, 1 when the file cannot be read as a whole
(unreadable, unknown format, bad CSV header) and 130 when stopped by Ctrl-C.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from wallet.cli._base import Subparsers
from wallet.cli._progress import INTERRUPTED, GracefulStop, Progress
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
_CHUNK = 1 << 20


def count_rows(path: Path, file_format: str) -> int:
    """The rows of an import file, estimated by its lines (for the progress's total).

    One pass over the bytes (about a second per gigabyte): blank lines and a
    CSV's header are not rows; a CSV cell with a line break makes it an
    overestimate, which the progress corrects at the end.
    """
    lines, blank, last = 0, 0, b"\n"
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            lines += chunk.count(b"\n")
            blank += chunk.count(b"\n\n") + int(chunk[:1] == b"\n" and last == b"\n")
            last = chunk[-1:]
    if last != b"\n":
        lines += 1
    rows = lines - blank
    return max(0, rows - 1 if file_format == "csv" else rows)


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
        progress = Progress(
            f"import {source.name}",
            count_rows(path, source.format),
            interval=args.progress_every,
        )
        # A second Ctrl-C ends the process: the batch in flight is never committed.
        stop = GracefulStop(
            abort_notice="stopped at once by a second Ctrl-C: the batch in flight is not "
            "imported, those before it are. Run the same command again to resume "
            "(imported rows are found unchanged)."
        )
        with report, progress, stop:
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
                        progress=lambda counts: progress.update(counts.read),
                        stop=stop,
                    )
                except ImportFileError as exc:
                    # Batches before the broken line are applied; a rerun leaves them unchanged.
                    return _fatal(exc.detail)
                except OSError as exc:
                    return _fatal(f"reading {path} failed: {exc.strerror or type(exc).__name__}")
    print(format_summary(stats, rejects))
    if stats.interrupted:
        print(
            f"stopped by Ctrl-C after line {stats.last_line}: everything up to it is imported. "
            "Run the same command again to resume (imported rows are found unchanged).",
            file=sys.stderr,
        )
        return INTERRUPTED
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
        help="worker processes that check rows and seal (SM2); 0 works in this process "
        f"(default here: {default_workers()})",
    )
    command.add_argument(
        "--progress-every",
        type=float,
        default=10.0,
        metavar="S",
        help="seconds between progress lines when stderr is not a terminal (default 10)",
    )
    command.set_defaults(handler=_cmd_import)
