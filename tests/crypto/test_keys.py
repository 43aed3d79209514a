"""Hex forms of SM2 keys as they travel (``04 ‖ x ‖ y`` and the 32-byte scalar)."""

from __future__ import annotations

import pytest

from tests.crypto.helpers import GB_PRIVATE_KEY, GB_PUBLIC_KEY, N
from wallet.crypto import parse_private_key_hex, parse_public_key_hex, public_key_hex
from wallet.errors import MalformedKey


def test_public_key_hex_round_trip_in_either_case() -> None:
    text = public_key_hex(GB_PUBLIC_KEY)
    assert text == text.lower()
    assert text.startswith("04") and len(text) == 130
    assert parse_public_key_hex(text) == GB_PUBLIC_KEY
    assert parse_public_key_hex(text.upper()) == GB_PUBLIC_KEY


BAD_PUBLIC_HEX = {
    "empty": "",
    "no prefix": GB_PUBLIC_KEY[1:].hex(),
    "compressed": "03" + GB_PUBLIC_KEY[1:33].hex(),
    "prefix 05": "05" + GB_PUBLIC_KEY[1:].hex(),
    "not hex": "04" + "zz" * 64,
    "non-ASCII": "04" + "é" * 128,
    "spaces": " " + GB_PUBLIC_KEY.hex()[1:],
    "off the curve": GB_PUBLIC_KEY.hex()[:-1] + "0",
}


@pytest.mark.parametrize("text", BAD_PUBLIC_HEX.values(), ids=BAD_PUBLIC_HEX.keys())
def test_a_bad_public_key_hex_is_refused(text: str) -> None:
    with pytest.raises(MalformedKey):
        parse_public_key_hex(text)


def test_public_key_hex_refuses_a_malformed_key() -> None:
    with pytest.raises(MalformedKey):
        public_key_hex(GB_PUBLIC_KEY[:-1] + b"\x00")


def test_private_key_hex() -> None:
    assert parse_private_key_hex(GB_PRIVATE_KEY.hex()) == GB_PRIVATE_KEY
    assert parse_private_key_hex(GB_PRIVATE_KEY.hex().upper()) == GB_PRIVATE_KEY


BAD_PRIVATE_HEX = {
    "empty": "",
    "short": "01" * 31,
    "long": "01" * 33,
    "not hex": "zz" * 32,
    "zero": "00" * 32,
    "n-1": f"{N - 1:064x}",
    "n": f"{N:064x}",
}


@pytest.mark.parametrize("text", BAD_PRIVATE_HEX.values(), ids=BAD_PRIVATE_HEX.keys())
def test_a_bad_private_key_hex_is_refused_without_echoing_it(text: str) -> None:
    with pytest.raises(MalformedKey) as caught:
        parse_private_key_hex(text)
    if text:
        assert text not in str(caught.value)
