"""Each role's next step, found without typing an order number: 我的任务 and the 我的待办 page on the seeded
demo, and the designer's 测量完成 card, tapped on a phone."""

from __future__ import annotations

import re

from playwright.async_api import Page, expect

from infra.timeutil import local_today
from models import OrderState, Task, TaskKind, TaskState
from relay.demo import seed_orders
from tests.browser.conftest import Shot
from tests.browser.h5 import open_as
from tests.browser.test_console import chat_card, switch_to
from tests.support import World
from tests.test_permissions import at_state
from workflow import alerts
from workflow.tasks import dispatch_task

# Who, the oldest order waiting on them in the demo, its step and the heading of the page the step opens.
NEXT_STEPS = [
    ("zhaopaidan", "赵静", "LS20261101", "派测量", "派测量 · LS20261101"),
    ("zhengsheji", "郑设计", "LS20261103", "上传设计", "设计 · LS20261103"),
    ("zhangxiaoshou", "张晓燕", "LS20261107", "客户签字", "客户签字 · LS20261107"),
    ("fengcangku", "冯仓管", "LS20261105", "入库登记", "入库 · LS20261105"),
    ("sunceliang", "孙师傅", "LS20261102", "图纸与产品 / 测量完成", "测量 · LS20261102"),
    ("chenanzhuang", "陈师傅", "LS20261107", "客户签字", "客户签字 · LS20261107"),
    ("weishouhou", "卫客服", "LS20261107", "填写回访", "回访 · LS20261107"),
    ("chendianzhang", "陈店长", "LS20261104", "价格审核", "价格审核 · LS20261104"),
    ("qiankuaiji", "钱会计", "LS20261105", "确认到账", "确认到账 · LS20261105"),
]


async def say(page: Page, text: str) -> None:
    await page.locator("#text-input").fill(text)
    await page.locator("#send").click()


async def seed_demo(world: World) -> None:
    await seed_orders()
    await alerts.scan()
    await world.settle()


async def test_every_role_opens_its_queue_and_the_next_step(world: World, page: Page, shot: Shot) -> None:
    await seed_demo(world)
    for userid, name, number, step, heading in NEXT_STEPS:
        await open_as(page, world, userid, "/h5/queue")
        await expect(page.locator("header.bar h1")).to_have_text("我的待办")
        await expect(page.locator("header.bar .who")).to_have_text(name)
        first = page.locator("#queue .queue-item").first
        await expect(first).to_have_attribute("data-number", number)
        await expect(first.locator(".step")).to_have_text(step)
        if userid == "zhangxiaoshou":
            await shot("sales-queue")
        await first.locator(".step").click()
        await expect(page.locator("header.bar h1")).to_have_text(heading)
    await open_as(page, world, "lixiaoshou", "/h5/queue")
    await expect(page.locator("#count")).to_have_text("你目前没有待办任务。")


async def test_from_the_chat_to_the_next_step_in_one_tap(world: World, page: Page, shot: Shot) -> None:
    await seed_demo(world)
    await page.goto(world.emulator_url.rstrip("/") + "/")
    h5 = page.frame_locator("#h5-frame")
    back = page.get_by_role("button", name="‹ 返回聊天")

    # The designer's 测量完成 card opens the design page; the photos and drawings are a tap from it.
    await switch_to(page, "郑设计")
    title = page.locator(".card-title", has_text="测量完成")
    measured = page.locator("#chat .card").filter(has=title).filter(has_text="订单 LS20261103 · 何女士").last
    await expect(measured).to_be_visible()
    await measured.locator(".card-footer").click()
    await expect(h5.locator("header.bar h1")).to_have_text("设计 · LS20261103")
    await expect(h5.get_by_role("button", name="上传设计")).to_be_visible()
    await shot("design-from-card")
    await h5.get_by_role("link", name="查看测量照片与图纸").click()
    await expect(h5.locator("header.bar h1")).to_have_text("照片与图纸 · LS20261103")
    await back.click()
    await measured.locator(".card-jumps .link", has_text="上传设计").click()
    await expect(h5.locator("header.bar h1")).to_have_text("设计 · LS20261103")
    await back.click()

    # The warehouse asks 我的任务: the order to receive is one tap away.
    await switch_to(page, "冯仓管")
    await say(page, "我的任务")
    mine = chat_card(page, "我的任务")
    await expect(mine).to_contain_text("LS20261105 刘女士 · 入库登记")
    await shot("warehouse-my-tasks")
    await mine.locator(".card-jumps .link", has_text="LS20261105 入库登记").click()
    await expect(h5.locator("header.bar h1")).to_have_text("入库 · LS20261105")
    await back.click()

    # The help card links to 我的待办.
    await say(page, "帮助")
    helper = chat_card(page, "接力 · 可以这样和我说")
    await helper.locator(".card-jumps .link", has_text="我的待办").click()
    await expect(h5.locator("header.bar h1")).to_have_text("我的待办")
    await expect(h5.locator("#queue .queue-item").first).to_have_attribute("data-number", "LS20261105")


async def test_a_new_job_is_accepted_from_the_list_in_one_tap(world: World, page: Page, shot: Shot) -> None:
    order = await at_state("Q-ACCEPT", OrderState.CREATED)
    measurer = await world.staff("wuceliang")
    task = await dispatch_task(
        actor=await world.staff("zhaopaidan"),
        order=order,
        kind=TaskKind.MEASURE,
        worker_id=measurer.id,
        day=local_today(),
    )
    await world.settle()
    await open_as(page, world, "wuceliang", "/h5/queue")
    item = page.locator("#queue .queue-item").filter(has_text="Q-ACCEPT")
    await expect(item).to_contain_text("今天测量")
    await expect(item.get_by_role("link", name="地图")).to_have_attribute(
        "href", re.compile(r"^https://uri\.amap\.com/")
    )
    await shot("accept")
    await item.get_by_role("button", name="接单").click()
    await expect(page.locator("#notice")).to_have_text("已接单")
    await expect(item.locator(".step")).to_have_text("图纸与产品 / 测量完成")
    assert (await Task.get(id=task.id)).state == TaskState.ACCEPTED
    await world.settle()
    world.card("wuceliang", "测量进行中")  # the workbench, as after the task card's 接单
