from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

from models.enums import MessageState


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
