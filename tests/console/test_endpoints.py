"""The console's JSON API over HTTP: cookie session, CSRF token, division scope, roles."""

from __future__ import annotations

import re

import httpx

from miniprogram_api.console import COOKIE
from tests.browser.seed import seed
from tests.factories import committing
from wallet.audit.models import AuditEntry

PASSWORD = "reviewer password 2026"


async def add_user(
    rt, username: str = "reviewer.li", role: str = "reviewer", division: str = "210000"
) -> None:
    await committing(rt.console.add)(
        username=username, name="李审核", division=division, role=role, password=PASSWORD
    )


async def sign_in(client: httpx.AsyncClient, username: str = "reviewer.li") -> dict[str, str]:
    """Headers of a signed-in console user: the session cookie and the CSRF token."""
    signed = await client.post(
        "/console/api/session", json={"username": username, "password": PASSWORD}
    )
    assert signed.status_code == 201, signed.text
    token = re.match(rf"{COOKIE}=([^;]+)", signed.headers["set-cookie"]).group(1)
    return {"Cookie": f"{COOKIE}={token}", "X-CSRF-Token": signed.json()["csrf_token"]}


async def test_the_session_cookie_is_strict_and_http_only(client, rt):
    await add_user(rt)
    signed = await client.post(
        "/console/api/session", json={"username": "reviewer.li", "password": PASSWORD}
    )
    assert signed.status_code == 201
    cookie = signed.headers["set-cookie"].lower()
    for attribute in ("httponly", "secure", "samesite=strict", "path=/console"):
        assert attribute in cookie, cookie
    body = signed.json()
    assert body["user"] == {
        "username": "reviewer.li",
        "name": "李审核",
        "division": "210000",
        "role": "reviewer",
    }
    assert re.fullmatch(r"[0-9a-f]{64}", body["csrf_token"])
    assert signed.headers["cache-control"] == "no-store"


async def test_a_wrong_password_is_401_and_repeated_tries_are_held(client, rt):
    await add_user(rt)
    statuses = []
    for _ in range(12):
        answer = await client.post(
            "/console/api/session", json={"username": "reviewer.li", "password": "wrong"}
        )
        statuses.append(answer.status_code)
    assert statuses[0] == 401 and answer.headers["content-type"] == "application/problem+json"
    assert 429 in statuses and "set-cookie" not in answer.headers


async def test_changes_need_the_sessions_csrf_token(client, rt, holder):
    seeded = await seed(client, rt, officer=False)
    await add_user(rt)
    headers = await sign_in(client)
    cookie = {"Cookie": headers["Cookie"]}
    path = f"/console/api/claims/{seeded.claim_id}/approve"
    refused = await client.post(path, headers=cookie)
    assert refused.status_code == 403 and refused.json()["code"] == "csrf_refused"
    forged = await client.post(path, headers={**cookie, "X-CSRF-Token": "0" * 64})
    assert forged.status_code == 403
    # Another session's token does not fit this one.
    other = await sign_in(client)
    crossed = await client.post(path, headers={**cookie, "X-CSRF-Token": other["X-CSRF-Token"]})
    assert crossed.status_code == 403
    assert await seeded.holder_state(client) == "pending_review"
    done = await client.post(path, headers=headers)
    assert done.status_code == 200, done.text
    assert await seeded.holder_state(client) == "approved"
    [entry] = await AuditEntry.filter(action="claim.approve")
    assert entry.actor == "console:reviewer.li"


async def test_signed_out_or_disabled_the_cookie_opens_nothing(client, rt, holder):
    await add_user(rt)
    headers = await sign_in(client)
    assert (await client.get("/console/api/claims", headers=headers)).status_code == 200
    out = await client.delete("/console/api/session", headers=headers)
    assert out.status_code == 204
    assert (await client.get("/console/api/claims", headers=headers)).status_code == 401
    again = await sign_in(client)
    await committing(rt.console.set_enabled)("reviewer.li", False)
    assert (await client.get("/console/api/session", headers=again)).status_code == 401


async def test_without_a_session_every_endpoint_is_401(client, rt):
    for method, path in (
        ("GET", "/console/api/session"),
        ("GET", "/console/api/claims"),
        ("POST", "/console/api/licences/search"),
        ("GET", "/console/api/licences/LAAAAAAAAAAAAAAAA"),
    ):
        answer = await client.request(method, path, headers={"Cookie": f"{COOKIE}=nonsense"})
        assert answer.status_code == 401, (method, path)
        assert answer.json()["code"] == "unauthorized"


