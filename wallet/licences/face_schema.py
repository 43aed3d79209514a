"""JSON Schemas of licence faces, generated from the catalogue (one per kind).

Two schemas per kind, for the OpenAPI documents: ``Face_<kind>`` is a face
as the registry recorded it (normalised by
:func:`~wallet.licences.catalogue.validate_face`: required fields present,
dates ``YYYY-MM-DD``, decimals as canonical text, enum codes);
``ShownFace_<kind>`` is a face as a holder or an officer is shown it, where
personal fields may be masked (``王*``, ``1990-**-**``) or left out (a
holder is never shown the photo reference), so nothing is required and
personal fields are plain text. :func:`face_by_kind` is the ``oneOf`` that chooses
the schema by the ``kind`` beside the face.
"""

from __future__ import annotations

from typing import Any, Literal

from wallet.licences.catalogue import CATALOGUE, FieldSpec, LicenceKind

__all__ = ["face_by_kind", "face_schemas"]

Form = Literal["Face", "ShownFace"]

#: identifier types: the shape JSON Schema can state (the check characters it cannot)
_IDENTIFIER: dict[str, dict[str, Any]] = {
    "resident_id": {"type": "string", "pattern": "^[0-9]{17}[0-9X]$"},
    "uscc": {"type": "string", "pattern": "^[0-9A-HJ-NPQRTUWXY]{18}$"},
    "division": {"type": "string", "pattern": "^[0-9]{6}$"},
    "plate": {"type": "string", "minLength": 7, "maxLength": 8},
    "licence_number": {"type": "string", "pattern": "^[0-9]{12}$"},
}


def _field(spec: FieldSpec, form: Form) -> dict[str, Any]:
    schema: dict[str, Any]
    if spec.pii and form == "ShownFace":
        schema = {"type": "string", "description": f"{spec.label} (personal: may be masked)"}
        return schema
    if spec.type == "string" or spec.type == "photo_ref":
        schema = {"type": "string"}
        if spec.max_length is not None:
            schema["maxLength"] = spec.max_length
        if spec.pattern is not None:
            schema["pattern"] = f"^(?:{spec.pattern})$"
    elif spec.type == "date":
        schema = {"type": "string", "format": "date"}
    elif spec.type == "integer":
        schema = {"type": "integer"}
        if spec.minimum is not None:
            schema["minimum"] = spec.minimum
    elif spec.type == "decimal":
        schema = {"type": "string", "pattern": r"^-?[0-9]+(\.[0-9]+)?$"}
    elif spec.type == "enum":
        schema = {"type": "string", "enum": list(spec.choices or ())}
    elif spec.type == "enum_list":
        schema = {"type": "array", "items": {"type": "string", "enum": list(spec.choices or ())}}
    else:
        schema = dict(_IDENTIFIER[spec.type])
    labels = ", ".join(f"{code} {label}" for code, label in spec.choice_labels or ())
    schema["description"] = spec.label + (f" ({labels})" if labels else "")
    return schema


def _face(kind: LicenceKind, form: Form) -> dict[str, Any]:
    fields = kind.fields
    schema: dict[str, Any] = {
        "type": "object",
        "title": f"{form}_{kind.code}",
        "description": f"{kind.name} ({kind.name_en}): "
        + ("the face as recorded" if form == "Face" else "the face as shown, masked"),
        "properties": {f.name: _field(f, form) for f in fields},
        "additionalProperties": False,
    }
    if form == "Face":
        schema["required"] = [f.name for f in fields if f.required]
    return schema


def face_schemas() -> dict[str, dict[str, Any]]:
    """Every kind's ``Face_<kind>`` and ``ShownFace_<kind>`` schema, by component name."""
    return {
        f"{form}_{kind.code}": _face(kind, form)
        for kind in CATALOGUE.values()
        for form in ("Face", "ShownFace")
    }


def face_by_kind(form: Form, *, nullable_kind: bool = False) -> dict[str, Any]:
    """A schema for an object's ``kind`` and ``face``: the face schema its kind names.

    A ``oneOf`` of one branch per kind (``kind`` a constant, ``face`` that
    kind's schema), so exactly the branch of the object's ``kind`` applies;
    with ``nullable_kind``, a null ``kind`` (a verdict about no known
    licence) carries an empty face. Schemas are named as
    ``{"x-component": NAME}``, which the OpenAPI builder turns into ``$ref``.
    """
    branches: list[dict[str, Any]] = [
        {
            "properties": {
                "kind": {"const": kind.code},
                "face": {"x-component": f"{form}_{kind.code}"},
            },
        }
        for kind in CATALOGUE.values()
    ]
    if nullable_kind:
        branches.append(
            {
                "properties": {
                    "kind": {"type": "null"},
                    "face": {"type": "object", "maxProperties": 0},
                }
            }
        )
    return {"oneOf": branches}
