from tortoise import migrations
from tortoise.migrations import operations as ops
from orjson import loads
from tortoise.fields.base import OnDelete
from tortoise.fields.data import JSON_DUMPS
from uuid import uuid4
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('wallet', '0001_initial')]

    initial = False

    operations = [
        ops.CreateModel(
            name='AuthorityClient',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('client_id', fields.CharField(unique=True, max_length=40)),
                ('name', fields.CharField(max_length=128)),
                ('division', fields.CharField(max_length=6)),
                ('secret_sealed', fields.TextField(unique=False)),
                ('sm2_public_key', fields.CharField(null=True, max_length=130)),
                ('enabled', fields.BooleanField(default=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'authority_client', 'app': 'wallet', 'pk_attr': 'id', 'table_description': 'A registry or department system. The HMAC secret is stored sealed by the vault.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='OutboxEvent',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('topic', fields.CharField(max_length=64)),
                ('licence_ref', fields.CharField(db_index=True, max_length=24)),
                ('payload', fields.JSONField(encoder=JSON_DUMPS, decoder=loads)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('attempts', fields.IntField(default=0)),
                ('next_attempt_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('sent_at', fields.DatetimeField(null=True, db_index=True, auto_now=False, auto_now_add=False)),
                ('last_error', fields.CharField(default='', max_length=512)),
            ],
            options={'table': 'outbox_event', 'app': 'wallet', 'pk_attr': 'id', 'table_description': 'An event written in the same transaction as the change it reports.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Person',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('id_number_index', fields.CharField(unique=True, max_length=64)),
                ('id_number_sealed', fields.TextField(unique=False)),
                ('name_sealed', fields.TextField(unique=False)),
                ('name_index', fields.CharField(db_index=True, max_length=64)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('updated_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'person', 'app': 'wallet', 'pk_attr': 'id', 'table_description': 'A natural person, known by the blind index of their resident ID number.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Enterprise',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('uscc', fields.CharField(unique=True, max_length=18)),
                ('name', fields.CharField(max_length=256)),
                ('division', fields.CharField(db_index=True, max_length=6)),
                ('legal_rep', fields.ForeignKeyField('wallet.Person', source_field='legal_rep_id', null=True, db_constraint=True, to_field='id', related_name='enterprises', on_delete=OnDelete.SET_NULL)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('updated_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'enterprise', 'app': 'wallet', 'pk_attr': 'id', 'table_description': 'An operator (enterprise or individual business), known by its USCC.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='SigningKey',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('kid', fields.CharField(unique=True, max_length=32)),
                ('use', fields.CharField(max_length=16)),
                ('division', fields.CharField(null=True, max_length=6)),
                ('public_key', fields.CharField(max_length=130)),
                ('private_wrapped', fields.TextField(unique=False)),
                ('status', fields.CharField(default='active', max_length=8)),
                ('active_slot', fields.CharField(null=True, unique=True, max_length=24)),
                ('not_before', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('not_after', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('retired_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('signed_until', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('revoked_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('revocation_reason', fields.CharField(null=True, max_length=200)),
            ],
            options={'table': 'signing_key', 'app': 'wallet', 'pk_attr': 'id', 'table_description': 'An SM2 signing key: a province seal key, the presentation key or the trust-list root.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Vehicle',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('plate_number', fields.CharField(max_length=16)),
                ('plate_colour', fields.CharField(default='', max_length=2)),
                ('enterprise', fields.ForeignKeyField('wallet.Enterprise', source_field='enterprise_id', db_constraint=True, to_field='id', related_name='vehicles', on_delete=OnDelete.RESTRICT)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('updated_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'vehicle', 'app': 'wallet', 'unique_together': (('plate_number', 'plate_colour'),), 'pk_attr': 'id', 'table_description': 'A vehicle of an enterprise, known by plate number and plate colour.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Licence',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('ref', fields.CharField(unique=True, max_length=24)),
                ('kind', fields.CharField(max_length=32)),
                ('number_index', fields.CharField(max_length=64)),
                ('number_display', fields.CharField(max_length=64)),
                ('serial', fields.CharField(max_length=64)),
                ('holder_person', fields.ForeignKeyField('wallet.Person', source_field='holder_person_id', null=True, db_constraint=True, to_field='id', related_name='licences', on_delete=OnDelete.RESTRICT)),
                ('holder_enterprise', fields.ForeignKeyField('wallet.Enterprise', source_field='holder_enterprise_id', null=True, db_constraint=True, to_field='id', related_name='licences', on_delete=OnDelete.RESTRICT)),
                ('vehicle', fields.ForeignKeyField('wallet.Vehicle', source_field='vehicle_id', null=True, db_constraint=True, to_field='id', related_name='licences', on_delete=OnDelete.RESTRICT)),
                ('issuer_uscc', fields.CharField(max_length=18)),
                ('issuer_division', fields.CharField(db_index=True, max_length=6)),
                ('issuer_name', fields.CharField(max_length=128)),
                ('status', fields.CharField(db_index=True, max_length=16)),
                ('version', fields.IntField()),
                ('identifier', fields.CharField(max_length=160)),
                ('valid_from', fields.DateField(null=True)),
                ('valid_until', fields.DateField(null=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('updated_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'licence', 'app': 'wallet', 'unique_together': (('kind', 'number_index'),), 'indexes': [Index(fields=['issuer_division', 'kind', 'status'])], 'pk_attr': 'id', 'table_description': 'One licence across its versions. ``ref`` is the opaque public reference.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='LicenceVersion',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('licence', fields.ForeignKeyField('wallet.Licence', source_field='licence_id', db_constraint=True, to_field='id', related_name='versions', on_delete=OnDelete.RESTRICT)),
                ('version', fields.IntField()),
                ('identifier', fields.CharField(unique=True, max_length=160)),
                ('change_type', fields.CharField(max_length=16)),
                ('reason', fields.CharField(default='', max_length=256)),
                ('authority', fields.CharField(max_length=128)),
                ('document_sealed', fields.TextField(unique=False)),
                ('content_digest', fields.CharField(max_length=64)),
                ('issued_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('valid_from', fields.DateField(null=True)),
                ('valid_until', fields.DateField(null=True)),
                ('seal', fields.CharField(max_length=128)),
                ('seal_kid', fields.CharField(max_length=64)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'licence_version', 'app': 'wallet', 'unique_together': (('licence', 'version'),), 'pk_attr': 'id', 'table_description': 'One version: its canonical document (face and metadata, vault-sealed) and its SM2 seal.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='StatusChange',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('licence', fields.ForeignKeyField('wallet.Licence', source_field='licence_id', db_constraint=True, to_field='id', related_name='status_changes', on_delete=OnDelete.RESTRICT)),
                ('action', fields.CharField(max_length=16)),
                ('from_status', fields.CharField(max_length=16)),
                ('to_status', fields.CharField(max_length=16)),
                ('reason', fields.CharField(max_length=256)),
                ('authority', fields.CharField(max_length=128)),
                ('at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'licence_status_change', 'app': 'wallet', 'pk_attr': 'id', 'table_description': 'A registry status change with its reason and acting authority.'},
            bases=['Model'],
        ),
    ]
