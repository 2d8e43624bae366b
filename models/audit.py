from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

from models.enums import AuditAction
from models.org import Staff


class AuditEntry(Model):
    # Who did what to whose data, and when: a view, a phone revealed, an export, a sign-in, a customer's
    # data exported or erased. It names the order and the customer by id, never their personal data.
    # Order and customer are plain ids, not foreign keys: the log outlives what it names.

    id = fields.BigIntField(primary_key=True)
    at = fields.DatetimeField(auto_now_add=True, db_index=True)
    actor: fields.ForeignKeyNullableRelation[Staff] = fields.ForeignKeyField(
        "models.Staff", related_name="audit_entries", null=True, on_delete=fields.SET_NULL
    )
    actor_id: int | None
    actor_userid = fields.CharField(max_length=64, default="")  # as signed in, even for an unknown member
    action = fields.CharEnumField(AuditAction, max_length=32, db_index=True)
    order_id = fields.IntField(null=True, db_index=True)
    order_number = fields.CharField(max_length=32, default="")
    customer_id = fields.IntField(null=True)
    # What was exported (rows, format, the filter with any phone masked), what was erased.
    detail: dict = fields.JSONField(default=dict)  # type: ignore[assignment]
    ip = fields.CharField(max_length=64, default="")

    class Meta:
        table = "audit_log"
        indexes = (("actor_id", "at"),)
