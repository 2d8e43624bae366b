from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

from models.enums import LeadEventKind, LeadSource, LeadState
from models.orders import Order
from models.org import OrgUnit, Staff


class Lead(Model):
    # A showroom booking (预约): a customer who wants to come to a store, assigned to one of its
    # consultants (workflow/lead_assign.py) and followed to an outcome (workflow/lead_lifecycle.py).
    # The phone is kept as a customer's is: encrypted, with a keyed hash to find it by.

    id = fields.IntField(primary_key=True)
    number = fields.CharField(max_length=32, unique=True)  # Y2612-0001: the customer's booking number
    name = fields.CharField(max_length=64)
    phone_encrypted = fields.TextField()
    phone_index = fields.CharField(max_length=64, db_index=True)
    store: fields.ForeignKeyRelation[OrgUnit] = fields.ForeignKeyField(
        "models.OrgUnit", related_name="leads", on_delete=fields.RESTRICT
    )
    store_id: int
    need_level = fields.CharField(max_length=8, default="")  # 高 / 中 / 低 (the seed's 需求等级)
    # What they are interested in: catalogue products (their ids: the order form starts with them) and words.
    product_ids: list[int] = fields.JSONField(default=list)  # type: ignore[assignment]
    products = fields.CharField(max_length=255, default="")
    wanted_at = fields.DatetimeField(null=True)  # when they want to come (预约上门时间)
    note = fields.CharField(max_length=500, default="")
    source = fields.CharEnumField(LeadSource, max_length=16, default=LeadSource.STAFF)
    state = fields.CharEnumField(LeadState, max_length=16, default=LeadState.NEW)
    state_since = fields.DatetimeField(null=True)
    consultant: fields.ForeignKeyNullableRelation[Staff] = fields.ForeignKeyField(
        "models.Staff", related_name="leads", null=True, on_delete=fields.SET_NULL
    )
    consultant_id: int | None
    # When it last went to its consultant: "customers received today" counts these.
    assigned_at = fields.DatetimeField(null=True)
    # Fairness: how often it was refused (退回) or handed on; who refused it is in the lead's events.
    rejections = fields.IntField(default=0)
    transfers = fields.IntField(default=0)
    # The outcome: when it was decided (won / not won: the conversion rate's), and why (作废, 未成交).
    decided_at = fields.DatetimeField(null=True)
    outcome_reason = fields.CharField(max_length=255, default="")
    order: fields.ForeignKeyNullableRelation[Order] = fields.ForeignKeyField(
        "models.Order", related_name="leads", null=True, on_delete=fields.SET_NULL
    )
    order_id: int | None
    created_by: fields.ForeignKeyNullableRelation[Staff] = fields.ForeignKeyField(
        "models.Staff", related_name="leads_created", null=True, on_delete=fields.SET_NULL
    )
    created_by_id: int | None
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "lead"
        indexes = (("store_id", "state"), ("consultant_id", "state"), ("consultant_id", "assigned_at"))


class LeadEvent(Model):
    # A lead's history: who did what, when (and to whom, and why).

    id = fields.IntField(primary_key=True)
    lead: fields.ForeignKeyRelation[Lead] = fields.ForeignKeyField(
        "models.Lead", related_name="events", on_delete=fields.CASCADE
    )
    lead_id: int
    kind = fields.CharEnumField(LeadEventKind, max_length=16)
    actor: fields.ForeignKeyNullableRelation[Staff] = fields.ForeignKeyField(
        "models.Staff", related_name="lead_events", null=True, on_delete=fields.SET_NULL
    )
    actor_id: int | None
    # The consultant it went to (assigned, transferred, reassigned) or came from (rejected).
    staff: fields.ForeignKeyNullableRelation[Staff] = fields.ForeignKeyField(
        "models.Staff", related_name="lead_events_about", null=True, on_delete=fields.SET_NULL
    )
    staff_id: int | None
    text = fields.CharField(max_length=255, default="")
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "lead_event"
        indexes = (("lead_id", "id"),)
