"""The printable credential over HTTP: a real PDF whose QR any verifier checks online."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from tests.documents.pdfcheck import pdf_qr, pdf_text
from tests.factories import committing
from tests.holder_helpers import bearer, driver_body, identity_of, issue, sign_in
from tests.verification.conftest import add_officer
from wallet import jws
from wallet.keys.models import SigningKey
from wallet.licences.catalogue import get_kind
from wallet.licences.schemas import StatusIn, VersionIn
from wallet.uow import unit_of_work
from wallet.vault import mask_name
from wallet.verification.offline import verify_offline

VERIFY = "/verifier/v1/verifications"


async def _claimed_driver(client, rt, seed=81, user="qian"):
    body = driver_body(seed, photo=True)
    [ref] = await issue(rt, [body])
    token = await sign_in(client, user)
    bound = await client.post("/api/v1/identity", json=identity_of(body), headers=bearer(token))
    assert bound.status_code == 200, bound.text
    claimed = await client.post(f"/api/v1/licences/{ref}/claim", headers=bearer(token))
    assert claimed.status_code == 201, claimed.text
    return ref, token, body


async def _print(client, ref, token, name):
    response = await client.post(f"/api/v1/licences/{ref}/printable", headers=bearer(token))
    assert response.status_code == 201, response.text
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["cache-control"] == "no-store"
    return response, pdf_qr(response.content, name)


async def _verdict(client, officer, qr):
    response = await client.post(VERIFY, json={"qr": qr}, headers=officer.headers)
    assert response.status_code == 200, response.text
    return response.json()


async def test_print_verifies_then_follows_the_live_status(client, rt, holder):
    ref, token, body = await _claimed_driver(client, rt)
    officer = await add_officer(client, rt, "21010021")
    other = await add_officer(client, rt, "21010022", device="ENF-DEVICE-0022")

    response, qr = await _print(client, ref, token, "printable-credential")
    token_ = jws.decode(qr)
    assert token_.header["typ"] == "rtel-print"
    payload = token_.payload
    assert payload["lic"] == ref and payload["ver"] == 1
    assert set(payload) == {"lic", "knd", "iss", "ver", "iat", "exp", "jti"}
    assert re.fullmatch(r"[A-Za-z0-9_-]{22}", payload["jti"])
    assert 0 < payload["exp"] - payload["iat"] <= 365 * 86400
    expires = datetime.fromisoformat(response.headers["x-print-expires-at"])
    assert int(expires.timestamp()) == payload["exp"]
    # The presentation key is noted as signing until the print ends (kept listed after rotation).
    key = await SigningKey.get(kid=token_.kid)
    assert key.use == "presentation" and key.signed_until is not None
    assert key.signed_until >= datetime.fromtimestamp(payload["exp"], UTC)

    # The page: the kind's labels, the holder's name masked, the subtitle and caption.
    text = re.sub(r"\s+", "", pdf_text(response.content))
    kind = get_kind("qualification")
    assert kind.name in text and "电子证照打印凭证" in text and "扫码核验" in text
    assert kind.field("name").label in text
    name = body["face"]["name"]
    assert name not in text and mask_name(name) in text
    assert body["face"]["certificate_number"] not in text

    # Any officer, any number of times: a paper has no replay check.
    for who in (officer, other, officer):
        answer = await _verdict(client, who, qr)
        assert answer["verdict"] == "valid" and answer["document"] == "print"
        assert answer["licence"]["ref"] == ref and answer["copy"] is None
    seen = await client.get(f"/api/v1/licences/{ref}/verifications", headers=bearer(token))
    assert {item["mode"] for item in seen.json()["items"]} == {"print"}

    # Offline: authentic, but no status can be read for a print (no status list index).
    trust_text = (await client.get("/verifier/v1/trust-list")).text
    from wallet.keys.trust_list import verify_trust_list

    root = next(k for k in await committing(rt.keys.list_keys)() if k.use == "root")
    trust = verify_trust_list(
        trust_text, bytes.fromhex(root.public_key), rt.sm2, rt.clock.timestamp()
    )
    offline = verify_offline(trust, None, qr, rt.clock.timestamp(), rt.sm2)
    assert offline.verdict.value == "status_unavailable" and offline.document == "print"
    assert "status" in offline.unchecked and "replay" not in offline.unchecked

    # A new version: the old print is superseded; a new print is valid.
    body2 = dict(body, version=2, change_type="change")
    async with unit_of_work() as uow:
        await rt.registry.upsert_version(uow, VersionIn.model_validate(body2), actor="test")
    assert (await _verdict(client, officer, qr))["verdict"] == "superseded"
    _, qr2 = await _print(client, ref, token, "printable-credential-v2")
    assert jws.decode(qr2).payload["ver"] == 2
    assert (await _verdict(client, officer, qr2))["verdict"] == "valid"

    # Suspended: the scan says so (the paper does not change, the status does).
    async with unit_of_work() as uow:
        await rt.registry.change_status(
            uow, ref, StatusIn(action="suspend", reason="测试"), actor="test"
        )
    assert (await _verdict(client, officer, qr2))["verdict"] == "suspended"
    assert (await _verdict(client, officer, qr))["verdict"] == "suspended"


async def test_someone_elses_licence_is_as_missing(client, rt, holder):
    ref, _token, _ = await _claimed_driver(client, rt)
    stranger_body = driver_body(82, photo=True)
    await issue(rt, [stranger_body])
    stranger = await sign_in(client, "sun")
    bound = await client.post(
        "/api/v1/identity", json=identity_of(stranger_body), headers=bearer(stranger)
    )
    assert bound.status_code == 200
    foreign = await client.post(f"/api/v1/licences/{ref}/printable", headers=bearer(stranger))
    missing = await client.post(
        "/api/v1/licences/LAAAAAAAAAAAAAAAA/printable", headers=bearer(stranger)
    )
    assert foreign.status_code == missing.status_code == 404
    assert foreign.json()["code"] == missing.json()["code"]
    assert foreign.json()["detail"] == missing.json()["detail"]
    assert foreign.headers["content-type"].startswith("application/problem+json")


async def test_refusals_change_nothing(client, rt, holder):
    body = driver_body(83, photo=True)
    [ref] = await issue(rt, [body])
    token = await sign_in(client, "zhou")
    await client.post("/api/v1/identity", json=identity_of(body), headers=bearer(token))
    url = f"/api/v1/licences/{ref}/printable"
    assert (await client.post(url)).status_code == 401
    keys_before = [(k.kid, k.signed_until) for k in await SigningKey.all().order_by("kid")]
    unclaimed = await client.post(url, headers=bearer(token))
    assert unclaimed.status_code == 409 and unclaimed.json()["code"] == "not_claimed"
    bad_ref = await client.post("/api/v1/licences/not-a-ref/printable", headers=bearer(token))
    assert bad_ref.status_code in (404, 422)
    assert [(k.kid, k.signed_until) for k in await SigningKey.all().order_by("kid")] == keys_before
    await client.post(f"/api/v1/licences/{ref}/claim", headers=bearer(token))
    async with unit_of_work() as uow:
        await rt.registry.change_status(
            uow, ref, StatusIn(action="revoke", reason="测试"), actor="test"
        )
    ended = await client.post(url, headers=bearer(token))
    assert ended.status_code == 409 and ended.json()["code"] == "licence_ended"
