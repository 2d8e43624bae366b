"""我的任务 for every role on the seeded demo: what waits on each member, oldest first, each a tap from its
next step; the morning card of today's visits, once per field worker; clear answers to others' commands."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal
from urllib.parse import parse_qs, unquote, urlsplit

from cards.common import clip
from infra.runtime import runtime
from infra.timeutil import local_today, utcnow
from models import Job, MessageState, Order, OrderState, PaymentKind, PaymentMethod, Task, TaskKind
from relay.demo import seed_leads, seed_orders
from scheduler.plan import HANDLERS, plan_recurring
from tests.support import World, jpeg
from tests.test_permissions import at_state
from tests.test_scheduler import drain, make_due, workers
from workflow import alerts
from workflow.design import add_design, finish_design
from workflow.morning import MORNING, WORKER_MORNING
from workflow.payments import confirm_design
from workflow.reminders import NUDGE
from workflow.tasks import dispatch_task

SALES = "zhangxiaoshou"

# What the seeded demo leaves waiting on each member: (order, the step the card offers), oldest first.
DEMO_QUEUES = {
    "zhaopaidan": [("LS20261101", "派测量"), ("LS20261106", "派安装")],
    "qianpaidan": [("LS20261101", "派测量")],
    "sunceliang": [("LS20261102", "图纸与产品 / 测量完成")],
    "zhengsheji": [("LS20261103", "上传设计")],
    # LS20261104's prices wait for the store manager's review (审核): its confirmation waits on him, not her.
    "zhangxiaoshou": [
        ("LS20261107", "客户签字"),
        ("LS20261105", "登记收款"),
        ("LS20261106", "登记收款"),
        ("LS20261121", "登记收款"),
        ("LS20261122", "登记收款"),
    ],
    # LS20261121 has a piece finished at the factory (it may come in), LS20261122 pieces shipped.
    "fengcangku": [("LS20261105", "入库登记"), ("LS20261121", "入库登记"), ("LS20261122", "入库登记")],
    # The factory: each released order with pieces to move, by the piece table's steps; its late piece.
    "zhouchangzhang": [("LS20261121", "开始生产 1 件、完工 1 件、发货 1 件"), ("LS20261121", "预警：生产延期")],
    # The demo's service tickets (relay/demo_tickets.py): a complaint given to 陈师傅 and not yet accepted, and
    # the customer's repair waiting to be booked.
    "chenanzhuang": [("LS20261107", "客户签字"), ("LS20261107", "投诉工单接单")],
    "weishouhou": [("LS20261107", "填写回访"), ("LS20261107", "维修工单派单"), ("LS20261107", "保养工单派单")],
    # Finance: each deposit not yet confirmed (LS20261106's is), then the overdue balance's alert.
    "qiankuaiji": [("LS20261105", "确认到账"), ("LS20261107", "确认到账"), ("LS20261107", "预警：尾款逾期未收")],
    # Alerts in the order they were raised.
    "wangzong": [
        ("LS20261101", "预警：超时未派测量"),
        ("LS20261107", "预警：安装后未签字"),
        ("LS20261121", "预警：生产延期"),
        ("LS20261107", "预警：售后工单逾期"),
    ],
    "chendianzhang": [
        ("LS20261104", "价格审核"),
        ("LS20261101", "预警：超时未派测量"),
        ("LS20261107", "预警：安装后未签字"),
        ("LS20261121", "预警：生产延期"),
        ("LS20261107", "预警：售后工单逾期"),
    ],
}
# The demo's showroom bookings (relay/demo_leads.py): the customer 顾文 serves (next: 到店), the one
# waiting for 林悦's 领单. Numbers are Y<yymm>-<id>.
LEADS = f"Y{utcnow():%y%m}-"
DEMO_QUEUES["guwen"] = [(f"{LEADS}0001", "到店")]
DEMO_QUEUES["linyue"] = [(f"{LEADS}0002", "领单")]
NOTHING_WAITING = ("lixiaoshou", "zhouceliang", "wuceliang", "fangqiantai")

# Where each step is taken.
STEP_PAGES = {
    "派测量": "/dispatch/measure",
    "派安装": "/dispatch/install",
    "图纸与产品 / 测量完成": "/measure",
    "上传设计": "/design",
    "客户确认与收款": "/confirm",
    "登记收款": "/payments",
    "入库登记": "/goods-in",
    "客户签字": "/sign",
    "填写回访": "/visit",
    "价格审核": "/approval",
    "确认到账": "/confirm-payments",
}


def target(url: str) -> str:
    """The page a card link opens after WeCom's OAuth round trip."""
    return urlsplit(unquote(parse_qs(urlsplit(url).query).get("redirect_uri", [url])[0])).path


