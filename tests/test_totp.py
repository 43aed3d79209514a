"""Offline codes (wallet.totp) against vectors computed outside this code.

The vectors are RFC 6238 with HMAC-SM3, 30 s, 8 digits, for the base32 seed
``JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP``, computed with WeChat's SM library for
mini-programs (miniprogram-sm-crypto) and with pyotp over ``hashlib`` SM3,
which agree.
"""

from __future__ import annotations

import base64

import pytest

from wallet.totp import DIGITS, PERIOD, new_seed, offline_code, verify_offline_code

SEED = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
VECTORS = [
    (59, "29734257"),
    (1111111109, "36627586"),
    (1234567890, "17822677"),
    (2000000000, "27944256"),
    (20000000000, "06221286"),
]


def test_the_parameters():
    assert (DIGITS, PERIOD) == (8, 30)


@pytest.mark.parametrize(("at", "code"), VECTORS)
def test_known_answers(at, code):
    assert offline_code(SEED, at) == code
    assert verify_offline_code(SEED, code, at) is True


def test_a_code_holds_for_its_whole_step_and_one_step_either_side():
    at, code = 1234567890, "17822677"  # step 41152263 runs from 1234567890 to 1234567919
    start = at - at % PERIOD
    for when in (start - PERIOD, start, start + PERIOD - 1, start + 2 * PERIOD - 1):
        assert verify_offline_code(SEED, code, when) is True, when


@pytest.mark.parametrize("steps", [2, -2, 3])
def test_a_stale_or_early_code_two_steps_away_is_refused(steps):
    at, code = 1234567890, "17822677"
    assert verify_offline_code(SEED, code, at + steps * PERIOD) is False


@pytest.mark.parametrize("steps", [1, -1])
def test_a_code_one_step_away_is_refused_with_no_window(steps):
    at, code = 1234567890, "17822677"
    assert verify_offline_code(SEED, code, at + steps * PERIOD) is True
    assert verify_offline_code(SEED, code, at + steps * PERIOD, window=0) is False
    assert verify_offline_code(SEED, code, at, window=0) is True


@pytest.mark.parametrize(
    "code", ["1782267", "178226777", "１７８２２６７７", "1782267\n", "abcdefgh"]
)
def test_anything_but_eight_ascii_digits_is_refused(code):
    assert verify_offline_code(SEED, code, 1234567890) is False


def test_a_wrong_code_is_refused():
    assert verify_offline_code(SEED, "17822678", 1234567890) is False


def test_a_new_seed_is_160_bits_of_base32():
    seeds = {new_seed() for _ in range(8)}
    assert len(seeds) == 8
    for seed in seeds:
        assert len(seed) == 32
        assert len(base64.b32decode(seed)) == 20
