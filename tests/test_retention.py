"""Personal data is kept no longer than configured: handled and sent chat messages lose their content
after the retention (who, when and what kind stay), and a signature loses the signer's IP and browser."""

from __future__ import annotations

import json
from datetime import timedelta

import aiohttp

from infra.timeutil import utcnow
from models import InboxMessage, Job, MessageState, OrderState, OutboxMessage, Signature
from scheduler.jobs import Scheduler
from scheduler.plan import HANDLERS
from tests.support import World
from tests.test_lifecycle import signature_png
from tests.test_permissions import at_state
from workflow.jobs import schedule
from workflow.retention import PURGE
from workflow.signing import signing_url

PHONE = "13900000000"  # the orders' customer in tests.test_permissions


async def test_content_past_the_retention_is_dropped_and_recent_content_kept(world: World) -> None:
    order = await at_state("RT-1", OrderState.INSTALLED)
    await world.say("zhangxiaoshou", f"查找 {PHONE}")  # the phone is in the callback and in the answer
    async with aiohttp.ClientSession() as customer:
        async with customer.post(signing_url(order), data={"signature": signature_png()}) as resp:
            assert resp.status == 200
    await world.settle()
    assert await _holding(PHONE)
    old = utcnow() - timedelta(days=world.config.security.message_retention_days + 1)
    await InboxMessage.all().update(processed_at=old)
    await OutboxMessage.filter(id__lte=(await OutboxMessage.all().order_by("-id").first()).id - 1).update(
        created_at=old
    )  # type: ignore[union-attr]
    newest = await OutboxMessage.all().order_by("-id").first()
    await Signature.filter(order_id=order.id).update(
        signed_at=utcnow() - timedelta(days=world.config.security.signer_details_days + 1)
    )

    await schedule(PURGE, f"{PURGE}:test", utcnow())
    await Scheduler(HANDLERS).run_due()  # (after reminder_hour the walk's visit reminders are due too)
    assert (await Job.get(kind=PURGE)).state == MessageState.DONE

    assert not await _holding(PHONE, exclude=newest.id)
    kept = await InboxMessage.filter(userid="zhangxiaoshou").order_by("-id").first()
    assert kept is not None and kept.payload["FromUserName"] == "zhangxiaoshou" and "Content" not in kept.payload
    assert kept.purged_at is not None
    # The message sent within the retention keeps its content; the signature keeps the image.
    assert (await OutboxMessage.get(id=newest.id)).purged_at is None
    signature = await Signature.get(order_id=order.id)
    assert (signature.ip, signature.user_agent) == ("", "")
    # Run again: nothing left to do, nothing changes.
    await schedule(PURGE, f"{PURGE}:again", utcnow())
    assert await Scheduler(HANDLERS).run_due() == 1


async def _holding(text: str, *, exclude: int = 0) -> bool:
    rows = [json.dumps(p, ensure_ascii=False) for p in await InboxMessage.all().values_list("payload", flat=True)]
    rows += [
        json.dumps(p, ensure_ascii=False)
        for p in await OutboxMessage.exclude(id=exclude).values_list("payload", flat=True)
    ]
    return any(text in row for row in rows)
