"""Holder notifications from the outbox: once, only when subscribed, retried, reminders."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import httpx
from prometheus_client import REGISTRY

from tests.holder_helpers import (
    bearer,
    driver_body,
    face_bind,
    identity_of,
    issue,
    permit_body,
    sign_in,
    subscribe,
    vehicle_bodies,
)
from tests.notifications.helpers import EXPIRY, STATUS, VERSION, worker
from wallet.licences.models import OutboxEvent
from wallet.licences.schemas import StatusIn, VersionIn
from wallet.notifications.messages import CHINA
from wallet.notifications.models import Notification
from wallet.notifications.service import RetryPolicy
from wallet.runtime import Runtime
from wallet.uow import read_only, unit_of_work
from wallet.wechat.standin import StandinServer


async def _driver(client: httpx.AsyncClient, rt: Runtime, user: str, **face: object):
    body = driver_body(31, **face)
    [ref] = await issue(rt, [body])
    token = await sign_in(client, user)
    bound = await client.post("/api/v1/identity", json=identity_of(body), headers=bearer(token))
    assert bound.status_code == 200, bound.text
    return body, ref, token


async def _status(rt: Runtime, ref: str, action: str) -> None:
    async with unit_of_work() as uow:
        await rt.registry.change_status(
            uow, ref, StatusIn(action=action, reason="test"), actor="test:registry"
        )


def _counted(outcome: str) -> float:
    value = REGISTRY.get_sample_value(f"wallet_notifications_{outcome}_total", {"kind": "status"})
    return value or 0.0


def _to(standin: StandinServer, user: str) -> list[dict[str, object]]:
    openid = standin.state.openid(user)
    return [m for m in standin.state.messages if m["touser"] == openid]


async def test_a_status_change_reaches_the_subscribed_holder_once(
    client: httpx.AsyncClient, holder: Runtime, standin: StandinServer
) -> None:
    _, ref, token = await _driver(client, holder, "nina")
    await subscribe(client, token, STATUS)
    await _status(holder, ref, "suspend")
    notify, _ = worker(holder)
    first = await notify.run_once()
    assert first.events >= 1 and first.outcomes == {"sent": 1}
    [message] = _to(standin, "nina")
    assert message["template_id"] == STATUS
    assert message["page"] == f"pages/licence/detail?ref={ref}"
    data = message["data"]
    assert isinstance(data, dict)
    assert data["phrase2"] == {"value": "已暂扣"}
    assert len(data["thing1"]["value"]) <= 20
    # Planning and sending again (another worker, the same worker) changes nothing.
    again, _ = worker(holder)
    assert (await again.run_once()).outcomes == {}
    assert (await notify.run_once()).outcomes == {}
    assert len(_to(standin, "nina")) == 1
    [row] = await Notification.filter(licence_ref=ref)
    assert (row.state, row.attempts, row.kind) == ("sent", 1, "status")
    async with read_only() as uow:
        assert await holder.subscriptions.credits(uow, row.account_id, STATUS) == 0


async def test_without_a_subscription_nothing_is_sent(
    client: httpx.AsyncClient, holder: Runtime, standin: StandinServer
) -> None:
    _, ref, token = await _driver(client, holder, "otto")
    await subscribe(client, token, EXPIRY)  # another template's credit does not count
    await _status(holder, ref, "suspend")
    notify, _ = worker(holder)
    await notify.run_once()
    assert _to(standin, "otto") == []
    [row] = await Notification.filter(licence_ref=ref)
    assert row.state == "skipped"
    # A later subscription does not bring the old event back; the next event uses it.
    await subscribe(client, token, STATUS)
    await notify.run_once()
    assert _to(standin, "otto") == []
    await _status(holder, ref, "reinstate")
    await notify.run_once()
    [message] = _to(standin, "otto")
    assert message["data"]["phrase2"] == {"value": "已恢复"}  # type: ignore[index]


async def test_a_failed_send_is_retried_after_its_back_off(
    client: httpx.AsyncClient, holder: Runtime, standin: StandinServer
) -> None:
    _, ref, token = await _driver(client, holder, "pia")
    await subscribe(client, token, STATUS)
    await _status(holder, ref, "revoke")
    notify, clock = worker(holder)
    standin.state.busy_sends = 1
    failed_before, sent_before = _counted("failed"), _counted("sent")
    first = await notify.run_once()
    assert first.outcomes == {"pending": 1}
    [row] = await Notification.filter(licence_ref=ref)
    assert row.state == "pending" and row.attempts == 1
    assert "wechat_unavailable" in row.last_error
    assert _to(standin, "pia") == []
    # Not before its back-off.
    clock.advance(30)
    assert (await notify.run_once()).outcomes == {}
    clock.advance(31)
    assert (await notify.run_once()).outcomes == {"sent": 1}
    [message] = _to(standin, "pia")
    assert message["data"]["phrase2"] == {"value": "已吊销"}  # type: ignore[index]
    await row.refresh_from_db()
    assert (row.state, row.attempts, row.last_error) == ("sent", 2, "")
    assert (_counted("failed"), _counted("sent")) == (failed_before + 1, sent_before + 1)


async def test_failures_that_persist_end_failed_and_visible(
    client: httpx.AsyncClient, holder: Runtime, standin: StandinServer
) -> None:
    _, ref, token = await _driver(client, holder, "quinn")
    await subscribe(client, token, STATUS)
    await subscribe(client, token, STATUS)
    await _status(holder, ref, "suspend")
    notify, clock = worker(holder, retry=RetryPolicy(max_attempts=3, base=10, factor=2))
    standin.state.busy_sends = 100
    states = []
    for _ in range(4):
        states.append((await notify.run_once()).outcomes)
        clock.advance(3600)
    assert states == [{"pending": 1}, {"pending": 1}, {"failed": 1}, {}]
    async with read_only() as uow:
        status = await notify.notifier.status(uow)
    assert status.states == {"failed": 1}
    [failure] = status.failures
    assert (failure.licence_ref, failure.attempts) == (ref, 3)
    assert "wechat_unavailable" in failure.last_error
    standin.state.busy_sends = 0
    # A refusal for good (the user turned messages off) is not retried.
    standin.state.refusing.add(standin.state.openid("quinn"))
    await _status(holder, ref, "reinstate")
    assert (await notify.run_once()).outcomes == {"failed": 1}
    assert _to(standin, "quinn") == []


async def test_a_new_version_tells_the_holder_a_first_one_does_not(
    client: httpx.AsyncClient, holder: Runtime, standin: StandinServer
) -> None:
    body, _, token = await _driver(client, holder, "rosa")
    await subscribe(client, token, VERSION)
    notify, _ = worker(holder)
    await notify.run_once()
    assert _to(standin, "rosa") == []
    renewed = {**body, "version": 2, "change_type": "renewal"}
    async with unit_of_work() as uow:
        await holder.registry.upsert_version(
            uow, VersionIn.model_validate(renewed), actor="test:registry"
        )
    await notify.run_once()
    [message] = _to(standin, "rosa")
    assert message["template_id"] == VERSION
    assert message["data"]["phrase2"] == {"value": "已换证"}  # type: ignore[index]
    assert message["data"]["thing3"] == {"value": "已更新为第2版"}  # type: ignore[index]


async def test_a_vehicle_licence_tells_the_legal_representative_and_agents(
    client: httpx.AsyncClient, face_holder: Runtime, standin: StandinServer
) -> None:
    rep_id, agent_id = ("周强", "210102198505051238"), ("吴静", "210102199208081240")
    permit = permit_body(7, rep_id[0])
    uscc = permit["face"]["uscc"]
    refs = await issue(face_holder, [permit, *vehicle_bodies(uscc, 2)])
    rep = await sign_in(client, "rep")
    await face_bind(client, rep, *rep_id)
    bound = await client.post("/api/v1/enterprises", json={"uscc": uscc}, headers=bearer(rep))
    assert bound.status_code in (200, 201), bound.text
    agent = await sign_in(client, "agent")
    await face_bind(client, agent, *agent_id)
    granted = await client.post(
        f"/api/v1/enterprises/{uscc}/agents",
        json={"name": agent_id[0], "id_number": agent_id[1]},
        headers=bearer(rep),
    )
    assert granted.status_code == 201, granted.text
    bystander = await sign_in(client, "bystander")
    for token in (rep, agent, bystander):
        await subscribe(client, token, STATUS)
    await _status(face_holder, refs[1], "suspend")
    notify, _ = worker(face_holder)
    assert (await notify.run_once()).outcomes == {"sent": 2}
    assert len(_to(standin, "rep")) == len(_to(standin, "agent")) == 1
    assert _to(standin, "bystander") == []


async def test_expiry_reminders_go_once_each_at_30_and_7_days(
    client: httpx.AsyncClient, holder: Runtime, standin: StandinServer
) -> None:
    notify, clock = worker(holder)
    today = clock.now().astimezone(CHINA).date()
    until = today + timedelta(days=45)
    _, ref, token = await _driver(
        client,
        holder,
        "sven",
        valid_from=(until - timedelta(days=365 * 3)).isoformat(),
        valid_until=until.isoformat(),
    )
    for _ in range(3):
        await subscribe(client, token, EXPIRY)
    sent_on: list[int] = []
    for day in range(46):
        report = await notify.run_once(reminders=True)
        if report.outcomes:
            assert report.outcomes == {"sent": 1}
            sent_on.append((until - clock.now().astimezone(CHINA).date()).days)
        clock.advance(86400)
    assert sent_on == [30, 7]
    notes = [m["data"]["thing3"]["value"] for m in _to(standin, "sven")]  # type: ignore[index]
    assert notes == [f"{until.isoformat()}到期，剩30天", f"{until.isoformat()}到期，剩7天"]
    rows = await Notification.filter(licence_ref=ref).order_by("id")
    assert [r.kind for r in rows] == ["expiry_30", "expiry_7"]
    async with read_only() as uow:
        assert await holder.subscriptions.credits(uow, rows[0].account_id, EXPIRY) == 1


async def test_a_gap_in_the_outbox_holds_the_cursor_until_its_grace_passes(
    holder: Runtime,
) -> None:
    notify, clock = worker(holder)
    now = clock.now()
    for event_id in (1, 2, 4):
        await OutboxEvent.create(
            id=event_id,
            topic="licence.status",
            licence_ref="LAAAAAAAAAAAAAAAA",
            payload={"action": "suspend", "kind": "qualification"},
            created_at=now,
            next_attempt_at=now,
        )
    planner = notify.notifier
    async with unit_of_work() as uow:
        assert await planner.plan_events(uow) == 2
    clock.advance(60)
    async with unit_of_work() as uow:
        assert await planner.plan_events(uow) == 0
    clock.advance(61)
    async with unit_of_work() as uow:
        assert await planner.plan_events(uow) == 1
    async with read_only() as uow:
        assert (await planner.status(uow)).cursor == 4


async def test_two_workers_at_once_send_each_message_once(
    client: httpx.AsyncClient, holder: Runtime, standin: StandinServer
) -> None:
    bodies = [driver_body(50 + n) for n in range(4)]
    refs = await issue(holder, bodies)
    users = [f"twin{n}" for n in range(4)]
    for user, body, ref in zip(users, bodies, refs, strict=True):
        token = await sign_in(client, user)
        bound = await client.post("/api/v1/identity", json=identity_of(body), headers=bearer(token))
        assert bound.status_code == 200, bound.text
        await subscribe(client, token, STATUS)
        await _status(holder, ref, "suspend")
    first, _ = worker(holder)
    second, _ = worker(holder)
    reports = await asyncio.gather(first.run_once(), second.run_once(), first.run_once())
    assert sum(r.outcomes.get("sent", 0) for r in reports) == 4
    for user in users:
        assert len(_to(standin, user)) == 1
    assert await Notification.filter(state="sent").count() == 4


async def test_reminders_are_planned_in_batches_until_none_is_left(holder: Runtime) -> None:
    notify, clock = worker(holder)
    until = clock.now().astimezone(CHINA).date() + timedelta(days=20)
    validity = {"valid_from": (until - timedelta(days=900)).isoformat()}
    await issue(
        holder,
        [driver_body(60 + n, valid_until=until.isoformat(), **validity) for n in range(3)],
    )
    planner = notify.notifier
    for _ in range(2):
        counts = []
        for _ in range(3):
            async with unit_of_work() as uow:
                counts.append(await planner.plan_reminders(uow, limit=2))
        assert counts == [2, 1, 0]
        clock.advance(14 * 86400)  # into the 7-day window: one more each


async def test_in_the_background_the_worker_sends_until_stopped(
    client: httpx.AsyncClient, holder: Runtime, standin: StandinServer
) -> None:
    _, ref, token = await _driver(client, holder, "wanda")
    await subscribe(client, token, STATUS)
    notify, _ = worker(holder)
    async with notify.in_background(0.05, enabled=False):
        await _status(holder, ref, "suspend")
        await asyncio.sleep(0.3)
    assert _to(standin, "wanda") == []
    async with notify.in_background(0.05):
        for _ in range(100):
            if _to(standin, "wanda"):
                break
            await asyncio.sleep(0.05)
    assert len(_to(standin, "wanda")) == 1
