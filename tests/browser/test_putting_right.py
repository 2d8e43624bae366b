"""Putting things right on a phone: cancel (asked twice, undone in time), void and correct a payment,
remove a wrong upload, correct the customer's phone (查找 follows it), copy an order. Each refusal
(wrong person, too late) is a clear Chinese message with a 4xx, and changes nothing."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import timedelta
from pathlib import Path

import aiohttp
from playwright.async_api import Page, expect

from infra.timeutil import utcnow
from models import (
    Attachment,
    AttachmentCategory,
    Customer,
    Order,
    OrderEvent,
    OrderItem,
    OrderState,
    Payment,
    Role,
    Staff,
    Task,
    TaskState,
)
from tests.browser.conftest import Shot
from tests.browser.h5 import DESIGNER, SALES, open_as, order_at
from tests.support import World, form_errors
from tests.test_permissions import STORE, member
from webviews.auth import csrf_token

NUMBER = "LS20261202001"
MEASURER = "sunceliang"  # relay.demo.advance gives the measuring to 孙师傅


async def open_order(page: Page, world: World, userid: str, number: str = NUMBER) -> None:
    await open_as(page, world, userid, f"/h5/orders/{number}")
    await expect(page.locator("header.bar h1")).to_have_text(f"订单 {number}")


async def tap_action(page: Page, label: str | re.Pattern[str], heading: str) -> None:
    await page.locator("#actions").get_by_role("link", name=label).click()
    await expect(page.locator("header.bar h1")).to_have_text(heading)


async def post_as(
    world: World, userid: str, path: str, fields: dict[str, str], *, member_made: bool = False
) -> tuple[int, str]:
    """A form posted as this member, with their CSRF token: what a tap on the page's button sends."""
    token = csrf_token(await Staff.get(userid=userid))
    session = world.signed_in(userid) if member_made else world.browser_session(userid)
    async with session as http:
        async with http.post(f"{world.relay_url}{path}", data={"csrf": token, **fields}) as resp:
            return resp.status, await resp.text()


async def test_cancel_asks_to_confirm_and_can_be_undone(world: World, page: Page, shot: Shot) -> None:
    order = await order_at(world, OrderState.MEASURE_SCHEDULED, NUMBER)
    task = await Task.get(order_id=order.id)
    assert task.state == TaskState.ACCEPTED
    assert not world.card(MEASURER, "测量进行中").replaced

    await open_order(page, world, SALES)
    await tap_action(page, re.compile(r"^调整"), f"调整 · {NUMBER}")
    await page.locator("#cancel-reason").fill("客户装修延期")
    await page.get_by_role("button", name="取消订单").click()
    # Asked first: nothing has changed yet.
    await expect(page.locator("#confirm-cancel-form h2")).to_have_text(f"确认取消订单 {NUMBER}？")
    await expect(page.locator("#confirm-reason")).to_have_text("客户装修延期")
    await expect(page.locator("#confirm-cancel-form")).to_contain_text("10 分钟内可以撤销")
    await shot("confirm")
    await order.refresh_from_db()
    assert order.state == OrderState.MEASURE_SCHEDULED
    await page.get_by_role("button", name="确认取消").click()

    await expect(page.locator("header.bar h1")).to_have_text(f"订单 {NUMBER}")
    await expect(page.locator("#order-state")).to_have_text("已取消")
    await expect(page.locator("#cancelled-notice")).to_contain_text("10 分钟内可以撤销")
    await expect(page.locator("#notice")).to_have_count(0)  # one banner for the cancel, not two
    await world.settle()
    assert world.card(MEASURER, "测量进行中").replace_text == "订单已取消"
    assert "客户装修延期" in world.card(MEASURER, "订单已取消").card["quote_area"]["quote_text"]
    await shot("cancelled")

    await page.locator("#cancelled-notice").get_by_role("button", name="撤销取消").click()
    await expect(page.locator("#restored")).to_have_text("已撤销取消，订单恢复为已预约测量，相关人员已收到通知。")
    await expect(page.locator("#order-state")).to_have_text("已预约测量")
    await expect(page.locator("#cancelled-notice")).to_have_count(0)
    await expect(page.locator("#timeline")).to_contain_text("张晓燕 取消订单：客户装修延期")
    await expect(page.locator("#timeline")).to_contain_text("张晓燕 撤销取消，订单恢复为已预约测量")
    await shot("restored")
    await task.refresh_from_db()
    assert task.state == TaskState.ACCEPTED
    # The measurer's bench, closed by the cancel, is theirs again.
    await world.settle()
    bench = world.card(MEASURER, "测量进行中")
    assert not bench.replaced and "照片归入此单" in " ".join(bench.button_texts)


