from __future__ import annotations

import random

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from wallet.errors import InvalidIdentifier
from wallet.identifiers import (
    division_code,
    make_uscc,
    organisation_code_check,
    uscc,
    uscc_check_char,
)

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"

# Real codes: the Ministry of Transport (defining body of the catalogue), the
# two codes of the DOMAIN.md identifier example, and a widely quoted Fujian one.
REAL = ["11100000000019713D", "11100000000013338W", "11430000006122244L", "91350100M000100Y43"]


def with_checks(head8: str, body8: str) -> str:
    """A code from its first 8 and organisation-code body, both checks computed."""
    first17 = head8 + body8 + organisation_code_check(body8)
    return first17 + uscc_check_char(first17)


@pytest.mark.parametrize("code", REAL)
def test_real_codes_validate(code: str) -> None:
    assert uscc(code) == code


def test_normalises_case_and_whitespace() -> None:
    assert uscc(" 91350100m000100y43\t") == "91350100M000100Y43"


def test_check_character_arithmetic() -> None:
    weights = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]
    first17 = "91350100M000100Y4"
    total = sum(ALPHABET.index(c) * w for c, w in zip(first17, weights, strict=True))
    assert uscc_check_char(first17) == ALPHABET[(31 - total % 31) % 31] == "3"


def test_organisation_code_check_maps_10_to_x_and_11_to_0() -> None:
    # Σ(value·weight), weights 3 7 9 10 5 8 4 2; check = 11 − Σ mod 11.
    assert organisation_code_check("00000001") == "9"  # Σ 2
    assert organisation_code_check("00000005") == "1"  # Σ 10
    assert organisation_code_check("00000006") == "X"  # Σ 12 ≡ 1 → 10 → X
    assert organisation_code_check("00000000") == "0"  # Σ 0 → 11 → 0
    assert organisation_code_check("0000000B") == "0"  # B = 11: Σ 22 ≡ 0 → 0


def test_organisation_code_letters_count_from_ten() -> None:
    assert organisation_code_check("M000100Y") == "4"  # from the real code 91350100M000100Y43


@pytest.mark.parametrize(
    ("value", "rule"),
    [
        ("", "length"),
        ("91350100M000100Y4", "length"),
        ("91350100M000100Y433", "length"),
        ("91350100M000100YI3", "charset"),
        ("91350100M0001O0Y43", "charset"),
        ("91350100M000S00Y43", "charset"),
        (with_checks("B1350100", "M000100Y"), "registration_authority"),
        (with_checks("94350100", "M000100Y"), "category"),
        (with_checks("Y2350100", "M000100Y"), "category"),
        (with_checks("913501A0", "M000100Y"), "division"),
        (with_checks("91350001", "M000100Y"), "division"),
        (with_checks("91990100", "M000100Y"), "province"),
        ("91350100M000100Y53", "organisation_code"),
        ("91350100M000100Y44", "check_digit"),
    ],
)
def test_rejections_name_their_rule(value: str, rule: str) -> None:
    with pytest.raises(InvalidIdentifier) as caught:
        uscc(value)
    assert caught.value.rule == rule
    assert caught.value.kind == "uscc"


def test_organisation_code_failure_is_not_hidden_by_the_outer_check() -> None:
    # Break the organisation-code check but keep the MOD 31 check consistent.
    first17 = "91350100M000100Y5"
    with pytest.raises(InvalidIdentifier) as caught:
        uscc(first17 + uscc_check_char(first17))
    assert caught.value.rule == "organisation_code"


def test_national_division_is_accepted_only_in_a_uscc() -> None:
    assert uscc(with_checks("11100000", "00001971")) == "11100000000019713D"
    with pytest.raises(InvalidIdentifier) as caught:
        division_code("100000")
    assert caught.value.rule == "province"


@pytest.mark.parametrize(
    ("func", "arg"), [(uscc_check_char, "9135"), (organisation_code_check, "1")]
)
def test_check_helpers_check_their_length(func: object, arg: str) -> None:
    with pytest.raises(InvalidIdentifier) as caught:
        func(arg)  # type: ignore[operator]
    assert caught.value.rule == "length"


def test_helper_charsets() -> None:
    with pytest.raises(InvalidIdentifier) as caught:
        uscc_check_char("91350100M000100I4")
    assert caught.value.rule == "charset"
    with pytest.raises(InvalidIdentifier) as caught:
        organisation_code_check("m000100y")
    assert caught.value.rule == "charset"


def test_generator_is_deterministic_and_uses_the_division() -> None:
    assert make_uscc(random.Random(3)) == make_uscc(random.Random(3))
    assert make_uscc(random.Random(3), division="440305")[2:8] == "440305"


# --- properties ----------------------------------------------------------------

DIVISIONS = st.sampled_from(["210102", "110000", "440305", "100000", "650100", "820000"])


@given(st.randoms(use_true_random=False), DIVISIONS)
def test_generated_codes_validate(rng: random.Random, division: str) -> None:
    code = make_uscc(rng, division=division)
    assert uscc(code) == code
    assert uscc(uscc(code.lower())) == code


# MOD 31 catches every single substitution: the weights are 3^k mod 31, never
# 0 mod the prime 31, and two characters differ by 1–30 in value, so the
# weighted sum changes mod 31 (and the check character itself is 1:1).
@given(st.randoms(use_true_random=False), st.integers(0, 17), st.data())
def test_any_single_substitution_is_caught(
    rng: random.Random, position: int, data: st.DataObject
) -> None:
    code = make_uscc(rng)
    other = data.draw(st.sampled_from([c for c in ALPHABET if c != code[position]]))
    with pytest.raises(InvalidIdentifier):
        uscc(code[:position] + other + code[position + 1 :])


# Adjacent transpositions in the first 17 are caught: weights w and 3w differ
# by 2w ≠ 0 mod 31.
@given(st.randoms(use_true_random=False), st.integers(0, 15))
def test_adjacent_transpositions_are_caught(rng: random.Random, position: int) -> None:
    code = make_uscc(rng)
    a, b = code[position], code[position + 1]
    assume(a != b)
    with pytest.raises(InvalidIdentifier):
        uscc(code[:position] + b + a + code[position + 2 :])
