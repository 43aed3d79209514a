"""Officer sessions and authority request nonces move into the database.

Officer sessions (under the SM3 hash of the token) are durable here so that
sign-in and scans go on while the cache is down; authority nonces are kept
here so that a replayed signed request is refused whatever the cache does.
"""

from tortoise import fields, migrations
from tortoise.fields.base import OnDelete
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [("wallet", "0006_status_seq")]

    initial = False

    operations = [
        ops.CreateModel(
            name="OfficerSessionRecord",
            fields=[
                ("token_hash", fields.CharField(primary_key=True, unique=True, db_index=True, max_length=64)),
                ("officer", fields.ForeignKeyField("wallet.Officer", source_field="officer_id", db_constraint=True, to_field="id", related_name="sessions", on_delete=OnDelete.CASCADE)),
                ("device_id", fields.CharField(max_length=64)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ("expires_at", fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
            ],
            options={"table": "officer_session", "app": "wallet", "pk_attr": "token_hash", "table_description": "A signed-in session, kept under the SM3 hash of its token (never the token)."},
            bases=["Model"],
        ),
        ops.CreateModel(
            name="AuthorityNonce",
            fields=[
                ("key", fields.CharField(primary_key=True, unique=True, db_index=True, max_length=112)),
                ("expires_at", fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
            ],
            options={"table": "authority_nonce", "app": "wallet", "pk_attr": "key", "table_description": "A nonce a client used in a signed request, kept until its timestamp can no longer pass."},
            bases=["Model"],
        ),
    ]
