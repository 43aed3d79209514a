"""Real-name binding: providers, encryption, limits, one account per identity, rebinding."""

from __future__ import annotations

import pytest

from tests.holder_helpers import (
    DEVICE,
    audit_count,
    bearer,
    driver_body,
    identity_of,
    issue,
    sign_in,
)
from wallet.accounts.models import Account
from wallet.activation.models import Activation
from wallet.audit.models import AuditEntry
from wallet.crypto import sm2_encrypt
from wallet.holders.models import Person

BIND = "/api/v1/identity"


async def _driver(client, rt, user="nina", seed=11, photo=False):
    body = driver_body(seed, photo=photo)
    [ref] = await issue(rt, [body])
    return body, ref, await sign_in(client, user)


async def test_binding_with_the_registry_provider(client, rt, holder):
    body, _, token = await _driver(client, rt)
    response = await client.post(BIND, json=identity_of(body), headers=bearer(token))
    assert response.status_code == 200, response.text
    out = response.json()
    id_number = body["face"]["certificate_number"]
    assert out["bound"] is True
    assert out["id_number"] == id_number[:4] + "*" * 10 + id_number[-4:]
    assert out["name"].startswith(body["face"]["name"][0]) and "*" in out["name"]
    account = await Account.get()
    assert account.person_id == (await Person.get()).id
    entry = await AuditEntry.filter(action="identity.bind").get()
    assert id_number not in str(entry.detail) and entry.detail["provider"] == "registry"
    again = await client.post(BIND, json=identity_of(body), headers=bearer(token))
    assert again.status_code == 200 and await AuditEntry.filter(action="identity.bind").count() == 1
    relogin = await client.post("/api/v1/session", json={"code": "nina.2"})
    assert relogin.json()["bound"] is True


async def test_phone_number_by_wechat_code(client, rt, holder):
    body, _, token = await _driver(client, rt)
    response = await client.post(
        BIND, json=identity_of(body) | {"phone_code": "phone-13812345678"}, headers=bearer(token)
    )
    assert response.json()["phone"] == "138****5678"
    account = await Account.get()
    assert "13812345678" not in account.phone_sealed
    bad = await client.post(
        BIND, json=identity_of(body) | {"phone_code": "bad"}, headers=bearer(token)
    )
    assert bad.status_code == 422 and bad.json()["code"] == "wechat_phone_code_invalid"


@pytest.mark.parametrize("with_prefix", [True, False])
async def test_sm2_encrypted_fields(client, rt, holder, with_prefix):
    body, _, token = await _driver(client, rt)
    key = await client.get("/api/v1/identity/transport-key")
    assert key.status_code == 200 and key.json()["identity_provider"] == "registry"
    public = bytes.fromhex(key.json()["public_key"])

    def enc(text):
        cipher = sm2_encrypt(public, text.encode())
        return (cipher if with_prefix else cipher[1:]).hex()

    ident = identity_of(body)
    payload = {"name": enc(ident["name"]), "id_number": enc(ident["id_number"]), "encrypted": True}
    response = await client.post(BIND, json=payload, headers=bearer(token))
    assert response.status_code == 200, response.text
    assert response.json()["bound"] is True


async def test_undecryptable_fields_are_422(client, rt, holder):
    _, _, token = await _driver(client, rt)
    other = sm2_encrypt(rt.sm2.public_key(rt.sm2.generate_private_key()), b"x").hex()
    for payload in (
        {"name": "zz-not-hex", "id_number": other, "encrypted": True},
        {"name": other, "id_number": other, "encrypted": True},
    ):
        response = await client.post(BIND, json=payload, headers=bearer(token))
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == "name"
    assert (await Account.get()).person_id is None


@pytest.mark.parametrize(
    "id_number,rule",
    [
        ("210102199003071235", "check_digit"),
        ("21010219900307123", "length"),
        ("999999199003071234", "province"),
        ("2101021990030712ZZ", "charset"),
    ],
)
async def test_invalid_id_numbers_are_422_and_not_counted(client, rt, holder, id_number, rule):
    _, _, token = await _driver(client, rt)
    before = await audit_count()
    response = await client.post(
        BIND, json={"name": "王伟", "id_number": id_number}, headers=bearer(token)
    )
    assert response.status_code == 422 and response.json()["code"] == "validation_failed"
    assert response.json()["errors"] == [
        {"field": "id_number", "rule": rule, "message": response.json()["errors"][0]["message"]}
    ]
    assert id_number not in response.text
    assert await audit_count() == before and (await Account.get()).person_id is None
    assert not await rt.cache.keys("rtel:identity-failures:*")


async def test_mismatches_are_counted_and_limited(client, rt, holder):
    body, _, token = await _driver(client, rt)
    wrong = identity_of(body) | {"name": "欧阳修"}
    for _ in range(5):
        response = await client.post(BIND, json=wrong, headers=bearer(token))
        assert response.status_code == 422 and response.json()["code"] == "identity_mismatch"
    blocked = await client.post(BIND, json=identity_of(body), headers=bearer(token))
    assert blocked.status_code == 429 and blocked.json()["code"] == "too_many_attempts"
    assert 0 < int(blocked.headers["retry-after"]) <= 3600
    assert (await Account.get()).person_id is None


