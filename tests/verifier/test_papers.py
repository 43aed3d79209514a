"""Printable credentials and annotated copies at the verifier, online and offline.

A copy is sealed by a copy key and a print by the presentation key; a string
signed by a key of the other use answers ``unknown_key`` (the trust list
holds no key of the right use under that kid). Papers have no replay check;
past ``exp`` they answer ``qr_expired``; the live status decides otherwise.
A copy's answer says whether its grant is live (online) or that it could
not be checked (offline: ``grant_live`` None, ``grant`` unchecked).
"""

from __future__ import annotations

import base64
import secrets
import uuid
from datetime import timedelta

import time_machine

from tests.factories import committing, version_body
from tests.verification.conftest import add_officer
from wallet import jws
from wallet.presentation.service import kind_code
from wallet.presentation.tokens import mint_print
from wallet.sharing.models import Grant, GrantLicence, RelyingParty
from wallet.verification.offline import verify_offline

VERIFY = "/verifier/v1/verifications"
PARTY_USCC = "91210100MA0000000X"


def _cid() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(16)).decode().rstrip("=")


async def _print(scene, *, use="presentation", at=None, exp=None, version=None):
    key = await committing(scene.rt.keys.active_key)(use)
    now = at if at is not None else scene.rt.clock.timestamp()
    return mint_print(
        key.kid,
        key.private_key,
        scene.rt.sm2,
        lic=scene.licence.ref,
        knd=kind_code(scene.licence.kind),
        iss=scene.licence.issuer_division,
        ver=version or scene.licence.version,
        now=now,
        exp=exp if exp is not None else now + 365 * 86400,
    )


async def _copy(scene, gid, *, use="copy", at=None, lifetime=30 * 86400, fld=None):
    key = await committing(scene.rt.keys.active_key)(use)
    now = at if at is not None else scene.rt.clock.timestamp()
    payload = {
        "cid": _cid(),
        "gid": gid,
        "lic": scene.licence.ref,
        "knd": kind_code(scene.licence.kind),
        "iss": scene.licence.issuer_division,
        "ver": scene.licence.version,
        "aud": PARTY_USCC,
        "pur": "employment",
        "sta": "valid",
        "fld": fld
        if fld is not None
        else {"name": "张三", "qualification_category": "道路货物运输驾驶员"},
        "iat": now,
        "exp": now + lifetime,
    }
    return jws.encode({"kid": key.kid, "typ": "rtel-copy"}, payload, key.private_key, scene.rt.sm2)


async def _grant(scene, *, revoked=False, days=30) -> str:
    now = scene.rt.clock.now()
    party = await RelyingParty.create(
        party_id=f"party-{secrets.token_hex(4)}",
        name="沈阳某某物流有限公司",
        uscc=PARTY_USCC,
        purposes=["employment"],
        secret_sealed="x",
        status="active",
        created_by="test",
        created_at=now,
    )
    public_id = "G" + "".join(secrets.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") for _ in range(16))
    grant = await Grant.create(
        id=uuid.uuid4(),
        public_id=public_id,
        party=party,
        source="holder",
        granted_by="test",
        purpose="employment",
        fields_granted=["name"],
        expires_at=now + timedelta(days=days),
        revoked_at=now if revoked else None,
        created_at=now,
    )
    await GrantLicence.create(grant=grant, licence_id=scene.licence.id)
    return public_id


async def _verify(scene, qr, officer=None):
    response = await scene.caller.http.post(
        VERIFY, json={"qr": qr}, headers=(officer or scene.officer).headers
    )
    assert response.status_code == 200, response.text
    return response.json()


async def _offline(scene, qr, at=None):
    return verify_offline(
        await scene.trust(), None, qr, at or scene.rt.clock.timestamp(), scene.rt.sm2
    )


def _tampered(token: str) -> str:
    head, payload, signature = token.split(".")
    raw = bytearray(base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4)))
    raw[10] ^= 0x01
    return f"{head}.{payload}.{base64.urlsafe_b64encode(bytes(raw)).decode().rstrip('=')}"


async def test_a_print_is_valid_for_anyone_and_any_number_of_times(scene, client, rt):
    qr = await _print(scene)
    other = await add_officer(client, rt, "21010031", device="ENF-DEVICE-0031")
    for officer in (scene.officer, other, scene.officer):
        answer = await _verify(scene, qr, officer)
        assert answer["verdict"] == "valid", answer
        assert answer["document"] == "print" and answer["copy"] is None
        assert answer["licence"]["ref"] == scene.licence.ref and answer["licence"]["face"]
        assert answer["status_checked_at"] is not None
    result = await _offline(scene, qr)
    assert result.verdict.value == "status_unavailable" and result.document == "print"
    assert "status" in result.unchecked and "replay" not in result.unchecked


