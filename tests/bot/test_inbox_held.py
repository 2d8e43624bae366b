"""A member whose oldest message another process holds is left alone until the lease ends: their
messages keep their order, and no worker spins on them meanwhile (issue 11's busy loop)."""

from __future__ import annotations

import time
from datetime import timedelta

from bot.inbox import InboxProcessor, store_inbound
from infra.timeutil import utcnow
from models import InboxMessage
from tests.support import World


def text(userid: str, content: str, msg_id: int) -> dict[str, str]:
    return {
        "ToUserName": "corp",
        "FromUserName": userid,
        "CreateTime": str(int(time.time())),
        "MsgType": "text",
        "Content": content,
        "MsgId": str(msg_id),
        "AgentID": "1000002",
    }


async def test_a_member_held_elsewhere_is_not_picked_up_until_released(world: World) -> None:
    services = world.services
    held = await InboxMessage.create(
        dedupe_key="held-by-another-process",
        userid="zhangxiaoshou",
        msg_type="text",
        payload=text("zhangxiaoshou", "帮助", 91001),
        locked_until=utcnow() + timedelta(minutes=5),  # another process claimed it and is working on it
    )
    assert await store_inbound(text("zhangxiaoshou", "我的任务", 91002))
    other = InboxProcessor(services.dispatcher.prepare, services.dispatcher.handle, services.dispatcher.on_failure)
    for _ in range(3):
        assert await other.dispatch_pending() == 0  # nothing to start: no worker claims and gives up, again and again
    assert await InboxMessage.filter(userid="zhangxiaoshou", state="pending").count() == 2

    await InboxMessage.filter(id=held.id).update(locked_until=utcnow() - timedelta(seconds=1))  # the lease ran out
    await world.settle()
    answers = [m for m in world.emu.chat("zhangxiaoshou") if m.direction == "out"]
    assert len(answers) == 2
    assert answers[0].msgtype == "template_card"  # 帮助 first, then 我的任务: the order kept