async def test_strangers_failures_ask_the_person_for_a_face_check_not_a_lockout(
    client, rt, holder, standin
):
    # Five strangers fail with the victim's ID number: the name oracle closes for
    # it (the right name alone no longer binds), but the person is not locked
    # out: a face check proves them and binds at once.
    body, _, _ = await _driver(client, rt)
    wrong = identity_of(body) | {"name": "欧阳修"}
    for n in range(5):
        token = await sign_in(client, f"prober{n}")
        assert (await client.post(BIND, json=wrong, headers=bearer(token))).status_code == 422
    token = await sign_in(client, "nina", 9)
    plain = await client.post(BIND, json=identity_of(body), headers=bearer(token))
    assert plain.status_code == 422 and plain.json()["code"] == "face_verification_required"
    started = await client.post(
        f"{BIND}/face-verification", json=identity_of(body), headers=bearer(token)
    )
    assert started.status_code == 201, started.text
    face = identity_of(body) | {"verify_id": started.json()["verify_id"]}
    bound = await client.post(BIND, json=face, headers=bearer(token))
    assert bound.status_code == 200, bound.text
    assert bound.json()["bound"] is True


async def test_strangers_failed_faces_do_not_use_up_the_persons_attempts(
    client, rt, face_holder, standin
):
    ident = {"name": "孙丽", "id_number": "110101199001011237"}
    standin.state.set_face_outcome(ident["id_number"], 10004)
    for n in range(6):
        prober = await sign_in(client, f"face-prober{n}")
        started = await client.post(f"{BIND}/face-verification", json=ident, headers=bearer(prober))
        assert started.status_code == 201, started.text
        face = ident | {"verify_id": started.json()["verify_id"]}
        failed = await client.post(BIND, json=face, headers=bearer(prober))
        assert failed.status_code == 422 and failed.json()["code"] == "identity_mismatch"
    standin.state.face_outcomes.clear()  # the person's own face matches
    token = await sign_in(client, "sun-li")
    started = await client.post(f"{BIND}/face-verification", json=ident, headers=bearer(token))
    assert started.status_code == 201, started.text
    face = ident | {"verify_id": started.json()["verify_id"]}
    bound = await client.post(BIND, json=face, headers=bearer(token))
    assert bound.status_code == 200, bound.text


async def test_unknown_identity_is_a_mismatch(client, rt, holder):
    _, _, token = await _driver(client, rt)
    response = await client.post(
        BIND, json={"name": "王伟", "id_number": "110101199001011237"}, headers=bearer(token)
    )
    assert response.status_code == 422 and response.json()["code"] == "identity_mismatch"


async def test_one_identity_one_account_and_the_rebind_flow(client, rt, holder):
    body, ref, old = await _driver(client, rt, photo=True)
    assert (await client.post(BIND, json=identity_of(body), headers=bearer(old))).status_code == 200
    assert (
        await client.post(f"/api/v1/licences/{ref}/claim", headers=bearer(old))
    ).status_code == 201
    activated = await client.post(
        f"/api/v1/licences/{ref}/activation", json={"device_id": DEVICE}, headers=bearer(old)
    )
    assert activated.status_code == 201
    new = await sign_in(client, "nina-new-phone")
    taken = await client.post(BIND, json=identity_of(body), headers=bearer(new))
    assert taken.status_code == 409 and taken.json()["code"] == "identity_bound_elsewhere"
    started = await client.post(
        f"{BIND}/face-verification", json=identity_of(body), headers=bearer(new)
    )
    assert started.status_code == 201, started.text
    face = identity_of(body) | {"verify_id": started.json()["verify_id"]}
    moved = await client.post(f"{BIND}/rebind", json=face, headers=bearer(new))
    assert moved.status_code == 200, moved.text
    assert (await client.get(BIND, headers=bearer(old))).json()["bound"] is False
    assert (await Activation.get()).status == "deactivated"
    listed = await client.get("/api/v1/licences", headers=bearer(new))
    assert listed.json()["items"][0]["state"] == "claimed"
    assert (await client.get("/api/v1/licences", headers=bearer(old))).status_code == 403
    entry = await AuditEntry.filter(action="identity.rebind").get()
    assert entry.detail["activations_ended"] == 1
    assert entry.detail["provider"] == "wechat_face"
    again = await client.post(f"{BIND}/rebind", json=identity_of(body), headers=bearer(new))
    assert again.status_code == 409 and again.json()["code"] == "account_already_bound"
    third = await sign_in(client, "nina-third")
    other, _, _ = await _driver(client, rt, user="otto", seed=12)
    nothing = await client.post(f"{BIND}/rebind", json=identity_of(other), headers=bearer(third))
    assert nothing.status_code == 409 and nothing.json()["code"] == "identity_not_bound_elsewhere"


async def test_an_account_holds_one_identity(client, rt, holder):
    first, _, token = await _driver(client, rt)
    second = driver_body(12)
    await issue(rt, [second])
    assert (
        await client.post(BIND, json=identity_of(first), headers=bearer(token))
    ).status_code == 200
    response = await client.post(BIND, json=identity_of(second), headers=bearer(token))
    assert response.status_code == 409 and response.json()["code"] == "account_already_bound"


