"""Operators: binding an enterprise to its legal representative, and authorising agents.

Who is an enterprise's legal representative is decided by a
:class:`LegalRepresentativeCheck`. The registry feed carries the person in
charge (负责人, person in charge) of the business permit by name only, so
the rule implemented here, :class:`PermitPersonInCharge`, accepts the bound
person whose name (blind index) equals the ``person_in_charge`` of one of
the enterprise's current, valid permits. A production deployment plugs in
a check against the enterprise register (it knows the representative's ID
number). The legal representative grants, lists and revokes agents, each a
person who has bound their real name; revoking an agent ends the
activations that agent made of the enterprise's licences.
"""

from __future__ import annotations

import uuid
from typing import Final, Protocol

from wallet import identifiers
from wallet.accounts.identity import parse_claim
from wallet.accounts.models import Account
from wallet.accounts.sessions import HolderSession
from wallet.accounts.transport_key import TransportKey
from wallet.activation.service import end_account_activations
from wallet.audit.service import append as audit
from wallet.claims.faces import current_faces
from wallet.clock import Clock
from wallet.enterprises.access import ACTIVE, legal_rep_of, principal_of, require_person
from wallet.enterprises.models import EnterpriseAgent
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
from wallet.licences.catalogue import CATALOGUE
from wallet.licences.models import Licence
from wallet.licences.status import RegistryStatus
from wallet.uow import UnitOfWork
from wallet.vault import Vault, mask_id_number, mask_name

__all__ = [
    "EnterpriseService",
    "LegalRepresentativeCheck",
    "NotLegalRepresentative",
    "PermitPersonInCharge",
]

_PERMIT_KINDS: Final = tuple(k.code for k in CATALOGUE.values() if k.holder_type == "enterprise")


class NotLegalRepresentative(Forbidden):
    type_code = "not_legal_representative"
    title = "You are not this enterprise's legal representative"


class AgentUnknown(NotFound):
    type_code = "agent_unknown"
    title = "No person with that name and ID number has bound a WeChat account"


class LegalRepresentativeCheck(Protocol):
    """Decides whether ``person`` is ``enterprise``'s legal representative."""

    async def confirms(self, enterprise: Enterprise, person: Person) -> bool:
        """True when the person represents the enterprise in law."""
        ...


class PermitPersonInCharge:
    """Development rule: the person in charge named on a current, valid permit."""

    def __init__(self, vault: Vault, clock: Clock) -> None:
        self.vault = vault
        self.clock = clock

    async def confirms(self, enterprise: Enterprise, person: Person) -> bool:
        """Compare the blind index of each valid permit's person in charge with the person's."""
        today = self.clock.now().date()
        permits = [
            p
            for p in await Licence.filter(
                holder_enterprise_id=enterprise.id,
                kind__in=_PERMIT_KINDS,
                status=RegistryStatus.VALID.value,
            )
            if p.valid_until is None or p.valid_until >= today
        ]
        faces = await current_faces(self.vault, permits)
        return any(
            self.vault.blind_index(str(face.get("person_in_charge", "")), "name")
            == person.name_index
            for face in faces.values()
        )


