"""Sharing: relying parties, grants and their licences, share codes and the access log."""

from uuid import uuid4

from tortoise import fields, migrations
from tortoise.fields.base import OnDelete
from tortoise.indexes import Index
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [("wallet", "0008_verification_record_id")]

    initial = False

    operations = [
        ops.CreateModel(
            name="RelyingParty",
            fields=[
                ("id", fields.IntField(primary_key=True, unique=True, db_index=True)),
                ("party_id", fields.CharField(unique=True, max_length=40)),
                ("name", fields.CharField(max_length=128)),
                ("uscc", fields.CharField(unique=True, max_length=18)),
                ("purposes", fields.JSONField()),
                ("secret_sealed", fields.TextField(unique=False)),
                ("sm2_public_key", fields.CharField(null=True, max_length=130)),
                ("status", fields.CharField(max_length=16)),
                ("created_by", fields.CharField(max_length=128)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                (
                    "disabled_at",
                    fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
                ),
            ],
            options={"table": "relying_party", "app": "wallet", "pk_attr": "id"},
            bases=["Model"],
        ),
        ops.CreateModel(
            name="Grant",
            fields=[
                (
                    "id",
                    fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True),
                ),
                ("public_id", fields.CharField(unique=True, max_length=17)),
                (
                    "party",
                    fields.ForeignKeyField(
                        "wallet.RelyingParty",
                        source_field="party_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="grants",
                        on_delete=OnDelete.RESTRICT,
                    ),
                ),
                ("source", fields.CharField(max_length=16)),
                ("granted_by", fields.CharField(max_length=128)),
                ("purpose", fields.CharField(max_length=32)),
                ("fields_granted", fields.JSONField()),
                ("expires_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ("max_uses", fields.IntField(null=True)),
                ("uses", fields.IntField(default=0)),
                (
                    "revoked_at",
                    fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
                ),
                ("revoked_by", fields.CharField(default="", max_length=128)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "share_grant",
                "app": "wallet",
                "indexes": [Index(fields=["party_id", "created_at"])],
                "pk_attr": "id",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="GrantLicence",
            fields=[
                ("id", fields.BigIntField(primary_key=True, unique=True, db_index=True)),
                (
                    "grant",
                    fields.ForeignKeyField(
                        "wallet.Grant",
                        source_field="grant_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="licences",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                (
                    "licence",
                    fields.ForeignKeyField(
                        "wallet.Licence",
                        source_field="licence_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="grants",
                        on_delete=OnDelete.RESTRICT,
                    ),
                ),
                ("holder_person_id", fields.UUIDField(null=True, db_index=True)),
                ("holder_enterprise_id", fields.UUIDField(null=True, db_index=True)),
            ],
            options={
                "table": "share_grant_licence",
                "app": "wallet",
                "unique_together": (("grant", "licence"),),
                "pk_attr": "id",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="ShareCode",
            fields=[
                (
                    "id",
                    fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True),
                ),
                ("code_hash", fields.CharField(unique=True, max_length=64)),
                ("form", fields.CharField(max_length=8)),
                ("locator", fields.CharField(null=True, unique=True, max_length=8)),
                (
                    "licence",
                    fields.ForeignKeyField(
                        "wallet.Licence",
                        source_field="licence_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="share_codes",
                        on_delete=OnDelete.RESTRICT,
                    ),
                ),
                ("account_id", fields.UUIDField()),
                ("granted_by", fields.CharField(max_length=128)),
                ("purpose", fields.CharField(max_length=32)),
                ("fields_granted", fields.JSONField()),
                ("grant_days", fields.IntField()),
                ("expires_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ("failures", fields.IntField(default=0)),
                (
                    "burned_at",
                    fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
                ),
                (
                    "grant",
                    fields.ForeignKeyField(
                        "wallet.Grant",
                        source_field="grant_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="share_codes",
                        on_delete=OnDelete.RESTRICT,
                    ),
                ),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={"table": "share_code", "app": "wallet", "pk_attr": "id"},
            bases=["Model"],
        ),
        ops.CreateModel(
            name="Access",
            fields=[
                ("id", fields.BigIntField(primary_key=True, unique=True, db_index=True)),
                (
                    "grant",
                    fields.ForeignKeyField(
                        "wallet.Grant",
                        source_field="grant_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="accesses",
                        on_delete=OnDelete.RESTRICT,
                    ),
                ),
                (
                    "party",
                    fields.ForeignKeyField(
                        "wallet.RelyingParty",
                        source_field="party_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="accesses",
                        on_delete=OnDelete.RESTRICT,
                    ),
                ),
                (
                    "licence",
                    fields.ForeignKeyField(
                        "wallet.Licence",
                        source_field="licence_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="accesses",
                        on_delete=OnDelete.RESTRICT,
                    ),
                ),
                ("fields_read", fields.JSONField()),
                ("purpose", fields.CharField(max_length=32)),
                ("copy_id", fields.CharField(unique=True, max_length=24)),
                ("form", fields.CharField(max_length=8)),
                ("at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "share_access",
                "app": "wallet",
                "indexes": [Index(fields=["grant_id", "id"])],
                "pk_attr": "id",
            },
            bases=["Model"],
        ),
    ]
