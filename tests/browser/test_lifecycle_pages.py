"""The H5 pages from design to the after-sales visit, tapped through on a phone as each role in turn."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.async_api import Page, expect

from models import Attachment, AttachmentCategory, OrderPiece, OrderState, Staff, Task, TaskKind, Visit
from tests.browser.conftest import NewPhone, Shot
from tests.browser.h5 import (
    AFTER_SALES,
    DESIGNER,
    INSTALL_DISPATCHER,
    SALES,
    WAREHOUSE,
    open_as,
    order_at,
    sign_with_finger,
    sign_with_mouse,
)
from tests.support import World, jpeg
from workflow.signing import signing_url

NUMBER = "LS20261128001"


async def open_order_as(page: Page, world: World, userid: str, name: str) -> None:
    await open_as(page, world, userid, f"/h5/orders/{NUMBER}")
    await expect(page.locator("header.bar h1")).to_have_text(f"订单 {NUMBER}")
    await expect(page.locator("header.bar .who")).to_have_text(name)


async def tap_action(page: Page, label: str, heading: str) -> None:
    """Tap one of the order page's action buttons; wait for the page it opens."""
    await page.locator("#actions").get_by_role("link", name=label, exact=True).click()
    await expect(page.locator("header.bar h1")).to_have_text(heading)


async def fits(page: Page) -> None:
    assert await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), "scrolls sideways"


