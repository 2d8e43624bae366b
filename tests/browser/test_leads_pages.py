"""A store's public booking page on a phone: bad input is refused in Chinese with nothing kept, a bot
filling the hidden field is thanked and ignored, a good booking gets its number; too many from one
address get 429 with a Chinese page."""

from __future__ import annotations

import aiohttp
from playwright.async_api import Page, expect

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
