"""Holder-side wiring: the WeChat stand-in over real HTTP, and holder services pointed at it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from wallet.accounts.wiring import HolderServices, install_holder_services
from wallet.runtime import Runtime
from wallet.settings import Settings
from wallet.wechat.standin import StandinServer


@pytest.fixture(scope="session")
def standin(settings: Settings) -> Iterator[StandinServer]:
    """The WeChat stand-in on a free loopback port, for the whole run."""
    with StandinServer(
        app_id=settings.wechat_app_id, app_secret=settings.wechat_app_secret
    ) as server:
        yield server


async def _installed(
    rt: Runtime, standin: StandinServer, identity: str
) -> AsyncIterator[HolderServices]:
    standin.state.reset()
    services = HolderServices.build(
        rt, wechat_api_base=standin.url, identity=identity, claim_template="tmpl-claim-review"
    )
    previous = install_holder_services(rt, services)
    yield services
    services.close()
    if previous is not None:
        install_holder_services(rt, previous)


@pytest.fixture
async def holder(rt: Runtime, standin: StandinServer) -> AsyncIterator[HolderServices]:
    """Holder services with the development identity provider (registry match)."""
    async for services in _installed(rt, standin, "registry"):
        yield services


@pytest.fixture
async def face_holder(rt: Runtime, standin: StandinServer) -> AsyncIterator[HolderServices]:
    """Holder services with WeChat face verification (through the stand-in)."""
    async for services in _installed(rt, standin, "wechat_face"):
        yield services
