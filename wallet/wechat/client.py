"""The WeChat server API as this project uses it, over wechatpy.

wechatpy's client is synchronous, so every call runs in a worker thread
(:func:`asyncio.to_thread`), never on the event loop. The base URL is a
constructor argument (``WALLET_WECHAT_API_BASE``): the local stand-in in
development and tests, ``https://api.weixin.qq.com`` in production.

The access token is shared by every process through the cache: one key
holds it, and a lock key (``SET NX PX``) lets one refresher fetch a new
one while the others wait for it. wechatpy's own token storage and
auto-retry are bypassed: a call answered with an expired-token code drops
the cached token (if it is still the one used) and retries once.

Calls used: ``sns/jscode2session`` (sign-in), ``cgi-bin/token``,
``wxa/business/getuserphonenumber``, ``cgi-bin/message/subscribe/send`` and
face verification (人脸核身, face verification):
``cityservice/face/identify/getverifyid`` and ``.../queryverifyinfo``.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import logging
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Final, TypeVar

import requests
from redis.asyncio import Redis
from wechatpy import WeChatClient
from wechatpy.exceptions import WeChatClientException

from wallet.wechat.errors import (
    ACCESS_TOKEN_ERRORS,
    WeChatFailed,
    WeChatUnavailable,
    wechat_error,
)

__all__ = [
    "FACE_VERIFIED",
    "FaceSession",
    "WeChatGateway",
    "WeChatLogin",
    "face_cert_hash",
]

log = logging.getLogger(__name__)

T = TypeVar("T")

FACE_VERIFIED: Final = 10000
"""``verify_ret`` of a successful face verification."""

_TOKEN_MARGIN: Final = 300  # refresh five minutes before WeChat expires the token
_LOCK_MS: Final = 15_000
_WAIT_STEP: Final = 0.05


@dataclass(frozen=True)
class WeChatLogin:
    """What code2session returns. The session key never leaves the server."""

    openid: str = field(repr=False)
    unionid: str | None = field(repr=False)
    session_key: str = field(repr=False)


@dataclass(frozen=True)
class FaceSession:
    """A face-verification session opened by getverifyid."""

    verify_id: str
    expires_in: int


def face_cert_hash(name: str, id_number: str, cert_type: str = "IDENTITY_CARD") -> str:
    """The ``cert_hash`` of queryVerifyInfo (face verification 2.0), as WeChat defines it.

    Each of ``cert_type``, ``cert_name`` and ``cert_no`` is encoded in
    standard base64 (of its UTF-8 bytes), the three are joined as
    ``cert_type=…&cert_name=…&cert_no=…``, and the hash is the SHA-256 of
    that string in lower-case hex. WeChat's worked example (张三,
    310101199801011234) is pinned as a test vector.
    """

    def b64(value: str) -> str:
        return base64.b64encode(value.encode()).decode()

    text = f"cert_type={b64(cert_type)}&cert_name={b64(name)}&cert_no={b64(id_number)}"
    return hashlib.sha256(text.encode()).hexdigest()


class _Client(WeChatClient):  # type: ignore[misc]
    """wechatpy's client pointed at ``base``, with the token we give it and no refreshing."""

    def __init__(
        self,
        app_id: str,
        secret: str,
        *,
        base: str,
        token: str | None,
        timeout: float,
        http: requests.Session,
    ) -> None:
        super().__init__(app_id, secret, timeout=timeout, auto_retry=False)
        own: requests.Session = self._http
        own.close()
        self._http: requests.Session = http
        self._base = base
        self._token = token
        self.API_BASE_URL = base + "cgi-bin/"
        self.wxa.API_BASE_URL = base

    @property
    def access_token(self) -> str | None:
        # None leaves the parameter out (requests drops None), e.g. on jscode2session.
        return self._token

    def fetch_access_token(self) -> dict[str, Any]:
        # Through _request (not wechatpy's _fetch_access_token) so the timeout applies.
        result: dict[str, Any] = self.get(
            self._base + "cgi-bin/token",
            params={"grant_type": "client_credential", "appid": self.appid, "secret": self.secret},
        )
        return result


