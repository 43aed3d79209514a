"""Operators: enterprise binding by the legal representative, agents, the fleet."""

from __future__ import annotations

import pytest

from tests.holder_helpers import (
    DEVICE,
    audit_count,
    bearer,
    face_bind,
    issue,
    permit_body,
    sign_in,
    vehicle_bodies,
)
from wallet.activation.models import Activation
from wallet.audit.models import AuditEntry
from wallet.enterprises.models import EnterpriseAgent
from wallet.holders.models import Enterprise

REP = ("周强", "210102198505051238")
AGENT = ("吴静", "210102199208081240")


async def _operator(client, rt, vehicles=3, permit_name=REP[0]):
    permit = permit_body(7, permit_name)
    uscc = permit["face"]["uscc"]
    refs = await issue(rt, [permit, *vehicle_bodies(uscc, vehicles)])
    token = await sign_in(client, "rep")
    await face_bind(client, token, *REP)
    return uscc, refs, token


async def _agent(client):
    token = await sign_in(client, "agent")
    await face_bind(client, token, *AGENT)
    return token


async def test_the_legal_representative_binds_the_enterprise(client, rt, face_holder):
    uscc, refs, token = await _operator(client, rt)
    response = await client.post("/api/v1/enterprises", json={"uscc": uscc}, headers=bearer(token))
    assert response.status_code == 200, response.text
    assert response.json()["role"] == "legal_representative"
    again = await client.post(
        "/api/v1/enterprises", json={"uscc": uscc.lower()}, headers=bearer(token)
    )
    assert again.status_code == 200
    assert await AuditEntry.filter(action="enterprise.bind").count() == 1
    listed = await client.get("/api/v1/enterprises", headers=bearer(token))
    assert [e["uscc"] for e in listed.json()["items"]] == [uscc]
    fleet = await client.get(f"/api/v1/licences?uscc={uscc}", headers=bearer(token))
    assert sorted(i["ref"] for i in fleet.json()["items"]) == sorted(refs)
    kinds = {i["kind"] for i in fleet.json()["items"]}
    assert kinds == {"business_permit", "transport_cert"}
    assert all(i["holder_uscc"] == uscc for i in fleet.json()["items"])


async def test_someone_else_is_not_the_legal_representative(client, rt, face_holder):
    uscc, _, _ = await _operator(client, rt, permit_name="郑爽")
    token = await sign_in(client, "rep", 2)
    response = await client.post("/api/v1/enterprises", json={"uscc": uscc}, headers=bearer(token))
    assert response.status_code == 403 and response.json()["code"] == "not_legal_representative"
    assert (await Enterprise.get(uscc=uscc)).legal_rep_id is None


async def test_an_expired_or_revoked_permit_does_not_count(client, rt, face_holder):
    permit = permit_body(
        8, REP[0], valid_from="2020-01-01", valid_until="2023-12-31", issue_date="2020-01-01"
    )
    await issue(rt, [permit])
    token = await sign_in(client, "rep")
    await face_bind(client, token, *REP)
    response = await client.post(
        "/api/v1/enterprises", json={"uscc": permit["face"]["uscc"]}, headers=bearer(token)
    )
    assert response.status_code == 403


@pytest.mark.parametrize(
    "payload,status",
    [
        ({}, 422),
        ({"uscc": 91210102}, 422),
        ({"uscc": "91210102MA0000000Y"}, 422),
        ({"uscc": "short"}, 422),
        ({"uscc": "911101080000000000"[:17] + "5"}, 422),
    ],
)
async def test_bad_uscc_input(client, rt, face_holder, payload, status):
    _, _, token = await _operator(client, rt, vehicles=0)
    before = await audit_count()
    response = await client.post("/api/v1/enterprises", json=payload, headers=bearer(token))
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    assert await audit_count() == before


async def test_unknown_enterprise_is_404(client, rt, face_holder):
    _, _, token = await _operator(client, rt, vehicles=0)
    response = await client.post(
        "/api/v1/enterprises", json={"uscc": "35110108MAQ283FQ62"}, headers=bearer(token)
    )
    assert response.status_code == 404


