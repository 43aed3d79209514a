from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('wallet', '0002_auto_20261125_0243')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Officer',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('badge', fields.CharField(unique=True, max_length=32)),
                ('name_sealed', fields.TextField(unique=False)),
                ('division', fields.CharField(db_index=True, max_length=6)),
                ('role', fields.CharField(max_length=16)),
                ('password_hash', fields.CharField(max_length=256)),
                ('device_id', fields.CharField(max_length=64)),
                ('enabled', fields.BooleanField(default=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'officer', 'app': 'wallet', 'pk_attr': 'id', 'table_description': 'An inspector or supervisor of a division. The password is an Argon2id hash.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='StatusListCounter',
            fields=[
                ('division', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=6)),
                ('next_idx', fields.IntField(default=0)),
            ],
            options={'table': 'status_list_counter', 'app': 'wallet', 'pk_attr': 'division', 'table_description': "The next free index of a province's status list (assigned on first presentation)."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='VerificationRecord',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
                ('officer_id', fields.IntField()),
                ('officer_badge', fields.CharField(max_length=32)),
                ('officer_division', fields.CharField(max_length=6)),
                ('device_id', fields.CharField(max_length=64)),
                ('mode', fields.CharField(max_length=16)),
                ('verdict', fields.CharField(max_length=24)),
                ('licence_ref', fields.CharField(null=True, db_index=True, max_length=24)),
                ('token_id', fields.CharField(null=True, db_index=True, max_length=64)),
            ],
            options={'table': 'verification_record', 'app': 'wallet', 'pk_attr': 'id', 'table_description': 'One scan or lookup by an officer. The holder sees these, officer masked to badge.'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='Licence',
            name='status_idx',
            field=fields.IntField(null=True),
        ),
    ]
