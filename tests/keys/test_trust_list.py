import base64
from datetime import timedelta

import orjson
import pytest

from tests.factories import committing
from tests.keys.helpers import DAY, T0, make_store
from wallet.crypto import sm2_backend
from wallet.jws import decode, encode, verify_signature
from wallet.keys import InvalidTrustList, KeyStatus, KeyUse, build_trust_list, verify_trust_list
from wallet.keys.trust_list import TRUST_LIST_TYPE


def _listed(token):
    return {entry["kid"]: entry for entry in decode(token).payload["keys"]}


async def _root_public_key(store):
    return (await committing(store.active_key)("root")).public_key


async def test_trust_list_shape(rt):
    store, _ = make_store(rt)
    await committing(store.init)(["210000"])
    token = await committing(build_trust_list)(store)
    decoded = decode(token)
    root = await committing(store.active_key)("root")
    assert decoded.header == {"alg": "SM2", "kid": root.kid, "typ": TRUST_LIST_TYPE}
    assert decoded.payload["iss"] == "rtel-wallet"
    assert decoded.payload["iat"] == int(T0.timestamp())
    seal = await committing(store.active_key)("seal", "210000")
    assert _listed(token)[seal.kid] == {
        "kid": seal.kid,
        "division": "210000",
        "use": "seal",
        "pub": seal.public_key.hex(),
        "nbf": int(T0.timestamp()),
        "exp": None,
        "status": "active",
    }
    assert {e["use"] for e in _listed(token).values()} == {"root", "presentation", "copy", "seal"}


async def test_trust_list_verifies_with_the_root_key(rt):
    store, _ = make_store(rt)
    await committing(store.init)(["210000", "110000"])
    token = await committing(build_trust_list)(store)
    trust = verify_trust_list(token, await _root_public_key(store), rt.sm2, int(T0.timestamp()))
    assert trust.issued_at == int(T0.timestamp())
    assert trust.root_kid == (await committing(store.active_key)("root")).kid
    seal = await committing(store.active_key)("seal", "110000")
    listed = trust.key_for(seal.kid, int(T0.timestamp()), KeyUse.SEAL)
    assert listed is not None and listed.public_key == seal.public_key
    assert listed.division == "110000" and listed.status is KeyStatus.ACTIVE
    assert trust.key_for(seal.kid, int(T0.timestamp()), KeyUse.PRESENTATION) is None
    assert trust.key_for(seal.kid, int(T0.timestamp()) - 1) is None  # before nbf
    assert trust.key_for("seal-110000-ffffffff", int(T0.timestamp())) is None


async def test_trust_list_verifies_across_backends(rt):
    store, _ = make_store(rt)
    await committing(store.init)(["210000"])
    token = await committing(build_trust_list)(store)
    trust = verify_trust_list(
        token, await _root_public_key(store), sm2_backend("gmssl"), int(T0.timestamp())
    )
    assert len(trust.keys) == 4
    copy_key = await committing(store.active_key)("copy")
    assert trust.key_for(copy_key.kid, int(T0.timestamp()), KeyUse.COPY) is not None


async def test_trust_list_fails_with_another_root_key(rt):
    store, _ = make_store(rt)
    await committing(store.init)(["210000"])
    token = await committing(build_trust_list)(store)
    other = rt.sm2.public_key(rt.sm2.generate_private_key())
    with pytest.raises(InvalidTrustList, match="signature"):
        verify_trust_list(token, other, rt.sm2, int(T0.timestamp()))


async def test_tampered_trust_list_fails(rt):
    store, _ = make_store(rt)
    await committing(store.init)(["210000"])
    token = await committing(build_trust_list)(store)
    root_pub = await _root_public_key(store)
    header, payload, signature = token.split(".")
    body = orjson.loads(base64.urlsafe_b64decode(payload + "=="))
    attacker = rt.sm2.generate_private_key()
    body["keys"][-1]["pub"] = rt.sm2.public_key(attacker).hex()
    forged = base64.urlsafe_b64encode(orjson.dumps(body)).rstrip(b"=").decode()
    with pytest.raises(InvalidTrustList, match="signature"):
        verify_trust_list(f"{header}.{forged}.{signature}", root_pub, rt.sm2, int(T0.timestamp()))
    with pytest.raises(InvalidTrustList, match="malformed"):
        verify_trust_list(f"{header}.{payload}", root_pub, rt.sm2, int(T0.timestamp()))


