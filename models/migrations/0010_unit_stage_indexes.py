from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.indexes import Index

# A store's numbers for a period: the store's orders whose stage time falls in the period, found directly.
# With only (org_unit_id, state) and the single stage-time indexes, PostgreSQL's generic plan for these
# statements (used from their sixth run on a connection) scanned the whole company's month and filtered it
# down to the store: a store manager's 统计 slowed from ~100 ms to ~300 ms after a few asks.


class Migration(migrations.Migration):
    dependencies = [('models', '0009_delivery')]

    initial = False

    operations = [
        ops.AddIndex(model_name='Order', index=Index(fields=['org_unit_id', 'created_at'])),
        ops.AddIndex(model_name='Order', index=Index(fields=['org_unit_id', 'measured_at'])),
        ops.AddIndex(model_name='Order', index=Index(fields=['org_unit_id', 'designed_at'])),
        ops.AddIndex(model_name='Order', index=Index(fields=['org_unit_id', 'confirmed_at'])),
        ops.AddIndex(model_name='Order', index=Index(fields=['org_unit_id', 'in_stock_at'])),
        ops.AddIndex(model_name='Order', index=Index(fields=['org_unit_id', 'installed_at'])),
    ]
