"""PostgreSQL keeps the verification log in monthly partitions.

``verification_record`` becomes a table partitioned by range of ``at``, one
partition a month (``verification_record_pYYYYMM``, bounds in UTC) and a
DEFAULT partition that takes any row no month partition covers, so an
insert never fails for want of a partition. The migration makes a partition
for every month from the oldest stored row (at most ten years back) to the
next month and moves the existing rows in; ``wallet maintenance
partitions`` makes upcoming months and drops those past the retention.

A partitioned table's unique constraints must hold the partition key: the
primary key becomes (id, at) and the spool drain's conflict target
(record_id, at). A spooled row keeps its original time, so a drain repeated
after a crash meets the same (record_id, at) and is stored once. The
holder's history reads (licence_ref, at DESC, id DESC), one index a
partition; the replay check reads (token_id, at).

SQLite, the embedded default, keeps the one table.
"""

from tortoise import migrations
from tortoise.migrations import operations as ops

_COLUMNS = (
    "id, at, officer_id, officer_badge, officer_division, device_id, mode, verdict, "
    "licence_ref, token_id, record_id"
)

_FORWARD = f"""
ALTER TABLE verification_record RENAME TO verification_record_unpartitioned;
ALTER INDEX IF EXISTS verification_record_pkey RENAME TO verification_record_unpartitioned_pkey;
ALTER INDEX IF EXISTS verification_record_record_id_key
    RENAME TO verification_record_unpartitioned_record_id_key;
CREATE TABLE verification_record (
    id BIGINT NOT NULL DEFAULT nextval('verification_record_id_seq'),
    at TIMESTAMPTZ NOT NULL,
    officer_id INT NOT NULL,
    officer_badge VARCHAR(32) NOT NULL,
    officer_division VARCHAR(6) NOT NULL,
    device_id VARCHAR(64) NOT NULL,
    mode VARCHAR(16) NOT NULL,
    verdict VARCHAR(24) NOT NULL,
    licence_ref VARCHAR(24),
    token_id VARCHAR(64),
    record_id UUID,
    CONSTRAINT verification_record_pkey PRIMARY KEY (id, at),
    CONSTRAINT verification_record_record_id_at_key UNIQUE (record_id, at)
) PARTITION BY RANGE (at);
ALTER SEQUENCE verification_record_id_seq OWNED BY verification_record.id;
CREATE TABLE verification_record_default PARTITION OF verification_record DEFAULT;
DO $$
DECLARE
    this_month timestamp := date_trunc('month', now() AT TIME ZONE 'UTC');
    month timestamp;
BEGIN
    SELECT greatest(
        least(coalesce(date_trunc('month', min(at) AT TIME ZONE 'UTC'), this_month), this_month),
        this_month - interval '120 months'
    ) INTO month FROM verification_record_unpartitioned;
    WHILE month <= this_month + interval '1 month' LOOP
        EXECUTE format(
            'CREATE TABLE %I PARTITION OF verification_record FOR VALUES FROM (%L) TO (%L)',
            'verification_record_p' || to_char(month, 'YYYYMM'),
            to_char(month, 'YYYY-MM-DD') || ' 00:00:00+00',
            to_char(month + interval '1 month', 'YYYY-MM-DD') || ' 00:00:00+00'
        );
        month := month + interval '1 month';
    END LOOP;
END
$$;
INSERT INTO verification_record ({_COLUMNS})
    SELECT {_COLUMNS} FROM verification_record_unpartitioned;
DROP TABLE verification_record_unpartitioned;
CREATE INDEX verification_record_licence_at ON verification_record (licence_ref, at DESC, id DESC);
CREATE INDEX verification_record_token_at ON verification_record (token_id, at);
ANALYZE verification_record;
"""

_BACKWARD = f"""
ALTER TABLE verification_record RENAME TO verification_record_partitioned;
ALTER INDEX verification_record_pkey RENAME TO verification_record_partitioned_pkey;
CREATE TABLE verification_record (
    id BIGINT NOT NULL DEFAULT nextval('verification_record_id_seq') PRIMARY KEY,
    at TIMESTAMPTZ NOT NULL,
    officer_id INT NOT NULL,
    officer_badge VARCHAR(32) NOT NULL,
    officer_division VARCHAR(6) NOT NULL,
    device_id VARCHAR(64) NOT NULL,
    mode VARCHAR(16) NOT NULL,
    verdict VARCHAR(24) NOT NULL,
    licence_ref VARCHAR(24),
    token_id VARCHAR(64),
    record_id UUID UNIQUE
);
ALTER SEQUENCE verification_record_id_seq OWNED BY verification_record.id;
INSERT INTO verification_record ({_COLUMNS})
    SELECT {_COLUMNS} FROM verification_record_partitioned;
DROP TABLE verification_record_partitioned;
CREATE INDEX idx_verification_record_at ON verification_record (at);
CREATE INDEX idx_verification_record_licence_ref ON verification_record (licence_ref);
CREATE INDEX idx_verification_record_token_id ON verification_record (token_id);
"""


def _on_postgres(sql):
    async def run(apps, schema_editor):
        if schema_editor.client.capabilities.dialect == "postgres":
            await schema_editor._run_sql(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("wallet", "0012_console")]

    initial = False

    operations = [
        ops.RunPython(_on_postgres(_FORWARD), _on_postgres(_BACKWARD)),
    ]