def _signed_list(backend, private_key, kid, payload, typ=TRUST_LIST_TYPE):
    return encode({"kid": kid, "typ": typ}, payload, private_key, backend)


@pytest.fixture
def root_pair():
    backend = sm2_backend("tongsuo")
    private_key = backend.generate_private_key()
    return backend, private_key, backend.public_key(private_key)


def _root_entry(public_key, kid="root-1"):
    return {
        "kid": kid,
        "division": None,
        "use": "root",
        "pub": public_key.hex(),
        "nbf": 0,
        "exp": None,
        "status": "active",
    }


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda p: p.update(iss="someone"), "iss"),
        (lambda p: p.update(iat="1"), "iat"),
        (lambda p: p.update(keys={}), "keys"),
        (lambda p: p.update(iat=10_000), "future"),
        (lambda p: p["keys"].append(p["keys"][0]), "twice"),
        (lambda p: p["keys"].append("x"), "not an object"),
        (lambda p: p["keys"][0].update(use="stamp"), "use"),
        (lambda p: p["keys"][0].update(status=None), "status"),
        (lambda p: p["keys"][0].update(nbf=True), "nbf"),
        (lambda p: p["keys"][0].update(exp=1.5), "exp"),
        (lambda p: p["keys"][0].update(division=210000), "division"),
        (lambda p: p["keys"][0].update(pub="04" + "00" * 64), "pub|point|curve|key"),
        (lambda p: p["keys"][0].update(kid="root-2"), "not listed"),
        (lambda p: p["keys"][0].update(use="seal"), "not listed"),
    ],
)
def test_malformed_trust_list_content_is_rejected(root_pair, mutate, message):
    backend, private_key, public_key = root_pair
    payload = {"iss": "rtel-wallet", "iat": 1000, "keys": [_root_entry(public_key)]}
    verify_trust_list(
        _signed_list(backend, private_key, "root-1", payload), public_key, backend, now=1000
    )
    mutate(payload)
    token = _signed_list(backend, private_key, "root-1", payload)
    with pytest.raises(InvalidTrustList, match=message):
        verify_trust_list(token, public_key, backend, now=1000)


def test_other_token_types_are_not_trust_lists(root_pair):
    backend, private_key, public_key = root_pair
    payload = {"iss": "rtel-wallet", "iat": 1000, "keys": [_root_entry(public_key)]}
    token = _signed_list(backend, private_key, "root-1", payload, typ="rtel-qr")
    with pytest.raises(InvalidTrustList, match="not a"):
        verify_trust_list(token, public_key, backend, now=1000)


def test_max_age(root_pair):
    backend, private_key, public_key = root_pair
    payload = {"iss": "rtel-wallet", "iat": 1000, "keys": [_root_entry(public_key)]}
    token = _signed_list(backend, private_key, "root-1", payload)
    assert verify_trust_list(token, public_key, backend, now=1000 + DAY, max_age=DAY)
    with pytest.raises(InvalidTrustList, match="older"):
        verify_trust_list(token, public_key, backend, now=1001 + DAY, max_age=DAY)


