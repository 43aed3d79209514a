"""Holder tables. Personal data (names and ID numbers of people) is stored sealed
by the vault, with a blind index for exact lookup."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

__all__ = ["Enterprise", "Person", "Vehicle"]


class Person(Model):
    """A natural person, known by the blind index of their resident ID number."""

    id = fields.UUIDField(primary_key=True)
    id_number_index = fields.CharField(max_length=64, unique=True)
    id_number_sealed = fields.TextField()
    name_sealed = fields.TextField()
    name_index = fields.CharField(max_length=64, db_index=True)
    created_at = fields.DatetimeField()
    updated_at = fields.DatetimeField()

    class Meta:
        table = "person"


class Enterprise(Model):
    """An operator (enterprise or individual business), known by its USCC."""

    id = fields.UUIDField(primary_key=True)
    uscc = fields.CharField(max_length=18, unique=True)
    name = fields.CharField(max_length=256)
    division = fields.CharField(max_length=6, db_index=True)
    legal_rep: fields.ForeignKeyNullableRelation[Person] = fields.ForeignKeyField(
        "wallet.Person", related_name="enterprises", null=True, on_delete=fields.SET_NULL
    )
    created_at = fields.DatetimeField()
    updated_at = fields.DatetimeField()

    class Meta:
        table = "enterprise"


class Vehicle(Model):
    """A vehicle of an enterprise, known by plate number and plate colour."""

    id = fields.UUIDField(primary_key=True)
    plate_number = fields.CharField(max_length=16)
    plate_colour = fields.CharField(max_length=2, default="")
    enterprise: fields.ForeignKeyRelation[Enterprise] = fields.ForeignKeyField(
        "wallet.Enterprise", related_name="vehicles", on_delete=fields.RESTRICT
    )
    created_at = fields.DatetimeField()
    updated_at = fields.DatetimeField()

    class Meta:
        table = "vehicle"
        unique_together = (("plate_number", "plate_colour"),)
