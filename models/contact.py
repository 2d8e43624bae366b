"""Reaching the customer: WeCom customer contact (客户联系) and SMS.

A 「联系我」 way per order carries the order in its `state`; a customer who adds the salesperson through
it becomes an ExternalContact bound to the customer and the order. What Relay asks WeCom to do for a
customer (create the way, send the welcome, create a mass-send task) and the SMS it sends are rows with
a state, written in the transaction that decided them and carried out after commit by the workers
(scheduler/contact.py): each is attempted at most once when the outcome of an attempt is unknown.
"""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model

from models.leads import Lead
from models.orders import Customer, Order
from models.org import Staff


class CallState(StrEnum):
    """Where a call to an outside API (WeCom customer contact, the SMS provider) stands."""

    QUEUED = "queued"  # written, waiting for a worker
    SENDING = "sending"  # a worker has started the call: if it dies now, the outcome is unknown
    DONE = "done"  # the API said yes
    FAILED = "failed"  # the API said no, or it could not be tried in time: nothing was sent
    UNKNOWN = "unknown"  # the call may or may not have been carried out: never tried again

    @property
    def label(self) -> str:
        return {
            "queued": "待发送",
            "sending": "发送中",
            "done": "已发送",
            "failed": "发送失败",
            "unknown": "结果未知",
        }[self.value]


class ContactWay(Model):
    # A 「联系我」 QR code of the order's salesperson, its `state` naming the order (≤ 30 chars, 92228).

    id = fields.IntField(primary_key=True)
    order: fields.ForeignKeyRelation[Order] = fields.ForeignKeyField(
        "models.Order", related_name="contact_ways", on_delete=fields.CASCADE
    )
    order_id: int
    member: fields.ForeignKeyRelation[Staff] = fields.ForeignKeyField(
        "models.Staff", related_name="contact_ways", on_delete=fields.CASCADE
    )
    member_id: int
    state_key = fields.CharField(max_length=30, unique=True)  # the way's `state`
    config_id = fields.CharField(max_length=64, default="")
    qr_code = fields.CharField(max_length=512, default="")
    call_state = fields.CharEnumField(CallState, max_length=16, default=CallState.QUEUED, db_index=True)
    attempts = fields.IntField(default=0)
    next_attempt_at = fields.DatetimeField()
    locked_until = fields.DatetimeField(null=True)
    last_error = fields.CharField(max_length=512, default="")
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "contact_way"


class ExternalContact(Model):
    # A customer (a WeChat user) who added a member: WeCom's external_userid bound to Relay's customer.

    id = fields.IntField(primary_key=True)
    external_userid = fields.CharField(max_length=64)
    member: fields.ForeignKeyRelation[Staff] = fields.ForeignKeyField(
        "models.Staff", related_name="external_contacts", on_delete=fields.CASCADE
    )
    member_id: int
    customer: fields.ForeignKeyRelation[Customer] = fields.ForeignKeyField(
        "models.Customer", related_name="external_contacts", on_delete=fields.CASCADE
    )
    customer_id: int
    order: fields.ForeignKeyNullableRelation[Order] = fields.ForeignKeyField(
        "models.Order", related_name="external_contacts", null=True, on_delete=fields.SET_NULL
    )
    order_id: int | None
    added_at = fields.DatetimeField(auto_now_add=True)
    # The welcome message (send_welcome_msg, 92137): its one-use code is valid 20 s after the event.
    welcome_code = fields.CharField(max_length=255, default="")
    welcome_deadline = fields.DatetimeField(null=True)
    welcome_state = fields.CharEnumField(CallState, max_length=16, default=CallState.DONE, db_index=True)
    welcome_payload: dict = fields.JSONField(default=dict)  # type: ignore[assignment]
    attempts = fields.IntField(default=0)
    locked_until = fields.DatetimeField(null=True)
    last_error = fields.CharField(max_length=512, default="")

    class Meta:
        table = "external_contact"
        unique_together = (("external_userid", "member"),)


class CustomerMessage(Model):
    # A milestone message sent to the customer's WeChat as an enterprise mass-send task (企业群发,
    # add_msg_template, 92135) that the salesperson confirms in WeCom. `slot` (1..the monthly limit) is
    # unique per customer and month: two taps at once cannot both take the last one.

    id = fields.IntField(primary_key=True)
    order: fields.ForeignKeyRelation[Order] = fields.ForeignKeyField(
        "models.Order", related_name="customer_messages", on_delete=fields.CASCADE
    )
    order_id: int
    customer: fields.ForeignKeyRelation[Customer] = fields.ForeignKeyField(
        "models.Customer", related_name="customer_messages", on_delete=fields.CASCADE
    )
    customer_id: int
    sender: fields.ForeignKeyRelation[Staff] = fields.ForeignKeyField(
        "models.Staff", related_name="customer_messages", on_delete=fields.CASCADE
    )
    sender_id: int
    external_userid = fields.CharField(max_length=64)
    milestone = fields.CharField(max_length=32)
    text = fields.TextField()
    link = fields.CharField(max_length=1024, default="")
    month = fields.CharField(max_length=7)  # YYYY-MM in Asia/Shanghai
    slot = fields.SmallIntField(null=True)  # freed (NULL) when WeCom refused the task: nothing went out
    msgid = fields.CharField(max_length=128, default="")  # the task's msgid from add_msg_template
    call_state = fields.CharEnumField(CallState, max_length=16, default=CallState.QUEUED, db_index=True)
    attempts = fields.IntField(default=0)
    next_attempt_at = fields.DatetimeField()
    locked_until = fields.DatetimeField(null=True)
    last_error = fields.CharField(max_length=512, default="")
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "customer_message"
        unique_together = (("customer", "month", "slot"),)


class SmsMessage(Model):
    # One SMS, queued in the caller's transaction and sent after commit by a worker (workflow/sms.py).
    # The phone is kept encrypted (the PII vault), never logged.

    id = fields.IntField(primary_key=True)
    phone_encrypted = fields.TextField()
    template = fields.CharField(max_length=64)
    params: dict = fields.JSONField(default=dict)  # type: ignore[assignment]
    purpose = fields.CharField(max_length=64)
    order: fields.ForeignKeyNullableRelation[Order] = fields.ForeignKeyField(
        "models.Order", related_name="sms_messages", null=True, on_delete=fields.SET_NULL
    )
    order_id: int | None
    lead: fields.ForeignKeyNullableRelation[Lead] = fields.ForeignKeyField(
        "models.Lead", related_name="sms_messages", null=True, on_delete=fields.SET_NULL
    )
    lead_id: int | None
    state = fields.CharEnumField(CallState, max_length=16, default=CallState.QUEUED, db_index=True)
    attempts = fields.IntField(default=0)
    next_attempt_at = fields.DatetimeField(db_index=True)
    locked_until = fields.DatetimeField(null=True)
    last_error = fields.CharField(max_length=512, default="")
    provider_serial = fields.CharField(max_length=128, default="")
    created_at = fields.DatetimeField(auto_now_add=True)
    sent_at = fields.DatetimeField(null=True)

    class Meta:
        table = "sms_message"
