"""Errors of the holder side's shared types (each a :class:`~wallet.errors.WalletError`).

Tree::

    IdentityNotBound (403 identity_not_bound)           bind a real name first
"""

from __future__ import annotations

from wallet.errors import Forbidden

__all__ = ["IdentityNotBound"]


class IdentityNotBound(Forbidden):
    type_code = "identity_not_bound"
    title = "Bind your real name first (POST /api/v1/identity)"
