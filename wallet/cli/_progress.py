"""Progress of long commands, and a Ctrl-C that stops them between batches.

:class:`Progress` reports a count on stderr: on a terminal a bar with the
count, the rate and the time left (tqdm), elsewhere (a log file, a pipe, a
cron mail) one plain line every ``interval`` seconds and one at the end, so a
log shows the run advancing without a line per batch.

:class:`GracefulStop` turns the first Ctrl-C (SIGINT) into a request the
command reads between batches (``if stop.requested: break``), so the batch in
flight commits and the command can say how to resume; a second Ctrl-C ends
the process at once (exit 130): its open transaction is never committed, so
the database rolls it back, and what a commit had not yet put in the cache is
a pending marker that readers take for a miss. Used by ``wallet import`` and
by every command that works through batches.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from collections.abc import Callable
from types import FrameType, TracebackType
from typing import Any, TextIO

from tqdm import tqdm  # type: ignore[import-untyped]

__all__ = ["INTERRUPTED", "GracefulStop", "Progress", "format_duration"]


def format_duration(seconds: float) -> str:
    """``3h02m``, ``4m05s`` or ``12s``."""
    whole = max(0, round(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes:02d}m"
    if minutes:
        return f"{minutes}m{secs:02d}s"
    return f"{secs}s"


class Progress:
    """A count of ``unit`` done out of ``total`` (``None``: unknown), reported on ``stream``.

    ``interactive`` chooses the bar (default: whether ``stream`` is a
    terminal); ``interval`` is the seconds between plain lines; ``clock`` is
    monotonic seconds (tests pass their own). Call :meth:`update` with the
    count done so far and :meth:`close` (or leave the ``with`` block) at the end.
    """

    def __init__(
        self,
        label: str,
        total: int | None,
        *,
        unit: str = "rows",
        stream: TextIO | None = None,
        interactive: bool | None = None,
        interval: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.label = label
        self.total = total
        self.unit = unit
        self.done = 0
        self._stream = stream if stream is not None else sys.stderr
        if interactive is None:
            interactive = bool(getattr(self._stream, "isatty", lambda: False)())
        self._interval = interval
        self._clock = clock
        self._started = clock()
        self._last_line = self._started
        self._written: int | None = None
        self._closed = False
        self._bar: Any = None
        if interactive:
            self._bar = tqdm(
                total=total,
                desc=label,
                unit=f" {unit}",
                file=self._stream,
                dynamic_ncols=True,
                smoothing=0.1,
                leave=True,
            )

    def __enter__(self) -> Progress:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def rate(self) -> float:
        """Units per second since the start."""
        elapsed = self._clock() - self._started
        return self.done / elapsed if elapsed > 0 else 0.0

    def line(self) -> str:
        """The plain line: count, share of the total, rate and time left."""
        parts = [f"{self.label}: {self.done}"]
        if self.total:
            share = min(100.0, 100.0 * self.done / self.total)
            parts[0] += f"/{self.total} {self.unit} ({share:.0f}%)"
        else:
            parts[0] += f" {self.unit}"
        rate = self.rate
        parts.append(f"{rate:.0f} {self.unit}/s")
        if self.total and rate > 0 and self.done < self.total:
            parts.append(f"ETA {format_duration((self.total - self.done) / rate)}")
        parts.append(f"elapsed {format_duration(self._clock() - self._started)}")
        return ", ".join(parts)

    def update(self, done: int) -> None:
        """Set the count done so far (it only grows)."""
        if done < self.done or self._closed:
            return
        step, self.done = done - self.done, done
        if self.total is not None and done > self.total:
            # The total was an estimate (lines of a file): never show more than 100 %.
            self.total = done
            if self._bar is not None:
                self._bar.total = done
        if self._bar is not None:
            self._bar.update(step)
            return
        now = self._clock()
        if now - self._last_line >= self._interval:
            self._last_line = now
            self._write(self.line())

    def close(self) -> None:
        """End the report: close the bar, or write the last plain line."""
        if self._closed:
            return
        self._closed = True
        if self._bar is not None:
            self._bar.close()
        elif self._written != self.done:
            self._write(self.line())

    def _write(self, text: str) -> None:
        self._written = self.done
        self._stream.write(text + "\n")
        self._stream.flush()


INTERRUPTED = 130
"""The exit code of a command stopped by Ctrl-C (128 + SIGINT, as shells report it)."""


def _exit_at_once() -> None:
    sys.stdout.flush()
    sys.stderr.flush()
    # Not an exception: one raised mid-statement could leave the database driver's
    # state half-closed; ending the process leaves the transaction uncommitted.
    os._exit(INTERRUPTED)


class GracefulStop:
    """The first Ctrl-C asks the running command to stop after its current batch.

    Inside ``with GracefulStop(...) as stop`` (on the event loop's thread),
    SIGINT sets :attr:`requested` and prints ``notice``; a second SIGINT
    prints ``abort_notice`` and calls ``abort`` (default: end the process with
    exit 130). On leaving, the previous SIGINT handler is back. Where the loop
    cannot take signal handlers (not the main thread, Windows), Ctrl-C keeps
    its usual effect.
    """

    def __init__(
        self,
        notice: str = "stopping after the current batch (Ctrl-C again to stop at once)",
        *,
        abort_notice: str = "stopped at once: the batch in flight is not applied",
        abort: Callable[[], None] = _exit_at_once,
        stream: TextIO | None = None,
    ) -> None:
        self.notice = notice
        self.abort_notice = abort_notice
        self.requested = False
        self._abort = abort
        self._stream = stream if stream is not None else sys.stderr
        self._loop: asyncio.AbstractEventLoop | None = None
        self._previous: Callable[[int, FrameType | None], Any] | int | None = None

    def __call__(self) -> bool:
        """Whether a stop was asked for (so the object itself is a ``stop`` callback)."""
        return self.requested

    def request(self) -> None:
        """What the first Ctrl-C does (a second one aborts)."""
        if self.requested:
            self._stream.write(f"\n{self.abort_notice}\n")
            self._stream.flush()
            self._abort()
            return
        self.requested = True
        self._stream.write(f"\n{self.notice}\n")
        self._stream.flush()

    def __enter__(self) -> GracefulStop:
        self._loop = asyncio.get_running_loop()
        self._previous = signal.getsignal(signal.SIGINT)
        try:
            self._loop.add_signal_handler(signal.SIGINT, self.request)
        except (NotImplementedError, RuntimeError, ValueError):
            self._loop = None
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._loop is None:
            return
        self._loop.remove_signal_handler(signal.SIGINT)
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
        self._loop = None
