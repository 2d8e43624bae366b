"""Stock (库存): warehouses, a level per stocked product and warehouse, and every move with who and why;
products say whether they are stocked (stock_kind, null: made to measure)."""

from tortoise import migrations
from tortoise.migrations import operations as ops
from models.enums import StockKind, StockMoveKind
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index


class Migration(migrations.Migration):
    dependencies = [('models', '0022_tickets')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Warehouse',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('name', fields.CharField(unique=True, max_length=64)),
                ('org_unit', fields.ForeignKeyField('models.OrgUnit', source_field='org_unit_id', db_constraint=True, to_field='id', related_name='warehouses', on_delete=OnDelete.RESTRICT)),
                ('active', fields.BooleanField(default=True)),
            ],
            options={'table': 'warehouse', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='StockLevel',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('product', fields.ForeignKeyField('models.Product', source_field='product_id', db_constraint=True, to_field='id', related_name='stock_levels', on_delete=OnDelete.RESTRICT)),
                ('warehouse', fields.ForeignKeyField('models.Warehouse', source_field='warehouse_id', db_constraint=True, to_field='id', related_name='levels', on_delete=OnDelete.RESTRICT)),
                ('on_hand', fields.IntField(default=0)),
                ('reserved', fields.IntField(default=0)),
                ('safety_level', fields.IntField(default=0)),
                ('below_safety', fields.BooleanField(default=False)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'stock_level', 'app': 'models', 'unique_together': (('product', 'warehouse'),), 'indexes': [Index(fields=['warehouse_id'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='StockMove',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('product', fields.ForeignKeyField('models.Product', source_field='product_id', db_constraint=True, to_field='id', related_name='stock_moves', on_delete=OnDelete.RESTRICT)),
                ('warehouse', fields.ForeignKeyField('models.Warehouse', source_field='warehouse_id', db_constraint=True, to_field='id', related_name='moves', on_delete=OnDelete.RESTRICT)),
                ('kind', fields.CharEnumField(description='RECEIVED: received\nRESERVED: reserved\nRELEASED: released\nISSUED: issued\nRETURNED: returned\nCOUNTED: counted', enum_type=StockMoveKind, max_length=16)),
                ('quantity', fields.IntField()),
                ('on_hand_after', fields.IntField()),
                ('reserved_after', fields.IntField()),
                ('actor', fields.ForeignKeyField('models.Staff', source_field='actor_id', null=True, db_constraint=True, to_field='id', related_name='stock_moves', on_delete=OnDelete.SET_NULL)),
                ('reason', fields.CharField(default='', max_length=255)),
                ('ref', fields.CharField(default='', max_length=64)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'stock_move', 'app': 'models', 'indexes': [Index(fields=['product_id', 'warehouse_id', 'created_at']), Index(fields=['ref'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='Product',
            name='stock_kind',
            field=fields.CharEnumField(null=True, description='STANDARD: standard\nACCESSORY: accessory\nMARKETING: marketing', enum_type=StockKind, max_length=16),
        ),
    ]
