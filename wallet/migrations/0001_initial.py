from tortoise import migrations
from tortoise.migrations import operations as ops
from orjson import loads
from tortoise.fields.data import JSON_DUMPS
from tortoise import fields

class Migration(migrations.Migration):
    initial = True

    operations = [
        ops.CreateModel(
            name='AuditEntry',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('actor', fields.CharField(max_length=128)),
                ('action', fields.CharField(max_length=64)),
                ('subject', fields.CharField(default='', max_length=256)),
                ('detail', fields.JSONField(default=dict, encoder=JSON_DUMPS, decoder=loads)),
                ('prev_hash', fields.CharField(max_length=64)),
                ('hash', fields.CharField(unique=True, max_length=64)),
            ],
            options={'table': 'audit_entry', 'app': 'wallet', 'pk_attr': 'id', 'table_description': 'One audited action. ``hash`` = SM3(prev_hash ‖ canonical entry), never updated.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='AuditHead',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('last_id', fields.BigIntField()),
                ('last_hash', fields.CharField(max_length=64)),
            ],
            options={'table': 'audit_head', 'app': 'wallet', 'pk_attr': 'id', 'table_description': "The last entry's id and hash, so a deleted tail is detected too."},
            bases=['Model'],
        ),
    ]
