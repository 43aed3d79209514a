"""The claim repository: the approved photo the verifier shows, and who claimed what."""

from __future__ import annotations

import base64

from tests.factories import authority
from tests.holder_helpers import bearer, driver_body, identity_of, issue, jpeg, sign_in
from wallet.claims.repository import ClaimRepository
from wallet.claims.service import photo_bytes
from wallet.licences.repository import LicenceRepository
from wallet.uow import read_only

LIST = "/api/v1/licences"


async def _pending(client, rt, user="vera", seed=51):
    body = driver_body(seed)
    [ref] = await issue(rt, [body])
    token = await sign_in(client, user)
    assert (
        await client.post("/api/v1/identity", json=identity_of(body), headers=bearer(token))
    ).status_code == 200
    photo = base64.b64encode(jpeg()).decode()
    response = await client.post(
        f"{LIST}/{ref}/claim", json={"photo": photo}, headers=bearer(token)
    )
    assert response.status_code == 201, response.text
    return ref, token, str(response.json()["claim_id"])


async def test_approved_photo_only_once_approved(client, rt, holder):
    ref, _, claim_id = await _pending(client, rt)
    repository = ClaimRepository()
    async with read_only() as uow:
        licence = await LicenceRepository().by_ref(uow, ref)
        assert licence is not None
        assert await repository.approved_photo(uow, licence.id) is None
    caller = await authority(client, rt)
    assert (await caller.post(f"/authority/v1/claims/{claim_id}/approve", None)).status_code == 200
    async with read_only() as uow:
        photo = await repository.approved_photo(uow, licence.id)
    assert photo is not None
    assert photo_bytes(rt.vault, photo).startswith(b"\xff\xd8")


async def test_claimed_by_is_per_account(client, rt, holder):
    ref, token, _ = await _pending(client, rt)
    mine = await rt.accounts.sessions.account_id(token)
    other = await rt.accounts.sessions.account_id(await sign_in(client, "wade"))
    async with read_only() as uow:
        assert await ClaimRepository().claimed_by(uow, ref, mine)
        assert not await ClaimRepository().claimed_by(uow, ref, other)
        assert not await ClaimRepository().claimed_by(uow, "NOSUCHREF", mine)
