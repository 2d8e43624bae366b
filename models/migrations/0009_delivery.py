from tortoise import fields, migrations
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [('models', '0008_audit')]

    initial = False

    operations = [
        ops.AddField(
            model_name='OutboxMessage',
            name='priority',
            field=fields.SmallIntField(default=1),
        ),
        ops.AddField(
            model_name='OutboxMessage',
            name='media_id',
            field=fields.CharField(default='', max_length=128),
        ),
        ops.AddField(
            model_name='OutboxMessage',
            name='media_uploaded_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='OutboxMessage',
            name='content_key',
            field=fields.CharField(default='', db_index=True, max_length=64),
        ),
    ]
