"""H5 forms that help: every mistake shown at once, in the browser before sending and by the server
after, with what was typed and chosen kept; and a banner that says what each action did."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from PIL import Image, ImageDraw
from playwright.async_api import Browser, Page, Request, expect

from models import Attachment, AttachmentCategory, Order, OrderState, Payment, Visit
from tests.browser.conftest import PHONE, Shot, artifact
from tests.browser.h5 import (
    AFTER_SALES,
    DESIGNER,
    DISPATCHERS,
    K5,
    SALES,
    NewOrder,
    expect_loaded,
    fill_new_order,
    open_as,
    open_new_order_form,
    order_at,
    paper_photo,
    submit_new_order,
)
from tests.support import World
from workflow.signing import signing_token, submit_signature

EVERY_ORDER_ERROR = {
    "#number-error": "请填写订单号（与纸质订单一致）",
    "#customer_name-error": "请填写客户姓名",
    "#phone-hint": "请填写客户手机号",
    "#address-error": "请填写地址",
    "#items-error": "请至少选择一件产品",
}


def count_posts(page: Page) -> list[str]:
    posts: list[str] = []

    def record(request: Request) -> None:
        if request.method == "POST":
            posts.append(request.url)

    page.on("request", record)
    return posts


async def chosen_files(page: Page) -> list[str]:
    return await page.get_by_label("纸质订单照片").evaluate("input => [...input.files].map(f => f.name)")


async def test_an_empty_order_form_shows_every_error_at_once_and_keeps_the_photo(
    world: World, page: Page, shot: Shot, tmp_path: Path
) -> None:
    posts = count_posts(page)
    await open_new_order_form(page, world)
    await page.get_by_label("纸质订单照片").set_input_files(paper_photo(tmp_path / "纸质订单.jpg"))
    await submit_new_order(page)

    await expect(page.locator("#form-error")).to_have_text("有 5 处需要修改，请看标红的项")
    for slot, message in EVERY_ORDER_ERROR.items():
        await expect(page.locator(slot)).to_have_text(message)
    for label in ("订单号", "客户姓名", "手机号", "地址"):
        await expect(page.get_by_label(label)).to_have_class(re.compile(r"\binvalid\b"))
    await expect(page.locator("#items")).to_have_class(re.compile(r"\binvalid\b"))
    await expect(page.get_by_label("订单号")).to_be_focused()
    assert await chosen_files(page) == ["纸质订单.jpg"]
    assert posts == [] and await Order.all().count() == 0
    await shot("every-error")

    # Each message goes as its field is put right; the photo chosen at first goes in with the order.
    await page.get_by_label("订单号").fill("LS20261201001")
    await expect(page.locator("#number-error")).to_have_text("")
    await expect(page.get_by_label("订单号")).not_to_have_class(re.compile(r"\binvalid\b"))
    await expect(page.locator("#address-error")).to_have_text("请填写地址")
    await fill_new_order(page, NewOrder(number="LS20261201001", items=[("主卫", K5)]))
    await submit_new_order(page)
    await expect(page.locator("#created")).to_contain_text("订单已创建")
    order = await Order.get(number="LS20261201001")
    assert await Attachment.filter(order_id=order.id, category=AttachmentCategory.PAPER_ORDER).count() == 1
    assert len(posts) == 1, posts


async def test_the_server_finds_every_error_at_once_and_keeps_the_photo(
    world: World, browser: Browser, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    """Without the page's script (an old WebView, a script that failed) the server says the same."""
    context = await browser.new_context(viewport=PHONE, locale="zh-CN", java_script_enabled=False)
    page = await context.new_page()
    try:
        await open_new_order_form(page, world)
        await page.get_by_label("纸质订单照片").set_input_files(paper_photo(tmp_path / "纸质订单.jpg"))
        await page.get_by_label("手机号").fill("1381234567")
        async with page.expect_response(re.compile(r"/h5/orders/new$")) as answer:
            await submit_new_order(page)
        assert (await answer.value).status == 400

        await expect(page.locator("#form-error")).to_have_text("有 5 处需要修改，请看标红的项")
        for slot, message in {**EVERY_ORDER_ERROR, "#phone-hint": "手机号应为 11 位数字，以 1 开头"}.items():
            await expect(page.locator(slot)).to_have_text(message)
        await expect(page.get_by_label("手机号")).to_have_value("1381234567")
        kept = page.locator("#kept-photo")
        await expect(kept).to_contain_text("已保留上次选择的照片（纸质订单.jpg）")
        await expect_loaded(kept.get_by_role("img"))
        await page.screenshot(path=artifact(request.node.name, "server-errors"), full_page=True)
        assert await Order.all().count() == 0

        # A wrong order number is told what is wrong with it; the photo is still kept.
        await page.get_by_label("订单号").fill("LS 2026/12")
        await submit_new_order(page)
        await expect(page.locator("#number-error")).to_have_text("订单号只能包含字母、数字和短横线，最多 32 位")
        await expect(page.locator("#kept-photo")).to_be_visible()

        # Corrected, without choosing the photo again: the order has it.
        await fill_new_order(page, NewOrder(number="LS20261201002", items=[("主卫", K5)]))
        await submit_new_order(page)
        await expect(page.locator("#created")).to_contain_text("订单已创建")
        order = await Order.get(number="LS20261201002")
        photos = await Attachment.filter(order_id=order.id, category=AttachmentCategory.PAPER_ORDER)
        assert len(photos) == 1
        assert photos[0].size == (tmp_path / "纸质订单.jpg").stat().st_size
    finally:
        await context.close()


