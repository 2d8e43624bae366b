"""The emulator's web console: a member's WeCom chat in a phone frame, cards tapped the way staff tap them."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlencode

from playwright.async_api import Locator, Page, expect

from models import Attachment, AttachmentCategory, Order, OrderState, Task, TaskState
from tests.browser.conftest import Shot
from tests.browser.h5 import SALES, NewOrder, create_order_in_browser, order_at, paper_photo
from tests.support import World, jpeg

NUMBER = "LS20261126001"


def member(page: Page, name: str) -> Locator:
    return page.locator("#members .member").filter(has=page.locator(".name", has_text=re.compile(f"^{name}$")))


async def switch_to(page: Page, name: str) -> None:
    await member(page, name).click()
    await expect(member(page, name)).to_have_class(re.compile(r"\bactive\b"))
    await expect(page.locator("#current-user")).to_contain_text(name)


def chat_card(page: Page, title: str) -> Locator:
    """The latest card with this title in the phone's chat."""
    return page.locator("#chat .card").filter(has=page.locator(".card-title", has_text=title)).last


def button(card: Locator, text: str | re.Pattern[str]) -> Locator:
    return card.locator(".card-buttons button").filter(has_text=text)


async def test_dispatch_accept_and_sort_a_site_photo_in_the_console(
    world: World, page: Page, shot: Shot, tmp_path: Path
) -> None:
    await create_order_in_browser(page, world, NewOrder(number=NUMBER, photo=paper_photo(tmp_path / "paper.jpg")))

    await page.goto(world.emulator_url.rstrip("/") + "/")
    await expect(page.locator("#agent-name")).to_have_text("接力")
    # On a phone the console fits the screen: nothing to scroll sideways, the composer in view.
    assert await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    await expect(page.locator("#composer")).to_be_in_viewport()

    # The measure dispatcher sees the new order and sends it to the suggested measurer with one tap.
    await switch_to(page, "赵静")
    new_order = chat_card(page, "新订单待派测量")
    await expect(new_order).to_contain_text(f"订单 {NUMBER} · 黄女士")
    await expect(new_order).to_contain_text("漕溪北路 88 弄")
    dispatch = button(new_order, re.compile("^派给"))
    await expect(dispatch).to_be_visible()
    measurer = re.sub(r"^派给(.+?)·.*$", r"\1", await dispatch.inner_text())
    assert measurer in {"孙师傅", "吴师傅", "周师傅"}, measurer
    await dispatch.click()
    replaced = new_order.locator(".card-replaced")
    await expect(replaced).to_have_text(re.compile(f"^已派给{measurer}"))
    await expect(replaced).to_have_css("color", "rgb(162, 167, 175)")  # grey
    await expect(new_order.locator(".card-buttons")).to_have_count(0)
    order = await Order.get(number=NUMBER)
    assert order.state == OrderState.MEASURE_SCHEDULED

    # The measurer gets the task, accepts it, and sends a photo from the chat.
    await switch_to(page, measurer)
    task_card = chat_card(page, "新测量任务")
    await expect(task_card).to_contain_text(NUMBER)
    await expect(button(task_card, "接单")).to_be_visible()
    await expect(button(task_card, "拒单")).to_be_visible()
    await button(task_card, "接单").click()
    await expect(task_card.locator(".card-replaced")).to_have_text("已接单")
    workbench = chat_card(page, "测量进行中")
    await expect(workbench).to_be_visible()
    assert (await Task.get(order_id=order.id)).state == TaskState.ACCEPTED

    site = tmp_path / "水电.jpg"
    site.write_bytes(jpeg(color=(40, 110, 200)))
    await page.locator("#photo-input").set_input_files(site)
    mine = page.locator("#chat .msg.me img.photo").last
    await expect(mine).to_be_visible()
    photo_card = chat_card(page, "照片已保存，请选择分类")
    await expect(photo_card).to_contain_text(f"订单 {NUMBER} · 第 1 张")
    await expect(button(photo_card, "水电路")).to_be_visible()
    await button(photo_card, "水电路").click()
    await expect(photo_card.locator(".card-replaced")).to_have_text("已归类：水电路")
    assert await Attachment.filter(order_id=order.id, category=AttachmentCategory.PLUMBING_ELECTRICAL).count() == 1
    await shot("chat")

    # A card's link opens Relay inside the phone, logged in as the member the console shows.
    await button(workbench, "图纸与产品").click()
    overlay = page.locator("#h5-overlay")
    await expect(overlay).to_be_visible()
    h5 = page.frame_locator("#h5-frame")
    await expect(h5.locator("header.bar h1")).to_have_text(f"测量 · {NUMBER}")
    await expect(h5.locator("header.bar .who")).to_have_text(measurer)
    await expect(h5.locator("#photo-counts")).to_contain_text("1水电路")
    await shot("h5")

    await page.get_by_role("button", name="‹ 返回聊天").click()
    await expect(overlay).to_be_hidden()
    await expect(photo_card.locator(".card-replaced")).to_have_text("已归类：水电路")
    await page.set_viewport_size({"width": 1366, "height": 900})
    await shot("desktop")


