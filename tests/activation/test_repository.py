"""The activation repository: what the verifier and presenter read, and ending activations."""

from __future__ import annotations

from tests.holder_helpers import DEVICE, bearer, driver_body, identity_of, issue, sign_in
from wallet.activation.repository import ActivationRepository
from wallet.activation.service import SEED_CONTEXT
from wallet.uow import read_only, unit_of_work

LIST = "/api/v1/licences"


async def _activated(client, rt, user="yuri", seed=41):
    body = driver_body(seed, photo=True)
    [ref] = await issue(rt, [body])
    token = await sign_in(client, user)
    assert (
        await client.post("/api/v1/identity", json=identity_of(body), headers=bearer(token))
    ).status_code == 200
    assert (await client.post(f"{LIST}/{ref}/claim", headers=bearer(token))).status_code == 201
    response = await client.post(
        f"{LIST}/{ref}/activation", json={"device_id": DEVICE}, headers=bearer(token, DEVICE)
    )
    assert response.status_code == 201, response.text
    return ref, token, str(response.json()["totp"]["seed"])


async def test_active_seed_is_the_sealed_seed_of_the_active_activation(client, rt, holder):
    ref, token, seed = await _activated(client, rt)
    repository = ActivationRepository()
    async with read_only() as uow:
        sealed = await repository.active_seed(uow, ref)
        assert await repository.active_seed(uow, "NOSUCHREF") is None
    assert sealed is not None and seed not in sealed
    assert rt.vault.open(sealed, SEED_CONTEXT) == seed
    await client.delete(f"{LIST}/{ref}/activation", headers=bearer(token))
    async with read_only() as uow:
        assert await repository.active_seed(uow, ref) is None


async def test_active_for_and_activated_by_are_per_account(client, rt, holder):
    ref, token, _ = await _activated(client, rt)
    repository = ActivationRepository()
    mine = await rt.accounts.sessions.account_id(token)
    other = await rt.accounts.sessions.account_id(await sign_in(client, "zora"))
    async with read_only() as uow:
        activation = await repository.active_for(uow, ref, mine)
        assert activation is not None and activation.licence.ref == ref
        assert activation.device_id == DEVICE
        assert await repository.active_for(uow, ref, other) is None
        assert await repository.activated_by(uow, ref, mine)
        assert not await repository.activated_by(uow, ref, other)


async def test_end_for_account_ends_every_active_activation_once(client, rt, holder):
    ref, token, _ = await _activated(client, rt)
    account = await rt.accounts.sessions.account_id(token)
    repository = ActivationRepository()
    async with unit_of_work() as uow:
        assert await repository.end_for_account(uow, account, rt.clock.now()) == 1
    async with unit_of_work() as uow:
        assert await repository.end_for_account(uow, account, rt.clock.now()) == 0
        assert await repository.active_seed(uow, ref) is None
