"""Listing, claiming (with photos), and the authority's review queue."""

from __future__ import annotations

import base64
import io
import uuid

import pytest
from PIL import Image

from tests.conftest import CLAIM_TEMPLATE
from tests.factories import authority
from tests.holder_helpers import (
    audit_count,
    bearer,
    driver_body,
    identity_of,
    issue,
    jpeg,
    sign_in,
    subscribe,
)
from wallet.accounts.identity import OPENID_CONTEXT
from wallet.audit.models import AuditEntry
from wallet.claims.models import Claim, ClaimPhoto
from wallet.claims.notify import ClaimNotifier
from wallet.licences.models import Licence
from wallet.settings import template_fields
from wallet.uow import read_only

LIST = "/api/v1/licences"


async def _bound_driver(client, rt, user="uma", seed=21, photo=False):
    body = driver_body(seed, photo=photo)
    [ref] = await issue(rt, [body])
    token = await sign_in(client, user)
    response = await client.post("/api/v1/identity", json=identity_of(body), headers=bearer(token))
    assert response.status_code == 200
    return body, ref, token


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


async def test_listing_shows_masked_faces_and_states(client, rt, holder):
    body, ref, token = await _bound_driver(client, rt)
    response = await client.get(LIST, headers=bearer(token))
    assert response.status_code == 200
    [item] = response.json()["items"]
    face = body["face"]
    assert item["ref"] == ref and item["state"] == "claimable" and item["needs_photo"] is True
    assert item["status"] == "valid" and item["holder_type"] == "person"
    for secret in (face["name"], face["certificate_number"], face["birth_date"], face["address"]):
        assert secret not in response.text
    assert item["face"]["certificate_number"].count("*") == 10
    assert "photo" not in item["face"]


async def test_listing_needs_a_bound_identity(client, holder):
    token = await sign_in(client, "vera")
    response = await client.get(LIST, headers=bearer(token))
    assert response.status_code == 403 and response.json()["code"] == "identity_not_bound"


async def test_claim_without_photo_when_the_registry_has_one(client, rt, holder):
    _, ref, token = await _bound_driver(client, rt, photo=True)
    first = await client.post(f"{LIST}/{ref}/claim", headers=bearer(token))
    assert first.status_code == 201 and first.json()["status"] == "claimed"
    again = await client.post(f"{LIST}/{ref}/claim", json={}, headers=bearer(token))
    assert again.status_code == 200 and again.json()["created"] is False
    assert again.json()["claim_id"] == first.json()["claim_id"]
    unneeded = await client.post(
        f"{LIST}/{ref}/claim", json={"photo": _b64(jpeg())}, headers=bearer(token)
    )
    assert unneeded.status_code == 409 and unneeded.json()["code"] == "already_claimed"
    assert await Claim.all().count() == 1 and await ClaimPhoto.all().count() == 0
    assert await AuditEntry.filter(action="claim.create").count() == 1


async def test_photo_is_refused_when_not_needed(client, rt, holder):
    _, ref, token = await _bound_driver(client, rt, photo=True)
    response = await client.post(
        f"{LIST}/{ref}/claim", json={"photo": _b64(jpeg())}, headers=bearer(token)
    )
    assert response.status_code == 422 and response.json()["code"] == "photo_not_needed"
    assert await Claim.all().count() == 0


async def test_photo_is_required_when_the_registry_has_none(client, rt, holder):
    _, ref, token = await _bound_driver(client, rt)
    response = await client.post(f"{LIST}/{ref}/claim", headers=bearer(token))
    assert response.status_code == 422 and response.json()["code"] == "photo_required"
    assert await Claim.all().count() == 0


@pytest.mark.parametrize("fmt", ["JPEG", "PNG"])
async def test_photo_is_reencoded_without_metadata(client, rt, holder, fmt):
    _, ref, token = await _bound_driver(client, rt)
    raw = jpeg(1600, 2000, fmt=fmt)
    response = await client.post(
        f"{LIST}/{ref}/claim", json={"photo": _b64(raw)}, headers=bearer(token)
    )
    assert response.status_code == 201 and response.json()["status"] == "pending_review"
    stored = await ClaimPhoto.get()
    assert stored.media_type == "image/jpeg" and max(stored.width, stored.height) == 1024
    assert _b64(raw)[:100] not in stored.image_sealed
    async with read_only() as uow:
        image = await holder.claims.photo(uow, None, str(response.json()["claim_id"]))
    reopened = Image.open(io.BytesIO(image))
    assert reopened.format == "JPEG" and not reopened.getexif()
    assert b"SpyCam" not in image


