"""The request-signature check (wallet.authority.signing.authenticate), at every boundary.

Each refusal names its exact problem class, and a refused request records no nonce.
"""

from __future__ import annotations

import pytest

from wallet.authority.models import AuthorityClient, AuthorityNonce
from wallet.authority.signing import (
    AuthenticatedClient,
    authenticate,
    create_client,
    sign_request,
    string_to_sign,
)
from wallet.crypto import public_key_hex, sm3
from wallet.errors import Unauthorized
from wallet.uow import unit_of_work

SKEW = 300
PATH = "/authority/v1/licences"
BODY = b'{"a":1}'
NONCE = "abcdefghijklmnop"


@pytest.fixture
async def signer(rt):
    async with unit_of_work() as uow:
        return await create_client(
            uow, rt.vault, name="Liaoning", division="210000", now=rt.clock.now()
        )


def _headers(client, secret, now, **changes) -> dict[str, str]:
    headers = {
        "x-client-id": client.client_id,
        **{
            k.lower(): v
            for k, v in sign_request(secret, "POST", PATH, BODY, timestamp=now, nonce=NONCE).items()
        },
    }
    headers.update(changes)
    return {k: v for k, v in headers.items() if v is not None}


async def _check(rt, headers, *, now, body=BODY, method="POST"):
    async with unit_of_work() as uow:
        return await authenticate(
            uow, headers, method, PATH, body, vault=rt.vault, sm2=rt.sm2, now=now, skew=SKEW
        )


async def _refused(rt, headers, now, type_code: str, detail: str | None = None) -> Unauthorized:
    with pytest.raises(Unauthorized) as caught:
        await _check(rt, headers, now=now)
    assert caught.value.type_code == type_code
    if detail is not None:
        assert caught.value.detail == detail
    assert await AuthorityNonce.all().count() == 0
    return caught.value


def test_the_string_to_sign_is_exact():
    assert string_to_sign("post", "/p?q=1", "17", NONCE, b"{}") == (
        b"POST\n/p?q=1\n17\nabcdefghijklmnop\n" + sm3(b"{}").hex().encode()
    )


async def test_a_good_request_returns_its_client_and_records_its_nonce(rt, signer):
    client, secret = signer
    now = rt.clock.timestamp()
    found = await _check(rt, _headers(client, secret, now), now=now)
    assert found == AuthenticatedClient(client.client_id, "Liaoning", "210000")
    assert found.actor == f"authority:{client.client_id}"
    [nonce] = await AuthorityNonce.all()
    assert nonce.key == f"{client.client_id}:{NONCE}"
    assert int(nonce.expires_at.timestamp()) == now + 2 * SKEW


@pytest.mark.parametrize("missing", ["x-client-id", "x-timestamp", "x-nonce", "x-signature"])
async def test_each_missing_header_is_signature_required(rt, signer, missing):
    now = rt.clock.timestamp()
    headers = _headers(*signer, now, **{missing: None})
    await _refused(
        rt,
        headers,
        now,
        "signature_required",
        "send X-Client-Id, X-Timestamp, X-Nonce and X-Signature (see the README)",
    )


@pytest.mark.parametrize(
    ("nonce", "accepted"),
    [
        ("a" * 15, False),
        ("a" * 16, True),
        ("a" * 64, True),
        ("a" * 65, False),
        ("a" * 15 + "!", False),
    ],
)
async def test_the_nonce_is_16_to_64_safe_characters(rt, signer, nonce, accepted):
    client, secret = signer
    now = rt.clock.timestamp()
    headers = {
        "x-client-id": client.client_id,
        **{
            k.lower(): v
            for k, v in sign_request(secret, "POST", PATH, BODY, timestamp=now, nonce=nonce).items()
        },
    }
    if accepted:
        assert (await _check(rt, headers, now=now)).client_id == client.client_id
    else:
        await _refused(
            rt,
            headers,
            now,
            "signature_required",
            "X-Nonce must be 16-64 characters of A-Z a-z 0-9 _ -",
        )


@pytest.mark.parametrize("offset", [-SKEW, SKEW])
async def test_a_timestamp_exactly_skew_away_is_accepted(rt, signer, offset):
    now = rt.clock.timestamp()
    headers = _headers(*signer, now + offset)
    assert (await _check(rt, headers, now=now)).name == "Liaoning"


@pytest.mark.parametrize("offset", [-SKEW - 1, SKEW + 1])
async def test_a_timestamp_one_second_further_is_stale(rt, signer, offset):
    now = rt.clock.timestamp()
    detail = f"X-Timestamp must be within {SKEW} s of the server clock"
    await _refused(rt, _headers(*signer, now + offset), now, "stale_request", detail)


async def test_a_timestamp_of_13_digits_is_stale(rt, signer):
    now = rt.clock.timestamp()
    headers = _headers(*signer, now, **{"x-timestamp": "0" + str(now).zfill(12)})
    await _refused(rt, headers, now, "stale_request")


