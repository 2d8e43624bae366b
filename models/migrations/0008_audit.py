from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from models.enums import AuditAction
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0005_purged')]

    initial = False

    operations = [
        ops.CreateModel(
            name='AuditEntry',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=True)),
                ('actor', fields.ForeignKeyField('models.Staff', source_field='actor_id', null=True, db_constraint=True, to_field='id', related_name='audit_entries', on_delete=OnDelete.SET_NULL)),
                ('actor_userid', fields.CharField(default='', max_length=64)),
                ('action', fields.CharEnumField(db_index=True, description='SIGN_IN: sign_in\nORDER_VIEW: order_view\nPHONE_REVEAL: phone_reveal\nORDER_EXPORT: order_export\nSTATS_EXPORT: stats_export\nAUDIT_EXPORT: audit_export\nCUSTOMER_EXPORT: customer_export\nCUSTOMER_ERASE: customer_erase', enum_type=AuditAction, max_length=32)),
                ('order_id', fields.IntField(null=True, db_index=True)),
                ('order_number', fields.CharField(default='', max_length=32)),
                ('customer_id', fields.IntField(null=True)),
                ('detail', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('ip', fields.CharField(default='', max_length=64)),
            ],
            options={'table': 'audit_log', 'app': 'models', 'indexes': [Index(fields=['actor_id', 'at'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='Customer',
            name='erased_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
    ]
