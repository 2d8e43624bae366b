"""The outbox against every fault the emulated WeCom can play: each message arrives once, or fails for good.

Messages are queued the way Relay queues them (a chat command handled by the real app, or enqueue_message in
a transaction) and delivered by the app's own sender; the chat in the emulator shows what the member got.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from tortoise.transactions import in_transaction

from bot.client import WeComClient, WeComError, WeComRetryable
from bot.outbox import OutboxSender, enqueue_message
from cards.common import text_message
from emulator import FaultKind
from infra.kv import KeyValueStore, open_store
from infra.timeutil import utcnow
from models import MessageState, OutboxKind, OutboxMessage, Task, TaskState
from tests.bot.support import QUICK_GIVE_UP, dispatched_measure_task
from tests.support import World, start_world

HELP_TITLE = "接力 · 可以这样和我说"
NO_TASKS = "你目前没有待办任务。"
MEMBER = "zhangxiaoshou"


@pytest.fixture
def world_settings() -> dict[str, dict[str, Any]]:
    return QUICK_GIVE_UP


async def eventually(check: Callable[[], Awaitable[bool]], *, within: float = 30.0) -> None:
    """Poll until `check` holds; the deadline only stops a broken run from hanging."""
    deadline = time.monotonic() + within
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"not reached in {within}s")
        await asyncio.sleep(0.05)


async def _none_pending() -> bool:
    return not await OutboxMessage.filter(state=MessageState.PENDING).exists()


async def delivered(world: World) -> None:
    """Settled, and no retry left waiting (world.settle only waits for rows that are due now)."""
    await world.settle()
    await eventually(_none_pending)


async def only_row() -> OutboxMessage:
    rows = await OutboxMessage.all()
    assert len(rows) == 1, [r.payload for r in rows]
    return rows[0]


async def queue_text(userid: str, content: str) -> OutboxMessage:
    async with in_transaction():
        return await enqueue_message(text_message(userid, content))


def client_for(world: World, store: KeyValueStore) -> WeComClient:
    wecom = world.config.wecom
    return WeComClient(
        api_base=wecom.api_base,
        corp_id=wecom.corp_id,
        secret=wecom.secret,
        agent_id=wecom.agent_id,
        store=store,
        timeout=wecom.request_timeout,
    )


def shared_store(world: World, redis_url: str) -> KeyValueStore:
    """Another handle on the store the app's client uses: a second Redis connection, or the same memory."""
    return open_store(redis_url) if redis_url else world.services.runtime.kv


# -- each fault, each kind of message: delivered exactly once -----------------------------------------

# Faults the client gets past within one call (a rejected token is refetched), and faults that need the
# outbox to try again; for `timeout` and `drop_after_processing` WeCom has already delivered the message.
FAULTS = [
    FaultKind.TOKEN_EXPIRED,
    FaultKind.TOKEN_INVALID,
    FaultKind.SERVER_ERROR,
    FaultKind.TIMEOUT,
    FaultKind.DROP_AFTER_PROCESSING,
]


def hold_answers_past_the_client(world: World) -> None:
    # Just above the client's request timeout: WeCom processed the call, its answer comes too late.
    world.emu.timeout_seconds = world.config.wecom.request_timeout + 0.5


@pytest.mark.parametrize("fault", FAULTS)
async def test_card_from_a_chat_command_arrives_once(world: World, fault: FaultKind) -> None:
    hold_answers_past_the_client(world)
    world.emu.inject("message/send", fault)
    await world.say(MEMBER, "帮助")
    await delivered(world)

    assert [c.title for c in world.emu.cards(MEMBER)] == [HELP_TITLE]
    row = await only_row()
    assert row.state == MessageState.DONE
    assert world.emu.faults.pending() == {}


@pytest.mark.parametrize("fault", FAULTS)
async def test_text_from_a_chat_command_arrives_once(world: World, fault: FaultKind) -> None:
    hold_answers_past_the_client(world)
    world.emu.inject("message/send", fault)
    await world.say(MEMBER, "我的任务")
    await delivered(world)

    assert world.emu.texts(MEMBER) == [NO_TASKS]
    row = await only_row()
    assert row.state == MessageState.DONE
    assert world.emu.faults.pending() == {}


