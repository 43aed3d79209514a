"""Identifiers of the road-transport domain and their real check rules.

This module owns the pure validators (each returns the normalised value or
raises :class:`~wallet.errors.InvalidIdentifier` with a stable ``rule`` code),
the check-character arithmetic behind them, the GB/T 36904 licence identifier,
and seeded generators of valid values for tests, fixtures and benchmarks.

No validator echoes the value it rejects: several of these identifiers are
personal data.
"""

from __future__ import annotations

import functools
import random
import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Final, Literal

from wallet.errors import InvalidIdentifier

__all__ = [
    "LICENCE_IDENTIFIER_PREFIX",
    "PLATE_PROVINCES",
    "PROVINCES",
    "LicenceIdentifier",
    "catalogue_type_code",
    "division_code",
    "licence_identifier_check",
    "licence_number",
    "make_licence_identifier",
    "make_licence_number",
    "make_plate",
    "make_resident_id",
    "make_uscc",
    "organisation_code_check",
    "parse_licence_identifier",
    "plate_number",
    "province_division",
    "province_of",
    "resident_id",
    "resident_id_birth_date",
    "resident_id_check_digit",
    "resident_id_sex",
    "uscc",
    "uscc_check_char",
]

_DIGITS: Final = "0123456789"

# --- administrative divisions (GB/T 2260) -----------------------------------

PROVINCES: Final[dict[str, tuple[str, str]]] = {
    "11": ("北京市", "京"),
    "12": ("天津市", "津"),
    "13": ("河北省", "冀"),
    "14": ("山西省", "晋"),
    "15": ("内蒙古自治区", "蒙"),
    "21": ("辽宁省", "辽"),
    "22": ("吉林省", "吉"),
    "23": ("黑龙江省", "黑"),
    "31": ("上海市", "沪"),
    "32": ("江苏省", "苏"),
    "33": ("浙江省", "浙"),
    "34": ("安徽省", "皖"),
    "35": ("福建省", "闽"),
    "36": ("江西省", "赣"),
    "37": ("山东省", "鲁"),
    "41": ("河南省", "豫"),
    "42": ("湖北省", "鄂"),
    "43": ("湖南省", "湘"),
    "44": ("广东省", "粤"),
    "45": ("广西壮族自治区", "桂"),
    "46": ("海南省", "琼"),
    "50": ("重庆市", "渝"),
    "51": ("四川省", "川"),
    "52": ("贵州省", "贵"),
    "53": ("云南省", "云"),
    "54": ("西藏自治区", "藏"),
    "61": ("陕西省", "陕"),
    "62": ("甘肃省", "甘"),
    "63": ("青海省", "青"),
    "64": ("宁夏回族自治区", "宁"),
    "65": ("新疆维吾尔自治区", "新"),
    # No mainland plate is issued under these prefixes, so their plate
    # abbreviation is empty; 港 and 澳 exist only as plate suffixes (粤Z…港).
    "71": ("台湾省", ""),
    "81": ("香港特别行政区", ""),
    "82": ("澳门特别行政区", ""),
}
"""Two-digit province prefix → (Chinese name, plate abbreviation or "")."""

PLATE_PROVINCES: Final[frozenset[str]] = frozenset(abbr for _, abbr in PROVINCES.values() if abbr)
"""The 31 mainland province abbreviations that lead a civilian plate."""

# The code of the People's Republic as a whole; central bodies carry it in
# characters 3–8 of their USCC (e.g. the Ministry's 11100000000019713D).
_NATIONAL_DIVISION: Final = "100000"


def _division_problem(code: str) -> str | None:
    """The rule a six-character division code breaks, or None."""
    if len(code) != 6:
        return "length"
    if not code.isascii() or not code.isdigit():
        return "charset"
    if code[:2] not in PROVINCES:
        return "province"
    # A county part under prefecture 00 does not exist in GB/T 2260: only the
    # province itself (xx0000) has prefecture 00.
    if code[2:4] == "00" and code[4:] != "00":
        return "division"
    return None