def console_url(world: World, **query: str) -> str:
    return f"{world.emulator_url.rstrip('/')}/?{urlencode(query)}"


def chat_polls(page: Page) -> list[str]:
    """Every time the console asks the emulator for new messages (not its event stream)."""
    polls: list[str] = []
    page.on("request", lambda r: polls.append(r.url) if "/emulator/api/chat?" in r.url else None)
    return polls


async def test_messages_arrive_as_they_happen_not_by_polling(world: World, page: Page, shot: Shot) -> None:
    number = "LS20261126002"
    await order_at(world, OrderState.CREATED, number)
    polls = chat_polls(page)
    await page.goto(console_url(world, poll="600000"))  # a poll ten minutes away: only the stream can show it
    await switch_to(page, "张晓燕")

    # Something happens elsewhere (the member's phone, Relay): it shows without the console asking.
    await world.say(SALES, f"订单 {number}")
    card = chat_card(page, f"订单 {number}")
    await expect(card).to_contain_text("黄女士")
    mine = page.locator("#chat .msg.me .bubble").filter(has_text=f"订单 {number}")
    await expect(mine).to_be_visible()
    assert polls == [], polls
    await shot("streamed")


async def test_the_newest_message_is_scrolled_into_view(world: World, page: Page, shot: Shot) -> None:
    number = "LS20261126003"
    await order_at(world, OrderState.CREATED, number)
    await page.goto(console_url(world))
    await switch_to(page, "张晓燕")
    composer = page.locator("#text-input")
    for text in ("帮助", f"订单 {number}", "帮助"):
        await composer.fill(text)
        await page.get_by_role("button", name="发送").click()
        await expect(page.locator("#chat .msg.me .bubble").last).to_have_text(text)
    # A photo grows the chat as it loads, after it was scrolled to; what comes next still shows.
    await page.locator("#photo-input").set_input_files(
        {"name": "现场.jpg", "mimeType": "image/jpeg", "buffer": jpeg(480, 900, color=(90, 140, 60))}
    )
    await expect(page.locator("#chat .msg.me img.photo").last).to_be_visible()
    await world.settle()
    await composer.fill(f"订单 {number}")
    await page.get_by_role("button", name="发送").click()
    newest = page.locator("#chat .msg").last
    await expect(newest.locator(".card-title")).to_have_text(f"订单 {number}")
    await expect(newest).to_be_in_viewport()
    await shot("newest-in-view")


async def test_card_text_keeps_its_line_breaks_and_the_page_title_shows(world: World, page: Page, shot: Shot) -> None:
    number = "LS20261126004"
    order = await order_at(world, OrderState.MEASURE_SCHEDULED, number)
    await page.goto(console_url(world))
    await switch_to(page, "张晓燕")
    await page.locator("#text-input").fill(f"订单 {number}")
    await page.get_by_role("button", name="发送").click()

    # The order card's timeline is one line per event, as the bot sent it ("\n" between them).
    card = chat_card(page, f"订单 {number}")
    quote = card.locator(".card-quote")
    await expect(quote).to_be_visible()
    sent = world.card(SALES, f"订单 {number}").card["quote_area"]["quote_text"]
    assert sent.count("\n") >= 1, sent
    assert (await quote.inner_text()).split("\n") == sent.split("\n")
    await shot("line-breaks")

    # Its link opens the order page inside the phone, with the page's title in the title bar.
    await card.locator(".card-footer").filter(has_text="查看详情").click()
    await expect(page.locator("#h5-overlay")).to_be_visible()
    await expect(page.frame_locator("#h5-frame").locator("header.bar h1")).to_have_text(f"订单 {order.number}")
    await expect(page.locator("#h5-title")).to_have_text(f"订单 {number}")
    await shot("h5-title")
