"""How a record becomes a log line: one line per record, nothing in it can forge another.

Requests put values of their own into log records (the access log's path,
a decoded ``%0a`` included) and exceptions carry values in their messages
(a database driver quoting the value it refused). :class:`OneLineFormatter`
escapes every control character of the finished line (``\\n`` → ``\\\\n``, others
as ``\\\\xNN`` or ``\\\\uNNNN``), tracebacks included, and renders an exception as its
type and frames only: its message may be a rejected value, and is not logged.
"""

from __future__ import annotations

import logging
import re
import traceback
from types import TracebackType

__all__ = ["OneLineFormatter", "escape_controls"]

# C0 and C1 controls, DEL, and the Unicode line and paragraph separators: everything a
# terminal or a log shipper may take as the end of a line or an instruction.
_CONTROLS = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}

ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None]


def _escaped(match: re.Match[str]) -> str:
    char = match.group()
    return _NAMED.get(char) or (
        f"\\x{ord(char):02x}" if ord(char) <= 0xFF else f"\\u{ord(char):04x}"
    )


def escape_controls(text: str) -> str:
    """``text`` with every control character written as an escape sequence."""
    return _CONTROLS.sub(_escaped, text)


def _frames(exc: BaseException, seen: set[int]) -> list[str]:
    seen.add(id(exc))
    lines: list[str] = []
    cause = exc.__cause__ or (None if exc.__suppress_context__ else exc.__context__)
    if cause is not None and id(cause) not in seen:
        lines += [*_frames(cause, seen), "which led to\n"]
    lines.append("Traceback (most recent call last):\n")
    lines += traceback.format_tb(exc.__traceback__)
    kind = type(exc)
    lines.append(f"{kind.__module__}.{kind.__qualname__} (message not logged)\n")
    return lines


class OneLineFormatter(logging.Formatter):
    """``time level logger message``, control characters escaped, exceptions without messages."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s")

    def formatException(self, ei: ExcInfo | tuple[None, None, None]) -> str:
        exc = ei[1]
        if exc is None:
            return ""
        return "".join(_frames(exc, set())).rstrip("\n")

    def format(self, record: logging.LogRecord) -> str:
        # Another handler may have rendered (and cached) the traceback with its message.
        cached, record.exc_text = record.exc_text, None
        try:
            return escape_controls(super().format(record))
        finally:
            record.exc_text = cached
