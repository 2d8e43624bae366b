"""A callback is stored in one statement: the insert that drops a re-send is the only round trip the
callback makes to the database before it answers WeCom (issue 11: an exists() and a create() were two)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Iterator

import pytest

from bot.inbox import InboxProcessor, store_inbound
from infra.timeutil import utcnow
from models import InboxMessage, MessageState
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


class Statements(logging.Handler):
    """The SQL this task sends (tortoise logs each statement); the background loops' own are not counted."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.task = asyncio.current_task()
        self.sql: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if asyncio.current_task() is self.task:
            self.sql.append(record.getMessage())


@contextlib.contextmanager
def statements() -> Iterator[list[str]]:
    logger = logging.getLogger("tortoise.db_client")
    handler, level = Statements(), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        yield handler.sql
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


async def test_a_message_is_stored_in_one_statement_and_a_resend_in_one_more(world: World) -> None:
    before = utcnow()
    with statements() as first:
        assert await store_inbound(text("zhangxiaoshou", "我的任务 👷 '; --", 92001))
    with statements() as resend:
        assert not await store_inbound(text("zhangxiaoshou", "我的任务 👷 '; --", 92001))  # WeCom's re-send
    assert len(first) == 1 and len(resend) == 1, (first, resend)

    row = await InboxMessage.get(dedupe_key="msg:92001")
    assert (row.userid, row.msg_type, row.state, row.attempts) == ("zhangxiaoshou", "text", MessageState.PENDING, 0)
    assert row.payload["Content"] == "我的任务 👷 '; --"
    assert before <= row.received_at <= utcnow()
    assert await InboxMessage.all().count() == 1

    await world.settle()  # the stored row is one the inbox handles like any other
    assert (await InboxMessage.get(id=row.id)).state == MessageState.DONE
    assert world.emu.chat("zhangxiaoshou"), "the member got an answer"


async def test_a_stored_message_is_claimed_in_one_statement_and_a_held_one_not_at_all(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    services = world.services

    async def nothing() -> int:
        return 0

    monkeypatch.setattr(services.inbox, "dispatch_pending", nothing)  # the app's own loop stands aside
    other = InboxProcessor(services.dispatcher.prepare, services.dispatcher.handle, services.dispatcher.on_failure)
    assert await store_inbound(text("lixiaoshou", "帮助", 92011))
    assert await store_inbound(text("lixiaoshou", "我的任务", 92012))
    with statements() as claim:
        row = await other._claim_next("lixiaoshou")
    assert len(claim) == 1, claim
    assert row is not None and row.payload["Content"] == "帮助" and row.attempts == 1  # the oldest first
    assert row.locked_until is not None and row.locked_until > utcnow()

    # While it is held, the member's next message is not taken either: their order is kept.
    assert await other._claim_next("lixiaoshou") is None
    assert await InboxMessage.filter(userid="lixiaoshou", locked_until__isnull=False).count() == 1
