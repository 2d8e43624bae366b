"""Delivery where WeCom is as strict as its documents allow: the duplicate check compares the whole
request JSON (90236), and what a member gets beyond 30 messages a minute is answered errcode 0 and
dropped (90454). The emulator plays both; each message still reaches the member once.
"""

from __future__ import annotations

import io
import uuid
from datetime import timedelta
from typing import Any

import pytest
from PIL import Image
from tortoise.transactions import in_transaction

from bot.outbox import OutboxSender, allowance, enqueue_message
from bot.pacing import Allowance, MemoryPacer, RedisPacer
from cards.common import text_message
from cards.manager import AlertLine, alert_digest, image_message
from emulator import FaultKind
from infra.delivery import Priority
from infra.timeutil import utcnow
from models import Job, MessageState, Order, OutboxMessage
from scheduler.jobs import Scheduler
from scheduler.plan import ALERT_SCAN, HANDLERS
from tests.bot.support import QUICK_GIVE_UP
from tests.bot.test_outbox_faults import delivered, hold_answers_past_the_client, queue_text
from tests.support import REDIS_URL, World
from tests.test_permissions import new_order
from workflow.jobs import schedule

MEMBER = "zhangxiaoshou"
MANAGERS = ("wangzong", "liujingli", "chendianzhang")
NO_TASKS = "你目前没有待办任务。"
LOST_ANSWER = [FaultKind.TIMEOUT, FaultKind.DROP_AFTER_PROCESSING]


@pytest.fixture
def world_settings() -> dict[str, dict[str, Any]]:
    return QUICK_GIVE_UP


def seen(text: str) -> str:
    """What the member reads: a repeated answer's mark is invisible."""
    return text.replace("\u200b", "")


@pytest.fixture
def strict(world: World) -> World:
    world.emu.strict_duplicate_check()
    return world


# -- the duplicate check, read strictly -----------------------------------------------------------


@pytest.mark.parametrize("fault", LOST_ANSWER)
async def test_answer_whose_first_send_lost_its_answer_arrives_once(strict: World, fault: FaultKind) -> None:
    world = strict
    hold_answers_past_the_client(world)
    world.emu.inject("message/send", fault)
    await world.say(MEMBER, "我的任务")
    await delivered(world)

    assert world.texts(MEMBER) == [NO_TASKS]
    assert world.emu.calls["message/send"] == 2  # sent, answer lost, sent again: WeCom kept one
    row = (await OutboxMessage.all())[0]
    assert row.state == MessageState.DONE and row.attempts == 2


@pytest.mark.parametrize("fault", LOST_ANSWER)
async def test_card_whose_first_send_lost_its_answer_arrives_once(strict: World, fault: FaultKind) -> None:
    world = strict
    hold_answers_past_the_client(world)
    world.emu.inject("message/send", fault)
    await world.say(MEMBER, "帮助")
    await delivered(world)

    assert [c.title for c in world.emu.cards(MEMBER)] == ["接力 · 可以这样和我说"]


async def test_the_same_question_twice_gets_two_answers_that_read_the_same(strict: World) -> None:
    world = strict
    await world.say("sunceliang", "我的任务")
    await world.say("sunceliang", "我的任务")
    assert [seen(t) for t in world.texts("sunceliang")] == [NO_TASKS, NO_TASKS]


async def test_a_repeated_answer_whose_answer_is_lost_still_arrives_once(strict: World) -> None:
    world = strict
    hold_answers_past_the_client(world)
    await world.say("sunceliang", "我的任务")
    world.emu.inject("message/send", FaultKind.DROP_AFTER_PROCESSING)
    await world.say("sunceliang", "我的任务")
    await delivered(world)
    assert [seen(t) for t in world.texts("sunceliang")] == [NO_TASKS, NO_TASKS]


# -- a chart: uploaded once, sent with the same media_id ------------------------------------------------


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (320, 200), (30, 90, 160)).save(out, "PNG")
    return out.getvalue()


