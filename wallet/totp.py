"""Offline codes: RFC 6238 TOTP with HMAC-SM3, 30-second step, 8 digits.

How any client computes the code (the mini-program does exactly this):

1. ``K`` = base32-decode of the seed received at activation (upper case, no padding).
2. ``T`` = floor(unix_time / 30), as an 8-byte big-endian integer.
3. ``H`` = HMAC-SM3(K, T) (32 bytes).
4. ``o`` = H[31] & 0x0F; ``bin`` = (H[o] & 0x7F) << 24 | H[o+1] << 16 | H[o+2] << 8 | H[o+3].
5. code = ``bin`` mod 10^8, left-padded with zeros to 8 digits.

This is RFC 4226's dynamic truncation applied to an SM3 HMAC (the offset
comes from the last byte of the 32-byte MAC).
"""

from __future__ import annotations

import hashlib
import re
from typing import Final

import pyotp

__all__ = ["DIGITS", "PERIOD", "new_seed", "offline_code", "verify_offline_code"]

DIGITS: Final = 8
PERIOD: Final = 30
_CODE: Final = re.compile(r"[0-9]{8}")


def _sm3() -> object:
    return hashlib.new("sm3")


def _totp(seed: str) -> pyotp.TOTP:
    return pyotp.TOTP(seed, digits=DIGITS, interval=PERIOD, digest=_sm3)


def new_seed() -> str:
    """A fresh seed: 160 random bits, base32 (pyotp draws from ``secrets``)."""
    return str(pyotp.random_base32(32))


def offline_code(seed: str, at: int) -> str:
    """The code for Unix time ``at``."""
    return str(_totp(seed).at(at))


def verify_offline_code(seed: str, code: str, at: int, window: int = 1) -> bool:
    """True when ``code`` is the code of ``at`` or of ``window`` steps either side.

    Only the ASCII spelling is a code: pyotp compares after NFKC
    normalisation, which would take ``９``, ``𝟗`` and ``9`` for the same digit.
    """
    if not _CODE.fullmatch(code):
        return False
    return bool(_totp(seed).verify(code, for_time=at, valid_window=window))
