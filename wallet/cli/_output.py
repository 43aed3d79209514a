"""Output of listing commands: an aligned table for people, ``--json`` for scripts.

Every listing command adds :func:`add_json_flag` to its parser and prints
through :func:`emit`, so that each command's table and JSON carry the same
rows and keys.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any, TextIO

import orjson

__all__ = ["add_json_flag", "emit", "render_table"]


def add_json_flag(parser: argparse.ArgumentParser) -> None:
    """Give a listing command ``--json`` (one JSON document on stdout instead of a table)."""
    parser.add_argument(
        "--json", action="store_true", dest="as_json", help="print JSON instead of a table"
    )


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (list, tuple)):
        return ",".join(_cell(item) for item in value) or "-"
    return str(value)


def render_table(
    rows: Sequence[Mapping[str, Any]],
    columns: Sequence[str],
    headers: Mapping[str, str] | None = None,
) -> str:
    """``rows`` as an aligned text table of ``columns``.

    The header of a column is ``headers[column]`` when given, else the column
    name in upper case. Missing values print as ``-``, booleans as ``yes``/``no``.
    """
    titles = [(headers or {}).get(column, column.upper()) for column in columns]
    cells = [[_cell(row.get(column)) for column in columns] for row in rows]
    widths = [
        max([len(title)] + [len(line[index]) for line in cells])
        for index, title in enumerate(titles)
    ]
    lines = ["  ".join(c.ljust(w) for c, w in zip(titles, widths, strict=True)).rstrip()]
    lines += [
        "  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip() for line in cells
    ]
    return "\n".join(lines)


def emit(
    rows: Sequence[Mapping[str, Any]],
    columns: Sequence[str],
    *,
    as_json: bool,
    out: TextIO | None = None,
    headers: Mapping[str, str] | None = None,
) -> None:
    """Print ``rows``: a JSON array of objects with ``--json``, else an aligned table.

    The JSON carries every key of each row (not only ``columns``); the table
    shows ``columns``, titled by ``headers`` where given.
    """
    stream = out if out is not None else sys.stdout
    if as_json:
        stream.write(
            orjson.dumps(list(rows), option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS).decode()
        )
        stream.write("\n")
    else:
        stream.write(render_table(rows, columns, headers) + "\n")
