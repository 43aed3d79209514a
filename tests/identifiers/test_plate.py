from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wallet.errors import InvalidIdentifier
from wallet.identifiers import PLATE_PROVINCES, make_plate, plate_number


@pytest.mark.parametrize(
    "plate",
    [
        "京A12345",  # ordinary
        "辽AB12C3",  # ordinary with letters
        "辽A1234挂",  # trailer
        "辽A1234学",  # coach car
        "辽A1234警",  # police
        "沪A1234领",  # consulate
        "粤Z1234港",  # Hong Kong cross-border
        "粤Z1234澳",  # Macao cross-border
        "辽AD12345",  # small new-energy, electric
        "辽AFA1234",  # small new-energy, other; second a letter
        "粤BA12345",  # small new-energy, 2022 letters
        "粤B12345D",  # large new-energy
        "粤B12345F",
    ],
)
def test_valid_plates(plate: str) -> None:
    assert plate_number(plate) == plate


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [
        ("辽A·12345", "辽A12345"),
        ("辽A 12345", "辽A12345"),
        (" 辽a・12345 ", "辽A12345"),
        ("辽A.D12345", "辽AD12345"),
        ("辽A\u300012345", "辽A12345"),
    ],
)
def test_normalisation(raw: str, normalised: str) -> None:
    assert plate_number(raw) == normalised


@pytest.mark.parametrize(
    ("value", "rule"),
    [
        ("辽A1234", "length"),
        ("辽A1234567", "length"),
        ("", "length"),
        ("AA12345", "province"),
        ("台A12345", "province"),
        ("港A12345", "province"),
        ("使A12345", "province"),  # embassy plates are not civilian-provincial
        ("辽I12345", "authority"),
        ("辽O12345", "authority"),
        ("辽112345", "authority"),
        ("辽AI2345", "format"),  # I is never used in a serial
        ("辽A1234O", "format"),
        ("辽A1234港", "format"),  # 港/澳 only under 粤Z
        ("辽A123挂4", "format"),
        ("辽AX12345", "format"),  # X does not start a new-energy serial
        ("辽AD1234A", "format"),
        ("辽A1234AD", "format"),  # large new-energy: five digits then D/F
        ("辽A12345A", "format"),
        ("辽A1234使", "format"),
    ],
)
def test_rejections_name_their_rule(value: str, rule: str) -> None:
    with pytest.raises(InvalidIdentifier) as caught:
        plate_number(value)
    assert (caught.value.kind, caught.value.rule) == ("plate", rule)


def test_generator_rejects_unknown_province() -> None:
    with pytest.raises(InvalidIdentifier) as caught:
        make_plate(random.Random(1), province_abbr="港")
    assert caught.value.rule == "province"


@given(
    st.randoms(use_true_random=False),
    st.sampled_from(sorted(PLATE_PROVINCES)),
    st.booleans(),
)
def test_generated_plates_validate(rng: random.Random, province: str, new_energy: bool) -> None:
    plate = make_plate(rng, province_abbr=province, new_energy=new_energy)
    assert plate_number(plate) == plate
    assert len(plate) == (8 if new_energy else 7)
    assert plate[0] == province


@given(st.randoms(use_true_random=False), st.sampled_from(["·", " ", "・", ""]))
def test_normalisation_is_idempotent(rng: random.Random, separator: str) -> None:
    plate = make_plate(rng, new_energy=rng.random() < 0.5)
    messy = f" {plate[:2]}{separator}{plate[2:].lower()} "
    assert plate_number(plate_number(messy)) == plate_number(messy) == plate