@pytest.mark.parametrize("fault", FAULTS)
async def test_queued_text_arrives_once(world: World, fault: FaultKind) -> None:
    hold_answers_past_the_client(world)
    world.emu.inject("message/send", fault)
    row = await queue_text(MEMBER, "订单 LS001 已派单给孙师傅")
    world.services.outbox.wake()
    await delivered(world)

    assert world.emu.texts(MEMBER) == ["订单 LS001 已派单给孙师傅"]
    await row.refresh_from_db()
    assert row.state == MessageState.DONE
    assert row.msgid  # the WeCom msgid is kept, even when the first answer was lost


@pytest.mark.parametrize("fault", [FaultKind.SERVER_ERROR, FaultKind.TIMEOUT, FaultKind.DROP_AFTER_PROCESSING])
async def test_fault_on_every_try_but_the_last_still_arrives_once(world: World, fault: FaultKind) -> None:
    hold_answers_past_the_client(world)
    world.emu.inject("message/send", fault, count=3)
    await world.say(MEMBER, "帮助")
    await queue_text(MEMBER, "第二条消息")
    world.services.outbox.wake()
    await delivered(world)

    assert [c.title for c in world.emu.cards(MEMBER)] == [HELP_TITLE]
    assert world.emu.texts(MEMBER) == ["第二条消息"]
    assert set(await OutboxMessage.all().values_list("state", flat=True)) == {MessageState.DONE}


@pytest.mark.parametrize("fault", [FaultKind.SERVER_ERROR, FaultKind.TIMEOUT, FaultKind.RATE_LIMIT])
async def test_fault_while_fetching_the_token_delays_the_message(world: World, fault: FaultKind) -> None:
    hold_answers_past_the_client(world)
    world.emu.inject("gettoken", fault)
    await world.say(MEMBER, "帮助")
    row = await only_row()
    if fault is FaultKind.RATE_LIMIT:
        assert row.state == MessageState.PENDING
        await OutboxMessage.filter(id=row.id).update(next_attempt_at=utcnow())
    await delivered(world)

    assert [c.title for c in world.emu.cards(MEMBER)] == [HELP_TITLE]
    await row.refresh_from_db()
    assert row.state == MessageState.DONE


# -- rate limits: a minute's wait, then once --------------------------------------------------------


@pytest.mark.parametrize("command", ["帮助", "我的任务"])
async def test_rate_limited_message_waits_a_minute_then_arrives_once(world: World, command: str) -> None:
    world.emu.inject("message/send", FaultKind.RATE_LIMIT)
    await world.say(MEMBER, command)  # settles: the row is no longer due

    row = await only_row()
    assert row.state == MessageState.PENDING
    assert row.attempts == 1
    assert "45009" in row.last_error
    # WeCom locks a minute limit for 60 s (90454): the retry is at least that far off.
    assert row.next_attempt_at >= utcnow() + timedelta(seconds=55)
    assert world.emu.bot_messages(MEMBER) == []
    assert world.emu.calls["message/send"] == 1

    # The minute passes (moved in the database instead of waited for).
    await OutboxMessage.filter(id=row.id).update(next_attempt_at=utcnow())
    await world.settle()

    await row.refresh_from_db()
    assert row.state == MessageState.DONE
    if command == "帮助":
        assert [c.title for c in world.emu.cards(MEMBER)] == [HELP_TITLE]
    else:
        assert world.emu.texts(MEMBER) == [NO_TASKS]
    assert world.emu.calls["message/send"] == 2


async def test_sender_driven_by_hand_honours_the_rate_limit(world: World) -> None:
    # Our own sender beside the app's: whichever claims the row, it is tried once and then left a minute.
    sender = OutboxSender(world.services.client, max_attempts=5, max_backoff=0)
    world.emu.inject("message/send", FaultKind.RATE_LIMIT)
    row = await queue_text(MEMBER, "限流之后再发")
    await sender.deliver_due()

    async def rate_limited() -> bool:
        return "45009" in (await OutboxMessage.get(id=row.id)).last_error

    await eventually(rate_limited)
    await row.refresh_from_db()
    assert row.state == MessageState.PENDING
    assert row.attempts == 1
    assert row.next_attempt_at >= utcnow() + timedelta(seconds=55)
    # Not due: nothing is tried again before the minute is up.
    assert await sender.deliver_due() is False
    assert world.emu.calls["message/send"] == 1

    await OutboxMessage.filter(id=row.id).update(next_attempt_at=utcnow())
    await sender.deliver_due()
    await eventually(lambda: _state_is(row.id, MessageState.DONE))
    assert world.emu.texts(MEMBER) == ["限流之后再发"]
    assert world.emu.calls["message/send"] == 2


