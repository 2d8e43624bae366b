"""Keeping personal data no longer than needed: once a chat message has been handled or sent, and
the retention has passed, its row keeps who, when and what kind, not what was said (a customer's
phone in "查找 138…", an address on a card); a signature's IP address and browser go the same way."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from infra.runtime import runtime
from infra.timeutil import utcnow
from models import InboxMessage, MessageState, OutboxMessage, Signature, WebhookDelivery
from workflow import idempotency

PURGE = "purge_personal_data"
# What stays of a handled callback: enough to see who sent what kind of message when.
INBOX_KEPT = ("FromUserName", "CreateTime", "MsgType", "Event", "AgentID")
OUTBOX_KEPT = ("touser", "msgtype", "agentid")
FINISHED = (MessageState.DONE, MessageState.FAILED)


BATCH = 500


def _kept(payload: dict[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    return {k: payload[k] for k in keys if k in payload}


async def purge(payload: dict[str, Any] | None = None) -> None:
    """The job: rows finished before the retention lose their content; the signer's details likewise; the
    API's idempotency keys past their time and webhook deliveries finished long ago go."""
    security = runtime().config.security
    now = utcnow()
    cutoff = now - timedelta(days=security.message_retention_days)
    for model, finished, kept in (
        (InboxMessage, "processed_at", INBOX_KEPT),
        (OutboxMessage, "created_at", OUTBOX_KEPT),
    ):
        while (
            rows := await model.filter(state__in=FINISHED, purged_at__isnull=True, **{f"{finished}__lt": cutoff})
            .limit(BATCH)
            .values_list("id", "payload")
        ):
            for row_id, content in rows:
                await model.filter(id=row_id).update(payload=_kept(content, kept), purged_at=now)
    await idempotency.purge_expired()
    kept = now - timedelta(days=runtime().config.api.webhook_kept_days)
    await WebhookDelivery.filter(state__in=FINISHED, created_at__lt=kept).delete()
    signed_before = now - timedelta(days=security.signer_details_days)
    await Signature.filter(signed_at__lt=signed_before).exclude(ip="", user_agent="").update(ip="", user_agent="")
