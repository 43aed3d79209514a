"""Check characters against known answers from outside the code, every weight pinned.

The resident ID numbers have no zero in any weighted position and the USCCs
carry valid organisation codes, so each weight of each table changes the
answer; each number with its last character changed is refused.
"""

from __future__ import annotations

import pytest

from wallet.identifiers import (
    InvalidIdentifier,
    licence_identifier_check,
    organisation_code_check,
    resident_id,
    resident_id_check_digit,
    uscc,
    uscc_check_char,
)

RESIDENT_IDS = ["432831196411153819", "371425199212287563"]
USCCS = ["913211817H2K9M4Q2Y", "93321181MA3N8P6L5E"]
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def _rule(call, *args) -> str:
    with pytest.raises(InvalidIdentifier) as caught:
        call(*args)
    return caught.value.rule


@pytest.mark.parametrize("number", RESIDENT_IDS)
def test_resident_id_known_answers(number):
    assert resident_id(number) == number
    assert resident_id_check_digit(number[:17]) == number[17]


@pytest.mark.parametrize("number", RESIDENT_IDS)
def test_resident_id_with_any_other_last_character_is_refused(number):
    for other in "0123456789X":
        if other != number[17]:
            assert _rule(resident_id, number[:17] + other) == "check_digit", other


@pytest.mark.parametrize("number", RESIDENT_IDS)
def test_each_resident_id_weight_counts(number):
    """Changing any one of the 17 digits changes the check (MOD 11 with weights prime to 11)."""
    for position in range(17):
        digit = int(number[position])
        changed = number[:position] + str((digit + 1) % 10) + number[position + 1 : 17]
        assert resident_id_check_digit(changed) != number[17], position


def test_resident_id_check_x_and_0():
    # 11010519491231002X is GB 11643's own example; Σ ≡ 2 gives X, Σ ≡ 0 gives 1.
    assert resident_id_check_digit("11010519491231002") == "X"
    assert resident_id_check_digit("00000000000000000") == "1"
    assert resident_id_check_digit("00000001000000000") == "0"  # weight 1: Σ 1 gives 0
    assert resident_id_check_digit("10000000000000000") == "5"  # weight 7: Σ 7 gives 5


@pytest.mark.parametrize("code", USCCS)
def test_uscc_known_answers(code):
    assert uscc(code) == code
    assert uscc_check_char(code[:17]) == code[17]
    assert organisation_code_check(code[8:16]) == code[16]


@pytest.mark.parametrize("code", USCCS)
def test_uscc_with_any_other_last_character_is_refused(code):
    for other in USCC_ALPHABET:
        if other != code[17]:
            assert _rule(uscc, code[:17] + other) == "check_digit", other


@pytest.mark.parametrize("code", USCCS)
def test_uscc_with_another_organisation_check_is_refused(code):
    for other in "0123456789X":
        if other != code[16]:
            changed = code[:16] + other
            assert _rule(uscc, changed + uscc_check_char(changed)) == "organisation_code", other


@pytest.mark.parametrize("code", USCCS)
def test_each_uscc_weight_counts(code):
    for position in range(17):
        value = USCC_ALPHABET.index(code[position])
        changed = code[:position] + USCC_ALPHABET[(value + 1) % 31] + code[position + 1 : 17]
        assert uscc_check_char(changed) != code[17], position


@pytest.mark.parametrize("code", USCCS)
def test_each_organisation_code_weight_counts(code):
    body = code[8:16]
    for position in range(8):
        alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
        value = alphabet.index(body[position])
        changed = body[:position] + alphabet[(value + 1) % 36] + body[position + 1 :]
        assert organisation_code_check(changed) != code[16], position


def test_the_gb_11714_example():
    assert organisation_code_check("D2143569") == "X"


@pytest.mark.parametrize("bad", ["~" + "0" * 16, "0" * 16 + "I", "0" * 16 + "~"])
def test_uscc_check_refuses_characters_outside_its_alphabet(bad):
    assert _rule(uscc_check_char, bad) == "charset"


def test_licence_identifier_check_refuses_characters_outside_its_alphabet():
    assert _rule(licence_identifier_check, "D071", "~", "1", "001") == "charset"
    assert _rule(licence_identifier_check, "D071", "-", "1", "001") == "charset"


@pytest.mark.parametrize(
    ("call", "args", "kind", "rule"),
    [
        (resident_id_check_digit, ("1" * 16,), "resident_id", "length"),
        (resident_id_check_digit, ("1" * 16 + "X",), "resident_id", "charset"),
        (uscc_check_char, ("1" * 16,), "uscc", "length"),
        (uscc_check_char, ("1" * 16 + "I",), "uscc", "charset"),
        (organisation_code_check, ("1" * 7,), "organisation_code", "length"),
        (organisation_code_check, ("1" * 7 + "a",), "organisation_code", "charset"),
        (licence_identifier_check, ("D071", "-", "1", "001"), "licence_identifier", "charset"),
    ],
)
def test_check_helpers_name_their_kind_and_rule(call, args, kind, rule):
    with pytest.raises(InvalidIdentifier) as caught:
        call(*args)
    assert (caught.value.kind, caught.value.rule) == (kind, rule)


def test_organisation_code_letters_up_to_z():
    # Z = 35: Σ = 35 x 3 = 105 ≡ 6 (mod 11), check 11 - 6 = 5.
    assert organisation_code_check("Z0000000") == "5"


def _iso7064_37_36_verifies(text: str) -> bool:
    """ISO 7064's own verification: run the hybrid system over text and check; it ends at 1."""
    values = {c: i for i, c in enumerate("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ")}
    p = 36
    for char in text[:-1]:
        p = (p + values[char]) % 36 or 36
        p = 2 * p % 37
    return (p + values[text[-1]]) % 36 == 1


def test_licence_identifier_check_passes_the_standards_verification_for_every_character():
    seen = set()
    for serial in range(400):
        parts = ("D071", "913211817H2K9M4Q2Y", str(serial), "001")
        check = licence_identifier_check(*parts)
        assert _iso7064_37_36_verifies("".join(parts) + check), parts
        seen.add(check)
    assert seen == set("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ")
