"""News (公告) and who each item was delivered to and read by; the audit log names posting and withdrawing."""

from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from models.enums import AuditAction
from models.news import NewsKind
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0022_tickets')]

    initial = False

    operations = [
        ops.CreateModel(
            name='News',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('title', fields.CharField(max_length=64)),
                ('body', fields.TextField(default='', unique=False)),
                ('kind', fields.CharEnumField(db_index=True, description='NEWS: news\nPROMOTION: promotion\nPRICE_LIST: price_list', enum_type=NewsKind, max_length=16)),
                ('author', fields.ForeignKeyField('models.Staff', source_field='author_id', db_constraint=True, to_field='id', related_name='news_posted', on_delete=OnDelete.RESTRICT)),
                ('roles', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('unit_ids', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('file_sha256', fields.CharField(null=True, max_length=64)),
                ('file_name', fields.CharField(default='', max_length=128)),
                ('file_type', fields.CharField(default='', max_length=128)),
                ('file_size', fields.IntField(default=0)),
                ('created_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=True)),
                ('withdrawn_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('withdrawn_by', fields.ForeignKeyField('models.Staff', source_field='withdrawn_by_id', null=True, db_constraint=True, to_field='id', related_name='news_withdrawn', on_delete=OnDelete.SET_NULL)),
            ],
            options={'table': 'news', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='NewsDelivery',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('news', fields.ForeignKeyField('models.News', source_field='news_id', db_constraint=True, to_field='id', related_name='deliveries', on_delete=OnDelete.CASCADE)),
                ('staff', fields.ForeignKeyField('models.Staff', source_field='staff_id', db_constraint=True, to_field='id', related_name='news_received', on_delete=OnDelete.CASCADE)),
                ('card_task_id', fields.CharField(db_index=True, max_length=128)),
                ('read_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'news_delivery', 'app': 'models', 'unique_together': (('news', 'staff'),), 'indexes': [Index(fields=['staff_id', 'read_at'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.AlterField(
            model_name='AuditEntry',
            name='action',
            field=fields.CharEnumField(db_index=True, description='SIGN_IN: sign_in\nORDER_VIEW: order_view\nPHONE_REVEAL: phone_reveal\nORDER_EXPORT: order_export\nSTATS_EXPORT: stats_export\nAUDIT_EXPORT: audit_export\nCUSTOMER_EXPORT: customer_export\nCUSTOMER_ERASE: customer_erase\nRECEIVABLES_EXPORT: receivables_export\nLEAD_VIEW: lead_view\nNEWS_POST: news_post\nNEWS_WITHDRAW: news_withdraw', enum_type=AuditAction, max_length=32),
        ),
    ]
