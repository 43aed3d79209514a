"""The WeChat server API: the async gateway over wechatpy, its errors, and a local stand-in.

The stand-in (:mod:`wallet.wechat.standin`) is imported only where it runs:
development and tests. No tables: an integration over HTTP, without a repository.
"""

from wallet.wechat.client import FACE_VERIFIED, FaceSession, WeChatGateway, WeChatLogin
from wallet.wechat.errors import (
    WeChatCodeInvalid,
    WeChatFailed,
    WeChatMisconfigured,
    WeChatPhoneCodeInvalid,
    WeChatRateLimited,
    WeChatUnavailable,
    WeChatUserBlocked,
)

__all__ = [
    "FACE_VERIFIED",
    "FaceSession",
    "WeChatCodeInvalid",
    "WeChatFailed",
    "WeChatGateway",
    "WeChatLogin",
    "WeChatMisconfigured",
    "WeChatPhoneCodeInvalid",
    "WeChatRateLimited",
    "WeChatUnavailable",
    "WeChatUserBlocked",
]
