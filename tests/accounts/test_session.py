"""WeChat sign-in and holder sessions over HTTP."""

from __future__ import annotations

import pytest

from tests.holder_helpers import DEVICE, bearer, sign_in
from wallet.accounts.models import Account
from wallet.audit.models import AuditEntry
from wallet.crypto import sm3


async def test_sign_in_creates_one_account_per_wechat_user(client, rt, holder, standin):
    response = await client.post("/api/v1/session", json={"code": "gina.1"})
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"token", "expires_in", "bound"}
    assert body["bound"] is False and body["expires_in"] == rt.settings.session_ttl
    assert len(body["token"]) == 43  # 256 bits in base64url
    again = await client.post("/api/v1/session", json={"code": "gina.2"})
    assert again.json()["token"] != body["token"]
    accounts = await Account.all()
    assert len(accounts) == 1
    openid = standin.state.openid("gina")
    assert openid not in accounts[0].openid_sealed and openid not in accounts[0].openid_index
    actions = await AuditEntry.all().order_by("id").values_list("action", flat=True)
    assert actions == ["account.create", "account.sign_in"]


async def test_the_token_is_stored_hashed_with_a_ttl(client, rt, holder):
    token = await sign_in(client, "hank")
    assert await rt.cache.get("rtel:hs:" + token) is None
    key = "rtel:hs:" + sm3(token.encode()).hex()
    assert 0 < await rt.cache.ttl(key) <= rt.settings.session_ttl
    stored = await rt.cache.get(key)
    assert b"session_key" not in stored and token.encode() not in stored


async def test_session_identifies_the_holder(client, holder):
    token = await sign_in(client, "ivy")
    response = await client.get("/api/v1/identity", headers=bearer(token, DEVICE))
    assert response.status_code == 200 and response.json() == {
        "bound": False,
        "name": None,
        "id_number": None,
        "phone": None,
        "bound_at": None,
    }


async def test_renew_rotates_and_revoke_ends(client, holder):
    token = await sign_in(client, "jack")
    renewed = await client.post("/api/v1/session/renew", headers=bearer(token))
    assert renewed.status_code == 200
    fresh = renewed.json()["token"]
    assert fresh != token
    assert (await client.get("/api/v1/identity", headers=bearer(token))).status_code == 401
    assert (await client.get("/api/v1/identity", headers=bearer(fresh))).status_code == 200
    assert (await client.delete("/api/v1/session", headers=bearer(fresh))).status_code == 204
    gone = await client.get("/api/v1/identity", headers=bearer(fresh))
    assert gone.status_code == 401 and gone.json()["code"] == "session_required"
    assert (await client.post("/api/v1/session/renew", headers=bearer(fresh))).status_code == 401


async def test_expired_sessions_end(client, rt, holder):
    token = await sign_in(client, "kate")
    await rt.cache.delete("rtel:hs:" + sm3(token.encode()).hex())  # what the TTL does
    assert (await client.get("/api/v1/identity", headers=bearer(token))).status_code == 401


@pytest.mark.parametrize(
    "code,status,problem",
    [
        ("bad-code", 401, "wechat_code_invalid"),
        ("limited-1", 429, "wechat_rate_limited"),
        ("blocked-1", 403, "wechat_user_blocked"),
        ("busy-1", 503, "wechat_unavailable"),
    ],
)
async def test_wechat_refusals_are_problems(client, holder, code, status, problem):
    response = await client.post("/api/v1/session", json={"code": code})
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == problem
    if status == 429:
        assert response.headers["retry-after"] == "60"
    assert await Account.all().count() == 0


async def test_a_code_is_good_once(client, holder):
    assert (await client.post("/api/v1/session", json={"code": "liam.1"})).status_code == 200
    reused = await client.post("/api/v1/session", json={"code": "liam.1"})
    assert reused.status_code == 401 and reused.json()["code"] == "wechat_code_invalid"


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Basic abc"},
        {"Authorization": "Bearer"},
        {"Authorization": "Bearer not-a-token"},
        {"Authorization": "Bearer " + "A" * 43},
    ],
)
async def test_missing_or_bad_bearer_is_401(client, holder, headers):
    response = await client.get("/api/v1/identity", headers=headers)
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize(
    "device", ["short", "x" * 65, "has space in it 123", "semi;colon;device;id"]
)
async def test_malformed_device_id_is_422(client, holder, device):
    token = await sign_in(client, "mona")
    response = await client.get("/api/v1/identity", headers=bearer(token, device))
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "X-Device-Id"
