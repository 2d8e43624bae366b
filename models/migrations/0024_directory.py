"""The WeCom directory: a unit's department id and open/closed flag, a member's departure and tag-given roles; alert thresholds an admin set."""

from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0023_news')]

    initial = False

    operations = [
        ops.CreateModel(
            name='AlertThreshold',
            fields=[
                ('rule', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=32)),
                ('threshold', fields.IntField()),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'alert_threshold', 'app': 'models', 'pk_attr': 'rule'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='OrgUnit',
            name='active',
            field=fields.BooleanField(default=True, db_default=True),
        ),
        ops.AddField(
            model_name='OrgUnit',
            name='wecom_department_id',
            field=fields.IntField(null=True, unique=True),
        ),
        ops.AddField(
            model_name='Staff',
            name='left_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='Staff',
            name='tag_roles',
            field=fields.JSONField(default=list, db_default='[]', encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads),
        ),
    ]
