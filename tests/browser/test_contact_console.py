"""客户联系 in the console: the salesperson's 加客户微信 page shows the 联系我 code, the console plays the
customer scanning it, and the salesperson's milestone message reaches the customer once confirmed."""

from __future__ import annotations

from urllib.parse import urlencode

from playwright.async_api import Page, expect
from tortoise.transactions import in_transaction

from models import CallState, ContactWay, OrderState
from tests.browser.conftest import Shot
from tests.browser.test_console import button, chat_card, switch_to
from tests.support import World
from tests.test_contact import until
from tests.test_permissions import at_state
from workflow import notify

SALES = "zhangxiaoshou"


async def test_the_console_plays_a_customer_adding_the_salesperson(world: World, page: Page, shot: Shot) -> None:
    order = await at_state("CT1001", OrderState.CREATED)
    page_url = f"{world.relay_url.rstrip('/')}/h5/orders/{order.number}/contact"
    await page.goto(world.emulator_url.rstrip("/") + "/emulator/open?" + urlencode({"userid": SALES, "url": page_url}))
    await page.locator("#make-qr").click()
    # Either "being made" or, if WeCom was quick, the code itself.
    await expect(page.locator("#done, #contact-qr")).to_have_count(1)

    async def made() -> ContactWay | None:  # the code comes from WeCom after commit
        return await ContactWay.get_or_none(order_id=order.id, call_state=CallState.DONE)

    await until(world, made)
    await page.reload()
    qr = page.locator("#contact-qr")
    await expect(qr).to_be_visible()
    assert await qr.evaluate("img => img.naturalWidth > 0")
    await shot("contact-qr")

    await page.goto(world.emulator_url.rstrip("/") + "/")
    await switch_to(page, "张晓燕")
    await page.locator("#contact-customer").fill("宋女士")
    await page.locator("#contact-ways li", has_text="张晓燕").locator("button").first.click()
    await expect(page.locator("#contact-customers")).to_contain_text("欢迎语", timeout=10_000)
    await expect(page.locator("#contact-customers")).to_contain_text(f"订单 {order.number} 进度")
    await expect(page.locator("#chat")).to_contain_text("添加你的企业微信")

    async with in_transaction():
        await notify.customer_milestone(order, "install_booked")
    await world.settle()
    card = chat_card(page, "通知客户：已预约安装")
    await expect(card).to_contain_text("安装已预约")
    await button(card, "发给客户").click()
    await expect(card.locator(".card-replaced")).to_have_text("已生成群发任务，请在企业微信确认")
    pending = page.locator("#contact-tasks li")
    await expect(pending).to_have_count(1, timeout=10_000)
    await pending.locator("button").click()
    await expect(page.locator("#contact-customers")).to_contain_text("群发：您的订单 CT1001 安装已预约", timeout=5_000)
    await expect(page.locator("#contact-customers")).to_contain_text("本月群发 1/4")
    await shot("contact-panel")