async def test_an_unknown_algorithm_is_a_bad_signature(rt, signer):
    now = rt.clock.timestamp()
    headers = _headers(*signer, now, **{"x-signature-alg": "HMAC-SHA256"})
    await _refused(rt, headers, now, "bad_signature", "X-Signature-Alg must be HMAC-SM3 or SM2")


async def test_the_algorithm_name_is_case_blind_and_hmac_by_default(rt, signer):
    now = rt.clock.timestamp()
    headers = _headers(*signer, now, **{"x-signature-alg": "hmac-sm3"})
    assert (await _check(rt, headers, now=now)).division == "210000"
    headers = _headers(*signer, now, **{"x-signature-alg": None, "x-nonce": "b" * 16})
    headers = {k: v for k, v in headers.items()}
    # Re-sign for the new nonce, without an algorithm header.
    signed = sign_request(signer[1], "POST", PATH, BODY, timestamp=now, nonce="b" * 16)
    headers["x-signature"] = signed["X-Signature"]
    assert (await _check(rt, headers, now=now)).division == "210000"


async def test_a_signature_that_is_not_hex_is_a_bad_signature(rt, signer):
    now = rt.clock.timestamp()
    headers = _headers(*signer, now, **{"x-signature": "zz"})
    await _refused(rt, headers, now, "bad_signature", "X-Signature is not hex")


REFUSED = "unknown or disabled client, or the signature does not verify"


async def test_a_wrong_signature_an_unknown_and_a_disabled_client_answer_alike(rt, signer):
    client, secret = signer
    now = rt.clock.timestamp()
    await _refused(rt, _headers(client, "wrong", now), now, "bad_signature", REFUSED)
    headers = _headers(client, secret, now, **{"x-client-id": "ac_0000000000000000"})
    await _refused(rt, headers, now, "bad_signature", REFUSED)
    await AuthorityClient.filter(client_id=client.client_id).update(enabled=False)
    await _refused(rt, _headers(client, secret, now), now, "bad_signature", REFUSED)


async def test_a_signed_body_or_method_cannot_be_swapped(rt, signer):
    now = rt.clock.timestamp()
    with pytest.raises(Unauthorized) as caught:
        await _check(rt, _headers(*signer, now), now=now, body=b'{"a":2}')
    assert caught.value.type_code == "bad_signature"
    with pytest.raises(Unauthorized) as caught:
        await _check(rt, _headers(*signer, now), now=now, method="PUT")
    assert caught.value.type_code == "bad_signature"
    assert await AuthorityNonce.all().count() == 0


def _sm2_headers(client_id: str, signature: bytes, now: int) -> dict[str, str]:
    return {
        "x-client-id": client_id,
        "x-timestamp": str(now),
        "x-nonce": NONCE,
        "x-signature-alg": "SM2",
        "x-signature": signature.hex(),
    }


async def test_sm2_signatures(rt, signer):
    client, _ = signer
    now = rt.clock.timestamp()
    private = rt.sm2.generate_private_key()
    message = string_to_sign("POST", PATH, str(now), NONCE, BODY)
    signature = rt.sm2.sign(private, message)
    # Without a registered key, a good SM2 signature is refused.
    await _refused(
        rt, _sm2_headers(client.client_id, signature, now), now, "bad_signature", REFUSED
    )
    await AuthorityClient.filter(client_id=client.client_id).update(
        sm2_public_key=public_key_hex(rt.sm2.public_key(private))
    )
    # Bytes that are no signature at all are a refusal, not an error.
    await _refused(rt, _sm2_headers(client.client_id, b"\x01" * 3, now), now, "bad_signature")
    other = rt.sm2.sign(rt.sm2.generate_private_key(), message)
    await _refused(rt, _sm2_headers(client.client_id, other, now), now, "bad_signature", REFUSED)
    found = await _check(rt, _sm2_headers(client.client_id, signature, now), now=now)
    assert found.client_id == client.client_id


async def test_the_decoy_key_never_lets_anyone_in(rt, signer):
    """The decoy is the generator point, whose private key is 1: its signatures are refused."""
    client, _ = signer
    now = rt.clock.timestamp()
    message = string_to_sign("POST", PATH, str(now), NONCE, BODY)
    forged = rt.sm2.sign((1).to_bytes(32, "big"), message)
    for client_id in (client.client_id, "ac_0000000000000000"):
        await _refused(rt, _sm2_headers(client_id, forged, now), now, "bad_signature", REFUSED)


async def test_a_nonce_is_refused_for_twice_the_skew_then_forgotten(rt, signer):
    client, secret = signer
    now = rt.clock.timestamp()
    await _check(rt, _headers(client, secret, now), now=now)
    for later in (now, now + 2 * SKEW):
        with pytest.raises(Unauthorized) as caught:
            await _check(rt, _headers(client, secret, later), now=later)
        assert caught.value.type_code == "replayed_nonce"
    later = now + 2 * SKEW + 1
    assert (await _check(rt, _headers(client, secret, later), now=later)).name == "Liaoning"
    assert await AuthorityNonce.all().count() == 1
