"""A generated registry for the figures tests, and the figures computed from its plan alone.

Licences go through the real feed (sealed, with outbox events); claims,
activations and the ministry's acknowledgements are written as rows. The
expected figures are computed from the plan here, in Python, without the
figures' SQL.
"""

from __future__ import annotations

import random
import secrets
import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from tests.factories import committing, version_body
from wallet.accounts.models import Account
from wallet.activation.models import Activation
from wallet.claims.models import Claim
from wallet.licences.models import OutboxEvent
from wallet.licences.schemas import StatusIn, VersionIn
from wallet.notifications.messages import CHINA
from wallet.runtime import Runtime
from wallet.uow import unit_of_work

COUNTIES = ("210102", "210103", "210202", "220102", "220103")
TERMS = {"qualification": 6, "business_permit": 4}


def _years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


@dataclass
class Planned:
    """One generated licence and everything the figures depend on."""

    ref: str = ""
    division: str = ""
    kind: str = ""
    valid_until: date = date.min
    status: str = "valid"
    claim: str | None = None
    active: bool = False
    ack: str = "none"  # all | older | none
    rules_ok: bool = True  # the face and times pass the rules
    old_seal: bool = False  # the first version is sealed with a key revoked later
    second: bool = False  # a second version was recorded (sealed with the current key)

    def compliant(self) -> int:
        """Versions passing every rule."""
        return int(self.rules_ok and not self.old_seal) + int(self.second and self.rules_ok)


def _face(kind: str, valid_from: date, valid_until: date, n: int) -> dict[str, Any]:
    face: dict[str, Any] = {
        "valid_from": valid_from.isoformat(),
        "valid_until": valid_until.isoformat(),
    }
    if kind == "business_permit":
        face["permit_number"] = f"{n:012d}"[-12:]
    return face


async def generate(rt: Runtime, count: int = 300, seed: int = 2026) -> list[Planned]:
    """``count`` licences over two provinces, three cities, five counties; their plans."""
    rng = random.Random(seed)
    now = rt.clock.now()
    today = now.astimezone(CHINA).date()
    await committing(rt.keys.init)(["210000", "220000"])
    plans: list[Planned] = []
    bodies: list[dict[str, Any]] = []
    for n in range(count):
        division = COUNTIES[n % len(COUNTIES)]
        kind = "business_permit" if n % 3 == 0 else "qualification"
        plan = Planned(division=division, kind=kind)
        expired = rng.random() < 0.1
        fail_term = not expired and rng.random() < 0.08
        fail_future = rng.random() < 0.08
        if expired:
            plan.valid_until = today - timedelta(days=rng.randint(1, 300))
            valid_from = _years(plan.valid_until, -3)
        else:
            valid_from = today - timedelta(days=rng.randint(0, 400))
            years = TERMS[kind] + 2 if fail_term else 3
            plan.valid_until = _years(valid_from, years) - timedelta(days=1)
        issued_at = (
            now + timedelta(days=2)
            if fail_future
            else datetime.combine(valid_from, datetime.min.time(), UTC) + timedelta(hours=12)
        )
        body = version_body(kind, seed=seed * 1000 + n, division=division)
        body["face"].update(_face(kind, valid_from, plan.valid_until, int(division) * 10**6 + n))
        if kind == "business_permit":
            body["face"]["issue_date"] = min(valid_from, plan.valid_until).isoformat()
        body["issued_at"] = issued_at.isoformat()
        plan.rules_ok = not (fail_term or fail_future)
        plans.append(plan)
        bodies.append(body)
    # Province 22's first half is sealed with a key revoked afterwards.
    half = count // 2
    await _record(rt, bodies[:half], plans[:half])
    async with unit_of_work() as uow:
        old = await rt.keys.active_key(uow, "seal", "220000")
        await rt.keys.rotate(uow, "seal", "220000")
        await rt.keys.revoke(uow, old.kid, "compromised")
    for plan in plans[:half]:
        plan.old_seal = plan.division.startswith("22")
    await _record(rt, bodies[half:], plans[half:])
    # Second versions (sealed with the current keys), then status changes.
    async with unit_of_work() as uow:
        for plan, body in zip(plans, bodies, strict=True):
            if rng.random() < 0.15:
                again = {**body, "version": 2, "change_type": "change"}
                await rt.registry.upsert_version(
                    uow, VersionIn.model_validate(again), actor="test:registry"
                )
                plan.second = True
        for plan in plans:
            roll = rng.random()
            action = "suspend" if roll < 0.12 else "revoke" if roll < 0.17 else None
            if action is not None:
                await rt.registry.change_status(
                    uow, plan.ref, StatusIn(action=action, reason="test"), actor="test:registry"
                )
                plan.status = "suspended" if action == "suspend" else "revoked"
    await _holders_and_ministry(rng, plans, now)
    return plans


