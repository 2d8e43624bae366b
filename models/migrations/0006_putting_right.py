from tortoise import fields, migrations
from tortoise.fields.base import OnDelete
from tortoise.migrations import operations as ops

from models.enums import OrderState


class Migration(migrations.Migration):
    dependencies = [('models', '0005_purged')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Order',
            name='cancelled_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='Order',
            name='cancelled_from',
            field=fields.CharEnumField(null=True, enum_type=OrderState, max_length=32),
        ),
        ops.AddField(
            model_name='Attachment',
            name='removed_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='Attachment',
            name='removed_by',
            field=fields.ForeignKeyField('models.Staff', source_field='removed_by_id', null=True, db_constraint=True, to_field='id', related_name='removed_uploads', on_delete=OnDelete.SET_NULL),
        ),
        ops.AddField(
            model_name='Attachment',
            name='remove_reason',
            field=fields.CharField(null=True, max_length=255),
        ),
        ops.AddField(
            model_name='Payment',
            name='voided_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='Payment',
            name='voided_by',
            field=fields.ForeignKeyField('models.Staff', source_field='voided_by_id', null=True, db_constraint=True, to_field='id', related_name='payments_voided', on_delete=OnDelete.SET_NULL),
        ),
        ops.AddField(
            model_name='Payment',
            name='void_reason',
            field=fields.CharField(null=True, max_length=255),
        ),
    ]