@pytest.mark.parametrize(
    "payload,status,code",
    [
        ({"photo": base64.b64encode(b"GIF89a" + b"\0" * 200).decode()}, 422, "invalid_photo"),
        ({"photo": base64.b64encode(b"%PDF-1.7 not an image").decode()}, 422, "invalid_photo"),
        ({"photo": "not base64 !!"}, 422, "invalid_photo"),
        ({"photo": base64.b64encode(jpeg()[:200]).decode()}, 422, "invalid_photo"),
        ({"photo": base64.b64encode(jpeg(20, 20)).decode()}, 422, "invalid_photo"),
        (
            {"photo": base64.b64encode(b"\xff\xd8" + b"\0" * (2 * 1024 * 1024)).decode()},
            413,
            "photo_too_large",
        ),
        ({"photo": 12}, 422, "validation_failed"),
        ({"picture": "x"}, 422, "validation_failed"),
    ],
)
async def test_bad_photos_change_nothing(client, rt, holder, payload, status, code):
    _, ref, token = await _bound_driver(client, rt)
    before = await audit_count()
    response = await client.post(f"{LIST}/{ref}/claim", json=payload, headers=bearer(token))
    assert response.status_code == status, response.text
    assert response.json()["code"] == code
    assert response.headers["content-type"] == "application/problem+json"
    assert await Claim.all().count() == 0 and await audit_count() == before


async def test_a_body_over_the_limit_is_413(client, rt, holder):
    _, ref, token = await _bound_driver(client, rt)
    response = await client.post(
        f"{LIST}/{ref}/claim",
        headers=bearer(token) | {"content-type": "application/json"},
        content=b'{"photo": "' + b"A" * (3 * 2**20) + b'"}',
    )
    assert response.status_code == 413 and await Claim.all().count() == 0


async def test_another_holders_licence_is_404(client, rt, holder):
    _, mine, token = await _bound_driver(client, rt)
    _, theirs, _ = await _bound_driver(client, rt, user="walt", seed=22, photo=True)
    for path in (f"{LIST}/{theirs}/claim", f"{LIST}/LAAAAAAAAAAAAAAAA/claim", f"{LIST}/x/claim"):
        response = await client.post(path, headers=bearer(token))
        assert response.status_code == 404, path
        assert response.json()["code"] == "licence_not_found"
    listed = await client.get(LIST, headers=bearer(token))
    assert [i["ref"] for i in listed.json()["items"]] == [mine]
    assert await Claim.all().count() == 0


async def test_review_approve_notifies_and_lists(client, rt, holder, standin):
    _, ref, token = await _bound_driver(client, rt)
    await subscribe(client, token, CLAIM_TEMPLATE)
    claim = (
        await client.post(
            f"{LIST}/{ref}/claim", json={"photo": _b64(jpeg())}, headers=bearer(token)
        )
    ).json()
    pending = await client.get(LIST + "?state=pending_review", headers=bearer(token))
    assert [i["ref"] for i in pending.json()["items"]] == [ref]
    caller = await authority(client, rt)
    queue = await caller.get("/authority/v1/claims")
    assert queue.status_code == 200, queue.text
    [item] = queue.json()["items"]
    assert item["id"] == claim["claim_id"] and item["holder_id_number"].count("*") == 10
    photo = await caller.get(item["photo_url"])
    assert photo.status_code == 200 and photo.headers["content-type"] == "image/jpeg"
    approved = await caller.post(f"/authority/v1/claims/{item['id']}/approve", None)
    assert approved.status_code == 200 and approved.json()["status"] == "approved"
    twice = await caller.post(f"/authority/v1/claims/{item['id']}/approve", None)
    assert twice.status_code == 409 and twice.json()["code"] == "claim_not_pending"
    [message] = standin.state.messages
    assert message["touser"] == standin.state.openid("uma")
    assert message["template_id"] == CLAIM_TEMPLATE
    assert message["data"]["phrase2"] == {"value": "审核通过"}
    listed = (await client.get(LIST, headers=bearer(token))).json()["items"][0]
    assert listed["state"] == "approved" and listed["claim"]["status"] == "approved"
    assert (await caller.get("/authority/v1/claims")).json()["items"] == []


async def test_no_review_message_without_a_subscription(client, rt, holder, standin):
    # WeChat sends a one-time subscribe message only after the user accepted the
    # template; each acceptance allows one. None accepted: the review goes on, silent.
    _, ref, token = await _bound_driver(client, rt)
    claim = await client.post(
        f"{LIST}/{ref}/claim", json={"photo": _b64(jpeg())}, headers=bearer(token)
    )
    caller = await authority(client, rt)
    approved = await caller.post(f"/authority/v1/claims/{claim.json()['claim_id']}/approve", None)
    assert approved.status_code == 200 and approved.json()["status"] == "approved"
    assert standin.state.messages == []