def division_code(value: str) -> str:
    """Validate an administrative division code (GB/T 2260), e.g. ``210102``.

    Six digits: a province prefix from :data:`PROVINCES`, then prefecture and
    county parts (two digits each; a county part needs a prefecture part).
    Rules: ``length``, ``charset``, ``province``, ``division``.
    """
    code = _text(value, "division").strip()
    problem = _division_problem(code)
    if problem is not None:
        raise InvalidIdentifier("division", problem, f"division code breaks rule {problem}")
    return code


def province_of(division: str) -> str:
    """The two-digit province prefix of a valid division code."""
    return division_code(division)[:2]


def province_division(division: str) -> str:
    """The province-level division code (``xx0000``) a division lies in: ``210102`` → ``210000``.

    The one spelling of "the province of a division" (its seal key, its status
    lists, its authority scope). It reads the first two characters only and
    validates nothing, so it never raises: callers pass a division that was
    validated where it entered (the feed, a stored licence, a signed token), or
    compare the answer with one that was (a string that is no division gives
    no known province).
    """
    return division[:2] + "0000"


# --- resident identity number (GB 11643) ------------------------------------

_RESIDENT_WEIGHTS: Final = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_RESIDENT_CHECK: Final = "10X98765432"
_RESIDENT_RE: Final = re.compile(r"[0-9]{17}[0-9X]")
_EARLIEST_BIRTH: Final = date(1900, 1, 1)


def resident_id_check_digit(first17: str) -> str:
    """The ISO 7064 MOD 11-2 check character (``0``–``9`` or ``X``) for 17 digits."""
    if len(first17) != 17:
        raise InvalidIdentifier("resident_id", "length", "expected the first 17 characters")
    if not first17.isascii() or not first17.isdigit():
        raise InvalidIdentifier("resident_id", "charset", "the first 17 characters are digits")
    total = sum(int(c) * w for c, w in zip(first17, _RESIDENT_WEIGHTS, strict=True))
    return _RESIDENT_CHECK[total % 11]


def resident_id(value: str, today: date | None = None) -> str:
    """Validate a resident identity number (公民身份号码, GB 11643).

    18 characters: a six-digit area code (a division code of a known province),
    the birth date ``YYYYMMDD``, a three-digit sequence (odd for men) and the
    MOD 11-2 check character (a digit or ``X``). The birth date must be a real
    date from 1900 on and, when ``today`` is given, not after it (without a
    ``today`` no clock is read and the future is not checked). The old
    15-digit form is not accepted. Returns the number stripped and upper-cased.

    Rules: ``length``, ``charset``, ``province``, ``division``,
    ``birth_date``, ``check_digit``.
    """
    number = _text(value, "resident_id").strip().upper()
    if len(number) != 18:
        raise InvalidIdentifier("resident_id", "length", "a resident ID number has 18 characters")
    if not _RESIDENT_RE.fullmatch(number):
        raise InvalidIdentifier("resident_id", "charset", "17 digits then a digit or X")
    problem = _division_problem(number[:6])
    if problem is not None:
        raise InvalidIdentifier("resident_id", problem, "the area code is not a valid division")
    born = _parse_birth_date(number)
    if born is None or born < _EARLIEST_BIRTH or (today is not None and born > today):
        raise InvalidIdentifier("resident_id", "birth_date", "the birth date is not plausible")
    if resident_id_check_digit(number[:17]) != number[17]:
        raise InvalidIdentifier("resident_id", "check_digit", "the check digit does not match")
    return number


def _parse_birth_date(number: str) -> date | None:
    try:
        return date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return None


def resident_id_birth_date(value: str) -> date:
    """The birth date encoded in a valid resident identity number."""
    born = _parse_birth_date(resident_id(value))
    assert born is not None  # resident_id() has checked it
    return born


def resident_id_sex(value: str) -> Literal["M", "F"]:
    """``"M"`` or ``"F"`` from the sequence digit of a valid resident identity number."""
    return "M" if int(resident_id(value)[16]) % 2 else "F"


# --- unified social credit code (GB 32100) ----------------------------------

