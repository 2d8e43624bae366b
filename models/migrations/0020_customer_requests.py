from tortoise import migrations
from tortoise.migrations import operations as ops
from models.enums import CustomerRequestState, DayPart, TaskKind
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

# The customer's own page: their requests to move a booked visit.


class Migration(migrations.Migration):
    dependencies = [('models', '0019_leads')]

    initial = False

    operations = [
        ops.CreateModel(
            name='CustomerRequest',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('order', fields.ForeignKeyField('models.Order', source_field='order_id', db_constraint=True, to_field='id', related_name='customer_requests', on_delete=OnDelete.CASCADE)),
                ('task', fields.ForeignKeyField('models.Task', source_field='task_id', null=True, db_constraint=True, to_field='id', related_name='customer_requests', on_delete=OnDelete.SET_NULL)),
                ('kind', fields.CharEnumField(description='MEASURE: measure\nINSTALL: install\nVISIT: visit', enum_type=TaskKind, max_length=16)),
                ('booked_date', fields.DateField()),
                ('wanted_date', fields.DateField()),
                ('wanted_part', fields.CharEnumField(default=DayPart.ANY, description='MORNING: morning\nAFTERNOON: afternoon\nANY: any', enum_type=DayPart, max_length=16)),
                ('note', fields.CharField(default='', max_length=200)),
                ('state', fields.CharEnumField(default=CustomerRequestState.OPEN, description='OPEN: open\nHANDLED: handled', enum_type=CustomerRequestState, max_length=16)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('handled_by', fields.ForeignKeyField('models.Staff', source_field='handled_by_id', null=True, db_constraint=True, to_field='id', related_name='customer_requests_handled', on_delete=OnDelete.SET_NULL)),
                ('handled_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'customer_request', 'app': 'models', 'indexes': [Index(fields=['order_id', 'state'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
    ]
