"""What every request schema shares: unknown fields refused, strings stripped, and the
patterns of the identifiers that cross the boundary (ASCII only, whole value)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from wallet.identifiers import PROVINCES

__all__ = [
    "CURSOR_PATTERN",
    "KIND_PATTERN",
    "PROVINCE_PATTERN",
    "REF_PATTERN",
    "USCC_PATTERN",
    "UUID_PATTERN",
    "StrictIn",
]

REF_PATTERN = r"^L[A-Z2-7]{16}$"
"""A licence reference: ``L`` and 16 base32 characters (80 random bits)."""

USCC_PATTERN = r"^[0-9A-HJ-NPQRTUWXYa-hj-npqrtuwxy]{18}$"
"""A unified social credit code's form (GB 32100): 18 of its 31 characters (no I O S V Z),
either case; :func:`wallet.identifiers.uscc` upper-cases it and checks its codes."""

UUID_PATTERN = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
"""A UUID in its hyphenated form (the only form the API hands out)."""

KIND_PATTERN = r"^[a-z][a-z0-9_]{0,31}$"
"""A licence kind's catalogue key, e.g. ``qualification``."""

PROVINCE_PATTERN = "^(" + "|".join(sorted(PROVINCES)) + ")0000$"
"""A province's division code (GB/T 2260), e.g. ``210000``."""

CURSOR_PATTERN = r"^[A-Za-z0-9_=-]{1,200}$"
"""An opaque keyset cursor handed out by a list (base64url)."""


class StrictIn(BaseModel):
    """Base of request bodies. Subclasses that set ``model_config`` (for examples)
    keep these settings: pydantic merges a subclass's config into its parent's."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