async def _record(rt: Runtime, bodies: list[dict[str, Any]], plans: list[Planned]) -> None:
    async with unit_of_work() as uow:
        for body, plan in zip(bodies, plans, strict=True):
            result = await rt.registry.upsert_version(
                uow, VersionIn.model_validate(body), actor="test:registry"
            )
            plan.ref = result.licence.ref


async def _holders_and_ministry(rng: random.Random, plans: list[Planned], now: datetime) -> None:
    account = await Account.create(
        id=uuid.uuid4(),
        openid_index=secrets.token_hex(16),
        openid_sealed="-",
        created_at=now,
        last_sign_in_at=now,
    )
    ids = {ref: licence_id for ref, licence_id in await _licence_ids([p.ref for p in plans])}
    for plan in plans:
        roll = rng.random()
        plan.claim = (
            "claimed"
            if roll < 0.55
            else "approved"
            if roll < 0.7
            else "pending_review"
            if roll < 0.8
            else "rejected"
            if roll < 0.85
            else None
        )
        if plan.claim is not None:
            await Claim.create(
                id=uuid.uuid4(),
                licence_id=ids[plan.ref],
                account_id=account.id,
                status=plan.claim,
                created_at=now,
                updated_at=now,
            )
        if plan.claim in ("claimed", "approved"):
            state = rng.random()
            if state < 0.6:
                plan.active = True
            if state < 0.75:
                await Activation.create(
                    id=uuid.uuid4(),
                    licence_id=ids[plan.ref],
                    account_id=account.id,
                    device_id="device_0123456789abcdef",
                    totp_seed_sealed="-",
                    status="active" if plan.active else "superseded",
                    created_at=now,
                )
        roll = rng.random()
        plan.ack = "all" if roll < 0.7 else "older" if roll < 0.85 else "none"
        events = await OutboxEvent.filter(licence_ref=plan.ref).order_by("id")
        acked = events if plan.ack == "all" else events[:-1] if plan.ack == "older" else []
        for event in acked:
            event.sent_at = now
            await event.save(update_fields=["sent_at"])
        if plan.ack == "older" and len(events) < 2:
            plan.ack = "none"


async def _licence_ids(refs: list[str]) -> list[tuple[str, uuid.UUID]]:
    from wallet.licences.models import Licence

    rows = await Licence.filter(ref__in=refs).values_list("ref", "id")
    return [(str(ref), licence_id) for ref, licence_id in rows]


def expected(plans: list[Planned], today: date) -> dict[str, dict[str, int]]:
    """Counts per county, city and province, from the plans alone."""
    totals: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for plan in plans:
        valid = plan.status == "valid" and plan.valid_until >= today
        issued = valid and plan.claim in ("claimed", "approved")
        counts = {
            "valid": int(valid),
            "issued": int(issued),
            "activated": int(issued and plan.active),
            "acknowledged": int(issued and plan.ack == "all"),
            "versions": 1 + int(plan.second),
            "compliant": plan.compliant(),
        }
        d = plan.division
        for code in (d[:2] + "0000", d[:4] + "00", d):
            for name, value in counts.items():
                totals[code][name] += value
    return {code: dict(values) for code, values in totals.items()}
