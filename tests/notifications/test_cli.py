"""``wallet notify run --once`` and ``wallet notify status`` on the test deployment."""

from __future__ import annotations

import httpx
import orjson

from tests.holder_helpers import bearer, driver_body, identity_of, issue, sign_in, subscribe
from tests.notifications.helpers import STATUS, run_wallet
from wallet.licences.schemas import StatusIn
from wallet.runtime import Runtime
from wallet.settings import Settings
from wallet.uow import unit_of_work
from wallet.wechat.standin import StandinServer


async def test_run_once_sends_and_status_reports(
    client: httpx.AsyncClient, holder: Runtime, settings: Settings, standin: StandinServer
) -> None:
    body = driver_body(41)
    [ref] = await issue(holder, [body])
    token = await sign_in(client, "vera")
    bound = await client.post("/api/v1/identity", json=identity_of(body), headers=bearer(token))
    assert bound.status_code == 200
    await subscribe(client, token, STATUS)
    async with unit_of_work() as uow:
        await holder.registry.change_status(
            uow, ref, StatusIn(action="suspend", reason="test"), actor="test:registry"
        )
    before, run, again, status, table, bad = await run_wallet(
        settings,
        ["notify", "status", "--json"],
        ["notify", "run", "--once"],
        ["notify", "run", "--once"],
        ["notify", "status", "--json"],
        ["notify", "status"],
        ["notify", "frobnicate"],
    )
    assert before[0] == 0, before
    assert orjson.loads(before[1])["backlog"] >= 2
    assert run[0] == 0 and "sent 1" in run[1], run
    assert again[0] == 0 and "sends: none" in again[1], again
    report = orjson.loads(status[1])
    assert report["backlog"] == 0 and report["cursor"] == report["outbox_head"]
    assert report["states"] == {"sent": 1} and report["failures"] == []
    assert table[0] == 0 and "STATE" in table[1] and "sent" in table[1]
    assert bad[0] == 2
    openid = standin.state.openid("vera")
    assert [m["template_id"] for m in standin.state.messages if m["touser"] == openid] == [STATUS]