async def test_an_unbound_account_cannot_bind_an_enterprise(client, rt, face_holder):
    uscc, _, _ = await _operator(client, rt, vehicles=0)
    token = await sign_in(client, "nobody")
    response = await client.post("/api/v1/enterprises", json={"uscc": uscc}, headers=bearer(token))
    assert response.status_code == 403 and response.json()["code"] == "identity_not_bound"


async def test_agents_are_granted_act_and_are_revoked(client, rt, face_holder):
    uscc, refs, rep = await _operator(client, rt)
    await client.post("/api/v1/enterprises", json={"uscc": uscc}, headers=bearer(rep))
    unknown = await client.post(
        f"/api/v1/enterprises/{uscc}/agents",
        json={"name": AGENT[0], "id_number": AGENT[1]},
        headers=bearer(rep),
    )
    assert unknown.status_code == 404 and unknown.json()["code"] == "agent_unknown"
    agent = await _agent(client)
    refused = await client.post(
        f"/api/v1/enterprises/{uscc}/agents",
        json={"name": REP[0], "id_number": REP[1]},
        headers=bearer(agent),
    )
    assert refused.status_code == 403
    granted = await client.post(
        f"/api/v1/enterprises/{uscc}/agents",
        json={"name": AGENT[0], "id_number": AGENT[1]},
        headers=bearer(rep),
    )
    assert granted.status_code == 201, granted.text
    assert granted.json()["status"] == "active" and granted.json()["id_number"].count("*") == 10
    roles = (await client.get("/api/v1/enterprises", headers=bearer(agent))).json()["items"]
    assert [(e["uscc"], e["role"]) for e in roles] == [(uscc, "agent")]
    vehicle = refs[1]
    assert (
        await client.post(f"/api/v1/licences/{vehicle}/claim", headers=bearer(agent))
    ).status_code == 201
    assert (
        await client.post(
            f"/api/v1/licences/{vehicle}/activation",
            json={"device_id": DEVICE},
            headers=bearer(agent),
        )
    ).status_code == 201
    listed = (await client.get(f"/api/v1/enterprises/{uscc}/agents", headers=bearer(rep))).json()
    assert [a["id"] for a in listed["items"]] == [granted.json()["id"]]
    assert (
        await client.get(f"/api/v1/enterprises/{uscc}/agents", headers=bearer(agent))
    ).status_code == 403
    revoked = await client.delete(
        f"/api/v1/enterprises/{uscc}/agents/{granted.json()['id']}", headers=bearer(rep)
    )
    assert revoked.status_code == 200 and revoked.json()["status"] == "revoked"
    assert (await Activation.get()).status == "revoked"
    assert (
        await client.get(f"/api/v1/licences?uscc={uscc}", headers=bearer(agent))
    ).status_code == 404
    assert (
        await client.post(f"/api/v1/licences/{refs[2]}/claim", headers=bearer(agent))
    ).status_code == 404
    assert await EnterpriseAgent.filter(status="active").count() == 0
    actions = set(await AuditEntry.all().values_list("action", flat=True))
    assert {"agent.grant", "agent.revoke"} <= actions


async def test_agent_input_errors(client, rt, face_holder):
    uscc, _, rep = await _operator(client, rt, vehicles=0)
    await client.post("/api/v1/enterprises", json={"uscc": uscc}, headers=bearer(rep))
    path = f"/api/v1/enterprises/{uscc}/agents"
    for payload in (
        {},
        {"name": "吴静"},
        {"name": "吴静", "id_number": "210102199208081249"},
        {"name": "", "id_number": AGENT[1]},
        {"name": 1, "id_number": AGENT[1]},
    ):
        response = await client.post(path, json=payload, headers=bearer(rep))
        assert response.status_code == 422, payload
    myself = await client.post(
        path, json={"name": REP[0], "id_number": REP[1]}, headers=bearer(rep)
    )
    assert myself.status_code == 422
    for agent_id in ("nope", "00000000-0000-0000-0000-000000000000"):
        assert (await client.delete(f"{path}/{agent_id}", headers=bearer(rep))).status_code == 404
    assert await EnterpriseAgent.all().count() == 0
