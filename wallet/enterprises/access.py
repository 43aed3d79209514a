"""Who may act on which licences: the caller's person and the enterprises it represents.

A person licence is the bound person's. An enterprise or vehicle licence
belongs to the enterprise it names, and its legal representative or an
active agent acts for it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Final, Literal

from wallet.accounts.errors import IdentityNotBound
from wallet.accounts.sessions import HolderSession
from wallet.enterprises.models import EnterpriseAgent
from wallet.holders.models import Enterprise
from wallet.licences.models import Licence

__all__ = [
    "ACTIVE",
    "Principal",
    "Role",
    "holder_of",
    "legal_rep_of",
    "principal_of",
    "require_person",
]

ACTIVE: Final = "active"
Role = Literal["legal_representative", "agent"]


def holder_of(licence: Licence) -> tuple[uuid.UUID | None, uuid.UUID | None]:
    """The licence's holder columns: (person id, enterprise id)."""
    person: uuid.UUID | None = licence.holder_person_id  # type: ignore[attr-defined]
    enterprise: uuid.UUID | None = licence.holder_enterprise_id  # type: ignore[attr-defined]
    return person, enterprise


def legal_rep_of(enterprise: Enterprise) -> uuid.UUID | None:
    """The enterprise's legal representative column (a person id)."""
    value: uuid.UUID | None = enterprise.legal_rep_id  # type: ignore[attr-defined]
    return value


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

    def may_act_on(self, licence: Licence) -> bool:
        """Whether the caller holds ``licence`` or acts for the enterprise holding it."""
        person, enterprise = holder_of(licence)
        if person is not None:
            return self.person_id is not None and person == self.person_id
        return enterprise is not None and enterprise in self.roles


def require_person(session: HolderSession) -> uuid.UUID:
    """The bound person of the session; :class:`IdentityNotBound` before binding."""
    if session.person_id is None:
        raise IdentityNotBound()
    return session.person_id


async def principal_of(session: HolderSession) -> Principal:
    """The :class:`Principal` of a session (two indexed queries once bound)."""
    if session.person_id is None:
        return Principal(session.account_id, None, {})
    roles: dict[uuid.UUID, Role] = {}
    agent_of = await EnterpriseAgent.filter(person_id=session.person_id, status=ACTIVE).values_list(
        "enterprise_id", flat=True
    )
    for enterprise_id in agent_of:
        roles[uuid.UUID(str(enterprise_id))] = "agent"
    legal = await Enterprise.filter(legal_rep_id=session.person_id).values_list("id", flat=True)
    for enterprise_id in legal:
        roles[uuid.UUID(str(enterprise_id))] = "legal_representative"
    return Principal(session.account_id, session.person_id, roles)