async def test_undo_is_refused_after_the_window_and_to_others(world: World, page: Page) -> None:
    order = await order_at(world, OrderState.CREATED, NUMBER)
    changes = f"/h5/orders/{NUMBER}/changes"
    status, html = await post_as(world, SALES, changes, {"action": "cancel", "confirm": "1", "reason": "重复下单"})
    assert status == 200, form_errors(html)

    # Not theirs to undo: a designer of the store.
    status, html = await post_as(world, DESIGNER, changes, {"action": "undo_cancel"})
    assert status == 403 and form_errors(html) == "只有销售或管理层或管理员可以这样操作"

    # Too late: eleven minutes after the cancel, with the window at ten.
    await Order.filter(id=order.id).update(cancelled_at=utcnow() - timedelta(minutes=11))
    await open_order(page, world, SALES)
    await expect(page.locator("#order-state")).to_have_text("已取消")
    await expect(page.locator("#cancelled-notice")).to_have_count(0)
    # Nothing to change any more (no 调整); the customer's page still tells them it was cancelled.
    await expect(page.locator("#actions a")).to_have_text(["客户查看链接"])
    status, html = await post_as(world, SALES, changes, {"action": "undo_cancel"})
    assert status == 409 and form_errors(html) == f"订单 {NUMBER} 取消已超过 10 分钟，不能撤销"
    await order.refresh_from_db()
    assert order.state == OrderState.CANCELLED
    assert not await OrderEvent.filter(order_id=order.id, kind="cancel_undone").exists()