async def test_a_user_outside_the_division_sees_no_claim_and_no_licence(client, rt, holder):
    seeded = await seed(client, rt, officer=False)
    await add_user(rt, "other.province", division="220000")
    headers = await sign_in(client, "other.province")
    listed = await client.get("/console/api/claims", headers=headers)
    assert listed.status_code == 200 and listed.json()["items"] == []
    photo = await client.get(f"/console/api/claims/{seeded.claim_id}/photo", headers=headers)
    assert photo.status_code in (403, 404)
    page = await client.get(f"/console/api/licences/{seeded.ref}", headers=headers)
    assert page.status_code == 404
    approve = await client.post(f"/console/api/claims/{seeded.claim_id}/approve", headers=headers)
    assert approve.status_code in (403, 404)
    assert await seeded.holder_state(client) == "pending_review"


async def test_faces_are_masked_for_reviewers_and_whole_for_supervisors(client, rt, holder):
    seeded = await seed(client, rt, officer=False)
    await add_user(rt)
    await add_user(rt, "chief.wang", "supervisor")
    number = seeded.face["certificate_number"]
    masked = (
        await client.get(f"/console/api/licences/{seeded.ref}/face", headers=await sign_in(client))
    ).json()
    assert masked["masked"] and masked["face"]["certificate_number"] != number
    assert "photo" not in masked["face"]
    whole = (
        await client.get(
            f"/console/api/licences/{seeded.ref}", headers=await sign_in(client, "chief.wang")
        )
    ).json()
    assert not whole["masked"] and whole["face"]["certificate_number"] == number
    assert [v["seal"] for v in whole["versions"]] == ["valid"]


async def test_only_supervisors_change_a_status_and_it_is_audited(client, rt, holder):
    seeded = await seed(client, rt, officer=False)
    await add_user(rt)
    await add_user(rt, "chief.wang", "supervisor")
    body = {"action": "suspend", "reason": "路检发现"}
    path = f"/console/api/licences/{seeded.ref}/status"
    refused = await client.post(path, json=body, headers=await sign_in(client))
    assert refused.status_code == 403
    changed = await client.post(path, json=body, headers=await sign_in(client, "chief.wang"))
    assert changed.status_code == 200 and changed.json()["status"] == "suspended"
    [entry] = await AuditEntry.filter(action="licence.suspend")
    assert entry.actor == "console:chief.wang"
    again = await client.post(path, json=body, headers=await sign_in(client, "chief.wang"))
    assert again.status_code == 409


async def test_search_takes_identifiers_in_the_body(client, rt, holder):
    seeded = await seed(client, rt, officer=False)
    await add_user(rt)
    found = await client.post(
        "/console/api/licences/search",
        json={"id_number": seeded.face["certificate_number"]},
        headers=await sign_in(client),
    )
    assert found.status_code == 200
    assert [item["ref"] for item in found.json()["items"]] == [seeded.ref]


async def test_the_console_document_lists_its_endpoints(client):
    document = (await client.get("/console/openapi.json")).json()
    assert "/console/api/claims/{claim_id}/approve" in document["paths"]
    assert document["components"]["securitySchemes"]["console"]["in"] == "cookie"


async def test_figures_come_month_by_month_inside_the_users_division(client, rt, holder):
    await seed(client, rt, officer=False)
    await add_user(rt, "city.li", division="210100")
    headers = await sign_in(client, "city.li")
    answer = await client.get("/console/api/figures?months=3", headers=headers)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert [m["period"] for m in body["months"]][-1] == rt.figures.today().strftime("%Y-%m")
    assert len(body["months"]) == 3
    this_month = body["months"][-1]["row"]
    assert this_month["division"] == "210100" and this_month["valid"] == 1
    assert {row["division"] for row in body["overall"]["items"]} == {"210100", "210102"}
    outside = await client.get("/console/api/figures?division=220000", headers=headers)
    assert outside.status_code == 403
    too_long = await client.get("/console/api/figures?months=37", headers=headers)
    assert too_long.status_code == 422
