from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

from models.enums import CustomerRequestState, DayPart, TaskKind
from models.orders import Order, Task
from models.org import Staff


class CustomerRequest(Model):
    # The customer asks, from their own order page, to move a booked visit (measuring or installing):
    # the day and part of the day they would like, and a note. The dispatcher over the order settles it
    # (已处理), or rescheduling the job does.

    id = fields.IntField(primary_key=True)
    order: fields.ForeignKeyRelation[Order] = fields.ForeignKeyField(
        "models.Order", related_name="customer_requests", on_delete=fields.CASCADE
    )
    order_id: int
    # The job it is about, as booked when asked: its date then, to tell the customer what changed.
    task: fields.ForeignKeyNullableRelation[Task] = fields.ForeignKeyField(
        "models.Task", related_name="customer_requests", null=True, on_delete=fields.SET_NULL
    )
    task_id: int | None
    kind = fields.CharEnumField(TaskKind, max_length=16)
    booked_date = fields.DateField()
    wanted_date = fields.DateField()
    wanted_part = fields.CharEnumField(DayPart, max_length=16, default=DayPart.ANY)
    note = fields.CharField(max_length=200, default="")
    state = fields.CharEnumField(CustomerRequestState, max_length=16, default=CustomerRequestState.OPEN)
    created_at = fields.DatetimeField(auto_now_add=True)
    handled_by: fields.ForeignKeyNullableRelation[Staff] = fields.ForeignKeyField(
        "models.Staff", related_name="customer_requests_handled", null=True, on_delete=fields.SET_NULL
    )
    handled_by_id: int | None
    handled_at = fields.DatetimeField(null=True)

    class Meta:
        table = "customer_request"
        indexes = (("order_id", "state"),)