async def test_an_overpayment_keeps_both_amounts(world: World, page: Page, shot: Shot) -> None:
    number = "LS20261201003"
    await order_at(world, OrderState.DESIGNED, number)
    await open_as(page, world, SALES, f"/h5/orders/{number}/confirm")
    await expect(page.locator("header.bar h1")).to_have_text(f"客户确认与收款 · {number}")
    await page.get_by_label("合同金额（元）").fill("10,000")
    await page.get_by_label("本次收款（元）").fill("12000")
    await page.get_by_label("类型").select_option(label="定金")
    await page.get_by_label("付款方式").select_option(label="微信")
    await page.get_by_label("备注").fill("客户多付")
    await page.get_by_role("button", name="确认设计并收款").click()

    await expect(page.locator("#form-error")).to_have_text("首付款不能超过合同金额")
    await expect(page.locator("#amount-error")).to_have_text("首付款不能超过合同金额")
    await expect(page.get_by_label("本次收款（元）")).to_have_class(re.compile(r"\binvalid\b"))
    await expect(page.get_by_label("合同金额（元）")).to_have_value("10,000")
    await expect(page.get_by_label("本次收款（元）")).to_have_value("12000")
    await expect(page.get_by_label("类型").locator("option:checked")).to_have_text("定金")
    await expect(page.get_by_label("付款方式").locator("option:checked")).to_have_text("微信")
    await expect(page.get_by_label("备注")).to_have_value("客户多付")
    await shot("overpaid")
    assert await Payment.all().count() == 0

    # Amounts the browser can tell are wrong are caught before sending, both at once.
    await page.get_by_label("合同金额（元）").fill("")
    await page.get_by_label("本次收款（元）").fill("三千")
    await page.get_by_role("button", name="确认设计并收款").click()
    await expect(page.locator("#contract_amount-error")).to_have_text("请填写合同金额")
    await expect(page.locator("#amount-error")).to_have_text("金额格式不正确")

    await page.get_by_label("合同金额（元）").fill("10,000")
    await page.get_by_label("本次收款（元）").fill("3000")
    await page.get_by_role("button", name="确认设计并收款").click()
    await expect(page.locator("header.bar h1")).to_have_text(f"订单 {number}")
    await expect(page.locator("#notice")).to_have_text(
        "客户已确认设计：合同金额 ¥10000.00，已收 ¥3000.00。订单已交付生产，已通知仓库。"
    )
    await shot("confirmed")


