"""The first third of an order's life, driven the way staff would: chat, card taps and H5 forms."""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta

import aiohttp

from infra.timeutil import local_today
from models import Attachment, AttachmentCategory, Order, OrderEvent, OrderItem, OrderState, Product, Task, TaskState
from tests.support import World, assignee_of, form_errors, jpeg

SALES, DISPATCHER, DISPATCHER2, MEASURER, DESIGNER = (
    "zhangxiaoshou",
    "zhaopaidan",
    "qianpaidan",
    "sunceliang",
    "zhengsheji",
)


def csrf(html: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match, "page has no csrf field"
    return match.group(1)


async def create_order_via_form(world: World, number: str = "LS20261201", phone: str = "13812345678") -> Order:
    products = {p.model: p.id for p in await Product.all()}
    async with world.browser_session(SALES) as http:
        async with http.get(f"{world.relay_url}/h5/orders/new") as resp:
            assert resp.status == 200
            page = await resp.text()
        form = aiohttp.FormData()
        for name, value in [
            ("csrf", csrf(page)),
            ("number", number),
            ("customer_name", "黄女士"),
            ("phone", phone),
            ("address", "上海市徐汇区漕溪北路 88 弄 3 号 1201"),
            ("expected_measure_date", (local_today() + timedelta(days=2)).isoformat()),
            ("room", "主卫"),
            ("product_id", str(products["K5"])),
            ("quantity", "1"),
            ("room", "客卫"),
            ("product_id", str(products["S1"])),
            ("quantity", "1"),
        ]:
            form.add_field(name, value)
        form.add_field("paper_photo", jpeg(), filename="paper.jpg", content_type="image/jpeg")
        async with http.post(f"{world.relay_url}/h5/orders/new", data=form) as resp:
            html = await resp.text()
            assert resp.status == 200, form_errors(html) or html[:500]
            assert "订单已创建" in html
    await world.settle()
    return await Order.get(number=number)


async def dispatch_by_card(world: World, order: Order) -> Task:
    card = world.card(DISPATCHER, "新订单待派测量")
    assert order.number in card.desc
    suggested = next(b for b in card.buttons if b.text.startswith("派给"))
    await world.tap(DISPATCHER, card, suggested.text)
    return await Task.get(order_id=order.id)


async def test_sale_to_measured(world: World) -> None:
    order = await create_order_via_form(world)
    assert order.state == OrderState.CREATED
    assert await Attachment.filter(order_id=order.id, category=AttachmentCategory.PAPER_ORDER).count() == 1
    # Both measure dispatchers of the region got the card, with a suggested measurer.
    for userid in (DISPATCHER, DISPATCHER2):
        card = world.card(userid, "新订单待派测量")
        assert any(b.text.startswith("派给") for b in card.buttons)

    # The dispatcher sends it to a measurer chosen on the H5 page (overriding the suggestion).
    async with world.browser_session(DISPATCHER) as http:
        async with http.get(f"{world.relay_url}/h5/orders/{order.number}/dispatch/measure") as resp:
            page = await resp.text()
            assert "建议" in page and "孙师傅" in page
        measurer = await world.staff(MEASURER)
        day = local_today() + timedelta(days=1)
        async with http.post(
            f"{world.relay_url}/h5/orders/{order.number}/dispatch/measure",
            data={"csrf": csrf(page), "worker_id": str(measurer.id), "date": day.isoformat()},
        ) as resp:
            assert resp.status == 200, form_errors(await resp.text())
    await world.settle()
    await order.refresh_from_db()
    assert order.state == OrderState.MEASURE_SCHEDULED

    # Sales hears "已预约测量"; the other dispatcher's card now says who took it.
    booked = world.card(SALES, "已预约测量")
    assert order.number in booked.desc
    other = world.card(DISPATCHER2, "新订单待派测量")
    assert other.replaced and "孙师傅" in (other.replace_text or "")

    # The measurer accepts from the card.
    task_card = world.card(MEASURER, "新测量任务")
    await world.tap(MEASURER, task_card, "接单")
    assert world.card(MEASURER, "新测量任务").replace_text == "已接单"
    task = await Task.get(order_id=order.id)
    assert task.state == TaskState.ACCEPTED
    world.card(MEASURER, "测量进行中")

    # Site photos straight from the chat, each given a category from its card.
    for category in ("水电路", "墙地", "窗户"):
        await world.photo(MEASURER, jpeg(color=(10, 200, 30)) if category == "墙地" else None)
        card = world.card(MEASURER, "照片已保存，请选择分类")
        await world.tap(MEASURER, card, category)
        assert world.emu.card(MEASURER, card.msgid).replace_text == f"已归类：{category}"
    photos = await Attachment.filter(order_id=order.id).exclude(category=AttachmentCategory.PAPER_ORDER)
    assert sorted(p.category.label for p in photos) == ["墙地", "水电路", "窗户"]
    assert all(p.has_thumbnail for p in photos)

    # Drawings and the room-to-product mapping on the H5 page.
    products = {p.model: p.id for p in await Product.all()}
    async with world.browser_session(MEASURER) as http:
        async with http.get(f"{world.relay_url}/h5/orders/{order.number}/measure") as resp:
            page = await resp.text()
        form = aiohttp.FormData()
        form.add_field("csrf", csrf(page))
        form.add_field("action", "drawings")
        form.add_field("files", b"%PDF-1.4\n% drawing\n", filename="水电图.pdf", content_type="application/pdf")
        async with http.post(f"{world.relay_url}/h5/orders/{order.number}/measure", data=form) as resp:
            assert "图纸已上传" in await resp.text()
        items = [("主卫", products["K5"]), ("客卫", products["S3"]), ("阳台", products["D70"])]
        data = [("csrf", csrf(page)), ("action", "items")]
        for room, pid in items:
            data += [("room", room), ("product_id", str(pid)), ("quantity", "1")]
        async with http.post(f"{world.relay_url}/h5/orders/{order.number}/measure", data=data) as resp:
            assert "产品与房间已保存" in await resp.text()
    rooms = await OrderItem.filter(order_id=order.id).order_by("id").values_list("room", "model")
    assert rooms == [("主卫", "K5"), ("客卫", "S3"), ("阳台", "D70")]

    # Done, from the workbench card; designers get "测量完成", which opens the design page, the gallery a tap on.
    await world.tap(MEASURER, world.card(MEASURER, "测量进行中"), "测量完成")
    await order.refresh_from_db()
    assert order.state == OrderState.MEASURED
    done = world.card(DESIGNER, "测量完成")
    assert "3 张照片 · 1 份图纸" in done.card["emphasis_content"]["title"]
    async with world.browser_session(DESIGNER) as http:
        async with http.get(done.card["card_action"]["url"]) as resp:  # through WeCom OAuth, as a tap would
            html = await resp.text()
            assert resp.status == 200
        assert f"设计 · {order.number}" in html and "上传设计" in html
        assert f'href="/h5/orders/{order.number}/gallery"' in html
        async with http.get(f"{world.relay_url}/h5/orders/{order.number}/gallery") as resp:
            html = await resp.text()
            assert resp.status == 200
        assert "水电路（1）" in html and "水电图.pdf" in html
        async with http.get(f"{world.relay_url}/h5/orders/{order.number}/files.zip") as resp:
            assert resp.status == 200 and resp.content_type == "application/zip"
    world.card(SALES, "测量完成")
    kinds = await OrderEvent.filter(order_id=order.id).order_by("id").values_list("kind", flat=True)
    assert kinds[0] == "created" and kinds[-1] == "measured"
    assert {"measure_dispatched", "measure_accepted", "photo_added", "drawing_added", "items_adjusted"} <= set(kinds)


async def test_two_dispatchers_tap_at_once(world: World) -> None:
    order = await create_order_via_form(world)
    first = world.card(DISPATCHER, "新订单待派测量")
    second = world.card(DISPATCHER2, "新订单待派测量")
    key1 = next(b.key for b in first.buttons if b.text.startswith("派给"))
    key2 = next(b.key for b in second.buttons if b.text.startswith("派给"))
    await asyncio.gather(
        world.emu.user_clicks(DISPATCHER, first.msgid, key1), world.emu.user_clicks(DISPATCHER2, second.msgid, key2)
    )
    await world.settle()
    assert await Task.filter(order_id=order.id).count() == 1
    assert len(world.emu.cards(MEASURER) + world.emu.cards("wuceliang") + world.emu.cards("zhouceliang")) == 1
    labels = {
        world.emu.card(DISPATCHER, first.msgid).replace_text,
        world.emu.card(DISPATCHER2, second.msgid).replace_text,
    }
    assert any(label and label.startswith("已派给") for label in labels)
    assert any(label and label.startswith("已由") for label in labels), labels
    loser = DISPATCHER if world.emu.card(DISPATCHER, first.msgid).replace_text.startswith("已由") else DISPATCHER2
    assert "已由" in world.last_text(loser) and order.number in world.last_text(loser)


async def test_decline_goes_back_to_dispatch(world: World) -> None:
    order = await create_order_via_form(world)
    task = await dispatch_by_card(world, order)
    assignee = await task.assignee
    assert assignee is not None
    await world.tap(assignee.userid, world.card(assignee.userid, "新测量任务"), "拒单")
    await order.refresh_from_db()
    assert order.state == OrderState.CREATED
    assert (await Task.get(id=task.id)).state == TaskState.DECLINED
    again = world.card(DISPATCHER, "测量被拒，请重新派单")
    assert order.number in again.desc
    assert f"{assignee.name} 拒单" in again.card["quote_area"]["quote_text"]


async def test_finish_needs_sorted_photos(world: World) -> None:
    order = await create_order_via_form(world)
    task = await dispatch_by_card(world, order)
    measurer = await assignee_of(task)
    await world.tap(measurer, world.card(measurer, "新测量任务"), "接单")
    await world.tap(measurer, world.card(measurer, "测量进行中"), "测量完成")
    assert "还没有现场照片" in world.last_text(measurer)
    await world.photo(measurer)
    await world.tap(measurer, world.card(measurer, "测量进行中"), "测量完成")
    assert "1 张照片没有选择分类" in world.last_text(measurer)
    await order.refresh_from_db()
    assert order.state == OrderState.MEASURE_SCHEDULED


async def test_text_commands(world: World) -> None:
    order = await create_order_via_form(world)
    task = await dispatch_by_card(world, order)
    measurer = await assignee_of(task)
    await world.say(measurer, "我的任务")
    tasks = world.card(measurer, "我的任务")
    assert order.number in tasks.card["quote_area"]["quote_text"]
    await world.say(SALES, f"订单 {order.number}")
    card = world.card(SALES, f"订单 {order.number}")
    assert "创建订单" in card.card["quote_area"]["quote_text"]
    assert "派测量给" in card.card["quote_area"]["quote_text"]
    await world.say(SALES, "订单 NOPE404")
    assert world.last_text(SALES) == "没有找到订单 NOPE404"
    before = len(world.emu.cards(SALES))
    await world.say(SALES, "今天天气怎么样")
    help_card = world.emu.cards(SALES)[-1]
    assert len(world.emu.cards(SALES)) == before + 1 and help_card.desc.startswith("没听懂")
    await world.say(SALES, "开单")
    assert world.card(SALES, "新建订单").card["card_action"]["url"] == f"{world.relay_url}/h5/orders/new?signin=1"


async def test_wrong_role_changes_nothing(world: World) -> None:
    await world.say(MEASURER, "开单")
    # Not sales: they are told who opens orders, and get no form link.
    assert world.last_text(MEASURER) == "开单只对销售开放。你可以发送“我的任务”查看自己的待办。"
    assert not world.emu.cards(MEASURER)
    order = await create_order_via_form(world)
    card = world.card(DISPATCHER, "新订单待派测量")
    key = next(b.key for b in card.buttons if b.text.startswith("派给"))
    # The same button pressed by a member without the role (a forwarded card, a crafted callback).
    await world.emu.user_sends_text(SALES, "帮助")
    click = {
        "ToUserName": world.config.wecom.corp_id,
        "FromUserName": SALES,
        "CreateTime": "1700000000",
        "MsgType": "event",
        "Event": "template_card_event",
        "EventKey": key,
        "TaskId": card.task_id,
        "CardType": "button_interaction",
        "ResponseCode": "",
        "AgentID": str(world.config.wecom.agent_id),
    }
    from bot.inbox import store_inbound

    assert await store_inbound(click)
    await world.settle()
    assert world.last_text(SALES) == "你没有权限进行这个操作。"
    await order.refresh_from_db()
    assert order.state == OrderState.CREATED
    assert await Task.filter(order_id=order.id).count() == 0
    # H5: the dispatch page refuses a salesperson.
    async with world.browser_session(SALES) as http:
        async with http.get(f"{world.relay_url}/h5/orders/{order.number}/dispatch/measure") as resp:
            assert resp.status == 403 and "只有测量派单员可以" in await resp.text()
    # And a measurer cannot see another store's order at all.
    async with world.browser_session("zhouceliang") as http:
        async with http.get(f"{world.relay_url}/h5/orders/{order.number}") as resp:
            assert resp.status == 404 and "没有找到订单" in await resp.text()
