"""Every query of enterprise agents.

Each method runs on the caller's unit of work (a transaction, or
:func:`wallet.uow.read_only` for reads).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Final

from wallet.enterprises.models import EnterpriseAgent
from wallet.uow import UnitOfWork

__all__ = ["ACTIVE", "EnterpriseRepository"]

ACTIVE: Final = "active"


class EnterpriseRepository:
    """Queries of :class:`EnterpriseAgent`."""

    async def agent_of(self, uow: UnitOfWork, person_id: uuid.UUID) -> list[uuid.UUID]:
        """The enterprises ``person_id`` is an active agent of."""
        ids = (
            await EnterpriseAgent.filter(person_id=person_id, status=ACTIVE)
            .using_db(uow.conn)
            .values_list("enterprise_id", flat=True)
        )
        return [uuid.UUID(str(value)) for value in ids]

    async def active_agent(
        self, uow: UnitOfWork, enterprise_id: uuid.UUID, person_id: uuid.UUID
    ) -> EnterpriseAgent | None:
        """The active authorisation of ``person_id`` for ``enterprise_id``, if any."""
        return (
            await EnterpriseAgent.filter(
                enterprise_id=enterprise_id, person_id=person_id, status=ACTIVE
            )
            .using_db(uow.conn)
            .first()
        )

    async def agent(
        self, uow: UnitOfWork, agent_id: uuid.UUID, enterprise_id: uuid.UUID
    ) -> EnterpriseAgent | None:
        """One authorisation of ``enterprise_id``, active or revoked."""
        return (
            await EnterpriseAgent.filter(id=agent_id, enterprise_id=enterprise_id)
            .using_db(uow.conn)
            .first()
        )

    async def agents(self, uow: UnitOfWork, enterprise_id: uuid.UUID) -> list[EnterpriseAgent]:
        """Every authorisation of ``enterprise_id``, newest first, with its person."""
        return (
            await EnterpriseAgent.filter(enterprise_id=enterprise_id)
            .using_db(uow.conn)
            .order_by("-created_at")
            .prefetch_related("person")
        )

    async def add(self, uow: UnitOfWork, agent: EnterpriseAgent) -> EnterpriseAgent:
        """Insert a new authorisation."""
        await agent.save(using_db=uow.conn, force_create=True)
        return agent

    async def revoke(self, uow: UnitOfWork, agent: EnterpriseAgent, now: datetime) -> None:
        """Mark ``agent`` revoked at ``now`` (the row stays as history)."""
        agent.status, agent.revoked_at = "revoked", now
        await agent.save(using_db=uow.conn, update_fields=["status", "revoked_at"])
