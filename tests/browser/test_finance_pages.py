"""Finance on a phone: from the order page to 开具发票 (a wrong tax id is caught, then the invoice is listed),
确认到账 on the order's payments, and the 未收清 list filtered by age."""

from __future__ import annotations

from datetime import timedelta

from playwright.async_api import Page, expect

from infra.timeutil import utcnow
from models import Invoice, Order, OrderState, Payment
from tests.browser.conftest import Shot
from tests.browser.h5 import open_as, order_at
from tests.support import World

FINANCE = "qiankuaiji"


async def test_finance_issues_an_invoice_and_confirms_the_deposit(world: World, page: Page, shot: Shot) -> None:
    order = await order_at(world, OrderState.CONFIRMED, "LS20261203001")
    await open_as(page, world, FINANCE, f"/h5/orders/{order.number}")
    await expect(page.locator("header.bar .who")).to_have_text("钱会计")
    await expect(page.locator("#payments")).to_contain_text("待确认")

    await page.locator("#actions").get_by_role("link", name="确认到账").click()
    await expect(page.locator("header.bar h1")).to_have_text(f"确认到账 · {order.number}")
    await page.get_by_role("button", name="确认到账").click()
    await expect(page.locator("#notice")).to_have_text("已确认到账 ¥3000.00")
    await expect(page.locator(".pay-status").first).to_contain_text("已确认（钱会计")
    assert (await Payment.get(order_id=order.id)).confirmed_at is not None

    await open_as(page, world, FINANCE, f"/h5/orders/{order.number}")
    await page.locator("#actions").get_by_role("link", name="开具发票").click()
    await expect(page.locator("header.bar h1")).to_have_text(f"开具发票 · {order.number}")
    await page.get_by_label("发票号码").fill("04400123")
    await page.get_by_label("金额（元）").fill("5000")
    await page.get_by_label("购买方税号").fill("91310000ma1fl8xq30")  # lower case: refused in the page
    await page.get_by_role("button", name="开具发票").click()
    await expect(page.locator("#buyer_tax_id-error")).to_have_text("税号应为 15、18 或 20 位数字或大写字母")
    assert await Invoice.all().count() == 0
    await page.get_by_label("购买方税号").fill("91310000MA1FL8XQ30")
    await page.get_by_label("金额（元）").fill("12800.01")  # over the contract: the server refuses
    await page.get_by_role("button", name="开具发票").click()
    await expect(page.locator("#form-error")).to_contain_text("开票总额不能超过合同金额 12800.00 元")
    await page.get_by_label("金额（元）").fill("5000")
    await page.get_by_role("button", name="开具发票").click()
    await expect(page.locator("#notice")).to_have_text("已开具发票 04400123")
    await expect(page.locator("#invoices")).to_contain_text("发票号码 04400123 · ¥5000.00 · 税号 91310000MA1FL8XQ30")
    await shot("invoice")
    await open_as(page, world, FINANCE, f"/h5/orders/{order.number}")
    await expect(page.locator("#invoices")).to_contain_text("04400123")


async def test_the_receivables_list_filters_by_age(world: World, page: Page) -> None:
    old = await order_at(world, OrderState.CONFIRMED, "LS20261203002")
    await order_at(world, OrderState.CONFIRMED, "LS20261203003")
    await Order.filter(id=old.id).update(confirmed_at=utcnow() - timedelta(days=40))
    await open_as(page, world, FINANCE, "/h5/receivables")
    rows = page.locator("#receivables .receivable")
    await expect(rows).to_have_count(2)
    await expect(rows.first).to_have_attribute("data-number", "LS20261203002")  # the oldest first
    await expect(rows.first.locator(".outstanding")).to_have_text("9800.00")
    await page.get_by_label("账龄").select_option(label="超过 30 天")
    await page.get_by_role("button", name="查看").click()
    await expect(rows).to_have_count(1)
    await expect(rows.first).to_have_attribute("data-number", "LS20261203002")
    await expect(page.locator("#total")).to_contain_text("共 1 单，未收合计 ¥9800.00")
