"""Who calls on the holder side: the session and the principal it acts as.

The bottom of the holder-side chain (``holders`` → ``accounts`` →
``enterprises`` → ``claims`` → ``activation``): plain values every layer
above shares. A :class:`HolderSession` is resolved from the bearer token by
the accounts service; a :class:`Principal` (the session with the
enterprises its person acts for) by the enterprises service.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Literal

from wallet.holders.errors import IdentityNotBound

__all__ = ["HolderIds", "HolderSession", "Principal", "Role", "require_person"]

Role = Literal["legal_representative", "agent"]
HolderIds = tuple[uuid.UUID | None, uuid.UUID | None]
"""A licence's holder columns: (person id, enterprise id); exactly one is set."""


@dataclass(frozen=True)
class HolderSession:
    """Who calls: the account, its bound person (None before real-name binding), the device."""

    account_id: uuid.UUID
    person_id: uuid.UUID | None
    device_id: str | None


@dataclass(frozen=True)
class Principal:
    """An account with its bound person and the enterprises that person acts for."""

    account_id: uuid.UUID
    person_id: uuid.UUID | None
    roles: dict[uuid.UUID, Role]

    @property
    def enterprise_ids(self) -> list[uuid.UUID]:
        """The enterprises represented, as legal representative or agent."""
        return list(self.roles)

    def may_act_on(self, holder: HolderIds) -> bool:
        """Whether the caller is the holder ``(person, enterprise)`` or acts for it."""
        person, enterprise = holder
        if person is not None:
            return self.person_id is not None and person == self.person_id
        return enterprise is not None and enterprise in self.roles


def require_person(session: HolderSession) -> uuid.UUID:
    """The bound person of the session; :class:`IdentityNotBound` before binding."""
    if session.person_id is None:
        raise IdentityNotBound()
    return session.person_id
