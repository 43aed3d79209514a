"""The purposes a relying party may state for a grant: a fixed catalogue of codes.

Codes are ASCII (they travel in the signed copy as ``pur``); each has the
Chinese label printed on an annotated copy.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Final

__all__ = ["PURPOSES", "purpose_label"]

PURPOSES: Final = MappingProxyType(
    {
        "employment": "入职核验",
        "carriage": "承运核验",
        "insurance": "投保核验",
        "rental": "租赁核验",
        "finance": "金融服务核验",
        "inter_department": "部门间共享",
    }
)
"""Purpose code → label."""


def purpose_label(code: str) -> str:
    """The printed label of a purpose code."""
    return PURPOSES[code]
