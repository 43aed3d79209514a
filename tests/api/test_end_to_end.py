"""The issue's journeys over HTTP, through the WeChat stand-in over real HTTP.

A driver: sign-in, SM2-encrypted real-name binding with a phone number,
claiming with a photo, the authority's approval (and its subscribe message),
activation. An operator: face-verified binding, enterprise binding, agent
authorisation, and the agent's bulk claim of 500 vehicle certificates.
"""

from __future__ import annotations

import base64

from tests.audit.helpers import verify_audit
from tests.conftest import CLAIM_TEMPLATE
from tests.factories import authority
from tests.holder_helpers import (
    DEVICE,
    bearer,
    driver_body,
    face_bind,
    issue,
    jpeg,
    permit_body,
    sign_in,
    subscribe,
    vehicle_bodies,
)
from wallet.activation.models import Activation
from wallet.claims.models import Claim
from wallet.crypto import sm2_encrypt


async def test_a_driver_from_sign_in_to_activation(client, rt, holder, standin):
    body = driver_body(101)  # the registry has no photo for this driver
    [ref] = await issue(rt, [body])

    session = await client.post("/api/v1/session", json={"code": "driver-wang.1"})
    assert session.status_code == 200 and session.json()["bound"] is False
    token = session.json()["token"]

    key = (await client.get("/api/v1/identity/transport-key")).json()
    public = bytes.fromhex(key["public_key"])
    secret = {
        f: sm2_encrypt(public, body["face"][src].encode())[1:].hex()  # no 04 prefix
        for f, src in (("name", "name"), ("id_number", "certificate_number"))
    }
    bound = await client.post(
        "/api/v1/identity",
        headers=bearer(token, DEVICE),
        json={**secret, "encrypted": True, "phone_code": "phone-13712345678"},
    )
    assert bound.status_code == 200, bound.text
    assert bound.json()["phone"] == "137****5678"

    [item] = (await client.get("/api/v1/licences", headers=bearer(token))).json()["items"]
    assert item["ref"] == ref and item["state"] == "claimable" and item["needs_photo"]

    photo = base64.b64encode(jpeg(600, 800)).decode()
    claimed = await client.post(
        f"/api/v1/licences/{ref}/claim", json={"photo": photo}, headers=bearer(token)
    )
    assert claimed.status_code == 201 and claimed.json()["status"] == "pending_review"
    # The mini-program asks the user to accept the review-result message.
    await subscribe(client, token, CLAIM_TEMPLATE)

    reviewer = await authority(client, rt)
    [pending] = (await reviewer.get("/authority/v1/claims")).json()["items"]
    assert pending["licence_ref"] == ref
    image = await reviewer.get(pending["photo_url"])
    assert image.content.startswith(b"\xff\xd8")
    approved = await reviewer.post(f"/authority/v1/claims/{pending['id']}/approve", None)
    assert approved.status_code == 200

    [message] = standin.state.messages
    assert message["touser"] == standin.state.openid("driver-wang")
    assert message["page"] == f"pages/licence/detail?ref={ref}"
    [item] = (await client.get("/api/v1/licences", headers=bearer(token))).json()["items"]
    assert item["state"] == "approved"

    device_key = rt.sm2.public_key(rt.sm2.generate_private_key()).hex()
    activated = await client.post(
        f"/api/v1/licences/{ref}/activation",
        json={"device_id": DEVICE, "device_public_key": device_key},
        headers=bearer(token, DEVICE),
    )
    assert activated.status_code == 201, activated.text
    assert len(base64.b32decode(activated.json()["totp"]["seed"])) == 20
    [item] = (await client.get("/api/v1/licences", headers=bearer(token))).json()["items"]
    assert item["state"] == "active" and item["activation"]["device_id"] == DEVICE

    report = await verify_audit()
    assert report.ok
    from wallet.audit.models import AuditEntry

    actions = await AuditEntry.all().order_by("id").values_list("action", flat=True)
    assert [a for a in actions if not a.startswith("licence.")] == [
        "account.create",
        "identity.bind",
        "claim.create",
        "claim.approve",
        "activation.create",
    ]


async def test_an_operator_binds_authorises_an_agent_who_claims_500_vehicles(
    client, rt, face_holder, standin
):
    rep_name, rep_id = "钱进", "210102198001011232"
    permit = permit_body(201, rep_name)
    uscc = permit["face"]["uscc"]
    refs = await issue(rt, [permit, *vehicle_bodies(uscc, 500)])
    permit_ref, vehicle_refs = refs[0], refs[1:]
    stranger = driver_body(202, photo=True)
    [foreign_ref] = await issue(rt, [stranger])

    rep = await sign_in(client, "boss-qian")
    await face_bind(client, rep, rep_name, rep_id)
    enterprise = await client.post("/api/v1/enterprises", json={"uscc": uscc}, headers=bearer(rep))
    assert enterprise.status_code == 200, enterprise.text

    agent = await sign_in(client, "clerk-li")
    await face_bind(client, agent, "李娜", "210102199505051240")
    granted = await client.post(
        f"/api/v1/enterprises/{uscc}/agents",
        json={"name": "李娜", "id_number": "210102199505051240"},
        headers=bearer(rep),
    )
    assert granted.status_code == 201, granted.text

    batch = [*vehicle_refs, vehicle_refs[0], foreign_ref, "LAAAAAAAAAAAAAAAA"]
    claimed = await client.post(
        "/api/v1/licences/claims", json={"refs": batch}, headers=bearer(agent)
    )
    assert claimed.status_code == 200, claimed.text
    out = claimed.json()
    assert (out["claimed"], out["unchanged"], out["failed"]) == (500, 0, 2)
    failures = {r["ref"]: r["code"] for r in out["results"] if r["outcome"] == "failed"}
    assert failures == {foreign_ref: "licence_not_found", "LAAAAAAAAAAAAAAAA": "licence_not_found"}
    assert await Claim.filter(enterprise__uscc=uscc).count() == 500

    again = (
        await client.post(
            "/api/v1/licences/claims", json={"refs": vehicle_refs[:10]}, headers=bearer(agent)
        )
    ).json()
    assert (again["claimed"], again["unchanged"]) == (0, 10)

    seen, cursor = [], None
    while True:
        path = f"/api/v1/licences?uscc={uscc}&limit=200" + (f"&cursor={cursor}" if cursor else "")
        page = await client.get(path, headers=bearer(agent))
        assert page.status_code == 200
        seen += page.json()["items"]
        cursor = page.json()["next_cursor"]
        if not cursor:
            break
    assert len(seen) == 501
    states = {i["ref"]: i["state"] for i in seen}
    assert states[permit_ref] == "claimable"
    assert {states[r] for r in vehicle_refs} == {"claimed"}
    claimable = await client.get(
        f"/api/v1/licences?uscc={uscc}&state=claimable", headers=bearer(rep)
    )
    assert [i["ref"] for i in claimable.json()["items"]] == [permit_ref]

    activated = await client.post(
        f"/api/v1/licences/{vehicle_refs[0]}/activation",
        json={"device_id": DEVICE},
        headers=bearer(agent),
    )
    assert activated.status_code == 201
    assert await Activation.filter(status="active").count() == 1
    assert (await verify_audit()).ok