async def test_design_to_visit_through_the_h5_pages(
    world: World, page: Page, shot: Shot, new_phone: NewPhone, tmp_path: Path
) -> None:
    order = await order_at(world, OrderState.MEASURED, NUMBER)

    # The designer uploads a PDF and tells sales the design is done.
    await open_order_as(page, world, DESIGNER, "郑设计")
    await tap_action(page, "上传设计", f"设计 · {NUMBER}")
    await expect(page.locator("#designs")).to_contain_text("还没有设计文件")
    pdf = tmp_path / "主卫方案.pdf"
    pdf.write_bytes(b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n")
    await page.get_by_label("设计文件").set_input_files(pdf)
    await page.get_by_role("button", name="上传设计").click()
    await expect(page.locator("#notice")).to_have_text("设计文件已上传")
    uploaded = page.locator("#designs li").filter(has_text="主卫方案.pdf")
    await expect(uploaded).to_contain_text(f"{pdf.stat().st_size} 字节")
    await fits(page)
    await shot("design")
    await page.get_by_role("button", name="设计完成，通知销售").click()
    await expect(page.locator("header.bar h1")).to_have_text(f"订单 {NUMBER}")
    await expect(page.locator("#order-state")).to_have_text("设计完成")
    assert await Attachment.filter(order_id=order.id, category=AttachmentCategory.DESIGN).count() == 1
    await world.settle()
    world.card(SALES, "设计完成")

    # Sales: the customer accepts the design and pays a deposit.
    await open_order_as(page, world, SALES, "张晓燕")
    await tap_action(page, "客户确认与收款", f"客户确认与收款 · {NUMBER}")
    await page.get_by_label("合同金额（元）").fill("12,800")
    await page.get_by_label("本次收款（元）").fill("3000")
    await page.get_by_label("类型").select_option(label="定金")
    await page.get_by_label("付款方式").select_option(label="微信")
    await fits(page)
    await shot("confirm")
    await page.get_by_role("button", name="确认设计并收款").click()
    await expect(page.locator("header.bar h1")).to_have_text(f"订单 {NUMBER}")
    await expect(page.locator("#order-state")).to_have_text("已确认")
    await expect(page.locator("#contract")).to_have_text("¥12800.00")
    await expect(page.locator("#summary")).to_contain_text("已收 / 未收")
    await expect(page.locator("#paid")).to_have_text("¥3000.00 / ¥9800.00")
    await expect(page.locator("#payments")).to_contain_text("¥3000.00 · 定金 · 微信 · 张晓燕")
    await fits(page)
    await shot("confirmed")

    # The warehouse types both production numbers on the goods-in page.
    await world.settle()
    await open_order_as(page, world, WAREHOUSE, "冯仓管")
    await tap_action(page, "入库登记", f"入库 · {NUMBER}")
    numbers = page.get_by_placeholder("生产编号")
    await expect(numbers).to_have_count(2)
    await numbers.nth(0).fill("P2026-1101")
    await numbers.nth(1).fill("P2026-1102")
    await fits(page)
    await shot("goods-in")
    await page.get_by_role("button", name="登记到货").click()
    await expect(page.locator("#notice")).to_have_text("已登记 2 件")
    await expect(page.locator("#order-state")).to_have_text("已到货")
    await expect(page.locator("#goods-form")).to_contain_text("✓ 生产编号 P2026-1101 · 冯仓管")
    await expect(page.locator("#goods-form")).to_contain_text("✓ 生产编号 P2026-1102 · 冯仓管")
    # Everything is in: nothing left to fill, so no button that could only answer with an error.
    await expect(page.get_by_placeholder("生产编号")).to_have_count(0)
    await expect(page.get_by_role("button", name="登记到货")).to_have_count(0)
    await expect(page.locator("#all-in")).to_have_text("全部产品已到货")
    await shot("goods-received")
    pieces = OrderPiece.filter(order_id=order.id).order_by("id")
    numbers_saved = await pieces.values_list("production_number", flat=True)
    assert numbers_saved == ["P2026-1101", "P2026-1102"]
    await open_order_as(page, world, WAREHOUSE, "冯仓管")
    await expect(page.locator("#order-state")).to_have_text("已到货")

    # Installed through the chat, as installers do; the customer signs on their own phone.
    await world.settle()
    await world.tap(INSTALL_DISPATCHER, world.card(INSTALL_DISPATCHER, "已到货，待派安装"), "派给")
    install = await Task.get(order_id=order.id, kind=TaskKind.INSTALL)
    installer = (await Staff.get(id=install.assignee_id)).userid  # type: ignore[arg-type]
    await world.tap(installer, world.card(installer, "新安装任务"), "接单")
    await world.tap(installer, world.card(installer, "安装进行中"), "照片归入此单")
    await world.photo(installer, jpeg(color=(5, 5, 200)))
    await world.photo(installer, jpeg(color=(5, 200, 5)))
    await world.tap(installer, world.card(installer, "安装进行中"), "安装完成")
    await order.refresh_from_db()
    assert order.state == OrderState.INSTALLED
    phone = await new_phone()
    await phone.goto(signing_url(order))
    await sign_with_finger(phone)
    await sign_with_mouse(phone)
    await phone.get_by_role("button", name="确认签字").click()
    await expect(phone.locator("#receipt")).to_contain_text("已签字确认")

    # After-sales calls the customer and records the scores.
    await world.settle()
    await open_order_as(page, world, AFTER_SALES, "卫客服")
    await expect(page.locator("#order-state")).to_have_text("客户已签字")
    await fits(page)
    await shot("signed-order")
    await tap_action(page, "填写回访", f"回访 · {NUMBER}")
    await expect(page.get_by_label("已接通")).to_be_checked()
    await page.get_by_label(re.compile(r"^销售（张晓燕）评分")).select_option(label="5 分")
    await page.get_by_label(re.compile(r"^测量（孙师傅）评分")).select_option(label="4 分")
    await page.get_by_label(re.compile(r"^安装（.+）评分")).select_option(label="5 分")
    await page.get_by_label("回访记录").fill("客户满意，淋浴房密封很好")
    await fits(page)
    await shot("visit")
    await page.get_by_role("button", name="提交回访").click()
    await expect(page.locator("header.bar h1")).to_have_text(f"订单 {NUMBER}")
    await expect(page.locator("#order-state")).to_have_text("已回访")
    await expect(page.locator("#timeline")).to_contain_text("回访")
    await fits(page)
    await shot("visited")
    visit = await Visit.get(order_id=order.id)
    assert (visit.score_sales, visit.score_measurer, visit.score_installer) == (5, 4, 5)
    await order.refresh_from_db()
    assert order.state == OrderState.VISITED
