"""Plain helpers for the notification tests: a notifier on its own clock, subscriptions."""

from __future__ import annotations

import asyncio
import os
import sys
from datetime import datetime

import orjson

from wallet.clock import FixedClock, utc_now
from wallet.notifications.repository import NotificationRepository, OutboxReader
from wallet.notifications.service import Notifier, RetryPolicy
from wallet.notifications.worker import NotifyWorker
from wallet.runtime import Runtime
from wallet.settings import Settings

STATUS, VERSION, EXPIRY = "licence-status", "licence-version", "licence-expiry"


def worker(
    rt: Runtime, at: datetime | None = None, retry: RetryPolicy | None = None
) -> tuple[NotifyWorker, FixedClock]:
    """A notify worker like the runtime's, on a clock the test moves."""
    clock = FixedClock(at or utc_now())
    base = rt.notifier.notifier
    notifier = Notifier(
        repository=NotificationRepository(),
        reader=OutboxReader(),
        subscriptions=base.subscriptions,
        templates=base.templates,
        clock=clock,
        retry=retry,
    )
    return NotifyWorker(notifier, rt.gateway, rt.vault), clock


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


async def run_wallet(settings: Settings, *commands: list[str]) -> list[tuple[int, str, str]]:
    """Each ``wallet`` command line, run by the console script's ``main`` in one subprocess
    on the test deployment; (exit code, stdout, stderr) each."""
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
    if settings.redis_url:
        env["REDIS_URL"] = settings.redis_url
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        RUNNER,
        orjson.dumps(list(commands)).decode(),
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await proc.communicate()
    assert proc.returncode == 0, err.decode()
    return [(int(c), str(o), str(e)) for c, o, e in orjson.loads(out)]
