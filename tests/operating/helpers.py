"""Running ``wallet …`` as an operator does, against the test run's database."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

import asyncpg
import orjson

from wallet.settings import Settings

RUNNER = """
import contextlib, io, json, sys
import httpkit.cli as cli
results = []
for argv in json.loads(sys.argv[1]):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = cli.main(argv)
        except SystemExit as exc:
            code = exc.code
    results.append([code, out.getvalue(), err.getvalue()])
print(json.dumps(results))
"""


def cli_env(settings: Settings, **overrides: str | None) -> dict[str, str]:
    """The environment of a command against ``settings``' database (``None`` unsets)."""
    env = {
        **os.environ,
        "DATABASE_URL": settings.database_url,
        "WALLET_MASTER_KEY": settings.master_key or "",
        "WALLET_DATA_DIR": str(settings.data_dir),
        "WALLET_DEPLOYMENT": settings.deployment,
        "WALLET_WECHAT_API_BASE": settings.wechat_api_base,
    }
    env.pop("REDIS_URL", None)
    if settings.redis_url:
        env["REDIS_URL"] = settings.redis_url
    for name, value in overrides.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


async def wallet(
    settings: Settings, *args: str, env: Mapping[str, str | None] | None = None
) -> tuple[int, str, str]:
    """``wallet ARGS`` in its own process: (exit code, stdout, stderr)."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "httpkit.cli",
        *args,
        env=cli_env(settings, **(env or {})),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await proc.communicate()
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def wallet_many(
    settings: Settings, *commands: Sequence[str], env: Mapping[str, str | None] | None = None
) -> list[tuple[int, str, str]]:
    """Several command lines through the real ``main`` in one process (one start-up)."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        RUNNER,
        orjson.dumps([list(c) for c in commands]).decode(),
        env=cli_env(settings, **(env or {})),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await proc.communicate()
    assert proc.returncode == 0, err.decode()
    return [tuple(r) for r in orjson.loads(out)]


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
