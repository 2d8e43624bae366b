"""Scheduled work: reminders, nudges, escalations, alerts and recurring jobs, each done exactly once,
with several workers at once and with a worker that dies mid-job."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from infra.timeutil import local_today, utcnow
from models import Alert, InboxMessage, Job, MessageState, Order, OrderState, OutboxMessage, Role, Task, TaskKind
from relay.demo import advance
from scheduler.jobs import Scheduler
from scheduler.plan import ALERT_SCAN, HANDLERS, plan_recurring
from tests.support import HeldChart, World
from tests.test_permissions import member, new_order
from workflow.aftersales import MAINTENANCE, schedule_maintenance
from workflow.jobs import schedule
from workflow.reminders import APPOINTMENT, ESCALATE, NUDGE
from workflow.stats_push import DAILY_PUSH, MANAGER_PUSH, daily_push
from workflow.tasks import dispatch_task, reschedule_task


async def make_due(*kinds: str) -> None:
    await Job.filter(kind__in=list(kinds), state=MessageState.PENDING).update(due_at=utcnow() - timedelta(seconds=1))


async def drain(world: World, *workers: Scheduler) -> None:
    """Run the workers side by side until no job is due, then deliver what they queued."""
    while True:
        done = await asyncio.gather(*(w.run_due() for w in workers))
        if not any(done):
            break
    await world.settle()


def workers(n: int, **kw: object) -> list[Scheduler]:
    return [Scheduler(HANDLERS, **kw) for _ in range(n)]  # type: ignore[arg-type]


def titles(world: World, userid: str) -> list[str]:
    return [c.title for c in world.emu.cards(userid)]


async def test_reminders_nudges_and_escalations_each_once(world: World) -> None:
    order = await new_order("SCH-REMIND")
    dispatcher, measurer = await world.staff("zhaopaidan"), await world.staff("sunceliang")
    tomorrow = local_today() + timedelta(days=1)
    task = await dispatch_task(
        actor=dispatcher, order=order, kind=TaskKind.MEASURE, worker_id=measurer.id, day=tomorrow
    )
    kinds = set(await Job.filter(kind__in=[APPOINTMENT, NUDGE, ESCALATE]).values_list("kind", flat=True))
    assert kinds == {APPOINTMENT, NUDGE, ESCALATE}
    await make_due(APPOINTMENT, NUDGE, ESCALATE)
    await drain(world, *workers(3))
    assert titles(world, "sunceliang").count("明天测量提醒") == 1
    assert titles(world, "sunceliang").count("请尽快接单：测量") == 1
    assert titles(world, "zhaopaidan").count("孙师傅 未接测量任务") == 1
    reminder = world.card("sunceliang", "明天测量提醒")
    values = {r["keyname"]: r["value"] for r in reminder.card["horizontal_content_list"]}
    assert values["电话"] == "139****0000" and values["地址"] == "上海"  # the full number is on the order page
    # Rescheduled: the old reminder is stale and sends nothing; the new date gets its own.
    await reschedule_task(actor=dispatcher, task_id=task.id, day=tomorrow + timedelta(days=1))
    await Job.filter(kind=APPOINTMENT).update(state=MessageState.PENDING, due_at=utcnow() - timedelta(seconds=1))
    await drain(world, *workers(2))
    assert titles(world, "sunceliang").count("明天测量提醒") == 2  # the new date's, once; the old one skipped
    assert all(j.state == MessageState.DONE for j in await Job.all())


async def test_nothing_is_nudged_once_accepted(world: World) -> None:
    order = await new_order("SCH-ACCEPTED")
    await advance(order, OrderState.MEASURE_SCHEDULED, day=local_today() + timedelta(days=3))
    await make_due(NUDGE, ESCALATE)
    await drain(world, *workers(1))
    assert "请尽快接单：测量" not in titles(world, "sunceliang")
    assert not [t for t in titles(world, "zhaopaidan") if "未接" in t]


async def alert_world() -> dict[str, Order]:
    """Orders that trip each alert rule, made through the workflow, then aged."""
    orders = {}
    long_ago = utcnow() - timedelta(days=10)
    for number, state, stamp in (
        ("AL-NODISPATCH", OrderState.CREATED, "state_since"),
        ("AL-DESIGN", OrderState.MEASURED, "measured_at"),
        ("AL-IDLE", OrderState.IN_STOCK, "in_stock_at"),
        ("AL-UNSIGNED", OrderState.INSTALLED, "installed_at"),
    ):
        order = await advance(await new_order(number), state, day=local_today())
        await Order.filter(id=order.id).update(**{stamp: long_ago, "state_since": long_ago})
        orders[number] = order
    overdue = await advance(await new_order("AL-MEASURE"), OrderState.MEASURE_SCHEDULED, day=local_today())
    await Task.filter(order_id=overdue.id).update(scheduled_date=local_today() - timedelta(days=2))
    orders["AL-MEASURE"] = overdue
    return orders


@pytest.mark.parametrize("n_workers", [1, 3])
async def test_alerts_once_per_order_and_rule_to_the_managers_over_it(world: World, n_workers: int) -> None:
    orders = await alert_world()
    far_manager = await member("far-boss", Role.MANAGER, "朗斯家居/华南区/广州天河店")
    for _ in range(3):  # the scan runs again and again; each alert still goes once
        slot = await Job.all().count()
        await schedule(ALERT_SCAN, f"{ALERT_SCAN}:test:{slot}", utcnow())
        await drain(world, *workers(n_workers))
    rules = set(await Alert.all().values_list("rule", flat=True))
    assert rules == {"not_dispatched", "design_overdue", "in_stock_idle", "unsigned", "measure_overdue"}
    assert await Alert.all().count() == 5
    for manager in ("wangzong", "liujingli", "chendianzhang"):
        alerts = [t for t in titles(world, manager) if t.startswith("预警：")]
        assert sorted(alerts) == sorted(
            ["预警：超时未派测量", "预警：设计逾期", "预警：到货未约安装", "预警：安装后未签字", "预警：测量逾期"]
        ), (manager, alerts)
    sent_to = [str(p.get("touser", "")) for p in await OutboxMessage.all().values_list("payload", flat=True)]
    assert not any(far_manager.userid in to.split("|") for to in sent_to)  # another region's manager
    # Handled from the card: the other managers' copies say who handled it.
    card = world.card("chendianzhang", "预警：设计逾期")
    assert "催设计师" in card.card["quote_area"]["quote_text"]
    await world.tap("chendianzhang", card, "已处理")
    assert world.emu.card("chendianzhang", card.msgid).replace_text == "已由陈店长处理"
    other = world.card("wangzong", "预警：设计逾期")
    assert other.replace_text == "已由陈店长处理"
    alert = await Alert.get(rule="design_overdue")
    assert alert.handled_by_id == (await world.staff("chendianzhang")).id
    assert orders["AL-DESIGN"].id == alert.order_id


async def test_worker_killed_mid_job_is_picked_up_and_sends_once(world: World) -> None:
    entered, release = asyncio.Event(), asyncio.Event()
    calls = 0

    async def slow_push(payload: dict[str, object]) -> None:
        nonlocal calls
        calls += 1
        await HANDLERS[MAINTENANCE](payload)
        if calls == 1:
            entered.set()
            await release.wait()  # the first worker dies here, its messages queued but not committed

    order = await advance(await new_order("SCH-KILL"), OrderState.INSTALLED, day=local_today())
    [job] = await schedule_maintenance(order, since=utcnow() - timedelta(days=400))
    # Scheduled at install already, six months out (the same row): due now.
    await make_due(MAINTENANCE)
    await job.refresh_from_db()
    handlers = {**HANDLERS, MAINTENANCE: slow_push}
    first = Scheduler(handlers, lease=timedelta(seconds=1))
    killed = asyncio.create_task(first.run_due())
    await entered.wait()
    killed.cancel()
    with pytest.raises(asyncio.CancelledError):
        await killed
    await world.settle()
    assert "新保养工单，待派单" not in titles(world, "weishouhou")  # nothing went out from the dead worker
    await asyncio.sleep(1.1)  # its lease runs out
    second = Scheduler(handlers, lease=timedelta(seconds=30))
    assert await second.run_due() == 1
    await world.settle()
    # One card, the ticket to book, with the customer's history: no second reminder beside it.
    assert titles(world, "weishouhou").count("新保养工单，待派单") == 1
    assert "保养提醒" not in titles(world, "weishouhou")
    await job.refresh_from_db()
    assert job.state == MessageState.DONE and job.attempts == 2
    # The next cycle is already a row of its own.
    assert await Job.filter(kind=MAINTENANCE, key__endswith=":2").count() == 1
    card = world.card("weishouhou", "新保养工单，待派单")
    assert "订单 SCH-KILL" in card.card["quote_area"]["quote_text"]


async def test_recurring_jobs_are_added_once_per_period(world: World) -> None:
    now = utcnow()
    await asyncio.gather(*(plan_recurring(now) for _ in range(5)))
    await plan_recurring(now + timedelta(seconds=1))
    assert await Job.filter(kind=ALERT_SCAN).count() == 1
    assert await Job.filter(kind="daily_stats").count() == 1
    await plan_recurring(now + timedelta(days=1))
    assert await Job.filter(kind="daily_stats").count() == 2


async def test_a_failing_job_is_retried_then_given_up(world: World) -> None:
    async def broken(payload: dict[str, object]) -> None:
        raise RuntimeError("boom")

    await schedule("broken", "broken:1", utcnow())
    runner = Scheduler({"broken": broken}, max_attempts=2)
    assert await runner.run_due() == 1
    job = await Job.get(key="broken:1")
    assert job.state == MessageState.PENDING and job.due_at > utcnow() and "boom" in job.last_error
    await Job.filter(id=job.id).update(due_at=utcnow())
    assert await runner.run_due() == 1
    await job.refresh_from_db()
    assert job.state == MessageState.FAILED and job.attempts == 2
    assert await runner.run_due() == 0


async def test_daily_push_reaches_every_manager_once(world: World) -> None:
    await new_order("SCH-DAILY")
    now = utcnow()
    await plan_recurring(now)
    await Job.filter(kind="daily_stats").update(due_at=now - timedelta(seconds=1))
    await drain(world, *workers(3))
    for manager in ("wangzong", "liujingli", "chendianzhang"):
        sent = [m for m in world.emu.chat(manager) if m.direction == "out"]
        markdowns = [m for m in sent if m.msgtype == "markdown"]
        images = [m for m in sent if m.msgtype == "image"]
        assert len(markdowns) == 1 and len(images) == 1, manager
        assert "新建订单 1" in markdowns[0].payload["markdown"]["content"]
    assert not [m for m in world.emu.chat("zhangxiaoshou") if m.msgtype == "markdown"]
    # One job per manager, each drawing its own chart.
    keys = await Job.filter(kind=MANAGER_PUSH).order_by("key").values_list("key", flat=True)
    day = local_today().isoformat()
    assert keys == [f"{MANAGER_PUSH}:{day}:{m}" for m in ("chendianzhang", "liujingli", "wangzong")]
    await plan_recurring(now)  # the same day again: nothing new
    assert await Job.filter(kind="daily_stats").count() == 1
    await daily_push({"date": day})  # the day's push run again (a lease lost after it queued): still once each
    await make_due(MANAGER_PUSH)
    await drain(world, *workers(2))
    assert await Job.filter(kind=MANAGER_PUSH).count() == 3
    assert len([m for m in world.emu.chat("wangzong") if m.msgtype == "markdown"]) == 1


async def test_a_callback_is_stored_and_answered_while_the_daily_push_draws(world: World) -> None:
    await new_order("SCH-DAILY-HELD")
    chart = HeldChart()
    world.services.runtime.draw_chart = chart
    await plan_recurring(utcnow())
    await make_due(DAILY_PUSH)
    pushing = asyncio.create_task(drain(world, *workers(1)))
    await chart.drawing.wait()
    # On SQLite one open write transaction holds the whole database: this callback would wait behind it.
    other = await world.emu.user_sends_text("zhangxiaoshou", "我的任务")
    chart_was_held = not chart.finished.is_set()
    chart.release()
    await pushing
    assert other.status == 200 and chart_was_held
    assert await InboxMessage.filter(userid="zhangxiaoshou").exists()
    for manager in ("wangzong", "liujingli", "chendianzhang"):
        assert [m.msgtype for m in world.emu.chat(manager) if m.direction == "out"] == ["markdown", "image"]


async def test_a_worker_killed_while_drawing_the_push_leaves_it_to_another_which_sends_it_once(world: World) -> None:
    await new_order("SCH-DAILY-KILL")
    await schedule(MANAGER_PUSH, "push:test", utcnow(), {"date": local_today().isoformat(), "manager": "wangzong"})
    chart = HeldChart()
    world.services.runtime.draw_chart = chart
    killed = asyncio.create_task(Scheduler(HANDLERS).run_due())
    await chart.drawing.wait()
    killed.cancel()
    with pytest.raises(asyncio.CancelledError):
        await killed
    chart.release()
    await world.settle()
    assert not [m for m in world.emu.chat("wangzong") if m.direction == "out"]  # nothing went out from the dead one
    await Job.filter(key="push:test").update(locked_until=utcnow() - timedelta(seconds=1))  # its lease runs out
    assert await Scheduler(HANDLERS).run_due() == 1
    await world.settle()
    assert [m.msgtype for m in world.emu.chat("wangzong") if m.direction == "out"] == ["markdown", "image"]
    job = await Job.get(key="push:test")
    assert job.state == MessageState.DONE and job.attempts == 2


async def test_a_reassigned_task_reminds_the_new_assignee_only(world: World) -> None:
    order = await new_order("SCH-REASSIGN")
    dispatcher = await world.staff("zhaopaidan")
    first, second = await world.staff("sunceliang"), await world.staff("wuceliang")
    tomorrow = local_today() + timedelta(days=1)
    task = await dispatch_task(actor=dispatcher, order=order, kind=TaskKind.MEASURE, worker_id=first.id, day=tomorrow)
    from workflow.tasks import reassign_task

    await reassign_task(actor=dispatcher, task_id=task.id, worker_id=second.id, reason="孙师傅请假")
    await make_due(APPOINTMENT, NUDGE, ESCALATE)
    await drain(world, *workers(2))
    assert "明天测量提醒" not in titles(world, "sunceliang") and "请尽快接单：测量" not in titles(world, "sunceliang")
    assert titles(world, "wuceliang").count("明天测量提醒") == 1
    assert titles(world, "wuceliang").count("请尽快接单：测量") == 1
    assert titles(world, "zhaopaidan").count("吴师傅 未接测量任务") == 1
