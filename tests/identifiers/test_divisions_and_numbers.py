from __future__ import annotations

import random
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wallet.errors import InvalidIdentifier
from wallet.identifiers import (
    PLATE_PROVINCES,
    PROVINCES,
    catalogue_type_code,
    division_code,
    licence_number,
    make_licence_number,
    province_division,
    province_of,
)

PROVINCE_PREFIXES = (
    [str(n) for n in range(11, 16)]
    + [str(n) for n in range(21, 24)]
    + [str(n) for n in range(31, 38)]
    + [str(n) for n in range(41, 47)]
    + [str(n) for n in range(50, 55)]
    + [str(n) for n in range(61, 66)]
    + ["71", "81", "82"]
)


def test_province_table_matches_gb_t_2260() -> None:
    assert sorted(PROVINCES) == sorted(PROVINCE_PREFIXES)
    assert PROVINCES["11"] == ("北京市", "京")
    assert PROVINCES["21"] == ("辽宁省", "辽")
    assert PROVINCES["52"][1] == "贵"
    assert PROVINCES["53"][1] == "云"
    assert {PROVINCES[p][1] for p in ("71", "81", "82")} == {""}
    assert len(PLATE_PROVINCES) == 31
    assert set("京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼") == PLATE_PROVINCES


@pytest.mark.parametrize("code", ["110000", "210100", "210102", "429004", "469001", "820000"])
def test_valid_divisions(code: str) -> None:
    assert division_code(code) == code
    assert province_of(f" {code} ") == code[:2]
    assert province_division(code) == code[:2] + "0000"
    assert province_division(province_division(code)) == province_division(code)


def test_province_division_is_the_one_spelling() -> None:
    root = Path(__file__).resolve().parents[2]
    for path in sorted((root / "wallet").rglob("*.py")):
        if path.name == "identifiers.py":  # the one place that spells it
            continue
        source = path.read_text(encoding="utf-8")
        assert '[:2] + "0000"' not in source, path
        assert "def seal_division_of" not in source, path


@pytest.mark.parametrize(
    ("value", "rule"),
    [
        ("21010", "length"),
        ("2101020", "length"),
        ("21O102", "charset"),
        ("２１０１０２", "charset"),  # full-width digits are not ASCII digits
        ("100000", "province"),
        ("160000", "province"),
        ("720000", "province"),
        ("210001", "division"),
    ],
)
def test_division_rejections(value: str, rule: str) -> None:
    with pytest.raises(InvalidIdentifier) as caught:
        division_code(value)
    assert (caught.value.kind, caught.value.rule) == ("division", rule)


@given(st.from_regex(r"[0-9]{6}", fullmatch=True))
def test_any_six_digits_validate_exactly_by_the_rule(code: str) -> None:
    expected = code[:2] in PROVINCE_PREFIXES and not (code[2:4] == "00" and code[4:] != "00")
    if expected:
        assert division_code(code) == code
    else:
        with pytest.raises(InvalidIdentifier):
            division_code(code)


def test_licence_number() -> None:
    assert licence_number(" 210102000123 ") == "210102000123"


@pytest.mark.parametrize(
    ("value", "rule"),
    [
        ("21010200012", "length"),
        ("2101020001234", "length"),
        ("21010200012A", "charset"),
        ("990102000123", "province"),
        ("210002000123", "division"),
    ],
)
def test_licence_number_rejections(value: str, rule: str) -> None:
    with pytest.raises(InvalidIdentifier) as caught:
        licence_number(value)
    assert (caught.value.kind, caught.value.rule) == ("licence_number", rule)


@given(st.randoms(use_true_random=False), st.sampled_from(["210102", "110000", "650102"]))
def test_generated_licence_numbers_validate(rng: random.Random, division: str) -> None:
    number = make_licence_number(rng, division)
    assert licence_number(number) == number
    assert number.startswith(division)


@pytest.mark.parametrize(
    "code",
    ["11100000000019713D071", "11100000000019713D013", "11100000000013338W011"],
)
def test_catalogue_type_codes(code: str) -> None:
    assert catalogue_type_code(code.lower()) == code


@pytest.mark.parametrize(
    ("value", "rule"),
    [
        ("11100000000019713D07", "length"),
        ("11100000000019713E071", "defining_body"),
        ("11100000000019713D0A1", "sequence"),
    ],
)
def test_catalogue_type_code_rejections(value: str, rule: str) -> None:
    with pytest.raises(InvalidIdentifier) as caught:
        catalogue_type_code(value)
    assert caught.value.rule == rule
