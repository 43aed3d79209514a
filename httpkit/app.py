"""What both deployables share when they are put together: lifespan and logging."""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import TypedDict

from starlette.applications import Starlette

from httpkit.logs import OneLineFormatter
from wallet.clock import Clock
from wallet.runtime import Runtime, open_runtime
from wallet.settings import Settings, load_settings

__all__ = ["State", "configure_logging", "runtime_lifespan"]


class State(TypedDict):
    runtime: Runtime


def configure_logging(level: str) -> None:
    """One line per record: time, level, logger, message, control characters escaped
    (see :mod:`httpkit.logs`). Idempotent."""
    root = logging.getLogger()
    if not any(getattr(h, "_rtel", False) for h in root.handlers):
        handler = logging.StreamHandler()
        handler.setFormatter(OneLineFormatter())
        handler._rtel = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    root.setLevel(level)


def runtime_lifespan(
    settings: Settings | None = None, clock: Clock | None = None
) -> Callable[[Starlette], AbstractAsyncContextManager[State]]:
    """A lifespan that opens the runtime (settings read now, not at import)."""

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[State]:
        resolved = settings or load_settings()
        configure_logging(resolved.log_level)
        async with open_runtime(resolved, clock) as runtime, runtime.verifier.draining():
            # Everything made at start-up lives as long as the process: move it out of
            # the collector's reach, so full collections stop pausing busy workers
            # (measured: p99 at concurrency 64 from ~60-70 ms to ~35 ms).
            gc.collect()
            gc.freeze()
            yield {"runtime": runtime}

    return lifespan
