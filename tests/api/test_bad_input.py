"""Bad input on every holder-side endpoint: a 4xx problem, and nothing changed.

One world per endpoint (a bound driver with a claimed, activated licence, a
second driver, an operator with an agent, a pending photo claim); each case
is sent and the database is compared before and after.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

import pytest

from tests.factories import AuthorityCaller, authority
from tests.holder_helpers import (
    DEVICE,
    bearer,
    driver_body,
    identity_of,
    issue,
    jpeg,
    permit_body,
    sign_in,
    vehicle_bodies,
)
from wallet.accounts.models import Account
from wallet.activation.models import Activation
from wallet.audit.models import AuditEntry
from wallet.claims.models import Claim, ClaimPhoto
from wallet.enterprises.models import EnterpriseAgent
from wallet.holders.models import Enterprise, Person


@dataclass
class World:
    driver: str
    other: str
    rep: str
    agent_token: str
    mine: str
    theirs: str
    pending_claim: str
    uscc: str
    agent_id: str
    driver_identity: dict[str, str]
    caller: AuthorityCaller


async def _world(client, rt) -> World:
    drv, oth, rep_body, agent_body = (
        driver_body(301, photo=True),
        driver_body(302, photo=True),
        driver_body(303, photo=True),
        driver_body(304, photo=True),
    )
    permit = permit_body(305, rep_body["face"]["name"])
    uscc = permit["face"]["uscc"]
    mine, theirs, _, _, _, *_ = await issue(
        rt, [drv, oth, rep_body, agent_body, permit, *vehicle_bodies(uscc, 2)]
    )
    pending_body = driver_body(306)
    [pending_ref] = await issue(rt, [pending_body])
    tokens = {}
    for user, body in (
        ("drv", drv),
        ("oth", oth),
        ("rep", rep_body),
        ("agt", agent_body),
        ("pen", pending_body),
    ):
        tokens[user] = await sign_in(client, user)
        assert (
            await client.post(
                "/api/v1/identity", json=identity_of(body), headers=bearer(tokens[user])
            )
        ).status_code == 200
    assert (
        await client.post(f"/api/v1/licences/{mine}/claim", headers=bearer(tokens["drv"]))
    ).status_code == 201
    assert (
        await client.post(
            f"/api/v1/licences/{mine}/activation",
            json={"device_id": DEVICE},
            headers=bearer(tokens["drv"]),
        )
    ).status_code == 201
    pending = await client.post(
        f"/api/v1/licences/{pending_ref}/claim",
        json={"photo": base64.b64encode(jpeg()).decode()},
        headers=bearer(tokens["pen"]),
    )
    assert (
        await client.post("/api/v1/enterprises", json={"uscc": uscc}, headers=bearer(tokens["rep"]))
    ).status_code == 200
    granted = await client.post(
        f"/api/v1/enterprises/{uscc}/agents",
        json=identity_of(agent_body),
        headers=bearer(tokens["rep"]),
    )
    assert granted.status_code == 201
    return World(
        tokens["drv"],
        tokens["oth"],
        tokens["rep"],
        tokens["agt"],
        mine,
        theirs,
        pending.json()["claim_id"],
        uscc,
        granted.json()["id"],
        identity_of(drv),
        await authority(client, rt),
    )


async def _snapshot() -> dict[str, Any]:
    return {
        "accounts": sorted(map(str, await Account.all().values_list("person_id", flat=True))),
        "persons": await Person.all().count(),
        "claims": sorted(await Claim.all().values_list("status", "reason", "updated_at")),
        "photos": await ClaimPhoto.all().count(),
        "activations": sorted(await Activation.all().values_list("status", "device_id")),
        "agents": sorted(await EnterpriseAgent.all().values_list("status", flat=True)),
        "reps": sorted(map(str, await Enterprise.all().values_list("legal_rep_id", flat=True))),
        "audit": await AuditEntry.all().count(),
    }


JSON = {"content-type": "application/json"}


def _cases(w: World) -> dict[str, list[tuple[str, str, dict[str, str], Any]]]:
    """endpoint → [(method, path, headers, body)] each of which must be refused."""
    drv, oth, rep = bearer(w.driver), bearer(w.other), bearer(w.rep)
    long_refs = {"refs": [w.mine] * 1001}
    ident = w.driver_identity
    return {
        "session": [
            ("POST", "/api/v1/session", JSON, {}),
            ("POST", "/api/v1/session", JSON, {"code": 12}),
            ("POST", "/api/v1/session", JSON, {"code": ""}),
            ("POST", "/api/v1/session", JSON, {"code": "x" * 129}),
            ("POST", "/api/v1/session", JSON, {"code": "ok.1", "extra": 1}),
            ("POST", "/api/v1/session", JSON, b"{not json"),
            ("POST", "/api/v1/session", {"content-type": "text/plain"}, b"code=x"),
            ("POST", "/api/v1/session", JSON, {"code": "bad-code"}),
        ],
        "renew_and_revoke": [
            ("POST", "/api/v1/session/renew", {}, None),
            ("POST", "/api/v1/session/renew", bearer("A" * 43), None),
            ("DELETE", "/api/v1/session", {}, None),
            ("GET", "/api/v1/identity", {}, None),
        ],
        "face_verification": [
            ("POST", "/api/v1/identity/face-verification", drv, {}),
            ("POST", "/api/v1/identity/face-verification", drv, {"name": 1, "id_number": 2}),
            ("POST", "/api/v1/identity/face-verification", {}, ident),
        ],
        "identity": [
            ("POST", "/api/v1/identity", oth, {}),
            ("POST", "/api/v1/identity", oth, {"name": "王伟"}),
            ("POST", "/api/v1/identity", oth, {"name": ["王伟"], "id_number": ident["id_number"]}),
            ("POST", "/api/v1/identity", oth, ident | {"id_number": ident["id_number"][:-1]}),
            ("POST", "/api/v1/identity", oth, ident | {"encrypted": True}),
            ("POST", "/api/v1/identity", oth, ident | {"encrypted": "maybe"}),
            ("POST", "/api/v1/identity", oth, ident | {"phone_code": 13800000000}),
            ("POST", "/api/v1/identity", oth, ident),  # bound to the driver's account
            ("POST", "/api/v1/identity", {}, ident),
        ],
        "rebind": [
            ("POST", "/api/v1/identity/rebind", oth, {}),
            ("POST", "/api/v1/identity/rebind", oth, ident | {"id_number": "1" * 18}),
            ("POST", "/api/v1/identity/rebind", oth, ident | {"name": "欧阳修"}),
            ("POST", "/api/v1/identity/rebind", drv, ident),  # the caller holds one already
            ("POST", "/api/v1/identity/rebind", oth, ident),  # no face verification
        ],
        "listing": [
            ("GET", "/api/v1/licences?limit=0", drv, None),
            ("GET", "/api/v1/licences?limit=501", drv, None),
            ("GET", "/api/v1/licences?limit=many", drv, None),
            ("GET", "/api/v1/licences?state=lost", drv, None),
            ("GET", "/api/v1/licences?holder=cat", drv, None),
            ("GET", "/api/v1/licences?cursor=../../etc", drv, None),
            ("GET", f"/api/v1/licences?uscc={w.uscc}", drv, None),
            ("GET", "/api/v1/licences", {}, None),
        ],
        "claim": [
            ("POST", f"/api/v1/licences/{w.theirs}/claim", drv, None),
            ("POST", "/api/v1/licences/LAAAAAAAAAAAAAAAA/claim", drv, None),
            ("POST", f"/api/v1/licences/{w.mine}/claim", drv, {"photo": 5}),
            ("POST", f"/api/v1/licences/{w.mine}/claim", drv, {"photo": "@@@"}),
            ("POST", f"/api/v1/licences/{w.mine}/claim", drv, b"[]"),
            ("POST", f"/api/v1/licences/{w.mine}/claim", {}, None),
        ],
        "bulk_claim": [
            ("POST", "/api/v1/licences/claims", drv, {}),
            ("POST", "/api/v1/licences/claims", drv, {"refs": []}),
            ("POST", "/api/v1/licences/claims", drv, {"refs": w.mine}),
            ("POST", "/api/v1/licences/claims", drv, {"refs": [1, 2]}),
            ("POST", "/api/v1/licences/claims", drv, long_refs),
            ("POST", "/api/v1/licences/claims", {}, {"refs": [w.mine]}),
        ],
        "activation": [
            ("POST", f"/api/v1/licences/{w.theirs}/activation", drv, {"device_id": DEVICE}),
            ("POST", f"/api/v1/licences/{w.mine}/activation", oth, {"device_id": DEVICE}),
            ("POST", f"/api/v1/licences/{w.mine}/activation", drv, {}),
            ("POST", f"/api/v1/licences/{w.mine}/activation", drv, {"device_id": ["x"]}),
            (
                "POST",
                f"/api/v1/licences/{w.mine}/activation",
                drv,
                {"device_id": DEVICE, "device_public_key": "04" + "zz" * 64},
            ),
            ("DELETE", f"/api/v1/licences/{w.mine}/activation", oth, None),
            ("DELETE", f"/api/v1/licences/{w.theirs}/activation", drv, None),
        ],
        "enterprises": [
            ("GET", "/api/v1/enterprises", {}, None),
            ("POST", "/api/v1/enterprises", drv, {"uscc": w.uscc}),
            ("POST", "/api/v1/enterprises", rep, {"uscc": w.uscc[:-1] + "0"}),
            ("POST", "/api/v1/enterprises", rep, {"uscc": None}),
            ("POST", "/api/v1/enterprises", rep, {}),
        ],
        "agents": [
            ("GET", f"/api/v1/enterprises/{w.uscc}/agents", drv, None),
            ("POST", f"/api/v1/enterprises/{w.uscc}/agents", drv, ident),
            ("POST", f"/api/v1/enterprises/{w.uscc}/agents", rep, {"name": "x"}),
            (
                "POST",
                f"/api/v1/enterprises/{w.uscc}/agents",
                rep,
                {"name": "无名氏", "id_number": "110101199001011237"},
            ),
            ("DELETE", f"/api/v1/enterprises/{w.uscc}/agents/{w.agent_id}", drv, None),
            ("DELETE", f"/api/v1/enterprises/{w.uscc}/agents/nope", rep, None),
        ],
    }


ENDPOINTS = [
    "session",
    "renew_and_revoke",
    "face_verification",
    "identity",
    "rebind",
    "listing",
    "claim",
    "bulk_claim",
    "activation",
    "enterprises",
    "agents",
]


async def _send(client, method, path, headers, body):
    if isinstance(body, bytes):
        return await client.request(method, path, content=body, headers=JSON | headers)
    if body is None:
        return await client.request(method, path, headers=headers)
    return await client.request(method, path, json=body, headers=headers)


# endpoint → the exact (status, problem code) of each case of _cases, in order.
ANSWERS: dict[str, list[tuple[int, str]]] = {
    "session": [
        (422, "validation_failed"),
        (422, "validation_failed"),
        (422, "validation_failed"),
        (422, "validation_failed"),
        (422, "validation_failed"),
        (400, "malformed_json"),
        (415, "unsupported_media_type"),
        (401, "wechat_code_invalid"),
    ],
    "renew_and_revoke": [
        (401, "session_required"),
        (401, "session_required"),
        (401, "session_required"),
        (401, "session_required"),
    ],
    "face_verification": [
        (422, "validation_failed"),
        (422, "validation_failed"),
        (401, "session_required"),
    ],
    "identity": [
        (422, "validation_failed"),
        (422, "validation_failed"),
        (422, "validation_failed"),
        (422, "validation_failed"),
        (422, "validation_failed"),
        (422, "validation_failed"),
        (422, "validation_failed"),
        (409, "account_already_bound"),
        (401, "session_required"),
    ],
    "rebind": [
        (422, "validation_failed"),
        (422, "validation_failed"),
        (409, "account_already_bound"),
        (409, "account_already_bound"),
        (409, "account_already_bound"),
    ],
    "listing": [
        (422, "validation_failed"),
        (422, "validation_failed"),
        (422, "validation_failed"),
        (422, "validation_failed"),
        (422, "validation_failed"),
        (422, "validation_failed"),
        (404, "not_found"),
        (401, "session_required"),
    ],
    "claim": [
        (404, "licence_not_found"),
        (404, "licence_not_found"),
        (422, "validation_failed"),
        (422, "invalid_photo"),
        (422, "validation_failed"),
        (401, "session_required"),
    ],
    "bulk_claim": [
        (422, "validation_failed"),
        (422, "validation_failed"),
        (422, "validation_failed"),
        (422, "validation_failed"),
        (422, "validation_failed"),
        (401, "session_required"),
    ],
    "activation": [
        (404, "licence_not_found"),
        (404, "licence_not_found"),
        (422, "validation_failed"),
        (422, "validation_failed"),
        (422, "validation_failed"),
        (404, "licence_not_found"),
        (404, "licence_not_found"),
    ],
    "enterprises": [
        (401, "session_required"),
        (403, "not_legal_representative"),
        (422, "invalid_identifier"),
        (422, "validation_failed"),
        (422, "validation_failed"),
    ],
    "agents": [
        (403, "not_legal_representative"),
        (403, "not_legal_representative"),
        (422, "validation_failed"),
        (404, "agent_unknown"),
        (403, "not_legal_representative"),
        (404, "not_found"),
    ],
}


@pytest.mark.parametrize("endpoint", ENDPOINTS)
async def test_bad_input_is_a_problem_and_changes_nothing(client, rt, holder, endpoint):
    world = await _world(client, rt)
    before = await _snapshot()
    cases = _cases(world)[endpoint]
    assert len(cases) == len(ANSWERS[endpoint])
    for (method, path, headers, body), answer in zip(cases, ANSWERS[endpoint], strict=True):
        response = await _send(client, method, path, headers, body)
        assert response.headers["content-type"] == "application/problem+json", path
        assert (response.status_code, response.json()["code"]) == answer, (method, path, body)
        assert await _snapshot() == before, (method, path, body)


async def test_bad_input_on_the_review_endpoints(client, rt, holder):
    world = await _world(client, rt)
    before = await _snapshot()
    caller, claim = world.caller, world.pending_claim
    responses = [
        await client.get("/authority/v1/claims"),
        await caller.get("/authority/v1/claims?limit=0"),
        await caller.get("/authority/v1/claims?limit=x"),
        await caller.get("/authority/v1/claims/nope/photo"),
        await caller.post(
            "/authority/v1/claims/00000000-0000-0000-0000-000000000000/approve", None
        ),
        await caller.post(f"/authority/v1/claims/{claim}/reject", {}),
        await caller.post(f"/authority/v1/claims/{claim}/reject", {"reason": 7}),
        await caller.post(f"/authority/v1/claims/{claim}/reject", {"reason": "x" * 257}),
        await caller.post(f"/authority/v1/claims/{claim}/reject", {"reason": "ok", "x": 1}),
        await client.post(f"/authority/v1/claims/{claim}/approve"),
    ]
    answers = [
        (401, "signature_required"),
        (422, "validation_failed"),
        (422, "validation_failed"),
        (404, "not_found"),
        (404, "not_found"),
        *[(422, "validation_failed")] * 4,
        (401, "signature_required"),
    ]
    for response, answer in zip(responses, answers, strict=True):
        assert response.headers["content-type"] == "application/problem+json"
        assert (response.status_code, response.json()["code"]) == answer, response.text
    assert await _snapshot() == before
