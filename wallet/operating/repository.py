"""The queries operating needs: every table, its count, the database's clock, the keys.

They read the catalogue of whatever database they are given (a new table
of any domain is counted without a change here) and run on three kinds of
connection: Tortoise's (the doctor, restore), asyncpg's inside an exported
snapshot (a PostgreSQL backup) and sqlite3's on a backup copy. Each takes a
:data:`Query`: SQL text in, rows as tuples out.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Literal, TypeAlias

__all__ = [
    "MIGRATIONS_TABLE",
    "Dialect",
    "Query",
    "applied_migrations",
    "audit_head",
    "count_rows",
    "database_time",
    "issuer_divisions",
    "key_rows",
    "list_tables",
]

Query: TypeAlias = Callable[[str], Awaitable[Sequence[Sequence[Any]]]]
"""Runs one SQL statement without parameters; its rows as sequences."""

Dialect: TypeAlias = Literal["postgres", "sqlite"]

MIGRATIONS_TABLE = "tortoise_migrations"
_IDENTIFIER = re.compile(r"[a-z_][a-z0-9_]{0,62}")


def _quoted(table: str) -> str:
    # Names come from the database's own catalogue; anything unexpected is refused, not quoted.
    if not _IDENTIFIER.fullmatch(table):
        raise ValueError(f"unexpected table name {table!r}")
    return f'"{table}"'


async def list_tables(query: Query, dialect: Dialect) -> list[str]:
    """Every table of the schema, by name (SQLite's own tables left out)."""
    if dialect == "postgres":
        sql = "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY 1"
    else:
        sql = (
            "SELECT name FROM sqlite_master WHERE type = 'table' "
            "AND name NOT LIKE 'sqlite_%' ORDER BY 1"
        )
    return [str(row[0]) for row in await query(sql)]


async def count_rows(query: Query, tables: Sequence[str]) -> dict[str, int]:
    """The row count of each table."""
    counts: dict[str, int] = {}
    for table in tables:
        rows = await query(f"SELECT count(*) FROM {_quoted(table)}")  # noqa: S608
        counts[table] = int(rows[0][0])
    return counts


async def applied_migrations(query: Query, dialect: Dialect) -> list[str]:
    """Names of the migrations of the ``wallet`` app recorded as applied (none before any)."""
    if MIGRATIONS_TABLE not in await list_tables(query, dialect):
        return []
    rows = await query(
        f"SELECT name FROM {_quoted(MIGRATIONS_TABLE)} WHERE app = 'wallet' ORDER BY name"  # noqa: S608
    )
    return [str(row[0]) for row in rows]


async def audit_head(query: Query) -> tuple[int, str] | None:
    """The audit chain's head (last id, last hash), or ``None`` before the first entry."""
    rows = await query("SELECT last_id, last_hash FROM audit_head WHERE id = 1")
    if not rows:
        return None
    return int(rows[0][0]), str(rows[0][1])


async def key_rows(query: Query) -> list[dict[str, Any]]:
    """Every signing key's public part: kid, use, division, status, public key (hex)."""
    rows = await query(
        "SELECT kid, use, division, status, public_key FROM signing_key ORDER BY kid"
    )
    return [{"kid": r[0], "use": r[1], "division": r[2], "status": r[3], "pub": r[4]} for r in rows]


async def issuer_divisions(query: Query) -> list[str]:
    """The issuing divisions of the registry's licences."""
    rows = await query("SELECT DISTINCT issuer_division FROM licence")
    return sorted(str(row[0]) for row in rows if row[0])


async def database_time(query: Query, dialect: Dialect) -> float:
    """The database server's clock in Unix seconds (the statement's time, not the transaction's)."""
    if dialect == "postgres":
        sql = "SELECT extract(epoch FROM clock_timestamp())::float8"
    else:
        sql = "SELECT (julianday('now') - 2440587.5) * 86400.0"
    rows = await query(sql)
    return float(rows[0][0])
