"""Browser tests: the pages served over real HTTP, driven by Debian's Chromium.

The combined app of the session (tests/conftest.py) is served by uvicorn on a
free loopback port, in the tests' own event loop, so the browser, the test
and the server share one runtime, database and cache. Chromium is the
system's (``/usr/bin/chromium``, installed by ``scripts/test`` from Debian's
packages); Playwright downloads no browser. These tests run on the embedded
leg; on the services leg the same pages and APIs are already covered by
the API tests, and one browser run per suite is enough.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import uvicorn

from httpkit.inprocess import LifespanApp

CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
ARTEFACTS = Path(os.environ.get("BROWSER_ARTEFACTS", "test-artefacts/browser"))
_TAKEN: list[Path] = []


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        # The test process keeps its own signal handling (Ctrl-C stops pytest).
        yield


@pytest.fixture(scope="session")
async def base_url(served: LifespanApp) -> AsyncIterator[str]:
    """The session's app over real HTTP on a free loopback port."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(served, lifespan="off", log_level="warning", access_log=False)
    server = _Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    for _ in range(200):
        if server.started:
            break
        await asyncio.sleep(0.02)
    assert server.started, "uvicorn did not start"
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    await task
    sock.close()


def _check_chromium() -> None:
    if CHROMIUM.exists():
        return
    message = (
        f"Chromium not found at {CHROMIUM}: install Debian's package "
        "(apt-get install chromium fonts-noto-cjk; ./scripts/test does it)"
    )
    if os.environ.get("CI") == "true":
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


async def launch(playwright, extra: list[str] | None = None):  # type: ignore[no-untyped-def]
    """Debian's Chromium, headless, with ``extra`` flags."""
    _check_chromium()
    return await playwright.chromium.launch(
        executable_path=str(CHROMIUM), args=[*CHROMIUM_ARGS, *(extra or [])]
    )


@pytest.fixture(scope="session")
async def playwright():  # type: ignore[no-untyped-def]
    _check_chromium()
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        yield pw


@pytest.fixture(scope="session")
async def browser(playwright):  # type: ignore[no-untyped-def]
    instance = await launch(playwright)
    yield instance
    await instance.close()


def screenshot_path(name: str) -> Path:
    """Where a screenshot is kept (listed at the end of the run)."""
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    path = (ARTEFACTS / f"{name}.png").resolve()
    _TAKEN.append(path)
    return path


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """The screenshots of the run, kept as artefacts: their paths at the end of the run."""
    if _TAKEN:
        terminalreporter.section("browser screenshots")
        for path in sorted(set(_TAKEN)):
            terminalreporter.write_line(str(path))
