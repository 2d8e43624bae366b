"""Webhooks: other systems (an ERP, the factory's MES, a finance system) told of what happens in Relay.

An admin (on /h5/admin/webhooks, or a token with `webhooks:write`) subscribes a URL to event types;
Relay makes the secret and shows it once. `emit` is called inside the transaction of the change it
reports, and writes one delivery row per subscription that wants the event, so the event is sent if and
only if the change commits. scheduler/webhooks.py delivers the rows after commit.

What a receiver gets: a POST whose body is the event as canonical JSON, `{"id", "type", "created_at",
"data"}`, with `X-Relay-Event-Id`, `X-Relay-Event-Type` and `X-Relay-Signature: t=<unix time>,v1=<hex>`,
where v1 is HMAC-SHA256 with the secret over `<t>.<body>` (`verify` below is the receiver's check). Any
2xx is delivered; anything else is retried with backoff. Delivery is at least once: a worker that dies
after the receiver got the request but before it recorded the answer sends it again, with the same
event id and body, and the receiver drops the repeat by the id.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from infra.runtime import runtime
from infra.timeutil import utcnow
from models import MessageState, Role, ServiceToken, Staff, WebhookDelivery, WebhookSubscription
from workflow.errors import Conflict, Invalid, NotFound
from workflow.scope import require_role

ORDER_STATE_CHANGED = "order.state_changed"
PAYMENT_RECORDED = "payment.recorded"
PIECE_MOVED = "piece.moved"
STOCK_BELOW_SAFETY = "stock.below_safety"
LEAD_STATE_CHANGED = "lead.state_changed"
# Every event type a subscription may name, and what it means (the admin page and the API list them).
EVENT_TYPES = {
    ORDER_STATE_CHANGED: "订单状态变化",
    PAYMENT_RECORDED: "登记收款",
    PIECE_MOVED: "生产件状态变化",
    STOCK_BELOW_SAFETY: "库存低于安全库存",
    LEAD_STATE_CHANGED: "预约状态变化",
}
SECRET_PREFIX = "whsec_"
# How far a receiver should let a signature's time be from its clock (replayed requests are older).
TOLERANCE_SECONDS = 300

Actor = Staff | ServiceToken | None


@dataclass(frozen=True)
class SubscriptionInput:
    name: str
    url: str
    events: list[str]


@dataclass(frozen=True)
class Created:
    subscription: WebhookSubscription
    secret: str  # shown once


def _may_manage(actor: Actor) -> None:
    """Admins on H5; a token reaches here only with the webhooks:write scope (checked by the API)."""
    if isinstance(actor, Staff):
        require_role(actor, Role.ADMIN)


def check_input(form: SubscriptionInput) -> SubscriptionInput:
    errors: dict[str, str] = {}
    name, url = form.name.strip(), form.url.strip()
    if not name or len(name) > 64:
        errors["name"] = "请填写订阅名称（64 字以内）"
    parts = urlsplit(url)
    if len(url) > 500 or parts.scheme not in ("http", "https") or not parts.hostname:
        errors["url"] = "请填写接收地址，以 http:// 或 https:// 开头（500 字以内）"
    events = list(dict.fromkeys(e.strip() for e in form.events if e.strip()))
    unknown = [e for e in events if e not in EVENT_TYPES]
    if unknown:
        errors["events"] = f"未知的事件类型：{'、'.join(unknown)[:100]}（可选：{'、'.join(EVENT_TYPES)}）"
    elif not events:
        errors["events"] = "请至少选择一种事件"
    if errors:
        raise Invalid.several(errors)
    return SubscriptionInput(name, url, events)


async def create_subscription(*, actor: Actor, form: SubscriptionInput) -> Created:
    _may_manage(actor)
    form = check_input(form)
    secret = SECRET_PREFIX + secrets.token_urlsafe(32)
    subscription = await WebhookSubscription.create(
        name=form.name,
        url=form.url,
        events=" ".join(form.events),
        secret_encrypted=runtime().vault.encrypt(secret),
        created_by=actor if isinstance(actor, Staff) else None,
    )
    return Created(subscription, secret)


async def subscription_of(subscription_id: int) -> WebhookSubscription:
    subscription = await WebhookSubscription.get_or_none(id=subscription_id)
    if subscription is None:
        raise NotFound("订阅不存在")
    return subscription


async def update_subscription(
    *, actor: Actor, subscription_id: int, form: SubscriptionInput, active: bool
) -> WebhookSubscription:
    """Change the URL or the events, or (de)activate: a deactivated subscription gets nothing new, and
    its pending deliveries are not sent (they stay, and may be replayed once it is active again)."""
    _may_manage(actor)
    form = check_input(form)
    subscription = await subscription_of(subscription_id)
    subscription.update_from_dict(
        {
            "name": form.name,
            "url": form.url,
            "events": " ".join(form.events),
            "active": active,
            "deactivated_at": None if active else (subscription.deactivated_at or utcnow()),
        }
    )
    await subscription.save()
    return subscription


async def emit(event_type: str, data: dict[str, Any]) -> None:
    """Queue the event for every active subscription that wants it. Call inside the transaction of the
    change: the event goes out if and only if the change commits. No personal data in `data`."""
    assert event_type in EVENT_TYPES, event_type
    wanted = [
        s.id
        for s in await WebhookSubscription.filter(active=True, events__contains=event_type)
        if event_type in s.event_list
    ]
    if not wanted:
        return
    event_id, now = str(uuid.uuid4()), utcnow()
    payload = {"id": event_id, "type": event_type, "created_at": now.isoformat(), "data": data}
    await WebhookDelivery.bulk_create(
        [
            WebhookDelivery(
                event_id=event_id, event_type=event_type, subscription_id=sid, payload=payload, next_attempt_at=now
            )
            for sid in wanted
        ]
    )


async def replay(*, actor: Actor, delivery_id: int) -> WebhookDelivery:
    """Send a delivery again (a failed one, or one the receiver lost): the same event id and body, so a
    receiver that already has it drops it."""
    _may_manage(actor)
    delivery = await WebhookDelivery.get_or_none(id=delivery_id).prefetch_related("subscription")
    if delivery is None:
        raise NotFound("投递记录不存在")
    if not delivery.subscription.active:
        raise Conflict("订阅已停用，请先启用再重发", "订阅已停用")
    # Not while an attempt holds it: that attempt's answer would overwrite the replay.
    now = utcnow()
    taken = await WebhookDelivery.filter(id=delivery.id, locked_until__isnull=True).update(
        state=MessageState.PENDING, attempts=0, next_attempt_at=now, last_error=""
    ) or await WebhookDelivery.filter(id=delivery.id, locked_until__lt=now).update(
        state=MessageState.PENDING, attempts=0, next_attempt_at=now, last_error="", locked_until=None
    )
    if not taken:
        raise Conflict("正在投递中，请稍后再试", "投递中")
    await delivery.refresh_from_db()
    return delivery


# Signing


def body_of(delivery: WebhookDelivery) -> bytes:
    """The request body: the same bytes on every attempt (canonical JSON)."""
    return json.dumps(delivery.payload, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def signature(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def signed_headers(subscription: WebhookSubscription, delivery: WebhookDelivery, body: bytes) -> dict[str, str]:
    secret = runtime().vault.decrypt(subscription.secret_encrypted)
    return {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": "Relay-Webhooks/1",
        "X-Relay-Event-Id": delivery.event_id,
        "X-Relay-Event-Type": delivery.event_type,
        "X-Relay-Signature": signature(secret, int(time.time()), body),
    }


def verify(secret: str, header: str, body: bytes, *, now: float | None = None) -> bool:
    """The receiver's check: the signature matches and its time is within TOLERANCE_SECONDS."""
    fields = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    try:
        timestamp = int(fields.get("t", ""))
    except ValueError:
        return False
    if abs((now if now is not None else time.time()) - timestamp) > TOLERANCE_SECONDS:
        return False
    expected = signature(secret, timestamp, body).partition(",v1=")[2]
    return hmac.compare_digest(expected, fields.get("v1", ""))


# What the admin page and the API show


async def recent_deliveries(*, subscription_id: int | None = None, limit: int = 100) -> list[WebhookDelivery]:
    """The newest deliveries first (the admin page)."""
    query = WebhookDelivery.all().prefetch_related("subscription")
    if subscription_id is not None:
        query = query.filter(subscription_id=subscription_id)
    return await query.order_by("-id").limit(limit)
