"""Declared path and query parameters: their bounds, in the document and at the door.

A :class:`Param` carries the JSON Schema the OpenAPI document publishes.
Every path parameter must be declared with bounds (a pattern, a length or
an enumeration for strings; a range for integers), and
:func:`check_path_params` checks the request against them before the
handler runs: an unbounded or malformed value never reaches a query, and the
answer is a 422 that names the parameter and the rule, never the value (or,
for a reference, the 404 of the resource it cannot name).
Query parameters are declared by a pydantic model (:func:`query_params`),
which is also what the handler parses them with, so both agree.

Patterns are ASCII (``[0-9]``, never ``\\d``, which also matches other
scripts' digits) and must match the whole value.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel
from starlette.requests import Request

from wallet.errors import ValidationFailed, WalletError

__all__ = ["Param", "check_path_params", "query_params"]

_KEYWORDS = frozenset(
    {"type", "pattern", "minLength", "maxLength", "minimum", "maximum", "format", "enum"}
)
_NON_ASCII_CLASSES = re.compile(r"\\[dDwWsS]")
_INTEGER = re.compile(r"-?[0-9]{1,18}")


@dataclass(frozen=True)
class Param:
    """A path or query parameter, with the schema the document publishes."""

    name: str
    where: str = "query"
    description: str = ""
    schema: dict[str, Any] = field(default_factory=lambda: {"type": "string"})
    required: bool = False
    #: what a malformed path value answers instead of 422: a reference that cannot name a
    #: resource names none, so it is that resource's "not found"
    missing: type[WalletError] | None = None

    def bounded(self) -> None:
        """Refuse a schema the door check cannot enforce (raised when routes are built)."""
        unknown = set(self.schema) - _KEYWORDS
        kind = self.schema.get("type")
        if unknown or kind not in ("string", "integer"):
            raise ValueError(f"parameter {self.name}: unsupported schema {self.schema}")
        if kind == "integer" and not {"minimum", "maximum"} <= set(self.schema):
            raise ValueError(f"parameter {self.name}: an integer needs minimum and maximum")
        if kind == "string" and not {"pattern", "maxLength", "enum"} & set(self.schema):
            raise ValueError(f"parameter {self.name}: a string needs a pattern or a maxLength")
        if _NON_ASCII_CLASSES.search(self.schema.get("pattern", "")):
            raise ValueError(f"parameter {self.name}: use ASCII classes like [0-9] in patterns")

    def check(self, raw: str) -> tuple[Any, str | None]:
        """``raw`` as its declared type, and the rule it breaks (None when it breaks none)."""
        schema = self.schema
        if schema["type"] == "integer":
            if not _INTEGER.fullmatch(raw):
                return raw, "type"
            value = int(raw)
            if value < schema["minimum"]:
                return raw, "minimum"
            if value > schema["maximum"]:
                return raw, "maximum"
            return value, None
        if "enum" in schema and raw not in schema["enum"]:
            return raw, "enum"
        if len(raw) < schema.get("minLength", 0):
            return raw, "minLength"
        if len(raw) > schema.get("maxLength", len(raw)):
            return raw, "maxLength"
        pattern = schema.get("pattern")
        if pattern is not None and not re.fullmatch(pattern, raw, re.ASCII):
            return raw, "pattern"
        return raw, None


_MESSAGES = {
    "type": "must be an integer",
    "minimum": "below the minimum",
    "maximum": "above the maximum",
    "enum": "not one of the allowed values",
    "minLength": "too short",
    "maxLength": "too long",
    "pattern": "does not have the documented form",
}


def check_path_params(request: Request, params: dict[str, Param]) -> None:
    """Check (and convert) the request's path parameters; 422 naming the broken rules."""
    values = request.scope["path_params"]
    errors = []
    for name, param in params.items():
        value, rule = param.check(str(values[name]))
        if rule is None:
            values[name] = value
        elif param.missing is not None:
            raise param.missing()
        else:
            # The value is never echoed: a path may carry an identifier of a person.
            errors.append({"field": f"path.{name}", "rule": rule, "message": _MESSAGES[rule]})
    if errors:
        raise ValidationFailed(errors=errors)


def query_params(model: type[BaseModel]) -> list[Param]:
    """The query parameters ``model`` parses, for the document (``null`` is not sendable)."""
    schema = model.model_json_schema()
    required = set(schema.get("required", ()))
    params = []
    for name, prop in schema["properties"].items():
        prop = dict(prop)
        variants = [v for v in prop.pop("anyOf", []) if v.get("type") != "null"]
        if len(variants) == 1:
            prop = {**variants[0], **prop}
        description = prop.pop("description", "")
        prop.pop("title", None)
        if prop.get("default", ...) is None:
            del prop["default"]
        params.append(Param(name, "query", description, prop, name in required))
    return params
