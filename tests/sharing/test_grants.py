"""Grants end to end: granting, redeeming the annotated copy, minimisation, expiry,
use counts, revocation, other parties, authority grants, a fleet granted by an agent."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from tests.factories import authority
from tests.holder_helpers import bearer, face_bind, issue, permit_body, sign_in, vehicle_bodies
from tests.sharing.helpers import add_party, claimed_driver, grant, until, world
from wallet import jws
from wallet.clock import FixedClock
from wallet.keys.models import SigningKey
from wallet.licences.models import Licence
from wallet.sharing.models import Access, Grant

COPIES = "/share/v1/copies"


async def _copy(party, gid, ref, **kw):
    return await party.post(COPIES, {"grant": gid, "licence": ref}, **kw)


async def test_grant_redeem_and_fields_are_minimised(client, rt, holder):
    auth, driver = await world(client, rt)
    party, uscc = await add_party(auth, 1)
    made = await grant(client, driver.token, uscc, [driver.ref], rt, max_uses=2)
    assert made.status_code == 201, made.text
    gid = made.json()["id"]
    assert made.json()["status"] == "live" and made.json()["source"] == "holder"

    copy = await _copy(party, gid, driver.ref)
    assert copy.status_code == 201, copy.text
    out = copy.json()
    assert set(out["fields"]) == {"name", "qualification_categories"}
    assert out["fields"]["name"] == driver.body["face"]["name"]
    assert out["party"]["uscc"] == uscc and out["purpose"] == "employment"
    assert out["grant"] == gid and out["status"] == "valid"
    token = jws.decode(out["copy"])
    copy_key = await SigningKey.get(use="copy", status="active")
    assert token.header == {"alg": "SM2", "kid": copy_key.kid, "typ": "rtel-copy"}
    assert jws.verify_signature(token, bytes.fromhex(copy_key.public_key), rt.sm2)
    payload = token.payload
    assert set(payload["fld"]) == {"name", "qualification_categories"}
    assert payload["aud"] == uscc and payload["gid"] == gid and payload["lic"] == driver.ref
    assert payload["pur"] == "employment" and payload["sta"] == "valid"
    assert payload["knd"] == "D071" and len(payload["cid"]) == 22
    # Nothing outside the grant, anywhere in the answer or the signed payload.
    secret_values = [driver.body["face"]["certificate_number"], driver.body["face"]["address"]]
    for value in secret_values:
        assert value not in copy.text and value not in str(payload)
    assert "certificate_number" not in copy.text and "birth_date" not in copy.text

    accesses = await client.get(f"/api/v1/grants/{gid}/accesses", headers=bearer(driver.token))
    assert accesses.status_code == 200
    [seen] = accesses.json()["items"]
    assert seen["party"]["uscc"] == uscc and seen["licence"] == driver.ref
    assert seen["fields"] == ["name", "qualification_categories"] and seen["form"] == "grant"
    listed = await client.get("/api/v1/grants", headers=bearer(driver.token))
    assert [g["id"] for g in listed.json()["items"]] == [gid]
    assert listed.json()["items"][0]["uses"] == 1


async def test_use_counts_and_concurrent_redemption(client, rt, holder):
    auth, driver = await world(client, rt)
    party, uscc = await add_party(auth, 2)
    gid = (await grant(client, driver.token, uscc, [driver.ref], rt, max_uses=1)).json()["id"]
    answers = await asyncio.gather(*(_copy(party, gid, driver.ref) for _ in range(4)))
    assert sorted(a.status_code for a in answers) == [201, 404, 404, 404]
    assert await Access.all().count() == 1
    assert (await Grant.get(public_id=gid)).uses == 1
    inspected = await client.get(f"/api/v1/grants/{gid}", headers=bearer(driver.token))
    assert inspected.json()["status"] == "used_up"


async def test_refusals_are_one_answer(client, rt, holder):
    auth, driver = await world(client, rt)
    party, uscc = await add_party(auth, 3)
    other, _ = await add_party(auth, 4, name="另一家公司")
    gid = (await grant(client, driver.token, uscc, [driver.ref], rt, max_uses=None)).json()["id"]
    refusals = [
        await _copy(other, gid, driver.ref),  # another party's grant
        await _copy(party, "GAAAAAAAAAAAAAAAA", driver.ref),  # no such grant
        await _copy(party, gid, "LAAAAAAAAAAAAAAAA"),  # no such licence
    ]
    second = await claimed_driver(client, rt, "second", 502)
    refusals.append(await _copy(party, gid, second.ref))  # a licence outside the grant
    revoked = await client.delete(f"/api/v1/grants/{gid}", headers=bearer(driver.token))
    assert revoked.status_code == 200 and revoked.json()["status"] == "revoked"
    refusals.append(await _copy(party, gid, driver.ref))  # revoked: the very next call
    bodies = {r.status_code for r in refusals}
    assert bodies == {404}
    # Every field but the request's own id is the same.
    problems = [{k: v for k, v in r.json().items() if k != "request_id"} for r in refusals]
    assert all(p == problems[0] for p in problems), problems
    assert problems[0]["code"] == "no_live_grant"
    assert await Access.all().count() == 0


async def test_expiry(client, rt, holder):
    auth, driver = await world(client, rt)
    party, uscc = await add_party(auth, 5)
    gid = (await grant(client, driver.token, uscc, [driver.ref], rt, until=until(rt, 1))).json()[
        "id"
    ]
    previous = rt.sharing.clock
    rt.sharing.clock = FixedClock(rt.clock.now() + timedelta(days=1, seconds=1))
    try:
        late = await _copy(party, gid, driver.ref)
        inspected = await client.get(f"/api/v1/grants/{gid}", headers=bearer(driver.token))
    finally:
        rt.sharing.clock = previous
    assert late.status_code == 404 and late.json()["code"] == "no_live_grant"
    assert inspected.json()["status"] == "expired"
    assert (await _copy(party, gid, driver.ref)).status_code == 201


async def test_grant_limits(client, rt, holder):
    auth, driver = await world(client, rt)
    _, uscc = await add_party(auth, 6, purposes=("employment",))
    before = await Grant.all().count()
    cases = [
        {"fields": ["name", "plate_number"]},  # not a field of the kind
        {"fields": ["photo"]},  # not shareable
        {"until": until(rt, 91)},
        {"until": until(rt, -1)},
        {"until": "2030-01-01T00:00:00"},  # no offset
        {"purpose": "insurance"},  # not one of the party's purposes
        {"purpose": "gossip"},
        {"max_uses": 0},
        {"licences": []},
        {"licences": [driver.ref, driver.ref]},
    ]
    for case in cases:
        response = await grant(client, driver.token, uscc, [driver.ref], rt, **case)
        assert response.status_code == 422, (case, response.text)
        assert response.headers["content-type"] == "application/problem+json"
    other = await claimed_driver(client, rt, "other", 503)
    theirs = await grant(client, driver.token, uscc, [other.ref], rt)
    assert theirs.status_code == 404
    unknown = await grant(client, driver.token, "91210102MA0000007X", [driver.ref], rt)
    assert unknown.status_code in (404, 422)
    assert await Grant.all().count() == before


async def test_authority_grant_is_shown_to_the_holder(client, rt, holder):
    auth, driver = await world(client, rt)
    party, uscc = await add_party(auth, 7, purposes=("inter_department",))
    body = {
        "party": uscc,
        "licences": [driver.ref],
        "fields": ["name", "valid_until"],
        "purpose": "inter_department",
        "until": until(rt, 10),
        "max_uses": None,
    }
    made = await auth.post("/authority/v1/grants", body)
    assert made.status_code == 201, made.text
    gid = made.json()["id"]
    assert made.json()["source"] == "authority"
    listed = await client.get("/api/v1/grants", headers=bearer(driver.token))
    assert [(g["id"], g["source"]) for g in listed.json()["items"]] == [(gid, "authority")]
    assert (await _copy(party, gid, driver.ref)).status_code == 201
    refused = await client.delete(f"/api/v1/grants/{gid}", headers=bearer(driver.token))
    assert refused.status_code == 403
    # Outside the client's division a licence does not exist for it.
    elsewhere = await authority(client, rt, division="110000", provinces=("210000", "110000"))
    assert (await elsewhere.post("/authority/v1/grants", body)).status_code == 404


async def test_a_disabled_party_is_refused(client, rt, holder):
    auth, driver = await world(client, rt)
    party, uscc = await add_party(auth, 8)
    gid = (await grant(client, driver.token, uscc, [driver.ref], rt, max_uses=None)).json()["id"]
    disabled = await auth.post(f"/authority/v1/parties/{party.client_id}/disable", None)
    assert disabled.status_code == 200 and disabled.json()["status"] == "disabled"
    assert (await _copy(party, gid, driver.ref)).status_code == 401
    listed = await auth.get("/authority/v1/parties?status=disabled")
    assert [p["party_id"] for p in listed.json()["items"]] == [party.client_id]
    assert "secret" not in listed.text


REP = ("周强", "210102198505051238")
AGENT = ("吴静", "210102199208081240")


async def test_an_agent_grants_for_the_fleet(client, rt, face_holder):
    auth = await authority(client, rt)
    permit = permit_body(7, REP[0])
    op_uscc = permit["face"]["uscc"]
    _, *vehicles = await issue(rt, [permit, *vehicle_bodies(op_uscc, 3)])
    rep = await sign_in(client, "rep")
    await face_bind(client, rep, *REP)
    await client.post("/api/v1/enterprises", json={"uscc": op_uscc}, headers=bearer(rep))
    agent = await sign_in(client, "agent")
    await face_bind(client, agent, *AGENT)
    named = await client.post(
        f"/api/v1/enterprises/{op_uscc}/agents",
        json={"name": AGENT[0], "id_number": AGENT[1]},
        headers=bearer(rep),
    )
    assert named.status_code == 201, named.text
    for ref in vehicles:
        claimed = await client.post(f"/api/v1/licences/{ref}/claim", headers=bearer(agent))
        assert claimed.status_code == 201, claimed.text
    party, uscc = await add_party(auth, 9, purposes=("carriage",), name="示例货主有限公司")
    made = await grant(
        client,
        agent,
        uscc,
        vehicles,
        rt,
        fields=["plate_number", "operator_name", "valid_until"],
        purpose="carriage",
        max_uses=None,
    )
    assert made.status_code == 201, made.text
    gid = made.json()["id"]
    for ref in vehicles:
        copy = await _copy(party, gid, ref)
        assert copy.status_code == 201, copy.text
        assert set(copy.json()["fields"]) == {"plate_number", "operator_name", "valid_until"}
    # The legal representative sees the agent's grant and its accesses.
    seen = await client.get(f"/api/v1/grants/{gid}/accesses", headers=bearer(rep))
    assert len(seen.json()["items"]) == 3
    # A person outside the operator sees nothing.
    outsider = await sign_in(client, "outsider")
    assert (await client.get(f"/api/v1/grants/{gid}", headers=bearer(outsider))).status_code == 404


async def test_a_licence_that_changed_hands_leaves_its_grants_behind(client, rt, holder):
    auth, driver = await world(client, rt)
    party, uscc = await add_party(auth, 10)
    gid = (await grant(client, driver.token, uscc, [driver.ref], rt, max_uses=None)).json()["id"]
    other = await claimed_driver(client, rt, "newholder", 504)
    new_holder = (await Licence.get(ref=other.ref)).holder_person_id
    await Licence.filter(ref=driver.ref).update(holder_person_id=new_holder)
    refused = await _copy(party, gid, driver.ref)
    assert refused.status_code == 404 and refused.json()["code"] == "no_live_grant"
    # The grant stays the grantor's: listed to them, not to the new holder.
    mine = await client.get("/api/v1/grants", headers=bearer(driver.token))
    theirs = await client.get("/api/v1/grants", headers=bearer(other.token))
    assert [g["id"] for g in mine.json()["items"]] == [gid]
    assert theirs.json()["items"] == []


async def test_an_unbound_account_has_no_grants(client, rt, holder):
    token = await sign_in(client, "unbound")
    listed = await client.get("/api/v1/grants", headers=bearer(token))
    assert listed.status_code == 200 and listed.json() == {"items": [], "next_cursor": None}


async def test_grants_are_paginated(client, rt, holder):
    auth, driver = await world(client, rt)
    _, uscc = await add_party(auth, 11)
    made = [
        (await grant(client, driver.token, uscc, [driver.ref], rt)).json()["id"] for _ in range(5)
    ]
    seen, cursor = [], None
    while True:
        query = "?limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = (await client.get(f"/api/v1/grants{query}", headers=bearer(driver.token))).json()
        seen += [g["id"] for g in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(made) and len(seen) == 5
    unknown = await client.get(
        "/api/v1/grants?cursor=GAAAAAAAAAAAAAAAA", headers=bearer(driver.token)
    )
    assert unknown.status_code == 200 and unknown.json() == {"items": [], "next_cursor": None}