async def test_review_reject_then_claim_again(client, rt, holder, standin):
    _, ref, token = await _bound_driver(client, rt)
    await subscribe(client, token, CLAIM_TEMPLATE)
    claim_id = (
        await client.post(
            f"{LIST}/{ref}/claim", json={"photo": _b64(jpeg())}, headers=bearer(token)
        )
    ).json()["claim_id"]
    caller = await authority(client, rt)
    no_reason = await caller.post(f"/authority/v1/claims/{claim_id}/reject", {})
    assert no_reason.status_code == 422
    rejected = await caller.post(
        f"/authority/v1/claims/{claim_id}/reject", {"reason": "照片不清晰"}
    )
    assert rejected.status_code == 200 and rejected.json()["reason"] == "照片不清晰"
    assert await ClaimPhoto.all().count() == 0
    assert standin.state.messages[0]["data"]["thing3"] == {"value": "照片不清晰"}
    item = (await client.get(LIST, headers=bearer(token))).json()["items"][0]
    assert item["state"] == "rejected" and item["claim"]["reason"] == "照片不清晰"
    activation = await client.post(
        f"{LIST}/{ref}/activation",
        json={"device_id": "device_0123456789abcdef"},
        headers=bearer(token),
    )
    assert activation.status_code == 409 and activation.json()["code"] == "claim_rejected"
    again = await client.post(
        f"{LIST}/{ref}/claim", json={"photo": _b64(jpeg())}, headers=bearer(token)
    )
    assert again.status_code == 201 and again.json()["status"] == "pending_review"
    assert again.json()["claim_id"] == claim_id


async def test_review_is_scoped_to_the_clients_division(client, rt, holder):
    _, ref, token = await _bound_driver(client, rt)
    claim_id = (
        await client.post(
            f"{LIST}/{ref}/claim", json={"photo": _b64(jpeg())}, headers=bearer(token)
        )
    ).json()["claim_id"]
    dalian = await authority(client, rt, division="210200")
    assert (await dalian.get("/authority/v1/claims")).json()["items"] == []
    refused = await dalian.post(f"/authority/v1/claims/{claim_id}/approve", None)
    missing = await dalian.post(f"/authority/v1/claims/{uuid.uuid4()}/approve", None)
    photo = await dalian.get(f"/authority/v1/claims/{claim_id}/photo")
    for answer in (refused, photo):  # not 403: the same as a claim that does not exist
        assert answer.status_code == 404
        assert (answer.json()["code"], answer.json()["detail"]) == (
            missing.json()["code"],
            missing.json()["detail"],
        )
    unsigned = await client.get("/authority/v1/claims")
    assert unsigned.status_code == 401
    assert (await Claim.get()).status == "pending_review"


async def test_review_queue_pagination(client, rt, holder):
    caller = await authority(client, rt)
    for n in range(5):
        _, ref, token = await _bound_driver(client, rt, user=f"driver{n}", seed=40 + n)
        assert (
            await client.post(
                f"{LIST}/{ref}/claim", json={"photo": _b64(jpeg())}, headers=bearer(token)
            )
        ).status_code == 201
    seen, path = [], "/authority/v1/claims?limit=2"
    while True:
        page = (await caller.get(path)).json()
        seen += [i["id"] for i in page["items"]]
        if not page["next_cursor"]:
            break
        path = "/authority/v1/claims?limit=2&cursor=" + page["next_cursor"]
    assert len(seen) == len(set(seen)) == 5
    bad = await caller.get("/authority/v1/claims?cursor=garbage")
    assert bad.status_code == 422
    for claim_id in ("not-a-uuid", "00000000-0000-0000-0000-000000000000"):
        assert (
            await caller.post(f"/authority/v1/claims/{claim_id}/approve", None)
        ).status_code == 404


async def test_the_approved_photo_is_the_licence_photo(client, rt, holder):
    _, ref, token = await _bound_driver(client, rt)
    claim_id = (
        await client.post(
            f"{LIST}/{ref}/claim", json={"photo": _b64(jpeg())}, headers=bearer(token)
        )
    ).json()["claim_id"]
    licence = await Licence.get(ref=ref)
    async with read_only() as uow:
        assert await rt.claims.licence_photo(uow, licence.id) is None
    caller = await authority(client, rt)
    await caller.post(f"/authority/v1/claims/{claim_id}/approve", None)
    async with read_only() as uow:
        photo = await rt.claims.licence_photo(uow, licence.id)
    assert photo is not None and photo.startswith(b"\xff\xd8")


async def test_review_message_uses_the_configured_template_keywords(rt, holder, standin):
    fields = template_fields("time=time9,note=thing7,licence=thing2,outcome=phrase1")
    notifier = ClaimNotifier(rt.gateway, rt.vault, "tmpl-other", rt.subscriptions, fields)
    openid = standin.state.openid("uma")
    await notifier.claim_reviewed(
        openid_sealed=rt.vault.seal(openid, OPENID_CONTEXT),
        ref="LJ6U3ZKQ2T4XW7N5A",
        kind_name="道路运输从业人员从业资格证（经营性道路货物运输驾驶员）",
        approved=False,
        reason="照片不清晰",
        at=rt.clock.now(),
    )
    [message] = standin.state.messages
    assert message["template_id"] == "tmpl-other"
    assert set(message["data"]) == {"time9", "thing7", "thing2", "phrase1"}
    assert message["data"]["phrase1"] == {"value": "审核未通过"}
    assert len(message["data"]["thing2"]["value"]) == 20  # WeChat's `thing` limit
