"""Plain helpers for the notification tests: a notifier on its own clock, subscriptions."""

from __future__ import annotations

from datetime import datetime

from tests.cli_helpers import wallet_many
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


async def run_wallet(settings: Settings, *commands: list[str]) -> list[tuple[int, str, str]]:
    """Each ``wallet`` command line in one subprocess; (exit code, stdout, stderr) each."""
    return await wallet_many(settings, *commands)
