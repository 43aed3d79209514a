"""A per-licence sequence number for live-status changes.

Every change of a licence's status or current version increments
``status_seq`` in the same transaction; the live-status cache keeps the
sequence with each entry and never replaces an entry with an older one.
"""

from tortoise import fields, migrations
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [("wallet", "0005_audit_append_only")]

    initial = False

    operations = [
        ops.AddField(
            model_name="Licence",
            name="status_seq",
            field=fields.BigIntField(default=0, db_default=0),
        ),
    ]