# -- WeChat face verification (the production provider) --------------------------------


async def test_face_verification_binding(client, rt, face_holder, standin):
    token = await sign_in(client, "pia")
    key = await client.get("/api/v1/identity/transport-key")
    assert key.json()["identity_provider"] == "wechat_face"
    ident = {"name": "孙丽", "id_number": "110101199001011237"}  # unknown to the registry
    missing = await client.post(BIND, json=ident, headers=bearer(token))
    assert missing.status_code == 422 and missing.json()["code"] == "face_verification_required"
    started = await client.post(f"{BIND}/face-verification", json=ident, headers=bearer(token))
    assert started.status_code == 201, started.text
    verify_id = started.json()["verify_id"]
    response = await client.post(BIND, json=ident | {"verify_id": verify_id}, headers=bearer(token))
    assert response.status_code == 200, response.text
    assert response.json()["id_number"] == "1101**********1237"
    assert await Person.all().count() == 1
    reused = await client.post(BIND, json=ident | {"verify_id": verify_id}, headers=bearer(token))
    assert reused.status_code == 200  # already this account's: nothing to prove again


async def test_failed_face_verification(client, rt, face_holder, standin):
    token = await sign_in(client, "quinn")
    ident = {"name": "孙丽", "id_number": "110101199001011237"}
    standin.state.set_face_outcome(ident["id_number"], 10004)
    verify_id = (
        await client.post(f"{BIND}/face-verification", json=ident, headers=bearer(token))
    ).json()["verify_id"]
    response = await client.post(BIND, json=ident | {"verify_id": verify_id}, headers=bearer(token))
    assert response.status_code == 422 and response.json()["code"] == "identity_mismatch"
    assert await Person.all().count() == 0


async def test_a_face_session_binds_only_the_identity_it_verified(client, rt, face_holder):
    token = await sign_in(client, "rosa")
    ident = {"name": "孙丽", "id_number": "110101199001011237"}
    verify_id = (
        await client.post(f"{BIND}/face-verification", json=ident, headers=bearer(token))
    ).json()["verify_id"]
    other = {"name": "孙丽", "id_number": "110101199001011253"}
    response = await client.post(BIND, json=other | {"verify_id": verify_id}, headers=bearer(token))
    assert response.status_code == 422 and response.json()["code"] == "identity_mismatch"
    thief = await sign_in(client, "sam")
    stolen = await client.post(BIND, json=ident | {"verify_id": verify_id}, headers=bearer(thief))
    assert stolen.status_code == 422
    assert await Account.filter(person_id__not_isnull=True).count() == 0


async def test_rebinding_needs_face_verification_with_the_registry_provider(
    client, rt, holder, standin
):
    """Knowing a holder's name and ID number is not enough to take the identity away."""
    body, _, victim = await _driver(client, rt, photo=True)
    assert (
        await client.post(BIND, json=identity_of(body), headers=bearer(victim))
    ).status_code == 200
    thief = await sign_in(client, "thief")
    plain = await client.post(f"{BIND}/rebind", json=identity_of(body), headers=bearer(thief))
    assert plain.status_code == 422 and plain.json()["code"] == "face_verification_required"
    # The thief's own face does not match the victim's identity at WeChat.
    standin.state.set_face_outcome(identity_of(body)["id_number"], 10004)
    started = await client.post(
        f"{BIND}/face-verification", json=identity_of(body), headers=bearer(thief)
    )
    assert started.status_code == 201, started.text
    face = identity_of(body) | {"verify_id": started.json()["verify_id"]}
    failed = await client.post(f"{BIND}/rebind", json=face, headers=bearer(thief))
    assert failed.status_code == 422 and failed.json()["code"] == "identity_mismatch"
    assert (await client.get(BIND, headers=bearer(victim))).json()["bound"] is True
    assert (await client.get(BIND, headers=bearer(thief))).json()["bound"] is False
    assert await AuditEntry.filter(action="identity.rebind").count() == 0


async def test_face_verification_starts_are_limited_per_account(client, rt, face_holder, standin):
    # Each start is a paid call to WeChat: a sixth within the hour is refused, for
    # this account only; another account starting for the same person still can.
    token = await sign_in(client, "tess")
    ident = {"name": "孙丽", "id_number": "110101199001011237"}
    for _ in range(5):
        started = await client.post(f"{BIND}/face-verification", json=ident, headers=bearer(token))
        assert started.status_code == 201, started.text
    before = len(standin.state.face_sessions)
    refused = await client.post(f"{BIND}/face-verification", json=ident, headers=bearer(token))
    assert refused.status_code == 429 and refused.json()["code"] == "too_many_attempts"
    assert int(refused.headers["retry-after"]) > 0
    assert len(standin.state.face_sessions) == before  # WeChat was not called
    other = await sign_in(client, "uma")
    allowed = await client.post(f"{BIND}/face-verification", json=ident, headers=bearer(other))
    assert allowed.status_code == 201, allowed.text
