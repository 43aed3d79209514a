"""Authority users of the web console and their sessions.

``authority_user`` holds the console's accounts (Argon2id password hashes,
sealed names, a division scope and a role); ``console_session`` the signed-in
sessions under the SM3 hash of their cookie token.
"""

from tortoise import fields, migrations
from tortoise.fields.base import OnDelete
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [("wallet", "0011_notifications")]

    initial = False

    operations = [
        ops.CreateModel(
            name="AuthorityUser",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("username", fields.CharField(unique=True, max_length=32)),
                ("name_sealed", fields.TextField(unique=False)),
                ("division", fields.CharField(db_index=True, max_length=6)),
                ("role", fields.CharField(max_length=16)),
                ("password_hash", fields.CharField(max_length=256)),
                ("enabled", fields.BooleanField(default=True)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={"table": "authority_user", "app": "wallet", "pk_attr": "id", "table_description": "A reviewer or supervisor of the transport authority, scoped to a division."},
            bases=["Model"],
        ),
        ops.CreateModel(
            name="ConsoleSession",
            fields=[
                ("token_hash", fields.CharField(primary_key=True, unique=True, db_index=True, max_length=64)),
                ("user", fields.ForeignKeyField("wallet.AuthorityUser", source_field="user_id", db_constraint=True, to_field="id", related_name="sessions", on_delete=OnDelete.CASCADE)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ("expires_at", fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
            ],
            options={"table": "console_session", "app": "wallet", "pk_attr": "token_hash", "table_description": "A signed-in console session, kept under the SM3 hash of its cookie token."},
            bases=["Model"],
        ),
    ]