@pytest.mark.parametrize("fault", LOST_ANSWER)
async def test_chart_whose_first_send_lost_its_answer_arrives_once(strict: World, fault: FaultKind) -> None:
    world = strict
    hold_answers_past_the_client(world)
    chart = await world.services.runtime.files.put_image(png())
    world.emu.inject("message/send", fault)
    async with in_transaction():
        row = await enqueue_message(image_message("wangzong", chart.sha256))
    world.services.outbox.wake()
    await delivered(world)

    images = [m for m in world.emu.bot_messages("wangzong") if m.msgtype == "image"]
    assert len(images) == 1
    assert world.emu.calls["media/upload"] == 1
    await row.refresh_from_db()
    assert row.state == MessageState.DONE and row.attempts == 2
    assert images[0].payload["image"]["media_id"] == row.media_id


# -- WeCom's limit per member: paced, never dropped --------------------------------------------------


async def test_more_than_a_minutes_worth_to_one_member_waits_instead_of_vanishing(strict: World) -> None:
    world = strict
    world.emu.limit_per_member(per_minute=30, per_hour=1000)
    for i in range(40):
        await queue_text(MEMBER, f"第 {i + 1} 条通知")
    world.services.outbox.wake()
    await world.settle()

    fits = allowance(Priority.NOTICE).per_minute
    assert len(world.texts(MEMBER)) == fits
    assert world.emu.dropped[MEMBER] == 0
    waiting = await OutboxMessage.filter(state=MessageState.PENDING).order_by("id")
    assert len(waiting) == 40 - fits
    assert all(r.next_attempt_at > utcnow() + timedelta(seconds=50) for r in waiting)
    assert all(r.attempts == 0 for r in waiting)

    # The minute passes: WeCom's window (the emulator's clock) and Relay's count both move on.
    world.emu.advance_time(61)
    world.services.outbox.pacer = MemoryPacer()
    await OutboxMessage.filter(state=MessageState.PENDING).update(next_attempt_at=utcnow())
    await world.settle()
    assert world.texts(MEMBER) == [f"第 {i + 1} 条通知" for i in range(40)]
    assert world.emu.dropped[MEMBER] == 0


async def test_an_answer_goes_before_pushes_and_finds_room(strict: World) -> None:
    world = strict
    world.emu.limit_per_member(per_minute=30, per_hour=1000)
    async with in_transaction():
        for i in range(35):
            await enqueue_message(text_message("wangzong", f"推送 {i + 1}"), priority=Priority.PUSH)
    await world.say("wangzong", "我的任务")
    await world.settle()
    # Pushes stop short of the limit; the member's answer still arrives.
    assert NO_TASKS in [seen(t) for t in world.texts("wangzong")]
    assert world.emu.dropped["wangzong"] == 0


async def test_a_burst_of_notices_leaves_a_minutes_worth_of_answers(strict: World) -> None:
    """The demo seeds some thirty cards to one salesperson; whoever plays her at once still gets every
    answer in that minute, and the notices' tail follows in the next."""
    world = strict
    world.emu.limit_per_member(per_minute=30, per_hour=1000)
    async with in_transaction():
        for i in range(30):
            await enqueue_message(text_message("wangzong", f"通知 {i + 1}"), priority=Priority.NOTICE)
    world.services.outbox.wake()
    await world.settle()
    for _ in range(8):
        await world.say("wangzong", "我的任务")
        await world.settle()
    assert [seen(t) for t in world.texts("wangzong")].count(NO_TASKS) == 8
    assert world.emu.dropped["wangzong"] == 0
    assert await OutboxMessage.filter(state=MessageState.PENDING).count() == 30 - allowance(Priority.NOTICE).per_minute


