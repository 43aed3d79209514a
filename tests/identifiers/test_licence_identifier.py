from __future__ import annotations

import random
import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wallet.errors import InvalidIdentifier
from wallet.identifiers import (
    LicenceIdentifier,
    licence_identifier_check,
    make_licence_identifier,
    make_uscc,
    parse_licence_identifier,
)

EXAMPLE = "1.2.156.3005.2.11100000000013338W011.11430000006122244L.20230000403.001.U"
ALPHABET = string.digits + string.ascii_uppercase


def test_domain_example_parses() -> None:
    parsed = parse_licence_identifier(EXAMPLE)
    assert parsed == LicenceIdentifier(
        type_code="11100000000013338W011",
        issuer_uscc="11430000006122244L",
        serial="20230000403",
        version=1,
        check="U",
    )
    assert str(parsed) == EXAMPLE


def test_domain_example_check_and_next_version() -> None:
    parts = ("11100000000013338W011", "11430000006122244L", "20230000403")
    assert licence_identifier_check(*parts, "001") == "U"
    # DOMAIN.md: the version increments on change or correction (….002.S).
    assert licence_identifier_check(*parts, "002") == "S"
    assert make_licence_identifier(*parts, version=2).endswith(".20230000403.002.S")
    assert make_licence_identifier(*parts, version=1) == EXAMPLE


def reference_check(payload: str, alphabet: str) -> str:
    p = 36
    for char in payload:
        p = (p + alphabet.index(char)) % 36 or 36
        p = 2 * p % 37
    return alphabet[(37 - p) % 36]


def test_letters_take_values_ten_to_thirty_five() -> None:
    payload = "11100000000013338W01111430000006122244L20230000403001"
    assert reference_check(payload, ALPHABET) == "U"
    # Valuing letters as in the USCC alphabet (no I, O: L = 20, W = 29) gives
    # another character, so the example pins the mapping.
    assert reference_check(payload, string.digits + "ABCDEFGHJKLMNPQRSTUVWXYZ") != "U"


def test_lower_case_and_whitespace_are_normalised() -> None:
    assert str(parse_licence_identifier(f"  {EXAMPLE.lower()}\n")) == EXAMPLE


@pytest.mark.parametrize(
    ("value", "rule"),
    [
        (EXAMPLE.replace("1.2.156.3005.2.", "1.2.156.3005.1."), "prefix"),
        (EXAMPLE[:-2], "structure"),
        (EXAMPLE + ".X", "structure"),
        (EXAMPLE.replace("13338W011", "13338X011"), "type_code"),
        (EXAMPLE.replace("13338W011", "13338W01"), "type_code"),
        (EXAMPLE.replace("6122244L", "6122244M"), "issuer"),
        (EXAMPLE.replace(".20230000403.", ".2023-0000403."), "serial"),
        (EXAMPLE.replace(".20230000403.", ".."), "serial"),
        (EXAMPLE.replace(".001.", ".01."), "version"),
        (EXAMPLE.replace(".001.", ".000."), "version"),
        (EXAMPLE[:-1] + "V", "check_digit"),
        (EXAMPLE[:-1] + "UU", "check_digit"),
        (EXAMPLE.replace("20230000403", "20230000404"), "check_digit"),
    ],
)
def test_rejections_name_their_rule(value: str, rule: str) -> None:
    with pytest.raises(InvalidIdentifier) as caught:
        parse_licence_identifier(value)
    assert (caught.value.kind, caught.value.rule) == ("licence_identifier", rule)


@pytest.mark.parametrize("version", [0, 1000, -1, True, "1"])
def test_make_rejects_bad_versions(version: int) -> None:
    with pytest.raises(InvalidIdentifier) as caught:
        make_licence_identifier("11100000000019713D071", "11430000006122244L", "1", version)
    assert caught.value.rule == "version"


def test_check_rejects_characters_outside_the_alphabet() -> None:
    with pytest.raises(InvalidIdentifier) as caught:
        licence_identifier_check("11100000000019713D071", "11430000006122244L", "A-1", "001")
    assert caught.value.rule == "charset"


# --- properties ----------------------------------------------------------------

TYPE_CODES = st.sampled_from(
    ["11100000000019713D071", "11100000000019713D013", "11100000000013338W011"]
)
SERIALS = st.text(alphabet=ALPHABET, min_size=1, max_size=24)


@given(TYPE_CODES, st.randoms(use_true_random=False), SERIALS, st.integers(1, 999))
def test_make_parse_round_trip(
    type_code: str, rng: random.Random, serial: str, version: int
) -> None:
    issuer = make_uscc(rng, division=rng.choice(["210000", "430000", "100000"]))
    identifier = make_licence_identifier(type_code, issuer, serial, version)
    parsed = parse_licence_identifier(identifier)
    assert (parsed.type_code, parsed.issuer_uscc, parsed.serial, parsed.version) == (
        type_code,
        issuer,
        serial,
        version,
    )
    assert str(parsed) == identifier
    assert parse_licence_identifier(identifier.lower()) == parsed


# MOD 37,36 catches every single substitution: each step is injective in the
# character given the state, later steps are bijections of the state, and the
# final map from P (1–36) to the check character is one-to-one.
@given(st.text(alphabet=ALPHABET, min_size=1, max_size=60), st.data())
def test_any_single_substitution_changes_the_check(payload: str, data: st.DataObject) -> None:
    position = data.draw(st.integers(0, len(payload) - 1))
    other = data.draw(st.sampled_from([c for c in ALPHABET if c != payload[position]]))
    changed = payload[:position] + other + payload[position + 1 :]
    assert licence_identifier_check(payload, "", "", "") != licence_identifier_check(
        changed, "", "", ""
    )
