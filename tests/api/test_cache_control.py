"""Answers carrying a token, a secret or personal data are never stored by a cache."""

from __future__ import annotations

from tests.factories import authority, committing
from tests.holder_helpers import DEVICE, bearer, driver_body, identity_of, issue
from tests.verification.conftest import add_officer


def _no_store(response) -> None:
    assert response.is_success, response.text
    assert response.headers.get("cache-control") == "no-store", response.request.url


async def test_secret_and_personal_answers_are_no_store(client, rt, holder):
    body = driver_body(31, photo=True)
    [ref] = await issue(rt, [body])

    session = await client.post("/api/v1/session", json={"code": "wu.1"})
    _no_store(session)
    token = session.json()["token"]
    renewed = await client.post("/api/v1/session/renew", headers=bearer(token))
    _no_store(renewed)
    token = renewed.json()["token"]

    _no_store(await client.post("/api/v1/identity", json=identity_of(body), headers=bearer(token)))
    _no_store(await client.get("/api/v1/identity", headers=bearer(token)))
    _no_store(await client.post(f"/api/v1/licences/{ref}/claim", headers=bearer(token)))
    _no_store(await client.get("/api/v1/licences", headers=bearer(token)))

    activation = await client.post(
        f"/api/v1/licences/{ref}/activation",
        json={"device_id": DEVICE},
        headers=bearer(token, DEVICE),
    )
    _no_store(activation)
    assert "seed" in activation.json()["totp"] and activation.json()["offline_credential"]

    shown = await client.post(
        f"/api/v1/licences/{ref}/presentations", headers=bearer(token, DEVICE)
    )
    _no_store(shown)
    _no_store(
        await client.post(
            f"/api/v1/licences/{ref}/presentations?format=png", headers=bearer(token, DEVICE)
        )
    )

    officer = await add_officer(client, rt, "21010031")
    signed_in = await client.post(
        "/verifier/v1/session",
        json={
            "badge": "21010031",
            "password": "correct horse battery staple",
            "device_id": officer.device,
        },
    )
    _no_store(signed_in)
    verdict = await client.post(
        "/verifier/v1/verifications", json={"qr": shown.json()["qr"]}, headers=officer.headers
    )
    _no_store(verdict)
    assert verdict.json()["verdict"] == "valid" and verdict.json()["licence"]["face"]

    caller = await authority(client, rt)
    _no_store(await caller.get(f"/authority/v1/licences/{ref}"))
    version = await caller.get(f"/authority/v1/licences/{ref}/versions/1")
    _no_store(version)
    assert version.json()["document"]


async def test_public_documents_may_be_cached(client, rt):
    await committing(rt.keys.init)(["210000"])
    for path in ("/verifier/v1/trust-list", "/verifier/v1/status-lists/210000"):
        response = await client.get(path)
        assert response.status_code == 200, response.text
        assert "no-store" not in response.headers.get("cache-control", "")
