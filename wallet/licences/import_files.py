"""Import files: registry versions from JSON Lines or CSV, and their reject report.

:func:`open_source` streams the rows of a file (never the whole file) into
the batch path of :mod:`wallet.licences.importer`; :class:`RejectReport`
writes the rows it refused. The ``wallet import FILE`` command
(:mod:`wallet.cli.imports`) drives them and prints :func:`format_summary`.

File formats
------------

Each row carries what one body of the registry feed carries
(``POST /authority/v1/licence-versions``, :class:`~wallet.licences.schemas.VersionIn`).
The format comes from ``--format`` or the suffix (``.csv``; ``.jsonl``,
``.ndjson``, ``.json``). Files are UTF-8.

**JSON Lines**: one feed body per line, a JSON object; blank lines are skipped.

**CSV** (comma-separated, ``"`` quoting, an optional byte-order mark): a
header line, then one version per line. Columns, in any order:

=====================  =========  ===============================================
column                 required   content
=====================  =========  ===============================================
``kind``               yes        kind code of the catalogue, e.g. ``qualification``
``version``            yes        version number, 1-999
``change_type``        no         ``issue`` (default), ``change``, ``renewal``,
                                  ``replacement``, ``annual_review``
``reason``             no         reason of the change
``issuer_uscc``        yes        USCC of the issuing department
``issuer_division``    yes        its GB/T 2260 division code
``issuer_name``        yes        its name
``holder_uscc``        no         USCC of the operator owning the vehicle (vehicle
                                  kinds require it)
``serial``             no         serial of the GB/T 36904 identifier (default:
                                  derived from the number)
``issued_at``          no         ISO 8601 time of issue (default: import time)
``face.<field>``       per kind   one column per face field of the catalogue, e.g.
                                  ``face.name``, ``face.certificate_number``
=====================  =========  ===============================================

A file mixing kinds carries the union of their ``face.`` columns and leaves
the others empty. An empty cell means the value is absent. Cells are read
by the catalogue type of the row's kind: ``enum_list`` values are separated
by ``|`` (``经营性道路货物运输驾驶员|道路危险货物运输驾驶员``), ``integer`` cells
are whole numbers, ``decimal`` cells keep their text (checked exactly:
``31.50`` is ``31.5``), dates are ``YYYY-MM-DD``, enum cells hold codes
(``M``, ``2``). A header with an unknown, repeated or missing required
column stops the import before any row is read; a row with more or fewer
cells than the header is rejected.

Reject report
-------------

CSV (or JSON Lines when PATH ends in ``.jsonl``; default ``FILE.rejects.csv``),
one line per problem: ``row`` (the line number in FILE), ``field`` (e.g.
``face.certificate_number``; empty for the whole row), ``rule`` (e.g.
``resident_id.check_digit``, ``required``, ``enum``, ``json``, ``conflict``),
``value`` and ``message``. Values of fields the catalogue marks personal,
and the free-text reason, keep only their first and last character; values
that cannot be classified (unknown fields, the face of an unknown kind) are
fully masked; row metadata and the issuer's and operator's codes are shown.
A clear personal value never reaches the report.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import IO, TYPE_CHECKING, Any, ClassVar, Literal, TypeAlias

import orjson

from wallet.errors import FieldProblem, WalletError
from wallet.licences.catalogue import CATALOGUE, LicenceKind
from wallet.licences.importer import (
    DEFAULT_BATCH,
    ImportStats,
    SourceRow,
    import_rows,
)
from wallet.vault import mask_name

if TYPE_CHECKING:
    import _csv

    from wallet.licences.service import Registry

__all__ = [
    "CSV_COLUMNS",
    "FileFormat",
    "ImportFileError",
    "RejectReport",
    "Source",
    "format_summary",
    "import_file",
    "open_source",
    "shown_value",
]

FileFormat: TypeAlias = Literal["jsonl", "csv"]

CSV_COLUMNS: tuple[str, ...] = (
    "kind",
    "version",
    "change_type",
    "reason",
    "issuer_uscc",
    "issuer_division",
    "issuer_name",
    "holder_uscc",
    "serial",
    "issued_at",
)
"""The fixed CSV columns; ``face.<field>`` columns follow."""

_REQUIRED_COLUMNS = ("kind", "version", "issuer_uscc", "issuer_division", "issuer_name")
_FACE_FIELDS = frozenset(name for kind in CATALOGUE.values() for name in kind.field_names)
_INTEGER = re.compile(r"[+-]?[0-9]+")
# Shown clear in the reject report: row metadata and codes of bodies, not of people.
_CLEAR_FIELDS = frozenset(
    {
        "kind",
        "version",
        "change_type",
        "serial",
        "issued_at",
        "issuer.uscc",
        "issuer.division",
        "issuer.name",
        "holder.uscc",
    }
)
_SHOWN_MAX = 64


class ImportFileError(WalletError):
    """The import file cannot be read as a whole (unknown format, bad CSV header)."""

    type_code = "import_file"
    title = "The import file cannot be read"


# --- reading --------------------------------------------------------------------------


def _format_of(path: Path, file_format: str | None) -> FileFormat:
    name = file_format or {
        ".csv": "csv",
        ".jsonl": "jsonl",
        ".ndjson": "jsonl",
        ".json": "jsonl",
    }.get(path.suffix.lower())
    if name == "csv":
        return "csv"
    if name == "jsonl":
        return "jsonl"
    if file_format is not None:
        raise ImportFileError(f"unknown format {file_format!r}: use jsonl or csv")
    raise ImportFileError(f"cannot tell the format of {path.name}: use --format jsonl|csv")


class Source:
    """An open import file; iterating yields its rows one at a time (never the whole file)."""

    def __init__(self, path: Path, file_format: FileFormat) -> None:
        self.path = path
        self.format = file_format
        self._handle: IO[bytes] = path.open("rb")
        self._header: list[str] = []
        if file_format == "jsonl":
            return
        try:
            # Decoded line by line, so a line that is not UTF-8 is named exactly.
            self._reader = csv.reader(_text_lines(self._handle))
            self._header = _check_header(next(self._reader, None))
        except csv.Error as exc:
            self._handle.close()
            raise ImportFileError(f"the CSV header cannot be read: {exc}") from None
        except ImportFileError:
            self._handle.close()
            raise

    @property
    def name(self) -> str:
        """The file name (no directories), as audit entries record it."""
        return self.path.name

    def __iter__(self) -> Iterator[SourceRow]:
        if self.format == "jsonl":
            return _jsonl_rows(self._handle)
        return _csv_rows(self._reader, self._header)

    def close(self) -> None:
        """Close the file."""
        self._handle.close()

    def __enter__(self) -> Source:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_source(path: Path, file_format: str | None = None) -> Source:
    """Open ``path`` for import; the format comes from ``file_format`` or the file suffix.

    Raises :class:`OSError` when the file cannot be opened and
    :class:`ImportFileError` for an unknown format or a bad CSV header.
    """
    return Source(path, _format_of(path, file_format))


def _jsonl_rows(handle: IO[bytes]) -> Iterator[SourceRow]:
    for line_no, line in enumerate(handle, start=1):
        if not line.strip():
            continue
        try:
            body = orjson.loads(line)
        except orjson.JSONDecodeError:
            yield SourceRow(
                line_no,
                None,
                ({"field": "", "rule": "json", "message": "the line is not valid JSON"},),
            )
            continue
        if not isinstance(body, dict):
            yield SourceRow(
                line_no,
                None,
                ({"field": "", "rule": "json", "message": "the line is not a JSON object"},),
            )
            continue
        yield SourceRow(line_no, body)


def _check_header(header: list[str] | None) -> list[str]:
    if not header:
        raise ImportFileError("the CSV file has no header line")
    columns = [c.strip() for c in header]
    problems: list[str] = []
    seen: set[str] = set()
    for column in columns:
        if column in seen:
            problems.append(f"column {column!r} repeats")
        seen.add(column)
        known = column in CSV_COLUMNS or (
            column.startswith("face.") and column.removeprefix("face.") in _FACE_FIELDS
        )
        if not known:
            problems.append(f"unknown column {column!r}")
    problems += [f"missing column {c!r}" for c in _REQUIRED_COLUMNS if c not in seen]
    if problems:
        raise ImportFileError("bad CSV header: " + "; ".join(problems))
    return columns


def _text_lines(handle: IO[bytes]) -> Iterator[str]:
    for line_no, line in enumerate(handle, start=1):
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError:
            # A broken encoding cannot be resynchronised safely inside CSV quoting.
            raise ImportFileError(
                f"line {line_no} is not UTF-8: the import stopped there "
                "(the rows before it are applied; a rerun leaves them unchanged)"
            ) from None
        yield text.removeprefix("\ufeff") if line_no == 1 else text


def _csv_records(reader: _csv.Reader) -> Iterator[list[str]]:
    try:
        yield from reader
    except csv.Error as exc:
        raise ImportFileError(
            f"line {reader.line_num} cannot be read as CSV ({exc}): the import stopped there"
        ) from None


def _csv_rows(reader: _csv.Reader, header: list[str]) -> Iterator[SourceRow]:
    face_columns = [
        (i, c.removeprefix("face.")) for i, c in enumerate(header) if c.startswith("face.")
    ]
    index = {c: i for i, c in enumerate(header)}
    last = reader.line_num
    for record in _csv_records(reader):
        first, last = last + 1, reader.line_num
        if not record or not any(cell.strip() for cell in record):
            continue
        if len(record) != len(header):
            problem = {
                "field": "",
                "rule": "columns",
                "message": f"the row has {len(record)} cells, the header {len(header)}",
            }
            yield SourceRow(first, None, (problem,))
            continue
        yield SourceRow(first, _csv_body(record, index, face_columns))


def _csv_body(
    record: list[str], index: Mapping[str, int], face_columns: Sequence[tuple[int, str]]
) -> dict[str, Any]:
    def cell(column: str) -> str | None:
        i = index.get(column)
        if i is None or not record[i].strip():
            return None
        return record[i]

    body: dict[str, Any] = {}
    for column in ("kind", "version", "change_type", "reason", "serial", "issued_at"):
        value = cell(column)
        if value is not None:
            body[column] = value
    issuer = {
        part: value
        for part in ("uscc", "division", "name")
        if (value := cell(f"issuer_{part}")) is not None
    }
    if issuer:
        body["issuer"] = issuer
    holder = cell("holder_uscc")
    if holder is not None:
        body["holder"] = {"uscc": holder}
    kind = CATALOGUE.get(str(body.get("kind", "")).strip())
    face: dict[str, Any] = {}
    for i, name in face_columns:
        if record[i].strip():
            face[name] = _cell_value(kind, name, record[i])
    body["face"] = face
    return body


def _cell_value(kind: LicenceKind | None, name: str, text: str) -> Any:
    if kind is None or name not in kind.field_names:
        return text  # the validator reports it as an unknown field
    field_type = kind.field(name).type
    if field_type == "enum_list":
        return [part.strip() for part in text.split("|") if part.strip()]
    if field_type == "integer" and _INTEGER.fullmatch(text.strip()):
        return int(text.strip())
    return text


# --- the reject report ------------------------------------------------------------------


def _lookup(body: Mapping[str, Any], path: str) -> Any:
    value: Any = body
    for part in path.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return None
        value = value[part]
    return value


def shown_value(body: Mapping[str, Any] | None, field_path: str) -> str:
    """The value at ``field_path`` of ``body`` as the reject report may show it.

    Issuer, holder-operator and row metadata are shown (shortened); face
    fields the catalogue marks personal and the free-text reason keep only
    their first and last character; anything else that cannot be classified
    (an unknown field, a face of an unknown kind) is fully masked.
    """
    value = _lookup(body, field_path) if body is not None and field_path else None
    if value is None or isinstance(value, Mapping):
        return ""
    text = "|".join(map(str, value)) if isinstance(value, list | tuple) else str(value)
    if field_path in _CLEAR_FIELDS:
        return text if len(text) <= _SHOWN_MAX else text[:_SHOWN_MAX] + "…"
    top, _, name = field_path.partition(".")
    kind = CATALOGUE.get(str(body.get("kind", ""))) if body is not None else None
    if top == "face" and kind is not None and name in kind.field_names:
        if name not in kind.pii_fields:
            return text if len(text) <= _SHOWN_MAX else text[:_SHOWN_MAX] + "…"
        return _mask_ends(text)
    if field_path == "reason":
        return _mask_ends(text)
    return "*" * min(len(text), _SHOWN_MAX)


def _mask_ends(text: str) -> str:
    text = text.strip()
    if len(text) < 3:
        return "*" * len(text)
    return mask_name(text[:_SHOWN_MAX])


class RejectReport:
    """Where rejected rows go: one line per problem (row, field, rule, masked value, message).

    CSV unless ``path`` ends in ``.jsonl``; ``None`` keeps only the count.
    """

    COLUMNS: ClassVar[tuple[str, ...]] = ("row", "field", "rule", "value", "message")

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.rows = 0
        self._jsonl = path is not None and path.suffix.lower() in (".jsonl", ".ndjson")
        self._handle: IO[str] | None = None
        self._csv: _csv.Writer | None = None
        if path is not None:
            self._handle = path.open("w", encoding="utf-8", newline="")
            if not self._jsonl:
                self._csv = csv.writer(self._handle)
                self._csv.writerow(self.COLUMNS)

    def add(
        self, line: int, problems: Sequence[FieldProblem], body: Mapping[str, Any] | None
    ) -> None:
        """Report one rejected row with each of its problems."""
        self.rows += 1
        if self._handle is None:
            return
        for problem in problems or ({"field": "", "rule": "rejected", "message": ""},):
            field_path = str(problem.get("field", ""))
            entry = (
                line,
                field_path,
                str(problem.get("rule", "")),
                shown_value(body, field_path),
                str(problem.get("message", "")),
            )
            if self._csv is not None:
                self._csv.writerow(entry)
            else:
                record = dict(zip(self.COLUMNS, entry, strict=True))
                self._handle.write(orjson.dumps(record).decode() + "\n")

    def close(self) -> None:
        """Flush and close the report file."""
        if self._handle is not None:
            self._handle.close()
            self._handle = None

    def __enter__(self) -> RejectReport:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


# --- running --------------------------------------------------------------------------


def format_summary(stats: ImportStats, rejects: Path | None = None) -> str:
    """The lines ``wallet import`` prints when a run completes."""
    lines = [
        f"{stats.source}: read {stats.read}, created {stats.created}, "
        f"unchanged {stats.unchanged}, rejected {stats.rejected}",
        f"{stats.seconds:.1f} s, {stats.rate:.0f} rows/s, {stats.batches} batches"
        + (f" ({stats.row_by_row} re-applied row by row)" if stats.row_by_row else ""),
    ]
    if stats.rejected and rejects is not None:
        lines.append(f"rejected rows reported in {rejects}")
    return "\n".join(lines)


async def import_file(
    registry: Registry,
    path: Path,
    *,
    file_format: str | None = None,
    rejects: Path | None = None,
    actor: str = "import",
    batch_size: int = DEFAULT_BATCH,
    workers: int = 0,
    progress: Callable[[ImportStats], None] | None = None,
) -> ImportStats:
    """Import the file at ``path`` (see the module docstring); the run's counts.

    The reject report goes to ``rejects`` (CSV, or JSON Lines for a
    ``.jsonl`` path). Raises :class:`OSError` or :class:`ImportFileError` when
    the file cannot be opened or its header read, before any row is applied;
    a line that cannot be read further on raises :class:`ImportFileError`
    with the batches before it applied (a rerun leaves those unchanged).
    """
    with open_source(path, file_format) as source, RejectReport(rejects) as report:
        return await import_rows(
            registry,
            source,
            source=source.name,
            rejects=report,
            actor=actor,
            batch_size=batch_size,
            workers=workers,
            progress=progress,
        )
