from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from models.enums import AttachmentCategory, MessageState, PaymentKind, PaymentMethod
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0001_initial')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Job',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('kind', fields.CharField(db_index=True, max_length=32)),
                ('key', fields.CharField(unique=True, max_length=255)),
                ('due_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
                ('payload', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('state', fields.CharEnumField(default=MessageState.PENDING, db_index=True, description='PENDING: pending\nDONE: done\nFAILED: failed', enum_type=MessageState, max_length=16)),
                ('attempts', fields.IntField(default=0)),
                ('locked_until', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('last_error', fields.TextField(default='', unique=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('done_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'job', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Payment',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('order', fields.ForeignKeyField('models.Order', source_field='order_id', db_constraint=True, to_field='id', related_name='payments', on_delete=OnDelete.CASCADE)),
                ('amount', fields.DecimalField(max_digits=12, decimal_places=2)),
                ('method', fields.CharEnumField(description='CASH: cash\nWECHAT: wechat\nALIPAY: alipay\nCARD: card\nTRANSFER: transfer', enum_type=PaymentMethod, max_length=16)),
                ('kind', fields.CharEnumField(description='DEPOSIT: deposit\nFULL: full\nBALANCE: balance', enum_type=PaymentKind, max_length=16)),
                ('recorded_by', fields.ForeignKeyField('models.Staff', source_field='recorded_by_id', null=True, db_constraint=True, to_field='id', related_name='payments_recorded', on_delete=OnDelete.SET_NULL)),
                ('note', fields.CharField(default='', max_length=255)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'payment', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Signature',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('order', fields.OneToOneField('models.Order', source_field='order_id', db_constraint=True, to_field='id', related_name='signature', on_delete=OnDelete.CASCADE)),
                ('attachment', fields.ForeignKeyField('models.Attachment', source_field='attachment_id', db_constraint=True, to_field='id', related_name='signatures', on_delete=OnDelete.RESTRICT)),
                ('ip', fields.CharField(default='', max_length=64)),
                ('user_agent', fields.CharField(default='', max_length=255)),
                ('signed_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'signature', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Visit',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('order', fields.ForeignKeyField('models.Order', source_field='order_id', db_constraint=True, to_field='id', related_name='visits', on_delete=OnDelete.CASCADE)),
                ('task', fields.ForeignKeyField('models.Task', source_field='task_id', null=True, db_constraint=True, to_field='id', related_name='visits', on_delete=OnDelete.SET_NULL)),
                ('caller', fields.ForeignKeyField('models.Staff', source_field='caller_id', db_constraint=True, to_field='id', related_name='visits_made', on_delete=OnDelete.RESTRICT)),
                ('reached', fields.BooleanField()),
                ('notes', fields.TextField(default='', unique=False)),
                ('score_sales', fields.IntField(null=True)),
                ('score_measurer', fields.IntField(null=True)),
                ('score_installer', fields.IntField(null=True)),
                ('comment_sales', fields.CharField(default='', max_length=255)),
                ('comment_measurer', fields.CharField(default='', max_length=255)),
                ('comment_installer', fields.CharField(default='', max_length=255)),
                ('created_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'visit', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.AlterField(
            model_name='Attachment',
            name='category',
            field=fields.CharEnumField(db_index=True, description='PLUMBING_ELECTRICAL: plumbing_electrical\nWALLS_FLOORS: walls_floors\nWINDOWS: windows\nOTHER: other\nUNSORTED: unsorted\nPAPER_ORDER: paper_order\nDRAWING: drawing\nDESIGN: design\nINSTALL: install\nSIGNATURE: signature', enum_type=AttachmentCategory, max_length=32),
        ),
        ops.AddField(
            model_name='Order',
            name='cancel_reason',
            field=fields.CharField(default='', max_length=255),
        ),
        ops.AddField(
            model_name='Order',
            name='contract_amount',
            field=fields.DecimalField(null=True, max_digits=12, decimal_places=2),
        ),
        ops.AddField(
            model_name='OrderItem',
            name='arrived_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='OrderItem',
            name='production_number',
            field=fields.CharField(null=True, db_index=True, max_length=64),
        ),
        ops.AddField(
            model_name='OrderItem',
            name='received_by',
            field=fields.ForeignKeyField('models.Staff', source_field='received_by_id', null=True, db_constraint=True, to_field='id', related_name='received_items', on_delete=OnDelete.SET_NULL),
        ),
        ops.AddField(
            model_name='Product',
            name='install_photo_min',
            field=fields.IntField(default=2),
        ),
        ops.AddField(
            model_name='Product',
            name='maintenance_months',
            field=fields.IntField(default=12),
        ),
        ops.AddField(
            model_name='Task',
            name='done_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='Task',
            name='superseded',
            field=fields.BooleanField(default=False),
        ),
    ]