class WeChatGateway:
    """Async access to the WeChat server API; one per process, sharing its HTTP pool."""

    def __init__(
        self, *, app_id: str, app_secret: str, api_base: str, cache: Redis, timeout: float = 5.0
    ) -> None:
        self.app_id = app_id
        self._secret = app_secret
        self.api_base = api_base.rstrip("/") + "/"
        self._cache = cache
        self._timeout = timeout
        self._http = requests.Session()
        self._token_key = f"rtel:wechat:access_token:{app_id}"

    def close(self) -> None:
        """Close the HTTP connection pool."""
        self._http.close()

    # -- calls ----------------------------------------------------------------

    async def code_to_session(self, code: str) -> WeChatLogin:
        """Exchange a ``wx.login()`` code for the openid and session key (code2session)."""
        result = await self._call("login", lambda c: c.wxa.code_to_session(code), token=False)
        openid = result.get("openid")
        if not isinstance(openid, str) or not openid:
            raise WeChatFailed("WeChat answered code2session without an openid")
        return WeChatLogin(
            openid=openid,
            unionid=result.get("unionid"),
            session_key=str(result.get("session_key", "")),
        )

    async def phone_number(self, code: str) -> str:
        """The phone number (without country code) behind a ``getPhoneNumber`` code."""
        result = await self._call(
            "phone",
            lambda c: c.post(
                "wxa/business/getuserphonenumber", data={"code": code}, api_base_url=self.api_base
            ),
        )
        info = result.get("phone_info") or {}
        number = info.get("purePhoneNumber") or info.get("phoneNumber")
        if not isinstance(number, str) or not number:
            raise WeChatFailed("WeChat answered without a phone number")
        return number

    async def send_subscribe_message(
        self, openid: str, template_id: str, data: Mapping[str, Any], page: str | None = None
    ) -> None:
        """Send one subscribe message (订阅消息, subscribe message) to ``openid``."""
        payload = {key: {"value": value} for key, value in data.items()}
        await self._call(
            "subscribe", lambda c: c.wxa.send_subscribe_message(openid, template_id, payload, page)
        )

    async def open_face_session(
        self, openid: str, out_seq_no: str, name: str, id_number: str
    ) -> FaceSession:
        """getverifyid: a session the mini-program passes to ``wx.requestFacialVerify``."""
        body = {
            "out_seq_no": out_seq_no,
            "openid": openid,
            "cert_info": {"cert_type": "IDENTITY_CARD", "cert_name": name, "cert_no": id_number},
        }
        result = await self._call(
            "face",
            lambda c: c.post(
                "cityservice/face/identify/getverifyid", data=body, api_base_url=self.api_base
            ),
        )
        verify_id = result.get("verify_id")
        if not isinstance(verify_id, str) or not verify_id:
            raise WeChatFailed("WeChat answered getverifyid without a verify_id")
        return FaceSession(verify_id, int(result.get("expires_in", 3600)))

    async def face_result(
        self, openid: str, verify_id: str, out_seq_no: str, cert_hash: str
    ) -> int:
        """queryverifyinfo: the ``verify_ret`` of a face session (``FACE_VERIFIED`` = success)."""
        body = {
            "verify_id": verify_id,
            "out_seq_no": out_seq_no,
            "cert_hash": cert_hash,
            "openid": openid,
        }
        result = await self._call(
            "face",
            lambda c: c.post(
                "cityservice/face/identify/queryverifyinfo", data=body, api_base_url=self.api_base
            ),
        )
        return int(result.get("verify_ret", -1))

    # -- access token -----------------------------------------------------------

    async def access_token(self) -> str:
        """The cached access token, refreshed by one caller at a time when missing."""
        cached = await self._cache.get(self._token_key)
        if cached is not None:
            return _text(cached)
        lock_key = self._token_key + ":lock"
        owner = secrets.token_hex(8).encode()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._timeout * 2
        while True:
            if await self._cache.set(lock_key, owner, nx=True, px=_LOCK_MS):
                try:
                    cached = await self._cache.get(self._token_key)
                    if cached is not None:
                        return _text(cached)
                    return await self._refresh()
                finally:
                    # Not atomic (no Lua on the in-process store): at worst a second
                    # refresher starts early, which WeChat tolerates.
                    if await self._cache.get(lock_key) == owner:
                        await self._cache.delete(lock_key)
            await asyncio.sleep(_WAIT_STEP)
            cached = await self._cache.get(self._token_key)
            if cached is not None:
                return _text(cached)
            if loop.time() > deadline:
                raise WeChatUnavailable("the WeChat access token is being refreshed; retry")

    async def _refresh(self) -> str:
        result = await self._in_thread("token", lambda: self._client(None).fetch_access_token())
        token = result.get("access_token")
        if not isinstance(token, str) or not token:
            raise WeChatFailed("WeChat answered without an access token")
        ttl = max(int(result.get("expires_in", 7200)) - _TOKEN_MARGIN, 60)
        await self._cache.set(self._token_key, token.encode(), ex=ttl)
        log.info("refreshed the WeChat access token (valid %d s)", ttl)
        return token

    async def _forget_token(self, token: str) -> None:
        if await self._cache.get(self._token_key) == token.encode():
            await self._cache.delete(self._token_key)

    # -- plumbing ---------------------------------------------------------------

    def _client(self, token: str | None) -> _Client:
        return _Client(
            self.app_id,
            self._secret,
            base=self.api_base,
            token=token,
            timeout=self._timeout,
            http=self._http,
        )

    async def _call(
        self, operation: str, call: Callable[[_Client], Any], *, token: bool = True
    ) -> dict[str, Any]:
        for attempt in (1, 2):
            access = await self.access_token() if token else None
            client = self._client(access)
            try:
                result = await self._in_thread(operation, partial(call, client))
            except _TokenRejected:
                if access is None or attempt == 2:
                    raise wechat_error(42001, operation) from None
                await self._forget_token(access)
                continue
            return result if isinstance(result, dict) else {}
        raise AssertionError("unreachable")

    @staticmethod
    async def _in_thread(operation: str, call: Callable[[], T]) -> T:
        def run() -> T:
            try:
                return call()
            except WeChatClientException as exc:
                code = int(exc.errcode) if exc.errcode is not None else None
                if code in ACCESS_TOKEN_ERRORS:
                    raise _TokenRejected() from None
                log.warning("WeChat %s call failed: errcode %s", operation, code)
                raise wechat_error(code, operation) from None
            except requests.RequestException as exc:
                log.warning("WeChat %s call failed: %s", operation, type(exc).__name__)
                raise wechat_error(None, operation) from None

        return await asyncio.to_thread(run)


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


class _TokenRejected(Exception):
    """WeChat said the access token is invalid or expired."""
