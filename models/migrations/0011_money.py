from tortoise import migrations
from tortoise.migrations import operations as ops
from models.enums import ApprovalState
from tortoise.fields.base import OnDelete
from tortoise import fields

# Payments recorded before finance confirmed anything count as confirmed when they were recorded:
# the money was taken then, and nobody is left to confirm it.
CONFIRM_EARLIER = "UPDATE payment SET confirmed_at = created_at WHERE confirmed_at IS NULL"


class Migration(migrations.Migration):
    dependencies = [('models', '0010_unit_stage_indexes')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Order',
            name='approval_state',
            field=fields.CharEnumField(null=True, description='PENDING: pending\nAPPROVED: approved\nREJECTED: rejected', enum_type=ApprovalState, max_length=16),
        ),
        ops.AddField(
            model_name='Order',
            name='discount_amount',
            field=fields.DecimalField(default=0, db_default=0, max_digits=12, decimal_places=2),
        ),
        ops.AddField(
            model_name='Order',
            name='list_amount',
            field=fields.DecimalField(null=True, max_digits=12, decimal_places=2),
        ),
        ops.AddField(
            model_name='OrderItem',
            name='amount',
            field=fields.DecimalField(null=True, max_digits=12, decimal_places=2),
        ),
        ops.AddField(
            model_name='OrderItem',
            name='list_price',
            field=fields.DecimalField(null=True, max_digits=12, decimal_places=2),
        ),
        ops.AddField(
            model_name='OrderItem',
            name='unit_price',
            field=fields.DecimalField(null=True, max_digits=12, decimal_places=2),
        ),
        ops.AddField(
            model_name='Payment',
            name='confirmed_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='Payment',
            name='confirmed_by',
            field=fields.ForeignKeyField('models.Staff', source_field='confirmed_by_id', null=True, db_constraint=True, to_field='id', related_name='payments_confirmed', on_delete=OnDelete.SET_NULL),
        ),
        ops.AddField(
            model_name='Product',
            name='list_price',
            field=fields.DecimalField(null=True, max_digits=12, decimal_places=2),
        ),
        ops.AddField(
            model_name='Product',
            name='unit',
            field=fields.CharField(default='件', db_default='件', max_length=16),
        ),
        ops.RunSQL(CONFIRM_EARLIER),
    ]
