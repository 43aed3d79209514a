"""Plain async helpers for the sharing tests: a driver with a claimed licence, parties."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx

from tests.factories import AuthorityCaller, authority
from tests.holder_helpers import bearer, driver_body, identity_of, issue, sign_in
from wallet.identifiers import make_uscc
from wallet.runtime import Runtime


@dataclass
class Driver:
    token: str
    ref: str
    body: dict[str, Any]


async def claimed_driver(client: httpx.AsyncClient, rt: Runtime, user: str, seed: int) -> Driver:
    """A bound driver who claimed their qualification certificate."""
    body = driver_body(seed, photo=True)
    [ref] = await issue(rt, [body])
    token = await sign_in(client, user)
    bound = await client.post("/api/v1/identity", json=identity_of(body), headers=bearer(token))
    assert bound.status_code == 200, bound.text
    claimed = await client.post(f"/api/v1/licences/{ref}/claim", headers=bearer(token))
    assert claimed.status_code == 201, claimed.text
    return Driver(token, ref, body)


async def add_party(
    auth: AuthorityCaller,
    seed: int,
    purposes: tuple[str, ...] = ("employment", "inter_department"),
    name: str = "沈阳示例物流有限公司",
) -> tuple[AuthorityCaller, str]:
    """A registered party, as a caller that signs its requests, and its USCC."""
    uscc = make_uscc(random.Random(seed))
    created = await auth.post(
        "/authority/v1/parties", {"name": name, "uscc": uscc, "purposes": list(purposes)}
    )
    assert created.status_code == 201, created.text
    out = created.json()
    return AuthorityCaller(auth.http, auth.rt, out["party_id"], out["secret"]), uscc


async def world(client: httpx.AsyncClient, rt: Runtime) -> tuple[AuthorityCaller, Driver]:
    auth = await authority(client, rt)
    driver = await claimed_driver(client, rt, "driver", 501)
    return auth, driver


def until(rt: Runtime, days: float = 30) -> str:
    return (rt.clock.now() + timedelta(days=days)).isoformat()


async def grant(
    client: httpx.AsyncClient, token: str, party_uscc: str, refs: list[str], rt: Runtime, **kw: Any
) -> httpx.Response:
    body = {
        "party": party_uscc,
        "licences": refs,
        "fields": ["name", "qualification_categories"],
        "purpose": "employment",
        "until": until(rt),
        "max_uses": 1,
    } | kw
    return await client.post("/api/v1/grants", json=body, headers=bearer(token))