async def test_rotated_seal_key_stays_listed_while_it_covers_something(rt):
    store, clock = make_store(rt)
    await committing(store.init)(["210000"])
    old = await committing(store.active_key)("seal", "210000")
    seal = encode({"kid": old.kid, "typ": "rtel-seal"}, {"doc": 1}, old.private_key, rt.sm2)
    await committing(store.note_signed)(old.kid, T0 + timedelta(days=30))
    clock.advance(DAY)
    new = await committing(store.rotate)("seal", "210000")

    token = await committing(build_trust_list)(store)
    listed = _listed(token)
    assert listed[old.kid]["status"] == "retired"
    assert listed[old.kid]["exp"] == int((T0 + timedelta(days=1)).timestamp())
    assert listed[new.kid]["status"] == "active"

    # a seal made before the rotation verifies after it, with the key found by kid
    trust = verify_trust_list(token, await _root_public_key(store), rt.sm2, clock.timestamp())
    decoded = decode(seal)
    key = trust.key_for(decoded.kid, int(T0.timestamp()), KeyUse.SEAL)
    assert key is not None and verify_signature(decoded, key.public_key, rt.sm2)
    # the retired key is not trusted for anything issued after its retirement
    assert trust.key_for(old.kid, clock.timestamp() + 1) is None

    clock.advance(29 * DAY - 1)
    assert old.kid in _listed(await committing(build_trust_list)(store))
    clock.advance(1)
    later = _listed(await committing(build_trust_list)(store))
    assert old.kid not in later and new.kid in later
    # the online verifier still finds it by kid: only the published list is pruned
    assert await committing(store.verification_key)(old.kid) is not None


async def test_retired_seal_key_that_signed_nothing_drops_out_at_once(rt):
    store, clock = make_store(rt)
    await committing(store.init)(["210000"])
    old = await committing(store.active_key)("seal", "210000")
    clock.advance(60)
    await committing(store.rotate)("seal", "210000")
    assert old.kid not in _listed(await committing(build_trust_list)(store))


@pytest.mark.parametrize("use", ["presentation", "root"])
async def test_retired_presentation_and_root_keys_stay_listed_seven_days(rt, use):
    store, clock = make_store(rt)
    await committing(store.init)([])
    old = await committing(store.active_key)(use)
    await committing(store.rotate)(use)
    clock.advance(7 * DAY - 1)
    assert _listed(await committing(build_trust_list)(store))[old.kid]["status"] == "retired"
    clock.advance(1)
    assert old.kid not in _listed(await committing(build_trust_list)(store))


async def test_presentation_key_signed_until_extends_past_seven_days(rt):
    store, clock = make_store(rt)
    await committing(store.init)([])
    old = await committing(store.active_key)("presentation")
    await committing(store.note_signed)(old.kid, T0 + timedelta(days=9))
    await committing(store.rotate)("presentation")
    clock.advance(8 * DAY)
    assert old.kid in _listed(await committing(build_trust_list)(store))
    clock.advance(DAY)
    assert old.kid not in _listed(await committing(build_trust_list)(store))


async def test_revoked_keys_are_not_trusted(rt):
    store, clock = make_store(rt)
    await committing(store.init)(["210000"])
    old = await committing(store.active_key)("seal", "210000")
    seal = encode({"kid": old.kid, "typ": "rtel-seal"}, {"doc": 1}, old.private_key, rt.sm2)
    await committing(store.note_signed)(old.kid, T0 + timedelta(days=365))
    await committing(store.rotate)("seal", "210000")
    await committing(store.revoke)(old.kid, "seal key leaked")

    token = await committing(build_trust_list)(store)
    assert old.kid not in _listed(token)
    trust = verify_trust_list(token, await _root_public_key(store), rt.sm2, clock.timestamp())
    assert trust.key_for(decode(seal).kid, int(T0.timestamp())) is None
    assert await committing(store.verification_key)(old.kid) is None


def test_a_listed_revoked_entry_is_still_not_trusted(root_pair):
    backend, private_key, public_key = root_pair
    revoked = {**_root_entry(public_key, "pres-1"), "use": "presentation", "status": "revoked"}
    payload = {"iss": "rtel-wallet", "iat": 1000, "keys": [_root_entry(public_key), revoked]}
    trust = verify_trust_list(
        _signed_list(backend, private_key, "root-1", payload), public_key, backend, now=1000
    )
    assert "pres-1" in trust.keys
    assert trust.key_for("pres-1", 1000) is None


async def test_trust_list_needs_a_root_key(rt):
    store, _ = make_store(rt)
    await committing(store.rotate)("presentation")
    from wallet.errors import NotFound

    with pytest.raises(NotFound):
        await committing(build_trust_list)(store)
