"""Texts to customers (SMS), where configured. Queued as a row in the caller's transaction; a worker
(scheduler/contact.py) sends it after commit through the provider (infra/sms.py). The phone is stored
encrypted and never logged.

Never twice: a row is marked "sending" (committed) before the provider is called. An answer that says
nothing went out (a rate limit, a connection that never opened) puts it back in the queue; a clear
refusal (a bad number, the daily limit, an unapproved template) fails it for good; anything else (a
timeout, an unreadable or server-error answer, a worker that died mid-call) leaves it "结果未知",
never tried again, since Tencent Cloud SMS has no idempotency key and a retry could text the customer
twice. Failed and unknown texts stay visible (`sms_problems`).
"""

from __future__ import annotations

from infra.runtime import runtime
from infra.security import is_mobile, normalize_phone
from infra.timeutil import utcnow
from models import CallState, SmsMessage
from workflow.errors import Invalid


async def queue_sms(
    *,
    phone: str,
    template: str,
    params: dict[str, str],
    purpose: str,
    order_id: int | None = None,
    lead_id: int | None = None,
) -> None:
    """Queue one SMS (inside the caller's transaction). A template key with no provider template
    configured, or SMS switched off, queues nothing."""
    sms = runtime().config.sms
    if not sms.provider or template not in sms.templates:
        return
    number = normalize_phone(phone)
    if not is_mobile(number):
        raise Invalid("手机号格式不正确，短信未发送")
    await SmsMessage.create(
        phone_encrypted=runtime().vault.encrypt(number),
        template=template,
        # Numbered in the order given (the template's {1}, {2}, ...): a JSON column on PostgreSQL keeps no key order.
        params={str(i): str(v) for i, v in enumerate(params.values(), start=1)},
        purpose=purpose[:64],
        order_id=order_id,
        lead_id=lead_id,
        next_attempt_at=utcnow(),
    )


async def sms_problems(order_id: int) -> list[SmsMessage]:
    """An order's texts that did not go out, or may not have."""
    return await SmsMessage.filter(order_id=order_id, state__in=[CallState.FAILED, CallState.UNKNOWN]).order_by("id")
