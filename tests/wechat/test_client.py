"""The WeChat gateway against the stand-in, over real HTTP."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import logging

import httpx
import pytest

from wallet.errors import WalletError
from wallet.wechat import (
    WeChatCodeInvalid,
    WeChatGateway,
    WeChatMisconfigured,
    WeChatPhoneCodeInvalid,
    WeChatRateLimited,
    WeChatUnavailable,
    WeChatUserBlocked,
)
from wallet.wechat.client import face_cert_hash


@pytest.mark.parametrize(
    "code,error,status",
    [
        ("bad-code", WeChatCodeInvalid, 401),
        ("limited-x", WeChatRateLimited, 429),
        ("blocked-y", WeChatUserBlocked, 403),
        ("busy-z", WeChatUnavailable, 503),
    ],
)
async def test_login_codes_map_to_domain_errors(holder, code, error, status):
    with pytest.raises(error) as caught:
        await holder.gateway.code_to_session(code)
    assert caught.value.status == status


async def test_a_code_works_once_and_users_keep_their_openid(holder, standin):
    first = await holder.gateway.code_to_session("carol.1")
    again = await holder.gateway.code_to_session("carol.2")
    assert first.openid == again.openid == standin.state.openid("carol")
    assert first.session_key != again.session_key
    assert "session_key" not in repr(first) and first.session_key not in repr(first)
    with pytest.raises(WeChatCodeInvalid) as caught:
        await holder.gateway.code_to_session("carol.1")
    assert caught.value.extra["wechat_errcode"] == 40163


async def test_one_refresher_fetches_the_access_token(holder, standin):
    tokens = await asyncio.gather(*(holder.gateway.access_token() for _ in range(25)))
    assert len(set(tokens)) == 1
    assert standin.state.token_fetches == 1
    assert await holder.gateway.access_token() == tokens[0]
    assert standin.state.token_fetches == 1


async def test_an_expired_token_is_refreshed_and_the_call_retried(holder, standin):
    await holder.gateway.phone_number("phone-13800000001")
    standin.state.expire_tokens()
    assert await holder.gateway.phone_number("phone-13800000002") == "13800000002"
    assert standin.state.token_fetches == 2


async def test_phone_codes(holder):
    assert await holder.gateway.phone_number("phone-13912345678") == "13912345678"
    with pytest.raises(WeChatPhoneCodeInvalid) as caught:
        await holder.gateway.phone_number("bad")
    assert caught.value.status == 422 and caught.value.errors[0]["field"] == "phone_code"
    with pytest.raises(WeChatRateLimited):
        await holder.gateway.phone_number("limited")


async def test_subscribe_messages_are_recorded(holder, standin):
    openid = standin.state.openid("dave")
    await holder.gateway.send_subscribe_message(openid, "tmpl", {"thing1": "从业资格证"}, "p/x")
    assert standin.state.messages == [
        {
            "touser": openid,
            "template_id": "tmpl",
            "page": "p/x",
            "data": {"thing1": {"value": "从业资格证"}},
        }
    ]
    async with httpx.AsyncClient() as http:
        listed = await http.get(standin.url + "/_standin/messages")
    assert listed.json() == standin.state.messages
    standin.state.refusing.add(openid)
    with pytest.raises(WalletError) as caught:
        await holder.gateway.send_subscribe_message(openid, "tmpl", {"thing1": "x"})
    assert caught.value.extra["wechat_errcode"] == 43101


def test_face_cert_hash_is_wechats_documented_example():
    # WeChat's documentation of queryVerifyInfo (face verification 2.0), verbatim.
    text = "cert_type=SURFTlRJVFlfQ0FSRA==&cert_name=5byg5LiJ&cert_no=MzEwMTAxMTk5ODAxMDExMjM0"
    expected = "3c241f7ff324977aeb91f173bb2a7b06569e6fd784d5573db34a636d8671108b"
    assert hashlib.sha256(text.encode()).hexdigest() == expected
    assert face_cert_hash("张三", "310101199801011234") == expected


async def test_standin_refuses_a_cert_hash_computed_another_way(holder, standin):
    openid = standin.state.openid("frank")
    name, number = "张三", "310101199801011234"
    face = await holder.gateway.open_face_session(openid, "seq-2", name, number)
    # The rule this project used before: base64 of SHA-256 over the plain values.
    plain = f"cert_type=IDENTITY_CARD&cert_name={name}&cert_no={number}"
    wrong = base64.b64encode(hashlib.sha256(plain.encode()).digest()).decode()
    with pytest.raises(WalletError) as caught:
        await holder.gateway.face_result(openid, face.verify_id, "seq-2", wrong)
    assert caught.value.extra["wechat_errcode"] == 40097
    assert (
        await holder.gateway.face_result(
            openid, face.verify_id, "seq-2", face_cert_hash(name, number)
        )
        == 10000
    )


async def test_face_verification_session(holder, standin):
    openid = standin.state.openid("erin")
    name, number = "赵敏", "110101199001011237"
    face = await holder.gateway.open_face_session(openid, "seq-1", name, number)
    assert face.verify_id.startswith("vid_") and face.expires_in == 3600
    good = face_cert_hash(name, number)
    assert await holder.gateway.face_result(openid, face.verify_id, "seq-1", good) == 10000
    other = face_cert_hash("赵明", number)
    with pytest.raises(WalletError) as caught:
        await holder.gateway.face_result(openid, face.verify_id, "seq-1", other)
    assert caught.value.extra["wechat_errcode"] == 40097
    standin.state.set_face_outcome(number, 10004)
    assert await holder.gateway.face_result(openid, face.verify_id, "seq-1", good) == 10004


async def test_bad_credentials_are_a_configuration_error(rt, standin):
    gateway = WeChatGateway(
        app_id=rt.settings.wechat_app_id, app_secret="wrong", api_base=standin.url, cache=rt.cache
    )
    try:
        with pytest.raises(WeChatMisconfigured) as caught:
            await gateway.phone_number("phone-13800000003")
        assert caught.value.status == 500 and "wrong" not in caught.value.detail
    finally:
        gateway.close()


async def test_unreachable_wechat_is_503(rt):
    gateway = WeChatGateway(
        app_id="wx1", app_secret="s", api_base="http://127.0.0.1:9", cache=rt.cache, timeout=1.0
    )
    try:
        with pytest.raises(WeChatUnavailable):
            await gateway.code_to_session("anything")
    finally:
        gateway.close()


async def test_session_key_and_codes_never_logged(client, holder, caplog):
    # Our loggers at DEBUG, the rest at the production INFO (urllib3's DEBUG lines print
    # whole URLs, and WeChat puts the code and app secret in the query string).
    caplog.set_level(logging.INFO)
    caplog.set_level(logging.DEBUG, logger="wallet")
    caplog.set_level(logging.DEBUG, logger="httpkit")
    login = await holder.gateway.code_to_session("frank.1")
    await client.post("/api/v1/session", json={"code": "frank.2"})
    await client.post("/api/v1/session", json={"code": "bad-frank"})
    text = caplog.text
    assert login.session_key not in text and login.openid not in text
    assert "frank.2" not in text and "bad-frank" not in text
