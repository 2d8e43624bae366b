from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

from models.enums import ApprovalState
from models.orders import Order
from models.org import OrgUnit, Staff


class Approval(Model):
    # One level of an order's price review (审核): the managers of `unit` approve or reject the figures
    # it was asked about. Approving a level opens the next (a new row); the last one approves the order.
    # A price change while a level is pending supersedes it: the new prices start a new round.

    id = fields.IntField(primary_key=True)
    order: fields.ForeignKeyRelation[Order] = fields.ForeignKeyField(
        "models.Order", related_name="approvals", on_delete=fields.CASCADE
    )
    order_id: int
    round = fields.IntField(default=1)  # the order's n-th request for review
    step = fields.IntField(default=0)  # the level's position in money.approvers (the top unit: after them)
    level = fields.CharField(max_length=16)  # "store", "region", "company" or "top"
    # Whose managers approve this level: they are read when a member taps, so a manager added later may.
    unit: fields.ForeignKeyRelation[OrgUnit] = fields.ForeignKeyField(
        "models.OrgUnit", related_name="approvals", on_delete=fields.RESTRICT
    )
    unit_id: int
    # What was asked: list, discount, contract, floor, threshold, reasons, lines (a snapshot).
    figures: dict = fields.JSONField(default=dict)  # type: ignore[assignment]
    requested_by: fields.ForeignKeyNullableRelation[Staff] = fields.ForeignKeyField(
        "models.Staff", related_name="approvals_requested", null=True, on_delete=fields.SET_NULL
    )
    requested_by_id: int | None
    state = fields.CharEnumField(ApprovalState, max_length=16, default=ApprovalState.PENDING)
    superseded = fields.BooleanField(default=False)
    decided_by: fields.ForeignKeyNullableRelation[Staff] = fields.ForeignKeyField(
        "models.Staff", related_name="approvals_decided", null=True, on_delete=fields.SET_NULL
    )
    decided_by_id: int | None
    decided_at = fields.DatetimeField(null=True)
    reason = fields.CharField(max_length=255, default="")
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "approval"
        indexes = (("order_id", "state"), ("unit_id", "state"))
