from tortoise import migrations
import functools
from json import dumps, loads
from tortoise.migrations import operations as ops
from models.enums import LeadEventKind, LeadSource, LeadState
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

# Showroom bookings (预约) and their history; a store's address for the booking SMS.


class Migration(migrations.Migration):
    dependencies = [('models', '0018_customer_link')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Lead',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('number', fields.CharField(unique=True, max_length=32)),
                ('name', fields.CharField(max_length=64)),
                ('phone_encrypted', fields.TextField(unique=False)),
                ('phone_index', fields.CharField(db_index=True, max_length=64)),
                ('store', fields.ForeignKeyField('models.OrgUnit', source_field='store_id', db_constraint=True, to_field='id', related_name='leads', on_delete=OnDelete.RESTRICT)),
                ('need_level', fields.CharField(default='', max_length=8)),
                ('product_ids', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('products', fields.CharField(default='', max_length=255)),
                ('wanted_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('note', fields.CharField(default='', max_length=500)),
                ('source', fields.CharEnumField(default=LeadSource.STAFF, description='STAFF: staff\nPUBLIC: public\nAPI: api\nCSV: csv', enum_type=LeadSource, max_length=16)),
                ('state', fields.CharEnumField(default=LeadState.NEW, description='NEW: new\nASSIGNED: assigned\nCLAIMED: claimed\nARRIVED: arrived\nPAUSED: paused\nFOLLOW_UP: follow_up\nWON: won\nNOT_WON: not_won\nNO_SHOW: no_show\nVOID: void', enum_type=LeadState, max_length=16)),
                ('state_since', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('consultant', fields.ForeignKeyField('models.Staff', source_field='consultant_id', null=True, db_constraint=True, to_field='id', related_name='leads', on_delete=OnDelete.SET_NULL)),
                ('assigned_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('rejections', fields.IntField(default=0)),
                ('transfers', fields.IntField(default=0)),
                ('decided_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('outcome_reason', fields.CharField(default='', max_length=255)),
                ('order', fields.ForeignKeyField('models.Order', source_field='order_id', null=True, db_constraint=True, to_field='id', related_name='leads', on_delete=OnDelete.SET_NULL)),
                ('created_by', fields.ForeignKeyField('models.Staff', source_field='created_by_id', null=True, db_constraint=True, to_field='id', related_name='leads_created', on_delete=OnDelete.SET_NULL)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'lead', 'app': 'models', 'indexes': [Index(fields=['store_id', 'state']), Index(fields=['consultant_id', 'state']), Index(fields=['consultant_id', 'assigned_at'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='LeadEvent',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('lead', fields.ForeignKeyField('models.Lead', source_field='lead_id', db_constraint=True, to_field='id', related_name='events', on_delete=OnDelete.CASCADE)),
                ('kind', fields.CharEnumField(description='CREATED: created\nASSIGNED: assigned\nCLAIMED: claimed\nREJECTED: rejected\nTRANSFERRED: transferred\nPAUSED: paused\nARRIVED: arrived\nFOLLOW_UP: follow_up\nWON: won\nNOT_WON: not_won\nNO_SHOW: no_show\nVOIDED: voided\nREASSIGNED: reassigned', enum_type=LeadEventKind, max_length=16)),
                ('actor', fields.ForeignKeyField('models.Staff', source_field='actor_id', null=True, db_constraint=True, to_field='id', related_name='lead_events', on_delete=OnDelete.SET_NULL)),
                ('staff', fields.ForeignKeyField('models.Staff', source_field='staff_id', null=True, db_constraint=True, to_field='id', related_name='lead_events_about', on_delete=OnDelete.SET_NULL)),
                ('text', fields.CharField(default='', max_length=255)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'lead_event', 'app': 'models', 'indexes': [Index(fields=['lead_id', 'id'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='OrgUnit',
            name='address',
            field=fields.CharField(default='', db_default='', max_length=255),
        ),
    ]
