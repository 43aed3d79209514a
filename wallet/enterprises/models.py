"""Agents authorised by an enterprise's legal representative."""

from __future__ import annotations

import uuid

from tortoise import fields
from tortoise.models import Model

from wallet.holders.models import Enterprise, Person

__all__ = ["EnterpriseAgent"]


class EnterpriseAgent(Model):
    """A person authorised (委托授权, delegated authority) to act for an enterprise.

    Granted and revoked by the legal representative. An agent claims and
    activates the enterprise's licences and those of its vehicles. Status is
    active or revoked, revoked rows stay as history.
    """

    id = fields.UUIDField(primary_key=True)
    enterprise: fields.ForeignKeyRelation[Enterprise] = fields.ForeignKeyField(
        "wallet.Enterprise", related_name="agents", on_delete=fields.RESTRICT
    )
    person: fields.ForeignKeyRelation[Person] = fields.ForeignKeyField(
        "wallet.Person", related_name="agencies", on_delete=fields.RESTRICT
    )
    granted_by: fields.ForeignKeyRelation[Person] = fields.ForeignKeyField(
        "wallet.Person", related_name="agencies_granted", on_delete=fields.RESTRICT
    )
    enterprise_id: uuid.UUID
    person_id: uuid.UUID
    granted_by_id: uuid.UUID
    status = fields.CharField(max_length=16, db_index=True)
    created_at = fields.DatetimeField()
    revoked_at = fields.DatetimeField(null=True)

    class Meta:
        table = "enterprise_agent"
        indexes = (("enterprise_id", "person_id", "status"),)