@pytest.mark.parametrize("kind", ["memory", "redis"])
async def test_pacer_counts_every_recipient_at_once(kind: str) -> None:
    pacer = (
        MemoryPacer() if kind == "memory" else RedisPacer(REDIS_URL, prefix=f"relay-test-pace-{uuid.uuid4().hex[:10]}:")
    )
    try:
        limit = Allowance(per_minute=3, per_hour=100)
        assert await pacer.reserve(["a", "b"], limit) == 0
        assert await pacer.reserve(["a"], limit) == 0
        assert await pacer.reserve(["a"], limit) == 0
        # "a" is full: a message to a and b waits and counts for neither; b alone still goes.
        wait = await pacer.reserve(["a", "b"], limit)
        assert 55 < wait <= 61
        assert await pacer.reserve(["b"], limit) == 0
        assert await pacer.reserve(["b"], limit) == 0
        assert await pacer.reserve(["b"], limit) > 0
        assert await pacer.reserve(["c"], Allowance(per_minute=30, per_hour=1)) == 0
        assert 3500 < await pacer.reserve(["c"], Allowance(per_minute=30, per_hour=1)) <= 3601
    finally:
        await pacer.close()


# -- many alerts at once: one digest that names them all --------------------------------------------


async def test_sixty_alerts_all_reach_each_manager(strict: World) -> None:
    world = strict
    world.emu.limit_per_member(per_minute=30, per_hour=1000)
    numbers = [f"AL60-{i:02d}" for i in range(1, 61)]
    orders = [await new_order(number) for number in numbers]
    long_ago = utcnow() - timedelta(days=3)
    await Order.filter(id__in=[o.id for o in orders]).update(state_since=long_ago)
    await schedule(ALERT_SCAN, f"{ALERT_SCAN}:test", utcnow())
    await Job.filter(kind=ALERT_SCAN).update(due_at=utcnow() - timedelta(seconds=1))
    assert await Scheduler(HANDLERS).run_due() == 1
    await world.settle()

    for manager in MANAGERS:
        [digest] = world.texts(manager)  # one message names them all
        assert digest.startswith("## 预警汇总：60 条新预警")
        assert "**超时未派测量**（60 条）" in digest
        missing = [n for n in numbers if n not in digest]
        assert not missing, (manager, missing)
        assert len(digest.encode()) <= 2048
        print(f"{manager}: {world.emu.delivered[manager]} delivered, {world.emu.dropped[manager]} dropped")
        assert world.emu.dropped[manager] == 0
    # And the numbers a manager asks for right after still reach them.
    await world.say("wangzong", "本月统计")
    await world.services.scheduler.run_due()  # the chart's job (the tests run jobs by hand)
    await world.settle()
    stats = [m for m in world.emu.bot_messages("wangzong") if m.msgtype in ("markdown", "image")]
    assert any(m.msgtype == "image" for m in stats)
    assert world.emu.dropped["wangzong"] == 0


async def test_sender_keeps_a_members_limit_across_senders(strict: World, redis_url: str) -> None:
    """Two senders (two processes) share one count: together they stay within the member's minute."""
    world = strict
    world.emu.limit_per_member(per_minute=30, per_hour=1000)
    shared = RedisPacer(redis_url, prefix="relay:pace:") if redis_url else world.services.outbox.pacer
    other = OutboxSender(world.services.client, max_attempts=5, max_backoff=0.2, pacer=shared)
    try:
        for i in range(40):
            await queue_text(MEMBER, f"消息 {i + 1}")
        await other.deliver_due()
        world.services.outbox.wake()
        await world.settle()
        assert len(world.texts(MEMBER)) == allowance(Priority.NOTICE).per_minute
        assert world.emu.dropped[MEMBER] == 0
    finally:
        if redis_url:
            await shared.close()


def test_a_long_digest_is_split_within_wecoms_limit_and_names_every_alert() -> None:
    lines = [AlertLine(f"LS2026{i:05d}", "超时未派测量" if i % 2 else "安装后未签字") for i in range(400)]
    messages = alert_digest("wangzong", lines, url="https://example.invalid/h5/orders")
    contents = [m["markdown"]["content"] for m in messages]
    assert len(contents) > 1
    assert all(len(c.encode()) <= 2048 for c in contents)
    assert contents[0].startswith(f"## 预警汇总：400 条新预警（1/{len(contents)}）")
    named = "\n".join(contents)
    assert all(line.order_number in named for line in lines)