async def _state_is(row_id: int, state: MessageState) -> bool:
    return (await OutboxMessage.get(id=row_id)).state == state


# -- permanent failures end, and do not retry ----------------------------------------------------------


async def test_message_to_nobody_in_the_corp_fails_without_retrying(world: World) -> None:
    row = await queue_text("nobody-here|left-last-year", "你好")
    world.services.outbox.wake()
    await eventually(lambda: _state_is(row.id, MessageState.FAILED))
    await row.refresh_from_db()
    assert row.attempts == 1
    assert "81013" in row.last_error
    assert world.emu.calls["message/send"] == 1

    # Later passes leave it alone.
    await queue_text(MEMBER, "之后的消息")
    world.services.outbox.wake()
    await world.settle()
    assert world.emu.calls["message/send"] == 2
    assert world.emu.texts(MEMBER) == ["之后的消息"]
    assert (await OutboxMessage.get(id=row.id)).state == MessageState.FAILED


async def test_message_with_some_unknown_recipients_reaches_the_others(world: World) -> None:
    row = await queue_text(f"{MEMBER}|nobody-here", "部分收件人无效")
    world.services.outbox.wake()
    await world.settle()
    await row.refresh_from_db()
    assert row.state == MessageState.DONE
    assert world.emu.texts(MEMBER) == ["部分收件人无效"]


async def test_endless_server_errors_end_in_failure_after_max_attempts(world: World) -> None:
    world.emu.inject("message/send", FaultKind.SERVER_ERROR, count=1000)
    row = await queue_text(MEMBER, "一直失败")
    world.services.outbox.wake()
    await eventually(lambda: _state_is(row.id, MessageState.FAILED))

    await row.refresh_from_db()
    max_attempts = world.config.wecom.max_attempts
    assert row.attempts == max_attempts
    assert "gave up" in row.last_error
    assert world.emu.calls["message/send"] == max_attempts
    assert world.emu.bot_messages(MEMBER) == []

    # Once WeCom is back, the failed row stays failed (it was reported) and new messages flow.
    world.emu.clear_faults()
    await queue_text(MEMBER, "恢复之后")
    world.services.outbox.wake()
    await world.settle()
    assert world.emu.texts(MEMBER) == ["恢复之后"]
    assert world.emu.calls["message/send"] == max_attempts + 1


async def test_a_retry_goes_out_when_due_not_at_the_next_poll(database: str, redis_url: str, tmp_path: Path) -> None:
    """The poll is the safety net for work nobody told the sender about; a retry the sender put off itself
    goes out when its wait is over. With a poll of ten minutes, a message whose first try met a server
    error still arrives (the wait here is only there to stop a broken run)."""
    schedule = {"automatic": False, "poll_seconds": 600}
    async with start_world(
        database_url=database, redis_url=redis_url, storage=tmp_path / "files", extra={"schedule": schedule}
    ) as world:
        world.emu.inject("message/send", FaultKind.SERVER_ERROR)
        row = await queue_text(MEMBER, "重试准时")
        world.services.outbox.wake()  # what enqueueing in a request does; the retry gets no wake-up
        await eventually(lambda: _state_is(row.id, MessageState.DONE))
        assert world.emu.texts(MEMBER) == ["重试准时"]
        assert world.emu.calls["message/send"] == 2


# -- the access token: fetched once, shared, refetched a bounded number of times ---------------------


async def test_token_is_fetched_once_for_many_messages(world: World) -> None:
    for i in range(10):
        await queue_text(MEMBER, f"第 {i} 条")
    await world.say(MEMBER, "帮助")
    await world.say("lixiaoshou", "我的任务")
    await world.settle()
    assert len(world.emu.texts(MEMBER)) == 10
    assert world.emu.calls["message/send"] == 12
    assert world.emu.calls["gettoken"] == 1


