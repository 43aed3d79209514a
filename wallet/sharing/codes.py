"""Share codes as strings: making, normalising and hashing them (pure functions).

A QR code is ``S`` followed by 22 base64url characters (128 random bits). A
short code, for reading aloud, is 8 characters of the Crockford base32
alphabet shown as ``XXXX-XXXX``: the first :data:`LOCATOR_LENGTH` characters
locate the code among the live ones (so that wrong guesses at a live code
count against it), the other five are its secret. Only a keyed hash of a
code is stored.
"""

from __future__ import annotations

import re
import secrets
from typing import Final, Literal

from wallet.crypto import hmac_sm3

__all__ = [
    "LOCATOR_LENGTH",
    "CodeForm",
    "code_hash",
    "display_short",
    "new_qr_code",
    "new_short_code",
    "parse_code",
]

CodeForm = Literal["qr", "short"]
ALPHABET: Final = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
LOCATOR_LENGTH: Final = 3
_QR: Final = re.compile(r"S[A-Za-z0-9_-]{22}")
_SHORT: Final = re.compile(r"[0-9A-HJKMNP-TV-Z]{8}")
# Crockford's reading rules: letters a listener may hear for digits.
_READ_AS: Final = str.maketrans({"O": "0", "I": "1", "L": "1"})
_BLANKS: Final = " \t\r\n-"


def new_qr_code() -> str:
    """A fresh QR share code (128 random bits)."""
    return "S" + secrets.token_urlsafe(16)


def new_short_code() -> str:
    """A fresh short code, 8 characters (40 random bits), without the dash."""
    return "".join(secrets.choice(ALPHABET) for _ in range(8))


def display_short(code: str) -> str:
    """``ABCD1234`` → ``ABCD-1234``."""
    return f"{code[:4]}-{code[4:]}"


def parse_code(text: str) -> tuple[CodeForm, str] | None:
    """The form and canonical text of a code as typed or scanned; None if it is neither.

    ASCII only; a short code is upper-cased, read by Crockford's rules and
    loses its dash and blanks.
    """
    if not text.isascii() or len(text) > 64:
        return None
    stripped = text.strip(" \t\r\n")
    if _QR.fullmatch(stripped):
        return "qr", stripped
    short = "".join(ch for ch in text if ch not in _BLANKS).upper().translate(_READ_AS)
    if _SHORT.fullmatch(short):
        return "short", short
    return None


def code_hash(key: bytes, form: CodeForm, code: str) -> str:
    """The stored form of a code: hex HMAC-SM3 under the sharing key."""
    return hmac_sm3(key, f"share-code:{form}:{code}".encode()).hex()
