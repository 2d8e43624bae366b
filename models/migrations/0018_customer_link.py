from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

# The customer's own order page: each link carries the order's link version; revoking raises it.


class Migration(migrations.Migration):
    dependencies = [('models', '0017_paid_total')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Order',
            name='customer_link_version',
            field=fields.IntField(default=0, db_default=0),
        ),
    ]
