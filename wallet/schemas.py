"""What every request schema shares: unknown fields refused, strings stripped."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

__all__ = ["StrictIn"]


class StrictIn(BaseModel):
    """Base of request bodies. Subclasses that set ``model_config`` (for examples)
    keep these settings: pydantic merges a subclass's config into its parent's."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