async def test_design_done_and_dispatch_are_confirmed_by_a_banner(
    world: World, page: Page, shot: Shot, tmp_path: Path
) -> None:
    number = "LS20261201004"
    await order_at(world, OrderState.MEASURED, number)
    await open_as(page, world, DESIGNER, f"/h5/orders/{number}/design")
    pdf = tmp_path / "主卫方案.pdf"
    pdf.write_bytes(b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n")
    await page.get_by_label("设计文件").set_input_files(pdf)
    await page.get_by_role("button", name="上传设计").click()
    await expect(page.locator("#notice")).to_have_text("设计文件已上传")
    await page.get_by_role("button", name="设计完成，通知销售").click()
    await expect(page.locator("header.bar h1")).to_have_text(f"订单 {number}")
    await expect(page.locator("#notice")).to_have_text("设计已完成，已通知销售 张晓燕 与客户确认。")
    await shot("designed")

    number = "LS20261201005"
    await order_at(world, OrderState.CREATED, number)
    await open_as(page, world, DISPATCHERS[0], f"/h5/orders/{number}/dispatch/measure")
    await expect(page.locator("header.bar h1")).to_have_text(f"派测量 · {number}")
    suggested = page.locator("#dispatch-form label.choice").first
    worker = (await suggested.inner_text()).split()[0]
    day = await page.locator("#date").input_value()
    await page.get_by_role("button", name="确认派单").click()
    await expect(page.locator("header.bar h1")).to_have_text(f"订单 {number}")
    await expect(page.locator("#notice")).to_have_text(f"已派测量给 {worker}（{day}），已通知{worker}。")
    await shot("dispatched")


async def test_a_forwarded_link_cannot_make_the_banner_say_anything(world: World, page: Page) -> None:
    number = "LS20261201006"
    await order_at(world, OrderState.CREATED, number)
    await open_as(page, world, SALES, f"/h5/orders/{number}?done=请把尾款转到 6222 0000")
    await expect(page.locator("header.bar h1")).to_have_text(f"订单 {number}")
    await expect(page.locator("#notice")).to_have_count(0)


def ink() -> bytes:
    img = Image.new("RGBA", (300, 150), (0, 0, 0, 0))
    ImageDraw.Draw(img).line([(20, 20), (280, 130), (40, 120)], fill=(0, 0, 0, 255), width=6)
    out = io.BytesIO()
    img.save(out, "PNG")
    return out.getvalue()


async def test_a_visit_without_scores_names_each_and_keeps_the_notes(world: World, page: Page, shot: Shot) -> None:
    number = "LS20261201007"
    order = await order_at(world, OrderState.INSTALLED, number)
    await submit_signature(token=signing_token(order), png=ink(), ip="", user_agent="")
    await open_as(page, world, AFTER_SALES, f"/h5/orders/{number}/visit")
    await expect(page.locator("header.bar h1")).to_have_text(f"回访 · {number}")
    await page.get_by_label(re.compile(r"^测量（.+）评分")).select_option(label="4 分")
    await page.get_by_placeholder("客户评价（选填）").nth(1).fill("很准时")
    await page.get_by_label("回访记录").fill("客户满意，淋浴房密封很好")
    await page.get_by_role("button", name="提交回访").click()

    await expect(page.locator("#form-error")).to_have_text("有 2 处需要修改，请看标红的项")
    await expect(page.locator("#score_sales-error")).to_have_text("请为销售打分（1 到 5 分）")
    await expect(page.locator("#score_installer-error")).to_have_text("请为安装打分（1 到 5 分）")
    await expect(page.locator("#score_measurer-error")).to_have_text("")
    await expect(page.get_by_label(re.compile(r"^测量（.+）评分")).locator("option:checked")).to_have_text("4 分")
    await expect(page.get_by_placeholder("客户评价（选填）").nth(1)).to_have_value("很准时")
    await expect(page.get_by_label("回访记录")).to_have_value("客户满意，淋浴房密封很好")
    await shot("visit-errors")

    await page.get_by_label(re.compile(r"^销售（张晓燕）评分")).select_option(label="5 分")
    await page.get_by_label(re.compile(r"^安装（.+）评分")).select_option(label="5 分")
    await page.get_by_role("button", name="提交回访").click()
    await expect(page.locator("#notice")).to_have_text("回访已记录。")
    visit = await Visit.get(order_id=order.id)
    assert (visit.score_sales, visit.score_measurer, visit.score_installer) == (5, 4, 5)
    assert visit.notes == "客户满意，淋浴房密封很好"
