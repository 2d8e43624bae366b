"""Service tickets (售后工单: 维修 / 投诉 / 保养); their photos are the order's attachments pointing at them."""

from tortoise import migrations
from tortoise.migrations import operations as ops
from models.enums import AttachmentCategory, TicketKind, TicketSource, TicketState
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

RESTORE = 'CREATE INDEX IF NOT EXISTS "idx_attachment_order_i_d599fe" ON "attachment" ("order_id", "category")'
BY_TICKET = 'CREATE INDEX IF NOT EXISTS "idx_attachment_ticket" ON "attachment" ("ticket_id")'


class Migration(migrations.Migration):
    dependencies = [('models', '0021_customer_contact')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Ticket',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('number', fields.CharField(unique=True, max_length=32)),
                ('order', fields.ForeignKeyField('models.Order', source_field='order_id', db_constraint=True, to_field='id', related_name='tickets', on_delete=OnDelete.CASCADE)),
                ('kind', fields.CharEnumField(description='REPAIR: repair\nCOMPLAINT: complaint\nMAINTENANCE: maintenance', enum_type=TicketKind, max_length=16)),
                ('source', fields.CharEnumField(description='CUSTOMER: customer\nCHAT: chat\nSTAFF_H5: staff_h5\nLOW_SCORE: low_score\nSCHEDULE: schedule', enum_type=TicketSource, max_length=16)),
                ('description', fields.TextField(default='', unique=False)),
                ('state', fields.CharEnumField(default=TicketState.OPEN, db_index=True, description='OPEN: open\nDISPATCHED: dispatched\nACCEPTED: accepted\nDONE: done\nCONFIRMED: confirmed\nCLOSED: closed\nCANCELLED: cancelled', enum_type=TicketState, max_length=16)),
                ('state_since', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('deadline', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
                ('opened_by', fields.ForeignKeyField('models.Staff', source_field='opened_by_id', null=True, db_constraint=True, to_field='id', related_name='tickets_opened', on_delete=OnDelete.SET_NULL)),
                ('assignee', fields.ForeignKeyField('models.Staff', source_field='assignee_id', null=True, db_constraint=True, to_field='id', related_name='tickets_held', on_delete=OnDelete.RESTRICT)),
                ('assigned_by', fields.ForeignKeyField('models.Staff', source_field='assigned_by_id', null=True, db_constraint=True, to_field='id', related_name='tickets_dispatched', on_delete=OnDelete.SET_NULL)),
                ('scheduled_date', fields.DateField(null=True)),
                ('decline_reason', fields.CharField(default='', max_length=255)),
                ('resolution', fields.CharField(default='', max_length=500)),
                ('done_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('confirmed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('confirm_comment', fields.CharField(default='', max_length=500)),
                ('overdue_alerted_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'ticket', 'app': 'models', 'indexes': [Index(fields=['order_id', 'state']), Index(fields=['assignee_id', 'state'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.AlterField(
            model_name='Attachment',
            name='category',
            field=fields.CharEnumField(db_index=True, description='PLUMBING_ELECTRICAL: plumbing_electrical\nWALLS_FLOORS: walls_floors\nWINDOWS: windows\nOTHER: other\nUNSORTED: unsorted\nPAPER_ORDER: paper_order\nDRAWING: drawing\nDESIGN: design\nINSTALL: install\nSIGNATURE: signature\nTICKET_REPORT: ticket_report\nTICKET_BEFORE: ticket_before\nTICKET_AFTER: ticket_after', enum_type=AttachmentCategory, max_length=32),
        ),
        ops.AddField(
            model_name='Attachment',
            name='ticket',
            field=fields.ForeignKeyField('models.Ticket', source_field='ticket_id', null=True, db_constraint=True, to_field='id', related_name='attachments', on_delete=OnDelete.SET_NULL),
        ),
        # SQLite adds a column with a foreign key by rebuilding the table, which leaves its indexes behind:
        # the one 0004 made is made again (on PostgreSQL it is still there). And a ticket's photos are read
        # by ticket.
        ops.RunSQL(RESTORE, reverse_sql=ops.RunSQL.noop),
        ops.RunSQL(BY_TICKET, reverse_sql='DROP INDEX IF EXISTS "idx_attachment_ticket"'),
    ]