_USCC_ALPHABET: Final = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_VALUES: Final = {c: i for i, c in enumerate(_USCC_ALPHABET)}
_USCC_WEIGHTS: Final = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
# Registration authority (登记管理部门) → organisation categories, from
# GB 32100-2015 annex A: 1 staffing offices, 2 foreign affairs, 3 justice,
# 4 culture, 5 civil affairs, 6 tourism, 7 religion, 8 trade unions,
# 9 market regulation, A military staffing, N agriculture, Y other.
_USCC_CATEGORIES: Final[dict[str, str]] = {
    "1": "1239",
    "2": "19",
    "3": "123459",
    "4": "19",
    "5": "1239",
    "6": "129",
    "7": "129",
    "8": "19",
    "9": "123",
    "A": "19",
    "N": "1239",
    "Y": "1",
}
_ORG_CODE_WEIGHTS: Final = (3, 7, 9, 10, 5, 8, 4, 2)
_ORG_CODE_RE: Final = re.compile(r"[0-9A-Z]{8}")


def uscc_check_char(first17: str) -> str:
    """The GB 32100 MOD 31 check character for the first 17 characters of a USCC."""
    if len(first17) != 17:
        raise InvalidIdentifier("uscc", "length", "expected the first 17 characters")
    if any(c not in _USCC_VALUES for c in first17):
        raise InvalidIdentifier("uscc", "charset", "characters outside the USCC alphabet")
    total = sum(_USCC_VALUES[c] * w for c, w in zip(first17, _USCC_WEIGHTS, strict=True))
    return _USCC_ALPHABET[(31 - total % 31) % 31]


def organisation_code_check(first8: str) -> str:
    """The GB 11714 organisation-code check character (``0``–``9`` or ``X``).

    Digits count as their value and letters as A=10 … Z=35; the check is
    11 − (Σ mod 11), with 10 written ``X`` and 11 written ``0``.
    """
    if len(first8) != 8:
        raise InvalidIdentifier("organisation_code", "length", "expected 8 characters")
    if not _ORG_CODE_RE.fullmatch(first8):
        raise InvalidIdentifier("organisation_code", "charset", "digits and capital letters")
    total = sum(int(c, 36) * w for c, w in zip(first8, _ORG_CODE_WEIGHTS, strict=True))
    check = 11 - total % 11
    return "X" if check == 10 else "0" if check == 11 else str(check)


def uscc(value: str) -> str:
    """Validate a unified social credit code (统一社会信用代码, GB 32100).

    18 characters from ``0-9`` and ``A-Z`` without I, O, S, V, Z: the
    registration authority and organisation category (a pair listed in the
    standard, e.g. ``91`` enterprise, ``92`` individual business, ``11``
    state organ), the registering office's division code (six digits, or
    ``100000`` for national bodies), the nine-character organisation code
    with its GB 11714 check, and the MOD 31 check character. Returns the code
    stripped and upper-cased.

    Rules: ``length``, ``charset``, ``registration_authority``, ``category``,
    ``division``, ``province``, ``organisation_code``, ``check_digit``.
    """
    return _checked_uscc(_text(value, "uscc").strip().upper())


@functools.lru_cache(maxsize=4096)
def _checked_uscc(code: str) -> str:
    """:func:`uscc` of a stripped, upper-cased code, remembered when valid: an import
    repeats its issuers' and operators' codes row after row."""
    if len(code) != 18:
        raise InvalidIdentifier("uscc", "length", "a USCC has 18 characters")
    if any(c not in _USCC_VALUES for c in code):
        raise InvalidIdentifier("uscc", "charset", "characters outside the USCC alphabet")
    categories = _USCC_CATEGORIES.get(code[0])
    if categories is None:
        raise InvalidIdentifier("uscc", "registration_authority", "unknown registration authority")
    if code[1] not in categories:
        raise InvalidIdentifier("uscc", "category", "unknown category for the authority")
    if code[2:8] != _NATIONAL_DIVISION:
        problem = _division_problem(code[2:8])
        if problem is not None:
            rule = "province" if problem == "province" else "division"
            raise InvalidIdentifier("uscc", rule, "characters 3-8 are not a division code")
    if organisation_code_check(code[8:16]) != code[16]:
        raise InvalidIdentifier("uscc", "organisation_code", "the organisation code check fails")
    if uscc_check_char(code[:17]) != code[17]:
        raise InvalidIdentifier("uscc", "check_digit", "the check character does not match")
    return code


