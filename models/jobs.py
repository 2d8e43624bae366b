from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

from models.enums import MessageState
from models.orders import Order
from models.org import Staff


class Job(Model):
    # Scheduled work is rows: due time, kind, payload. `key` makes an insert idempotent (one
    # maintenance reminder per order and cycle, one daily push per day), so a re-run adds nothing.

    id = fields.BigIntField(primary_key=True)
    kind = fields.CharField(max_length=32, db_index=True)
    key = fields.CharField(max_length=255, unique=True)
    due_at = fields.DatetimeField(db_index=True)
    payload: dict = fields.JSONField(default=dict)  # type: ignore[assignment]
    state = fields.CharEnumField(MessageState, max_length=16, default=MessageState.PENDING, db_index=True)
    attempts = fields.IntField(default=0)
    locked_until = fields.DatetimeField(null=True)
    last_error = fields.TextField(default="")
    created_at = fields.DatetimeField(auto_now_add=True)
    done_at = fields.DatetimeField(null=True)

    class Meta:
        table = "job"


class Alert(Model):
    # One alert per order and rule (预警): raised once, sent to the managers over the order, handled from the card.

    id = fields.IntField(primary_key=True)
    order: fields.ForeignKeyRelation[Order] = fields.ForeignKeyField(
        "models.Order", related_name="alerts", on_delete=fields.CASCADE
    )
    order_id: int
    rule = fields.CharField(max_length=32)
    detail = fields.CharField(max_length=255, default="")
    created_at = fields.DatetimeField(auto_now_add=True, db_index=True)
    handled_by: fields.ForeignKeyNullableRelation[Staff] = fields.ForeignKeyField(
        "models.Staff", related_name="alerts_handled", null=True, on_delete=fields.SET_NULL
    )
    handled_by_id: int | None
    handled_at = fields.DatetimeField(null=True)

    class Meta:
        table = "alert"
        unique_together = (("order", "rule"),)


class AlertThreshold(Model):
    # An admin's threshold for an alert rule (workflow/alerts.py), in place of the config's default
    # ([alerts]); 0 turns the rule off. One row per rule key, only for rules an admin changed.

    rule = fields.CharField(max_length=32, primary_key=True)
    threshold = fields.IntField()
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "alert_threshold"
