"""A store's public booking page on a phone: bad input is refused in Chinese with nothing kept, a bot
filling the hidden field is thanked and ignored, a good booking gets its number; too many from one
address get 429 with a Chinese page."""

from __future__ import annotations

import aiohttp
from playwright.async_api import Page, expect

from infra.runtime import runtime
from models import Lead, LeadSource
from tests.support import World
from workflow.admin import ensure_unit

STORE = "朗斯家居/华东区/上海徐汇店"


async def test_the_public_booking_page(world: World, page: Page) -> None:
    store = await ensure_unit(STORE)
    url = f"{world.relay_url}/h5/book/{store.id}"
    await page.goto(url)
    await expect(page.locator("header.bar h1")).to_have_text("预约到店 · 上海徐汇店")
    # Empty name, phone not 11 digits: both said, nothing kept.
    await page.locator("#phone").fill("1381234")
    await page.get_by_role("button", name="提交预约").click()
    await expect(page.locator("#name-error")).to_have_text("请填写姓名")
    await expect(page.locator("#phone-error")).to_have_text("手机号应为 11 位数字，以 1 开头")
    assert not await Lead.exists()
    # A bot fills the field people never see: thanked, nothing kept.
    await page.locator("#name").fill("机器人")
    await page.locator("#phone").fill("13812345678")
    await page.locator("#website").fill("http://spam.example", force=True)
    await page.get_by_role("button", name="提交预约").click()
    await expect(page.locator("header.bar h1")).to_have_text("预约成功")
    assert not await Lead.exists()
    # A person: the booking number, the lead with a consultant.
    await page.goto(url)
    await page.locator("#name").fill("陈女士")
    await page.locator("#phone").fill("13812345678")
    await page.get_by_role("button", name="提交预约").click()
    lead = await Lead.get(name="陈女士")
    await expect(page.locator("#number")).to_have_text(lead.number)
    assert lead.source == LeadSource.PUBLIC and lead.consultant_id is not None
    # The limit (security.book_per_minute, 10) counts this address's bookings across processes.
    async with aiohttp.ClientSession() as http:
        statuses = []
        for _ in range(10):
            async with http.post(url, data={"name": "", "phone": ""}) as resp:
                statuses.append(resp.status)
    assert statuses[-1] == 429
    await page.goto(url)
    await page.locator("#name").fill("赵先生")
    await page.locator("#phone").fill("13812340000")
    await page.get_by_role("button", name="提交预约").click()
    await expect(page.locator("header.bar h1")).to_have_text("请稍后再试")
    assert not await Lead.filter(name="赵先生").exists()


async def test_reception_books_with_the_phone_check(world: World, page: Page) -> None:
    """The seed's 号码重复提示: a phone with orders and bookings says so, one tap fills the name, an open
    booking is one tap away (its page has 到店); the booking goes to a consultant."""
    from tests.browser.h5 import open_as
    from tests.test_measure_slice import create_order_via_form

    await create_order_via_form(world, "LS20261203001", phone="13812345678")
    await open_as(page, world, "fangqiantai", "/h5/leads/new")
    await expect(page.locator("header.bar h1")).to_have_text("登记预约")
    await page.locator("#phone").fill("13812345678")
    await expect(page.locator("#phone-hint")).to_have_text("这个手机号已有 1 个订单")
    await page.locator("#fill-customer").click()
    await expect(page.locator("#name")).to_have_value("黄女士")
    await page.get_by_role("button", name="登记并分配").click()
    lead = await Lead.get(phone_index=runtime().vault.blind_index("13812345678"))
    await expect(page.locator("#created")).to_have_text(f"已登记预约 {lead.number}，已分配给顾文")
    # The same phone again: the open booking is named, and its page offers 到店 to reception.
    await open_as(page, world, "fangqiantai", "/h5/leads/new")
    await page.locator("#phone").fill("13812345678")
    await expect(page.locator("#phone-hint")).to_contain_text(f"已有 1 个预约（{lead.number} 待领单）")
    await page.locator(".found-lead").click()
    await page.locator("#step-arrive button").click()
    await expect(page.locator("#state")).to_have_text("已到店")
