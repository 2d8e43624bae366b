from tortoise import migrations
from tortoise.migrations import operations as ops
from models.enums import PieceState
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

# Each order item of quantity N becomes N pieces. An item already received keeps its production
# number, arrival and receiver on its first piece; the others are still to come.
#
# SQLite drops a column by copying the table, and dropping the old copy deletes (ON DELETE CASCADE)
# whatever refers to it: so the goods-in columns are set aside first, the item table is rebuilt, and
# only then are the pieces made from what was set aside. Plain SQL that SQLite and PostgreSQL both
# run; the order's own timestamps stand in for the pieces'.
SET_ASIDE = (
    "CREATE TABLE goods_in_0007 AS SELECT id, order_id, quantity, production_number, arrived_at, received_by_id"
    " FROM order_item"
)
FIRST_PIECES = """
INSERT INTO order_piece (order_id, item_id, seq, production_number, state, arrived_at, received_by_id, created_at, updated_at)
SELECT i.order_id, i.id, 1, i.production_number,
       CASE WHEN i.production_number IS NULL THEN 'queued' ELSE 'in_stock' END,
       CASE WHEN i.production_number IS NULL THEN NULL ELSE COALESCE(i.arrived_at, o.updated_at) END,
       i.received_by_id, o.created_at, o.updated_at
FROM goods_in_0007 i JOIN "order" o ON o.id = i.order_id
"""
MORE_PIECES = """
WITH RECURSIVE n(k) AS (SELECT 2 UNION ALL SELECT k + 1 FROM n WHERE k < 99)
INSERT INTO order_piece (order_id, item_id, seq, production_number, state, arrived_at, received_by_id, created_at, updated_at)
SELECT i.order_id, i.id, n.k, NULL, 'queued', NULL, NULL, o.created_at, o.updated_at
FROM goods_in_0007 i JOIN "order" o ON o.id = i.order_id JOIN n ON n.k <= i.quantity
"""


async def drop_leftover(apps, schema_editor) -> None:
    # tortoise's SQLite copy keeps the foreign key's column (received_by_id) as a plain one.
    if schema_editor.client.capabilities.dialect == "sqlite":
        await schema_editor.client.execute_script('ALTER TABLE "order_item" DROP COLUMN "received_by_id"')


class Migration(migrations.Migration):
    dependencies = [('models', '0006_putting_right')]

    initial = False

    operations = [
        ops.RunSQL(SET_ASIDE),
        ops.RemoveField(model_name='OrderItem', name='arrived_at'),
        ops.RemoveField(model_name='OrderItem', name='production_number'),
        ops.RemoveField(model_name='OrderItem', name='received_by'),
        ops.RunPython(drop_leftover),
        # The copy loses the index on order_id on SQLite (PostgreSQL keeps it).
        ops.RunSQL('CREATE INDEX IF NOT EXISTS "idx_order_item_order_i_a417da" ON "order_item" ("order_id")'),
        ops.CreateModel(
            name='OrderPiece',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('order', fields.ForeignKeyField('models.Order', source_field='order_id', db_constraint=True, to_field='id', related_name='pieces', on_delete=OnDelete.CASCADE)),
                ('item', fields.ForeignKeyField('models.OrderItem', source_field='item_id', db_constraint=True, to_field='id', related_name='pieces', on_delete=OnDelete.CASCADE)),
                ('seq', fields.IntField()),
                ('production_number', fields.CharField(null=True, unique=True, max_length=64)),
                ('state', fields.CharEnumField(default=PieceState.QUEUED, description='QUEUED: queued\nIN_PRODUCTION: in_production\nFINISHED: finished\nSHIPPED: shipped\nIN_STOCK: in_stock\nINSTALLED: installed', enum_type=PieceState, max_length=16)),
                ('arrived_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('received_by', fields.ForeignKeyField('models.Staff', source_field='received_by_id', null=True, db_constraint=True, to_field='id', related_name='received_pieces', on_delete=OnDelete.SET_NULL)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'order_piece', 'app': 'models', 'unique_together': (('item', 'seq'),), 'indexes': [Index(fields=['order_id', 'state'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.RunSQL([FIRST_PIECES, MORE_PIECES, "DROP TABLE goods_in_0007"]),
    ]
