"""PostgreSQL refuses UPDATE and DELETE on audit entries (a trigger).

The SM3 chain detects a change made anyway (by someone who can drop the
trigger); the trigger stops the application, or a careless operator, from
making one. SQLite, the embedded default, relies on the chain alone.
"""

from tortoise import migrations
from tortoise.migrations import operations as ops

_CREATE = """
CREATE FUNCTION audit_entry_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_entry is append-only';
END
$$;
CREATE TRIGGER audit_entry_append_only BEFORE UPDATE OR DELETE ON audit_entry
    FOR EACH ROW EXECUTE FUNCTION audit_entry_append_only();
"""

_DROP = """
DROP TRIGGER IF EXISTS audit_entry_append_only ON audit_entry;
DROP FUNCTION IF EXISTS audit_entry_append_only();
"""


def _on_postgres(sql):
    async def run(apps, schema_editor):
        if schema_editor.client.capabilities.dialect == "postgres":
            await schema_editor._run_sql(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("wallet", "0004_holder_side")]

    initial = False

    operations = [
        ops.RunPython(_on_postgres(_CREATE), _on_postgres(_DROP)),
    ]
