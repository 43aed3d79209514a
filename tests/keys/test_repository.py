"""The key store runs in its caller's unit of work: it never commits on its own."""

from datetime import timedelta

import pytest

from tests.factories import committing
from tests.keys.helpers import T0, make_store
from wallet.keys import KeyStatus
from wallet.keys.repository import KeyRepository
from wallet.uow import read_only, unit_of_work


class Abort(Exception):
    """Raised after a key change, inside its unit of work."""


async def test_a_rotation_rolls_back_with_its_unit_of_work(rt):
    store, _ = make_store(rt)
    await committing(store.init)([])
    old = await committing(store.active_key)("presentation")
    with pytest.raises(Abort):
        async with unit_of_work() as uow:
            await store.rotate(uow, "presentation")
            raise Abort
    assert (await committing(store.active_key)("presentation")).kid == old.kid
    async with read_only() as uow:
        keys = await store.list_keys(uow)
    assert [k.status for k in keys if k.use == "presentation"] == [KeyStatus.ACTIVE]


async def test_a_revocation_rolls_back_with_its_unit_of_work(rt):
    store, _ = make_store(rt)
    await committing(store.init)([])
    root = await committing(store.active_key)("root")
    with pytest.raises(Abort):
        async with unit_of_work() as uow:
            await store.revoke(uow, root.kid, "test")
            raise Abort
    async with read_only() as uow:
        assert await store.verification_key(uow, root.kid) is not None


async def test_the_repository_reads_slots_and_raises_signed_until(rt):
    store, _ = make_store(rt)
    await committing(store.init)(["210000"])
    repository = KeyRepository()
    async with unit_of_work() as uow:
        seal = await repository.in_slot(uow, "seal:210000", lock=True)
        assert seal is not None
        assert await repository.kid_in_slot(uow, "seal:210000") == seal.kid
        assert await repository.kid_in_slot(uow, "seal:110000") is None
        await repository.raise_signed_until(uow, seal.kid, T0 + timedelta(days=3))
        await repository.raise_signed_until(uow, seal.kid, T0 + timedelta(days=1))
    async with read_only() as uow:
        again = await repository.by_kid(uow, seal.kid)
        assert again is not None and again.signed_until == T0 + timedelta(days=3)
        assert [k.kid for k in await repository.all(uow)] == [
            k.kid for k in await store.list_keys(uow)
        ]
