"""The licence-kinds page (``docs/licence-kinds.md``), rendered from the catalogue.

:func:`render_markdown` turns the loaded catalogue into the Markdown page a
newcomer reads: per kind, its codes, holder, number and validity, then every
face field with its type, whether it is required and the codes it accepts.
``scripts/catalogue_doc`` writes the page; a test keeps the committed page
equal to this output, so the page cannot drift from the data.
"""

from __future__ import annotations

from collections.abc import Mapping

from wallet.licences.catalogue import CATALOGUE, FieldSpec, LicenceKind

__all__ = ["render_markdown"]

_HOLDER = {"person": "a natural person", "enterprise": "an enterprise", "vehicle": "a vehicle"}


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _constraints(spec: FieldSpec) -> str:
    parts: list[str] = []
    if spec.max_length is not None:
        parts.append(f"at most {spec.max_length} characters")
    if spec.minimum is not None:
        parts.append(f"at least {spec.minimum}")
    if spec.pattern is not None:
        parts.append(f"matches `{spec.pattern}`")
    if spec.choice_labels:
        codes = ", ".join(
            f"`{code}`" if code == label else f"`{code}` {label}"
            for code, label in spec.choice_labels
        )
        many = "one or more of" if spec.type == "enum_list" else "one of"
        parts.append(f"{many} {codes}")
    elif spec.choices:
        parts.append("one of " + ", ".join(f"`{code}`" for code in spec.choices))
    if spec.pii:
        parts.append("personal data (stored encrypted)")
    return _cell("; ".join(parts)) or "-"


def _kind_section(kind: LicenceKind) -> list[str]:
    validity = (
        f"{kind.default_validity_years} years"
        if kind.default_validity_years is not None
        else "no fixed term"
    )
    lines = [
        f'<a id="kind-{kind.code}"></a>',
        "",
        f"## `{kind.code}`: {kind.name}",
        "",
        f"{kind.name_en} ({kind.standard}).",
        "",
        f"- catalogue type code: `{kind.type_code}`",
        f"- holder: {_HOLDER[kind.holder_type]}, code type `{kind.holder_code_type}` (GB/T 36903)",
        f"- licence number: field `{kind.number_field}`, format `{kind.number_format}`",
        f"- default validity: {validity}",
    ]
    if kind.resident_id_field is not None:
        lines.append(
            f"- `birth_date` and `sex` must agree with the resident ID in"
            f" `{kind.resident_id_field}`"
        )
    orders = [*kind.date_order]
    if {"valid_from", "valid_until"} <= set(kind.field_names):
        orders.insert(0, ("valid_from", "valid_until"))
    if orders:
        lines.append("- date order: " + ", ".join(f"`{a}` ≤ `{b}`" for a, b in orders))
    lines += [
        "",
        "| field | label | type | required | accepts |",
        "|---|---|---|---|---|",
    ]
    lines += [
        f"| `{spec.name}` | {_cell(spec.label)} | {spec.type} | "
        f"{'yes' if spec.required else 'no'} | {_constraints(spec)} |"
        for spec in kind.fields
    ]
    return lines


def render_markdown(catalogue: Mapping[str, LicenceKind] = CATALOGUE) -> str:
    """The Markdown page describing every kind of ``catalogue``, ending in a newline."""
    lines = [
        "# Licence kinds",
        "",
        "Generated from `wallet/licences/catalogue.json` by `scripts/catalogue_doc`;"
        " do not edit by hand (a test compares this page with the generator's output).",
        "",
        "A face (the fields printed on a licence) sent by the registry must carry every"
        " required field of its kind and no field the kind lacks; enum fields take the"
        " codes listed, dates are `YYYY-MM-DD`.",
        "",
        "| kind | name | holder | type code |",
        "|---|---|---|---|",
    ]
    lines += [
        f"| [`{kind.code}`](#kind-{kind.code}) | {kind.name} | {kind.holder_type}"
        f" | `{kind.type_code}` |"
        for kind in catalogue.values()
    ]
    for kind in catalogue.values():
        lines += ["", *_kind_section(kind)]
    return "\n".join(lines) + "\n"