# --- vehicle plates (GA 36-2018) --------------------------------------------

_PLATE_LETTERS: Final = "ABCDEFGHJKLMNPQRSTUVWXYZ"  # A–Z without I and O
_PLATE_SEPARATORS: Final = re.compile(r"[\s\u00b7\u2022\u2027\u30fb.]")
_PLATE_SERIALS: Final = (
    re.compile(rf"[{_PLATE_LETTERS}0-9]{{5}}"),  # ordinary
    re.compile(rf"[{_PLATE_LETTERS}0-9]{{4}}[挂学警领]"),  # trailer, coach, police, consular
    re.compile(rf"[ABCDEFGHJK][{_PLATE_LETTERS}0-9][0-9]{{4}}"),  # small new-energy
    re.compile(r"[0-9]{5}[DF]"),  # large new-energy
)
_CROSS_BORDER_SERIAL: Final = re.compile(r"[0-9]{4}[港澳]")


def plate_number(value: str) -> str:
    """Validate a mainland civilian vehicle plate number (GA 36-2018).

    A province abbreviation (one of :data:`PLATE_PROVINCES`), the issuing
    authority letter (A–Z without I and O), then one of:

    * five letters/digits (letters without I and O): ordinary plates, ``辽A12345``;
    * four letters/digits and 挂 (trailer), 学 (coach car), 警 (police) or
      领 (consulate): ``辽A1234挂``;
    * four digits and 港 or 澳, only as ``粤Z`` (Hong Kong/Macao cross-border);
    * six characters, small new-energy: D (electric) or F (other), or since the
      2022 extension A B C E / G H J K, then a letter or digit, then four
      digits: ``辽AD12345``;
    * six characters, large new-energy: five digits then D or F: ``辽A12345D``.

    Spaces and middle dots are dropped and letters upper-cased, so
    ``"辽A·12345"`` and ``"辽a 12345"`` give ``"辽A12345"``. Military, armed
    police and embassy plates are not civilian and are rejected.

    Rules: ``length``, ``province``, ``authority``, ``format``.
    """
    plate = _PLATE_SEPARATORS.sub("", _text(value, "plate")).upper()
    if len(plate) not in (7, 8):
        raise InvalidIdentifier("plate", "length", "a plate has 7 or 8 characters")
    if plate[0] not in PLATE_PROVINCES:
        raise InvalidIdentifier("plate", "province", "unknown province abbreviation")
    if plate[1] not in _PLATE_LETTERS:
        raise InvalidIdentifier("plate", "authority", "the issuing authority is a letter")
    serial = plate[2:]
    if any(p.fullmatch(serial) for p in _PLATE_SERIALS):
        return plate
    if plate[:2] == "粤Z" and _CROSS_BORDER_SERIAL.fullmatch(serial):
        return plate
    raise InvalidIdentifier("plate", "format", "the serial does not match a plate format")


# --- licence numbers ---------------------------------------------------------


def licence_number(value: str) -> str:
    """Validate a business-permit or transport-certificate number.

    经营许可证号 and 道路运输证号 are 12 digits: the issuing office's division
    code and a six-digit serial. Rules: ``length``, ``charset``, ``province``,
    ``division``.
    """
    number = _text(value, "licence_number").strip()
    if len(number) != 12:
        raise InvalidIdentifier("licence_number", "length", "a licence number has 12 digits")
    if not number.isascii() or not number.isdigit():
        raise InvalidIdentifier("licence_number", "charset", "a licence number is digits")
    problem = _division_problem(number[:6])
    if problem is not None:
        raise InvalidIdentifier("licence_number", problem, "the first six digits are no division")
    return number


def catalogue_type_code(value: str) -> str:
    """Validate a national catalogue licence type code, e.g. ``11100000000019713D071``.

    The defining body's USCC (18 characters, fully checked) and a three-digit
    sequence. Rules: ``length``, ``defining_body``, ``sequence``.
    """
    code = _text(value, "catalogue_type_code").strip().upper()
    if len(code) != 21:
        raise InvalidIdentifier("catalogue_type_code", "length", "a type code has 21 characters")
    try:
        uscc(code[:18])
    except InvalidIdentifier as exc:
        raise InvalidIdentifier(
            "catalogue_type_code", "defining_body", f"the defining body's USCC fails {exc.rule}"
        ) from None
    if not code[18:].isascii() or not code[18:].isdigit():
        raise InvalidIdentifier("catalogue_type_code", "sequence", "the sequence is 3 digits")
    return code


