"""A unique id on every verification record.

Rows spooled locally while the database was down are drained with "on
conflict do nothing" on this column, so a drain repeated after a crash, or
a row committed although its insert timed out, is stored exactly once.
Rows from before this migration have none (unique allows many NULLs).
"""

from tortoise import fields, migrations
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [("wallet", "0007_officer_sessions")]

    initial = False

    operations = [
        ops.AddField(
            model_name="VerificationRecord",
            name="record_id",
            field=fields.UUIDField(unique=True, null=True),
        ),
    ]
