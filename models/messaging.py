from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

from models.enums import MessageState, OutboxKind


class InboxMessage(Model):
    # A callback from WeCom, stored before it is acknowledged and handled after.
    #
    # `dedupe_key` is unique: WeCom re-sends a callback it got no 200 for, and the re-send is dropped here.

    id = fields.BigIntField(primary_key=True)
    dedupe_key = fields.CharField(max_length=255, unique=True)
    userid = fields.CharField(max_length=64)
    msg_type = fields.CharField(max_length=32)
    payload: dict = fields.JSONField()  # type: ignore[assignment]
    state = fields.CharEnumField(MessageState, max_length=16, default=MessageState.PENDING, db_index=True)
    attempts = fields.IntField(default=0)
    locked_until = fields.DatetimeField(null=True)
    last_error = fields.TextField(default="")
    received_at = fields.DatetimeField(auto_now_add=True)
    processed_at = fields.DatetimeField(null=True)
    # When its content was dropped after the retention (workflow/retention.py): who and when stay.
    purged_at = fields.DatetimeField(null=True)

    class Meta:
        table = "inbox"


class OutboxMessage(Model):
    # A message for WeCom, written in the same transaction as the change that caused it.

    id = fields.BigIntField(primary_key=True)
    kind = fields.CharEnumField(OutboxKind, max_length=16)
    payload: dict = fields.JSONField()  # type: ignore[assignment]
    # The template card's task_id, when this sends a card: later updates find the card by it.
    card_task_id = fields.CharField(max_length=128, null=True, db_index=True)
    state = fields.CharEnumField(MessageState, max_length=16, default=MessageState.PENDING, db_index=True)
    attempts = fields.IntField(default=0)
    next_attempt_at = fields.DatetimeField(db_index=True)
    locked_until = fields.DatetimeField(null=True)
    last_error = fields.TextField(default="")
    msgid = fields.CharField(max_length=128, default="")
    # One-use code WeCom returns for an interactive card: lets Relay update it for all its recipients.
    response_code = fields.CharField(max_length=255, default="")
    created_at = fields.DatetimeField(auto_now_add=True)
    sent_at = fields.DatetimeField(null=True)
    purged_at = fields.DatetimeField(null=True)  # as the inbox's
    # Who waits for it (infra.delivery.Priority): the member's answer goes before notices and pushes.
    priority = fields.SmallIntField(default=1)
    # A chart or photo Relay stored, uploaded once (media/upload, valid 3 days): every retry sends the
    # same media_id, so the retry is the same request as the first send.
    media_id = fields.CharField(max_length=128, default="")
    media_uploaded_at = fields.DatetimeField(null=True)
    # What the member reads (recipients, type, content), hashed: the same text sent again on purpose
    # within WeCom's duplicate-check interval is made to differ from the first (bot/outbox.py).
    content_key = fields.CharField(max_length=64, default="", db_index=True)

    class Meta:
        table = "outbox"
