from __future__ import annotations

import random
from datetime import date

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from wallet.errors import InvalidIdentifier
from wallet.identifiers import (
    make_resident_id,
    resident_id,
    resident_id_birth_date,
    resident_id_check_digit,
    resident_id_sex,
)

# The example printed in GB 11643-1999 itself.
STANDARD_EXAMPLE = "11010519491231002X"


def with_check(first17: str) -> str:
    return first17 + resident_id_check_digit(first17)


def test_standard_example_is_valid() -> None:
    assert resident_id(STANDARD_EXAMPLE) == STANDARD_EXAMPLE
    assert resident_id_birth_date(STANDARD_EXAMPLE) == date(1949, 12, 31)
    assert resident_id_sex(STANDARD_EXAMPLE) == "F"


def test_check_digit_values() -> None:
    assert resident_id_check_digit("11010519491231002") == "X"
    # An independent recomputation of the rule.
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    total = sum(int(c) * w for c, w in zip("21010219900307611", weights, strict=True))
    assert resident_id_check_digit("21010219900307611") == "10X98765432"[total % 11]


def test_normalises_case_and_whitespace() -> None:
    assert resident_id("  11010519491231002x\n") == STANDARD_EXAMPLE


def test_sex_from_sequence_digit() -> None:
    assert resident_id_sex(with_check("21010219900307611")) == "M"
    assert resident_id_sex(with_check("21010219900307612")) == "F"


@pytest.mark.parametrize(
    ("value", "rule"),
    [
        ("", "length"),
        ("110105491231002", "length"),  # the old 15-digit form
        ("11010519491231002X1", "length"),
        ("11010519491231002Y", "charset"),
        ("1101051949123100X2", "charset"),
        (with_check("99010519491231002"), "province"),
        (with_check("00010519491231002"), "province"),
        (with_check("11000519491231002"), "division"),
        (with_check("11010519490230002"), "birth_date"),  # 30 February
        (with_check("11010519491331002"), "birth_date"),
        (with_check("44052418800101001"), "birth_date"),  # GB 11643's 1880 example: before 1900
        ("110105194912310021", "check_digit"),
    ],
)
def test_rejections_name_their_rule(value: str, rule: str) -> None:
    with pytest.raises(InvalidIdentifier) as caught:
        resident_id(value)
    assert caught.value.rule == rule
    assert caught.value.kind == "resident_id"


def test_rejection_does_not_echo_the_value() -> None:
    with pytest.raises(InvalidIdentifier) as caught:
        resident_id("110105194912310021")
    assert "110105194912310021" not in str(caught.value.to_problem())


def test_non_string_is_rejected() -> None:
    with pytest.raises(InvalidIdentifier) as caught:
        resident_id(110105194912310021)  # type: ignore[arg-type]
    assert caught.value.rule == "type"


def test_birth_date_against_today() -> None:
    number = with_check("21010220200501001")
    assert resident_id(number, today=date(2020, 5, 1)) == number
    assert resident_id(number) == number  # no today: no clock is read
    with pytest.raises(InvalidIdentifier) as caught:
        resident_id(number, today=date(2020, 4, 30))
    assert caught.value.rule == "birth_date"


def test_check_digit_input_is_checked() -> None:
    with pytest.raises(InvalidIdentifier) as caught:
        resident_id_check_digit("1234")
    assert caught.value.rule == "length"
    with pytest.raises(InvalidIdentifier) as caught:
        resident_id_check_digit("1101051949123100A")
    assert caught.value.rule == "charset"


def test_generator_honours_its_arguments() -> None:
    number = make_resident_id(random.Random(7), area="440305", birth=date(1990, 3, 7), sex="F")
    assert number.startswith("44030519900307")
    assert resident_id_sex(number) == "F"
    assert make_resident_id(random.Random(7)) == make_resident_id(random.Random(7))


# --- properties ----------------------------------------------------------------

AREAS = st.sampled_from(["110105", "210102", "440305", "650102", "460100", "429004", "500101"])
SEXES = st.sampled_from(["M", "F", None])


@given(st.randoms(use_true_random=False), AREAS, SEXES)
def test_generated_numbers_validate(rng: random.Random, area: str, sex: str | None) -> None:
    number = make_resident_id(rng, area=area, sex=sex)  # type: ignore[arg-type]
    assert resident_id(number) == number
    assert number[:6] == area
    if sex is not None:
        assert resident_id_sex(number) == sex


@given(st.randoms(use_true_random=False))
def test_normalisation_is_idempotent(rng: random.Random) -> None:
    number = make_resident_id(rng)
    messy = f"  {number.lower()} "
    assert resident_id(resident_id(messy)) == resident_id(messy) == number


# MOD 11-2 catches every single substitution: the weights 2^k mod 11 are all
# non-zero, 11 is prime and two digits differ by 1–9, so the weighted sum
# changes mod 11; and the check position maps 0–10 to 11 distinct characters.
@given(st.randoms(use_true_random=False), st.integers(0, 17), st.data())
def test_any_single_substitution_is_caught(
    rng: random.Random, position: int, data: st.DataObject
) -> None:
    number = make_resident_id(rng)
    allowed = "0123456789X" if position == 17 else "0123456789"
    other = data.draw(st.sampled_from([c for c in allowed if c != number[position]]))
    with pytest.raises(InvalidIdentifier):
        resident_id(number[:position] + other + number[position + 1 :])


# Adjacent transpositions among the first 17 digits are caught too: swapping
# a and b at weights w and 2w (mod 11) changes the sum by ±(a − b)·w ≠ 0.
@given(st.randoms(use_true_random=False), st.integers(0, 15))
def test_adjacent_transpositions_are_caught(rng: random.Random, position: int) -> None:
    number = make_resident_id(rng)
    a, b = number[position], number[position + 1]
    assume(a != b)
    swapped = number[:position] + b + a + number[position + 2 :]
    with pytest.raises(InvalidIdentifier):
        resident_id(swapped)