class EnterpriseService:
    """Enterprise binding and agents over one runtime's vault, clock and transport key."""

    def __init__(
        self, vault: Vault, clock: Clock, transport: TransportKey, legal: LegalRepresentativeCheck
    ) -> None:
        self.vault = vault
        self.clock = clock
        self.transport = transport
        self.legal = legal

    async def bind(
        self, uow: UnitOfWork, session: HolderSession, body: EnterpriseBindIn
    ) -> EnterpriseOut:
        """Record the caller as the enterprise's legal representative (idempotent)."""
        person_id = require_person(session)
        uscc = identifiers.uscc(body.uscc)
        conn, now = uow.conn, self.clock.now()
        query = Enterprise.filter(uscc=uscc).using_db(conn)
        if uow.is_postgres:
            query = query.select_for_update()
        enterprise = await query.first()
        if enterprise is None:
            raise NotFound("the registry knows no operator with that USCC")
        previous = legal_rep_of(enterprise)
        if previous != person_id:
            person = await Person.filter(id=person_id).using_db(conn).get()
            if not await self.legal.confirms(enterprise, person):
                raise NotLegalRepresentative(
                    "the registry names another person in charge of this operator"
                )
            enterprise.legal_rep = person
            enterprise.updated_at = now
            await enterprise.save(using_db=conn, update_fields=["legal_rep_id", "updated_at"])
            await audit(
                conn,
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

    async def enterprises(self, session: HolderSession) -> EnterpriseList:
        """The enterprises the caller acts for, with its role in each."""
        principal = await principal_of(session)
        rows = await Enterprise.filter(id__in=principal.enterprise_ids).order_by("uscc")
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
        enterprise = await self._represented(session, uscc)
        claim = await parse_claim(
            body.name,
            body.id_number,
            encrypted=body.encrypted,
            transport=self.transport,
            today=self.clock.now().date(),
        )
        conn, now = uow.conn, self.clock.now()
        agent = (
            await Person.filter(
                id_number_index=self.vault.blind_index(claim.id_number, "resident_id")
            )
            .using_db(conn)
            .first()
        )
        if (
            agent is None
            or agent.name_index != self.vault.blind_index(claim.name, "name")
            or not await Account.filter(person_id=agent.id).using_db(conn).exists()
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
        row = (
            await EnterpriseAgent.filter(
                enterprise_id=enterprise.id, person_id=agent.id, status=ACTIVE
            )
            .using_db(conn)
            .first()
        )
        if row is None:
            row = await EnterpriseAgent.create(
                id=uuid.uuid4(),
                enterprise_id=enterprise.id,
                person_id=agent.id,
                granted_by_id=session.person_id,
                status=ACTIVE,
                created_at=now,
                using_db=conn,
            )
            await audit(
                conn,
                at=now,
                actor=f"account:{session.account_id}",
                action="agent.grant",
                subject=enterprise.uscc,
                detail={"agent": str(row.id), "id_number": mask_id_number(claim.id_number)},
            )
        return self._agent_out(row, agent)

    async def agents(self, session: HolderSession, uscc: str) -> AgentList:
        """The enterprise's agents, active and revoked, newest first."""
        enterprise = await self._represented(session, uscc)
        rows = (
            await EnterpriseAgent.filter(enterprise_id=enterprise.id)
            .order_by("-created_at")
            .prefetch_related("person")
        )
        return AgentList(items=[self._agent_out(row, row.person) for row in rows])

    async def revoke(
        self, uow: UnitOfWork, session: HolderSession, uscc: str, agent_id: str
    ) -> AgentOut:
        """Revoke an agent; the activations it made of the enterprise's licences end."""
        enterprise = await self._represented(session, uscc)
        conn, now = uow.conn, self.clock.now()
        try:
            key = uuid.UUID(agent_id)
        except ValueError:
            raise NotFound("no such agent") from None
        row = (
            await EnterpriseAgent.filter(id=key, enterprise_id=enterprise.id).using_db(conn).first()
        )
        if row is None:
            raise NotFound("no such agent")
        person = await Person.filter(id=row.person_id).using_db(conn).get()
        if row.status == ACTIVE:
            row.status, row.revoked_at = "revoked", now
            await row.save(using_db=conn, update_fields=["status", "revoked_at"])
            ended = 0
            account = await Account.filter(person_id=person.id).using_db(conn).first()
            if account is not None:
                ended = await end_account_activations(
                    conn, account.id, now, status="revoked", enterprise_id=enterprise.id
                )
            await audit(
                conn,
                at=now,
                actor=f"account:{session.account_id}",
                action="agent.revoke",
                subject=enterprise.uscc,
                detail={"agent": str(row.id), "activations_ended": ended},
            )
        return self._agent_out(row, person)

    async def _represented(self, session: HolderSession, uscc: str) -> Enterprise:
        """The enterprise of ``uscc`` when the caller is its legal representative."""
        person_id = require_person(session)
        enterprise = await Enterprise.get_or_none(uscc=uscc.strip().upper())
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
