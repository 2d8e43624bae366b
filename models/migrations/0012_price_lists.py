from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0011_money')]

    initial = False

    operations = [
        ops.CreateModel(
            name='PriceList',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('name', fields.CharField(max_length=64)),
                ('org_unit', fields.ForeignKeyField('models.OrgUnit', source_field='org_unit_id', null=True, db_constraint=True, to_field='id', related_name='price_lists', on_delete=OnDelete.RESTRICT)),
                ('valid_from', fields.DateField()),
                ('valid_to', fields.DateField(null=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'price_list', 'app': 'models', 'indexes': [Index(fields=['org_unit_id', 'valid_from'])], 'pk_attr': 'id', 'table_description': "Prices for a part of the company over a time: a store's or a region's (or, null, the whole"},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='PriceListEntry',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('price_list', fields.ForeignKeyField('models.PriceList', source_field='price_list_id', db_constraint=True, to_field='id', related_name='entries', on_delete=OnDelete.CASCADE)),
                ('product', fields.ForeignKeyField('models.Product', source_field='product_id', db_constraint=True, to_field='id', related_name='price_entries', on_delete=OnDelete.CASCADE)),
                ('price', fields.DecimalField(max_digits=12, decimal_places=2)),
            ],
            options={'table': 'price_list_entry', 'app': 'models', 'unique_together': (('price_list', 'product'),), 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='Product',
            name='image_content_type',
            field=fields.CharField(null=True, max_length=100),
        ),
        ops.AddField(
            model_name='Product',
            name='image_sha256',
            field=fields.CharField(null=True, max_length=64),
        ),
        ops.AddField(
            model_name='Product',
            name='specs',
            field=fields.JSONField(default=dict, db_default='{}', encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads),
        ),
    ]
