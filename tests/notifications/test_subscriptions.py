"""The subscription ledger: acceptances become credits, each spent once."""

from __future__ import annotations

import asyncio
import uuid

import httpx
import pytest

from tests.holder_helpers import bearer, sign_in
from wallet.accounts.models import Account
from wallet.errors import ValidationFailed
from wallet.notifications.models import Subscription
from wallet.runtime import Runtime
from wallet.uow import read_only, unit_of_work

STATUS = "licence-status"
EXPIRY = "licence-expiry"


async def _latest_account() -> uuid.UUID:
    accounts = await Account.all().order_by("-created_at")
    assert accounts
    return accounts[0].id


async def _credits(rt: Runtime, account_id: uuid.UUID, template: str) -> int:
    async with read_only() as uow:
        return await rt.subscriptions.credits(uow, account_id, template)


async def test_accepted_templates_become_one_credit_each(
    client: httpx.AsyncClient, holder: Runtime
) -> None:
    token = await sign_in(client, "sub-alice")
    account_id = await _latest_account()
    for _ in range(2):
        answer = await client.post(
            "/api/v1/subscriptions",
            json={"accepted": [STATUS, EXPIRY, STATUS, "not-configured-here"]},
            headers=bearer(token),
        )
        assert answer.status_code == 204, answer.text
    assert await _credits(holder, account_id, STATUS) == 2
    assert await _credits(holder, account_id, EXPIRY) == 2
    # A template this deployment never sends is not kept.
    assert await Subscription.filter(template_id="not-configured-here").count() == 0


@pytest.mark.parametrize(
    "body",
    [
        {"accepted": []},
        {"accepted": ["ｔｍｐｌ"]},
        {"accepted": ["a" * 65]},
        {"accepted": ["tmpl x"]},
        {"accepted": [STATUS] * 21},
        {"accepted": STATUS},
        {"accepted": [STATUS], "extra": 1},
    ],
)
async def test_bad_acceptances_are_422_and_change_nothing(
    client: httpx.AsyncClient, holder: Runtime, body: dict[str, object]
) -> None:
    token = await sign_in(client, "sub-bob")
    answer = await client.post("/api/v1/subscriptions", json=body, headers=bearer(token))
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert await Subscription.all().count() == 0


async def test_a_session_is_required(client: httpx.AsyncClient, holder: Runtime) -> None:
    answer = await client.post("/api/v1/subscriptions", json={"accepted": [STATUS]})
    assert answer.status_code == 401


async def test_take_spends_each_credit_once(client: httpx.AsyncClient, holder: Runtime) -> None:
    token = await sign_in(client, "sub-carol")
    account_id = await _latest_account()
    for _ in range(3):
        await client.post(
            "/api/v1/subscriptions", json={"accepted": [STATUS]}, headers=bearer(token)
        )

    async def take() -> bool:
        async with unit_of_work() as uow:
            return await holder.subscriptions.take(uow, account_id, STATUS)

    taken = await asyncio.gather(*(take() for _ in range(6)))
    assert sum(taken) == 3
    assert await _credits(holder, account_id, STATUS) == 0
    async with unit_of_work() as uow:
        assert await holder.subscriptions.take(uow, account_id, EXPIRY) is False


async def test_record_checks_its_input(holder: Runtime) -> None:
    async with unit_of_work() as uow:
        with pytest.raises(ValidationFailed):
            await holder.subscriptions.record(uow, uuid.uuid4(), ["bad id"])
