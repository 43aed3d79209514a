"""WeChat error codes translated into domain errors, at the boundary.

Tree (every class is a :class:`~wallet.errors.WalletError`)::

    WeChatCodeInvalid (401 wechat_code_invalid)          40029, 40163 on sign-in
    WeChatPhoneCodeInvalid (422 wechat_phone_code_invalid) 40029, 40163 on a phone code
    WeChatRateLimited (429 wechat_rate_limited)          45011, 45009
    WeChatUserBlocked (403 wechat_user_blocked)          40226
    WeChatUnavailable (503 wechat_unavailable)           -1, network, token refresh stuck
    WeChatMisconfigured (500 wechat_misconfigured)       40013, 40125, 40164 (our app id or secret)
    WeChatFailed (502 wechat_failed)                     any other code

Messages never carry the code, the openid or the session key.
"""

from __future__ import annotations

from typing import Final

from wallet.errors import (
    ConfigurationError,
    Forbidden,
    RateLimited,
    Unauthorized,
    Unavailable,
    ValidationFailed,
    WalletError,
)

__all__ = [
    "ACCESS_TOKEN_ERRORS",
    "WeChatCodeInvalid",
    "WeChatFailed",
    "WeChatMisconfigured",
    "WeChatPhoneCodeInvalid",
    "WeChatRateLimited",
    "WeChatUnavailable",
    "WeChatUserBlocked",
    "wechat_error",
]

INVALID_CODE: Final = frozenset({40029, 40163})
RATE_LIMITED: Final = frozenset({45009, 45011})
BLOCKED: Final = frozenset({40226})
BUSY: Final = frozenset({-1})
MISCONFIGURED: Final = frozenset({40013, 40125, 40164, 41002, 41004})
ACCESS_TOKEN_ERRORS: Final = frozenset({40001, 40014, 42001})
"""Codes meaning the access token is invalid or expired: refresh it and retry once."""


class WeChatCodeInvalid(Unauthorized):
    type_code = "wechat_code_invalid"
    title = "The WeChat login code is invalid, expired or already used"


class WeChatPhoneCodeInvalid(ValidationFailed):
    type_code = "wechat_phone_code_invalid"
    title = "The WeChat phone-number code is invalid, expired or already used"


class WeChatRateLimited(RateLimited):
    type_code = "wechat_rate_limited"
    title = "WeChat refused the call: too many requests"


class WeChatUserBlocked(Forbidden):
    type_code = "wechat_user_blocked"
    title = "WeChat reports this user as blocked or high-risk"


class WeChatUnavailable(Unavailable):
    type_code = "wechat_unavailable"
    title = "WeChat is unavailable"


class WeChatMisconfigured(ConfigurationError):
    type_code = "wechat_misconfigured"
    title = "The WeChat app id or secret is rejected"


class WeChatFailed(WalletError):
    type_code = "wechat_failed"
    status = 502
    title = "WeChat rejected the request"


def wechat_error(errcode: int | None, operation: str) -> WalletError:
    """The domain error for WeChat's ``errcode`` answering ``operation``.

    ``operation`` names the call (``login``, ``phone``, ``token``, ``subscribe``,
    ``face``); a bad code on ``phone`` is a field problem, on ``login`` a 401.
    ``None`` (an HTTP-level failure) means WeChat is unavailable.
    """
    if errcode is None or errcode in BUSY:
        return WeChatUnavailable(f"WeChat did not answer the {operation} call; retry later")
    if errcode in INVALID_CODE:
        if operation == "phone":
            return WeChatPhoneCodeInvalid(
                errors=[{"field": "phone_code", "rule": "wechat", "message": "invalid or used"}],
                wechat_errcode=errcode,
            )
        return WeChatCodeInvalid("ask wx.login() for a fresh code", wechat_errcode=errcode)
    if errcode in RATE_LIMITED:
        return WeChatRateLimited(
            f"WeChat limits {operation} calls; retry in a minute",
            retry_after=60,
            wechat_errcode=errcode,
        )
    if errcode in BLOCKED:
        return WeChatUserBlocked(wechat_errcode=errcode)
    if errcode in MISCONFIGURED or errcode in ACCESS_TOKEN_ERRORS:
        return WeChatMisconfigured(
            "check WALLET_WECHAT_APP_ID, WALLET_WECHAT_APP_SECRET and WALLET_WECHAT_API_BASE",
            wechat_errcode=errcode,
        )
    return WeChatFailed(f"WeChat refused the {operation} call", wechat_errcode=errcode)
