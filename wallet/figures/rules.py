"""The data-compliance rules (数据合规, data compliance) a stored licence version must pass.

A version enters the registry only after the feed's own checks: the face
against the catalogue (required fields, types, codes, date order), the
identifiers' check rules (GB 11643 resident ID, GB 32100 USCC, GB/T 2260
division, GB/T 36904 identifier check character). What a version can still
break once accepted is checked here, each rule a SQL condition on the
stored columns, true when the version passes:

``validity_present``
    kinds whose face requires a validity end carry both start and end;
``validity_order``
    the validity starts no later than it ends;
``within_term``
    the validity lasts no longer than the kind's term (catalogue
    ``default_validity_years``; kinds without a term pass);
``issued_within_validity``
    the version was issued (China date of ``issued_at``) no later than its
    validity end;
``issued_before_recorded``
    it was issued no later than it was recorded (five minutes' clock
    tolerance): an issue time in the future is an error of the feed;
``seal_trusted``
    its seal key is known and not revoked (a revoked key's seals no longer
    verify: the version must be sealed again).

The rules are data (:data:`RULES`): each is a name, a label and a SQL
condition per dialect over ``v`` (``licence_version``), ``l``
(``licence``) and ``k`` (``signing_key``, left-joined on the seal's kid).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Final, Literal

from wallet.licences.catalogue import CATALOGUE, LicenceKind

__all__ = ["RULES", "Dialect", "Rule", "passes_all"]

Dialect = Literal["postgres", "sqlite"]


@dataclass(frozen=True)
class Rule:
    """One compliance rule: its name, label (Chinese term and English) and SQL condition."""

    name: str
    label: str
    condition: Callable[[Dialect], str]


def _quoted(values: list[str]) -> str:
    # Catalogue codes are ``[a-z][a-z0-9_]*`` (checked when the catalogue loads).
    return ", ".join(f"'{v}'" for v in values)


def _requires_validity(kind: LicenceKind) -> bool:
    return any(f.name == "valid_until" and f.required for f in kind.fields)


def _validity_present(_: Dialect) -> str:
    kinds = sorted(k.code for k in CATALOGUE.values() if _requires_validity(k))
    if not kinds:
        return "1 = 1"
    return (
        f"(l.kind NOT IN ({_quoted(kinds)}) "
        "OR (v.valid_from IS NOT NULL AND v.valid_until IS NOT NULL))"
    )


def _validity_order(_: Dialect) -> str:
    return "(v.valid_from IS NULL OR v.valid_until IS NULL OR v.valid_from <= v.valid_until)"


def _plus_years(dialect: Dialect, years: int) -> str:
    if dialect == "postgres":
        return f"(v.valid_from + make_interval(years => {years}))::date"
    return f"date(v.valid_from, '+{years} years')"


def _within_term(dialect: Dialect) -> str:
    terms = {
        k.code: k.default_validity_years
        for k in CATALOGUE.values()
        if k.default_validity_years is not None
    }
    if not terms:
        return "1 = 1"
    cases = " ".join(
        f"WHEN '{code}' THEN (CASE WHEN v.valid_until <= {_plus_years(dialect, years)} "
        "THEN 1 ELSE 0 END)"
        for code, years in sorted(terms.items())
    )
    return (
        f"(v.valid_from IS NULL OR v.valid_until IS NULL OR (CASE l.kind {cases} ELSE 1 END) = 1)"
    )


def _issued_within_validity(dialect: Dialect) -> str:
    issued_on = (
        "(v.issued_at AT TIME ZONE 'Asia/Shanghai')::date"
        if dialect == "postgres"
        else "date(v.issued_at, '+8 hours')"
    )
    return f"(v.valid_until IS NULL OR {issued_on} <= v.valid_until)"


def _issued_before_recorded(dialect: Dialect) -> str:
    if dialect == "postgres":
        return "(v.issued_at <= v.created_at + interval '5 minutes')"
    return "(julianday(v.issued_at) <= julianday(v.created_at) + 300.0 / 86400)"


def _seal_trusted(_: Dialect) -> str:
    return "(k.status IS NOT NULL AND k.status <> 'revoked')"


RULES: Final[tuple[Rule, ...]] = (
    Rule("validity_present", "有效期完整 (validity present)", _validity_present),
    Rule("validity_order", "有效期起止有序 (validity in order)", _validity_order),
    Rule("within_term", "有效期不超过法定期限 (within the term)", _within_term),
    Rule(
        "issued_within_validity", "签发于有效期内 (issued within validity)", _issued_within_validity
    ),
    Rule(
        "issued_before_recorded", "签发不晚于归档 (issued before recorded)", _issued_before_recorded
    ),
    Rule("seal_trusted", "签章密钥可信 (seal key trusted)", _seal_trusted),
)
"""Every rule a compliant version passes, in report order."""


def passes_all(dialect: Dialect, rules: Mapping[str, Rule] | None = None) -> str:
    """The SQL condition of a version passing every rule."""
    chosen = list((rules or {r.name: r for r in RULES}).values())
    return "(" + " AND ".join(r.condition(dialect) for r in chosen) + ")"
