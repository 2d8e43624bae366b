from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from models.enums import ApprovalState
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0012_price_lists')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Approval',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('order', fields.ForeignKeyField('models.Order', source_field='order_id', db_constraint=True, to_field='id', related_name='approvals', on_delete=OnDelete.CASCADE)),
                ('round', fields.IntField(default=1)),
                ('step', fields.IntField(default=0)),
                ('level', fields.CharField(max_length=16)),
                ('unit', fields.ForeignKeyField('models.OrgUnit', source_field='unit_id', db_constraint=True, to_field='id', related_name='approvals', on_delete=OnDelete.RESTRICT)),
                ('figures', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('requested_by', fields.ForeignKeyField('models.Staff', source_field='requested_by_id', null=True, db_constraint=True, to_field='id', related_name='approvals_requested', on_delete=OnDelete.SET_NULL)),
                ('state', fields.CharEnumField(default=ApprovalState.PENDING, description='PENDING: pending\nAPPROVED: approved\nREJECTED: rejected', enum_type=ApprovalState, max_length=16)),
                ('superseded', fields.BooleanField(default=False)),
                ('decided_by', fields.ForeignKeyField('models.Staff', source_field='decided_by_id', null=True, db_constraint=True, to_field='id', related_name='approvals_decided', on_delete=OnDelete.SET_NULL)),
                ('decided_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('reason', fields.CharField(default='', max_length=255)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'approval', 'app': 'models', 'indexes': [Index(fields=['order_id', 'state']), Index(fields=['unit_id', 'state'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
    ]
