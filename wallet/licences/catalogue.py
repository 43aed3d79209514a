"""The licence catalogue: kinds as data and the one interpreter of their faces.

Each :class:`LicenceKind` is read from ``catalogue.json`` beside this module;
a corrected field list is a data change. :func:`validate_face` is the single
piece of code that checks a face (the fields printed on a licence) against
its kind, collecting every problem.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from importlib import resources
from types import MappingProxyType
from typing import Any, Final, Literal, cast, get_args

from wallet import identifiers
from wallet.errors import (
    ConfigurationError,
    FieldProblem,
    InvalidIdentifier,
    NotFound,
    ValidationFailed,
)

__all__ = [
    "CATALOGUE",
    "FieldSpec",
    "FieldType",
    "HolderType",
    "LicenceKind",
    "NumberFormat",
    "get_kind",
    "kind_by_type_code",
    "load_catalogue",
    "validate_face",
]

FieldType = Literal[
    "string",
    "date",
    "integer",
    "decimal",
    "enum",
    "enum_list",
    "resident_id",
    "uscc",
    "division",
    "plate",
    "licence_number",
    "photo_ref",
]
HolderType = Literal["person", "enterprise", "vehicle"]
NumberFormat = Literal["resident_id", "licence_number"]

# Holder code types of GB/T 36903 (see DOMAIN.md).
_HOLDER_CODE_TYPES: Final = frozenset(
    {"001", "099", "111", "114", "115", "118", "119", "120", "122"}
    | {"411", "412", "413", "414", "511", "516", "999"}
)


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """One field of a licence face.

    ``pii`` marks personal data (names of natural persons, ID numbers, their
    addresses and dates of birth, phone numbers, photos): stored encrypted and
    never echoed in an error. ``choices`` holds the codes of an enum and
    ``choice_labels`` their printed labels. ``pattern`` is a regular
    expression the whole (string) value must match; ``minimum`` bounds numbers.
    """

    name: str
    label: str
    type: FieldType
    required: bool = False
    max_length: int | None = None
    choices: tuple[str, ...] | None = None
    choice_labels: tuple[tuple[str, str], ...] | None = None
    pattern: str | None = None
    minimum: int | None = None
    pii: bool = False

    def label_of(self, code: str) -> str:
        """The printed label of an enum code (the code itself when unlabelled)."""
        return dict(self.choice_labels or ()).get(code, code)


@dataclass(frozen=True, slots=True)
class LicenceKind:
    """A kind of licence, e.g. the 道路运输证 (road transport certificate).

    ``type_code`` is the 21-character national catalogue code; the holder is
    identified under ``holder_code_type`` (GB/T 36903: ``111`` resident ID,
    ``001`` USCC). ``number_field`` names the face field printed as the
    licence number, in ``number_format``. ``default_validity_years`` is None
    where the kind has no fixed term. ``date_order`` lists (earlier, later)
    pairs of date fields checked besides ``valid_from`` ≤ ``valid_until``;
    the face's ``birth_date`` and ``sex``, where present, must agree with the
    resident ID number in ``resident_id_field``.
    """

    code: str
    type_code: str
    name: str
    name_en: str
    standard: str
    holder_type: HolderType
    holder_code_type: str
    number_field: str
    number_format: NumberFormat
    default_validity_years: int | None
    fields: tuple[FieldSpec, ...]
    date_order: tuple[tuple[str, str], ...] = ()
    resident_id_field: str | None = None
    # Derived once: the face is validated per row on the import path.
    field_names: tuple[str, ...] = dataclass_field(init=False, repr=False, compare=False)
    pii_fields: frozenset[str] = dataclass_field(init=False, repr=False, compare=False)
    _by_name: Mapping[str, FieldSpec] = dataclass_field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "field_names", tuple(spec.name for spec in self.fields))
        object.__setattr__(
            self, "pii_fields", frozenset(spec.name for spec in self.fields if spec.pii)
        )
        object.__setattr__(self, "_by_name", {spec.name: spec for spec in self.fields})

    def field(self, name: str) -> FieldSpec:
        """The field called ``name``; :class:`KeyError` if the kind has none."""
        return self._by_name[name]

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        # A kind travels between processes (the importer's workers) by its code alone.
        return get_kind, (self.code,)


# --- loading -----------------------------------------------------------------

_SLUG: Final = re.compile(r"[a-z][a-z0-9_]*")
_KIND_KEYS: Final = frozenset(
    {
        "code",
        "type_code",
        "name",
        "name_en",
        "standard",
        "holder_type",
        "holder_code_type",
        "number_field",
        "number_format",
        "default_validity_years",
        "fields",
        "date_order",
        "resident_id_field",
    }
)
_FIELD_KEYS: Final = frozenset(
    {"name", "label", "type", "required", "max_length", "choices", "pattern", "minimum", "pii"}
)


def _keys(obj: object, allowed: frozenset[str], where: str) -> dict[str, Any]:
    if not isinstance(obj, dict):
        raise ConfigurationError(f"catalogue: {where} is not an object")
    unknown = {k for k in obj if not k.startswith("_")} - allowed
    if unknown:
        raise ConfigurationError(f"catalogue: {where} has unknown keys {sorted(unknown)}")
    return {k: v for k, v in obj.items() if not k.startswith("_")}


def _get(obj: Mapping[str, Any], key: str, kind: type, where: str, default: Any = ...) -> Any:
    if key not in obj:
        if default is ...:
            raise ConfigurationError(f"catalogue: {where} lacks {key!r}")
        return default
    value = obj[key]
    if value is None and default is None:
        return None
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise ConfigurationError(f"catalogue: {where}.{key} is not {kind.__name__}")
    return value


def _load_enumerations(raw: object) -> dict[str, tuple[tuple[str, str], ...]]:
    if not isinstance(raw, dict):
        raise ConfigurationError("catalogue: enumerations is not an object")
    tables: dict[str, tuple[tuple[str, str], ...]] = {}
    for name, entry in raw.items():
        codes = _get(_keys(entry, frozenset({"codes"}), name), "codes", object, name)
        if isinstance(codes, list) and all(isinstance(c, str) for c in codes):
            pairs = tuple((c, c) for c in codes)
        elif isinstance(codes, dict) and all(isinstance(v, str) for v in codes.values()):
            pairs = tuple(codes.items())
        else:
            raise ConfigurationError(f"catalogue: enumeration {name} needs a list or object")
        if not pairs or len({code for code, _ in pairs}) != len(pairs):
            raise ConfigurationError(f"catalogue: enumeration {name} is empty or repeats")
        tables[name] = pairs
    return tables


def _load_field(
    raw: object, tables: Mapping[str, tuple[tuple[str, str], ...]], where: str
) -> FieldSpec:
    obj = _keys(raw, _FIELD_KEYS, where)
    name = _get(obj, "name", str, where)
    where = f"{where}.{name}"
    type_ = _get(obj, "type", str, where)
    if not _SLUG.fullmatch(name) or type_ not in get_args(FieldType):
        raise ConfigurationError(f"catalogue: {where} has a bad name or type")
    choices_name = _get(obj, "choices", str, where, None)
    if (choices_name is not None) != (type_ in ("enum", "enum_list")):
        raise ConfigurationError(f"catalogue: {where}: choices go with enum types only")
    labels = None
    if choices_name is not None:
        if choices_name not in tables:
            raise ConfigurationError(f"catalogue: {where} names unknown choices {choices_name}")
        labels = tables[choices_name]
    pattern = _get(obj, "pattern", str, where, None)
    if pattern is not None:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise ConfigurationError(f"catalogue: {where}.pattern: {exc}") from None
    max_length = _get(obj, "max_length", int, where, None)
    if max_length is not None and max_length < 1:
        raise ConfigurationError(f"catalogue: {where}.max_length must be positive")
    return FieldSpec(
        name=name,
        label=_get(obj, "label", str, where),
        type=cast(FieldType, type_),
        required=_get(obj, "required", bool, where, False),
        max_length=max_length,
        choices=tuple(code for code, _ in labels) if labels else None,
        choice_labels=labels,
        pattern=pattern,
        minimum=_get(obj, "minimum", int, where, None),
        pii=_get(obj, "pii", bool, where, False),
    )


def _load_kind(raw: object, tables: Mapping[str, tuple[tuple[str, str], ...]]) -> LicenceKind:
    obj = _keys(raw, _KIND_KEYS, "kind")
    code = _get(obj, "code", str, "kind")
    where = f"kind {code}"
    raw_fields = _get(obj, "fields", list, where)
    fields = tuple(_load_field(f, tables, where) for f in raw_fields)
    types = {spec.name: spec.type for spec in fields}
    if not _SLUG.fullmatch(code) or len(types) != len(fields):
        raise ConfigurationError(f"catalogue: {where} has a bad code or repeated fields")
    try:
        type_code = identifiers.catalogue_type_code(_get(obj, "type_code", str, where))
    except InvalidIdentifier as exc:
        raise ConfigurationError(f"catalogue: {where}.type_code fails {exc.rule}") from None
    holder_type = _get(obj, "holder_type", str, where)
    holder_code_type = _get(obj, "holder_code_type", str, where)
    number_field = _get(obj, "number_field", str, where)
    number_format = _get(obj, "number_format", str, where)
    if holder_type not in get_args(HolderType) or holder_code_type not in _HOLDER_CODE_TYPES:
        raise ConfigurationError(f"catalogue: {where} has a bad holder type or code type")
    if number_format not in get_args(NumberFormat) or types.get(number_field) != number_format:
        raise ConfigurationError(f"catalogue: {where}.number_field is not a {number_format}")
    validity = _get(obj, "default_validity_years", int, where, None)
    if validity is not None and validity < 1:
        raise ConfigurationError(f"catalogue: {where}.default_validity_years must be positive")
    date_order: list[tuple[str, str]] = []
    for pair in _get(obj, "date_order", list, where, []):
        if not (
            isinstance(pair, list) and len(pair) == 2 and all(types.get(n) == "date" for n in pair)
        ):
            raise ConfigurationError(f"catalogue: {where}.date_order needs pairs of date fields")
        date_order.append((pair[0], pair[1]))
    id_field = _get(obj, "resident_id_field", str, where, None)
    if id_field is not None and types.get(id_field) != "resident_id":
        raise ConfigurationError(f"catalogue: {where}.resident_id_field is no resident_id field")
    return LicenceKind(
        code=code,
        type_code=type_code,
        name=_get(obj, "name", str, where),
        name_en=_get(obj, "name_en", str, where),
        standard=_get(obj, "standard", str, where),
        holder_type=cast(HolderType, holder_type),
        holder_code_type=holder_code_type,
        number_field=number_field,
        number_format=cast(NumberFormat, number_format),
        default_validity_years=validity,
        fields=fields,
        date_order=tuple(date_order),
        resident_id_field=id_field,
    )


def load_catalogue(data: Mapping[str, Any]) -> dict[str, LicenceKind]:
    """Build the kinds from catalogue data (the parsed ``catalogue.json`` shape).

    Every reference is checked (type codes, enumerations, number fields, date
    pairs); a bad entry raises :class:`ConfigurationError` naming it.
    """
    top = _keys(dict(data), frozenset({"enumerations", "kinds"}), "catalogue")
    tables = _load_enumerations(top.get("enumerations", {}))
    kinds: dict[str, LicenceKind] = {}
    for raw in _get(top, "kinds", list, "catalogue"):
        kind = _load_kind(raw, tables)
        if kind.code in kinds or any(k.type_code == kind.type_code for k in kinds.values()):
            raise ConfigurationError(f"catalogue: kind {kind.code} repeats a code or type code")
        kinds[kind.code] = kind
    return kinds


def _read_packaged() -> dict[str, LicenceKind]:
    text = resources.files("wallet.licences").joinpath("catalogue.json").read_text("utf-8")
    return load_catalogue(json.loads(text))


CATALOGUE: Final[Mapping[str, LicenceKind]] = MappingProxyType(_read_packaged())
"""The packaged kinds, keyed by code."""

_BY_TYPE_CODE: Final = MappingProxyType({k.type_code: k for k in CATALOGUE.values()})


def get_kind(code: str) -> LicenceKind:
    """The kind with this code; :class:`NotFound` if the catalogue has none."""
    try:
        return CATALOGUE[code]
    except KeyError:
        raise NotFound(f"no licence kind {code!r}") from None


def kind_by_type_code(type_code: str) -> LicenceKind:
    """The kind with this national catalogue type code; :class:`NotFound` otherwise."""
    kind = _BY_TYPE_CODE.get(type_code.strip().upper())
    if kind is None:
        raise NotFound("no licence kind has this type code")
    return kind


# --- the interpreter -----------------------------------------------------------


class _Problem(Exception):
    def __init__(self, rule: str, message: str) -> None:
        super().__init__(message)
        self.rule = rule
        self.message = message


_ISO_DATE: Final = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_INTEGER: Final = re.compile(r"[+-]?[0-9]{1,18}")
_DECIMAL: Final = re.compile(r"[+-]?[0-9]{1,18}(\.[0-9]{1,9})?")


def _is_blank(value: object) -> bool:
    if isinstance(value, str):
        return not value.strip()
    return value is None or (isinstance(value, list | tuple) and not value)


def _string(spec: FieldSpec, value: object) -> str:
    if not isinstance(value, str):
        raise _Problem("type", "must be text")
    text = value.strip()
    if any(unicodedata.category(c) == "Cc" for c in text):
        raise _Problem("charset", "must not contain control characters")
    if spec.max_length is not None and len(text) > spec.max_length:
        raise _Problem("max_length", f"must be at most {spec.max_length} characters")
    if spec.pattern is not None and not re.fullmatch(spec.pattern, text):
        raise _Problem("pattern", "does not have the expected form")
    return text


def _date(value: object) -> date:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if not isinstance(value, str):
        raise _Problem("type", "must be a date")
    text = value.strip()
    try:
        if not _ISO_DATE.fullmatch(text):
            raise ValueError(text)
        return date.fromisoformat(text)
    except ValueError:
        raise _Problem("date_format", "must be a date written YYYY-MM-DD") from None


def _minimum(spec: FieldSpec, number: int | Decimal) -> None:
    if spec.minimum is not None and number < spec.minimum:
        raise _Problem("minimum", f"must be at least {spec.minimum}")


def _integer(spec: FieldSpec, value: object) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str) and _INTEGER.fullmatch(value.strip()):
        number = int(value.strip())
    else:
        raise _Problem("type", "must be a whole number")
    _minimum(spec, number)
    return number


def _decimal(spec: FieldSpec, value: object) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal | str):
        raise _Problem("type", "must be a number")
    text = value.strip() if isinstance(value, str) else str(value)
    try:
        if isinstance(value, str) and not _DECIMAL.fullmatch(text):
            raise InvalidOperation
        number = Decimal(text)
    except InvalidOperation:
        raise _Problem("type", "must be a number") from None
    if not number.is_finite():
        raise _Problem("type", "must be a finite number")
    _minimum(spec, number)
    # Canonical text keeps the face JSON-ready and exact: 31.50 → "31.5".
    return format(number.normalize(), "f")


def _enum_code(spec: FieldSpec, value: object) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise _Problem("type", "must be a code")
    code = value.strip()
    choices = spec.choices or ()
    if code not in choices and code.upper() in choices:
        code = code.upper()
    if code not in choices:
        raise _Problem("enum", "must be one of " + ", ".join(choices))
    return code


def _enum_list(spec: FieldSpec, value: object) -> list[str]:
    if not isinstance(value, list | tuple):
        raise _Problem("type", "must be a list of codes")
    codes: list[str] = []
    for item in value:
        code = _enum_code(spec, item)
        if code not in codes:
            codes.append(code)
    return codes


_IDENTIFIERS: Final[dict[str, Callable[[str], str]]] = {
    "uscc": identifiers.uscc,
    "division": identifiers.division_code,
    "plate": identifiers.plate_number,
    "licence_number": identifiers.licence_number,
}


def _identifier(spec: FieldSpec, value: object, today: date | None) -> str:
    if not isinstance(value, str):
        raise _Problem("type", "must be text")
    try:
        if spec.type == "resident_id":
            return identifiers.resident_id(value, today=today)
        return _IDENTIFIERS[spec.type](value)
    except InvalidIdentifier as exc:
        # The validators never put the value in their detail.
        raise _Problem(f"{exc.kind}.{exc.rule}", exc.detail) from None


def _normalise(spec: FieldSpec, value: object, today: date | None) -> Any:
    if spec.type in ("string", "photo_ref"):
        return _string(spec, value)
    if spec.type == "date":
        return _date(value)
    if spec.type == "integer":
        return _integer(spec, value)
    if spec.type == "decimal":
        return _decimal(spec, value)
    if spec.type == "enum":
        return _enum_code(spec, value)
    if spec.type == "enum_list":
        return _enum_list(spec, value)
    return _identifier(spec, value, today)


def _cross_checks(kind: LicenceKind, out: Mapping[str, Any]) -> list[FieldProblem]:
    problems: list[FieldProblem] = []
    pairs = list(kind.date_order)
    if ("valid_from", "valid_until") not in pairs:
        pairs.append(("valid_from", "valid_until"))
    for earlier, later in pairs:
        first, second = out.get(earlier), out.get(later)
        if isinstance(first, date) and isinstance(second, date) and second < first:
            problems.append(
                {"field": later, "rule": "date_order", "message": f"must not be before {earlier}"}
            )
    id_number = out.get(kind.resident_id_field) if kind.resident_id_field else None
    if isinstance(id_number, str):
        expected = {
            "birth_date": identifiers.resident_id_birth_date(id_number),
            "sex": identifiers.resident_id_sex(id_number),
        }
        for name, value in expected.items():
            if name in out and out[name] != value:
                message = f"does not agree with {kind.resident_id_field}"
                problems.append({"field": name, "rule": "id_mismatch", "message": message})
    return problems


def validate_face(
    kind: LicenceKind, face: Mapping[str, Any], *, today: date | None = None
) -> dict[str, Any]:
    """Check a licence face against its kind and return it normalised.

    Unknown fields are rejected; a required field that is missing, None or
    blank is a problem, an optional one is dropped. Values are checked by
    type (strings stripped and bounded, dates ``YYYY-MM-DD``, enum codes,
    identifiers through :mod:`wallet.identifiers`; ``today`` bounds birth
    dates in resident ID numbers), then dates are checked for order and
    ``birth_date``/``sex`` against the resident ID number. The result is
    JSON-ready: dates as ISO text, decimals as canonical text, enum lists as
    lists.

    Raises :class:`ValidationFailed` whose ``errors`` list every problem as
    ``{"field", "rule", "message"}``; messages never contain the value.
    """
    if not isinstance(face, Mapping):
        problem = {"field": "face", "rule": "type", "message": "must be an object"}
        raise ValidationFailed("the licence face is not valid", errors=[problem])
    problems: list[FieldProblem] = []
    for key in face:
        if not isinstance(key, str) or key not in kind.field_names:
            problems.append(
                {"field": str(key), "rule": "unknown_field", "message": "is not on this licence"}
            )
    out: dict[str, Any] = {}
    for spec in kind.fields:
        value = face.get(spec.name)
        if _is_blank(value):
            if spec.required:
                problems.append({"field": spec.name, "rule": "required", "message": "is required"})
            continue
        try:
            out[spec.name] = _normalise(spec, value, today)
        except _Problem as exc:
            problems.append({"field": spec.name, "rule": exc.rule, "message": exc.message})
    problems.extend(_cross_checks(kind, out))
    if problems:
        raise ValidationFailed("the licence face is not valid", errors=problems)
    return {k: v.isoformat() if isinstance(v, date) else v for k, v in out.items()}
