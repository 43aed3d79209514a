"""Activation: one device per licence, the sealed TOTP seed, superseding and deactivation."""

from __future__ import annotations

import base64

import pytest

from tests.holder_helpers import (
    DEVICE,
    audit_count,
    bearer,
    driver_body,
    identity_of,
    issue,
    jpeg,
    sign_in,
)
from wallet.activation.models import Activation
from wallet.activation.service import SEED_CONTEXT
from wallet.audit.models import AuditEntry
from wallet.presentation.tokens import parse_presentation
from wallet.totp import offline_code

LIST = "/api/v1/licences"
OTHER_DEVICE = "device_fedcba9876543210"


async def _claimed(client, rt, user="xena", seed=31):
    body = driver_body(seed, photo=True)
    [ref] = await issue(rt, [body])
    token = await sign_in(client, user)
    assert (
        await client.post("/api/v1/identity", json=identity_of(body), headers=bearer(token))
    ).status_code == 200
    assert (await client.post(f"{LIST}/{ref}/claim", headers=bearer(token))).status_code == 201
    return ref, token


async def test_activation_provisions_a_sealed_seed(client, rt, holder):
    ref, token = await _claimed(client, rt)
    key = rt.sm2.public_key(rt.sm2.generate_private_key()).hex()
    response = await client.post(
        f"{LIST}/{ref}/activation",
        json={"device_id": DEVICE, "device_public_key": key},
        headers=bearer(token, DEVICE),
    )
    assert response.status_code == 201, response.text
    out = response.json()
    assert out["device_id"] == DEVICE
    seed_code = offline_code(out["totp"]["seed"], rt.clock.timestamp())
    shown = parse_presentation(f"{out['offline_credential']}~{seed_code}")
    assert shown.claims.lic == ref and shown.claims.idx is not None
    assert shown.claims.exp - shown.claims.iat == rt.settings.offline_credential_lifetime
    assert out["totp"] | {"seed": None} == {
        "seed": None,
        "digits": 8,
        "period": 30,
        "algorithm": "SM3",
    }
    seed = out["totp"]["seed"]
    assert len(base64.b32decode(seed)) == 20
    row = await Activation.get()
    assert row.status == "active" and row.device_public_key == key
    assert seed not in row.totp_seed_sealed
    assert rt.vault.open(row.totp_seed_sealed, SEED_CONTEXT) == seed
    listed = (await client.get(LIST, headers=bearer(token))).json()["items"][0]
    assert listed["state"] == "active" and listed["activation"]["device_id"] == DEVICE
    assert await AuditEntry.filter(action="activation.create", subject=ref).count() == 1


async def test_a_new_device_supersedes_the_old(client, rt, holder):
    ref, token = await _claimed(client, rt)
    first = await client.post(
        f"{LIST}/{ref}/activation", json={"device_id": DEVICE}, headers=bearer(token)
    )
    second = await client.post(
        f"{LIST}/{ref}/activation", json={"device_id": OTHER_DEVICE}, headers=bearer(token)
    )
    assert second.status_code == 201
    assert first.json()["totp"]["seed"] != second.json()["totp"]["seed"]
    rows = {r.device_id: r for r in await Activation.all()}
    assert rows[DEVICE].status == "superseded" and rows[DEVICE].ended_at is not None
    assert rows[OTHER_DEVICE].status == "active"


async def test_deactivation_for_a_lost_phone(client, rt, holder):
    ref, token = await _claimed(client, rt)
    await client.post(f"{LIST}/{ref}/activation", json={"device_id": DEVICE}, headers=bearer(token))
    response = await client.delete(f"{LIST}/{ref}/activation", headers=bearer(token))
    assert response.status_code == 200 and response.json()["status"] == "deactivated"
    assert (await Activation.get()).status == "deactivated"
    again = await client.delete(f"{LIST}/{ref}/activation", headers=bearer(token))
    assert again.status_code == 404
    listed = (await client.get(LIST, headers=bearer(token))).json()["items"][0]
    assert listed["state"] == "claimed" and listed["activation"] is None


async def test_activation_needs_a_standing_claim(client, rt, holder):
    body = driver_body(32)
    [ref] = await issue(rt, [body])
    token = await sign_in(client, "yuri")
    await client.post("/api/v1/identity", json=identity_of(body), headers=bearer(token))
    unclaimed = await client.post(
        f"{LIST}/{ref}/activation", json={"device_id": DEVICE}, headers=bearer(token)
    )
    assert unclaimed.status_code == 409 and unclaimed.json()["code"] == "not_claimed"
    photo = base64.b64encode(jpeg()).decode()
    await client.post(f"{LIST}/{ref}/claim", json={"photo": photo}, headers=bearer(token))
    pending = await client.post(
        f"{LIST}/{ref}/activation", json={"device_id": DEVICE}, headers=bearer(token)
    )
    assert pending.status_code == 409 and pending.json()["code"] == "claim_pending_review"
    assert await Activation.all().count() == 0


async def test_a_revoked_licence_cannot_be_activated(client, rt, holder):
    from wallet.licences.schemas import StatusIn
    from wallet.uow import unit_of_work

    ref, token = await _claimed(client, rt)
    async with unit_of_work() as uow:
        await rt.registry.change_status(
            uow, ref, StatusIn(action="revoke", reason="x"), actor="test"
        )
    response = await client.post(
        f"{LIST}/{ref}/activation", json={"device_id": DEVICE}, headers=bearer(token)
    )
    assert response.status_code == 409 and response.json()["code"] == "licence_ended"


@pytest.mark.parametrize(
    "payload,headers_device,field",
    [
        ({}, None, "device_id"),
        ({"device_id": "short"}, None, "device_id"),
        ({"device_id": 1234567890123456}, None, "device_id"),
        ({"device_id": DEVICE, "device_public_key": "04" + "00" * 64}, None, "device_public_key"),
        ({"device_id": DEVICE, "device_public_key": "zz"}, None, "device_public_key"),
        ({"device_id": DEVICE}, OTHER_DEVICE, "device_id"),
        ({"device_id": DEVICE, "extra": True}, None, "extra"),
    ],
)
async def test_bad_activation_input_changes_nothing(
    client, rt, holder, payload, headers_device, field
):
    ref, token = await _claimed(client, rt)
    before = await audit_count()
    response = await client.post(
        f"{LIST}/{ref}/activation", json=payload, headers=bearer(token, headers_device)
    )
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == field
    assert await Activation.all().count() == 0 and await audit_count() == before


async def test_another_holders_licence_cannot_be_activated(client, rt, holder):
    ref, _ = await _claimed(client, rt)
    _, other = await _claimed(client, rt, user="zane", seed=33)
    response = await client.post(
        f"{LIST}/{ref}/activation", json={"device_id": DEVICE}, headers=bearer(other)
    )
    assert response.status_code == 404 and response.json()["code"] == "licence_not_found"
    assert (
        await client.delete(f"{LIST}/{ref}/activation", headers=bearer(other))
    ).status_code == 404
