import asyncio
import base64
from datetime import timedelta

import pytest

from tests.factories import committing
from tests.keys.helpers import T0, make_store
from wallet.crypto import sm4_gcm_decrypt
from wallet.errors import CryptoError, InvalidIdentifier, NotFound, ValidationFailed
from wallet.jws import decode, encode, verify_signature
from wallet.keys import KeyStatus, KeyUse, SigningKey
from wallet.masterkey import derive_key

OTHER_MASTER_KEY = bytes.fromhex("a5" * 32)


async def test_init_creates_root_presentation_copy_and_one_seal_per_province(rt):
    store, _ = make_store(rt)
    keys = await committing(store.init)(["210000", "110000"])
    assert [(k.use, k.division) for k in keys] == [
        ("root", None),
        ("presentation", None),
        ("copy", None),
        ("seal", "210000"),
        ("seal", "110000"),
    ]
    assert all(k.status == KeyStatus.ACTIVE for k in keys)
    assert keys[0].kid.startswith("root-") and keys[1].kid.startswith("pres-")
    assert keys[2].kid.startswith("copy-")
    assert keys[3].kid.startswith("seal-210000-") and len(keys[3].kid) == len("seal-210000-") + 8
    assert all(k.not_before == T0 and k.created_at == T0 and k.not_after is None for k in keys)


async def test_init_is_idempotent(rt):
    store, _ = make_store(rt)
    first = await committing(store.init)(["210000"])
    again = await committing(store.init)(["210000", "210000"])
    assert [k.kid for k in again] == [k.kid for k in first]
    wider = await committing(store.init)(["210000", "310000"])
    assert [k.kid for k in wider[:4]] == [k.kid for k in first]
    assert await SigningKey.all().count() == 5


async def test_concurrent_init_makes_one_key_per_slot(rt):
    store, _ = make_store(rt)
    await asyncio.gather(*(committing(store.init)(["210000"]) for _ in range(3)))
    assert await SigningKey.filter(status="active").count() == 4
    assert await SigningKey.filter(use="copy", status="active").count() == 1


@pytest.mark.parametrize("division", ["210100", "210102", "990000", "21000", "abcdef"])
async def test_init_requires_province_level_codes(rt, division):
    store, _ = make_store(rt)
    with pytest.raises(InvalidIdentifier):
        await committing(store.init)([division])
    assert await SigningKey.all().count() == 0


@pytest.mark.parametrize(
    ("use", "division"),
    [("seal", None), ("presentation", "210000"), ("root", "210000"), ("stamp", None)],
)
async def test_slots_are_validated(rt, use, division):
    store, _ = make_store(rt)
    with pytest.raises(ValidationFailed):
        await committing(store.rotate)(use, division)


async def test_private_key_is_stored_wrapped_and_bound_to_its_kid(rt):
    store, _ = make_store(rt)
    await committing(store.init)(["210000"])
    seal = await committing(store.active_key)("seal", "210000")
    pres = await committing(store.active_key)("presentation")
    row = await SigningKey.get(kid=seal.kid)
    other = await SigningKey.get(kid=pres.kid)

    blob = base64.b64decode(row.private_wrapped)
    assert seal.private_key not in blob
    assert seal.private_key.hex() not in row.private_wrapped
    assert seal.private_key.hex().upper() not in row.private_wrapped.upper()
    wrap_key = derive_key(rt.master_key, "key-wrap")
    assert sm4_gcm_decrypt(wrap_key, blob, seal.kid.encode()) == seal.private_key
    with pytest.raises(CryptoError):  # pasted onto another row: another kid as associated data
        sm4_gcm_decrypt(wrap_key, blob, other.kid.encode())
    with pytest.raises(CryptoError):  # another master key
        sm4_gcm_decrypt(derive_key(OTHER_MASTER_KEY, "key-wrap"), blob, seal.kid.encode())


async def test_wrapped_key_pasted_onto_another_row_does_not_open(rt):
    store, _ = make_store(rt)
    await committing(store.init)([])
    root = await SigningKey.get(use="root")
    pres = await SigningKey.get(use="presentation")
    await SigningKey.filter(id=pres.id).update(private_wrapped=root.private_wrapped)
    fresh, _ = make_store(rt)
    with pytest.raises(CryptoError, match="does not open"):
        await committing(fresh.active_key)("presentation")


async def test_another_master_key_cannot_open_the_keys(rt):
    store, _ = make_store(rt)
    await committing(store.init)(["210000"])
    thief, _ = make_store(rt, master_key=OTHER_MASTER_KEY)
    with pytest.raises(CryptoError):
        await committing(thief.active_key)("seal", "210000")


async def test_active_key_signs_and_hides_the_private_key(rt):
    store, _ = make_store(rt)
    await committing(store.init)(["210000"])
    key = await committing(store.active_key)("seal", "210000")
    assert key.use is KeyUse.SEAL and key.division == "210000"
    assert rt.sm2.public_key(key.private_key) == key.public_key
    assert key.private_key.hex() not in repr(key)
    assert str(key.private_key) not in repr(key)
    assert "private" not in repr(store)
    # unwrapped once, then cached
    assert await committing(store.active_key)("seal", "210000") is key


