from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

from models.enums import TicketKind, TicketSource, TicketState
from models.orders import Order
from models.org import Staff


class Ticket(Model):
    # A service ticket (售后工单): a repair, a complaint or a maintenance visit on an installed order. Its
    # lifecycle is workflow/ticket_lifecycle.py; its photos are attachments of the order pointing here
    # (categories ticket_report / ticket_before / ticket_after).

    id = fields.IntField(primary_key=True)
    number = fields.CharField(max_length=32, unique=True)  # S2612-0001: S + yymm + the month's sequence
    order: fields.ForeignKeyRelation[Order] = fields.ForeignKeyField(
        "models.Order", related_name="tickets", on_delete=fields.CASCADE
    )
    order_id: int
    kind = fields.CharEnumField(TicketKind, max_length=16)
    source = fields.CharEnumField(TicketSource, max_length=16)
    description = fields.TextField(default="")
    state = fields.CharEnumField(TicketState, max_length=16, default=TicketState.OPEN, db_index=True)
    state_since = fields.DatetimeField(null=True)
    deadline = fields.DatetimeField(db_index=True)  # per kind, from config [tickets]
    opened_by: fields.ForeignKeyNullableRelation[Staff] = fields.ForeignKeyField(
        "models.Staff", related_name="tickets_opened", null=True, on_delete=fields.SET_NULL
    )
    opened_by_id: int | None
    assignee: fields.ForeignKeyNullableRelation[Staff] = fields.ForeignKeyField(
        "models.Staff", related_name="tickets_held", null=True, on_delete=fields.RESTRICT
    )
    assignee_id: int | None
    assigned_by: fields.ForeignKeyNullableRelation[Staff] = fields.ForeignKeyField(
        "models.Staff", related_name="tickets_dispatched", null=True, on_delete=fields.SET_NULL
    )
    assigned_by_id: int | None
    scheduled_date = fields.DateField(null=True)
    decline_reason = fields.CharField(max_length=255, default="")
    resolution = fields.CharField(max_length=500, default="")  # what was done, or why it was closed
    done_at = fields.DatetimeField(null=True)
    confirmed_at = fields.DatetimeField(null=True)
    confirm_comment = fields.CharField(max_length=500, default="")
    # The overdue alert went out (once per ticket).
    overdue_alerted_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "ticket"
        indexes = (("order_id", "state"), ("assignee_id", "state"))
