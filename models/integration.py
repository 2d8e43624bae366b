"""The integration API's own rows: idempotency keys of API writes, webhook subscriptions and their deliveries."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

from models.enums import MessageState
from models.org import Staff
from models.tokens import ServiceToken


class IdempotencyKey(Model):
    # An API write made with an `Idempotency-Key` header: written in the same transaction as the write
    # itself, with the answer it got, so a retry with the key replays that answer and never applies twice.

    id = fields.BigIntField(primary_key=True)
    token: fields.ForeignKeyRelation[ServiceToken] = fields.ForeignKeyField(
        "models.ServiceToken", related_name="idempotency_keys", on_delete=fields.CASCADE
    )
    token_id: int
    key = fields.CharField(max_length=255)
    # sha256 of the method, path and body: the same key with another request is refused, not replayed.
    fingerprint = fields.CharField(max_length=64)
    status = fields.SmallIntField()
    response: dict = fields.JSONField()  # type: ignore[assignment]
    created_at = fields.DatetimeField(auto_now_add=True)
    expires_at = fields.DatetimeField(db_index=True)

    class Meta:
        table = "idempotency_key"
        unique_together = (("token_id", "key"),)


class WebhookSubscription(Model):
    # Another system's URL, told of the events it names (workflow/webhooks.py EVENT_TYPES), each request
    # signed with its secret. Deactivated, never deleted: its deliveries stay visible.

    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=64)
    url = fields.CharField(max_length=500)
    # The signing secret, encrypted at rest like a phone (infra.security Vault): it must be read to sign.
    secret_encrypted = fields.TextField()
    events = fields.CharField(max_length=500)  # space-separated event types
    active = fields.BooleanField(default=True)
    created_by: fields.ForeignKeyNullableRelation[Staff] = fields.ForeignKeyField(
        "models.Staff", related_name="webhook_subscriptions", null=True, on_delete=fields.SET_NULL
    )
    created_by_id: int | None
    created_at = fields.DatetimeField(auto_now_add=True)
    deactivated_at = fields.DatetimeField(null=True)

    class Meta:
        table = "webhook_subscription"

    @property
    def event_list(self) -> list[str]:
        return self.events.split()


class WebhookDelivery(Model):
    # One event for one subscription, written in the transaction of the change it reports and delivered
    # after commit by scheduler/webhooks.py: claimed with a lease, retried with backoff.

    id = fields.BigIntField(primary_key=True)
    event_id = fields.CharField(max_length=36)  # the receiver dedupes on it (X-Relay-Event-Id)
    event_type = fields.CharField(max_length=64)
    subscription: fields.ForeignKeyRelation[WebhookSubscription] = fields.ForeignKeyField(
        "models.WebhookSubscription", related_name="deliveries", on_delete=fields.CASCADE
    )
    subscription_id: int
    payload: dict = fields.JSONField()  # type: ignore[assignment]
    state = fields.CharEnumField(MessageState, max_length=16, default=MessageState.PENDING, db_index=True)
    attempts = fields.IntField(default=0)
    next_attempt_at = fields.DatetimeField(db_index=True)
    locked_until = fields.DatetimeField(null=True)
    last_status = fields.SmallIntField(null=True)  # the receiver's last HTTP status (None: no answer)
    last_error = fields.TextField(default="")
    created_at = fields.DatetimeField(auto_now_add=True)
    delivered_at = fields.DatetimeField(null=True)

    class Meta:
        table = "webhook_delivery"
        unique_together = (("event_id", "subscription_id"),)
