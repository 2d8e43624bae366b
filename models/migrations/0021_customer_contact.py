from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from models.contact import CallState
from models.enums import AuditAction, EventKind
from tortoise.fields.base import OnDelete
from tortoise import fields

# Reaching the customer: 「联系我」 ways, external contacts, mass-send messages, SMS.


class Migration(migrations.Migration):
    dependencies = [('models', '0020_customer_requests')]

    initial = False

    operations = [
        ops.CreateModel(
            name='ContactWay',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('order', fields.ForeignKeyField('models.Order', source_field='order_id', db_constraint=True, to_field='id', related_name='contact_ways', on_delete=OnDelete.CASCADE)),
                ('member', fields.ForeignKeyField('models.Staff', source_field='member_id', db_constraint=True, to_field='id', related_name='contact_ways', on_delete=OnDelete.CASCADE)),
                ('state_key', fields.CharField(unique=True, max_length=30)),
                ('config_id', fields.CharField(default='', max_length=64)),
                ('qr_code', fields.CharField(default='', max_length=512)),
                ('call_state', fields.CharEnumField(default=CallState.QUEUED, db_index=True, description='QUEUED: queued\nSENDING: sending\nDONE: done\nFAILED: failed\nUNKNOWN: unknown', enum_type=CallState, max_length=16)),
                ('attempts', fields.IntField(default=0)),
                ('next_attempt_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('locked_until', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('last_error', fields.CharField(default='', max_length=512)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'contact_way', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='CustomerMessage',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('order', fields.ForeignKeyField('models.Order', source_field='order_id', db_constraint=True, to_field='id', related_name='customer_messages', on_delete=OnDelete.CASCADE)),
                ('customer', fields.ForeignKeyField('models.Customer', source_field='customer_id', db_constraint=True, to_field='id', related_name='customer_messages', on_delete=OnDelete.CASCADE)),
                ('sender', fields.ForeignKeyField('models.Staff', source_field='sender_id', db_constraint=True, to_field='id', related_name='customer_messages', on_delete=OnDelete.CASCADE)),
                ('external_userid', fields.CharField(max_length=64)),
                ('milestone', fields.CharField(max_length=32)),
                ('text', fields.TextField(unique=False)),
                ('link', fields.CharField(default='', max_length=1024)),
                ('month', fields.CharField(max_length=7)),
                ('slot', fields.SmallIntField(null=True)),
                ('msgid', fields.CharField(default='', max_length=128)),
                ('call_state', fields.CharEnumField(default=CallState.QUEUED, db_index=True, description='QUEUED: queued\nSENDING: sending\nDONE: done\nFAILED: failed\nUNKNOWN: unknown', enum_type=CallState, max_length=16)),
                ('attempts', fields.IntField(default=0)),
                ('next_attempt_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('locked_until', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('last_error', fields.CharField(default='', max_length=512)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'customer_message', 'app': 'models', 'unique_together': (('customer', 'month', 'slot'),), 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ExternalContact',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('external_userid', fields.CharField(max_length=64)),
                ('member', fields.ForeignKeyField('models.Staff', source_field='member_id', db_constraint=True, to_field='id', related_name='external_contacts', on_delete=OnDelete.CASCADE)),
                ('customer', fields.ForeignKeyField('models.Customer', source_field='customer_id', db_constraint=True, to_field='id', related_name='external_contacts', on_delete=OnDelete.CASCADE)),
                ('order', fields.ForeignKeyField('models.Order', source_field='order_id', null=True, db_constraint=True, to_field='id', related_name='external_contacts', on_delete=OnDelete.SET_NULL)),
                ('added_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('welcome_code', fields.CharField(default='', max_length=255)),
                ('welcome_deadline', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('welcome_state', fields.CharEnumField(default=CallState.DONE, db_index=True, description='QUEUED: queued\nSENDING: sending\nDONE: done\nFAILED: failed\nUNKNOWN: unknown', enum_type=CallState, max_length=16)),
                ('welcome_payload', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('attempts', fields.IntField(default=0)),
                ('locked_until', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('last_error', fields.CharField(default='', max_length=512)),
            ],
            options={'table': 'external_contact', 'app': 'models', 'unique_together': (('external_userid', 'member'),), 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='SmsMessage',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('phone_encrypted', fields.TextField(unique=False)),
                ('template', fields.CharField(max_length=64)),
                ('params', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('purpose', fields.CharField(max_length=64)),
                ('order', fields.ForeignKeyField('models.Order', source_field='order_id', null=True, db_constraint=True, to_field='id', related_name='sms_messages', on_delete=OnDelete.SET_NULL)),
                ('lead', fields.ForeignKeyField('models.Lead', source_field='lead_id', null=True, db_constraint=True, to_field='id', related_name='sms_messages', on_delete=OnDelete.SET_NULL)),
                ('state', fields.CharEnumField(default=CallState.QUEUED, db_index=True, description='QUEUED: queued\nSENDING: sending\nDONE: done\nFAILED: failed\nUNKNOWN: unknown', enum_type=CallState, max_length=16)),
                ('attempts', fields.IntField(default=0)),
                ('next_attempt_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
                ('locked_until', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('last_error', fields.CharField(default='', max_length=512)),
                ('provider_serial', fields.CharField(default='', max_length=128)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('sent_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'sms_message', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
    ]
