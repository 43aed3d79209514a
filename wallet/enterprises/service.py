"""Operators: binding an enterprise to its legal representative, and authorising agents.

Who is an enterprise's legal representative is decided by the
:class:`LegalRepresentativeCheck` the runtime gives the service: in
development :class:`~wallet.claims.faces.PermitPersonInCharge` (the person
in charge named on a current, valid permit); a production deployment plugs
in a check against the enterprise register. The legal representative
grants, lists and revokes agents, each a person who has bound their real
name; revoking an agent ends the
activations that agent made of the enterprise's licences (through the
:class:`~wallet.accounts.service.ActivationEnder` the service is given: the
activation layer sits above this one).

:meth:`EnterpriseService.principal_of` tells the layers above which
enterprises a session acts for.
"""

from __future__ import annotations

import uuid
from typing import Protocol

from wallet import identifiers
from wallet.accounts.identity import parse_claim
from wallet.accounts.repository import AccountRepository
from wallet.accounts.service import ActivationEnder
from wallet.accounts.transport_key import TransportKey
from wallet.audit.service import append as audit
from wallet.clock import Clock
from wallet.enterprises.models import EnterpriseAgent
from wallet.enterprises.repository import ACTIVE, EnterpriseRepository
from wallet.enterprises.schemas import (
    AgentIn,
    AgentList,
    AgentOut,
    EnterpriseBindIn,
    EnterpriseList,
    EnterpriseOut,
)
from wallet.errors import Forbidden, NotFound, ValidationFailed
from wallet.holders.models import Enterprise, Person
from wallet.holders.principal import HolderSession, Principal, Role, require_person
from wallet.holders.repository import HolderRepository, legal_rep_of
from wallet.uow import UnitOfWork
from wallet.vault import Vault, mask_id_number, mask_name

__all__ = [
    "EnterpriseService",
    "LegalRepresentativeCheck",
    "NotLegalRepresentative",
]


class NotLegalRepresentative(Forbidden):
    type_code = "not_legal_representative"
    title = "You are not this enterprise's legal representative"


class AgentUnknown(NotFound):
    type_code = "agent_unknown"
    title = "No person with that name and ID number has bound a WeChat account"


class LegalRepresentativeCheck(Protocol):
    """Decides whether ``person`` is ``enterprise``'s legal representative.

    The development rule, :class:`~wallet.claims.faces.PermitPersonInCharge`,
    reads the permits' faces; the runtime chooses the rule.
    """

    async def confirms(self, uow: UnitOfWork, enterprise: Enterprise, person: Person) -> bool:
        """True when the person represents the enterprise in law."""
        ...


