"""Masking of personal data for responses and logs (never for storage)."""

from __future__ import annotations

__all__ = ["mask_id_number", "mask_name", "mask_phone", "mask_text"]


def mask_name(name: str) -> str:
    """``张三丰`` → ``张*丰``; ``张三`` → ``张*``; one character stays as ``*``."""
    name = name.strip()
    if len(name) <= 1:
        return "*" if name else ""
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def mask_id_number(value: str) -> str:
    """``210102199001011234`` → ``2101**********1234``: province+prefecture and last four."""
    value = value.strip()
    if len(value) <= 8:
        return "*" * len(value)
    return value[:4] + "*" * (len(value) - 8) + value[-4:]


def mask_phone(value: str) -> str:
    """``13812345678`` → ``138****5678``."""
    value = value.strip()
    if len(value) < 7:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]


def mask_text(value: str, keep: int = 1) -> str:
    """Generic masking for other personal text (addresses): keep ``keep`` leading chars."""
    value = value.strip()
    return value[:keep] + "*" * max(len(value) - keep, 0)
