"""Indexes for the holder's and the operator's licence listings (by holder, then ref).

A listing pages by ``ref`` within one holder: without these, PostgreSQL
walks the ``ref`` order of the whole province and filters it, so an
operator's page 9,000 vehicles deep read most of a million rows.
"""

from tortoise import migrations
from tortoise.indexes import Index
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [("wallet", "0013_verification_partitions")]

    initial = False

    operations = [
        ops.AddIndex(model_name="Licence", index=Index(fields=["holder_enterprise_id", "ref"])),
        ops.AddIndex(model_name="Licence", index=Index(fields=["holder_person_id", "ref"])),
    ]
