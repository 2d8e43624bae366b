"""News (公告) in Chromium: a store manager posts a promotion on the form (a refusal first), a salesperson
opens it from the card on their phone, the manager's receipts page shows them as read, and after 撤回 the
salesperson's page says it is withdrawn."""

from __future__ import annotations

from urllib.parse import urlencode

from playwright.async_api import Dialog, Page, expect

from models import News, OutboxMessage
from tests.browser.conftest import NewPhone, ShotOf
from tests.browser.h5 import open_as
from tests.support import World

AUTHOR = "chendianzhang"
READER = "zhangxiaoshou"


async def test_a_member_reads_the_news_and_the_author_sees_it(
    world: World, page: Page, new_phone: NewPhone, shot_of: ShotOf
) -> None:
    await open_as(page, world, AUTHOR, "/h5/news/new")
    await expect(page.locator("header.bar h1")).to_have_text("发布公告")
    await page.get_by_label("类型").select_option(label="促销")
    await page.get_by_label("正文").fill("本周末到店客户淋浴房 9 折。")
    await page.get_by_label("上海徐汇店").check()
    await page.get_by_label("销售", exact=True).check()
    # No title: refused, what was typed and chosen is kept, nothing is sent.
    await page.get_by_role("button", name="发布").click()
    await expect(page.locator("#form-error")).to_have_text("请填写标题")
    await expect(page.locator("#title")).to_have_class("invalid")
    await expect(page.get_by_label("上海徐汇店")).to_be_checked()
    assert await OutboxMessage.filter(card_task_id__startswith="news-").count() == 0

    await page.get_by_label("标题").fill("周末促销")
    await page.get_by_role("button", name="发布").click()
    await expect(page.locator("#notice")).to_contain_text("公告已发布")
    await expect(page.locator("#count-audience")).to_have_text("3")
    await expect(page.locator("#count-read")).to_have_text("0")
    await shot_of(page, "receipts-before")
    await world.settle()
    news = await News.get(title="周末促销")

    # The salesperson taps 查看 on the card, on their own phone.
    card = world.card(READER, "【促销】周末促销")
    [button] = card.buttons
    phone = await new_phone()
    query = urlencode({"userid": READER, "url": button.url})
    await phone.goto(f"{world.emulator_url.rstrip('/')}/emulator/open?{query}")
    await expect(phone.locator("#news-title")).to_have_text("【促销】周末促销")
    await expect(phone.locator("#news-body")).to_have_text("本周末到店客户淋浴房 9 折。")
    assert await phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

    await page.reload()
    await expect(page.locator("#count-read")).to_have_text("1")
    await expect(page.locator("#read li")).to_contain_text(["张晓燕"])
    await expect(page.locator("#unread")).not_to_contain_text("张晓燕")
    await expect(page.locator("#unread")).to_contain_text("顾文")
    await shot_of(page, "receipts-after")

    # 撤回, confirmed in the browser's dialog: the reader's page now says it is withdrawn.
    async def accept(dialog: Dialog) -> None:
        await dialog.accept()

    page.on("dialog", accept)
    await page.get_by_role("button", name="撤回公告").click()
    await expect(page.locator("#notice")).to_have_text("公告已撤回。")
    await expect(page.locator("#withdrawn")).to_be_visible()
    await phone.reload()
    await expect(phone.locator("#message")).to_contain_text("这条公告已于")
    await world.settle()
    assert world.card(READER, "【促销】周末促销").replace_text == "已撤回"
    await news.refresh_from_db()
    assert news.withdrawn_at is not None