async def test_print_refusals_online_and_offline(scene):
    qr = await _print(scene)
    bad = _tampered(qr)
    assert (await _verify(scene, bad))["verdict"] == "bad_signature"
    assert (await _offline(scene, bad)).verdict.value == "bad_signature"
    # A print signed by the copy key: no presentation key has that kid.
    wrong_use = await _print(scene, use="copy")
    assert (await _verify(scene, wrong_use))["verdict"] == "unknown_key"
    assert (await _offline(scene, wrong_use)).verdict.value == "unknown_key"
    # Its own time window: past exp (and the skew) it is qr_expired.
    now = scene.rt.clock.timestamp()
    short = await _print(scene, at=now, exp=now + 60)
    with time_machine.travel(now + 60 + 31, tick=False):
        answer = await _verify(scene, short)
        assert answer["verdict"] == "qr_expired" and answer["document"] == "print"
        assert (await _offline(scene, short)).verdict.value == "qr_expired"
    # Longer than a print may live: not a string this platform makes.
    key = await committing(scene.rt.keys.active_key)("presentation")
    payload = jws.decode(qr).payload | {"iat": now, "exp": now + 800 * 86400}
    too_long = jws.encode(
        {"kid": key.kid, "typ": "rtel-print"}, payload, key.private_key, rt_sm2(scene)
    )
    assert (await _verify(scene, too_long))["verdict"] == "malformed"
    assert (await _offline(scene, too_long)).verdict.value == "malformed"


def rt_sm2(scene):
    return scene.rt.sm2


async def test_print_follows_status_and_versions(scene):
    qr = await _print(scene)
    await scene.status("suspend")
    assert (await _verify(scene, qr))["verdict"] == "suspended"
    await scene.status("reinstate")
    assert (await _verify(scene, qr))["verdict"] == "valid"
    body = version_body("qualification", seed=11, version=2)
    body["change_type"] = "change"
    assert (await scene.caller.post("/authority/v1/licence-versions", body)).status_code == 201
    assert (await _verify(scene, qr))["verdict"] == "superseded"
    await scene.status("revoke")
    assert (await _verify(scene, qr))["verdict"] == "revoked"


async def test_a_copy_is_checked_with_its_grant(scene, client, rt):
    gid = await _grant(scene)
    qr = await _copy(scene, gid)
    other = await add_officer(client, rt, "21010032", device="ENF-DEVICE-0032")
    for officer in (scene.officer, other):
        answer = await _verify(scene, qr, officer)
        assert answer["verdict"] == "valid", answer
        assert answer["document"] == "copy"
        copy = answer["copy"]
        assert copy["grant_id"] == gid and copy["grant_live"] is True
        assert copy["party_uscc"] == PARTY_USCC and copy["purpose"] == "employment"
        assert copy["fields"]["name"] == "张三"
        # The face shows only what the copy carries.
        assert set(answer["licence"]["face"]) <= {"name", "qualification_category"}
    # The grant revoked: the copy is still authentic, and the answer says the grant is over.
    await Grant.filter(public_id=gid).update(revoked_at=rt.clock.now())
    answer = await _verify(scene, qr)
    assert answer["verdict"] == "valid" and answer["copy"]["grant_live"] is False
    # A grant id nobody issued: not live.
    stranger = await _copy(scene, "G" + "A" * 16)
    assert (await _verify(scene, stranger))["copy"]["grant_live"] is False
    # The licence suspended: the live status decides.
    await scene.status("suspend")
    assert (await _verify(scene, qr))["verdict"] == "suspended"


async def test_copy_refusals_online_and_offline(scene):
    gid = await _grant(scene)
    qr = await _copy(scene, gid)
    result = await _offline(scene, qr)
    assert result.verdict.value == "status_unavailable" and result.document == "copy"
    assert result.grant_live is None and "grant" in result.unchecked
    assert result.copy is not None and result.copy.gid == gid

    bad = _tampered(qr)
    answer = await _verify(scene, bad)
    assert answer["verdict"] == "bad_signature" and answer["copy"] is None
    assert (await _offline(scene, bad)).verdict.value == "bad_signature"

    # A copy signed by the presentation key: the kid names no copy key.
    wrong_use = await _copy(scene, gid, use="presentation")
    assert (await _verify(scene, wrong_use))["verdict"] == "unknown_key"
    assert (await _offline(scene, wrong_use)).verdict.value == "unknown_key"

    now = scene.rt.clock.timestamp()
    short = await _copy(scene, gid, at=now, lifetime=60)
    with time_machine.travel(now + 60 + 31, tick=False):
        assert (await _verify(scene, short))["verdict"] == "qr_expired"
        assert (await _offline(scene, short)).verdict.value == "qr_expired"

    # Shape: a field name outside ASCII, a lifetime beyond any grant.
    assert (await _verify(scene, await _copy(scene, gid, fld={"姓名": "张三"})))[
        "verdict"
    ] == "malformed"
    long_lived = await _copy(scene, gid, lifetime=200 * 86400)
    assert (await _verify(scene, long_lived))["verdict"] == "malformed"
    assert (await _offline(scene, long_lived)).verdict.value == "malformed"