async def test_active_key_without_keys_says_how_to_make_them(rt):
    store, _ = make_store(rt)
    with pytest.raises(NotFound, match="wallet keys init"):
        await committing(store.active_key)("presentation")
    await committing(store.init)(["210000"])
    with pytest.raises(NotFound):
        await committing(store.active_key)("seal", "110000")


async def test_rotation_retires_the_old_key_and_keeps_it_verifiable(rt):
    store, clock = make_store(rt)
    await committing(store.init)(["210000"])
    old = await committing(store.active_key)("seal", "210000")
    seal = encode({"kid": old.kid, "typ": "rtel-seal"}, {"doc": "x"}, old.private_key, rt.sm2)
    clock.advance(3600)

    new_row = await committing(store.rotate)("seal", "210000")
    new = await committing(store.active_key)("seal", "210000")
    assert new.kid == new_row.kid != old.kid
    assert new.division == "210000" and new_row.not_before == T0 + timedelta(hours=1)

    retired = await SigningKey.get(kid=old.kid)
    assert retired.status == KeyStatus.RETIRED and retired.active_slot is None
    assert retired.retired_at == retired.not_after == T0 + timedelta(hours=1)

    decoded = decode(seal)
    found = await committing(store.verification_key)(decoded.kid)
    assert found is not None and found.kid == old.kid
    assert verify_signature(decoded, bytes.fromhex(found.public_key), rt.sm2)
    assert not verify_signature(decoded, new.public_key, rt.sm2)


async def test_rotation_without_an_active_key_creates_one(rt):
    store, _ = make_store(rt)
    key = await committing(store.rotate)("presentation")
    assert key.status == KeyStatus.ACTIVE
    assert (await committing(store.active_key)("presentation")).kid == key.kid


async def test_concurrent_rotations_leave_one_active_key(rt):
    store, _ = make_store(rt)
    await committing(store.init)([])
    rotated = await asyncio.gather(*(committing(store.rotate)("presentation") for _ in range(4)))
    assert len({k.kid for k in rotated}) == 4
    active = await SigningKey.filter(use="presentation", status="active")
    assert len(active) == 1
    assert await SigningKey.filter(use="presentation", status="retired").count() == 4


async def test_rotating_one_slot_leaves_the_others(rt):
    store, _ = make_store(rt)
    before = {k.kid for k in await committing(store.init)(["210000", "110000"])}
    await committing(store.rotate)("seal", "110000")
    after = {k.kid for k in await SigningKey.filter(status="active")}
    assert len(before & after) == 4


async def test_note_signed_only_moves_forward(rt):
    store, _ = make_store(rt)
    await committing(store.init)(["210000"])
    kid = (await committing(store.active_key)("seal", "210000")).kid
    await committing(store.note_signed)(kid, T0 + timedelta(days=30))
    await committing(store.note_signed)(kid, T0 + timedelta(days=10))
    assert (await SigningKey.get(kid=kid)).signed_until == T0 + timedelta(days=30)
    await committing(store.note_signed)(kid, T0 + timedelta(days=400))
    assert (await SigningKey.get(kid=kid)).signed_until == T0 + timedelta(days=400)
    # nothing to raise, nothing changed
    await committing(store.note_signed)("seal-210000-unknown", T0)
    with pytest.raises(ValueError):
        await committing(store.note_signed)(kid, T0.replace(tzinfo=None))


async def test_revoked_key_is_not_returned_for_verification(rt):
    store, _ = make_store(rt)
    await committing(store.init)(["210000"])
    old = await committing(store.active_key)("seal", "210000")
    await committing(store.rotate)("seal", "210000")
    revoked = await committing(store.revoke)(old.kid, "private key exposed")
    assert revoked.status == KeyStatus.REVOKED and revoked.revoked_at == T0
    assert revoked.revocation_reason == "private key exposed"
    assert await committing(store.verification_key)(old.kid) is None
    again = await committing(store.revoke)(old.kid, "again")  # idempotent, first reason kept
    assert again.revocation_reason == "private key exposed"


async def test_revoking_the_active_key_empties_its_slot_until_rotation(rt):
    store, _ = make_store(rt)
    await committing(store.init)([])
    pres = await committing(store.active_key)("presentation")
    await committing(store.revoke)(pres.kid, "compromised")
    with pytest.raises(NotFound, match="rotate"):
        await committing(store.active_key)("presentation")
    new = await committing(store.rotate)("presentation")
    assert new.kid != pres.kid
    assert (await SigningKey.get(kid=pres.kid)).status == KeyStatus.REVOKED


async def test_revoke_checks_its_input(rt):
    store, _ = make_store(rt)
    with pytest.raises(NotFound):
        await committing(store.revoke)("root-00000000", "gone")
    await committing(store.init)([])
    kid = (await committing(store.active_key)("root")).kid
    with pytest.raises(ValidationFailed):
        await committing(store.revoke)(kid, "  ")


async def test_list_keys_includes_every_status(rt):
    store, _ = make_store(rt)
    await committing(store.init)(["210000"])
    await committing(store.rotate)("presentation")
    await committing(store.revoke)((await committing(store.active_key)("root")).kid, "test")
    statuses = sorted(k.status for k in await committing(store.list_keys)())
    assert statuses == ["active", "active", "active", "retired", "revoked"]