async def seed_demo(world: World) -> None:
    await seed_orders()
    await seed_leads()
    await alerts.scan()
    await world.settle()


async def test_every_role_asks_and_sees_what_waits_on_them(world: World) -> None:
    await seed_demo(world)
    for userid, waiting in DEMO_QUEUES.items():
        await world.say(userid, "我的任务")
        card = world.card(userid, "我的任务")
        lines = card.card["quote_area"]["quote_text"].splitlines()
        assert [(line.split()[0], line.split(" · ")[1]) for line in lines] == waiting, userid
        assert card.desc.startswith(f"共 {len(waiting)} 项待办")
        assert target(card.card["card_action"]["url"]) == "/h5/queue"
        # The first three are each one tap from their step.
        jumps = [(j["title"], target(j["url"])) for j in card.card["jump_list"]]
        for (number, step), (title, path) in zip(waiting, jumps, strict=False):
            assert title == clip(f"{number} {step}", 40)
            at_factory = step.startswith(("开始生产", "完工", "发货"))
            expected = "/h5/production" if at_factory else f"/h5/orders/{number}{STEP_PAGES.get(step, '')}"
            if number.startswith(LEADS):
                expected = f"/h5/leads/{number}"
            if "工单" in step and not step.startswith("预警"):  # a service ticket: its own page under the order
                assert re.fullmatch(rf"/h5/orders/{number}/tickets/\d+", path), (userid, title, path)
                continue
            assert path == expected, (userid, title, path)
    for userid in NOTHING_WAITING:
        await world.say(userid, "我的任务")
        assert world.last_text(userid) == "你目前没有待办任务。"


async def test_a_step_taken_leaves_the_queue(world: World) -> None:
    order = await at_state("Q-DESIGN", OrderState.MEASURED)
    designer, sales = await world.staff("zhengsheji"), await world.staff("zhangxiaoshou")
    await world.say("zhengsheji", "我的任务")
    assert "Q-DESIGN 客户 · 上传设计" in world.card("zhengsheji", "我的任务").card["quote_area"]["quote_text"]
    await add_design(actor=designer, order=order, stored=await runtime().files.put_image(jpeg()), filename="a.jpg")
    await finish_design(actor=designer, order=await Order.get(id=order.id))
    await world.say("zhengsheji", "我的任务")
    assert world.last_text("zhengsheji") == "你目前没有待办任务。"
    await world.say("zhangxiaoshou", "我的任务")
    assert "Q-DESIGN 客户 · 客户确认与收款" in world.card(SALES, "我的任务").card["quote_area"]["quote_text"]
    # Confirmed and paid in full: nothing is left to collect, so nothing waits on sales.
    await confirm_design(
        actor=sales,
        order=await Order.get(id=order.id),
        contract_amount=Decimal("5000"),
        first_payment=Decimal("5000"),
        method=PaymentMethod.CASH,
        kind=PaymentKind.FULL,
    )
    await world.say("zhangxiaoshou", "我的任务")
    assert world.last_text("zhangxiaoshou") == "你目前没有待办任务。"