# --- electronic licence identifier (GB/T 36904) ------------------------------

LICENCE_IDENTIFIER_PREFIX: Final = "1.2.156.3005.2."
_ID_ALPHABET: Final = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_ID_VALUES: Final = {c: i for i, c in enumerate(_ID_ALPHABET)}
_SERIAL_RE: Final = re.compile(r"[0-9A-Z]{1,64}")
_VERSION_RE: Final = re.compile(r"[0-9]{3}")


@dataclass(frozen=True, slots=True)
class LicenceIdentifier:
    """A parsed electronic licence identifier (证照标识, GB/T 36904).

    ``str()`` gives the dotted form back.
    """

    type_code: str
    issuer_uscc: str
    serial: str
    version: int
    check: str

    def __str__(self) -> str:
        return (
            f"{LICENCE_IDENTIFIER_PREFIX}{self.type_code}.{self.issuer_uscc}."
            f"{self.serial}.{self.version:03d}.{self.check}"
        )


def licence_identifier_check(type_code: str, issuer_uscc: str, serial: str, version: str) -> str:
    """The ISO 7064 MOD 37,36 check character of a licence identifier.

    Computed over ``type_code + issuer_uscc + serial + version`` (no dots)
    with the alphabet ``0-9A-Z`` valued 0–35: P starts at 36; for each
    character P = (P + v) mod 36, 0 becomes 36, then P = 2P mod 37; the check
    is the alphabet at (37 − P) mod 36. The parts are not validated here.
    """
    payload = f"{type_code}{issuer_uscc}{serial}{version}".upper()
    p = 36
    for char in payload:
        v = _ID_VALUES.get(char)
        if v is None:
            raise InvalidIdentifier("licence_identifier", "charset", "characters outside 0-9A-Z")
        p = (p + v) % 36 or 36
        p = 2 * p % 37
    return _ID_ALPHABET[(37 - p) % 36]


def _identifier_parts(type_code: str, issuer: str, serial: str) -> tuple[str, str, str]:
    try:
        type_code = catalogue_type_code(type_code)
    except InvalidIdentifier:
        raise InvalidIdentifier(
            "licence_identifier", "type_code", "the type code is invalid"
        ) from None
    try:
        issuer = uscc(issuer)
    except InvalidIdentifier:
        raise InvalidIdentifier(
            "licence_identifier", "issuer", "the issuer USCC is invalid"
        ) from None
    serial = _text(serial, "licence_identifier").strip().upper()
    if not _SERIAL_RE.fullmatch(serial):
        raise InvalidIdentifier("licence_identifier", "serial", "1-64 characters of 0-9A-Z")
    return type_code, issuer, serial


def make_licence_identifier(type_code: str, issuer_uscc: str, serial: str, version: int) -> str:
    """Build ``1.2.156.3005.2.<type>.<issuer>.<serial>.<ver>.<check>``.

    The version (1–999) is written as three digits. Rules on failure:
    ``type_code``, ``issuer``, ``serial``, ``version``.
    """
    type_code, issuer, serial = _identifier_parts(type_code, issuer_uscc, serial)
    if not isinstance(version, int) or isinstance(version, bool) or not 1 <= version <= 999:
        raise InvalidIdentifier("licence_identifier", "version", "the version is 1-999")
    ver = f"{version:03d}"
    check = licence_identifier_check(type_code, issuer, serial, ver)
    return str(LicenceIdentifier(type_code, issuer, serial, version, check))