async def test_sales_voids_and_corrects_a_payment(world: World, page: Page, shot: Shot) -> None:
    order = await order_at(world, OrderState.CONFIRMED, NUMBER)  # contract 12800, deposit 3000 by WeChat
    await open_order(page, world, SALES)
    await tap_action(page, "登记收款", f"登记收款 · {NUMBER}")
    form = page.locator("#payment-form")
    await form.get_by_label("本次收款（元）").fill("2000")
    await form.get_by_label("类型").select_option(label="尾款")
    await form.get_by_label("付款方式").select_option(label="现金")
    await form.get_by_role("button", name="登记收款").click()
    await expect(page.locator("#notice")).to_have_text("收款已登记")
    await expect(page.locator("#paid")).to_have_text("¥5000.00")

    # The 2000 was really 2500: corrected, the old one kept as voided.
    second = page.locator("#payment-list li").nth(1)
    await second.get_by_text("作废或更正").click()
    await second.get_by_label("原因（必填）").fill("金额记错")
    await second.get_by_label("更正金额（元）").fill("2500")
    await second.get_by_role("button", name="更正这笔收款").click()
    await expect(page.locator("#notice")).to_have_text("收款已更正为 2500.00 元")
    await expect(page.locator("#paid")).to_have_text("¥5500.00")
    await expect(page.locator("#outstanding")).to_have_text("¥7300.00")

    # The deposit was never paid: voided.
    first = page.locator("#payment-list li").nth(0)
    await first.get_by_text("作废或更正").click()
    await first.get_by_label("原因（必填）").fill("客户未付定金，误登记")
    await first.get_by_role("button", name="作废这笔收款").click()
    await expect(page.locator("#notice")).to_have_text("已作废收款 3000.00 元")
    await expect(page.locator("#paid")).to_have_text("¥2500.00")
    await expect(page.locator("#payment-list li.voided")).to_have_count(2)
    await expect(page.locator("#payment-list li").nth(0)).to_contain_text("已作废（张晓燕：客户未付定金，误登记）")
    await shot("payments")

    await open_order(page, world, SALES)
    await expect(page.locator("#paid")).to_have_text("¥2500.00 / ¥10300.00")
    await expect(page.locator("#payments li.voided")).to_have_count(2)
    await expect(page.locator("#payments")).to_contain_text("已作废")
    await expect(page.locator("#timeline")).to_contain_text(
        "张晓燕 将收款 2000.00 元更正为 2500.00 元（尾款，现金）：金额记错"
    )
    await expect(page.locator("#timeline")).to_contain_text("张晓燕 作废收款 3000.00 元：客户未付定金，误登记")
    # The managers over the order hear of it.
    await world.settle()
    assert "作废收款 3000.00 元" in world.card("chendianzhang", "收款已更正").card["quote_area"]["quote_text"]

    # A measurer cannot void; a payment voided already cannot be again.
    standing = await Payment.get(order_id=order.id, voided_at__isnull=True)
    status, html = await post_as(
        world,
        MEASURER,
        f"/h5/orders/{NUMBER}/payments",
        {"action": "void", "payment_id": str(standing.id), "reason": "x"},
    )
    assert status == 403 and form_errors(html) == "只有销售或管理层可以这样操作"
    voided = await Payment.filter(order_id=order.id, voided_at__isnull=False).first()
    assert voided is not None
    status, html = await post_as(
        world, SALES, f"/h5/orders/{NUMBER}/payments", {"action": "void", "payment_id": str(voided.id), "reason": "x"}
    )
    assert status == 409 and form_errors(html) == "这笔收款已作废"
    status, html = await post_as(
        world, SALES, f"/h5/orders/{NUMBER}/payments", {"action": "void", "payment_id": str(standing.id), "reason": ""}
    )
    assert status == 400 and form_errors(html) == "请填写作废或更正的原因"
    assert await Payment.filter(order_id=order.id, voided_at__isnull=True).count() == 1