async def test_the_morning_card_goes_once_to_each_worker_with_visits_today(world: World) -> None:
    today = local_today()
    dispatcher = await world.staff("zhaopaidan")
    measured_today = await at_state("Q-AM-1", OrderState.CREATED)
    tomorrow_too = await at_state("Q-AM-2", OrderState.CREATED)
    installed_today = await at_state("Q-AM-3", OrderState.IN_STOCK)
    sun, wu, chen = await world.staff("sunceliang"), await world.staff("wuceliang"), await world.staff("chenanzhuang")
    await dispatch_task(actor=dispatcher, order=measured_today, kind=TaskKind.MEASURE, worker_id=sun.id, day=today)
    later = today + timedelta(days=1)
    await dispatch_task(actor=dispatcher, order=tomorrow_too, kind=TaskKind.MEASURE, worker_id=wu.id, day=later)
    await dispatch_task(actor=dispatcher, order=installed_today, kind=TaskKind.INSTALL, worker_id=chen.id, day=today)
    await world.settle()
    before = {u: len(world.emu.cards(u)) for u in ("sunceliang", "wuceliang", "chenanzhuang", "zhaopaidan")}

    # Two processes plan the day, twice; three run the jobs side by side.
    now = utcnow()
    await plan_recurring(now)
    await plan_recurring(now)
    assert await Job.filter(kind=MORNING).count() == 1
    await make_due(MORNING)
    await drain(world, *workers(3))
    await make_due(WORKER_MORNING)
    await drain(world, *workers(3))

    sun_card = world.emu.cards("sunceliang")[before["sunceliang"] :]
    assert [c.title for c in sun_card] == ["今天上门 1 户"]
    quote = sun_card[0].card["quote_area"]["quote_text"]
    assert "测量 Q-AM-1 客户 139****0000" in quote and "13900000000" not in quote
    assert "上海" in quote
    jump = sun_card[0].card["jump_list"][0]
    assert (
        jump["title"].startswith("导航：客户")
        and jump["url"] == "https://uri.amap.com/search?keyword=%E4%B8%8A%E6%B5%B7"
    )
    assert target(sun_card[0].card["card_action"]["url"]) == "/h5/queue"

    def mornings(userid: str, seen: int) -> list[str]:
        return [c.title for c in world.emu.cards(userid)[seen:] if c.title.startswith("今天上门")]

    assert mornings("chenanzhuang", before["chenanzhuang"]) == ["今天上门 1 户"]
    # Tomorrow's visit is not this morning's (after reminder_hour it has its own reminder, another card).
    assert not mornings("wuceliang", before["wuceliang"])
    assert not mornings("zhaopaidan", before["zhaopaidan"])  # not a field worker
    assert await Job.filter(kind=WORKER_MORNING).count() == 2
    assert all(j.state == MessageState.DONE for j in await Job.filter(kind__in=[MORNING, WORKER_MORNING]))
    # The day's push run again (a lease lost after it queued): still once each.
    await HANDLERS[MORNING]({"date": today.isoformat()})  # type: ignore[operator]
    assert await Job.filter(kind=WORKER_MORNING).count() == 2
    assert await Task.filter(scheduled_date=today).count() == 2


async def test_commands_of_other_roles_get_a_clear_answer(world: World) -> None:
    await world.say("zhengsheji", "开单")
    assert world.last_text("zhengsheji") == "开单只对销售开放。你可以发送“我的任务”查看自己的待办。"
    await world.say("zhangxiaoshou", "入库 LS20261105")
    assert world.last_text("zhangxiaoshou") == "入库登记只对仓库管理员开放。你可以发送“我的任务”查看自己的待办。"
    await world.say("sunceliang", "本月统计")
    assert world.last_text("sunceliang") == "数据统计只对管理层开放。你可以发送“我的任务”查看自己的待办。"
    assert not world.emu.cards("zhengsheji") and not world.emu.cards("zhangxiaoshou")


async def test_the_nudge_to_accept_opens_the_list_where_accepting_is_one_tap(world: World) -> None:
    order = await at_state("Q-NUDGE", OrderState.CREATED)
    measurer = await world.staff("wuceliang")
    await dispatch_task(
        actor=await world.staff("zhaopaidan"),
        order=order,
        kind=TaskKind.MEASURE,
        worker_id=measurer.id,
        day=local_today(),
    )
    await make_due(NUDGE)
    await drain(world, *workers(1))
    nudge = world.card("wuceliang", "请尽快接单：测量")
    assert target(nudge.card["card_action"]["url"]) == "/h5/queue"
    await world.say("wuceliang", "我的任务")
    mine = world.card("wuceliang", "我的任务")
    assert "Q-NUDGE 客户 · 接单 · " in mine.card["quote_area"]["quote_text"]
    assert [(j["title"], target(j["url"])) for j in mine.card["jump_list"]] == [("Q-NUDGE 接单", "/h5/queue")]
