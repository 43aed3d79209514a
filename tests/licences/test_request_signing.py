"""Signed authority requests: every rejection path."""

from __future__ import annotations

import orjson
import pytest

from tests.factories import authority, version_body
from wallet.authority.signing import sign_request
from wallet.licences.models import Licence

FEED = "/authority/v1/licence-versions"


async def test_unsigned_request_is_401(client, rt):
    response = await client.post(FEED, json=version_body("business_permit"))
    assert response.status_code == 401 and response.json()["code"] == "signature_required"


async def test_bad_signature_is_401(client, rt):
    caller = await authority(client, rt)
    body = orjson.dumps(version_body("business_permit"))
    headers = caller.headers("POST", FEED, body)
    headers["X-Signature"] = ("0" if headers["X-Signature"][0] != "0" else "1") + headers[
        "X-Signature"
    ][1:]
    response = await client.post(FEED, content=body, headers=headers)
    assert response.status_code == 401 and response.json()["code"] == "bad_signature"
    assert await Licence.all().count() == 0


async def test_body_swapped_after_signing_is_401(client, rt):
    caller = await authority(client, rt)
    signed_body = orjson.dumps(version_body("business_permit", seed=1))
    other_body = orjson.dumps(version_body("business_permit", seed=2))
    headers = caller.headers("POST", FEED, signed_body)
    response = await client.post(FEED, content=other_body, headers=headers)
    assert response.json()["code"] == "bad_signature"


async def test_wrong_secret_is_401(client, rt):
    caller = await authority(client, rt)
    caller.secret = "not-the-secret"
    response = await caller.post(FEED, version_body("business_permit"))
    assert response.json()["code"] == "bad_signature"


async def test_unknown_client_is_401(client, rt):
    caller = await authority(client, rt)
    caller.client_id = "ac_0000000000000000"
    response = await caller.post(FEED, version_body("business_permit"))
    assert response.status_code == 401 and response.json()["code"] == "bad_signature"
    assert await Licence.all().count() == 0


@pytest.mark.parametrize("offset", [-310, 310, 10_000])
async def test_stale_timestamp_is_401(client, rt, offset):
    caller = await authority(client, rt)
    response = await caller.post(
        FEED, version_body("business_permit"), timestamp=rt.clock.timestamp() + offset
    )
    assert response.status_code == 401 and response.json()["code"] == "stale_request"


async def test_reused_nonce_is_401(client, rt):
    caller = await authority(client, rt)
    body = version_body("business_permit")
    first = await caller.post(FEED, body, nonce="n0nce-0000000000001")
    replay = await caller.post(FEED, body, nonce="n0nce-0000000000001")
    assert first.status_code == 201
    assert replay.status_code == 401 and replay.json()["code"] == "replayed_nonce"


async def test_failed_signature_does_not_burn_the_nonce(client, rt):
    caller = await authority(client, rt)
    body = version_body("business_permit")
    good_secret, caller.secret = caller.secret, "wrong"
    refused = await caller.post(FEED, body, nonce="n0nce-0000000000002")
    assert refused.status_code == 401 and refused.json()["code"] == "bad_signature"
    assert await Licence.all().count() == 0
    caller.secret = good_secret
    assert (await caller.post(FEED, body, nonce="n0nce-0000000000002")).status_code == 201


async def test_query_string_is_signed(client, rt):
    caller = await authority(client, rt)
    body = b""
    headers = caller.headers("GET", "/authority/v1/licences?status=valid", body)
    response = await client.get("/authority/v1/licences?status=revoked", headers=headers)
    assert response.json()["code"] == "bad_signature"


async def test_sm2_signed_request(client, rt):
    from wallet.authority.models import AuthorityClient
    from wallet.authority.signing import string_to_sign
    from wallet.crypto import public_key_hex

    caller = await authority(client, rt)
    private = rt.sm2.generate_private_key()
    await AuthorityClient.filter(client_id=caller.client_id).update(
        sm2_public_key=public_key_hex(rt.sm2.public_key(private))
    )
    body = orjson.dumps(version_body("business_permit"))
    ts, nonce = str(rt.clock.timestamp()), "sm2-nonce-000000001"
    sig = rt.sm2.sign(private, string_to_sign("POST", FEED, ts, nonce, body))
    headers = {
        "X-Client-Id": caller.client_id,
        "X-Timestamp": ts,
        "X-Nonce": nonce,
        "X-Signature-Alg": "SM2",
        "X-Signature": sig.hex(),
        "Content-Type": "application/json",
    }
    assert (await client.post(FEED, content=body, headers=headers)).status_code == 201
    headers["X-Nonce"] = "sm2-nonce-000000002"  # signature no longer covers this nonce
    refused = await client.post(FEED, content=body, headers=headers)
    assert refused.status_code == 401 and refused.json()["code"] == "bad_signature"
    assert await Licence.all().count() == 1


def test_sign_request_is_deterministic_for_fixed_inputs():
    a = sign_request("s", "POST", "/p", b"{}", timestamp=1, nonce="abcdefghijklmnop")
    b = sign_request("s", "POST", "/p", b"{}", timestamp=1, nonce="abcdefghijklmnop")
    assert a == b and len(a["X-Signature"]) == 64


# Headers arrive latin-1 decoded: b"\xb2" is "²", which str.isdigit() accepts.
@pytest.mark.parametrize("stamp", [b"\xb2", b"\xb9\xb2\xb3", b"12.5", b"-1", b"1e9"])
async def test_non_ascii_or_odd_timestamps_are_401_not_500(client, rt, stamp):
    caller = await authority(client, rt)
    body = orjson.dumps(version_body("business_permit"))
    headers = caller.headers("POST", FEED, body)
    headers["X-Timestamp"] = stamp
    response = await client.post(FEED, content=body, headers=headers)
    assert response.status_code == 401 and response.json()["code"] == "stale_request"


async def test_reused_nonce_is_refused_whatever_the_cache_holds(client, rt):
    # Nonces are recorded in the database: a cache that lost them (restarted,
    # or down) opens no replay window.
    caller = await authority(client, rt)
    body = version_body("business_permit")
    assert (await caller.post(FEED, body, nonce="n0nce-0000000000003")).status_code == 201
    await rt.cache.flushdb()
    replay = await caller.post(FEED, body, nonce="n0nce-0000000000003")
    assert replay.status_code == 401 and replay.json()["code"] == "replayed_nonce"