class EnterpriseService:
    """Enterprise binding and agents over one runtime's vault, clock and transport key."""

    def __init__(
        self,
        *,
        repository: EnterpriseRepository,
        holders: HolderRepository,
        accounts: AccountRepository,
        activations: ActivationEnder,
        vault: Vault,
        clock: Clock,
        transport: TransportKey,
        legal: LegalRepresentativeCheck,
    ) -> None:
        self.repository = repository
        self.holders = holders
        self.accounts = accounts
        self.activations = activations
        self.vault = vault
        self.clock = clock
        self.transport = transport
        self.legal = legal

    async def principal_of(self, uow: UnitOfWork, session: HolderSession) -> Principal:
        """The :class:`Principal` of a session (two indexed queries once bound)."""
        if session.person_id is None:
            return Principal(session.account_id, None, {})
        roles: dict[uuid.UUID, Role] = {}
        for enterprise_id in await self.repository.agent_of(uow, session.person_id):
            roles[enterprise_id] = "agent"
        for enterprise_id in await self.holders.represented_by(uow, session.person_id):
            roles[enterprise_id] = "legal_representative"
        return Principal(session.account_id, session.person_id, roles)

    async def bind(
        self, uow: UnitOfWork, session: HolderSession, body: EnterpriseBindIn
    ) -> EnterpriseOut:
        """Record the caller as the enterprise's legal representative (idempotent)."""
        person_id = require_person(session)
        uscc = identifiers.uscc(body.uscc)
        now = self.clock.now()
        enterprise = await self.holders.enterprise_by_uscc(uow, uscc, lock=True)
        if enterprise is None:
            raise NotFound("the registry knows no operator with that USCC")
        previous = legal_rep_of(enterprise)
        if previous != person_id:
            person = await self.holders.person(uow, person_id)
            if not await self.legal.confirms(uow, enterprise, person):
                raise NotLegalRepresentative(
                    "the registry names another person in charge of this operator"
                )
            await self.holders.set_legal_rep(uow, enterprise, person, now)
            await audit(
                uow,
                at=now,
                actor=f"account:{session.account_id}",
                action="enterprise.bind",
                subject=uscc,
                detail={"replaced_previous": previous is not None},
            )
        return EnterpriseOut(
            uscc=enterprise.uscc,
            name=enterprise.name,
            division=enterprise.division,
            role="legal_representative",
        )

    async def enterprises(self, uow: UnitOfWork, session: HolderSession) -> EnterpriseList:
        """The enterprises the caller acts for, with its role in each."""
        principal = await self.principal_of(uow, session)
        rows = await self.holders.enterprises(uow, principal.enterprise_ids)
        return EnterpriseList(
            items=[
                EnterpriseOut(
                    uscc=e.uscc, name=e.name, division=e.division, role=principal.roles[e.id]
                )
                for e in rows
            ]
        )

    async def grant(
        self, uow: UnitOfWork, session: HolderSession, uscc: str, body: AgentIn
    ) -> AgentOut:
        """Authorise a person (who has bound their real name) to act for the enterprise."""
        enterprise = await self._represented(uow, session, uscc)
        claim = await parse_claim(
            body.name,
            body.id_number,
            encrypted=body.encrypted,
            transport=self.transport,
            today=self.clock.now().date(),
        )
        now = self.clock.now()
        agent = await self.holders.person_by_id_number(
            uow, self.vault.blind_index(claim.id_number, "resident_id")
        )
        if (
            agent is None
            or agent.name_index != self.vault.blind_index(claim.name, "name")
            or not await self.accounts.is_bound(uow, agent.id)
        ):
            raise AgentUnknown("the agent must sign in and bind their real name first")
        if agent.id == legal_rep_of(enterprise):
            raise ValidationFailed(
                errors=[
                    {
                        "field": "id_number",
                        "rule": "self",
                        "message": "the legal representative acts already",
                    }
                ]
            )
        row = await self.repository.active_agent(uow, enterprise.id, agent.id)
        if row is None:
            row = await self.repository.add(
                uow,
                EnterpriseAgent(
                    id=uuid.uuid4(),
                    enterprise_id=enterprise.id,
                    person_id=agent.id,
                    granted_by_id=session.person_id,
                    status=ACTIVE,
                    created_at=now,
                ),
            )
            await audit(
                uow,
                at=now,
                actor=f"account:{session.account_id}",
                action="agent.grant",
                subject=enterprise.uscc,
                detail={"agent": str(row.id), "id_number": mask_id_number(claim.id_number)},
            )
        return self._agent_out(row, agent)

    async def agents(self, uow: UnitOfWork, session: HolderSession, uscc: str) -> AgentList:
        """The enterprise's agents, active and revoked, newest first."""
        enterprise = await self._represented(uow, session, uscc)
        rows = await self.repository.agents(uow, enterprise.id)
        return AgentList(items=[self._agent_out(row, row.person) for row in rows])

    async def revoke(
        self, uow: UnitOfWork, session: HolderSession, uscc: str, agent_id: str
    ) -> AgentOut:
        """Revoke an agent; the activations it made of the enterprise's licences end."""
        enterprise = await self._represented(uow, session, uscc)
        now = self.clock.now()
        try:
            key = uuid.UUID(agent_id)
        except ValueError:
            raise NotFound("no such agent") from None
        row = await self.repository.agent(uow, key, enterprise.id)
        if row is None:
            raise NotFound("no such agent")
        person = await self.holders.person(uow, row.person_id)
        if row.status == ACTIVE:
            await self.repository.revoke(uow, row, now)
            ended = 0
            account = await self.accounts.bound_to(uow, person.id)
            if account is not None:
                ended = await self.activations.end_for_account(
                    uow, account.id, now, status="revoked", enterprise_id=enterprise.id
                )
            await audit(
                uow,
                at=now,
                actor=f"account:{session.account_id}",
                action="agent.revoke",
                subject=enterprise.uscc,
                detail={"agent": str(row.id), "activations_ended": ended},
            )
        return self._agent_out(row, person)

    async def _represented(self, uow: UnitOfWork, session: HolderSession, uscc: str) -> Enterprise:
        """The enterprise of ``uscc`` when the caller is its legal representative."""
        person_id = require_person(session)
        enterprise = await self.holders.enterprise_by_uscc(uow, uscc.strip().upper())
        if enterprise is None or legal_rep_of(enterprise) != person_id:
            raise NotLegalRepresentative("only the bound legal representative manages agents")
        return enterprise

    def _agent_out(self, row: EnterpriseAgent, person: Person) -> AgentOut:
        return AgentOut(
            id=row.id,
            status=row.status,  # type: ignore[arg-type]
            name=mask_name(self.vault.open(person.name_sealed, "person.name")),
            id_number=mask_id_number(self.vault.open(person.id_number_sealed, "person.id_number")),
            granted_at=row.created_at,
            revoked_at=row.revoked_at,
        )
