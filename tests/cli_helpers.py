"""Running ``wallet …`` as an operator does, against the test run's database and cache.

Each command runs through the console script's real ``main`` in a subprocess
with the deployment's settings in its environment (the leased Redis database,
not the run's base URL).
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Mapping, Sequence

import orjson

from wallet.settings import Settings

__all__ = ["cli_env", "wallet", "wallet_many"]

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
        "WALLET_WECHAT_APP_ID": settings.wechat_app_id,
        "WALLET_WECHAT_APP_SECRET": settings.wechat_app_secret,
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
