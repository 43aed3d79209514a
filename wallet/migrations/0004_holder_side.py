from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from uuid import uuid4
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('wallet', '0003_officers_verification')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Account',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('openid_index', fields.CharField(unique=True, max_length=64)),
                ('openid_sealed', fields.TextField(unique=False)),
                ('person', fields.OneToOneField('wallet.Person', source_field='person_id', null=True, db_constraint=True, to_field='id', related_name='account', on_delete=OnDelete.SET_NULL)),
                ('phone_sealed', fields.TextField(null=True, unique=False)),
                ('bound_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('last_sign_in_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'account', 'app': 'wallet', 'pk_attr': 'id', 'table_description': 'A WeChat user, known by the blind index of its openid (the openid itself is sealed).'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Activation',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('licence', fields.ForeignKeyField('wallet.Licence', source_field='licence_id', db_constraint=True, to_field='id', related_name='activations', on_delete=OnDelete.RESTRICT)),
                ('account', fields.ForeignKeyField('wallet.Account', source_field='account_id', db_constraint=True, to_field='id', related_name='activations', on_delete=OnDelete.RESTRICT)),
                ('device_id', fields.CharField(max_length=64)),
                ('device_public_key', fields.CharField(null=True, max_length=130)),
                ('totp_seed_sealed', fields.TextField(unique=False)),
                ('status', fields.CharField(max_length=16)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('ended_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'activation', 'app': 'wallet', 'indexes': [Index(fields=['licence_id', 'status']), Index(fields=['account_id', 'status'])], 'pk_attr': 'id', 'table_description': 'A licence bound to one device of one account.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Claim',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('licence', fields.OneToOneField('wallet.Licence', source_field='licence_id', db_constraint=True, to_field='id', related_name='claim', on_delete=OnDelete.RESTRICT)),
                ('account', fields.ForeignKeyField('wallet.Account', source_field='account_id', db_constraint=True, to_field='id', related_name='claims', on_delete=OnDelete.RESTRICT)),
                ('person', fields.ForeignKeyField('wallet.Person', source_field='person_id', null=True, db_constraint=True, to_field='id', related_name='claims', on_delete=OnDelete.RESTRICT)),
                ('enterprise', fields.ForeignKeyField('wallet.Enterprise', source_field='enterprise_id', null=True, db_constraint=True, to_field='id', related_name='claims', on_delete=OnDelete.RESTRICT)),
                ('status', fields.CharField(max_length=16)),
                ('reason', fields.CharField(default='', max_length=256)),
                ('reviewed_by', fields.CharField(default='', max_length=128)),
                ('reviewed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('updated_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'claim', 'app': 'wallet', 'indexes': [Index(fields=['status', 'created_at'])], 'pk_attr': 'id', 'table_description': "A holder's claim of a licence, one row per licence."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ClaimPhoto',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('claim', fields.OneToOneField('wallet.Claim', source_field='claim_id', db_constraint=True, to_field='id', related_name='photo', on_delete=OnDelete.CASCADE)),
                ('image_sealed', fields.TextField(unique=False)),
                ('media_type', fields.CharField(max_length=32)),
                ('width', fields.IntField()),
                ('height', fields.IntField()),
                ('size', fields.IntField()),
                ('digest', fields.CharField(max_length=64)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'claim_photo', 'app': 'wallet', 'pk_attr': 'id', 'table_description': 'The photo sent with a claim: re-encoded JPEG, metadata stripped, sealed by the vault.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='EnterpriseAgent',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('enterprise', fields.ForeignKeyField('wallet.Enterprise', source_field='enterprise_id', db_constraint=True, to_field='id', related_name='agents', on_delete=OnDelete.RESTRICT)),
                ('person', fields.ForeignKeyField('wallet.Person', source_field='person_id', db_constraint=True, to_field='id', related_name='agencies', on_delete=OnDelete.RESTRICT)),
                ('granted_by', fields.ForeignKeyField('wallet.Person', source_field='granted_by_id', db_constraint=True, to_field='id', related_name='agencies_granted', on_delete=OnDelete.RESTRICT)),
                ('status', fields.CharField(db_index=True, max_length=16)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('revoked_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'enterprise_agent', 'app': 'wallet', 'indexes': [Index(fields=['enterprise_id', 'person_id', 'status'])], 'pk_attr': 'id', 'table_description': 'A person authorised (委托授权, delegated authority) to act for an enterprise.'},
            bases=['Model'],
        ),
    ]
