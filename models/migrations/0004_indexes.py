from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0003_stats_and_alerts')]

    initial = False

    operations = [
        ops.AddIndex(
            model_name='Attachment',
            index=Index(fields=['order_id', 'category']),
        ),
        ops.AddIndex(
            model_name='Order',
            index=Index(fields=['measured_at']),
        ),
        ops.AddIndex(
            model_name='Order',
            index=Index(fields=['designed_at']),
        ),
        ops.AddIndex(
            model_name='Order',
            index=Index(fields=['confirmed_at']),
        ),
        ops.AddIndex(
            model_name='Order',
            index=Index(fields=['in_stock_at']),
        ),
        ops.AddIndex(
            model_name='Order',
            index=Index(fields=['installed_at']),
        ),
        ops.AddIndex(
            model_name='OrderEvent',
            index=Index(fields=['order_id']),
        ),
        ops.AddIndex(
            model_name='OrderItem',
            index=Index(fields=['order_id']),
        ),
        ops.AddIndex(
            model_name='Payment',
            index=Index(fields=['order_id']),
        ),
        ops.AddIndex(
            model_name='Task',
            index=Index(fields=['order_id']),
        ),
        ops.AddIndex(
            model_name='Task',
            index=Index(fields=['assignee_id', 'state']),
        ),
        ops.AddIndex(
            model_name='Visit',
            index=Index(fields=['order_id']),
        ),
    ]
