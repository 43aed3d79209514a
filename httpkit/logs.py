"""How a record becomes a log line: one line per record, nothing in it can forge another.

Requests put values of their own into log records (the access log's path,
a decoded ``%0a`` included) and exceptions carry values in their messages
(a database driver quoting the value it refused). :class:`OneLineFormatter`
escapes every control character of the finished line (``\\n`` → ``\\\\n``, others
as ``\\\\xNN`` or ``\\\\uNNNN``), tracebacks included, and renders an exception as its
type and frames only: its message may be a rejected value, and is not logged.

:class:`JSONFormatter` (the default of ``wallet serve``, ``WALLET_LOG_FORMAT``)
writes the same record as one JSON object per line: ``time``, ``level``,
``logger``, ``message``, the ``request_id`` of the request in flight
(:data:`REQUEST_ID`, set by :mod:`httpkit.middleware`), the access line's
``method``, ``route`` (the template, never the path), ``status`` and
``duration_ms``, and ``exception`` (type and frames). JSON escapes the C0
controls; the formatter escapes the rest (DEL, C1, U+2028/9) as ``\\uNNNN``.
"""

from __future__ import annotations

import json
import logging
import re
import time
import traceback
from contextvars import ContextVar
from types import TracebackType
from typing import Any, Final

import orjson

__all__ = ["REQUEST_ID", "JSONFormatter", "OneLineFormatter", "escape_controls"]

REQUEST_ID: Final[ContextVar[str | None]] = ContextVar("request_id", default=None)
"""The id of the request the running code serves (``None`` outside requests)."""

#: Attributes an access record carries (``logger.info(..., extra=...)``), copied as fields.
ACCESS_FIELDS: Final = ("method", "route", "status", "duration_ms")

# C0 and C1 controls, DEL, and the Unicode line and paragraph separators: everything a
# terminal or a log shipper may take as the end of a line or an instruction.
_CONTROLS = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
# What JSON leaves as it is among those: in an encoded document they occur only inside
# strings, where an escape sequence stands for the same character.
_JSON_RAW_CONTROLS = re.compile("[\x7f-\x9f\u2028\u2029]")

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
    """``time level logger message rid=…``, control characters escaped, exceptions without
    messages (``WALLET_LOG_FORMAT=text``)."""

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
            line = super().format(record)
        finally:
            record.exc_text = cached
        rid = getattr(record, "request_id", None) or REQUEST_ID.get()
        return escape_controls(line if rid is None else f"{line} rid={rid}")


def _json_escaped(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group()):04x}"


class JSONFormatter(logging.Formatter):
    """One JSON object per line; control characters escaped, exceptions without messages."""

    def __init__(self) -> None:
        super().__init__()
        self._second: tuple[int, str] = (-1, "")  # the last second formatted, and its text

    def _time(self, created: float) -> str:
        """``2026-11-26T08:00:00.123+00:00`` (UTC, milliseconds)."""
        second = int(created)
        cached = self._second
        if cached[0] != second:
            cached = (second, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second)))
            self._second = cached
        return f"{cached[1]}.{int((created - second) * 1000):03d}+00:00"

    def formatException(self, ei: ExcInfo | tuple[None, None, None]) -> str:
        exc = ei[1]
        if exc is None:
            return ""
        return "".join(_frames(exc, set())).rstrip("\n")

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": self._time(record.created),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        rid = getattr(record, "request_id", None) or REQUEST_ID.get()
        if rid is not None:
            entry["request_id"] = rid
        for name in ACCESS_FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                entry[name] = value
        if record.exc_info and record.exc_info[1] is not None:
            entry["exception"] = self.formatException(record.exc_info)
        elif record.stack_info:
            entry["stack"] = record.stack_info
        try:
            text = orjson.dumps(entry, default=str).decode()
        except TypeError:  # a lone surrogate (orjson refuses it): the slower, escaping encoder
            text = json.dumps(entry, default=str, ensure_ascii=False, separators=(",", ":"))
            text = text.encode("utf-8", "backslashreplace").decode()
        if text.isascii() and "\x7f" not in text:
            return text  # the usual case, and nothing to escape
        return _JSON_RAW_CONTROLS.sub(_json_escaped, text)