async def test_two_clients_on_one_store_share_one_token(world: World, redis_url: str) -> None:
    store = shared_store(world, redis_url)
    other = client_for(world, store)
    try:
        # Both start cold and race for the first token.
        sends = [
            client.send_message(text_message(MEMBER, f"客户端 {n} 第 {i} 条"))
            for i in range(5)
            for n, client in enumerate((world.services.client, other))
        ]
        await asyncio.gather(*sends)
        assert world.emu.calls["gettoken"] == 1
        assert len(world.emu.texts(MEMBER)) == 10

        # WeCom invalidates tokens early: both notice, one refetches.
        world.emu.expire_tokens()
        await asyncio.gather(
            *(
                client.send_message(text_message(MEMBER, f"过期后 {n}"))
                for n, client in enumerate((world.services.client, other))
            )
        )
        assert world.emu.calls["gettoken"] == 2
        assert sorted(world.emu.texts(MEMBER)[-2:]) == ["过期后 0", "过期后 1"]
    finally:
        await other.close()
        if redis_url:
            await store.close()


async def test_token_rejected_three_times_is_a_bounded_failure(world: World) -> None:
    world.emu.inject("message/send", FaultKind.TOKEN_INVALID, count=3)
    with pytest.raises((WeComError, WeComRetryable)):
        await world.services.client.send_message(text_message(MEMBER, "不会送达"))
    # Three tries, each with a freshly fetched token; no recursion, nothing delivered.
    assert world.emu.calls["message/send"] == 3
    assert world.emu.calls["gettoken"] == 3
    assert world.emu.bot_messages(MEMBER) == []

    # The next call works again.
    await world.services.client.send_message(text_message(MEMBER, "好了"))
    assert world.emu.texts(MEMBER) == ["好了"]


async def test_message_whose_token_is_rejected_three_times_is_retried_not_dropped(world: World) -> None:
    world.emu.inject("message/send", FaultKind.TOKEN_INVALID, count=3)
    await world.say(MEMBER, "帮助")
    await delivered(world)

    assert [c.title for c in world.emu.cards(MEMBER)] == [HELP_TITLE]
    row = await only_row()
    assert row.state == MessageState.DONE
    assert row.attempts == 2


async def test_token_rejected_forever_ends_in_failure_not_a_loop(world: World) -> None:
    world.emu.inject("message/send", FaultKind.TOKEN_EXPIRED, count=10_000)
    row = await queue_text(MEMBER, "令牌一直无效")
    world.services.outbox.wake()
    await eventually(lambda: _state_is(row.id, MessageState.FAILED))
    max_attempts = world.config.wecom.max_attempts
    # Three tries per attempt, a bounded number of attempts.
    assert world.emu.calls["message/send"] == 3 * max_attempts
    assert world.emu.bot_messages(MEMBER) == []


# -- card updates meet faults too ------------------------------------------------------------------


async def test_card_update_whose_answer_is_lost_is_not_sent_again(world: World) -> None:
    task = await dispatched_measure_task(world, number="LS-FAULT-1")
    card = world.card("sunceliang", "新测量任务")

    updates_before = world.emu.calls["message/update_template_card"]
    world.emu.inject("message/update_template_card", FaultKind.DROP_AFTER_PROCESSING)
    await world.tap("sunceliang", card, "接单")
    await delivered(world)

    assert (await Task.get(id=task.id)).state == TaskState.ACCEPTED
    assert world.card("sunceliang", "新测量任务").replace_text == "已接单"
    updates = await OutboxMessage.filter(kind=OutboxKind.UPDATE_CARD).all()
    accepted = [u.state for u in updates if u.payload.get("button") == {"replace_name": "已接单"}]
    assert accepted == [MessageState.DONE]
    # The update was carried out, its answer lost; the retry met the spent code (60140) and stopped.
    assert world.emu.calls["message/update_template_card"] == updates_before + 2
    assert world.emu.texts("sunceliang") == []


async def test_the_same_question_twice_gets_two_answers(world: World) -> None:
    """Every send asks for WeCom's duplicate check; an answer given again on purpose is made to differ
    (invisibly), so only re-sends of one message are dropped."""
    await world.say("sunceliang", "我的任务")
    await world.say("sunceliang", "我的任务")
    assert [t.replace("\u200b", "") for t in world.texts("sunceliang")] == ["你目前没有待办任务。"] * 2