async def test_a_wrong_upload_is_removed_and_kept_in_history(
    world: World, page: Page, shot: Shot, tmp_path: Path
) -> None:
    order = await order_at(world, OrderState.MEASURED, NUMBER)
    await open_order(page, world, DESIGNER)
    await tap_action(page, "上传设计", f"设计 · {NUMBER}")
    wrong = tmp_path / "别家方案.pdf"
    wrong.write_bytes(b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n")
    await page.get_by_label("设计文件").set_input_files(wrong)
    await page.get_by_role("button", name="上传设计").click()
    await expect(page.locator("#designs")).to_contain_text("别家方案.pdf")

    await open_as(page, world, DESIGNER, f"/h5/orders/{NUMBER}/gallery")
    await expect(page.locator("#documents")).to_contain_text("别家方案.pdf")
    option = page.locator("#attachment_id option", has_text="设计图 · 别家方案.pdf")
    await page.get_by_label("文件", exact=True).select_option(await option.get_attribute("value"))
    await page.get_by_label("删除原因（必填）").fill("传错了，是别家的方案")
    await page.get_by_role("button", name="删除", exact=True).click()
    await expect(page.locator("#notice")).to_have_text("已删除 别家方案.pdf")
    await expect(page.locator("#documents")).to_have_count(0)
    await expect(page.locator("#removed")).to_contain_text("别家方案.pdf · 已删除（郑设计：传错了，是别家的方案）")
    await shot("gallery")

    async with world.browser_session(DESIGNER) as http:
        async with http.get(f"{world.relay_url}/h5/orders/{NUMBER}/files.zip") as resp:
            names = zipfile.ZipFile(io.BytesIO(await resp.read())).namelist()
    assert names and not any("别家方案" in n for n in names)
    await open_order(page, world, DESIGNER)
    await expect(page.locator("#timeline")).to_contain_text("郑设计 删除设计图 别家方案.pdf：传错了，是别家的方案")
    await tap_action(page, "上传设计", f"设计 · {NUMBER}")
    await expect(page.locator("#designs")).to_contain_text("还没有设计文件")
    removed = await Attachment.get(order_id=order.id, category=AttachmentCategory.DESIGN)
    assert removed.removed_at is not None  # kept, not lost

    # Another designer may not remove the measurer's photo; a manager over the order may.
    photo = await Attachment.filter(order_id=order.id, category=AttachmentCategory.WALLS_FLOORS).first()
    assert photo is not None
    await member("designer-2", Role.DESIGNER, STORE)
    fields = {"attachment_id": str(photo.id), "reason": "不清楚"}
    status, html = await post_as(world, "designer-2", f"/h5/orders/{NUMBER}/gallery", fields, member_made=True)
    assert status == 403 and form_errors(html) == "只有上传人或管理层可以删除这个文件"
    await photo.refresh_from_db()
    assert photo.removed_at is None
    status, html = await post_as(world, "chendianzhang", f"/h5/orders/{NUMBER}/gallery", fields)
    assert status == 200 and "已删除" in html, form_errors(html)
    await world.settle()
    assert "删除墙地" in world.card(MEASURER, "文件已删除").card["quote_area"]["quote_text"]


async def test_sales_corrects_the_phone_and_search_follows(world: World, page: Page, shot: Shot) -> None:
    order = await order_at(world, OrderState.MEASURE_SCHEDULED, NUMBER)  # 黄女士, 13812345678
    await world.say(SALES, "查找 13812345678")
    assert world.card(SALES, "找到 1 个订单")

    await open_order(page, world, SALES)
    await tap_action(page, "修改客户信息", f"修改客户信息 · {NUMBER}")
    # The number is not on the page (only who must call may reveal it): shown masked, blank keeps it.
    await expect(page.get_by_label("手机号")).to_have_value("")
    await expect(page.get_by_label("手机号")).to_have_attribute("placeholder", "138****5678（不改可留空）")
    assert "13812345678" not in await page.content()
    await page.get_by_label("手机号").fill("139 0000 1111")
    await page.get_by_label("地址").fill("上海市徐汇区漕溪北路 90 弄 1 号 502")
    await page.get_by_role("button", name="保存").click()
    # No reason: the phone asks for one before anything is sent (and the server refuses it too, below).
    reason = page.get_by_label("修改原因（必填）")
    assert await reason.evaluate("e => !e.validity.valid")
    await expect(page.get_by_label("手机号")).to_have_value("139 0000 1111")
    await reason.fill("开单时电话和门牌号记错")
    await page.get_by_role("button", name="保存").click()

    await expect(page.locator("#edited")).to_have_text("客户信息已修改，相关人员已收到通知。")
    await expect(page.locator("#summary")).to_contain_text("139****1111")
    await expect(page.locator("#summary")).to_contain_text("90 弄 1 号 502")
    await expect(page.locator("#timeline")).to_contain_text("张晓燕 修改客户电话、地址：开单时电话和门牌号记错")
    await shot("edited")

    await world.say(SALES, "查找 13900001111")
    found = world.card(SALES, "找到 1 个订单")
    assert NUMBER in found.card["quote_area"]["quote_text"]
    await world.say(SALES, "查找 13812345678")
    assert world.last_text(SALES) == "没有找到与“13812345678”相关的订单。"
    # The old customer had no other order: their phone is not kept.
    assert await Customer.all().count() == 1
    # The measurer on the job hears of the new address, the phone masked on the card.
    quote = world.card(MEASURER, "客户信息已修改").card["quote_area"]["quote_text"]
    assert "电话、地址" in quote and "13900001111" not in str(world.card(MEASURER, "客户信息已修改").card)

    # The measurer may not edit the customer; nothing changes.
    status, html = await post_as(
        world,
        MEASURER,
        f"/h5/orders/{NUMBER}/customer",
        {"customer_name": "黄女士", "phone": "13700000000", "address": "x", "reason": "x"},
    )
    assert status == 403 and form_errors(html) == "只有销售或管理层可以这样操作"
    status, html = await post_as(
        world,
        SALES,
        f"/h5/orders/{NUMBER}/customer",
        {"customer_name": "黄女士", "phone": "13700000000", "address": "上海", "reason": ""},
    )
    assert status == 400 and form_errors(html) == "请填写修改原因"
    await order.refresh_from_db()
    assert order.address == "上海市徐汇区漕溪北路 90 弄 1 号 502"

    # The phone left blank keeps the number on file: only the address changes.
    status, _ = await post_as(
        world,
        SALES,
        f"/h5/orders/{NUMBER}/customer",
        {"customer_name": "黄女士", "phone": "", "address": "上海市徐汇区漕溪北路 90 弄 1 号 503", "reason": "门牌号"},
    )
    assert status == 200
    await world.say(SALES, "查找 13900001111")
    assert NUMBER in world.card(SALES, "找到 1 个订单").card["quote_area"]["quote_text"]


async def test_sales_copies_an_order(world: World, page: Page, shot: Shot) -> None:
    source = await order_at(world, OrderState.CONFIRMED, NUMBER)
    await open_order(page, world, SALES)
    await page.get_by_role("link", name=re.compile(r"^复制订单")).click()
    await expect(page.locator("header.bar h1")).to_have_text("新建订单")
    await expect(page.locator("#copied-from")).to_contain_text(f"复制自订单 {NUMBER}")
    await expect(page.get_by_label("客户姓名")).to_have_value("黄女士")
    await expect(page.get_by_label("手机号")).to_have_value("")
    await expect(page.get_by_label("手机号")).to_have_attribute("placeholder", "138****5678（同原订单，可留空）")
    assert "13812345678" not in await page.content()
    await expect(page.get_by_label("地址")).to_have_value("上海市徐汇区漕溪北路 88 弄 3 号 1201")
    rows = page.locator("#items .item-row")
    await expect(rows).to_have_count(2)
    await expect(rows.nth(0).get_by_placeholder("房间，如主卫")).to_have_value("主卫")
    await expect(page.get_by_label("订单号（与纸质订单一致）")).to_have_value("")
    await shot("copy-form")
    await page.get_by_label("订单号（与纸质订单一致）").fill("LS20261202002")
    await page.get_by_role("button", name="提交订单").click()

    await expect(page.locator("#created")).to_contain_text("订单已创建")
    await expect(page.locator("header.bar h1")).to_have_text("订单 LS20261202002")
    await expect(page.locator("#order-state")).to_have_text("待派测量")
    await expect(page.locator("#items")).to_contain_text("主卫：淋浴房 K系列 K5")
    await expect(page.locator("#items")).to_contain_text("客卫：淋浴房 S系列 S1")
    await expect(page.locator("#timeline")).to_contain_text(f"张晓燕 由订单 {NUMBER} 复制")
    await expect(page.locator("#payments")).to_have_count(0)
    copy = await Order.get(number="LS20261202002")
    assert copy.customer_id == source.customer_id and copy.contract_amount is None
    assert await OrderItem.filter(order_id=copy.id).count() == 2
    assert not await Task.filter(order_id=copy.id).exists()

    # Copying needs an order one may see: another store's salesperson is told it is not found.
    await member("far-sales", Role.SALES, "朗斯家居/华南区/广州天河店")
    async with world.signed_in("far-sales") as http:
        async with http.get(f"{world.relay_url}/h5/orders/new", params={"from": NUMBER}) as resp:
            assert resp.status == 404 and f"没有找到订单 {NUMBER}" in await resp.text()
    async with aiohttp.ClientSession() as anonymous:
        async with anonymous.get(f"{world.relay_url}/h5/orders/new?from={NUMBER}", allow_redirects=False) as resp:
            assert resp.status == 302  # to WeCom's sign-in