def parse_licence_identifier(value: str) -> LicenceIdentifier:
    """Parse and check a licence identifier (GB/T 36904).

    Checks the prefix, the five dotted parts, the type code and issuer USCC
    (with their own check characters), the serial (``0-9A-Z``), the
    three-digit version (001–999) and the MOD 37,36 check character.

    Rules: ``prefix``, ``structure``, ``type_code``, ``issuer``, ``serial``,
    ``version``, ``check_digit``.
    """
    text = _text(value, "licence_identifier").strip().upper()
    if not text.startswith(LICENCE_IDENTIFIER_PREFIX):
        raise InvalidIdentifier("licence_identifier", "prefix", "expected 1.2.156.3005.2.")
    parts = text[len(LICENCE_IDENTIFIER_PREFIX) :].split(".")
    if len(parts) != 5:
        raise InvalidIdentifier("licence_identifier", "structure", "expected five dotted parts")
    type_code, issuer, serial, ver, check = parts
    type_code, issuer, serial = _identifier_parts(type_code, issuer, serial)
    if not _VERSION_RE.fullmatch(ver) or ver == "000":
        raise InvalidIdentifier("licence_identifier", "version", "the version is 001-999")
    if check != licence_identifier_check(type_code, issuer, serial, ver):
        raise InvalidIdentifier("licence_identifier", "check_digit", "the check does not match")
    return LicenceIdentifier(type_code, issuer, serial, int(ver), check)


# --- generators: tests, fixtures and benchmarks only -------------------------


def make_resident_id(
    rng: random.Random,
    area: str = "210102",
    birth: date | None = None,
    sex: Literal["M", "F"] | None = None,
) -> str:
    """A valid resident identity number, for tests, fixtures and benchmarks.

    Deterministic for a given ``rng`` state. Without ``birth`` the date falls
    in 1950–2005; without ``sex`` it is drawn.
    """
    area = division_code(area)
    if birth is None:
        birth = date(1950, 1, 1) + timedelta(days=rng.randrange(56 * 365))
    if sex is None:
        sex = rng.choice(("M", "F"))
    sequence = rng.randrange(500) * 2 + (1 if sex == "M" else 0)
    first17 = f"{area}{birth:%Y%m%d}{sequence:03d}"
    return first17 + resident_id_check_digit(first17)


def make_uscc(rng: random.Random, division: str = "210102") -> str:
    """A valid USCC registered at ``division``, for tests, fixtures and benchmarks.

    Deterministic for a given ``rng`` state; the authority and category pair
    is drawn from the standard's table and the organisation code is either
    eight digits or the ``MA`` form common since 2015.
    """
    if division != _NATIONAL_DIVISION:
        division = division_code(division)
    authority = rng.choice(sorted(_USCC_CATEGORIES))
    category = rng.choice(_USCC_CATEGORIES[authority])
    if rng.random() < 0.5:
        body = "".join(rng.choice(_DIGITS) for _ in range(8))
    else:
        body = "MA" + "".join(rng.choice(_USCC_ALPHABET) for _ in range(6))
    first17 = f"{authority}{category}{division}{body}{organisation_code_check(body)}"
    return first17 + uscc_check_char(first17)


def make_plate(rng: random.Random, province_abbr: str = "辽", new_energy: bool = False) -> str:
    """A valid plate number, for tests, fixtures and benchmarks.

    Deterministic for a given ``rng`` state. Ordinary plates have five
    characters with at most two letters; new-energy plates are the small-car
    form (D or F, a letter or digit, four digits).
    """
    if province_abbr not in PLATE_PROVINCES:
        raise InvalidIdentifier("plate", "province", "unknown province abbreviation")
    authority = rng.choice(_PLATE_LETTERS)
    if new_energy:
        second = rng.choice(_PLATE_LETTERS + _DIGITS)
        serial = rng.choice("DF") + second + "".join(rng.choice(_DIGITS) for _ in range(4))
    else:
        chars = [rng.choice(_DIGITS) for _ in range(5)]
        for i in rng.sample(range(5), rng.randrange(3)):
            chars[i] = rng.choice(_PLATE_LETTERS)
        serial = "".join(chars)
    return f"{province_abbr}{authority}{serial}"


def make_licence_number(rng: random.Random, division: str) -> str:
    """A valid 12-digit licence number issued at ``division``, for tests and fixtures."""
    return division_code(division) + "".join(rng.choice(_DIGITS) for _ in range(6))


def _text(value: object, kind: str) -> str:
    if not isinstance(value, str):
        raise InvalidIdentifier(kind, "type", "expected a string")
    return value
