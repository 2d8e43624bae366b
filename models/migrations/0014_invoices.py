from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0013_approvals')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Invoice',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('order', fields.ForeignKeyField('models.Order', source_field='order_id', db_constraint=True, to_field='id', related_name='invoices', on_delete=OnDelete.CASCADE)),
                ('number', fields.CharField(unique=True, max_length=32)),
                ('amount', fields.DecimalField(max_digits=12, decimal_places=2)),
                ('issued_on', fields.DateField()),
                ('buyer_tax_id', fields.CharField(max_length=20)),
                ('file_sha256', fields.CharField(null=True, max_length=64)),
                ('file_type', fields.CharField(null=True, max_length=100)),
                ('filename', fields.CharField(default='', max_length=255)),
                ('issued_by', fields.ForeignKeyField('models.Staff', source_field='issued_by_id', null=True, db_constraint=True, to_field='id', related_name='invoices_issued', on_delete=OnDelete.SET_NULL)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('voided_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('void_reason', fields.CharField(null=True, max_length=255)),
            ],
            options={'table': 'invoice', 'app': 'models', 'indexes': [Index(fields=['order_id'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
    ]
