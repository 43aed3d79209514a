"""The verification spool: a local write-ahead file for log rows the database refused.

An answered verdict must have a durable record (DESIGN §7). When the
database cannot take a batch of log rows, the verifier appends them here —
one JSON object a line, written and ``fsync``'d before the verdicts are
answered — and a background task drains the spool into the database once it
answers again. Every row carries a random ``record_id`` that the table holds
unique, and the drain inserts with "on conflict do nothing": a drain that
dies after its insert and before it truncates the file, or a row that the
database committed although its insert timed out, is never counted twice.

Each process appends to its own file, ``verifications-<pid>.jsonl`` in the
spool directory, under an exclusive ``flock``; a drain takes the same lock
on every file of the directory it can get without waiting, so the files of
processes that have exited are drained by whoever runs next. The rows hold
the officer's id, badge, division and device, the verdict, the licence
reference and the token id: never any face data.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
from collections.abc import Awaitable, Callable, Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, Final
from uuid import UUID

import orjson

__all__ = ["SPOOL_COLUMNS", "SpoolRow", "VerificationSpool"]

log = logging.getLogger(__name__)

SpoolRow = tuple[Any, ...]
"""One log row, in the order of :data:`SPOOL_COLUMNS`."""

SPOOL_COLUMNS: Final = (
    "record_id",
    "at",
    "officer_id",
    "officer_badge",
    "officer_division",
    "device_id",
    "mode",
    "verdict",
    "licence_ref",
    "token_id",
)
DRAIN_CHUNK: Final = 5000
"""Rows per insert while draining (a long outage leaves many)."""


class VerificationSpool:
    """Append-only spool files of verification log rows in ``directory``."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.path = directory / f"verifications-{os.getpid()}.jsonl"

    def append(self, rows: Sequence[SpoolRow]) -> None:
        """Write ``rows`` to this process's file and ``fsync`` it; raises ``OSError``.

        Blocking: call it from a worker thread. A failed write is cut off
        again, so the file never holds half a line that the next append
        would run into.
        """
        data = b"".join(_encode(row) for row in rows)
        self.directory.mkdir(parents=True, exist_ok=True)
        fd = self._open_locked()
        try:
            size = os.fstat(fd).st_size
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view) :]
                os.fsync(fd)
            except OSError:
                with contextlib.suppress(OSError):
                    os.ftruncate(fd, size)
                raise
        finally:
            os.close(fd)  # closing releases the lock

    def _open_locked(self) -> int:
        """This process's file, open for appending and locked."""
        while True:
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            fcntl.flock(fd, fcntl.LOCK_EX)
            if os.fstat(fd).st_nlink > 0:
                return fd
            # A drain emptied and removed the file while we waited for its lock.
            os.close(fd)

    def pending(self) -> bool:
        """Whether any spool file of the directory holds rows."""
        for path in self._files():
            with contextlib.suppress(FileNotFoundError):
                if path.stat().st_size > 0:
                    return True
        return False

    async def drain(self, insert: Callable[[list[SpoolRow]], Awaitable[None]]) -> int:
        """Insert every spooled row with ``insert``, then empty the files; rows drained.

        ``insert`` must ignore rows whose ``record_id`` is already stored and
        raise when the database does not take them: the file is kept, and
        the next drain tries again. A file locked by another drain (or by an
        append in progress) is left for the next round.
        """
        drained = 0
        for path in self._files():
            try:
                fd = os.open(path, os.O_RDWR)
            except FileNotFoundError:
                continue
            except OSError:
                log.error("verification spool %s cannot be opened; left alone", path.name)
                continue
            try:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    continue
                rows = list(_decode(path, _read_all(fd)))
                for start in range(0, len(rows), DRAIN_CHUNK):
                    await insert(rows[start : start + DRAIN_CHUNK])
                # Only now: a crash before this line leaves rows that the next
                # drain inserts again, and their record ids make that a no-op.
                os.ftruncate(fd, 0)
                os.fsync(fd)
                if path != self.path:
                    path.unlink(missing_ok=True)  # its process has moved on or gone
                drained += len(rows)
            finally:
                os.close(fd)
        if drained:
            log.warning("verification spool drained: %d records now in the database", drained)
        return drained

    def _files(self) -> list[Path]:
        try:
            return sorted(self.directory.glob("verifications-*.jsonl"))
        except OSError:
            return []


def _encode(row: SpoolRow) -> bytes:
    record = dict(zip(SPOOL_COLUMNS, row, strict=True))
    record["record_id"] = str(record["record_id"])
    return orjson.dumps(record, option=orjson.OPT_APPEND_NEWLINE)


def _read_all(fd: int) -> bytes:
    os.lseek(fd, 0, os.SEEK_SET)
    chunks = []
    while chunk := os.read(fd, 1 << 20):
        chunks.append(chunk)
    return b"".join(chunks)


def _decode(path: Path, data: bytes) -> Iterator[SpoolRow]:
    for number, line in enumerate(data.splitlines(), 1):
        try:
            record = orjson.loads(line)
            yield (
                UUID(record["record_id"]),
                datetime.fromisoformat(record["at"]),
                *(record[name] for name in SPOOL_COLUMNS[2:]),
            )
        except (ValueError, KeyError, TypeError):
            # Only a line whose write failed can be torn, and its verdict was
            # not answered; keep going so one bad line cannot block the rest.
            log.error("verification spool %s line %d unreadable; skipped", path.name, number)
