"""Customers' personal data on a phone: the number shown masked and revealed with a tap by who must call,
the admin's audit log with its filters and CSV, and a customer's data exported and erased."""

from __future__ import annotations

import json
import zipfile

from playwright.async_api import Page, expect

from models import AuditAction, AuditEntry, OrderState
from tests.browser.conftest import Shot
from tests.browser.h5 import DESIGNER, SALES, open_as, order_at
from tests.support import World

NUMBER = "LS20261202001"
PHONE, MASKED = "13812345678", "138****5678"  # tests.browser.h5.order_at's customer, 黄女士


async def test_sales_taps_to_see_the_number_and_the_designer_cannot(world: World, page: Page, shot: Shot) -> None:
    await order_at(world, OrderState.MEASURE_SCHEDULED, NUMBER)
    await open_as(page, world, DESIGNER, f"/h5/orders/{NUMBER}")
    await expect(page.locator("header.bar .who")).to_have_text("郑设计")
    await expect(page.locator("#phone")).to_have_text(MASKED)
    await expect(page.get_by_role("button", name="显示号码")).to_have_count(0)

    await open_as(page, world, SALES, f"/h5/orders/{NUMBER}")
    await expect(page.locator("header.bar .who")).to_have_text("张晓燕")
    await expect(page.locator("#phone")).to_have_text(MASKED)
    assert PHONE not in await page.content()
    await page.get_by_role("button", name="显示号码").click()
    call = page.locator("#phone a")
    await expect(call).to_have_text(f"{PHONE} 拨打")
    await expect(call).to_have_attribute("href", f"tel:{PHONE}")
    await expect(page.get_by_role("button", name="显示号码")).to_have_count(0)
    await shot("revealed")
    reveals = await AuditEntry.filter(action=AuditAction.PHONE_REVEAL).prefetch_related("actor")
    assert [(e.actor.userid if e.actor else "", e.order_number) for e in reveals] == [(SALES, NUMBER)]


async def test_admin_reads_the_audit_log_and_erases_a_customer(world: World, page: Page, shot: Shot) -> None:
    await order_at(world, OrderState.MEASURE_SCHEDULED, NUMBER)
    await open_as(page, world, SALES, f"/h5/orders/{NUMBER}")
    await page.get_by_role("button", name="显示号码").click()
    await expect(page.locator("#phone a")).to_have_text(f"{PHONE} 拨打")

    # 王总 is the admin: from the order list to the audit log, filtered to phone reveals.
    await open_as(page, world, "wangzong", "/h5/orders")
    await page.locator("#admin-links").get_by_role("link", name="审计日志").click()
    await expect(page.locator("header.bar h1")).to_have_text("审计日志")
    await page.locator("#action").select_option(label="查看完整号码")
    await page.get_by_role("button", name="筛选").click()
    entries = page.locator("#entries li")
    await expect(entries).to_have_count(1)
    await expect(entries.first).to_contain_text("查看完整号码")
    await expect(entries.first).to_contain_text(NUMBER)
    await expect(entries.first).to_contain_text("张晓燕")
    await shot("audit")
    async with page.expect_download() as waiting:
        await page.get_by_role("link", name="导出 CSV").click()
    download = await waiting.value
    text = (await download.path()).read_text(encoding="utf-8-sig")
    assert "查看完整号码" in text and NUMBER in text and PHONE not in text

    # The customer asks for their data, then for its erasure.
    await page.goto(f"{world.relay_url}/h5/admin/customers")
    await page.get_by_placeholder("客户手机号 / 订单号 / 姓名").fill(PHONE)
    await page.get_by_role("button", name="查找客户").click()
    customer = page.locator(".customer")
    await expect(customer).to_contain_text("黄女士")
    await expect(customer).to_contain_text(MASKED)
    async with page.expect_download() as waiting:
        await customer.get_by_role("link", name="导出全部数据（zip）").click()
    archive = zipfile.ZipFile(await (await waiting.value).path())
    data = json.loads(archive.read("data.json"))
    assert data["customer"] == data["customer"] | {"name": "黄女士", "phone": PHONE}
    assert data["orders"][0]["address"].startswith("上海市徐汇区")
    await customer.locator(".confirm").fill("删除")
    await customer.get_by_role("button", name="删除个人信息").click()
    await expect(page.locator("#notice")).to_have_text("已删除客户个人信息（1 个订单已匿名保留）")
    await shot("erased")

    # Nobody finds 黄女士 by her phone or name any more; the order stays, anonymised.
    await open_as(page, world, SALES, "/h5/orders")
    for q in (PHONE, "黄女士"):
        await page.locator("#q").fill(q)
        await page.get_by_role("button", name="筛选").click()
        await expect(page.locator("#count")).to_have_text("没有符合条件的订单")
    await page.goto(f"{world.relay_url}/h5/orders/{NUMBER}")
    await expect(page.locator("#customer")).to_have_text("已删除")
    await expect(page.locator("#phone")).to_have_text("已删除")
    await expect(page.get_by_role("button", name="显示号码")).to_have_count(0)
    await expect(page.locator("#order-state")).to_have_text("已预约测量")
    actions = [e.action for e in await AuditEntry.filter(actor__userid="wangzong").order_by("id")]
    assert AuditAction.AUDIT_EXPORT in actions and actions[-2:] == [
        AuditAction.CUSTOMER_EXPORT,
        AuditAction.CUSTOMER_ERASE,
    ]
