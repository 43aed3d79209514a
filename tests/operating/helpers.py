"""Fresh databases for the operating drills; the command runners are in tests.cli_helpers."""

from __future__ import annotations

from pathlib import Path

import asyncpg

from wallet.settings import Settings


class FreshDatabase:
    """A new, empty database of the run's kind: a PostgreSQL database or a SQLite path."""

    def __init__(self, settings: Settings, tmp_path: Path) -> None:
        self.settings = settings
        self.tmp_path = tmp_path
        self.created: list[str] = []

    @property
    def postgres(self) -> bool:
        return not self.settings.is_embedded_database

    def _admin(self) -> str:
        base = self.settings.database_url.rpartition("/")[0]
        return base.replace("postgres://", "postgresql://", 1) + "/postgres"

    async def new(self, name: str) -> str:
        """The URL of a new empty database called after ``name``."""
        if not self.postgres:
            return f"sqlite://{self.tmp_path / (name + '.sqlite3')}"
        full = f"{self.settings.database_url.rpartition('/')[2]}_{name}"[:63]
        conn = await asyncpg.connect(self._admin(), timeout=5)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{full}" WITH (FORCE)')
            await conn.execute(f'CREATE DATABASE "{full}"')
        finally:
            await conn.close()
        self.created.append(full)
        return self.settings.database_url.rpartition("/")[0] + "/" + full

    async def drop_all(self) -> None:
        if not self.created:
            return
        conn = await asyncpg.connect(self._admin(), timeout=5)
        try:
            for name in self.created:
                await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()
