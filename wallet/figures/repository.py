"""The figures' queries: one aggregate statement per family, grouped by issuing division.

Counting happens in the database (``SUM(CASE …)`` … ``GROUP BY
issuer_division``); Python only adds up the per-division sums into cities
and provinces.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from wallet.figures.rules import RULES, Dialect, passes_all
from wallet.uow import UnitOfWork

__all__ = ["DivisionCounts", "FiguresRepository", "Window"]


@dataclass(frozen=True)
class Window:
    """What the figures look at: a division prefix, a recording period, and today."""

    prefix: str
    start: datetime | None
    end: datetime | None
    today: date


@dataclass
class DivisionCounts:
    """The counts behind the four rates for one issuing division."""

    valid: int = 0
    issued: int = 0
    activated: int = 0
    acknowledged: int = 0
    versions: int = 0
    compliant: int = 0
    #: versions failing each rule (a version may fail several)
    failures: dict[str, int] = field(default_factory=dict)

    def add(self, other: DivisionCounts) -> None:
        """Add ``other``'s counts to these."""
        self.valid += other.valid
        self.issued += other.issued
        self.activated += other.activated
        self.acknowledged += other.acknowledged
        self.versions += other.versions
        self.compliant += other.compliant
        for rule, count in other.failures.items():
            self.failures[rule] = self.failures.get(rule, 0) + count


class _Params:
    """Bind parameters in the order the SQL text names them (``$n`` or ``?``)."""

    def __init__(self, dialect: Dialect) -> None:
        self.dialect = dialect
        self.values: list[Any] = []

    def __call__(self, value: Any) -> str:
        self.values.append(value)
        return f"${len(self.values)}" if self.dialect == "postgres" else "?"

    def time(self, column: str, op: str, value: datetime) -> str:
        if self.dialect == "postgres":
            return f"{column} {op} {self(value)}"
        # SQLite keeps times as ISO text: compare them as Julian days, not as strings.
        return f"julianday({column}) {op} julianday({self(value.isoformat(' '))})"


def _window(p: _Params, window: Window, division: str, recorded: str) -> str:
    parts = [f"{division} LIKE {p(window.prefix + '%')}"]
    if window.start is not None:
        parts.append(p.time(recorded, ">=", window.start))
    if window.end is not None:
        parts.append(p.time(recorded, "<", window.end))
    return " AND ".join(parts)


def _dialect(uow: UnitOfWork) -> Dialect:
    return "postgres" if uow.is_postgres else "sqlite"


class FiguresRepository:
    """Aggregate queries over licences, claims, activations, versions and the outbox."""

    async def licence_counts(self, uow: UnitOfWork, window: Window) -> dict[str, DivisionCounts]:
        """Valid, issued, activated and acknowledged licences per issuing division.

        The inner query flags each licence (valid; claim holds; active on a
        device; latest event acknowledged), the outer one adds the flags up.
        """
        p = _Params(_dialect(uow))
        today = p(window.today if p.dialect == "postgres" else window.today.isoformat())
        where = _window(p, window, "l.issuer_division", "l.created_at")
        # The text is ours (no value of a request in it); values are bound parameters.
        sql = (
            "SELECT division, SUM(is_valid) AS valid, "  # noqa: S608
            "SUM(is_valid * is_claimed) AS issued, "
            "SUM(is_valid * is_claimed * is_active) AS activated, "
            "SUM(is_valid * is_claimed * is_acked) AS acknowledged FROM ("
            "SELECT l.issuer_division AS division, "
            "CASE WHEN l.status = 'valid' AND (l.valid_until IS NULL OR l.valid_until >= "
            f"{today}) THEN 1 ELSE 0 END AS is_valid, "
            "CASE WHEN c.status IN ('claimed', 'approved') THEN 1 ELSE 0 END AS is_claimed, "
            "CASE WHEN a.licence_id IS NOT NULL THEN 1 ELSE 0 END AS is_active, "
            "CASE WHEN e.sent_at IS NOT NULL THEN 1 ELSE 0 END AS is_acked "
            "FROM licence l LEFT JOIN claim c ON c.licence_id = l.id "
            # Joins, not a subquery per licence: one pass over each table.
            "LEFT JOIN (SELECT DISTINCT licence_id FROM activation WHERE status = 'active') a "
            "ON a.licence_id = l.id "
            "LEFT JOIN (SELECT licence_ref, MAX(id) AS last_id FROM outbox_event "
            "GROUP BY licence_ref) latest ON latest.licence_ref = l.ref "
            "LEFT JOIN outbox_event e ON e.id = latest.last_id "
            f"WHERE {where}) flagged GROUP BY division"
        )
        rows = await uow.conn.execute_query_dict(sql, p.values)
        return {
            str(r["division"]): DivisionCounts(
                valid=int(r["valid"] or 0),
                issued=int(r["issued"] or 0),
                activated=int(r["activated"] or 0),
                acknowledged=int(r["acknowledged"] or 0),
            )
            for r in rows
        }

    async def version_counts(
        self, uow: UnitOfWork, window: Window
    ) -> dict[str, tuple[int, int, dict[str, int]]]:
        """Per issuing division: versions, compliant versions, and failures per rule."""
        p = _Params(_dialect(uow))
        failures = ", ".join(
            f"SUM(CASE WHEN {rule.condition(p.dialect)} THEN 0 ELSE 1 END) AS fail_{rule.name}"
            for rule in RULES
        )
        where = _window(p, window, "l.issuer_division", "v.created_at")
        # As above: our text, bound values.
        sql = (
            "SELECT l.issuer_division AS division, "  # noqa: S608
            "COUNT(*) AS versions, "
            f"SUM(CASE WHEN {passes_all(p.dialect)} THEN 1 ELSE 0 END) AS compliant, {failures} "
            "FROM licence_version v JOIN licence l ON l.id = v.licence_id "
            "LEFT JOIN signing_key k ON k.kid = v.seal_kid "
            f"WHERE {where} GROUP BY l.issuer_division"
        )
        rows = await uow.conn.execute_query_dict(sql, p.values)
        return {
            str(r["division"]): (
                int(r["versions"] or 0),
                int(r["compliant"] or 0),
                {rule.name: int(r[f"fail_{rule.name}"] or 0) for rule in RULES},
            )
            for r in rows
        }
