"""Dealers (经销商): dealer units (org_unit.kind), their orders and lines, the pieces the factory makes of them,
and their timeline."""

from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from models.dealers import DealerEventKind, DealerOrderKind, DealerOrderState
from models.enums import AuditAction, PieceState
from models.org import UnitKind
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0026_api')]

    initial = False

    operations = [
        ops.CreateModel(
            name='DealerOrder',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('number', fields.CharField(unique=True, max_length=32)),
                ('dealer', fields.ForeignKeyField('models.OrgUnit', source_field='dealer_id', db_constraint=True, to_field='id', related_name='dealer_orders', on_delete=OnDelete.RESTRICT)),
                ('created_by', fields.ForeignKeyField('models.Staff', source_field='created_by_id', db_constraint=True, to_field='id', related_name='dealer_orders', on_delete=OnDelete.RESTRICT)),
                ('kind', fields.CharEnumField(default=DealerOrderKind.NEW, description='NEW: new\nREPLACEMENT: replacement\nMARKETING: marketing', enum_type=DealerOrderKind, max_length=16)),
                ('state', fields.CharEnumField(default=DealerOrderState.DRAFT, db_index=True, description='DRAFT: draft\nSUBMITTED: submitted\nACCEPTED: accepted\nRETURNED: returned\nCANCELLED: cancelled', enum_type=DealerOrderState, max_length=16)),
                ('state_since', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('amount', fields.DecimalField(default=0, max_digits=14, decimal_places=2)),
                ('note', fields.CharField(default='', max_length=500)),
                ('return_reason', fields.CharField(default='', max_length=500)),
                ('factory_number', fields.CharField(null=True, unique=True, max_length=32)),
                ('warehouse', fields.ForeignKeyField('models.Warehouse', source_field='warehouse_id', null=True, db_constraint=True, to_field='id', related_name='dealer_orders', on_delete=OnDelete.RESTRICT)),
                ('copied_from', fields.ForeignKeyField('models.DealerOrder', source_field='copied_from_id', null=True, db_constraint=True, to_field='id', related_name='copies', on_delete=OnDelete.SET_NULL)),
                ('submitted_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('accepted_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('accepted_by', fields.ForeignKeyField('models.Staff', source_field='accepted_by_id', null=True, db_constraint=True, to_field='id', related_name='dealer_orders_accepted', on_delete=OnDelete.SET_NULL)),
                ('returned_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'dealer_order', 'app': 'models', 'indexes': [Index(fields=['dealer_id', 'state'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='DealerOrderEvent',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('order', fields.ForeignKeyField('models.DealerOrder', source_field='order_id', db_constraint=True, to_field='id', related_name='events', on_delete=OnDelete.CASCADE)),
                ('actor', fields.ForeignKeyField('models.Staff', source_field='actor_id', null=True, db_constraint=True, to_field='id', related_name='dealer_events', on_delete=OnDelete.SET_NULL)),
                ('kind', fields.CharEnumField(description='CREATED: created\nSAVED: saved\nSUBMITTED: submitted\nREVISED: revised\nCANCELLED: cancelled\nACCEPTED: accepted\nRETURNED: returned\nCOPIED: copied\nPIECE_MOVED: piece_moved', enum_type=DealerEventKind, max_length=16)),
                ('payload', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'dealer_order_event', 'app': 'models', 'indexes': [Index(fields=['order_id', 'at'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='DealerOrderLine',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('order', fields.ForeignKeyField('models.DealerOrder', source_field='order_id', db_constraint=True, to_field='id', related_name='lines', on_delete=OnDelete.CASCADE)),
                ('product', fields.ForeignKeyField('models.Product', source_field='product_id', db_constraint=True, to_field='id', related_name='dealer_lines', on_delete=OnDelete.RESTRICT)),
                ('quantity', fields.IntField()),
                ('unit_price', fields.DecimalField(null=True, max_digits=12, decimal_places=2)),
                ('amount', fields.DecimalField(null=True, max_digits=14, decimal_places=2)),
                ('price_source', fields.CharField(default='', max_length=64)),
            ],
            options={'table': 'dealer_order_line', 'app': 'models', 'unique_together': (('order', 'product'),), 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='DealerPiece',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('order', fields.ForeignKeyField('models.DealerOrder', source_field='order_id', db_constraint=True, to_field='id', related_name='pieces', on_delete=OnDelete.CASCADE)),
                ('line', fields.ForeignKeyField('models.DealerOrderLine', source_field='line_id', db_constraint=True, to_field='id', related_name='pieces', on_delete=OnDelete.CASCADE)),
                ('seq', fields.IntField()),
                ('production_number', fields.CharField(unique=True, max_length=64)),
                ('state', fields.CharEnumField(default=PieceState.QUEUED, description='QUEUED: queued\nIN_PRODUCTION: in_production\nFINISHED: finished\nSHIPPED: shipped\nIN_STOCK: in_stock\nINSTALLED: installed', enum_type=PieceState, max_length=16)),
                ('state_since', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('expected_date', fields.DateField(null=True)),
                ('finished_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'dealer_piece', 'app': 'models', 'unique_together': (('line', 'seq'),), 'indexes': [Index(fields=['order_id', 'state'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.AlterField(
            model_name='AuditEntry',
            name='action',
            field=fields.CharEnumField(db_index=True, description='SIGN_IN: sign_in\nORDER_VIEW: order_view\nPHONE_REVEAL: phone_reveal\nORDER_EXPORT: order_export\nSTATS_EXPORT: stats_export\nAUDIT_EXPORT: audit_export\nCUSTOMER_EXPORT: customer_export\nCUSTOMER_ERASE: customer_erase\nRECEIVABLES_EXPORT: receivables_export\nLEAD_VIEW: lead_view\nDEALER_ORDER_EXPORT: dealer_order_export', enum_type=AuditAction, max_length=32),
        ),
        ops.AddField(
            model_name='OrgUnit',
            name='kind',
            field=fields.CharEnumField(default=UnitKind.OWN, description='OWN: own\nDEALER: dealer', db_default='own', enum_type=UnitKind, max_length=16),
        ),
    ]
